"""The task-aware three-way merge of one note (what the git merge driver runs).

``merge_note(base, ours, theirs)`` merges three versions of a note's bytes the way git's own
line merge (``git merge-file``) would, except that it understands tasks:

- a status change on one side is kept; status changes on both sides to different values
  follow ``prefer`` (``done``: the more finished status, ranked as in the Notion sync;
  ``local`` / ``remote``: that side);
- a status change never conflicts with a line change nearby: ticking two adjacent tasks, a
  tick against a reword, a move within the note or an indentation change of the same task,
  all merge, and the tick lands on the task wherever it now is;
- both sides adding tasks at the same place keeps both, ours first, each line once;
- a status change against a deletion of the task keeps the task with its new status (a
  change wins over a deletion) and says so in :attr:`MergeResult.notes`;
- anything else merges exactly as ``git merge-file`` does; a genuine conflict leaves standard
  conflict markers around that hunk only and is listed in :attr:`MergeResult.conflicts`.

How: the three versions are parsed with the project's parser and their tasks matched by key,
then by the sync engine's re-matching (:func:`vaultmap.sync.identity.rematch`), which pairs a
reworded or moved task with its old self. Every matched task's status bytes in ours and theirs
are set back to base's ("neutralised"), so status changes are invisible to the line merge; git
merges the neutralised texts (``--zdiff3``: hunks as small as git makes them, base shown so a
pure insertion can be told from a rewrite); finally the decided status bytes are written onto
each task wherever the merged text now has it. Only status bytes are ever rewritten: line
endings, BOM, encoding and trailing spaces stay as the line merge left them, and
``merge_note(b, b, b) == b``.

Sides and rebase: git calls ``%A`` "ours" and ``%B`` "theirs". In a merge, ours is the local
branch; while a rebase replays local commits, ours is the upstream and theirs the local commit
(git-rebase(1)). ``ours_is_local`` says which, so ``prefer = "local"`` always means the user's
own edit. Added lines keep git's order, ours first (during a rebase the upstream's lines come
first and the replayed local ones after them, as if appended later).

This module runs ``git merge-file`` as a subprocess (the only I/O); everything else is pure.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vaultmap.model import DEFAULT_STATUS_MAP, Flavor, Note, StatusMap, Task
from vaultmap.model import normalise_text as _normalise
from vaultmap.parse import ParseCache, note_report_regions, parse_note
from vaultmap.sync.identity import Candidate, rematch

PREFER_CHOICES = ("done", "local", "remote")
CONFLICT_STYLES = ("merge", "diff3", "zdiff3")


# A task's line as git's line merge sees it: optional block quotes, a list marker, blanks,
# "[c]" (a status of up to 4 bytes: one UTF-8 character) and a blank or the line's end.
_TASK_LINE = re.compile(
    rb"[ \t]*(?:>[ \t]?)*[ \t]*(?:[-*+]|[0-9]{1,9}[.)])[ \t]+\[[^\]\r\n]{1,4}\](?:[ \t]|\r?\n?$)")
_BOM = b"\xef\xbb\xbf"
# Lines that could be mistaken for conflict markers (a setext underline is seven '=' or more).
_MARKER_LIKE = re.compile(rb"(?m)^(?:<{7,}|>{7,}|={7,}|\|{7,})")


class MergeToolError(RuntimeError):
    """``git merge-file`` could not run or failed (not a conflict): the driver falls back."""


@dataclass(frozen=True, slots=True)
class ConflictHunk:
    """One conflict left for the user: the 1-based lines of its ``<<<<<<<`` and ``>>>>>>>``
    markers in the merged bytes (lines end at ``\\n``, as git counts them)."""

    start_line: int
    end_line: int


@dataclass(frozen=True, slots=True)
class MergeResult:
    """The merged bytes, the conflicts left in them, and what the merge decided on its own."""

    data: bytes
    conflicts: tuple[ConflictHunk, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return not self.conflicts


@dataclass(slots=True)
class _Decision:
    """What becomes of one base task."""

    base: Task
    base_raw: bytes
    ours: Task | None
    theirs: Task | None
    status_raw: bytes  # the decided status bytes
    restore_from: str | None = None  # "ours" | "theirs": deleted on the other side, changed here
    placed: list[Task] = field(default_factory=list)


def align_report_regions(data: bytes, model: bytes) -> bytes:
    """``data`` with the text of each report region replaced by ``model``'s (when both hold
    the same number of regions); everything else as it was (docs/daemon.md, dashboards)."""
    _, theirs = note_report_regions(data)
    if not theirs:
        return data
    _, ours = note_report_regions(model)
    if len(ours) != len(theirs):
        return data
    out: list[bytes] = []
    position = 0
    for mine, other in zip(ours, theirs, strict=True):
        out += [data[position:other.start], model[mine.start:mine.end]]
        position = other.end
    out.append(data[position:])
    return b"".join(out)


def merge_note(
    base: bytes,
    ours: bytes,
    theirs: bytes,
    *,
    path: str = "note.md",
    prefer: str = "done",
    flavor: Flavor = Flavor.OBSIDIAN,
    statuses: StatusMap = DEFAULT_STATUS_MAP,
    ours_is_local: bool = True,
    marker_size: int = 7,
    labels: tuple[str, str, str] = ("ours", "base", "theirs"),
    conflict_style: str = "merge",
) -> MergeResult:
    """Merge three versions of the note at ``path`` (vault-relative, used for task keys).

    ``prefer`` settles a status changed differently on both sides: ``"done"`` keeps the more
    finished one (on equal rank, the local side), ``"local"`` / ``"remote"`` that side;
    ``ours_is_local`` is False while a rebase replays local commits (git's ``%A`` is then the
    upstream). ``marker_size``, ``labels`` and ``conflict_style`` shape the conflict markers
    as git's own would be. Raises :class:`MergeToolError` when ``git merge-file`` cannot run.
    """
    if prefer not in PREFER_CHOICES:
        raise ValueError(f"prefer must be one of {', '.join(PREFER_CHOICES)}, not {prefer!r}")
    if conflict_style not in CONFLICT_STYLES:
        raise ValueError(f"conflict_style must be one of {', '.join(CONFLICT_STYLES)}")
    # A report region (a live dashboard) is rewritten whole by whoever refreshes it next: two
    # sides that each refreshed it are no conflict. The base and theirs take our region's text.
    base, theirs = align_report_regions(base, ours), align_report_regions(theirs, ours)
    if ours == theirs or base == theirs:
        return MergeResult(ours)
    if base == ours:
        return MergeResult(theirs)

    # The versions share most task lines: each line's fields are read once for all parses.
    cache = ParseCache()
    notes_of = [parse_note(data, path, flavor=flavor, statuses=statuses, cache=cache)
                for data in (base, ours, theirs)]
    base_note, ours_note, theirs_note = notes_of
    to_ours = _match(base_note, ours_note, path)
    to_theirs = _match(base_note, theirs_note, path)

    local = "ours" if ours_is_local else "theirs"
    names = {"ours": "local" if ours_is_local else "remote",
             "theirs": "remote" if ours_is_local else "local"}
    notes: list[str] = []
    decisions: list[_Decision] = []
    for task in base_note.tasks:
        decision = _decide(task, base, to_ours.get(task.key), ours, to_theirs.get(task.key),
                           theirs, prefer=prefer, statuses=statuses, local=local, notes=notes,
                           names=names)
        if decision is not None:
            decisions.append(decision)

    neutral_ours = _neutralise(ours, ((d.ours, d.base_raw) for d in decisions))
    neutral_theirs = _neutralise(theirs, ((d.theirs, d.base_raw) for d in decisions))
    merged, conflicts = _line_merge(base, neutral_ours, neutral_theirs, marker_size=marker_size,
                                    labels=labels, conflict_style=conflict_style)
    # The common case "one side only ticked, the other edited": the merge is one neutralised
    # side as it was, so that side's parse already has every task where the merge has it
    # (unless a neutralised status differs in byte length), and a 4th parse is saved.
    same_offsets = all(len(d.base_raw) == t.status_len for d in decisions
                       for t in (d.ours, d.theirs) if t is not None)
    known = None
    if same_offsets:
        known = ours_note if merged == neutral_ours else \
            theirs_note if merged == neutral_theirs else None
    merged, inserted = _apply_statuses(merged, path, flavor, statuses, decisions, ours_note,
                                       theirs_note, {"ours": ours, "theirs": theirs}, notes,
                                       known, cache)
    for lines_before, added in sorted(inserted, reverse=True):
        conflicts = [ConflictHunk(h.start_line + (added if h.start_line > lines_before else 0),
                                  h.end_line + (added if h.end_line > lines_before else 0))
                     for h in conflicts]
    return MergeResult(merged, tuple(conflicts), tuple(notes))


# --------------------------------------------------------------------------- matching


def _candidate(task: Task, path: str) -> Candidate:
    return Candidate(key=task.key, note=path, section=task.section,
                     description=_normalise(task.description), status=task.status)


def _match(base: Note, side: Note, path: str) -> dict[str, Task]:
    """``{base key: the same task on the side}``: equal keys, then re-matched keys."""
    side_by_key = {task.key: task for task in side.tasks}
    base_keys = {task.key for task in base.tasks}
    matched = {key: task for key, task in side_by_key.items() if key in base_keys}
    vanished = [_candidate(t, path) for t in base.tasks if t.key not in side_by_key]
    appeared = [_candidate(t, path) for t in side.tasks if t.key not in base_keys]
    if vanished and appeared:
        for new_key, old_key in rematch(vanished, appeared).items():
            matched[old_key] = side_by_key[new_key]
    return matched


def _raw_status(data: bytes, task: Task) -> bytes:
    return data[task.offset:task.offset + task.status_len]


def _decide(task: Task, base: bytes, ours_task: Task | None, ours: bytes,
            theirs_task: Task | None, theirs: bytes, *, prefer: str, statuses: StatusMap,
            local: str, notes: list[str], names: Mapping[str, str]) -> _Decision | None:
    base_raw = _raw_status(base, task)
    ours_raw = None if ours_task is None else _raw_status(ours, ours_task)
    theirs_raw = None if theirs_task is None else _raw_status(theirs, theirs_task)
    if ours_raw is None and theirs_raw is None:
        return None
    if ours_raw is None or theirs_raw is None:
        kept, kept_raw, kept_task = (("theirs", theirs_raw, theirs_task) if ours_raw is None
                                     else ("ours", ours_raw, ours_task))
        assert kept_raw is not None and kept_task is not None
        if kept_raw == base_raw:
            return _Decision(task, base_raw, ours_task, theirs_task, base_raw)
        deleted = "ours" if kept == "theirs" else "theirs"
        notes.append(f"kept {_short(task.text)!r} (status {_show(kept_task.status)} on the "
                     f"{names[kept]} side) although the {names[deleted]} side deleted it")
        return _Decision(task, base_raw, ours_task, theirs_task, kept_raw, restore_from=kept)
    assert ours_task is not None and theirs_task is not None
    if ours_raw == theirs_raw or theirs_raw == base_raw:
        return _Decision(task, base_raw, ours_task, theirs_task, ours_raw)
    if ours_raw == base_raw:
        return _Decision(task, base_raw, ours_task, theirs_task, theirs_raw)
    if prefer == "done":
        ours_rank = statuses.type_of(ours_task.status).rank
        theirs_rank = statuses.type_of(theirs_task.status).rank
        winner = (local if ours_rank == theirs_rank
                  else "ours" if ours_rank > theirs_rank else "theirs")
    else:
        winner = local if prefer == "local" else ("theirs" if local == "ours" else "ours")
    chosen, other = (ours_task, theirs_task) if winner == "ours" else (theirs_task, ours_task)
    loser = "theirs" if winner == "ours" else "ours"
    notes.append(f"{_short(task.text)!r}: both sides changed the status; kept "
                 f"{_show(chosen.status)} ({names[winner]}) over {_show(other.status)} "
                 f"({names[loser]}), prefer = {prefer}")
    return _Decision(task, base_raw, ours_task, theirs_task,
                     ours_raw if winner == "ours" else theirs_raw)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _show(status: str) -> str:
    return f"[{status}]"


def _neutralise(data: bytes, tasks: Iterable[tuple[Task | None, bytes]]) -> bytes:
    """``data`` with each given task's status bytes replaced by its base status bytes."""
    edits = sorted((t.offset, t.status_len, raw) for t, raw in tasks
                   if t is not None and _raw_status(data, t) != raw)
    if not edits:
        return data
    parts: list[bytes] = []
    position = 0
    for offset, length, raw in edits:
        parts += (data[position:offset], raw)
        position = offset + length
    parts.append(data[position:])
    return b"".join(parts)


