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

import gc
import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType

from vaultmap.model import (
    DEFAULT_STATUS_MAP,
    Flavor,
    Note,
    StatusMap,
    StatusType,
    Task,
    TaskFields,
    key_hasher,
    key_prefix,
    keyed_hash,
    new_heading,
    new_task,
    normalise_text,
)
from vaultmap.parse.blocks import RawTask, scan
from vaultmap.parse.fields import parse_task_text
from vaultmap.parse.regions import MARKER, ReportRegion, hide_regions, report_regions

_BOM = b"\xef\xbb\xbf"
_EOL = re.compile(rb"\r\n|\r|\n")
# A front-matter fence: exactly three dashes, optional trailing blanks (Obsidian's rule).
_FM_FENCE = re.compile(rb"---[ \t]*")
_FM_END = _FM_FENCE
# "[" one character (1-4 bytes) "]": with a list marker and blanks before it (checked by
# hand, so the regex starts with a literal and runs at memchr speed), a superset of every
# task line in both flavours. A note without one needs no block parse at all.
_BOX = re.compile(rb"\[[^\]\r\n]{1,4}\]")
_TAG_SPLIT = re.compile(r"[,\s]+")
# The YAML loader is made on the first note with front matter: importing PyYAML costs about
# 40 ms, which a process that parses one note (the git merge driver) need not pay otherwise.
_yaml_loader: Callable[[str], object] | None = None


def _load_yaml(text: str) -> object:
    global _yaml_loader
    if _yaml_loader is None:
        from frontmatter.default_handlers import YAMLHandler

        _yaml_loader = YAMLHandler().load
    return _yaml_loader(text)


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


def _line_start(data: bytes, pos: int, floor: int) -> int:
    return max(data.rfind(b"\n", floor, pos), data.rfind(b"\r", floor, pos), floor - 1) + 1


def _line_end(data: bytes, pos: int) -> int:
    ends = [i for i in (data.find(b"\n", pos), data.find(b"\r", pos)) if i >= 0]
    return min(ends) if ends else len(data)


def _candidates(data: bytes, body: int) -> Iterator[int]:
    """Positions of ``[c]`` boxes right after a list marker and blanks (literal-led search)."""
    for box in _BOX.finditer(data, body):
        pos = box.start()
        j = pos - 1
        while j >= body and data[j] in (32, 9):
            j -= 1
        if j == pos - 1 or j < body:
            continue
        marker = data[j]
        if marker in (45, 42, 43) or (marker in (46, 41) and j > body and 48 <= data[j - 1] <= 57):
            yield pos


def _fence_lines(data: bytes, body: int) -> list[tuple[int, int, int, bytes, bytes]]:
    """``(start, end, indent, run, rest)`` of each line opening with 0-3 spaces + a fence run."""
    lines: list[tuple[int, int, int, bytes, bytes]] = []
    for needle in (b"```", b"~~~"):
        pos = data.find(needle, body)
        while pos >= 0:
            start = _line_start(data, pos, body)
            end = _line_end(data, pos)
            indent = pos - start
            if indent <= 3 and data[start:pos] == b" " * indent:
                run_end = pos
                while run_end < end and data[run_end] == needle[0]:
                    run_end += 1
                lines.append((start, end, indent, data[pos:run_end], data[run_end:end]))
            pos = data.find(needle, end)
    lines.sort()
    return lines


def _no_task_possible(data: bytes, body: int) -> bool:
    """True when no line from ``body`` on can be a task, without a block parse.

    Either no line looks like a task at all, or every such line sits inside a fenced code
    block opened at column 0 (notes quote task syntax in code a lot). The fence check is
    conservative: an indented fence or any HTML block start makes it answer False, since
    those could change which lines are code. Only literal searches run over the whole
    note, so this costs a small fraction of a parse.
    """
    found = _candidates(data, body)
    first = next(found, None)
    if first is None:
        return True
    if data.find(b"```", body, first) < 0 and data.find(b"~~~", body, first) < 0:
        return False  # no fence opens before the first task-like line: it is not in one
    candidates = [first, *found]
    lt = data.find(b"<", body)
    while lt >= 0:
        start = _line_start(data, lt, body)
        if lt - start <= 3 and data[start:lt] == b" " * (lt - start):
            return False  # an HTML block may start here
        lt = data.find(b"<", lt + 1)
    regions: list[tuple[int, int]] = []
    opened: tuple[int, int, int] | None = None  # fence byte, length, content start
    for start, end, indent, run, rest in _fence_lines(data, body):
        if opened is None:
            if indent:
                return False  # might belong to a list item: only the full parse knows
            if run[0] == 0x60 and b"`" in rest:
                continue  # not a fence: a backtick info string cannot hold a backtick
            opened = (run[0], len(run), end)
        elif run[0] == opened[0] and len(run) >= opened[1] and not rest.strip(b" \t"):
            regions.append((opened[2], start))
            opened = None
    if opened is not None:
        regions.append((opened[2], len(data)))
    index = 0
    for position in candidates:
        while index < len(regions) and regions[index][1] <= position:
            index += 1
        if index == len(regions) or not regions[index][0] < position:
            return False
    return True


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
        loaded = _load_yaml(text)
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


