"""The task-line grammar: Tasks-plugin emoji fields, Dataview fields, tags, links, block ids.

:func:`parse_task_text` reads the text of a task's first line (everything after ``[c] ``) the
way the Obsidian Tasks plugin does (``DefaultTaskSerializer.deserialize`` and
``DataviewTaskSerializer``), so that a vault reads the same in vaultmap and in Obsidian:

* A trailing `` ^block-id`` (a space before ``^`` is required) is removed first.
* Then fields are stripped **from the end of the line**, in passes. Each pass tries, in this
  order: priority, done, cancelled, due, scheduled, start, created, recurrence, on-completion,
  one trailing ``#tag``, id, depends-on; each kind in its emoji form (``📅 2024-05-01``, an
  optional U+FE0F after the emoji, any number of spaces before the value) and then in its
  Dataview form (``[due:: 2024-05-01]`` or ``(due:: 2024-05-01)``, matching brackets, one
  trailing comma allowed). Passes repeat while one of them strips something, at most 21 passes
  as in Tasks. Anything that is not a field stops the parse, so ``📅 2024-05-01 then text``
  keeps its date in the description.
* Dates are matched by shape (``NNNN-NN-NN``) and kept as written, even ``2023-12-32``.
* Tags stripped while reading fields stay in the description: Tasks moves them after the
  description text, joined by single spaces, and so does this function.
* When the same field appears twice, the leftmost one wins (it is read last), as in Tasks.

Choices this module makes where Tasks leaves room:

* Both field formats are read at once (Tasks reads one, chosen in its settings), so a vault
  that mixes them, or moved from one to the other, reads fully.
* ``tags`` keep their ``#`` (``#context/pc``), in order of first appearance, without
  duplicates. A tag is ``#`` at the start or after whitespace, then one or more characters
  other than whitespace and ``!@#$%^&*(),.?":{}|<>`` (Tasks excludes only U+0020; a tab or
  another space character also ends a tag here, as in Obsidian).
* ``links`` are the targets of ``[[wiki links]]`` and ``![[embeds]]``, in order, without
  duplicates: the text before ``|`` (the alias is dropped), with a ``#heading`` or ``#^block``
  part **kept** (``[[Plan#Risks|risks]]`` gives ``Plan#Risks``).
* ``recurrence`` is the rule as written (``every week when done``) when it looks like a rule
  Tasks accepts (``every`` + optional count + a unit, weekday or month name); an invalid rule
  is consumed from the description but gives ``None``, as Tasks drops it.
* ``on_completion`` is ``"keep"`` or ``"delete"`` (lower-cased); other words are consumed and
  ignored, as in Tasks.
* ``dataview`` holds every ``[key:: value]`` / ``(key:: value)`` anywhere in the text, found
  the way Dataview finds them (nesting and ``\\`` escapes inside the value), raw key -> trimmed
  value; the first occurrence of a key wins. Only the Tasks keys at the end of the line are
  removed from the description; other inline fields stay in it.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Final

from vaultmap.model import TaskFields, new_task_fields

_PRIORITY_BY_EMOJI: Final = {
    "🔺": "highest",
    "⏫": "high",
    "🔼": "medium",
    "🔽": "low",
    "⏬": "lowest",
}

# The kinds of trailing field, in the order Tasks tries them within one pass. The tag step
# sits between on-completion and id, exactly where Tasks has it.
(_PRIORITY, _DONE, _CANCELLED, _DUE, _SCHEDULED, _START, _CREATED, _RECURRENCE,
 _ON_COMPLETION, _TAG, _ID, _DEPENDS_ON) = range(12)

_DATE_KIND_BY_EMOJI: Final = {
    "✅": _DONE,
    "❌": _CANCELLED,
    "📅": _DUE,
    "📆": _DUE,
    "🗓": _DUE,
    "⏳": _SCHEDULED,
    "⌛": _SCHEDULED,
    "🛫": _START,
    "➕": _CREATED,
}
_SIGNIFIERS: Final = "".join([*_PRIORITY_BY_EMOJI, *_DATE_KIND_BY_EMOJI, "🔁🏁🆔⛔"])

_DATAVIEW_KIND: Final = {
    "priority": _PRIORITY,
    "completion": _DONE,
    "cancelled": _CANCELLED,
    "due": _DUE,
    "scheduled": _SCHEDULED,
    "start": _START,
    "created": _CREATED,
    "repeat": _RECURRENCE,
    "onCompletion": _ON_COMPLETION,
    "id": _ID,
    "dependsOn": _DEPENDS_ON,
}
_CLOSING: Final = {"[": "]", "(": ")"}

# Values, written forwards. [0-9], not \d: \d also matches other scripts' digits.
_DATE: Final = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_ID_CHARS: Final = r"[a-zA-Z0-9_-]+"
_RULE_CHARS: Final = r"[a-zA-Z0-9, !]+"
_DATAVIEW_VALUE: Final = {
    _PRIORITY: re.compile(r" *(highest|high|medium|low|lowest) *"),
    **{kind: re.compile(f" *({_DATE}) *")
       for kind in (_DONE, _CANCELLED, _DUE, _SCHEDULED, _START, _CREATED)},
    _RECURRENCE: re.compile(f" *({_RULE_CHARS})"),
    _ON_COMPLETION: re.compile(r" *([a-zA-Z]+) *"),
    _ID: re.compile(f" *({_ID_CHARS}) *"),
    _DEPENDS_ON: re.compile(f" *({_ID_CHARS}(?: *, *{_ID_CHARS} *)*) *"),
}

_TAG_EXCLUDED: Final = r'\s!@#$%^&*(),.?":{}|<>'

# Python's re cannot search backwards, so the fields at the end of the text are matched at the
# START of the reversed text, with each Tasks regex written in reverse (a reversed regex
# matches exactly the reversed strings). `\s*` first: Tasks trims after each removal.
_REVERSED_FIELD: Final = re.compile(
    # Possessive quantifiers (*+, ++): a value's characters never include what follows it, so
    # giving some back can never help, and without them a long description is re-scanned by
    # each alternative.
    r"\s*+(?:"
    f"\ufe0f?(?P<priority>[{''.join(_PRIORITY_BY_EMOJI)}])"
    f"|(?P<date>[0-9]{{2}}-[0-9]{{2}}-[0-9]{{4}}) *+\ufe0f?"
    f"(?P<date_kind>[{''.join(_DATE_KIND_BY_EMOJI)}])"
    f"|(?P<recurrence>{_RULE_CHARS}+)\ufe0f?🔁"
    r"|(?P<on_completion>[a-zA-Z]++) *+\ufe0f?🏁"
    f"|(?P<id>{_ID_CHARS}+) *+\ufe0f?🆔"
    f"|(?P<depends_on>(?: *+{_ID_CHARS}+ *+, *+)*+{_ID_CHARS}+) *+\ufe0f?⛔"
    # Dataview: "[key:: value]" / "(key:: value)", maybe then " ,". Brackets, key and value
    # are checked after the match. No Tasks value holds ':', so the value stops at "::".
    r"|(?:, *+)?(?P<close>[\])])(?P<dv_value>[^\[\]():]*+)::(?P<dv_key>[a-zA-Z]++) *+"
    r"(?P<open>[\[(])"
    # A tag: '#' at the start or after whitespace.
    f"|(?P<tag>[^{_TAG_EXCLUDED}]++#)(?=\\s|\\Z)"
    r")"
)
_EMOJI_KIND_BY_GROUP: Final = {
    "priority": _PRIORITY,
    "recurrence": _RECURRENCE,
    "on_completion": _ON_COMPLETION,
    "id": _ID,
    "depends_on": _DEPENDS_ON,
}
_REVERSED_TAG: Final = re.compile(f"\\s*+([^{_TAG_EXCLUDED}]++#)(?=\\s|\\Z)")
# '#' first (a literal lets the search skip ahead), then: not right after a non-space.
_TAG_ANYWHERE: Final = re.compile(f"#(?<!\\S#)[^{_TAG_EXCLUDED}]+")
_BLOCK_ID: Final = re.compile(r"[a-zA-Z0-9-]+")
_SIGNIFIER: Final = re.compile(f"[{_SIGNIFIERS}]")
_SIGNIFIER_OR_MARK: Final = re.compile(f"[{_SIGNIFIERS}#^]|::|\\[\\[")
_BRACKET: Final = re.compile(r"[\[\]()]")
_WIKI_LINK: Final = re.compile(r"\[\[([^\[\]]+?)\]\]")

# What rrule's text parser (used by Tasks) accepts at the start of a rule.
_RECURRENCE_RULE: Final = re.compile(
    r"every\s+(?:[0-9]+(?:st|nd|rd|th)?\s+|other\s+)?"
    r"(?:days?|weekdays?|weeks?|hours?|minutes?|months?|years?"
    r"|mo(?:n(?:day)?)?|tu(?:e(?:s(?:day)?)?)?|we(?:d(?:nesday)?)?|th(?:u(?:r(?:sday)?)?)?"
    r"|fr(?:i(?:day)?)?|sa(?:t(?:urday)?)?|su(?:n(?:day)?)?"
    r"|ja(?:n(?:uary)?)?|fe(?:b(?:ruary)?)?|mar(?:ch)?|apr(?:il)?|may|june?|july?"
    r"|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b",
    re.IGNORECASE,
)

_MAX_PASSES: Final = 21  # Tasks: `do { … runs++ } while (matched && runs <= 20)`
_TAG_STEP: Final = 2 * _TAG  # within a pass, kind k tries its emoji form (2k), then Dataview
_NO_DATAVIEW: Final = MappingProxyType[str, str]({})


def parse_task_text(text: str) -> TaskFields:
    """Read the fields of a task's text (everything after ``[c] `` on its first line).

    Never raises; any string is accepted (including surrogate-escaped bytes). See the module
    docstring for the grammar and the forms chosen for tags and links.

    >>> f = parse_task_text("Ship it #work 📅 2026-03-01 ⏫ ^ship")
    >>> f.description, f.due, f.priority, f.tags, f.block_id
    ('Ship it #work', '2026-03-01', 'high', ('#work',), 'ship')
    """
    # Fast path: every field emoji is non-ASCII, so plain ASCII text needs four `in` tests.
    if text.isascii():
        if "#" not in text and "^" not in text and "::" not in text and "[[" not in text:
            return _plain(text.strip())
    elif _SIGNIFIER_OR_MARK.search(text) is None:
        return _plain(text.strip())
    return _parse_fields(text)


def _plain(description: str) -> TaskFields:
    """``TaskFields(description=description)``, built the fast way (see model.new_task_fields);
    the empty Dataview mapping is shared (it is immutable)."""
    return new_task_fields(description, (), (), None, None, None, None, None, None, None, None,
                           None, None, (), None, _NO_DATAVIEW)


_Found = tuple[int, int, str]  # (step, position after it in the reversed text, value)


def _fields_at(reversed_text: str, pos: int, may_have_tags: bool) -> tuple[
        _Found | None, _Found | None]:
    """The field and the tag that end the text once ``pos`` reversed characters are consumed.

    Both exist only when a tag is glued to an emoji field (``#a⏫``). A priority's value is its
    word; a tag's value is the tag.
    """
    m = _REVERSED_FIELD.match(reversed_text, pos)
    if m is None:
        return None, None
    group = m.lastgroup
    field: _Found | None
    if group == "tag":
        return None, (_TAG_STEP, m.end(), m.group("tag")[::-1])
    if group == "open":  # a Dataview field
        kind = _DATAVIEW_KIND.get(m.group("dv_key")[::-1])
        if kind is None or _CLOSING[m.group("open")] != m.group("close"):
            return None, None
        value = _DATAVIEW_VALUE[kind].fullmatch(m.group("dv_value")[::-1])
        # A Dataview field holds "::", which no tag does: no tag can end here too.
        return (2 * kind + 1, m.end(), value.group(1)) if value is not None else None, None
    if group == "date_kind":
        field = (2 * _DATE_KIND_BY_EMOJI[m.group("date_kind")], m.end(), m.group("date")[::-1])
    elif group == "priority":
        field = (2 * _PRIORITY, m.end(), _PRIORITY_BY_EMOJI[m.group("priority")])
    else:
        assert group is not None
        field = (2 * _EMOJI_KIND_BY_GROUP[group], m.end(), m.group(group)[::-1])
    after = m.end()
    if may_have_tags and after < len(reversed_text) and not reversed_text[after].isspace():
        tag = _REVERSED_TAG.match(reversed_text, pos)
        if tag is not None:
            return field, (_TAG_STEP, tag.end(), tag.group(1)[::-1])
    return field, None


def _strip_trailing_tags(reversed_text: str, moved_tags: list[str]) -> int:
    """:func:`_strip_trailing_fields` for a text where only tags can be fields.

    Tasks takes one trailing tag per pass, so at most as many tags as passes.
    """
    pos = 0
    while len(moved_tags) < _MAX_PASSES:
        tag_match = _REVERSED_TAG.match(reversed_text, pos)
        if tag_match is None:
            break
        moved_tags.append(tag_match.group(1)[::-1])
        pos = tag_match.end()
    return pos


def _strip_trailing_fields(reversed_text: str, limit: int, values: list[str | None],
                           moved_tags: list[str]) -> int:
    """Take fields off the end as Tasks' passes do; return how many characters they took.

    Fills ``values`` (indexed by kind) and ``moved_tags`` (right to left). Once ``limit``
    characters are taken, what is left holds no character a field can start with.
    """
    may_have_tags = "#" in reversed_text
    pos = 0  # characters consumed from the end
    step = -1  # the last try that matched in this pass
    consumed = False
    passes = 1
    found_at = -1
    field: _Found | None = None
    tag: _Found | None = None
    while True:
        if found_at != pos:
            found_at = pos
            if pos >= limit:
                return pos
            field, tag = _fields_at(reversed_text, pos, may_have_tags)
        # Emulate Tasks' pass: the next try that matches is the lowest step after `step`.
        if field is not None and field[0] > step and not (
                tag is not None and step < _TAG_STEP < field[0]):
            step, pos, value = field
            # Read right to left: a later assignment is a field further left, which wins.
            values[step // 2] = value
        elif tag is not None and step < _TAG_STEP:
            step, pos, value = tag
            moved_tags.append(value)
        elif consumed and passes < _MAX_PASSES:
            passes += 1
            step = -1
            consumed = False
            continue
        else:
            return pos
        consumed = True


def _parse_fields(text: str) -> TaskFields:
    s = text.strip()
    end = len(s)

    block_id: str | None = None
    caret = s.rfind("^")
    if caret > 0 and s[caret - 1] == " " and _BLOCK_ID.fullmatch(s, caret + 1) is not None:
        block_id = s[caret + 1:]
        end = caret

    values: list[str | None] = [None] * (_DEPENDS_ON + 1)  # indexed by kind
    moved_tags: list[str] = []
    signifier = None if s.isascii() else _SIGNIFIER.search(s, 0, end)
    inline = "::" in s
    if signifier is not None or inline:
        # The leftmost place a field can start: a field emoji, a '#', a '[' or '('.
        first = signifier.start() if signifier is not None else end
        for mark in "#[(" if inline else "#":
            at = s.find(mark, 0, first)
            if at >= 0:
                first = at
        reversed_text = s[end - 1::-1] if end else ""
        pos = _strip_trailing_fields(reversed_text, end - first, values, moved_tags)
        head = s[:end - pos].rstrip()
    elif "#" in s:  # only tags can end the text: no field emoji, no inline field
        reversed_text = s[end - 1::-1] if end else ""
        pos = _strip_trailing_tags(reversed_text, moved_tags)
        head = s[:end - pos].rstrip()
    else:
        head = s[:end].rstrip()
    description = " ".join([head, *reversed(moved_tags)]).strip() if moved_tags else head
    tags = _tags(description) if "#" in description else ()
    links = _links(text) if "[[" in text else ()
    dataview = _dataview_fields(text) if inline else _NO_DATAVIEW
    if not any(values):  # the common case: only tags, links or a block id
        return new_task_fields(description, tags, links, None, None, None, None, None, None,
                               None, None, None, None, (), block_id, dataview)

    recurrence = values[_RECURRENCE]
    if recurrence is not None:
        recurrence = recurrence.strip()
        if _RECURRENCE_RULE.match(recurrence) is None:
            recurrence = None
    on_completion = values[_ON_COMPLETION]
    if on_completion is not None:
        on_completion = on_completion.lower()
        if on_completion not in ("keep", "delete"):
            on_completion = None
    depends_on = values[_DEPENDS_ON]

    # Positional, in TaskFields' field order (model.new_task_fields is the fast constructor).
    return new_task_fields(
        description,
        tags,
        links,
        values[_DUE],  # due
        values[_SCHEDULED],  # scheduled
        values[_START],  # start
        values[_CREATED],  # created
        values[_DONE],  # done
        values[_CANCELLED],  # cancelled
        values[_PRIORITY],  # priority
        recurrence,
        on_completion,
        values[_ID],  # id
        tuple(d for d in depends_on.replace(" ", "").split(",") if d) if depends_on else (),
        block_id,
        dataview,
    )


def _tags(description: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_TAG_ANYWHERE.findall(description)))


def _links(text: str) -> tuple[str, ...]:
    targets: dict[str, None] = {}
    for inner in _WIKI_LINK.findall(text):
        target = inner.split("|", 1)[0]
        # Inside a table the alias pipe is escaped: [[Note\|alias]].
        target = target.removesuffix("\\").strip()
        if target:
            targets[target] = None
    return tuple(targets)


def _dataview_fields(text: str) -> MappingProxyType[str, str]:
    """Every inline field, found as Dataview's ``extractInlineFields`` finds them.

    For each ``[`` (then each ``(``): the key runs to the next ``::`` and may hold no bracket;
    the value runs to the matching closer, counting nesting and skipping ``\\``-escaped
    characters. Linear on long lines: the next ``::`` and each value's end are found once.
    """
    found: list[tuple[int, str, str]] = []
    for opener, closer in _CLOSING.items():
        separator = -1  # the first "::" after the current opener
        value_end: dict[int, tuple[str, int] | None] = {}  # by separator: (value, after)
        at = text.find(opener)
        while at >= 0:
            if separator <= at:
                separator = text.find("::", at + 1)
                if separator < 0:
                    break
            if _BRACKET.search(text, at + 1, separator) is None:
                if separator not in value_end:
                    value_end[separator] = _closing(text, separator + 2, opener, closer)
                closing = value_end[separator]
                if closing is not None:
                    value, after = closing
                    key = text[at + 1:separator].strip()
                    if key:
                        found.append((at, key, value))
                    at = text.find(opener, after)
                    continue
            at = text.find(opener, at + 1)
    found.sort()
    fields: dict[str, str] = {}
    for _, key, value in found:
        fields.setdefault(key, value)
    return MappingProxyType(fields)


def _closing(text: str, start: int, opener: str, closer: str) -> tuple[str, int] | None:
    """``(trimmed value, index after the closer)`` for a value starting at ``start``."""
    end = text.find(closer, start)
    if end < 0:
        return None
    if opener not in text[start:end] and "\\" not in text[start:end]:
        return text[start:end].strip(), end + 1  # the usual case: nothing nested or escaped
    nesting = 0
    escaped = False
    for index in range(start, len(text)):
        char = text[index]
        if char == "\\":
            escaped = not escaped
            continue
        if escaped:
            escaped = False
            continue
        if char == opener:
            nesting += 1
        elif char == closer:
            nesting -= 1
            if nesting < 0:
                return text[start:index].strip(), index + 1
    return None


__all__ = ["parse_task_text"]