# --------------------------------------------------------------------------- the line merge


def _line_merge(base: bytes, ours: bytes, theirs: bytes, *, marker_size: int,
                labels: tuple[str, str, str],
                conflict_style: str) -> tuple[bytes, list[ConflictHunk]]:
    """git's line merge of the neutralised texts; pure task insertions at one place are
    united, every other conflict hunk is written with standard markers."""
    if ours == theirs or base == theirs:
        return ours, []
    if base == ours:
        return theirs, []
    if base.startswith(_BOM) and ours.startswith(_BOM) and theirs.startswith(_BOM):
        # The BOM belongs to the file, not to its first line: a line inserted at the top on
        # both sides must not look like a change of the first line.
        body, hunks = _line_merge(base[3:], ours[3:], theirs[3:], marker_size=marker_size,
                                      labels=labels, conflict_style=conflict_style)
        return _BOM + body, hunks
    longest = max((len(m.group()) for data in (base, ours, theirs) if _may_hold_markers(data)
                   for m in _MARKER_LIKE.finditer(data)), default=0)
    size = max(32, longest + 1)  # no line of the inputs can pass for one of these markers
    output = _merge_file(base, ours, theirs, size)
    if output.find(b"<" * size) < 0:
        return output, []
    parts: list[bytes] = []
    conflicts: list[ConflictHunk] = []
    lines_so_far = 0
    for segment in _segments(output, size):
        if isinstance(segment, bytes):
            parts.append(segment)
            lines_so_far += segment.count(b"\n")
            continue
        ours_lines, base_lines, theirs_lines, eol = segment
        union = _union(ours_lines, base_lines, theirs_lines)
        if union is not None:
            parts.append(union)
            lines_so_far += union.count(b"\n")
            continue
        start = lines_so_far + 1
        hunk = [b"<" * marker_size + b" " + labels[0].encode() + eol, *ours_lines]
        if conflict_style != "merge":
            hunk += [b"|" * marker_size + b" " + labels[1].encode() + eol, *base_lines]
        hunk += [b"=" * marker_size + eol, *theirs_lines,
                 b">" * marker_size + b" " + labels[2].encode() + eol]
        block = b"".join(hunk)
        lines_so_far += block.count(b"\n")
        conflicts.append(ConflictHunk(start, lines_so_far))
        parts.append(block)
    return b"".join(parts), conflicts


