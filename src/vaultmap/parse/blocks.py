"""CommonMark block structure over raw bytes, reduced to what task lists need.

This is a line-by-line port of the block phase of cmark / cmark-gfm (``blocks.c``: open-block
matching, new-block starts, lazy continuation), the same algorithm the CommonMark spec
describes in "Phase 1: block structure". It works on the file's bytes, so every position it
reports is a byte offset into the file; all Markdown structure characters are ASCII, so text
in any encoding (UTF-8, cp1252, stray bytes) passes through untouched.

It keeps no document tree: only the stack of open blocks, and it records just three things:
task candidates (a list item whose first block is a paragraph starting with ``[c]`` on the
marker line), top-level headings (ATX and setext), and the nesting of list items and block
quotes around each task. GFM tables are recognised (a table is not a paragraph), link
reference definitions never become setext headings, and the Obsidian flavour adds any status
character, empty ``[ ]`` boxes, callout header lines and the ``%% … %%`` / ``$$ … $$``
exclusions. There is no recursion, so nesting depth cannot exhaust the Python stack; it is
capped at :data:`MAX_DEPTH` open blocks to keep pathological input linear.

Speed: lines that only lists enclose (no quotes, no tabs in the indent) take a fast path
with column arithmetic; everything else goes through the faithful port in
:meth:`_Scanner.process_line`. ``tests/test_parse_oracle.py`` holds both to cmark-gfm.
Where cmark-gfm's tasklist extension deviates from the spec (documented there, one test
each), this scanner follows the spec.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

DOC, QUOTE, LIST, ITEM, PARA, FENCE, ICODE, HTML, HEADING, TABLE = range(10)

#: Open blocks deeper than this stop the scan with a warning (real notes stay under ~20).
MAX_DEPTH = 120

_TAB, _SPACE, _LF = 9, 32, 10
_GT, _HASH, _LBRACKET, _RBRACKET = 62, 35, 91, 93
_BACKTICK, _TILDE, _LT, _PIPE = 96, 126, 60, 124

# Bytes that may begin a block (after up to 3 spaces); a line starting with anything else
# at column 0 is plain paragraph text.
_PLAIN_START_SET = frozenset(set(range(256)) - set(b" \t\r\n\v\f>#`~<=-*_+0123456789"))

_ATX = re.compile(rb"#{1,6}(?:[ \t]|$)")
_SETEXT = re.compile(rb"(?:=+|-+)[ \t]*$")
_FENCE_OPEN = re.compile(rb"(?:`{3,}(?=[^`]*$)|~{3,})")
_HTML_BLOCK_TAGS = (
    b"address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|"
    b"details|dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|"
    b"h1|h2|h3|h4|h5|h6|head|header|hr|html|iframe|legend|li|link|main|menu|menuitem|nav|"
    b"noframes|ol|optgroup|option|p|param|section|source|summary|table|tbody|td|tfoot|th|"
    b"thead|title|tr|track|ul"
)
_HTML_START_1_6 = re.compile(
    rb"<(?:(?P<t1>(?i:script|pre|style|textarea)(?:[ \t\v\f>]|$))"
    rb"|(?P<t2>!--)|(?P<t3>\?)|(?P<t4>![A-Z])|(?P<t5>!\[CDATA\[)"
    rb"|(?P<t6>/?(?i:" + _HTML_BLOCK_TAGS + rb")(?:[ \t\v\f]|/?>|$)))"
)
_ATTRIBUTE = (
    rb"(?:[ \t\v\f]+[A-Za-z_:][A-Za-z0-9_.:-]*"
    rb"(?:[ \t\v\f]*=[ \t\v\f]*(?:[^ \t\v\f\"'=<>`\x00]+|'[^']*'|\"[^\"]*\"))?)"
)
_HTML_START_7 = re.compile(
    rb"(?:<[A-Za-z][A-Za-z0-9-]*" + _ATTRIBUTE + rb"*[ \t\v\f]*/?>"
    rb"|</[A-Za-z][A-Za-z0-9-]*[ \t\v\f]*>)[ \t\v\f]*$"
)
_HTML_END = {
    1: re.compile(rb"</(?:script|pre|style|textarea)>", re.IGNORECASE),
    2: re.compile(rb"-->"),
    3: re.compile(rb"\?>"),
    4: re.compile(rb">"),
    5: re.compile(rb"\]\]>"),
}
# Leading spaces, then an optional list marker followed by 1-4 spaces and content.
_SIMPLE_LINE = re.compile(rb"( *)(?:([-*+]|[0-9]{1,9}[.)])( {1,4})(?=[^ \t]))?")
_TABLE_DELIMITER_START = frozenset(b"|:-")
_TABLE_DELIMITER = re.compile(
    rb"\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$"
)
_UNESCAPED_PIPE = re.compile(rb"(?<!\\)\|")
# A link reference definition on one line (the common form; no title on a second line).
_REF_DEF = re.compile(
    rb"\[(?=[^\]]*[^\]\s])(?:[^\[\]\\]|\\.){1,999}\]:[ \t]*(?:<[^<>\r\n]*>|[^\s<]\S*)"
    rb"(?:[ \t]+(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|\((?:[^()\\]|\\.)*\)))?[ \t]*"
)
_CALLOUT = re.compile(rb"\[![^\]\r\n]+\][-+]?(?:[ \t]|$)")
_FENCE_RUNS = {_BACKTICK: b"```", _TILDE: b"~~~"}
# Obsidian comment and math delimiters; a code span on the line is skipped as a whole.
_OBSIDIAN_HIDE = re.compile(rb"(`+)[^`].*?(?<!`)\1(?!`)|%%|\$\$")
# Status bytes a task may have that are one whole character in any encoding we decode.
_OBSIDIAN_ASCII_STATUS = frozenset(range(0x80)) - {_RBRACKET}
_GFM_STATUS = frozenset(b" xX")
_UTF8_LEN = [1] * 0xC2 + [2] * (0xE0 - 0xC2) + [3] * 16 + [4] * 5 + [1] * 11


@dataclass(slots=True)
class RawTask:
    """A task found by the scanner, in bytes; the package turns it into a model Task."""

    line: int
    status_offset: int
    status_len: int
    text_start: int
    text_end: int
    depth: int
    parent_line: int | None
    in_quote: bool
    section: tuple[str, ...]
    cancelled: bool = False


@dataclass(slots=True)
class RawHeading:
    level: int
    text: bytes
    line: int
    display: str = ""  # ``text`` decoded (the scan's ``decode``)


@dataclass(slots=True)
class ScanResult:
    tasks: list[RawTask] = field(default_factory=list)
    headings: list[RawHeading] = field(default_factory=list)
    warning: str | None = None


class _Block:
    """An open block. Rarely used fields are class defaults: most blocks only set two."""

    # Absolute column where the block's content starts while only lists enclose it (no
    # quotes, no literal blocks); -1 otherwise. Lets common lines skip the generic
    # per-container matching (see _Scanner.run).
    base = -1
    has_child = False
    marker_offset = 0
    padding = 0
    list_sig = 0
    fence_char = 0
    fence_len = 0
    fence_offset = 0
    html_type = 0
    last = 0  # paragraph: where its last line's content starts (a table header candidate)
    table_tried = False  # paragraph: a delimiter row did not match it (cmark-gfm: no retry)
    task: RawTask | None = None
    depth = -1  # list item: how many list items enclose it (a task's RawTask.depth)

    def __init__(self, kind: int, line: int) -> None:
        self.kind = kind
        self.line = line


def _can_contain(parent: int, child: int) -> bool:
    if parent == LIST:
        return child == ITEM
    if parent in (DOC, QUOTE, ITEM):
        return child != ITEM
    return False


def _thematic_break(data: bytes, pos: int, end: int) -> bool:
    char = data[pos]
    if char not in (42, 45, 95):  # * - _
        return False
    count = 0
    for i in range(pos, end):
        c = data[i]
        if c == char:
            count += 1
        elif c != _SPACE and c != _TAB:
            return False
    return count >= 3


def _cells(data: bytes, start: int, end: int) -> int:
    """Cells of a GFM table row: unescaped pipes split, outer pipes are optional."""
    row = data[start:end].strip(b" \t")
    if row.startswith(b"|"):
        row = row[1:]
    if row.endswith(b"|") and not row.endswith(b"\\|"):
        row = row[:-1]
    return len(_UNESCAPED_PIPE.findall(row)) + 1


def _chop_heading(data: bytes, start: int, end: int) -> bytes:
    """ATX heading content: cmark's chop_trailing_hashtags applied to the whole line."""
    line_end = end
    while line_end > start and data[line_end - 1] in (_SPACE, _TAB):
        line_end -= 1
    n = line_end - 1
    while n >= start and data[n] == _HASH:
        n -= 1
    if n != line_end - 1 and n >= start and data[n] in (_SPACE, _TAB):
        line_end = n
    elif n != line_end - 1 and n < start:
        line_end = start
    return data[start:line_end].strip(b" \t")