class ParseCache:
    """What the parses of several versions of one note can share: each task text's fields,
    each description's normalised form and each task key (all pure functions of their
    inputs, so a parse gives the same note with or without the cache). The git merge parses
    three or four versions that hold mostly the same task lines."""

    __slots__ = ("fields", "keys", "normalised")

    def __init__(self) -> None:
        self.fields: dict[str, TaskFields] = {}
        self.normalised: dict[str, str] = {}
        self.keys: dict[tuple[str, tuple[str, ...], str, int], str] = {}


def _build_tasks(raws: list[RawTask], data: bytes, path: str, encoding: str,
                 statuses: StatusMap, warnings: list[str],
                 repair: Mapping[str, str] | None = None,
                 cache: ParseCache | None = None) -> tuple[Task, ...]:
    """The model tasks for the scanner's raw ones (the hot loop of a task-dense note).

    Equal to building each with ``Task(...)`` and ``task_key(...)``: the key's shared part is
    hashed once per section, a description is normalised once (for its ordinal and its key),
    and a one-byte status is decoded and typed once per note.

    ``repair`` is the note's mojibake repair plan (None for a clean note). A damaged note's
    tasks carry their repaired text, and their keys hash the repaired description and section:
    the text a person reads, so ``doctor --fix`` (which writes exactly that text into the note)
    leaves every key as it was (docs/mojibake.md).
    """
    repaired_sections: dict[tuple[str, ...], tuple[str, ...] | None] = {}
    codec = "utf-8" if encoding == "utf-8-sig" else encoding
    tasks: list[Task] = []
    seen: dict[tuple[tuple[str, ...], str], int] = {}
    hashers: dict[tuple[str, ...], hashlib.blake2b] = {}
    one_byte: dict[int, tuple[str, StatusType]] = {}  # status byte -> (status, type)
    for raw in raws:
        if raw.cancelled:
            continue
        offset = raw.status_offset
        status_len = raw.status_len
        if status_len == 1:
            known = one_byte.get(data[offset])
            if known is None:
                status = data[offset:offset + 1].decode(codec, "replace")
                known = one_byte[data[offset]] = (status, statuses.type_of(status))
            status, status_type = known
        else:
            status = data[offset:offset + status_len].decode(codec, "replace")
            status_type = statuses.type_of(status)
        text = data[raw.text_start:raw.text_end].decode(codec, "replace")
        cached = None if cache is None else cache.fields.get(text)
        if cached is not None:
            fields = cached
        else:
            try:
                fields = parse_task_text(text)
                if cache is not None:
                    cache.fields[text] = fields
            except Exception as exc:  # one odd task line must not cost the note
                fields = TaskFields(description=text.strip())
                warnings.append(f"line {raw.line}: could not read the task's fields "
                                f"({type(exc).__name__}); its text is kept as written")
        section = raw.section
        repaired_text = repaired_description = repaired_section = None
        key_section = section
        description = fields.description
        if repair is not None:
            repaired_text, repaired_description, repaired_section = _repaired(
                repair, text, description, section, repaired_sections)
            if repaired_description is not None:
                description = repaired_description
            if repaired_section is not None:
                key_section = repaired_section
        known_normalised = None if cache is None else cache.normalised.get(description)
        if known_normalised is not None:
            normalised = known_normalised
        else:
            normalised = normalise_text(description)
            if cache is not None:
                cache.normalised[description] = normalised
        identity = (key_section, normalised)
        ordinal = seen.get(identity, 0)
        seen[identity] = ordinal + 1
        if fields.id:
            key = f"id:{fields.id}"
        elif fields.block_id:
            key = f"block:{path}#^{fields.block_id}"
        else:
            place = (path, key_section, normalised, ordinal)
            known_key = None if cache is None else cache.keys.get(place)
            if known_key is not None:
                key = known_key
            else:
                hasher = hashers.get(key_section)
                if hasher is None:
                    hasher = hashers[key_section] = key_hasher(key_prefix(path, key_section))
                key = keyed_hash(hasher, normalised, ordinal)
                if cache is not None:
                    cache.keys[place] = key
        if repair is None:
            tasks.append(new_task(path, raw.line, offset, status, status_type, text, fields,
                                  section, raw.depth, raw.parent_line, key, status_len,
                                  raw.in_quote))
        else:
            tasks.append(new_task(path, raw.line, offset, status, status_type, text, fields,
                                  section, raw.depth, raw.parent_line, key, status_len,
                                  raw.in_quote, repaired_text, repaired_description,
                                  repaired_section))
    return tuple(tasks)