def _may_hold_markers(data: bytes) -> bool:
    """Whether a line of ``data`` might start like a conflict marker (a fast substring test
    that spares a big note the regular expression's line-by-line search)."""
    return any(run in data for run in (b"<" * 7, b">" * 7, b"=" * 7, b"|" * 7))


def _merge_file(base: bytes, ours: bytes, theirs: bytes, marker_size: int) -> bytes:
    with tempfile.TemporaryDirectory(prefix="vaultmap-merge-") as folder:
        names = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            file = Path(folder) / name
            file.write_bytes(data)
            names.append(str(file))
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
        env["LC_ALL"] = "C"
        try:
            done = subprocess.run(
                ["git", "merge-file", "-p", "-q", "--zdiff3", f"--marker-size={marker_size}",
                 "-L", "ours", "-L", "base", "-L", "theirs", *names],
                capture_output=True, env=env, check=False)
        except OSError as error:
            raise MergeToolError(f"cannot run git merge-file: {error}") from None
    # The exit status is the number of conflicts (capped at 127); negative or > 127: failure.
    if not 0 <= done.returncode <= 127:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise MergeToolError("git merge-file failed: " + (message[0] if message else
                                                          f"exit {done.returncode}"))
    return done.stdout


_Conflict = tuple[list[bytes], list[bytes], list[bytes], bytes]


