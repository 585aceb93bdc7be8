"""bytes -> Note. The only public entry point of the parser is :func:`parse_note`."""

from __future__ import annotations

import re
from collections import Counter

from vaultmap.model import DEFAULT_STATUS_MAP, Flavor, Heading, Note, StatusMap, Task, task_key
from vaultmap.parse.fields import parse_task_text

# TEMPORARY line-regex parser so other layers can be built; replaced by the real block parser.
_TASK = re.compile(rb"^([ \t>]*)([-*+]|\d{1,9}[.)])[ \t]+\[([^\]\r\n])\][ \t](.*)$")
_ATX = re.compile(rb"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")


def parse_note(
    data: bytes,
    path: str,
    *,
    flavor: Flavor = Flavor.OBSIDIAN,
    statuses: StatusMap = DEFAULT_STATUS_MAP,
) -> Note:
    """Parse one note's bytes into a :class:`~vaultmap.model.Note` with exact task positions."""
    tasks: list[Task] = []
    headings: list[Heading] = []
    stack: list[Heading] = []
    seen: Counter[tuple[tuple[str, ...], str]] = Counter()
    pos = 0
    for number, raw in enumerate(data.splitlines(keepends=True), start=1):
        line = raw.rstrip(b"\r\n")
        heading = _ATX.match(line)
        if heading:
            h = Heading(len(heading.group(1)), heading.group(2).decode("utf-8", "replace"), number)
            headings.append(h)
            stack = [s for s in stack if s.level < h.level] + [h]
        match = _TASK.match(line)
        if match:
            status_bytes = match.group(3)
            status = status_bytes.decode("utf-8", "replace")
            text = match.group(4).decode("utf-8", "replace")
            fields = parse_task_text(text)
            section = tuple(s.text for s in stack)
            ordinal = seen[(section, fields.description)]
            seen[(section, fields.description)] += 1
            tasks.append(Task(
                path=path, line=number, offset=pos + match.start(3), status=status,
                type=statuses.type_of(status), text=text, fields=fields, section=section,
                depth=len(match.group(1).expandtabs(4)) // 2, parent_line=None,
                key=task_key(path=path, section=section, description=fields.description,
                             ordinal=ordinal, explicit_id=fields.id, block_id=fields.block_id),
            ))
        pos += len(raw)
    return Note(path=path, tasks=tuple(tasks), headings=tuple(headings), size=len(data))


__all__ = ["parse_note"]
