"""The task model: plain frozen values, no I/O.

Every other layer speaks in these types. A :class:`Note` is what the parser makes of one file's
bytes; a :class:`Task` carries its exact byte position so that an edit can replace just the
status character, and a stable :attr:`Task.key` so that sync can find it again after edits
elsewhere in the file (docs/architecture.md).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Mapping
from enum import StrEnum
from types import MappingProxyType

import msgspec


class StatusType(StrEnum):
    """What a status character means for progress."""

    TODO = "todo"
    DOING = "doing"
    DONE = "done"
    CANCELLED = "cancelled"
    OTHER = "other"

    @property
    def is_open(self) -> bool:
        """Todo, doing and other are open: they still count as work left."""
        return self in (StatusType.TODO, StatusType.DOING, StatusType.OTHER)

    @property
    def rank(self) -> int:
        """How finished the status is (done > cancelled > doing > other > todo): the order
        the ``prefer = "done"`` policy of every remote and of the git merge keeps."""
        return _STATUS_RANK[self]


_STATUS_RANK = {StatusType.DONE: 4, StatusType.CANCELLED: 3, StatusType.DOING: 2,
                StatusType.OTHER: 1, StatusType.TODO: 0}


class Flavor(StrEnum):
    """Which dialect decides what is a task (docs/architecture.md)."""

    GFM = "gfm"
    OBSIDIAN = "obsidian"


DEFAULT_STATUS_CHARS: Mapping[str, StatusType] = MappingProxyType(
    {
        " ": StatusType.TODO,
        "x": StatusType.DONE,
        "X": StatusType.DONE,
        "/": StatusType.DOING,
        "-": StatusType.CANCELLED,
    }
)


class StatusMap(msgspec.Struct, frozen=True):
    """Maps a status character to its type; unknown characters are ``other`` (counted open)."""

    chars: Mapping[str, StatusType] = msgspec.field(
        default_factory=lambda: DEFAULT_STATUS_CHARS)

    def type_of(self, char: str) -> StatusType:
        return self.chars.get(char, StatusType.OTHER)

    def char_for(self, status_type: StatusType) -> str:
        """The canonical character to write for a type (first one configured for it)."""
        canonical = {StatusType.TODO: " ", StatusType.DONE: "x", StatusType.DOING: "/",
                     StatusType.CANCELLED: "-"}
        preferred = canonical.get(status_type)
        if preferred is not None and self.chars.get(preferred) is status_type:
            return preferred
        for char, kind in self.chars.items():
            if kind is status_type:
                return char
        raise KeyError(f"no status character is configured for {status_type.value!r}")


DEFAULT_STATUS_MAP = StatusMap()

# The parsed values below are msgspec Structs: frozen, compared by value, built by a C
# constructor (a parse and an index load build hundreds of thousands of them) and created at
# import without the generated code a dataclass executes. ``gc=False``: they form no cycles,
# so the cyclic garbage collector need not track them.
_EMPTY_MAPPING: Mapping[str, str] = MappingProxyType({})


class TaskFields(msgspec.Struct, frozen=True, gc=False):
    """What the task-line grammar reads from a task's text (Tasks plugin + Dataview).

    Dates are kept as written (``YYYY-MM-DD``); a malformed date like ``2023-12-32`` is kept
    too, so a report can flag it instead of silently dropping it.
    """

    description: str = ""
    tags: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    due: str | None = None
    scheduled: str | None = None
    start: str | None = None
    created: str | None = None
    done: str | None = None
    cancelled: str | None = None
    priority: str | None = None  # highest | high | medium | low | lowest
    recurrence: str | None = None
    on_completion: str | None = None
    id: str | None = None
    depends_on: tuple[str, ...] = ()
    block_id: str | None = None
    dataview: Mapping[str, str] = _EMPTY_MAPPING


class Task(msgspec.Struct, frozen=True, gc=False):
    """One checkbox list item, addressed by bytes.

    ``offset`` is the byte offset in the file of the status character (between ``[`` and
    ``]``), ``status_len`` its length in bytes (a status may be a multi-byte character).
    ``line`` is 1-based; ``\\n``, ``\\r\\n`` and a lone ``\\r`` each end a line.
    """

    path: str  # vault-relative, POSIX separators
    line: int
    offset: int
    status: str
    type: StatusType
    text: str  # the task's first-line text after "[c] ", as written (decoded for display)
    fields: TaskFields
    section: tuple[str, ...]  # heading texts, outermost first
    depth: int  # 0 for a top-level list item
    parent_line: int | None  # the line of the enclosing list item (task or not)
    key: str
    status_len: int = 1
    in_quote: bool = False
    # Display repair of a double-encoded note (parse/mojibake.py): the repaired forms of text,
    # description and section, or None where they read as written (every clean note).
    repaired_text: str | None = None
    repaired_description: str | None = None
    repaired_section: tuple[str, ...] | None = None

    @property
    def description(self) -> str:
        return self.fields.description

    @property
    def display_text(self) -> str:
        """The task's text as a person should read it (mojibake repaired; bytes unchanged)."""
        return self.text if self.repaired_text is None else self.repaired_text

    @property
    def display_description(self) -> str:
        """:attr:`description` as a person should read it."""
        if self.repaired_description is None:
            return self.fields.description
        return self.repaired_description

    @property
    def display_section(self) -> tuple[str, ...]:
        """:attr:`section` as a person should read it."""
        return self.section if self.repaired_section is None else self.repaired_section

    @property
    def is_open(self) -> bool:
        return self.type.is_open


