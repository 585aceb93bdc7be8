"""vault-template/: its config documents every option at its default; its notes read cleanly."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import msgspec
import pytest

from vaultmap.config import NOTION_PROPERTY_DEFAULTS, Settings, load_settings
from vaultmap.model import DEFAULT_STATUS_CHARS, StatusType
from vaultmap.vault import scan_vault

TEMPLATE = Path(__file__).resolve().parent.parent / "vault-template"

# Settings fields whose TOML key has another name (the file speaks in user units).
TOML_NAME = {"max_note_bytes": "max_note_mb"}


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """A private copy, so a scan's index never lands in the repository's template."""
    copy = tmp_path / "vault"
    shutil.copytree(TEMPLATE, copy, symlinks=True)
    return copy


def _toml() -> dict[str, object]:
    return tomllib.loads((TEMPLATE / ".vaultmap.toml").read_text(encoding="utf-8"))


def test_template_config_loads_to_the_defaults_without_warnings() -> None:
    settings = load_settings(TEMPLATE)
    assert settings.warnings == ()
    assert settings == Settings(root=TEMPLATE)
    assert settings.notion.database_id == ""


def _sections() -> list[tuple[str, type]]:
    """Every table config.py reads: the Settings fields that are settings Structs."""
    sections = []
    for section in msgspec.structs.fields(Settings):
        factory = section.default_factory
        if factory is not msgspec.NODEFAULT:
            default = factory()
            if isinstance(default, msgspec.Struct) and section.name != "statuses":
                sections.append((section.name, type(default)))
    return sections


def test_the_section_list_is_not_empty() -> None:
    assert {name for name, _ in _sections()} >= {"vault", "report", "edit", "notion"}


@pytest.mark.parametrize(("table", "options"), _sections())
def test_template_config_lists_every_option(table: str, options: type) -> None:
    document = _toml().get(table)
    assert isinstance(document, dict), f"add a [{table}] table to vault-template/.vaultmap.toml"
    expected = {TOML_NAME.get(f.name, f.name) for f in msgspec.structs.fields(options)}
    listed = set(document)
    missing = expected - listed
    assert not missing, f"add {sorted(missing)} to vault-template/.vaultmap.toml [{table}]"
    assert listed <= expected, f"[{table}] lists options config.py does not read"


def test_template_config_lists_every_status_and_notion_property() -> None:
    document = _toml()
    statuses = document["statuses"]
    assert isinstance(statuses, dict)
    assert {char: StatusType(kind) for char, kind in statuses.items()} == dict(DEFAULT_STATUS_CHARS)
    notion = document["notion"]
    assert isinstance(notion, dict)
    assert notion["properties"] == dict(NOTION_PROPERTY_DEFAULTS)


def test_every_template_option_has_a_comment() -> None:
    lines = (TEMPLATE / ".vaultmap.toml").read_text(encoding="utf-8").splitlines()
    table = ""
    previous = ""
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("["):
            table = stripped
        elif stripped and not stripped.startswith("#") and table != "[statuses]":
            assert previous.startswith("#") or " # " in stripped, f"{table} {stripped}: no comment"
        if stripped:
            previous = stripped


def test_every_template_note_parses_without_warnings(vault: Path) -> None:
    settings = load_settings(vault)
    result = scan_vault(settings, use_index=False, jobs=1)
    assert result.warnings == ()
    notes = {note.path: note for note in result.notes}
    assert not any(path.startswith(".obsidian/") for path in notes)
    for note in notes.values():
        assert note.warnings == (), note.path
    # The shape the brief asks for: subfolders, notes without tasks, callouts, code examples.
    assert {path.rsplit("/", 1)[0] for path in notes if "/" in path} >= {
        "Roadmap", "Projects", "Projects/Archive", "Reading", "Notes"}
    assert notes["Home.md"].tasks == ()
    assert notes["Notes/Checklist Syntax.md"].tasks == ()  # code, comments: all task-looking
    review = notes["Projects/Weekly Review.md"].tasks
    assert review and all(task.in_quote for task in review)
    reading = notes["Reading/Reading List.md"]
    assert {"reading", "books"} <= set(reading.tags)
    assert {task.status for task in reading.tasks} >= {" ", "x", "/", "-"}
    roadmap = notes["Roadmap/Data Science Roadmap.md"]
    assert any(len(task.section) >= 3 and task.section[1].startswith("Month ")
               and task.section[2].startswith("Week ") for task in roadmap.tasks)
    assert any(task.depth > 0 for task in roadmap.tasks)
    project = notes["Projects/Community Garden Website.md"].tasks
    assert any(task.fields.block_id for task in project)
    assert any(task.fields.depends_on for task in project)
    assert any(task.fields.recurrence for task in project)
    assert any(task.fields.due and task.fields.due < "2026-06-01" and task.is_open
               for task in project)  # overdue in 2026


def test_every_template_task_is_where_it_says(vault: Path) -> None:
    result = scan_vault(load_settings(vault), use_index=False, jobs=1)
    for note in result.notes:
        data = (vault / note.path).read_bytes()
        for task in note.tasks:
            assert data[task.offset - 1:task.offset] == b"["
            status = data[task.offset:task.offset + task.status_len]
            assert status.decode("utf-8") == task.status
            assert data[task.offset + task.status_len:task.offset + task.status_len + 1] == b"]"