def _segments(output: bytes, size: int) -> Iterable[bytes | _Conflict]:
    """Split ``git merge-file --zdiff3`` output into clean text and conflict hunks."""
    start_mark, base_mark = b"<" * size, b"|" * size
    middle_mark, end_mark = b"=" * size, b">" * size
    lines = output.splitlines(keepends=True)
    clean: list[bytes] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if not _is_marker(line, start_mark):
            clean.append(line)
            index += 1
            continue
        if clean:
            yield b"".join(clean)
            clean = []
        eol = b"\r\n" if line.endswith(b"\r\n") else b"\n"
        sides: list[list[bytes]] = [[], [], []]
        current = 0
        index += 1
        while index < len(lines) and not _is_marker(lines[index], end_mark):
            if _is_marker(lines[index], base_mark):
                current = 1
            elif _is_marker(lines[index], middle_mark):
                current = 2
            else:
                sides[current].append(lines[index])
            index += 1
        index += 1  # the end marker
        yield sides[0], sides[1], sides[2], eol
    if clean:
        yield b"".join(clean)


def _is_marker(line: bytes, mark: bytes) -> bool:
    return line.startswith(mark) and line[len(mark):len(mark) + 1] in (b"", b" ", b"\r", b"\n")


def _union(ours: Sequence[bytes], base: Sequence[bytes], theirs: Sequence[bytes]) -> bytes | None:
    """Both sides inserted only tasks (and blank lines) at one place: ours, then theirs'
    lines that ours does not have. None when the hunk is anything else."""
    if base:
        return None
    for line in (*ours, *theirs):
        if line.strip() and not _TASK_LINE.match(line):
            return None
    seen = {line.rstrip(b"\r\n") for line in ours if line.strip()}
    added = [line for line in theirs if not line.strip() or line.rstrip(b"\r\n") not in seen]
    return b"".join([*ours, *added])


