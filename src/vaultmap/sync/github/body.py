"""The issue-body codec: a note's task list <-> the block vaultmap owns in an issue body. Pure.

The block sits between two HTML comments (invisible on github.com); each task line carries
its key in a third one, so a task keeps its identity when it is reworded there or here::

    Anything people write above the block stays as it is.
    <!-- vaultmap:begin id=5f0c2a9e1b7d -->
    - [ ] Learn Python <!-- vm:3fa2… -->
      - [x] Variables and types <!-- vm:91c0… -->
    <!-- vaultmap:end -->
    ... and below it.

Only the block is read for statuses and only the block is ever rewritten: the text before and
after it is carried over byte for byte, whatever its line endings (the web editor saves bodies
with CRLF). GitHub knows two checkbox states, so statuses map to ``[ ]`` and ``[x]``: done is
``[x]``, cancelled is ``[x]`` with the text struck through (it leaves the count, as in the
note), everything else is ``[ ]``. A body longer than GitHub accepts is refused before it is
sent (:func:`check_size`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import quote, unquote

from vaultmap.errors import BodyTooLongError

MAX_BODY_CHARS = 65536  # GitHub's 422 says "maximum is 65536 characters"

_BEGIN = re.compile(r"^<!-- vaultmap:begin id=(?P<id>[0-9a-z]{6,40}) -->[ \t]*\r?$", re.M)
END_MARKER = "<!-- vaultmap:end -->"
_END = re.compile(r"^<!-- vaultmap:end -->[ \t]*\r?$", re.M)
_TASK = re.compile(r"^(?P<indent>[ ]*)(?P<bullet>[-*+]) \[(?P<status>[^\]\r\n])\] ?"
                   r"(?P<text>.*?)(?: ?<!-- vm:(?P<key>[^\s>]+)(?: row:(?P<row>[^\s>]+))? -->)?"
                   r"[ \t]*$")
_STRUCK = re.compile(r"^~~(?P<text>.*)~~$")  # ~~~~: a cancelled task with no text
INDENT = "  "


@dataclass(frozen=True, slots=True)
class BlockTask:
    """One task as the block holds it. ``status`` is ``" "`` or ``"x"`` in a body read back;
    ``cancelled`` marks a struck-through ``[x]``."""

    key: str
    status: str
    text: str
    depth: int = 0
    cancelled: bool = False
    row: str = ""  # the line's own id when it differs from the key (see :attr:`row_id`)

    @property
    def row_id(self) -> str:
        """The line's identity for sync: the key it was created with. A reworded task gets
        a new key but keeps its row id, so its line stays the same row even if the sync that
        rewrote it was killed before it could record the new key."""
        return self.row or self.key


@dataclass(frozen=True, slots=True)
class ParsedBody:
    """An issue body split around the owned block. ``before`` + the block + ``after`` is the
    body; ``before`` and ``after`` are kept exactly as read."""

    marker: str
    before: str
    lines: tuple[str, ...]  # the block's lines between the markers, without line endings
    after: str
    newline: str = "\n"  # the block's line ending as read (CRLF once saved on github.com)

    def tasks(self) -> list[BlockTask]:
        """The tasks of the block that carry a key, in body order."""
        found: list[BlockTask] = []
        for line in self.lines:
            task = parse_line(line)
            if task is not None and task.key:
                found.append(task)
        return found

    def keyless_tasks(self) -> list[str]:
        """Task lines inside the block without a key (typed into the block on github.com)."""
        return [line for line in self.lines
                if (task := parse_line(line)) is not None and not task.key]

    def render(self) -> str:
        """The whole body: untouched surroundings, the block written with the line endings
        it had (so a body that did not change renders byte for byte as it was read)."""
        nl = self.newline
        inner = "".join(line + nl for line in self.lines)
        return (f"{self.before}<!-- vaultmap:begin id={self.marker} -->{nl}{inner}"
                f"{END_MARKER}{self.after}")


def encode_key(key: str) -> str:
    """A key as it can sit in an HTML comment (no spaces, no ``--``, no ``>``). A key holding
    a lone surrogate (a block id in a note whose file name is not valid UTF-8) is encoded
    through ``surrogatepass``, so that :func:`decode_key` gives back exactly that key."""
    return quote(key, safe=":#^/._~", errors="surrogatepass").replace("-", "%2D")


def decode_key(encoded: str) -> str:
    """The key :func:`encode_key` encoded."""
    return unquote(encoded, errors="surrogatepass")


# Text starting with one of these gets a backslash in front: ``(`` must be escaped at the
# start of a GitHub task; ``~~`` would read back as the strike-through of a cancelled task;
# a backslash, so that a text which itself starts with ``\(`` reads back as written.
_ESCAPED_STARTS = ("(", "\\", "~~")


def escape_text(text: str) -> str:
    """A task's text as a body line: one line, nothing that opens a comment, nothing at its
    start that GitHub or :func:`parse_line` would read as markup (see ``_ESCAPED_STARTS``)."""
    text = " ".join(text.split())
    if text.startswith(_ESCAPED_STARTS):
        text = "\\" + text
    return text.replace("<!--", "\\<!--")


def unescape_text(text: str) -> str:
    """The inverse of :func:`escape_text` (on the whitespace-normalised text)."""
    if text.startswith(tuple("\\" + start for start in _ESCAPED_STARTS)):
        text = text[1:]
    return text.replace("\\<!--", "<!--")


def box_of(status_type: str) -> str:
    """The checkbox GitHub shows for a status type."""
    return "x" if status_type in ("done", "cancelled") else " "


def task_line(task: BlockTask) -> str:
    """One task line of the block (no line ending)."""
    text = escape_text(task.text)
    if task.cancelled:  # struck even when empty (``~~~~``): an empty cancelled task stays one
        text = f"~~{text}~~"
    box = "x" if task.cancelled else task.status
    row = f" row:{encode_key(task.row)}" if task.row and task.row != task.key else ""
    return f"{INDENT * task.depth}- [{box}] {text} <!-- vm:{encode_key(task.key)}{row} -->"


def parse_line(line: str) -> BlockTask | None:
    """A block line as a task (key "" when it has none); None for any other line."""
    match = _TASK.match(line.rstrip("\r"))
    if match is None:
        return None
    text = match.group("text")
    cancelled = False
    struck = _STRUCK.match(text)
    status = match.group("status")
    if struck is not None and status in "xX":
        text, cancelled = struck.group("text"), True
    depth = len(match.group("indent").expandtabs(4)) // len(INDENT)
    key = decode_key(match.group("key")) if match.group("key") else ""
    row = decode_key(match.group("row")) if match.group("row") else ""
    return BlockTask(key=key, status="x" if status in "xX" else status,
                     text=unescape_text(text), depth=depth, cancelled=cancelled, row=row)


def line_hash(task: BlockTask) -> str:
    """What the block holds of a task besides its checkbox (a person's rewording shows)."""
    material = f"{task.depth}\0{task.text}\0{int(task.cancelled)}"
    return hashlib.blake2b(material.encode("utf-8", "surrogatepass"),
                           digest_size=12).hexdigest()


def render_block(marker: str, tasks: Sequence[BlockTask]) -> str:
    """A fresh body holding only the block (what ``github publish`` sends)."""
    return ParsedBody(marker, "", tuple(task_line(t) for t in _nested(tasks)), "\n").render()


def _nested(tasks: Sequence[BlockTask]) -> list[BlockTask]:
    """Depths that nest: never deeper than one below the task before (a task whose parent
    is a plain list item, or sits outside the published section, moves up)."""
    out: list[BlockTask] = []
    previous = -1
    for task in tasks:
        depth = max(0, min(task.depth, previous + 1))
        out.append(task if depth == task.depth else replace(task, depth=depth))
        previous = depth
    return out


def parse_body(body: str | None) -> ParsedBody | None:
    """Split a body around its block; None when it holds none (or only half of one)."""
    if not body:
        return None
    begin = _BEGIN.search(body)
    if begin is None:
        return None
    end = _END.search(body, begin.end())
    if end is None:
        return None
    start_inner = body.find("\n", begin.start()) + 1
    newline = "\r\n" if body[start_inner - 2: start_inner] == "\r\n" else "\n"
    inner = body[start_inner:end.start()]
    lines = tuple(line.rstrip("\r") for line in inner.split("\n"))
    if lines and lines[-1] == "":
        lines = lines[:-1]
    return ParsedBody(begin.group("id"), body[:begin.start()], lines,
                      body[end.start() + len(END_MARKER):], newline)


def has_marker(body: str | None, marker: str) -> bool:
    """Whether ``body`` holds the block with ``marker`` (how a lost create is found)."""
    parsed = parse_body(body)
    return parsed is not None and parsed.marker == marker


def set_task(parsed: ParsedBody, row_id: str, task: BlockTask) -> ParsedBody | None:
    """The body with the line of ``row_id`` rewritten to ``task`` (its indentation kept);
    None when no line has that row id."""
    lines = list(parsed.lines)
    for index, line in enumerate(lines):
        found = parse_line(line)
        if found is not None and found.key and found.row_id == row_id:
            indent = line[: len(line) - len(line.lstrip(" "))]
            lines[index] = indent + task_line(replace(task, depth=0))
            return replace(parsed, lines=tuple(lines))
    return None


def insert_task(parsed: ParsedBody, task: BlockTask, after_key: str | None) -> ParsedBody:
    """The body with ``task`` added after the line of ``after_key`` and the lines nested
    under it (at the block's top when ``after_key`` is None or not found)."""
    lines = list(parsed.lines)
    position = 0
    if after_key is not None:
        for index, line in enumerate(lines):
            found = parse_line(line)
            if found is not None and found.key == after_key:
                position = index + 1
                while position < len(lines):
                    below = parse_line(lines[position])
                    if below is None or below.depth <= found.depth:
                        break
                    position += 1
                break
    before = parse_line(lines[position - 1]) if position > 0 else None
    limit = before.depth + 1 if before is not None else 0
    lines.insert(position, task_line(replace(task, depth=max(0, min(task.depth, limit)))))
    return replace(parsed, lines=tuple(lines))


def remove_task(parsed: ParsedBody, row_id: str) -> ParsedBody:
    """The body without the line of ``row_id``. Lines nested under it keep their indentation,
    as they do in the note when a task line is deleted (they now belong to the item above), so
    the rest of the block changes by no byte."""
    lines = [line for line in parsed.lines
             if (found := parse_line(line)) is None or not found.key or found.row_id != row_id]
    return replace(parsed, lines=tuple(lines))


def arrange(parsed: ParsedBody, order: Sequence[str], depths: Mapping[str, int]) -> ParsedBody:
    """The block with the lines of the tasks ``order`` names in that order, each at its depth
    in ``depths`` (never deeper than one below the task line before): the note's nesting and
    order, after a task moved under another parent or to another place. ``parsed`` itself
    when nothing moves.

    Only task lines whose key ``order`` names move; every other line of the block (a line
    typed on github.com, a task the note no longer has) travels with the task line above it,
    and the lines above the first named task stay first. A moved line keeps every byte but
    its indentation.
    """
    rank = {key: index for index, key in enumerate(order)}
    head: list[str] = []
    segments: list[tuple[int, BlockTask, list[str]]] = []
    for line in parsed.lines:
        task = parse_line(line)
        if task is not None and task.key in rank:
            segments.append((rank[task.key], task, [line]))
        elif segments:
            segments[-1][2].append(line)
        else:
            head.append(line)
    lines = list(head)
    previous = -1
    for _, task, segment in sorted(segments, key=lambda item: item[0]):
        depth = max(0, min(depths.get(task.key, task.depth), previous + 1))
        first = segment[0]
        if depth != task.depth:
            first = INDENT * depth + first.lstrip(" ")
        lines.append(first)
        lines.extend(segment[1:])
        previous = depth
    if tuple(lines) == parsed.lines:
        return parsed
    return replace(parsed, lines=tuple(lines))


def check_size(body: str, where: str) -> None:
    """Refuse a body GitHub would refuse (422), before anything is sent.

    GitHub counts "characters"; whether astral characters count once or twice is not
    documented, so the stricter UTF-16 count is used.
    """
    size = len(body.encode("utf-16-le", "surrogatepass")) // 2
    if size > MAX_BODY_CHARS:
        raise BodyTooLongError(
            f"{where}: the issue body would be {size:,} characters, more than the "
            f"{MAX_BODY_CHARS:,} GitHub accepts; publish a section (NOTE#HEADING) instead")