def _repaired(repair: Mapping[str, str], text: str, description: str,
              section: tuple[str, ...],
              sections: dict[tuple[str, ...], tuple[str, ...] | None],
              ) -> tuple[str | None, str | None, tuple[str, ...] | None]:
    """A task's repaired text, description and section (each None where nothing changed).

    The description is read again from the repaired text, exactly as it will be read from
    the note once ``doctor --fix`` has written that text: repairing the description itself
    could differ where its trimming cut a damaged run (a no-break space is byte 0xA0).
    """
    from vaultmap.parse.mojibake import apply_plan  # loaded already: the plan came from it

    fixed_text = apply_plan(text, repair)
    fixed_description = description
    if fixed_text != text:
        try:
            fixed_description = parse_task_text(fixed_text).description
        except Exception:  # as for the raw text: one odd line keeps its text as written
            fixed_description = fixed_text.strip()
    if section in sections:
        fixed_section = sections[section]
    else:
        candidate = tuple(apply_plan(title, repair) for title in section)
        fixed_section = sections[section] = candidate if candidate != section else None
    return (fixed_text if fixed_text != text else None,
            fixed_description if fixed_description != description else None,
            fixed_section)


def parse_note(
    data: bytes,
    path: str,
    *,
    flavor: Flavor = Flavor.OBSIDIAN,
    statuses: StatusMap = DEFAULT_STATUS_MAP,
    cache: ParseCache | None = None,
) -> Note:
    """Parse one note's bytes into a :class:`~vaultmap.model.Note` with exact task positions.

    Never raises on bad input: malformed front matter, undecodable bytes or pathological
    nesting give a ``Note.warnings`` entry and as much of the note as can be read safely.
    A note with no line that could hold a task (outside fenced code) is not block-parsed at
    all (the common case in a vault, and the reason a scan is fast): it has no tasks, and its
    ``headings`` are left empty since no task hangs under them.
    Each task satisfies ``data[t.offset - 1:t.offset] == b"["`` and
    ``data[t.offset + t.status_len:t.offset + t.status_len + 1] == b"]"``.

    ``cache`` (a :class:`ParseCache`) may be shared by the parses of several versions of one
    note, which hold mostly the same task lines (the git merge parses three or four): a line
    read once is not read again. The result is the same with or without it.
    """
    # The cyclic collector is paused while one note is parsed: a task-dense note allocates
    # thousands of objects that form no cycles, and the collections they trigger would
    # rescan them again and again (15% of a dense vault's parse time). Any garbage is
    # collected once it is back on; a caller that paused it keeps it paused.
    if not gc.isenabled():
        return _parse_note(data, path, flavor, statuses, cache)
    gc.disable()
    try:
        return _parse_note(data, path, flavor, statuses, cache)
    finally:
        gc.enable()


def mojibake_plan(data: bytes, encoding: str) -> Mapping[str, str] | None:
    """The note's display repair plan (parse/mojibake.py), or None for a clean note.

    Pure ASCII is clean without a look; other notes are decoded once and searched for the
    shape of mojibake, and only a note that has it pays for the repair itself.
    """
    if data.isascii():
        return None
    # Imported here: a vault of ASCII notes never needs the repair's tables.
    from vaultmap.parse.mojibake import might_be_damaged, repair_plan

    text = data.decode("utf-8" if encoding == "utf-8-sig" else encoding, "replace")
    if not might_be_damaged(text):
        return None
    return repair_plan(text)