def find_conflicts(merged: bytes, marker_size: int = 7) -> list[ConflictHunk]:
    """The conflict hunks (``<<<<<<<`` ... ``>>>>>>>`` of exactly ``marker_size``) in a
    note's bytes: what the merge left, or what is still in a work-tree file the user has not
    finished resolving."""
    hunks: list[ConflictHunk] = []
    start: int | None = None
    for number, line in enumerate(merged.split(b"\n"), start=1):
        if start is None and _is_marker(line + b"\n", b"<" * marker_size) \
                and not line.startswith(b"<" * (marker_size + 1)):
            start = number
        elif start is not None and _is_marker(line + b"\n", b">" * marker_size) \
                and not line.startswith(b">" * (marker_size + 1)):
            hunks.append(ConflictHunk(start, number))
            start = None
    return hunks


# --------------------------------------------------------------------------- statuses back


def _apply_statuses(merged: bytes, path: str, flavor: Flavor, statuses: StatusMap,
                    decisions: Sequence[_Decision], ours_note: Note, theirs_note: Note,
                    sides: Mapping[str, bytes], notes: list[str],
                    merged_note: Note | None = None,
                    cache: ParseCache | None = None,
                    ) -> tuple[bytes, list[tuple[int, int]]]:
    """Write each decided status onto its task in the merged text; put back a changed task
    the other side deleted. Also returns each put-back line as (the number of lines before
    it, the lines it adds), for the conflict hunks' line numbers."""
    if not any(d.status_raw != d.base_raw for d in decisions):
        return merged, []  # no status to write back, no changed task to restore
    if merged_note is None:
        merged_note = parse_note(merged, path, flavor=flavor, statuses=statuses, cache=cache)
    by_key: dict[str, _Decision] = {}
    for decision in decisions:
        for task in (decision.ours, decision.theirs):
            if task is not None:
                by_key.setdefault(task.key, decision)
    for decision in decisions:
        by_key.setdefault(decision.base.key, decision)
    matched_ours = {d.ours.key for d in decisions if d.ours is not None}
    matched_theirs = {d.theirs.key for d in decisions if d.theirs is not None}
    added = ({t.key for t in ours_note.tasks} - matched_ours) | \
        ({t.key for t in theirs_note.tasks} - matched_theirs)

    unplaced: list[Task] = []
    for task in merged_note.tasks:
        owner = by_key.get(task.key)
        if owner is not None:
            owner.placed.append(task)
        elif task.key not in added:
            unplaced.append(task)
    waiting = {d.base.key: d for d in decisions if not d.placed}
    if unplaced and waiting:
        olds = [Candidate(key=d.base.key, note=path, section=_latest(d).section,
                          description=_normalise(_latest(d).description),
                          status=d.base.status) for d in waiting.values()]
        news_by_key = {t.key: t for t in unplaced}
        news = [_candidate(t, path) for t in unplaced]
        for new_key, old_key in rematch(olds, news).items():
            waiting[old_key].placed.append(news_by_key[new_key])

    edits: list[tuple[int, int, bytes]] = []
    for decision in decisions:
        if decision.status_raw == decision.base_raw:
            continue
        for task in decision.placed:
            # Only a line the merge took from a neutralised task still carries base's status;
            # anything else was written by one side and is left as that side wrote it.
            if _raw_status(merged, task) == decision.base_raw:
                edits.append((task.offset, task.status_len, decision.status_raw))
    inserted: list[tuple[int, int]] = []
    for decision in decisions:
        if decision.restore_from is None or decision.placed:
            continue
        side = sides[decision.restore_from]
        side_note = ours_note if decision.restore_from == "ours" else theirs_note
        kept = decision.ours if decision.restore_from == "ours" else decision.theirs
        assert kept is not None
        restored = _restore(merged, merged_note, side, side_note, kept, by_key)
        edits.append(restored)
        inserted.append((merged.count(b"\n", 0, restored[0]), restored[2].count(b"\n")))
    if not edits:
        return merged, inserted
    parts: list[bytes] = []
    position = 0
    for offset, length, raw in sorted(edits, key=lambda e: (e[0], e[1])):
        parts += (merged[position:offset], raw)
        position = offset + length
    parts.append(merged[position:])
    return b"".join(parts), inserted