def status_length(data: bytes, pos: int, end: int) -> int:
    """Bytes taken by the one character at ``pos``: a UTF-8 sequence, or one stray byte."""
    size = _UTF8_LEN[data[pos]] if data[pos] >= 0x80 else 1
    if size > 1:
        if pos + size > end:
            return 1
        for i in range(pos + 1, pos + size):
            if not 0x80 <= data[i] <= 0xBF:
                return 1
        try:
            data[pos:pos + size].decode("utf-8")
        except UnicodeDecodeError:
            return 1
    return size


def scan(
    data: bytes,
    lines: list[tuple[int, int]],
    first_line: int,
    *,
    obsidian: bool,
    decode: Callable[[bytes], str],
    fast: bool = True,
) -> ScanResult:
    """Run the block phase over ``lines`` (``(start, end)`` byte spans, end excluding the EOL).

    ``first_line`` is the 1-based number of ``lines[0]`` (front matter is skipped by the
    caller). ``obsidian`` enables any status character, empty ``[ ]`` tasks and the
    ``%% … %%`` / ``$$ … $$`` exclusions. ``decode`` turns heading bytes into display text.
    ``fast=False`` sends every line through the faithful port (for tests: same answers).
    """
    scanner = _Scanner(data, obsidian, decode)
    scanner.fast = fast
    return scanner.run(lines, first_line)


