"""Report regions: the part of a note between ``<!-- vaultmap:report -->`` and
``<!-- /vaultmap:report -->`` that vaultmap keeps filled with the Markdown report.

The parser reads such a region as blank lines, so its headings, lists and anything that looks
like a task are neither counted nor synced, and the tasks after it keep their heading path
(their keys) whether or not a report was written above them. The dashboard writer finds the
regions with the same function, so the two always agree on where a region is.

A marker is a whole line of its own, starting at column 0 (no indent, not inside a list or a
quote) and outside fenced code, so a note can show the markers in a code block. Options go
in the opening marker: ``<!-- vaultmap:report by=section depth=3 -->``. An opening marker
without a closing one after it is no region (nothing is hidden, nothing written).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MARKER = b"vaultmap:report"
_OPEN = re.compile(rb"<!--[ \t]*vaultmap:report(?:[ \t]+(?P<options>[^\r\n]*?))?[ \t]*-->[ \t]*")
_CLOSE = re.compile(rb"<!--[ \t]*/vaultmap:report[ \t]*-->[ \t]*")
_FENCE = re.compile(rb" {0,3}(?P<run>`{3,}|~{3,})(?P<rest>[^\r\n]*)")


@dataclass(frozen=True, slots=True)
class ReportRegion:
    """One region: the line indexes of its two markers and the bytes between them.

    ``start`` is the first byte after the opening marker's line ending, ``end`` the first byte
    of the closing marker's line, so ``data[start:end]`` is the region's content.
    """

    open_line: int  # index into the note's lines (0-based)
    close_line: int
    start: int
    end: int
    options: str  # the opening marker's text after "vaultmap:report", as written


def report_regions(data: bytes, lines: list[tuple[int, int]],
                   first: int = 0) -> list[ReportRegion]:
    """The report regions of a note, given its line spans (:func:`vaultmap.parse.split_lines`).

    ``first`` is the index of the first body line (after front matter). Costs one substring
    search for a note without a marker.
    """
    if data.find(MARKER) < 0:
        return []
    regions: list[ReportRegion] = []
    fence: tuple[int, int] | None = None  # (fence byte, run length) of the open fence
    opened: tuple[int, str] | None = None  # (line index, options) of the open region
    for index in range(first, len(lines)):
        start, end = lines[index]
        if opened is None:
            match = _FENCE.match(data, start, end)
            if match is not None:
                run = match.group("run")
                if fence is None:
                    if not (run[0] == 0x60 and b"`" in match.group("rest")):
                        fence = (run[0], len(run))
                    continue
                if run[0] == fence[0] and len(run) >= fence[1] and \
                        not match.group("rest").strip(b" \t"):
                    fence = None
                continue
            if fence is not None:
                continue
            found = _OPEN.fullmatch(data, start, end)
            if found is not None:
                options = (found.group("options") or b"").decode("utf-8", "replace").strip()
                opened = (index, options)
        elif _CLOSE.fullmatch(data, start, end):
            open_index, options = opened
            content_start = lines[open_index + 1][0]
            regions.append(ReportRegion(open_index, index, content_start, start, options))
            opened = None
    return regions


def hide_regions(lines: list[tuple[int, int]],
                 regions: list[ReportRegion]) -> list[tuple[int, int]]:
    """``lines`` with every line strictly between two markers made empty (read as blank)."""
    hidden = list(lines)
    for region in regions:
        for index in range(region.open_line + 1, region.close_line):
            start = hidden[index][0]
            hidden[index] = (start, start)
    return hidden


__all__ = ["MARKER", "ReportRegion", "hide_regions", "report_regions"]
