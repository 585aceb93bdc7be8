"""``.vaultmap.toml`` -> typed settings.

One table, :data:`SCHEMA`, is the single source of truth for every option: its table, key,
type, default, bounds and the comment that documents it. From it come

- the defaults of the settings classes below (``default_of``),
- the checking of a user's file (:func:`check_config`, which ``vaultmap doctor`` calls, and
  :func:`load_settings`),
- the documented default file ``vaultmap init`` writes (:func:`default_config_text`; the
  repository's ``vault-template/.vaultmap.toml`` is that text, a test keeps them equal).

A plain table rather than a schema library: the checks a user needs (the closest valid key
for a typo, finite numbers within bounds, gitignore patterns that compile, one status
character per key) are a few lines each here and would be validators bolted onto the library
anyway, and the table also carries the documentation the template is generated from.

Every option has a default, so a vault without a config file works. An unknown table or key
is ignored with a one-line warning naming the closest valid key (a newer config read by an
older vaultmap should still work); a wrong type or a value out of bounds is a
:class:`~vaultmap.errors.ConfigError` naming the key.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast

import msgspec

from vaultmap.errors import ConfigError
from vaultmap.fs import MAX_CONFIG_BYTES, Unreadable, read_regular
from vaultmap.model import DEFAULT_STATUS_CHARS, Flavor, StatusMap, StatusType

CONFIG_NAME = ".vaultmap.toml"
STATE_DIR = ".vaultmap"
# A GitHub repository's full name, OWNER/REPO, as GitHub allows them.
REPO_NAME = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$"


def is_repo_name(value: object) -> bool:
    """Whether ``value`` is a GitHub ``OWNER/REPO`` (:data:`REPO_NAME`, the whole text: no
    trailing newline), and not ``.`` or ``..`` as the repository, which would walk out of
    ``/repos/OWNER/`` in an API path."""
    return (isinstance(value, str) and re.fullmatch(REPO_NAME.strip("^$"), value) is not None
            and value.rpartition("/")[2] not in (".", ".."))

OptionKind = Literal["str", "int", "float", "bool", "str_list", "patterns"]
Prefer = Literal["done", "vault", "notion"]
PREFER_VALUES: tuple[Prefer, ...] = ("done", "vault", "notion")
GitHubPrefer = Literal["done", "vault", "github"]
GITHUB_PREFER_VALUES: tuple[GitHubPrefer, ...] = ("done", "vault", "github")


class Option(msgspec.Struct, frozen=True):
    """One option of ``.vaultmap.toml``: where it lives, its type, default, bounds and doc.

    ``low``/``high`` bound a number (inclusive; ``low_open`` makes the low bound exclusive);
    ``choices`` lists the allowed strings; ``doc`` is the comment written above the option in
    the default file (``inline`` writes it after the value instead).
    """

    table: str
    key: str
    kind: OptionKind
    default: Any
    doc: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    choices: tuple[str, ...] = ()
    inline: bool = False


def _property(role: str, name: str, what: str) -> Option:
    return Option("notion.properties", role, "str", name, what, inline=True)


SCHEMA: tuple[Option, ...] = (
    Option("vault", "extensions", "str_list", (".md", ".markdown"),
           'File name endings read as notes. A leading dot is added when missing ("md" = ".md").'),
    Option("vault", "exclude", "patterns", (),
           'Extra paths to skip, in .gitignore syntax (for example "Templates/" or '
           '"*.excalidraw.md").\n.obsidian/, .trash/, .git/ and .vaultmap/ are always skipped.'),
    Option("vault", "flavor", "str", Flavor.OBSIDIAN.value,
           'Which dialect decides what is a task:\n'
           '  "obsidian": GitHub task lists plus any one-character status ([/], [-], [>] ...), '
           'tasks in\n'
           '              block quotes and callouts, and %% comments %% hidden;\n'
           '  "gfm":      exactly what GitHub renders as a checkbox ([ ], [x], [X]).',
           choices=tuple(f.value for f in Flavor)),
    Option("vault", "max_note_mb", "float", 10,
           "Notes larger than this many megabytes are skipped with a warning (a pasted log, say).",
           low=0, low_open=True, high=1024 * 1024),
    Option("report", "top_level_only", "bool", False,
           "Count only top-level tasks (a parent task, not its subtasks). Same as --top-level."),
    Option("report", "depth", "int", 2,
           "How many heading levels the section tree shows. Same as --depth.", low=0),
    Option("report", "stalled_days", "int", 14,
           'With git history, a started section with no task done for this many days is listed '
           'as\n"Stalled" (with the date of its last progress).', low=1, high=36500),
    Option("edit", "done_date", "bool", False,
           'Add " ✅ YYYY-MM-DD" when vaultmap marks a task done, and remove it when it is '
           'reopened.'),
    Option("edit", "sync_wait", "float", 30.0,
           "Seconds `vaultmap done`, `undo` and `set` wait for a sync of this vault that is "
           "running\n(the daemon's, say) before giving up with exit code 14; they say so when "
           "they wait.", low=0, high=3600),
    Option("notion", "database_id", "str", "",
           "The Notion database to sync with: its id or its URL. Empty: Notion sync is off."),
    Option("notion", "token_env", "str", "NOTION_TOKEN",
           "The environment variable that holds the Notion integration token. The token itself "
           "never\ngoes in this file."),
    Option("notion", "prefer", "str", "done",
           "When a task's status changed on both sides since the last sync:\n"
           '  "done":   keep the more finished status (done > cancelled > doing > other > todo);\n'
           '  "vault":  the note wins;   "notion": Notion wins.', choices=PREFER_VALUES),
    Option("notion", "inbox", "str", "",
           'A note (vault-relative path, e.g. "Inbox.md") that receives tasks created in Notion.\n'
           "Empty: rows created in Notion are reported but not added to any note."),
    Option("notion", "full_every", "int", 20,
           "Every Nth sync reads the whole database instead of only rows edited since the last "
           "sync\n(0: only when asked with --full).", low=0),
    Option("notion", "guard_ratio", "float", 0.5,
           "Safety guard: when one side suddenly lost more than this share of the synced tasks "
           "...", low=0, high=1),
    Option("notion", "guard_min", "int", 10,
           "... out of at least this many, sync stops and asks for --force (an unmounted folder "
           "or a\nwrong database must not be mirrored as deletions).", low=0),
    Option("notion", "requests_per_second", "float", 3.0,
           "HTTP pacing: at most this many requests per second (0: no pacing). Notion allows "
           "about 3.", low=0, high=1000),
    Option("notion", "timeout", "float", 30.0,
           "Seconds to wait for one request before it counts as failed.",
           low=0, low_open=True, high=3600),
    Option("notion", "max_attempts", "int", 8,
           "Tries per request, the first one included, on rate limits and server errors.",
           low=1, high=100),
    Option("notion", "backoff", "float", 0.5,
           "The first retry waits this many seconds; each further retry waits twice as long, "
           "with jitter.", low=0, high=3600),
    Option("notion", "backoff_max", "float", 30.0,
           "... but never longer than this many seconds.", low=0, high=3600),
    Option("notion", "max_retry_after", "float", 120.0,
           "Notion's Retry-After is obeyed up to this many seconds; a longer one is cut to this.",
           low=0, high=3600),
    Option("notion", "timeout_attempts", "int", 2,
           "Tries per request that timed out (a server that does not answer seldom starts to).",
           low=1, high=100),
    Option("notion", "deadline", "float", 1800.0,
           "Seconds one sync may spend talking to Notion in all; then it stops, keeping what "
           "it did.",
           low=0, low_open=True, high=86400),
    Option("git", "enabled", "bool", True,
           "`vaultmap sync` without a flag also syncs git when the vault is inside a git work "
           "tree whose\nbranch has an upstream. false: only `vaultmap sync --git` does."),
    Option("git", "pull", "str", "merge",
           'How `vaultmap sync --git` joins diverged branches: "merge" (a merge commit) or '
           '"rebase"\n(your commits replayed on top of the remote\'s). Both merge notes task by '
           'task.', choices=("merge", "rebase")),
    Option("git", "prefer", "str", "done",
           "When both sides of a git merge (or `git pull` with the driver of `vaultmap git "
           "install`)\nchanged one task's status to different values:\n"
           '  "done": keep the more finished status;  "local": yours wins;  "remote": theirs '
           "wins.", choices=("done", "local", "remote")),
    Option("git", "message", "str", "vaultmap: {summary}",
           'The subject of vaultmap\'s commits. {summary} becomes "3 done, 1 reopened, 2 added '
           '(2 notes)"\nor "notes edited (N)"; {host} and {date} are also replaced. The body '
           "always lists the task\nchanges per note."),
    Option("git", "push_retries", "int", 3,
           "A push rejected because someone pushed meanwhile fetches, merges and tries again "
           "this many\ntimes.", low=0, high=100),
    Option("git", "lock_timeout", "float", 10.0,
           "Seconds to wait for another git process to release .git/index.lock (never deleted).",
           low=0, low_open=True, high=3600),
    Option("git", "timeout", "float", 120.0,
           "Seconds one fetch or push may take before it counts as failed.",
           low=0, low_open=True, high=3600),
    Option("github", "enabled", "bool", False,
           "`vaultmap sync` without a flag also syncs GitHub even when no note is published (to "
           "let\ntasks follow the issues they name); publishing a note includes GitHub anyway. "
           "The token comes\nfrom GITHUB_TOKEN or GH_TOKEN, or from `gh auth token`; never "
           "from this file."),
    Option("github", "default_repo", "str", "",
           'The repository (OWNER/REPO) a bare "#12" in a task names. Empty: "#12" names '
           "nothing."),
    Option("github", "close_issues", "bool", False,
           "Ticking (or cancelling) a task that names an issue closes that issue. false: GitHub "
           "stays\nthe authority, and the sync lists the ticked tasks whose issue is still open."),
    Option("github", "close_when_done", "bool", False,
           "Close a published checklist issue once every box in it is ticked (reopening it "
           "changes\nnothing in the note)."),
    Option("github", "prefer", "str", "done",
           "When a task's status changed in the note and on GitHub since the last sync:\n"
           '  "done":   keep the more finished status;  "vault": the note wins;  "github": '
           "GitHub wins.", choices=GITHUB_PREFER_VALUES),
    Option("github", "write_interval", "float", 1.0,
           "Seconds between two writes; GitHub asks for at least one between content-creating "
           "requests.", low=0, high=3600),
    Option("github", "backoff", "float", 1.0,
           "The first retry after a server error waits this many seconds; then twice as long, "
           "with jitter.", low=0, high=3600),
    Option("daemon", "quiet_period", "float", 2.0,
           "`vaultmap daemon`: seconds a note must stay unchanged before its change is synced "
           "(a burst\nof saves becomes one sync; a note changed this recently is never written "
           "to).", low=0, high=3600),
    Option("daemon", "notion_poll", "float", 30.0,
           "Seconds between two reads of Notion for changes made there (an idle read is one "
           "request).", low=0, low_open=True, high=86400),
    Option("daemon", "github_poll", "float", 60.0,
           "Seconds between two reads of GitHub for boxes ticked and issues closed there (an "
           "unchanged\nissue answers 304, which costs no rate limit).", low=0, low_open=True,
           high=86400),
    Option("daemon", "git_commit_after", "float", 300.0,
           "Seconds of quiet after the last change before the daemon commits and pushes it to "
           "git.", low=0, high=86400),
    Option("daemon", "git_interval", "float", 600.0,
           "Seconds between two git round trips (commit, fetch, merge, push) when nothing "
           "changed.", low=0, low_open=True, high=86400),
    Option("daemon", "log_level", "str", "info",
           "What .vaultmap/daemon.log records: debug, info, warning or error.",
           choices=("debug", "info", "warning", "error")),
    Option("daemon", "dashboards", "bool", True,
           "Keep the Markdown report up to date between the lines <!-- vaultmap:report --> and\n"
           "<!-- /vaultmap:report --> of a note, after each change (options in the first line:\n"
           "by=section depth=2 limit=5 rows=50). `vaultmap report --update-dashboards` does it "
           "once."),
    _property("task", "Task", "title: the task's description"),
    _property("done", "Done", "checkbox: the task is done"),
    _property("status", "Status", "select: Todo, Doing, Done, Cancelled, Other"),
    _property("note", "Note", "text: the note the task lives in"),
    _property("section", "Section", "text: the heading path of the task"),
    _property("due", "Due", "date: 📅 due date"),
    _property("scheduled", "Scheduled", "date: ⏳ scheduled date"),
    _property("start", "Start", "date: 🛫 start date"),
    _property("priority", "Priority", "select: highest, high, medium, low, lowest"),
    _property("tags", "Tags", "multi-select: the task's and the note's tags"),
    _property("key", "Key", "text: vaultmap's stable key of the task (do not edit)"),
    _property("open", "Open", "url: an obsidian:// link that opens the note"),
)

# [statuses] maps any one character to a type; it is not a fixed set of keys.
STATUSES_TABLE = "statuses"
TABLES: tuple[str, ...] = ("vault", STATUSES_TABLE, "report", "edit", "notion",
                           "notion.properties", "git", "github", "daemon")
_BY_PLACE: Mapping[tuple[str, str], Option] = MappingProxyType(
    {(option.table, option.key): option for option in SCHEMA})


def default_of(table: str, key: str) -> Any:
    """The default of ``[table] key`` as :data:`SCHEMA` says (a tuple for lists)."""
    return _BY_PLACE[table, key].default


NOTION_PROPERTY_DEFAULTS: Mapping[str, str] = MappingProxyType(
    {o.key: cast(str, o.default) for o in SCHEMA if o.table == "notion.properties"})


def _megabytes(value: float) -> int:
    return int(value * 1024 * 1024)


# The settings are frozen msgspec Structs, not dataclasses: every command imports this module,
# and a Struct class is made by msgspec's C code where a dataclass generates and compiles its
# methods at import (tens of milliseconds for these ten). A changed copy is
# ``msgspec.structs.replace(settings, ...)``.
_DEFAULT_FLAVOR = Flavor(default_of("vault", "flavor"))
_DEFAULT_PREFER: Prefer = default_of("notion", "prefer")


class VaultSettings(msgspec.Struct, frozen=True):
    extensions: tuple[str, ...] = default_of("vault", "extensions")
    exclude: tuple[str, ...] = default_of("vault", "exclude")  # gitignore syntax, vault-relative
    flavor: Flavor = _DEFAULT_FLAVOR
    # Notes larger than this are skipped with a warning (a 50 MB log pasted into a vault).
    max_note_bytes: int = _megabytes(default_of("vault", "max_note_mb"))


class ReportSettings(msgspec.Struct, frozen=True):
    top_level_only: bool = default_of("report", "top_level_only")
    depth: int = default_of("report", "depth")
    stalled_days: int = default_of("report", "stalled_days")


class EditSettings(msgspec.Struct, frozen=True):
    # add " ✅ YYYY-MM-DD" when a task becomes done, remove it on undo
    done_date: bool = default_of("edit", "done_date")
    # seconds a local edit waits for a running sync of the vault (sync/turns.py)
    sync_wait: float = default_of("edit", "sync_wait")


class NotionSettings(msgspec.Struct, frozen=True):
    """``[notion]``: the database, the token's variable, the conflict policy, the guard and the
    HTTP behaviour of the Notion adapter (tests turn pacing off and backoff down)."""

    database_id: str = default_of("notion", "database_id")
    token_env: str = default_of("notion", "token_env")
    prefer: Prefer = _DEFAULT_PREFER
    inbox: str = default_of("notion", "inbox")  # vault-relative note for rows made in Notion
    full_every: int = default_of("notion", "full_every")  # every Nth sync reads everything
    guard_ratio: float = default_of("notion", "guard_ratio")  # refuse to mirror a loss of ...
    guard_min: int = default_of("notion", "guard_min")  # ... this share of at least this many
    properties: Mapping[str, str] = msgspec.field(
        default_factory=lambda: NOTION_PROPERTY_DEFAULTS)
    requests_per_second: float = default_of("notion", "requests_per_second")  # 0: no pacing
    timeout: float = default_of("notion", "timeout")  # seconds per request
    max_attempts: int = default_of("notion", "max_attempts")  # per request, first included
    backoff: float = default_of("notion", "backoff")  # first retry delay (doubles, jitter)
    backoff_max: float = default_of("notion", "backoff_max")
    max_retry_after: float = default_of("notion", "max_retry_after")
    timeout_attempts: int = default_of("notion", "timeout_attempts")
    deadline: float = default_of("notion", "deadline")  # seconds for one sync's requests


GitPull = Literal["merge", "rebase"]
GitPrefer = Literal["done", "local", "remote"]
GIT_PREFER_CHOICES: tuple[str, ...] = _BY_PLACE["git", "prefer"].choices
_DEFAULT_GIT_PULL: GitPull = default_of("git", "pull")
_DEFAULT_GIT_PREFER: GitPrefer = default_of("git", "prefer")
_DEFAULT_GITHUB_PREFER: GitHubPrefer = default_of("github", "prefer")


class GitSettings(msgspec.Struct, frozen=True):
    """``[git]``: whether a plain ``vaultmap sync`` includes git, how diverged branches are
    joined, the merge policy for a task both sides changed, the commit message and limits."""

    enabled: bool = default_of("git", "enabled")
    pull: GitPull = _DEFAULT_GIT_PULL
    prefer: GitPrefer = _DEFAULT_GIT_PREFER
    message: str = default_of("git", "message")
    push_retries: int = default_of("git", "push_retries")
    lock_timeout: float = default_of("git", "lock_timeout")
    timeout: float = default_of("git", "timeout")


class GitHubSettings(msgspec.Struct, frozen=True):
    """``[github]``: issues as a second remote (published checklists, tasks naming issues)."""

    enabled: bool = default_of("github", "enabled")  # a plain sync includes GitHub anyway
    default_repo: str = default_of("github", "default_repo")  # what a bare "#12" names
    close_issues: bool = default_of("github", "close_issues")
    close_when_done: bool = default_of("github", "close_when_done")
    prefer: GitHubPrefer = _DEFAULT_GITHUB_PREFER  # both sides changed a status
    write_interval: float = default_of("github", "write_interval")  # seconds between writes
    backoff: float = default_of("github", "backoff")  # first retry delay (doubles, jitter)


class DaemonSettings(msgspec.Struct, frozen=True):
    """``[daemon]``: the schedules of ``vaultmap daemon`` (seconds) and its log level."""

    quiet_period: float = default_of("daemon", "quiet_period")
    notion_poll: float = default_of("daemon", "notion_poll")
    github_poll: float = default_of("daemon", "github_poll")
    git_commit_after: float = default_of("daemon", "git_commit_after")
    git_interval: float = default_of("daemon", "git_interval")
    log_level: str = default_of("daemon", "log_level")
    dashboards: bool = default_of("daemon", "dashboards")


class Settings(msgspec.Struct, frozen=True):
    root: Path
    vault: VaultSettings = msgspec.field(default_factory=VaultSettings)
    statuses: StatusMap = msgspec.field(default_factory=StatusMap)
    report: ReportSettings = msgspec.field(default_factory=ReportSettings)
    edit: EditSettings = msgspec.field(default_factory=EditSettings)
    notion: NotionSettings = msgspec.field(default_factory=NotionSettings)
    git: GitSettings = msgspec.field(default_factory=GitSettings)
    github: GitHubSettings = msgspec.field(default_factory=GitHubSettings)
    daemon: DaemonSettings = msgspec.field(default_factory=DaemonSettings)
    warnings: tuple[str, ...] = ()

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME


# ------------------------------------------------------------------------------ checking

FindingKind = Literal["unknown_table", "unknown_key", "wrong_type", "bad_value", "unreadable"]


class ConfigFinding(msgspec.Struct, frozen=True):
    """One problem in a config file, as data.

    ``kind``: ``unknown_table`` / ``unknown_key`` (warnings: ignored, ``suggestion`` holds the
    closest valid name, ``[table] key`` form, or ``""``), ``wrong_type`` / ``bad_value`` /
    ``unreadable`` (errors: the file is refused). ``table``/``key`` locate it (``key`` is
    ``""`` for a whole table or file); ``message`` is the one line a user reads.
    """

    kind: FindingKind
    table: str
    key: str
    message: str
    suggestion: str = ""

    @property
    def is_error(self) -> bool:
        return self.kind in ("wrong_type", "bad_value", "unreadable")


def _closest(name: str, candidates: Sequence[str]) -> str:
    """The candidate closest to ``name`` (case-insensitive), or ``""`` when none is close."""
    lowered = {c.lower(): c for c in candidates}
    if name.lower() in lowered:
        return lowered[name.lower()]
    import difflib  # only a config with a typo pays for it (every command loads settings)

    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else ""


def _type_name(value: object) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            list: "an array", dict: "a table"}.get(type(value), type(value).__name__)


_EXPECTED = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false",
             "str_list": "an array of strings", "patterns": "an array of strings"}


def _check_value(option: Option, value: object) -> tuple[object, ConfigFinding | None]:
    """The value as settings hold it, or a finding saying why it is refused."""
    where = f"{CONFIG_NAME}: [{option.table}] {option.key}"

    def refuse(kind: FindingKind, why: str) -> tuple[object, ConfigFinding]:
        return None, ConfigFinding(kind, option.table, option.key, f"{where} {why}")

    kind = option.kind
    shown = repr(value) if isinstance(value, str | int | float) else _type_name(value)
    # bool is an int in Python; a TOML `true` must not pass for a number.
    ok_type = {
        "str": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, int | float) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "str_list": isinstance(value, list) and all(isinstance(v, str) for v in value),
        "patterns": isinstance(value, list) and all(isinstance(v, str) for v in value),
    }[kind]
    if not ok_type:
        if isinstance(value, list) and kind in ("str_list", "patterns"):
            odd = next(v for v in value if not isinstance(v, str))
            return refuse("wrong_type", f"must be an array of strings; {odd!r} is "
                                        f"{_type_name(odd)}")
        return refuse("wrong_type", f"must be {_EXPECTED[kind]}, not {shown}")
    if kind in ("int", "float"):
        number = cast(float, value)
        if not math.isfinite(number):
            return refuse("bad_value", f"must be a finite number, not {shown}")
        if option.low is not None and (number < option.low
                                       or (option.low_open and number == option.low)):
            relation = "more than" if option.low_open else "at least"
            return refuse("bad_value", f"must be {relation} {option.low:g}, not {shown}")
        if option.high is not None and number > option.high:
            return refuse("bad_value", f"must be at most {option.high:g}, not {shown}")
        return (float(number) if kind == "float" else number), None
    if kind == "str" and option.choices and value not in option.choices:
        allowed = " or ".join(repr(c) for c in option.choices)
        return refuse("bad_value", f"must be {allowed}, not {shown}")
    if (option.table, option.key) == ("git", "message") and "{summary}" not in cast(str, value):
        return refuse("bad_value", "must contain {summary}")
    if ((option.table, option.key) == ("github", "default_repo") and value
            and not is_repo_name(value)):
        return refuse("bad_value", f"must be OWNER/REPO, not {shown}")
    if (option.table, option.key) == ("notion", "inbox") and any(
            not c.isprintable() for c in cast(str, value)):
        return refuse("bad_value", "must be a note path (no NUL or other control character)")
    if kind == "str" and option.table == "notion.properties" and not cast(str, value).strip():
        return refuse("bad_value", "must name a property, not an empty string")
    if kind == "str_list":
        items = cast(list[str], value)
        if any(not item.strip(".") or any(c in item for c in "/\\\0") for item in items):
            return refuse("bad_value", f"must be file name endings like \".md\", not {value!r}")
        return tuple(item if item.startswith(".") else f".{item}" for item in items), None
    if kind == "patterns":
        problem = _bad_pattern(cast(list[str], value))
        if problem is not None:
            return refuse("bad_value", f"holds {problem!r}, which is not a .gitignore pattern")
        return tuple(cast(list[str], value)), None
    return value, None


def _bad_pattern(patterns: Sequence[str]) -> str | None:
    """The first pattern gitignore syntax cannot read (``"!"``, a lone ``"\\"``), if any."""
    import pathspec  # only a config that lists excludes pays for it here

    for pattern in patterns:
        if "\0" in pattern:
            return pattern
        try:
            pathspec.GitIgnoreSpec.from_lines([pattern])
        except (ValueError, TypeError):  # GitIgnorePatternError is a ValueError
            return pattern
    return None


def _check_statuses(table: Mapping[str, Any]) -> tuple[dict[str, StatusType],
                                                        list[ConfigFinding]]:
    chars = dict(DEFAULT_STATUS_CHARS)
    findings: list[ConfigFinding] = []
    allowed = ", ".join(t.value for t in StatusType)
    for char, kind in table.items():
        if len(char) != 1:
            findings.append(ConfigFinding(
                "bad_value", STATUSES_TABLE, char,
                f"{CONFIG_NAME}: [statuses] key {char!r} must be one character"))
            continue
        if not isinstance(kind, str) or kind not in {t.value for t in StatusType}:
            shown = repr(kind) if isinstance(kind, str | int | float) else _type_name(kind)
            findings.append(ConfigFinding(
                "wrong_type" if not isinstance(kind, str) else "bad_value", STATUSES_TABLE, char,
                f"{CONFIG_NAME}: [statuses] {char!r} = {shown}: the type must be one of "
                f"{allowed}"))
            continue
        chars[char] = StatusType(kind)
    return chars, findings


def _table_suggestion(name: str) -> str:
    closest = _closest(name, [t for t in TABLES if "." not in t])
    return f"[{closest}]" if closest else ""


def _key_suggestion(table: str, key: str) -> str:
    """``key`` for a near miss in its own table, else ``[other] key`` for one in another."""
    own = [o.key for o in SCHEMA if o.table == table]
    closest = _closest(key, own)
    if closest:
        return closest
    elsewhere = [o for o in SCHEMA if o.key.lower() == key.lower() or
                 _closest(key, [o.key]) == o.key]
    if elsewhere:
        return f"[{elsewhere[0].table}] {elsewhere[0].key}"
    return ""


def _unknown(table: str, key: str) -> ConfigFinding:
    suggestion = _key_suggestion(table, key)
    hint = f" (did you mean {suggestion}?)" if suggestion else ""
    return ConfigFinding("unknown_key", table, key,
                         f"{CONFIG_NAME}: [{table}] unknown key {key!r} ignored{hint}", suggestion)


def _validate(data: Mapping[str, Any]) -> tuple[dict[tuple[str, str], object],
                                                 dict[str, StatusType], list[ConfigFinding]]:
    """Check a parsed document against :data:`SCHEMA`: the accepted values by place, the
    status map, and every finding in file order."""
    values: dict[tuple[str, str], object] = {}
    findings: list[ConfigFinding] = []
    chars = dict(DEFAULT_STATUS_CHARS)
    for name, table in data.items():
        if name not in TABLES:
            suggestion = _table_suggestion(name)
            hint = f" (did you mean {suggestion}?)" if suggestion else ""
            findings.append(ConfigFinding("unknown_table", name, "",
                                          f"{CONFIG_NAME}: unknown table [{name}] ignored{hint}",
                                          suggestion))
            continue
        if not isinstance(table, dict):
            findings.append(ConfigFinding("wrong_type", name, "",
                                          f"{CONFIG_NAME}: [{name}] must be a table"))
            continue
        if name == STATUSES_TABLE:
            chars, found = _check_statuses(table)
            findings += found
            continue
        for key, value in table.items():
            if name == "notion" and key == "properties":
                if not isinstance(value, dict):
                    findings.append(ConfigFinding(
                        "wrong_type", "notion", key,
                        f"{CONFIG_NAME}: [notion.properties] must be a table"))
                    continue
                for role, column in value.items():
                    findings += _accept("notion.properties", role, column, values)
                continue
            findings += _accept(name, key, value, values)
    return values, chars, findings


def _accept(table: str, key: str, value: object,
            values: dict[tuple[str, str], object]) -> list[ConfigFinding]:
    option = _BY_PLACE.get((table, key))
    if option is None:
        return [_unknown(table, key)]
    accepted, finding = _check_value(option, value)
    if finding is not None:
        return [finding]
    values[table, key] = accepted
    return []


def _parse(raw: bytes, path: Path) -> dict[str, Any]:
    import tomllib  # only a vault with a config file pays for the TOML parser

    try:
        return tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {' '.join(str(exc).split())}") from None
    except RecursionError:
        raise ConfigError(f"{path}: arrays or tables nested too deeply") from None


def _read(path: Path) -> bytes | None:
    """The file's bytes; ``None`` when it does not exist.

    Through the one safe reader: a FIFO, a device or a link to ``/dev/zero`` is refused at
    once, and a file of many MB is not a config anyone wrote.
    """
    try:
        return read_regular(path, MAX_CONFIG_BYTES)[0]
    except Unreadable as unreadable:
        if unreadable.kind == "missing" and not os.path.islink(path):
            return None
        raise ConfigError(f"{path}: {unreadable.reason}") from None


def check_config(path: Path) -> list[ConfigFinding]:
    """Every problem in a config file, as data; ``[]`` for a clean (or absent) file.

    ``path`` is the ``.vaultmap.toml`` itself or the vault folder holding it. Unlike
    :func:`load_settings` this never raises for the file's content: a file that cannot be read
    or parsed is one ``unreadable`` finding, and every wrong type or value is reported, not
    only the first.
    """
    if path.is_dir():
        path = path / CONFIG_NAME
    try:
        raw = _read(path)
        if raw is None:
            return []
        data = _parse(raw, path)
    except ConfigError as error:
        return [ConfigFinding("unreadable", "", "", str(error))]
    return _validate(data)[2]


def settings_from_mapping(root: Path, data: Mapping[str, Any]) -> Settings:
    """Build settings from an already parsed TOML document; the first error is raised as a
    :class:`~vaultmap.errors.ConfigError`, warnings go to ``Settings.warnings``."""
    values, chars, findings = _validate(data)
    for finding in findings:
        if finding.is_error:
            raise ConfigError(finding.message)

    def get(table: str, key: str) -> Any:
        return values.get((table, key), default_of(table, key))

    vault = VaultSettings(extensions=get("vault", "extensions"), exclude=get("vault", "exclude"),
                          flavor=Flavor(get("vault", "flavor")),
                          max_note_bytes=_megabytes(get("vault", "max_note_mb")))
    report = ReportSettings(top_level_only=get("report", "top_level_only"),
                            depth=get("report", "depth"),
                            stalled_days=get("report", "stalled_days"))
    edit = EditSettings(done_date=get("edit", "done_date"), sync_wait=get("edit", "sync_wait"))
    properties = {role: get("notion.properties", role) for role in NOTION_PROPERTY_DEFAULTS}
    notion_keys = [o.key for o in SCHEMA if o.table == "notion"]
    notion = NotionSettings(properties=MappingProxyType(properties),
                            **{key: get("notion", key) for key in notion_keys})
    git = GitSettings(**{o.key: get("git", o.key) for o in SCHEMA if o.table == "git"})
    github = GitHubSettings(**{o.key: get("github", o.key) for o in SCHEMA
                               if o.table == "github"})
    daemon = DaemonSettings(**{o.key: get("daemon", o.key) for o in SCHEMA
                               if o.table == "daemon"})
    return Settings(root=root, vault=vault, statuses=StatusMap(MappingProxyType(chars)),
                    report=report, edit=edit, notion=notion, git=git, github=github,
                    daemon=daemon, warnings=tuple(f.message for f in findings))


def load_settings(root: Path) -> Settings:
    """Read ``ROOT/.vaultmap.toml``; defaults when the file does not exist."""
    path = root / CONFIG_NAME
    raw = _read(path)
    if raw is None:
        return Settings(root=root)
    return settings_from_mapping(root, _parse(raw, path))


# ------------------------------------------------------------------------ the default file

_HEADER = """\
# vaultmap settings for this vault.
#
# Every option is listed with its default value, so deleting a line changes nothing. Paths are
# relative to the vault root (the folder that holds this file). Unknown tables and keys are
# ignored with a warning that names the closest valid key; a value of the wrong type is an
# error that names the key.
"""

_TABLE_DOCS: Mapping[str, str] = MappingProxyType({
    STATUSES_TABLE: "The meaning of each status character, the one between [ and ]. Types: "
                    "todo, doing, done,\ncancelled, other. A character not listed here is "
                    "\"other\" and counts as open work.\nCancelled tasks are shown but leave "
                    "the denominator, so they never lower the percentage.",
    "notion.properties": "The names of the database's columns (properties), if yours differ "
                         "from these.",
})

_STATUS_EXAMPLES = """\
# Examples for themes with more statuses (uncomment to use):
# ">" = "todo"       # deferred
# "?" = "other"      # question
# "!" = "other"      # important
"""


def toml_value(value: object) -> str:
    """``value`` written as TOML (strings, booleans, numbers and arrays of them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, tuple | list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"no TOML form for {value!r}")


