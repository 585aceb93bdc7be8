"""Inline Markdown <-> Notion rich text, within Notion's limits.

A task's description is inline Markdown. Notion holds rich text: a list of at most 100 items,
each with at most 2,000 characters (counted in UTF-16 code units, as JavaScript counts) and
annotations (bold, italic, strikethrough, code) and an optional link.

* ``**bold**``, ``*italic*``, ``~~strike~~``, ```code```, ``[text](https://…)`` map to
  annotations and links; nesting combines annotations.
* Obsidian wiki links become their display text: ``[[Note|alias]]`` -> ``alias``,
  ``[[Note#Part]]`` -> ``Note > Part``; embeds ``![[x]]`` likewise.
* Links Notion would refuse (relative paths, over 2,000 characters) keep their text, lose the link.
* Text over 2,000 units is split into several items; when a value would need more than 100
  items, formatting is dropped first, and the text is cut as a last resort (a task that long
  is not a task anyone reads in a table).

:func:`markdown_from_rich_text` renders rich text back into the same Markdown subset, so that
``markdown_from_rich_text(rich_text_from_markdown(s))`` gives ``s`` back for the common forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

import mistune

MAX_ITEM_UNITS = 2000
MAX_ITEMS = 100
MAX_URL_UNITS = 2000
_LINKABLE = re.compile(r"^(https?|mailto):", re.IGNORECASE)
_WIKI = re.compile(r"!?\[\[([^\]\n]+?)\]\]")
_SURROGATE = re.compile("[\ud800-\udfff]")

_inline = mistune.create_markdown(renderer=None, plugins=["strikethrough"]).inline


@dataclass(frozen=True, slots=True)
class Span:
    """A run of text with one set of annotations."""

    text: str
    bold: bool = False
    italic: bool = False
    strikethrough: bool = False
    code: bool = False
    url: str | None = None

    def same_style(self, other: Span) -> bool:
        return (self.bold, self.italic, self.strikethrough, self.code, self.url) == (
            other.bold, other.italic, other.strikethrough, other.code, other.url)


def utf16_len(text: str) -> int:
    """Length as Notion counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def wiki_display(match: re.Match[str]) -> str:
    """What Obsidian shows for a wiki link: the alias, else the target (``#`` as `` > ``)."""
    inner = match.group(1)
    target, _, alias = inner.partition("|")
    if alias.strip():
        return alias.strip()
    return " > ".join(part for part in target.strip().split("#") if part) or target


def _walk(tokens: list[dict[str, Any]], style: Span, out: list[Span]) -> None:
    for token in tokens:
        kind = token.get("type")
        if kind == "text":
            out.append(replace(style, text=_WIKI.sub(wiki_display, token.get("raw", ""))))
        elif kind == "codespan":
            out.append(replace(style, text=token.get("raw", ""), code=True))
        elif kind == "strong":
            _walk(token.get("children", []), replace(style, bold=True), out)
        elif kind == "emphasis":
            _walk(token.get("children", []), replace(style, italic=True), out)
        elif kind == "strikethrough":
            _walk(token.get("children", []), replace(style, strikethrough=True), out)
        elif kind in ("link", "image"):
            url = str(token.get("attrs", {}).get("url", ""))
            usable = bool(_LINKABLE.match(url)) and utf16_len(url) <= MAX_URL_UNITS
            _walk(token.get("children", []), replace(style, url=url if usable else style.url),
                  out)
        elif kind in ("linebreak", "softbreak"):
            out.append(replace(style, text="\n" if kind == "linebreak" else " "))
        elif "raw" in token:  # inline_html and anything unforeseen: keep as written
            out.append(replace(style, text=str(token["raw"])))
        else:
            _walk(token.get("children", []), style, out)


def spans_from_markdown(markdown: str) -> list[Span]:
    """Parse inline Markdown into styled spans (adjacent equal styles merged)."""
    # Wiki links are replaced inside text tokens (not before parsing) so code spans keep them.
    raw: list[Span] = []
    _walk(_inline(markdown, {}), Span(""), raw)
    merged: list[Span] = []
    for span in raw:
        if not span.text:
            continue
        if merged and merged[-1].same_style(span):
            merged[-1] = replace(merged[-1], text=merged[-1].text + span.text)
        else:
            merged.append(span)
    # mistune splits text at "[" and similar; wiki links split that way are rejoined and
    # replaced here (a second pass on the merged plain runs).
    return [replace(s, text=_WIKI.sub(wiki_display, s.text)) if not s.code else s
            for s in merged]