class _Scanner:
    """One document's block phase. Per-line state lives in attributes, as in cmark's parser."""

    def __init__(self, data: bytes, obsidian: bool, decode: Callable[[bytes], str]) -> None:
        self.data = data
        self.obsidian = obsidian
        self.decode = decode
        self.result = ScanResult()
        self.section_stack: list[tuple[int, str]] = []
        self.section: tuple[str, ...] = ()
        self.stack: list[_Block] = [_Block(DOC, 0)]
        self.stack[0].base = 0
        self.lines: list[tuple[int, int]] = []
        self.first_line = 1
        self.track_hidden = obsidian and (b"%%" in data or b"$$" in data)
        self.hidden_comment = False
        self.hidden_math = False
        # per-line state (cmark: offset, column, partially_consumed_tab)
        self.lineno = 0
        self.end = 0
        self.offset = 0
        self.column = 0
        self.partial_tab = False
        self.fast = True

    # -- the obsidian exclusions and headings ------------------------------------------------
    def toggle_hidden(self, start: int, end: int) -> None:
        for m in _OBSIDIAN_HIDE.finditer(self.data, start, end):
            if m.group(1) is not None:
                continue
            if m.group() == b"%%":
                if not self.hidden_math:
                    self.hidden_comment = not self.hidden_comment
            elif not self.hidden_comment:
                self.hidden_math = not self.hidden_math

    def add_heading(self, level: int, raw: bytes, line: int) -> None:
        if self.hidden_comment or self.hidden_math:
            return
        text = self.decode(raw)
        self.result.headings.append(RawHeading(level, raw, line, text))
        stack = self.section_stack
        while stack and stack[-1][0] >= level:
            stack.pop()
        stack.append((level, text))
        self.section = tuple([t for _, t in stack])

    # -- cmark's S_find_first_nonspace / S_advance_offset -------------------------------------
    def first_nonspace(self) -> tuple[int, int]:
        data = self.data
        end = self.end
        pos = self.offset
        col = self.column
        to_tab = 4 - col % 4
        while pos < end:
            c = data[pos]
            if c == _SPACE:
                pos += 1
                col += 1
                to_tab -= 1
                if to_tab == 0:
                    to_tab = 4
            elif c == _TAB:
                pos += 1
                col += to_tab
                to_tab = 4
            else:
                break
        return pos, col - self.column

    def advance(self, count: int, columns: bool) -> None:
        data = self.data
        end = self.end
        offset = self.offset
        column = self.column
        partial_tab = self.partial_tab
        while count > 0 and offset < end:
            if data[offset] == _TAB:
                to_tab = 4 - column % 4
                if columns:
                    partial_tab = to_tab > count
                    step = min(count, to_tab)
                    column += step
                    if not partial_tab:
                        offset += 1
                    count -= step
                else:
                    partial_tab = False
                    column += to_tab
                    offset += 1
                    count -= 1
            else:
                partial_tab = False
                offset += 1
                column += 1
                count -= 1
        self.offset = offset
        self.column = column
        self.partial_tab = partial_tab

    def open_block(self, kind: int, parent_index: int) -> _Block:
        """cmark's add_child: close what is below the parent, back up until it fits."""
        stack = self.stack
        del stack[parent_index + 1:]
        while not _can_contain(stack[-1].kind, kind):
            stack.pop()
        parent = stack[-1]
        parent.has_child = True
        child = _Block(kind, self.lineno)
        if kind in (LIST, PARA, ITEM):
            child.base = parent.base
        stack.append(child)
        return child

    # -- the document ------------------------------------------------------------------------
    def run(self, lines: list[tuple[int, int]], first_line: int) -> ScanResult:
        """Feed every line; common lines take the fast path inlined here."""
        self.lines = lines
        self.first_line = first_line
        data = self.data
        stack = self.stack
        bom = data.startswith(b"\xef\xbb\xbf")
        plain = _PLAIN_START_SET
        simple_match = _SIMPLE_LINE.match
        track_hidden = self.track_hidden
        tasks_append = self.result.tasks.append
        # A one-byte status the inlined task check below accepts (others: task_candidate).
        status_bytes = _OBSIDIAN_ASCII_STATUS if self.obsidian else _GFM_STATUS
        fast = self.fast
        lineno = first_line - 1
        for s, e in lines:
            lineno += 1
            tip = stack[-1]
            if not fast:
                pass
            elif tip.kind == FENCE and len(stack) == 2:
                # Top-level fenced code: a line without the fence run near its start cannot
                # close the fence, so it is just code.
                run = _FENCE_RUNS[tip.fence_char]
                at = data.find(run, s, min(e, s + 6))
                if at < 0:
                    continue
                # cmark's closing fence: 0-3 spaces, a run at least as long as the opening
                # one, then only blanks. Any other line is code.
                if at - s <= 3 and data[s:at] == b"    "[:at - s]:
                    end_of_run = at + 3
                    while end_of_run < e and data[end_of_run] == tip.fence_char:
                        end_of_run += 1
                    if end_of_run - at >= tip.fence_len and not data[end_of_run:e].strip(b" \t"):
                        del stack[1:]
                continue
            elif tip.kind == TABLE and len(stack) == 2 and s < e and data[s] in plain:
                continue  # a row of a top-level table: text at column 0 starts no block
            if fast and s == e and tip.base < 0 and len(stack) < MAX_DEPTH:
                # An empty line inside quotes, tables, code or HTML: it opens nothing, and
                # every open block it cannot continue is closed (process_line's matching).
                for index in range(1, len(stack)):
                    block = stack[index]
                    kind = block.kind
                    if kind in (PARA, QUOTE, TABLE, HEADING) or (
                        kind == ITEM and not block.has_child
                    ) or (kind == HTML and block.html_type >= 6):
                        del stack[index:]
                        break
                continue
            # Fast path. While only lists enclose the tip (its base is known) and the line
            # has no tab in its indent, a blank line, a plain text line or a list item whose
            # content starts with plain text or "[" is handled here with column arithmetic,
            # exactly as process_line would (the differential tests hold both to cmark-gfm).
            if fast and tip.base >= 0 and (s or not bom):
                if s == e:
                    depth = len(stack)
                    for index in range(1, depth):
                        block = stack[index]
                        if block.kind == PARA or (block.kind == ITEM and not block.has_child):
                            del stack[index:]
                            break
                    continue
                if data[s] == _HASH and (atx := _ATX.match(data, s, e)) is not None:
                    # An ATX heading at column 0 closes every list: a top-level section.
                    del stack[1:]
                    stack[0].has_child = True
                    level = len(atx.group().rstrip(b" \t"))
                    self.add_heading(level, _chop_heading(data, atx.end(), e), lineno)
                    if track_hidden:
                        self.toggle_hidden(atx.end(), e)
                    continue
                if (
                    data[s] in _FENCE_RUNS and len(stack) < MAX_DEPTH
                    and (fence_open := _FENCE_OPEN.match(data, s, e)) is not None
                ):
                    # A fence at column 0 closes every list (and interrupts a paragraph).
                    del stack[1:]
                    stack[0].has_child = True
                    fence = _Block(FENCE, lineno)
                    fence.fence_char = data[s]
                    fence.fence_len = fence_open.end() - s
                    stack.append(fence)
                    continue
                m = simple_match(data, s, e)
                content = m.end()  # type: ignore[union-attr]  # every part is optional
                if content < e and data[content] in plain:
                    fns = m.end(1)  # type: ignore[union-attr]
                    ws = fns - s
                    depth = len(stack)
                    matched = depth - 1
                    for index in range(1, depth):
                        block = stack[index]
                        if block.kind == ITEM and ws < block.base:
                            matched = index - 1
                            break
                    container = stack[matched]
                    rel = ws - container.base
                    marker_end = m.end(2)  # type: ignore[union-attr]
                    if marker_end < 0:
                        if tip.kind == PARA:
                            # plain text: (lazy) continuation, unless it may be the
                            # delimiter row of a table (then process_line decides)
                            if data[fns] not in _TABLE_DELIMITER_START:
                                tip.last = fns
                                if track_hidden:
                                    self.toggle_hidden(fns, e)
                                continue
                            if len(stack) == 2 and fns == s and data[s] == _PIPE:
                                # Under a top-level paragraph, a line starting with '|' is a
                                # table's delimiter row or more paragraph text.
                                self.lineno = lineno
                                self.end = e
                                if self.table_header(tip, s):
                                    if tip.line == lineno - 1 and tip.task is not None:
                                        tip.task.cancelled = True
                                    del stack[1:]
                                    stack[0].has_child = True
                                    stack.append(_Block(TABLE, lineno))
                                else:
                                    tip.last = s
                                    if track_hidden:
                                        self.toggle_hidden(s, e)
                                continue
                        elif rel < 4:
                            del stack[matched + 1:]
                            if container.kind == LIST:
                                stack.pop()
                                container = stack[-1]
                            container.has_child = True
                            para = _Block(PARA, lineno)
                            para.base = container.base
                            para.last = fns
                            stack.append(para)
                            if track_hidden:
                                self.toggle_hidden(fns, e)
                            continue
                    elif rel < 4 and depth < MAX_DEPTH - 4:
                        last = data[marker_end - 1]
                        ordered = last == 46 or last == 41  # . )
                        if (
                            ordered and container.kind == PARA
                            and int(data[fns:marker_end - 1]) != 1
                        ):
                            # only "1." may interrupt a paragraph: this is text
                            container.last = fns
                            if track_hidden:
                                self.toggle_hidden(fns, e)
                            continue
                        sig = 1000 + last if ordered else last
                        del stack[matched + 1:]
                        if container.kind == PARA:
                            stack.pop()
                            container = stack[-1]
                        if container.kind != LIST or container.list_sig != sig:
                            if container.kind == LIST:
                                stack.pop()
                                container = stack[-1]
                            container.has_child = True
                            new_list = _Block(LIST, lineno)
                            new_list.base = container.base
                            new_list.list_sig = sig
                            stack.append(new_list)
                        padding = content - fns
                        item = _Block(ITEM, lineno)
                        item.base = ws + padding
                        item.marker_offset = rel
                        item.padding = padding
                        item.list_sig = sig
                        item.has_child = True
                        # Only lists enclose this line: the stack is DOC, then LIST + ITEM
                        # pairs, so the list just matched sits on its enclosing item (or DOC).
                        outer = stack[-2]
                        item.depth = outer.depth + 1 if outer.kind == ITEM else 0
                        para = _Block(PARA, lineno)
                        para.base = item.base
                        para.last = content
                        stack.append(item)
                        stack.append(para)
                        if data[content] == _LBRACKET:
                            after = content + 3  # "[c]" and then a blank: the common task
                            if (
                                after < e and data[content + 1] in status_bytes
                                and data[after - 1] == _RBRACKET and data[after] in (_SPACE, _TAB)
                                and not (track_hidden
                                         and (self.hidden_comment or self.hidden_math))
                            ):
                                task = RawTask(lineno, content + 1, 1, after + 1, e, item.depth,
                                               outer.line if outer.kind == ITEM else None,
                                               False, self.section)
                                para.task = task
                                tasks_append(task)
                            else:
                                self.lineno = lineno
                                self.end = e
                                self.task_candidate(para, content)
                        if track_hidden:
                            self.toggle_hidden(content, e)
                        continue
            self.lineno = lineno
            self.end = e
            self.offset = 3 if (s == 0 and bom) else s
            self.column = 0
            self.partial_tab = False
            if not self.process_line():
                self.result.warning = (
                    f"nesting deeper than {MAX_DEPTH} blocks at line {lineno}; "
                    "the rest of the note was not read"
                )
                break
        return self.result

    def process_line(self) -> bool:
        """cmark's S_process_line for one line; False when the nesting cap is hit."""
        data = self.data
        stack = self.stack
        e = self.end
        lineno = self.lineno

        # --- 1. match the open blocks (check_open_blocks)
        matched_index = len(stack) - 1
        for index in range(1, len(stack)):
            block = stack[index]
            kind = block.kind
            fns, indent = self.first_nonspace()
            blank = fns >= e
            ok = True
            if kind == QUOTE:
                if indent <= 3 and not blank and data[fns] == _GT:
                    self.advance(indent + 1, True)
                    if self.offset < e and data[self.offset] in (_SPACE, _TAB):
                        self.advance(1, True)
                else:
                    ok = False
            elif kind == ITEM:
                if indent >= block.marker_offset + block.padding:
                    self.advance(block.marker_offset + block.padding, True)
                elif blank and block.has_child:
                    self.advance(fns - self.offset, False)
                else:
                    ok = False
            elif kind == FENCE:
                closing = 0
                if indent <= 3 and not blank and data[fns] == block.fence_char:
                    pos = fns
                    while pos < e and data[pos] == block.fence_char:
                        pos += 1
                    run = pos - fns
                    while pos < e and data[pos] in (_SPACE, _TAB):
                        pos += 1
                    if pos >= e and run >= 3:
                        closing = run
                if closing >= block.fence_len:
                    del stack[index:]
                    return True
                skip = block.fence_offset
                while skip > 0 and self.offset < e and data[self.offset] in (_SPACE, _TAB):
                    self.advance(1, True)
                    skip -= 1
            elif kind == ICODE:
                if indent >= 4:
                    self.advance(4, True)
                elif blank:
                    self.advance(fns - self.offset, False)
                else:
                    ok = False
            elif kind == HEADING:
                ok = False
            elif kind == HTML:
                if block.html_type >= 6 and blank:
                    ok = False
            elif kind in (PARA, TABLE) and blank:
                ok = False
            if not ok:
                matched_index = index - 1
                break

        last_matched = matched_index
        container = stack[matched_index]
        cont_kind = container.kind
        maybe_lazy = stack[-1].kind == PARA
        opened = False

        # --- 2. open new blocks (open_new_blocks)
        while cont_kind not in (FENCE, ICODE, HTML):
            if len(stack) >= MAX_DEPTH:
                return False
            fns, indent = self.first_nonspace()
            indented = indent >= 4
            blank = fns >= e
            c = data[fns] if not blank else _LF
            if not indented and c == _GT:
                self.advance(fns + 1 - self.offset, False)
                if self.offset < e and data[self.offset] in (_SPACE, _TAB):
                    self.advance(1, True)
                container = self.open_block(QUOTE, stack.index(container))
                opened = True
            elif not indented and c == _HASH and (m := _ATX.match(data, fns, e)) is not None:
                level = len(m.group().rstrip(b" \t"))
                container = self.open_block(HEADING, stack.index(container))
                opened = True
                if len(stack) == 2:
                    self.add_heading(level, _chop_heading(data, m.end(), e), lineno)
                if self.track_hidden:
                    self.toggle_hidden(m.end(), e)
                self.offset = e
                break
            elif not indented and c in (_BACKTICK, _TILDE) and (
                m := _FENCE_OPEN.match(data, fns, e)
            ) is not None:
                container = self.open_block(FENCE, stack.index(container))
                opened = True
                container.fence_char = c
                container.fence_len = m.end() - fns
                container.fence_offset = fns - self.offset
                self.offset = e
                break
            elif not indented and c == _LT and (
                (m16 := _HTML_START_1_6.match(data, fns, e)) is not None
                or (cont_kind != PARA and _HTML_START_7.match(data, fns, e))
            ):
                html_type = 7
                if m16 is not None:
                    html_type = next(i for i in range(1, 7) if m16.group(f"t{i}") is not None)
                container = self.open_block(HTML, stack.index(container))
                opened = True
                container.html_type = html_type
                break
            elif (
                not indented and cont_kind == PARA and c in (61, 45)
                and _SETEXT.match(data, fns, e)
            ):
                # Only reached when every open block matched: a lazy line never underlines.
                raw = b""
                if len(stack) == 2:  # top level: the raw lines are the paragraph's lines
                    spans = self.lines[container.line - self.first_line:lineno - self.first_line]
                    lines = [data[a:b].strip(b" \t") for a, b in spans]
                    while lines and _REF_DEF.fullmatch(lines[0]):
                        del lines[0]  # link reference definitions are not heading text
                    if not lines:
                        # cmark: no heading, and the underline is paragraph text
                        container.last = fns
                        break
                    raw = b" ".join(lines)
                level = 1 if c == 61 else 2
                container.kind = HEADING
                container.base = -1
                if container.task is not None:
                    container.task.cancelled = True
                if len(stack) == 2:
                    self.add_heading(level, raw, container.line)
                self.offset = e
                break
            elif not indented and c in (42, 45, 95) and _thematic_break(data, fns, e):
                del stack[stack.index(container) + 1:]
                while not _can_contain(stack[-1].kind, PARA):
                    stack.pop()
                stack[-1].has_child = True
                container = stack[-1]
                opened = True
                self.offset = e
                break
            elif (
                indent < 4 and not blank and (c in (42, 43, 45) or 48 <= c <= 57)
                and (item := self.list_marker(fns, indent, c, cont_kind == PARA)) is not None
            ):
                sig, marker_indent, padding = item
                parent_index = stack.index(container)
                if cont_kind != LIST or container.list_sig != sig:
                    container = self.open_block(LIST, parent_index)
                    container.list_sig = sig
                    parent_index = len(stack) - 1
                container = self.open_block(ITEM, parent_index)
                container.depth = sum(1 for block in stack if block.kind == ITEM) - 1
                if container.base >= 0:
                    container.base = self.column
                    if self.offset >= e and data[self.offset - 1] not in (_SPACE, _TAB):
                        # An empty item ("-" then the line's end): its content column is one
                        # past the marker, as its padding says (cmark), not the marker's end.
                        container.base += 1
                container.marker_offset = marker_indent
                container.padding = padding
                container.list_sig = sig
                opened = True
            elif indented and not maybe_lazy and not blank:
                self.advance(4, True)
                container = self.open_block(ICODE, stack.index(container))
                opened = True
                break
            elif cont_kind == PARA and not indented and self.table_header(container, fns):
                # GFM table: the paragraph's last line was its header row. If that was the
                # paragraph's only line, the table replaces it (and any task it started:
                # the item's first block is then a table, not a paragraph).
                if container.line == lineno - 1 and container.task is not None:
                    container.task.cancelled = True
                container = self.open_block(TABLE, stack.index(container))
                opened = True
                break
            else:
                break
            cont_kind = container.kind
            maybe_lazy = False

        # --- 3. add the rest of the line (add_text_to_container)
        fns, indent = self.first_nonspace()
        blank = fns >= e
        tip = stack[-1]
        if (
            not opened
            and tip is not stack[last_matched]
            and container is stack[last_matched]
            and not blank
            and tip.kind == PARA
        ):
            tip.last = fns  # lazy continuation line
            if self.track_hidden:
                self.toggle_hidden(fns, e)
            return True
        if not opened:
            del stack[last_matched + 1:]
        kind = container.kind
        if kind == HTML:
            end_re = _HTML_END.get(container.html_type)
            if end_re is not None and end_re.search(data, fns, e):
                stack.pop()
        elif kind == HEADING:
            # A heading never takes a second line: closing it now is what cmark does on the
            # next line, and it keeps that next line on the fast path.
            stack.pop()
        elif kind in (FENCE, ICODE) or blank:
            pass
        elif kind == PARA:
            container.last = fns
            if self.track_hidden:
                self.toggle_hidden(fns, e)
        elif kind == TABLE:
            pass  # a row
        else:
            while not _can_contain(stack[-1].kind, PARA):
                stack.pop()
            parent = stack[-1]
            first_block = not parent.has_child
            para = self.open_block(PARA, len(stack) - 1)
            para.last = fns
            if first_block and parent.kind == ITEM and parent.line == lineno and (
                data[fns] == _LBRACKET
            ):
                self.task_candidate(para, fns)
            elif (
                first_block and parent.kind == QUOTE and self.obsidian
                and _CALLOUT.match(data, fns, e)
            ):
                # Obsidian: a callout's "[!type] title" line is its header, not the start
                # of a paragraph, so the body's first line starts blocks afresh.
                stack.pop()
            if self.track_hidden:
                self.toggle_hidden(fns, e)
        return True

    def table_header(self, para: _Block, fns: int) -> bool:
        """Whether this line is a delimiter row matching the paragraph's last line (GFM)."""
        data = self.data
        e = self.end
        if (
            para.table_tried or data[fns] not in _TABLE_DELIMITER_START
            or not _TABLE_DELIMITER.match(data, fns, e)
        ):
            return False
        previous = self.lines[self.lineno - 1 - self.first_line]
        if previous[0] <= para.last <= previous[1] and (
            _cells(data, para.last, previous[1]) == _cells(data, fns, e)
        ):
            return True
        para.table_tried = True
        return False

    def list_marker(
        self, fns: int, indent: int, c: int, interrupts_paragraph: bool
    ) -> tuple[int, int, int] | None:
        """cmark's parse_list_marker plus padding; advances past the marker on success.

        Returns (list signature, marker indent, padding) or None if the line has no marker.
        """
        data = self.data
        e = self.end
        pos = fns
        if c in (42, 43, 45):
            pos += 1
            sig = c
        else:
            digits = 0
            number = 0
            while pos < e and 48 <= data[pos] <= 57 and digits < 9:
                number = number * 10 + data[pos] - 48
                pos += 1
                digits += 1
            if pos >= e or data[pos] not in (46, 41):  # . )
                return None
            if interrupts_paragraph and number != 1:
                return None
            sig = 1000 + data[pos]
            pos += 1
        if pos < e and data[pos] not in (_SPACE, _TAB, 11, 12):
            return None
        if interrupts_paragraph:
            rest = pos
            while rest < e and data[rest] in (_SPACE, _TAB):
                rest += 1
            if rest >= e:
                return None
        matched = pos - fns
        self.advance(fns + matched - self.offset, False)
        saved = (self.partial_tab, self.offset, self.column)
        while (
            self.column - saved[2] <= 5 and self.offset < e and data[self.offset] in (_SPACE, _TAB)
        ):
            self.advance(1, True)
        width = self.column - saved[2]
        if width >= 5 or width < 1 or self.offset >= e:
            padding = matched + 1
            self.partial_tab, self.offset, self.column = saved
            if width > 0:
                self.advance(1, True)
        else:
            padding = matched + width
        return sig, indent, padding

    def task_candidate(self, para: _Block, pos: int) -> None:
        """Record the paragraph's ``[c]`` as a task (a setext underline may cancel it later)."""
        if self.hidden_comment or self.hidden_math:
            return
        found = _task_at(self.data, pos, self.end, self.obsidian)
        if found is None:
            return
        status_len, text_start = found
        depth = -1
        parent_line = own_line = None
        in_quote = False
        for block in self.stack:
            if block.kind == ITEM:
                depth += 1
                parent_line = own_line
                own_line = block.line
            elif block.kind == QUOTE:
                in_quote = True
        task = RawTask(self.lineno, pos + 1, status_len, text_start, self.end, depth,
                       parent_line, in_quote, self.section)
        para.task = task
        self.result.tasks.append(task)


def _task_at(data: bytes, pos: int, end: int, obsidian: bool) -> tuple[int, int] | None:
    """``[c]`` at ``pos`` followed by space/tab (or, in obsidian, the end of the line)."""
    if pos + 2 >= end:
        return None
    status = data[pos + 1]
    if obsidian:
        if status == _RBRACKET:
            return None
        size = status_length(data, pos + 1, end)
    else:
        if status not in (_SPACE, 120, 88):  # ' ' x X
            return None
        size = 1
    close = pos + 1 + size
    if close >= end or data[close] != _RBRACKET:
        return None
    after = close + 1
    if after < end:
        if data[after] not in (_SPACE, _TAB):
            return None
        return size, after + 1
    if obsidian:
        return size, after
    return None
