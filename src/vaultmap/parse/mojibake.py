"""Display repair of double-encoded text ("mojibake"). Pure: strings in, strings out.

A note that was UTF-8, read as Windows-1252 and saved as UTF-8 again shows ``🧩 Skill 1 — Python``
as ``ðŸ§© Skill 1 â€” Python``. The five bytes Windows-1252 leaves undefined (0x81, 0x8D, 0x8F,
0x90, 0x9D) are often dropped on the way, so ``1️⃣`` arrives as ``1ï¸âƒ£`` (the 0x8F of U+FE0F is
gone). This module undoes both, and leaves clean text alone.

How (docs/mojibake.md has the full rules):

* A *run* is a maximal stretch of characters that Windows-1252 (or Latin-1, for the C1
  controls) could have produced from a byte >= 0x80. UTF-8 never puts an ASCII byte inside a
  multi-byte character, so a damaged character always lies inside one run, and a run is
  repaired as a whole or not at all. That makes repair *local*: repairing a task's text gives
  the same characters as repairing the whole line it sits in (task keys rely on this).
* A run is decoded back (Windows-1252 bytes read as UTF-8), putting back at most one
  undefined byte per character where that makes the UTF-8 valid and choosing the most
  plausible character when several would do; what that cannot decode goes to ftfy
  (``fix_encoding``: other code pages, characters past saving next to ones that are not).
* A note is repaired only when its repairable runs outnumber the runs that do not decode (a
  plain ``é`` or ``—`` written correctly). A note about encodings that quotes ``Ã©`` next to a
  correctly written ``é`` is shown exactly as written.

Usage::

    plan = repair_plan("ðŸ§© Skill 1 â€” Python")    # None for clean text
    apply_plan("ðŸ§© Skill 1 â€” Python", plan)      # "🧩 Skill 1 — Python"
    display_text("1ï¸âƒ£ step")                       # "1️⃣ step"
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = [
    "UNDEFINED_BYTES",
    "Repair",
    "apply_plan",
    "damaged_spans",
    "display_text",
    "might_be_damaged",
    "repair_plan",
    "repair_run",
]

#: The bytes Windows-1252 does not define; a double encoding often drops them.
UNDEFINED_BYTES = (0x81, 0x8D, 0x8F, 0x90, 0x9D)


def _byte_of_char() -> dict[str, int]:
    table: dict[str, int] = {}
    for byte in range(0x80, 0x100):
        table[chr(byte)] = byte  # Latin-1 reading (C1 controls, and U+00A0-U+00FF)
    for byte in range(0x80, 0x100):
        with contextlib.suppress(UnicodeDecodeError):  # the five undefined bytes
            table[bytes([byte]).decode("cp1252")] = byte  # Windows-1252 reading
    return table


_BYTE_OF: dict[str, int] = _byte_of_char()
_RUN = re.compile("[" + re.escape("".join(sorted(_BYTE_OF))) + "]+")
_CONTINUATION_CHARS = "".join(sorted(ch for ch, b in _BYTE_OF.items() if b < 0xC0))
# A UTF-8 lead byte (0xC2-0xF4, read as Â..ô) followed by a continuation byte as Windows-1252
# shows it: the cheap test that a text may hold mojibake at all.
_SIGNATURE = re.compile("[\u00c2-\u00f4][" + re.escape(_CONTINUATION_CHARS) + "]")

# Characters a restored byte is most likely to have been part of, best first; anything else
# that is assigned and printable scores 1 (letters and common symbols 3).
_PREFERRED: Mapping[int, int] = {0xFE0F: 6, 0x201D: 5, 0x20E3: 5, 0x200D: 2, 0x2010: 3}
_EMOJI_TECHNICAL = frozenset([0x231A, 0x231B, 0x2328, 0x23CF, *range(0x23E9, 0x23F4),
                              0x23F8, 0x23F9, 0x23FA])


def might_be_damaged(text: str) -> bool:
    """A cheap test: False means the text certainly holds no mojibake to repair."""
    return not text.isascii() and _SIGNATURE.search(text) is not None


def _score(char: str, next_byte: int | None) -> int:
    """How plausible a character restored by putting back an undefined byte is (0: never)."""
    code = ord(char)
    category = unicodedata.category(char)
    if category in ("Cn", "Co", "Cs", "Cc"):
        return 0
    if code == 0x200D and next_byte is not None and next_byte >= 0xE2:
        return 6  # a zero-width joiner between two emoji (another multi-byte char follows)
    if code in _PREFERRED:
        return _PREFERRED[code]
    if 0x2600 <= code <= 0x27BF or code in _EMOJI_TECHNICAL:
        return 4  # symbols and dingbats with an emoji form (❤, ✅, ⌛) beat APL and arrows
    if 0x2300 <= code <= 0x23FF:
        return 2
    if 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF or category == "Cf":
        return 1  # rare CJK extensions / compatibility, format characters
    if category[0] in "LNPS":
        return 3
    return 1


def _length_of(lead: int) -> int:
    if 0xC2 <= lead <= 0xDF:
        return 2
    if 0xE0 <= lead <= 0xEF:
        return 3
    if 0xF0 <= lead <= 0xF4:
        return 4
    return 0


def _decode_restoring(data: bytes, *, restore: bool = True) -> str | None:
    """``data`` as UTF-8, putting back at most one undefined byte per character where needed
    (with ``restore``; without it, only an exact decoding counts).

    None when some character cannot be made valid that way (the run is not mojibake).
    """
    out: list[str] = []
    i = 0
    size = len(data)
    while i < size:
        lead = data[i]
        if lead < 0x80:
            out.append(chr(lead))
            i += 1
            continue
        length = _length_of(lead)
        if not length:
            return None
        j = i + 1
        while j < size and j - i < length and 0x80 <= data[j] <= 0xBF:
            j += 1
        present = data[i + 1:j]
        if len(present) == length - 1:
            try:
                out.append(data[i:j].decode("utf-8"))
            except UnicodeDecodeError:
                return None
            i = j
            continue
        if not restore or len(present) != length - 2:
            return None
        next_byte = data[j] if j < size else None
        best: tuple[int, str] | None = None
        for slot in range(len(present) + 1):
            for missing in UNDEFINED_BYTES:
                candidate = bytes([lead]) + present[:slot] + bytes([missing]) + present[slot:]
                try:
                    char = candidate.decode("utf-8")
                except UnicodeDecodeError:
                    continue
                score = _score(char, next_byte)
                if score and (best is None or score > best[0]):
                    best = (score, char)
        if best is None:
            return None
        out.append(best[1])
        i = j
    return "".join(out)


def _as_bytes(run: str) -> bytes | None:
    try:
        return bytes([_BYTE_OF[ch] for ch in run])
    except KeyError:
        return None


def _decode_run(run: str, *, restore: bool) -> str | None:
    """One Windows-1252 round trip undone on a run, or None when it does not decode."""
    data = _as_bytes(run)
    return _decode_restoring(data, restore=restore) if data is not None else None


def repair_run(run: str) -> str:
    """The repaired form of one run (``run`` itself when it is not mojibake).

    First the exact inverse of one Windows-1252 round trip. Undefined bytes are put back only
    when ftfy's badness test says the run is mojibake (``Zoë’s`` is a name and an apostrophe,
    though ``ë’`` would become a Hangul syllable with a byte put back). Where that does not
    decode, ftfy (other code pages, a character that lost two bytes next to ones that can be
    saved). Further layers (a text double-encoded twice) are undone only when they decode
    exactly. A result ftfy still finds bad is not a repair: the run is kept as written.
    """
    if _SIGNATURE.search(run) is None:
        return run  # a lone "Ã" is a letter, not a character that lost its other bytes
    # ftfy is imported here, not with the module: it takes ~70 ms, and only a note that has
    # the shape of mojibake gets this far (a clean vault's report never imports it).
    import ftfy
    from ftfy.badness import is_bad

    bad = is_bad(run)
    fixed = _decode_run(run, restore=bad)
    if fixed is None:
        if not bad:
            return run
        # Only the encoding steps, and never a U+FFFD for a sequence that lost too much: a
        # run is repaired fully or kept as written.
        config = ftfy.TextFixerConfig(replace_lossy_sequences=False, explain=False)
        fixed = ftfy.fix_encoding(run, config)
    else:
        for _ in range(2):
            if _SIGNATURE.search(fixed) is None:
                break
            deeper = _decode_run(fixed, restore=False)
            if deeper is None:
                break
            fixed = deeper
    if fixed == run or is_bad(fixed):
        return run
    return fixed


@dataclass(frozen=True, slots=True)
class Repair:
    """One damaged span of a text: ``text[start:end]`` reads ``before`` and shows as ``after``."""

    start: int
    end: int
    before: str
    after: str


def repair_plan(text: str) -> Mapping[str, str] | None:
    """What to replace in ``text`` (damaged run -> repaired run), or None when it is clean.

    The decision is for the whole text (pass a whole note): it is repaired only when its
    repairable runs outnumber the runs that stay as they are.
    """
    if not might_be_damaged(text):
        return None
    repaired: dict[str, str] = {}
    kept = 0
    seen: dict[str, str] = {}
    for match in _RUN.finditer(text):
        run = match.group()
        fixed = seen.get(run)
        if fixed is None:
            fixed = seen[run] = repair_run(run)
        if fixed == run:
            kept += 1
        else:
            repaired[run] = fixed
    damaged = sum(1 for match in _RUN.finditer(text) if match.group() in repaired)
    if not repaired or damaged <= kept:
        return None
    return repaired


def apply_plan(text: str, plan: Mapping[str, str] | None) -> str:
    """``text`` with the runs of ``plan`` replaced (any substring of the planned text works)."""
    if not plan or text.isascii():
        return text
    return _RUN.sub(lambda match: plan.get(match.group(), match.group()), text)


def display_text(text: str) -> str:
    """``text`` repaired as a whole note would be (see :func:`repair_plan`)."""
    return apply_plan(text, repair_plan(text))


def damaged_spans(text: str, plan: Mapping[str, str] | None = None) -> list[Repair]:
    """The spans :func:`apply_plan` would change, in order (empty for clean text)."""
    if plan is None:
        plan = repair_plan(text)
    if not plan:
        return []
    return [Repair(m.start(), m.end(), m.group(), plan[m.group()])
            for m in _RUN.finditer(text) if m.group() in plan]