def _chunks(text: str, limit: int = MAX_ITEM_UNITS) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` UTF-16 units, never inside a pair."""
    pieces: list[str] = []
    current: list[str] = []
    units = 0
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        if units + width > limit:
            pieces.append("".join(current))
            current, units = [], 0
        current.append(char)
        units += width
    if current or not pieces:
        pieces.append("".join(current))
    return pieces


def sendable(text: str) -> str:
    """``text`` as Notion can hold it: a lone surrogate (a byte of a file name that is not
    valid UTF-8) becomes U+FFFD, as no JSON request could carry it as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def _item(text: str, span: Span) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "text",
                            "text": {"content": sendable(text),
                                     "link": None if span.url is None else {"url": span.url}}}
    if span.bold or span.italic or span.strikethrough or span.code:
        item["annotations"] = {"bold": span.bold, "italic": span.italic,
                               "strikethrough": span.strikethrough, "underline": False,
                               "code": span.code, "color": "default"}
    return item


def rich_text_from_spans(spans: list[Span]) -> list[dict[str, Any]]:
    """Request-shaped rich text for ``spans``, within the 2,000-unit and 100-item limits."""
    items = [_item(piece, span) for span in spans for piece in _chunks(span.text)]
    if len(items) <= MAX_ITEMS:
        return items
    plain = "".join(span.text for span in spans)
    pieces = _chunks(plain)[:MAX_ITEMS]
    if utf16_len(plain) > MAX_ITEMS * MAX_ITEM_UNITS:
        pieces[-1] = pieces[-1][:-1] + "…"
    return [_item(piece, Span(piece)) for piece in pieces]


def rich_text_from_markdown(markdown: str) -> list[dict[str, Any]]:
    """Request-shaped Notion rich text for a line of inline Markdown."""
    return rich_text_from_spans(spans_from_markdown(markdown))


def plain_rich_text(text: str) -> list[dict[str, Any]]:
    """Request-shaped rich text holding ``text`` verbatim (no Markdown), split as needed."""
    return rich_text_from_spans([Span(text)] if text else [])


def plain_text(items: Any) -> str:
    """The plain text of a response-shaped rich text value."""
    if not isinstance(items, list):
        return ""
    out = []
    for item in items:
        if isinstance(item, dict):
            text = item.get("plain_text")
            if not isinstance(text, str):
                content = item.get("text")
                text = content.get("content", "") if isinstance(content, dict) else ""
            out.append(str(text))
    return "".join(out)


_ESCAPE = re.compile(r"([\\`*_~\[\]<>])")


def markdown_from_rich_text(items: Any) -> str:
    """Render rich text (response or request shape) back to the Markdown subset we write."""
    if not isinstance(items, list):
        return ""
    spans: list[Span] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        text = item.get("plain_text")
        raw_content = item.get("text")
        content: dict[str, Any] = raw_content if isinstance(raw_content, dict) else {}
        if not isinstance(text, str):
            text = str(content.get("content", ""))
        link = content.get("link")
        url = link.get("url") if isinstance(link, dict) else item.get("href")
        raw_notes = item.get("annotations")
        notes: dict[str, Any] = raw_notes if isinstance(raw_notes, dict) else {}
        span = Span(text, bool(notes.get("bold")), bool(notes.get("italic")),
                    bool(notes.get("strikethrough")), bool(notes.get("code")),
                    url if isinstance(url, str) else None)
        if spans and spans[-1].same_style(span):
            spans[-1] = replace(spans[-1], text=spans[-1].text + span.text)
        else:
            spans.append(span)
    out = []
    for span in spans:
        if span.code:
            piece = _code_span(span.text)
        else:
            piece = _ESCAPE.sub(r"\\\1", span.text) if _needs_escape(span.text) else span.text
        if span.strikethrough:
            piece = f"~~{piece}~~"
        if span.italic:
            piece = f"*{piece}*"
        if span.bold:
            piece = f"**{piece}**"
        if span.url is not None:
            piece = f"[{piece}]({span.url})"
        out.append(piece)
    return "".join(out)


_BACKTICKS = re.compile(r"`+")


def _code_span(text: str) -> str:
    """``text`` as a code span that parses back to exactly ``text`` (CommonMark 6.1): its
    fence is a run of backticks no run inside is as long as, and it is padded with a space
    when the text begins or ends with a backtick, or begins and ends with a space (a parser
    strips one space from each side of such a span)."""
    runs = {len(run) for run in _BACKTICKS.findall(text)}
    fence = "`" * next(n for n in range(1, len(runs) + 2) if n not in runs)
    padded = text.startswith("`") or text.endswith("`") or (
        len(text) > 1 and text.startswith(" ") and text.endswith(" ") and text.strip(" "))
    pad = " " if padded else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _needs_escape(text: str) -> bool:
    # Plain text that would parse back as formatting gets escaped; other text stays as is, so
    # the common case ("Buy milk & eggs") round-trips byte for byte.
    spans = spans_from_markdown(text)
    return not (len(spans) == 1 and spans[0] == Span(text)) and bool(text)
