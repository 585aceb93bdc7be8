"""``.vaultmap.toml`` -> typed settings.

Every option has a default, so a vault without a config file works. Unknown keys are ignored
with a warning (a newer config read by an older vaultmap should still work); a wrong type is a
:class:`~vaultmap.errors.ConfigError` naming the key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from vaultmap.errors import ConfigError
from vaultmap.fs import MAX_CONFIG_BYTES, Unreadable, read_regular
from vaultmap.model import DEFAULT_STATUS_CHARS, Flavor, StatusMap, StatusType

CONFIG_NAME = ".vaultmap.toml"
STATE_DIR = ".vaultmap"


@dataclass(frozen=True, slots=True)
class VaultSettings:
    extensions: tuple[str, ...] = (".md", ".markdown")
    exclude: tuple[str, ...] = ()  # gitignore syntax, relative to the vault root
    flavor: Flavor = Flavor.OBSIDIAN
    # Notes larger than this are skipped with a warning (a 50 MB log pasted into a vault).
    max_note_bytes: int = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ReportSettings:
    top_level_only: bool = False
    depth: int = 2


@dataclass(frozen=True, slots=True)
class EditSettings:
    done_date: bool = False  # add " ✅ YYYY-MM-DD" when a task becomes done, remove it on undo


NOTION_PROPERTY_DEFAULTS: Mapping[str, str] = MappingProxyType(
    {
        "task": "Task",
        "done": "Done",
        "status": "Status",
        "note": "Note",
        "section": "Section",
        "due": "Due",
        "scheduled": "Scheduled",
        "start": "Start",
        "priority": "Priority",
        "tags": "Tags",
        "key": "Key",
        "open": "Open",
    }
)


@dataclass(frozen=True, slots=True)
class NotionSettings:
    database_id: str = ""
    token_env: str = "NOTION_TOKEN"
    prefer: str = "done"  # done | vault | notion
    inbox: str = ""  # vault-relative note that receives rows created in Notion
    full_every: int = 20  # every Nth sync queries the whole database
    guard_ratio: float = 0.5  # refuse to mirror a loss of more than this share ...
    guard_min: int = 10  # ... of at least this many tasks, without --force
    properties: Mapping[str, str] = field(default_factory=lambda: NOTION_PROPERTY_DEFAULTS)
    # HTTP behaviour of the Notion adapter (tests turn pacing off and backoff down).
    requests_per_second: float = 3.0  # 0: no pacing
    timeout: float = 30.0  # seconds per request
    max_attempts: int = 8  # per request, the first try included
    backoff: float = 0.5  # first retry delay in seconds (doubles, with jitter)


@dataclass(frozen=True, slots=True)
class Settings:
    root: Path
    vault: VaultSettings = field(default_factory=VaultSettings)
    statuses: StatusMap = field(default_factory=StatusMap)
    report: ReportSettings = field(default_factory=ReportSettings)
    edit: EditSettings = field(default_factory=EditSettings)
    notion: NotionSettings = field(default_factory=NotionSettings)
    warnings: tuple[str, ...] = ()

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME


def _expect(table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = table[key]
    # bool is an int in Python; a TOML `true` must not pass for a number.
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise ConfigError(f"{CONFIG_NAME}: [{where}] {key} must be a number, not {value!r}")
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        article = "an" if names[0] in "aeiou" else "a"
        raise ConfigError(f"{CONFIG_NAME}: [{where}] {key} must be {article} {names}, "
                          f"not {value!r}")
    return value


def _table(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{CONFIG_NAME}: [{name}] must be a table")
    return value


def settings_from_mapping(root: Path, data: Mapping[str, Any]) -> Settings:
    """Build settings from an already parsed TOML document."""
    warnings: list[str] = []
    known = {"vault", "statuses", "report", "edit", "notion"}
    warnings += [f"{CONFIG_NAME}: unknown table [{k}] ignored" for k in data if k not in known]

    v = _table(data, "vault")
    vault = VaultSettings()
    if "extensions" in v:
        exts = _expect(v, "extensions", list, "vault")
        vault = VaultSettings(
            extensions=tuple(e if e.startswith(".") else f".{e}" for e in map(str, exts)),
            exclude=vault.exclude,
            flavor=vault.flavor,
        )
    if "exclude" in v:
        exclude = tuple(map(str, _expect(v, "exclude", list, "vault")))
        vault = replace(vault, exclude=exclude)
    if "flavor" in v:
        flavor = _expect(v, "flavor", str, "vault")
        try:
            vault = VaultSettings(vault.extensions, vault.exclude, Flavor(flavor))
        except ValueError:
            raise ConfigError(f"{CONFIG_NAME}: [vault] flavor must be 'gfm' or 'obsidian', "
                              f"not {flavor!r}") from None
    if "max_note_mb" in v:
        max_mb = float(_expect(v, "max_note_mb", (int, float), "vault"))
        if max_mb <= 0:
            raise ConfigError(f"{CONFIG_NAME}: [vault] max_note_mb must be more than 0")
        vault = replace(vault, max_note_bytes=int(max_mb * 1024 * 1024))

    s = _table(data, "statuses")
    chars = dict(DEFAULT_STATUS_CHARS)
    for char, kind in s.items():
        if len(char) != 1:
            raise ConfigError(f"{CONFIG_NAME}: [statuses] key {char!r} must be one character")
        try:
            chars[char] = StatusType(str(kind))
        except ValueError:
            allowed = ", ".join(t.value for t in StatusType)
            raise ConfigError(f"{CONFIG_NAME}: [statuses] {char!r} = {kind!r}: "
                              f"the type must be one of {allowed}") from None

    r = _table(data, "report")
    report = ReportSettings(
        top_level_only=bool(_expect(r, "top_level_only", bool, "report"))
        if "top_level_only" in r else False,
        depth=int(_expect(r, "depth", int, "report")) if "depth" in r else 2,
    )

    e = _table(data, "edit")
    edit = EditSettings(done_date=bool(_expect(e, "done_date", bool, "edit"))
                        if "done_date" in e else False)

    n = _table(data, "notion")
    defaults = NotionSettings()
    props = dict(NOTION_PROPERTY_DEFAULTS)
    if "properties" in n:
        for name, value in _expect(n, "properties", dict, "notion").items():
            if name not in NOTION_PROPERTY_DEFAULTS:
                warnings.append(f"{CONFIG_NAME}: [notion.properties] unknown {name!r} ignored")
                continue
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{CONFIG_NAME}: [notion.properties] {name} must be a name")
            props[name] = value
    prefer = str(_expect(n, "prefer", str, "notion")) if "prefer" in n else defaults.prefer
    if prefer not in ("done", "vault", "notion"):
        raise ConfigError(f"{CONFIG_NAME}: [notion] prefer must be 'done', 'vault' or 'notion', "
                          f"not {prefer!r}")
    notion = NotionSettings(
        database_id=str(_expect(n, "database_id", str, "notion")) if "database_id" in n else "",
        token_env=str(_expect(n, "token_env", str, "notion")) if "token_env" in n
        else defaults.token_env,
        prefer=prefer,
        inbox=str(_expect(n, "inbox", str, "notion")) if "inbox" in n else "",
        full_every=int(_expect(n, "full_every", int, "notion")) if "full_every" in n
        else defaults.full_every,
        guard_ratio=float(_expect(n, "guard_ratio", (int, float), "notion"))
        if "guard_ratio" in n else defaults.guard_ratio,
        guard_min=int(_expect(n, "guard_min", int, "notion")) if "guard_min" in n
        else defaults.guard_min,
        properties=MappingProxyType(props),
    )
    for key, kind in (("requests_per_second", (int, float)), ("timeout", (int, float)),
                      ("max_attempts", int), ("backoff", (int, float))):
        if key in n:
            number = _expect(n, key, kind, "notion")
            if number < 0 or (key in ("timeout", "max_attempts") and number <= 0):
                raise ConfigError(f"{CONFIG_NAME}: [notion] {key} must be more than 0")
            notion = replace(notion, **{key: number})
    return Settings(root=root, vault=vault, statuses=StatusMap(MappingProxyType(chars)),
                    report=report, edit=edit, notion=notion, warnings=tuple(warnings))


def load_settings(root: Path) -> Settings:
    """Read ``ROOT/.vaultmap.toml``; defaults when the file does not exist."""
    path = root / CONFIG_NAME
    # The one safe reader: a FIFO, a device or a link to /dev/zero is refused at once, and a
    # file of many MB is not a config anyone wrote.
    try:
        raw, _ = read_regular(path, MAX_CONFIG_BYTES)
    except Unreadable as unreadable:
        if unreadable.kind == "missing" and not os.path.islink(path):
            return Settings(root=root)
        raise ConfigError(f"{path}: {unreadable.reason}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return settings_from_mapping(root, data)