def _parse_note(data: bytes, path: str, flavor: Flavor, statuses: StatusMap,
                cache: ParseCache | None = None) -> Note:
    warnings: list[str] = []
    encoding = detect_encoding(data)
    decode = _decoder(encoding)
    repair = mojibake_plan(data, encoding)
    mojibake = 0
    if repair is not None:
        from vaultmap.parse.mojibake import damaged_spans  # loaded by mojibake_plan

        text = data.decode("utf-8" if encoding == "utf-8-sig" else encoding, "replace")
        mojibake = len(damaged_spans(text, repair))
    lines: list[tuple[int, int]] | None = None

    frontmatter: Mapping[str, object] = MappingProxyType({})
    note_tags: tuple[str, ...] = ()
    skip = 0
    body = 0
    if data.startswith(b"---", 3 if data.startswith(_BOM) else 0):
        lines = split_lines(data)
        skip = _front_matter_end(data, lines)
        if skip:
            fm_start = lines[1][0]
            body = lines[skip - 1][0]
            frontmatter, note_tags = _read_front_matter(decode(data[fm_start:body]), warnings)
            body = lines[skip][0] if skip < len(lines) else len(data)

    obsidian = flavor is Flavor.OBSIDIAN
    dashboards = 0
    if data.find(MARKER) >= 0:
        # A report region reads as blank lines: what the report wrote there is not the
        # note's (no tasks, no headings), and its absence or presence moves no key.
        if lines is None:
            lines = split_lines(data)
        regions = report_regions(data, lines, skip)
        if regions:
            dashboards = len(regions)
            lines = hide_regions(lines, regions)
    if _no_task_possible(data, body):
        return Note(path=path, tags=note_tags, frontmatter=frontmatter,
                    warnings=tuple(warnings), encoding=encoding, size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(), mojibake=mojibake,
                    dashboards=dashboards)
    if lines is None:
        lines = split_lines(data)
    try:
        result = scan(data, lines[skip:], skip + 1, obsidian=obsidian, decode=decode)
    except Exception as exc:  # a parser bug must cost one note, never the whole vault
        warnings.append(f"could not parse the Markdown structure ({type(exc).__name__}); "
                        "no tasks were read")
        return Note(path=path, tags=note_tags, frontmatter=frontmatter,
                    warnings=tuple(warnings), encoding=encoding, size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(), mojibake=mojibake,
                    dashboards=dashboards)
    if result.warning:
        warnings.append(result.warning)

    tasks = _build_tasks(result.tasks, data, path, encoding, statuses, warnings, repair,
                         cache)
    if repair is None:
        headings = tuple([new_heading(h.level, h.display, h.line) for h in result.headings])
    else:
        headings = tuple([new_heading(h.level, h.display, h.line, _changed(h.display, repair))
                          for h in result.headings])
    return Note(
        path=path,
        tasks=tasks,
        headings=headings,
        tags=note_tags,
        frontmatter=frontmatter,
        warnings=tuple(warnings),
        encoding=encoding,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        mojibake=mojibake,
        dashboards=dashboards,
    )


def note_report_regions(data: bytes) -> tuple[list[tuple[int, int]], list[ReportRegion]]:
    """A note's line spans and its report regions, found exactly as :func:`parse_note` finds
    them (after front matter): what the dashboard writer fills is what the parser hides."""
    if data.find(MARKER) < 0:
        return [], []
    lines = split_lines(data)
    skip = 0
    if data.startswith(b"---", 3 if data.startswith(_BOM) else 0):
        skip = _front_matter_end(data, lines)
    return lines, report_regions(data, lines, skip)


def _changed(text: str, repair: Mapping[str, str]) -> str | None:
    from vaultmap.parse.mojibake import apply_plan  # loaded by mojibake_plan

    fixed = apply_plan(text, repair)
    return fixed if fixed != text else None


__all__ = ["ParseCache", "detect_encoding", "mojibake_plan", "note_report_regions",
           "parse_note", "split_lines"]
