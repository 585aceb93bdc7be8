"""Re-matching of tasks whose key changed in one round (docs/architecture.md).

A content key hashes the note path, the heading path, the normalised description and an
ordinal, so rewording a task, moving it under another heading or into another note, or renaming
its note gives it a new key. Without help the sync would trash its row and create a new one,
losing the row's history and any Notion-only data. :func:`rematch` pairs keys that vanished
since the last sync with keys that appeared, most certain pairs first:

1. same note, same description (moved under another heading, or the ordinal shifted);
2. other note, same description (moved to another note, or the note was renamed);
3. same note, similar description (reworded), similarity >= ``SAME_NOTE_SIMILARITY``;
4. other note, similar description (renamed note *and* reworded), >= ``CROSS_NOTE_SIMILARITY``.

Within each pass ties prefer the same heading path, then the same status, then file order.
Pure and deterministic: the same input always yields the same pairs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

SAME_NOTE_SIMILARITY = 0.6
CROSS_NOTE_SIMILARITY = 0.75
# Fuzzy matching compares every pair; beyond this many pairs a round is treated as a bulk
# change (an import, a folder move handled by passes 1-2) and fuzzy passes are skipped.
MAX_FUZZY_PAIRS = 250_000


@dataclass(frozen=True, slots=True)
class Candidate:
    """What re-matching knows of a task on one side of the round."""

    key: str
    note: str
    section: tuple[str, ...]
    description: str  # normalised (model.normalise_text)
    status: str = ""


def _tie_break(old: Candidate, new: Candidate) -> tuple[int, int]:
    return (0 if old.section == new.section else 1, 0 if old.status == new.status else 1)


def _closest(group: list[Candidate], new: Candidate) -> Candidate:
    best = group[0]
    for old in group[1:]:
        if _tie_break(old, new) < _tie_break(best, new):
            best = old
    return best


def rematch(vanished: Sequence[Candidate], appeared: Sequence[Candidate]) -> dict[str, str]:
    """Pair vanished keys with appeared keys; returns ``{new_key: old_key}``.

    Each key is used at most once. Keys without a plausible partner stay unpaired (the caller
    then retires the old one and creates the new one).
    """
    pairs: dict[str, str] = {}
    used_old: set[str] = set()

    def open_old() -> list[Candidate]:
        return [c for c in vanished if c.key not in used_old]

    def open_new() -> list[Candidate]:
        return [c for c in appeared if c.key not in pairs]

    def exact(same_note: bool) -> None:
        index: dict[tuple[str, str], list[Candidate]] = defaultdict(list)
        for old in open_old():
            index[(old.note if same_note else "", old.description)].append(old)
        for new in open_new():
            group = index.get((new.note if same_note else "", new.description))
            if not group:
                continue
            best = _closest(group, new)
            group.remove(best)
            pairs[new.key] = best.key
            used_old.add(best.key)

    def fuzzy(groups: Iterable[tuple[list[Candidate], list[Candidate]]], threshold: float) -> None:
        scored: list[tuple[float, int, int, int, str, str]] = []
        for olds, news in groups:
            if not olds or not news or len(olds) * len(news) > MAX_FUZZY_PAIRS:
                continue
            for i, new in enumerate(news):
                for j, old in enumerate(olds):
                    matcher = SequenceMatcher(None, old.description, new.description,
                                              autojunk=False)
                    if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
                        continue
                    score = matcher.ratio()
                    if score >= threshold:
                        section, status = _tie_break(old, new)
                        # Highest score first; then same section, same status, file order.
                        scored.append((-score, section, status, i * len(olds) + j,
                                       new.key, old.key))
        for _, _, _, _, new_key, old_key in sorted(scored):
            if new_key in pairs or old_key in used_old:
                continue
            pairs[new_key] = old_key
            used_old.add(old_key)

    exact(same_note=True)
    exact(same_note=False)

    by_note_old: dict[str, list[Candidate]] = defaultdict(list)
    for old in open_old():
        by_note_old[old.note].append(old)
    by_note_new: dict[str, list[Candidate]] = defaultdict(list)
    for new in open_new():
        by_note_new[new.note].append(new)
    fuzzy(((by_note_old[note], news) for note, news in by_note_new.items()),
          SAME_NOTE_SIMILARITY)
    fuzzy([(open_old(), open_new())], CROSS_NOTE_SIMILARITY)
    return pairs