def _latest(decision: _Decision) -> Task:
    """The version of a task whose text the merge most likely kept (the reworded one)."""
    for task in (decision.ours, decision.theirs):
        if task is not None and task.description != decision.base.description:
            return task
    return decision.ours or decision.theirs or decision.base


def _line_span(data: bytes, offset: int) -> tuple[int, int]:
    """Start of the line holding ``offset`` and the end of that line, its ending included."""
    start = max(data.rfind(b"\n", 0, offset), data.rfind(b"\r", 0, offset)) + 1
    # The earliest line ending after the offset ends the line (a \r\n counts as one).
    ends = [i for i in (data.find(b"\n", offset), data.find(b"\r", offset)) if i >= 0]
    if not ends:
        return start, len(data)
    first = min(ends)
    if data[first:first + 2] == b"\r\n":
        return start, first + 2
    return start, first + 1


def _restore(merged: bytes, merged_note: Note, side: bytes, side_note: Note, kept: Task,
             by_key: Mapping[str, _Decision]) -> tuple[int, int, bytes]:
    """An insertion that puts ``kept``'s line back into ``merged``: after the nearest task
    before it (on its side) that the merged text has, else before the nearest after it."""
    line_start, line_end = _line_span(side, kept.offset)
    line = side[line_start:line_end]
    merged_by_key: dict[str, Task] = {}
    for task in merged_note.tasks:
        merged_by_key.setdefault(task.key, task)
    for decision in by_key.values():
        for task in decision.placed:
            for key in (decision.base.key, *(t.key for t in (decision.ours, decision.theirs)
                                             if t is not None)):
                merged_by_key.setdefault(key, task)
    order = list(side_note.tasks)
    index = next(i for i, task in enumerate(order) if task.key == kept.key)
    for task in reversed(order[:index]):
        anchor = merged_by_key.get(task.key)
        if anchor is not None:
            _, end = _line_span(merged, anchor.offset)
            if end == len(merged) and not merged.endswith((b"\n", b"\r")):
                return end, 0, _eol_of(line, merged) + line.rstrip(b"\r\n")
            return end, 0, _with_eol(line, merged)
    for task in order[index + 1:]:
        anchor = merged_by_key.get(task.key)
        if anchor is not None:
            start, _ = _line_span(merged, anchor.offset)
            return start, 0, _with_eol(line, merged)
    if merged and not merged.endswith((b"\n", b"\r")):
        return len(merged), 0, _eol_of(line, merged) + line.rstrip(b"\r\n")
    return len(merged), 0, line


def _eol_of(line: bytes, merged: bytes) -> bytes:
    for ending in (b"\r\n", b"\n", b"\r"):
        if line.endswith(ending):
            return ending
    return b"\r\n" if b"\r\n" in merged else b"\n"


def _with_eol(line: bytes, merged: bytes) -> bytes:
    return line if line.endswith((b"\n", b"\r")) else line + _eol_of(line, merged)
