"""bytes -> Note. The only public entry point of the parser is :func:`parse_note`.

The bytes are never changed or "fixed": positions are byte offsets into exactly the data
given, and decoding happens only to produce display text (``Task.text``, heading texts).
The Markdown block structure comes from :mod:`vaultmap.parse.blocks`, a port of the
CommonMark block algorithm (as implemented by cmark-gfm) that works on bytes; the task-line
grammar comes from :func:`vaultmap.parse.fields.parse_task_text`.

Example::

    note = parse_note(b"# Plan\\n- [ ] write tests\\n", "plan.md")
    note.tasks[0].offset   # 10: the byte between "[" and "]"
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Mapping
from types import MappingProxyType

from frontmatter.default_handlers import YAMLHandler

from vaultmap.model import (
    DEFAULT_STATUS_MAP,
    Flavor,
    Heading,
    Note,
    StatusMap,
    Task,
    normalise_text,
    task_key,
)
from vaultmap.parse.blocks import scan
from vaultmap.parse.fields import parse_task_text

_BOM = b"\xef\xbb\xbf"
_EOL = re.compile(rb"\r\n|\r|\n")
# A front-matter fence: exactly three dashes, optional trailing blanks (Obsidian's rule).
_FM_FENCE = re.compile(rb"---[ \t]*")
_FM_END = re.compile(rb"(?:---|\.\.\.)[ \t]*")
_TAG_SPLIT = re.compile(r"[,\s]+")
_YAML = YAMLHandler()


def split_lines(data: bytes) -> list[tuple[int, int]]:
    """``(start, end)`` byte spans of the lines, ``end`` excluding the line ending.

    ``\\n``, ``\\r\\n`` and a lone ``\\r`` each end a line; a final line ending does not start
    another (empty) line.
    """
    spans: list[tuple[int, int]] = []
    if b"\r" not in data:
        start = 0
        find = data.find
        while True:
            end = find(b"\n", start)
            if end < 0:
                if start < len(data):
                    spans.append((start, len(data)))
                return spans
            spans.append((start, end))
            start = end + 1
    start = 0
    for match in _EOL.finditer(data):
        spans.append((start, match.start()))
        start = match.end()
    if start < len(data):
        spans.append((start, len(data)))
    return spans


def detect_encoding(data: bytes) -> str:
    """``utf-8``, ``utf-8-sig`` (BOM), else the legacy codec used for display (cp1252/latin-1)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        try:
            data.decode("cp1252")
        except UnicodeDecodeError:
            return "latin-1"
        return "cp1252"
    return "utf-8-sig" if data.startswith(_BOM) else "utf-8"


def _decoder(encoding: str) -> Callable[[bytes], str]:
    codec = "utf-8" if encoding == "utf-8-sig" else encoding

    def decode(raw: bytes) -> str:
        return raw.decode(codec, "replace")

    return decode


def _front_matter_end(data: bytes, lines: list[tuple[int, int]]) -> int:
    """Number of lines the YAML front matter takes (0 if there is none)."""
    if not lines:
        return 0
    start, end = lines[0]
    if data.startswith(_BOM):
        start += 3
    if not _FM_FENCE.fullmatch(data, start, end):
        return 0
    for index in range(1, len(lines)):
        s, e = lines[index]
        if _FM_END.fullmatch(data, s, e):
            return index + 1
    return 0


def _read_front_matter(
    text: str, warnings: list[str]
) -> tuple[Mapping[str, object], tuple[str, ...]]:
    try:
        loaded = _YAML.load(text)
    except Exception as exc:  # yaml.YAMLError and friends: any failure is the note's problem
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        warnings.append(f"front matter is not valid YAML ({first}); it was ignored")
        return MappingProxyType({}), ()
    if loaded is None:
        return MappingProxyType({}), ()
    if not isinstance(loaded, dict):
        warnings.append("front matter is not a mapping of keys to values; it was ignored")
        return MappingProxyType({}), ()
    meta = {str(k): v for k, v in loaded.items()}
    return MappingProxyType(meta), _tags_of(meta)


def _tags_of(meta: Mapping[str, object]) -> tuple[str, ...]:
    raw = meta.get("tags", meta.get("tag"))
    items: list[object]
    if raw is None:
        return ()
    if isinstance(raw, str):
        items = list(_TAG_SPLIT.split(raw))
    elif isinstance(raw, list | tuple):
        items = list(raw)
    else:
        items = [raw]
    tags: list[str] = []
    for item in items:
        if item is None:
            continue
        tag = str(item).strip().lstrip("#").strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tuple(tags)


def parse_note(
    data: bytes,
    path: str,
    *,
    flavor: Flavor = Flavor.OBSIDIAN,
    statuses: StatusMap = DEFAULT_STATUS_MAP,
) -> Note:
    """Parse one note's bytes into a :class:`~vaultmap.model.Note` with exact task positions.

    Never raises on bad input: malformed front matter, undecodable bytes or pathological
    nesting give a ``Note.warnings`` entry and as much of the note as can be read safely.
    Each task satisfies ``data[t.offset - 1:t.offset] == b"["`` and
    ``data[t.offset + t.status_len:t.offset + t.status_len + 1] == b"]"``.
    """
    warnings: list[str] = []
    encoding = detect_encoding(data)
    decode = _decoder(encoding)
    lines = split_lines(data)

    frontmatter: Mapping[str, object] = MappingProxyType({})
    note_tags: tuple[str, ...] = ()
    skip = _front_matter_end(data, lines)
    if skip:
        body_start = lines[1][0]
        body_end = lines[skip - 1][0]
        frontmatter, note_tags = _read_front_matter(decode(data[body_start:body_end]), warnings)

    obsidian = flavor is Flavor.OBSIDIAN
    try:
        result = scan(data, lines[skip:], skip + 1, obsidian=obsidian, decode=decode)
    except Exception as exc:  # a parser bug must cost one note, never the whole vault
        warnings.append(f"could not parse the Markdown structure ({type(exc).__name__}); "
                        "no tasks were read")
        return Note(path=path, tags=note_tags, frontmatter=frontmatter,
                    warnings=tuple(warnings), encoding=encoding, size=len(data),
                    sha256=hashlib.sha256(data).hexdigest())
    if result.warning:
        warnings.append(result.warning)

    tasks: list[Task] = []
    seen: Counter[tuple[tuple[str, ...], str]] = Counter()
    for raw in result.tasks:
        if raw.cancelled:
            continue
        status_bytes = data[raw.status_offset:raw.status_offset + raw.status_len]
        status = decode(status_bytes)
        text = decode(data[raw.text_start:raw.text_end])
        fields = parse_task_text(text)
        identity = (raw.section, normalise_text(fields.description))
        ordinal = seen[identity]
        seen[identity] += 1
        tasks.append(Task(
            path=path,
            line=raw.line,
            offset=raw.status_offset,
            status=status,
            type=statuses.type_of(status),
            text=text,
            fields=fields,
            section=raw.section,
            depth=raw.depth,
            parent_line=raw.parent_line,
            key=task_key(path=path, section=raw.section, description=fields.description,
                         ordinal=ordinal, explicit_id=fields.id, block_id=fields.block_id),
            status_len=raw.status_len,
            in_quote=raw.in_quote,
        ))
    headings = tuple(Heading(h.level, decode(h.text), h.line) for h in result.headings)
    return Note(
        path=path,
        tasks=tuple(tasks),
        headings=headings,
        tags=note_tags,
        frontmatter=frontmatter,
        warnings=tuple(warnings),
        encoding=encoding,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
    )


__all__ = ["detect_encoding", "parse_note", "split_lines"]