def _comment(text: str) -> list[str]:
    return [f"# {line}".rstrip() for line in text.splitlines()]


def default_config_text() -> str:
    """The documented default ``.vaultmap.toml``: every option of :data:`SCHEMA` at its
    default with its comment, and the default status map."""
    out = [_HEADER.rstrip("\n")]
    for table in TABLES:
        out += ["", f"[{table}]"]
        out += _comment(_TABLE_DOCS.get(table, ""))
        if table == STATUSES_TABLE:
            out += [f"{toml_value(char)} = {toml_value(kind.value)}"
                    for char, kind in DEFAULT_STATUS_CHARS.items()]
            out += _STATUS_EXAMPLES.rstrip("\n").splitlines()
            continue
        options = [o for o in SCHEMA if o.table == table]
        width = max((len(f"{o.key} = {toml_value(o.default)}") for o in options if o.inline),
                    default=0)
        for option in options:
            line = f"{option.key} = {toml_value(option.default)}"
            if option.inline:
                out.append(f"{line:<{width}}  # {option.doc}")
            else:
                out += _comment(option.doc)
                out.append(line)
    return "\n".join(out) + "\n"


__all__ = [
    "CONFIG_NAME",
    "NOTION_PROPERTY_DEFAULTS",
    "SCHEMA",
    "STATE_DIR",
    "ConfigFinding",
    "EditSettings",
    "GitHubSettings",
    "NotionSettings",
    "Option",
    "ReportSettings",
    "Settings",
    "VaultSettings",
    "check_config",
    "default_config_text",
    "default_of",
    "load_settings",
    "settings_from_mapping",
]