class Heading(msgspec.Struct, frozen=True, gc=False):
    level: int
    text: str
    line: int
    repaired_text: str | None = None  # the text with mojibake repaired, None when clean

    @property
    def display_text(self) -> str:
        """The heading as a person should read it."""
        return self.text if self.repaired_text is None else self.repaired_text


class Note(msgspec.Struct, frozen=True, gc=False):
    """Everything vaultmap knows about one Markdown file."""

    path: str  # vault-relative, POSIX separators
    tasks: tuple[Task, ...] = ()
    headings: tuple[Heading, ...] = ()
    tags: tuple[str, ...] = ()  # front-matter tags, without '#'
    frontmatter: Mapping[str, object] = MappingProxyType({})
    warnings: tuple[str, ...] = ()
    encoding: str = "utf-8"  # how `text` fields were decoded: utf-8, utf-8-sig or a legacy codec
    size: int = 0
    sha256: str = ""
    # Spans of double-encoded text ("mojibake") the display repairs; 0 for a clean note.
    mojibake: int = 0
    # Report regions (parse/regions.py) the dashboard writer fills; their lines hold no tasks.
    dashboards: int = 0


def normalise_text(text: str) -> str:
    """Case- and whitespace-insensitive form of a description, for identity and matching."""
    # Same result as `re.sub(r"\s+", " ", NFKC(text)).strip().casefold()`, computed faster:
    # str.split() and re's `\s` agree on what is whitespace (Py_UNICODE_ISSPACE), and ASCII
    # text is its own NFKC form. tests/test_parse_speedups.py holds the two forms together.
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    return " ".join(text.split()).casefold()


def task_key(
    *,
    path: str,
    section: tuple[str, ...],
    description: str,
    ordinal: int,
    explicit_id: str | None = None,
    block_id: str | None = None,
) -> str:
    """The stable key of a task (docs/architecture.md).

    An explicit Tasks ``🆔`` / ``[id:: …]`` id is vault-wide, so it is the key as is. A block id
    is unique within its note. Otherwise the key hashes the note path, the heading path, the
    normalised description (fields stripped, so adding a due date keeps the key) and the
    ordinal among identical siblings. Line numbers never enter a key.
    """
    if explicit_id:
        return f"id:{explicit_id}"
    if block_id:
        return f"block:{path}#^{block_id}"
    return hashed_key(key_prefix(path, section), normalise_text(description), ordinal)


# ---------------------------------------------------------------------------------------
# Fast internal paths for the parser (not part of the public model; same answers).


def key_prefix(path: str, section: tuple[str, ...]) -> str:
    """The part of a hashed key's material shared by every task of one section of a note."""
    return path + "\x1f" + "\x1e".join(section) + "\x1f"


def hashed_key(prefix: str, normalised: str, ordinal: int) -> str:
    """:func:`task_key` for a task without an id, from :func:`key_prefix` and the
    already normalised description."""
    return keyed_hash(key_hasher(prefix), normalised, ordinal)


def key_hasher(prefix: str) -> hashlib.blake2b:
    """The key hash fed with a :func:`key_prefix`: copied for each task of that section."""
    return _blake2b(_utf8(prefix), digest_size=10)


def keyed_hash(hasher: hashlib.blake2b, normalised: str, ordinal: int) -> str:
    """The key of one task: its section's :func:`key_hasher`, then the normalised
    description and its ordinal (UTF-8 of a concatenation is the concatenation of the
    parts' UTF-8, so this hashes exactly the material :func:`task_key` spells out)."""
    digest = hasher.copy()
    digest.update(_utf8(normalised + "\x1f" + str(ordinal)))
    return "k:" + digest.hexdigest()


def _utf8(text: str) -> bytes:
    try:
        return text.encode()  # the fast common case; same bytes as with surrogatepass
    except UnicodeEncodeError:  # lone surrogates (from a path or a name): kept as they are
        return text.encode("utf-8", "surrogatepass")


_blake2b = hashlib.blake2b


# The positional constructors the parser and the index call (every field, in declaration
# order): the classes themselves, whose C constructor is as fast as a hand-made builder.
new_task_fields: Callable[..., TaskFields] = TaskFields
new_heading: Callable[..., Heading] = Heading
new_task: Callable[..., Task] = Task
new_note: Callable[..., Note] = Note
