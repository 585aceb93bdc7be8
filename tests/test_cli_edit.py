"""``vaultmap done / undo / set``: targets, output, --dry-run, --with-children, exit codes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from vaultmap.cli import main
from vaultmap.parse import parse_note

ROADMAP = (
    "# Roadmap\n"
    "## Month 1\n"
    "- [ ] Set up the workshop\n"
    "\t- [ ] Buy a workbench\n"
    "\t- notes\n"
    "\t\t- [x] Measure the wall\n"
    "- [ ] Learn joinery basics\n"
    "## Month 2\n"
    "- [ ] Build a bookshelf\n"
    "\t- [ ] Cut the boards\n"
)
INBOX = "- [ ] Buy glue\n- [ ] Buy sandpaper\n"


@pytest.fixture()
def vault(tmp_path: Path) -> Path:
    (tmp_path / "Projects").mkdir()
    (tmp_path / "Projects" / "Roadmap.md").write_text(ROADMAP, newline="")
    (tmp_path / "Inbox.md").write_text(INBOX, newline="")
    return tmp_path


def _run(vault: Path, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--vault", str(vault)], catch_exceptions=False)


def _roadmap(vault: Path) -> str:
    return (vault / "Projects" / "Roadmap.md").read_bytes().decode()


def test_done_by_path_and_line(vault: Path) -> None:
    result = _run(vault, "done", f"{vault}/Projects/Roadmap.md:3")
    assert result.exit_code == 0, result.output
    assert result.output == "Projects/Roadmap.md:3  [ ] -> [x]  Set up the workshop\n"
    assert _roadmap(vault) == ROADMAP.replace("- [ ] Set up", "- [x] Set up")


def test_a_relative_path_is_taken_from_the_vault_root(vault: Path) -> None:
    assert _run(vault, "done", "Projects/Roadmap.md:7").exit_code == 0
    assert "- [x] Learn joinery basics" in _roadmap(vault)


def test_undo_and_set_by_key(vault: Path) -> None:
    data = (vault / "Projects" / "Roadmap.md").read_bytes()
    task = parse_note(data, "Projects/Roadmap.md").tasks[2]  # "Measure the wall", done
    result = _run(vault, "undo", task.key)
    assert result.exit_code == 0, result.output
    assert result.output == "Projects/Roadmap.md:6  [x] -> [ ]  Measure the wall\n"
    result = _run(vault, "set", "/", task.key)
    assert result.output == "Projects/Roadmap.md:6  [ ] -> [/]  Measure the wall\n"
    result = _run(vault, "set", "cancelled", task.key)
    assert result.output == "Projects/Roadmap.md:6  [/] -> [-]  Measure the wall\n"
    assert "\t\t- [-] Measure the wall\n" in _roadmap(vault)


def test_match_finds_one_task_case_insensitively(vault: Path) -> None:
    result = _run(vault, "done", "--match", "BOOKSHELF")
    assert result.exit_code == 0, result.output
    assert "- [x] Build a bookshelf\n" in _roadmap(vault)


def test_an_ambiguous_match_lists_the_candidates_and_changes_nothing(vault: Path) -> None:
    before = {p: p.read_bytes() for p in vault.rglob("*.md")}
    result = _run(vault, "done", "--match", "buy")
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        "vaultmap: --match 'buy' matches 3 tasks; name one as PATH:LINE, or pass --all to "
        "change them all. Nothing changed.",
        "  Inbox.md:1  [ ]  Buy glue",
        "  Inbox.md:2  [ ]  Buy sandpaper",
        "  Projects/Roadmap.md:4  [ ]  Buy a workbench",
    ]
    assert {p: p.read_bytes() for p in vault.rglob("*.md")} == before


def test_all_changes_every_match(vault: Path) -> None:
    result = _run(vault, "done", "--match", "buy", "--all")
    assert result.exit_code == 0, result.output
    assert (vault / "Inbox.md").read_text() == "- [x] Buy glue\n- [x] Buy sandpaper\n"
    assert "\t- [x] Buy a workbench\n" in _roadmap(vault)


def test_regex_match(vault: Path) -> None:
    result = _run(vault, "set", ">", "--regex", "--match", r"^Buy (glue|nails)$")
    assert result.exit_code == 0, result.output
    assert (vault / "Inbox.md").read_text() == "- [>] Buy glue\n- [ ] Buy sandpaper\n"
    bad = _run(vault, "done", "--regex", "--match", "(")
    assert bad.exit_code == 1 and bad.output.startswith("vaultmap: --regex '(':")


def test_dry_run_prints_the_diff_and_changes_nothing(vault: Path) -> None:
    note = vault / "Projects" / "Roadmap.md"
    before = note.stat()
    result = _run(vault, "done", "--dry-run", "Projects/Roadmap.md:3", "Projects/Roadmap.md:9")
    assert result.exit_code == 0, result.output
    assert result.output == (
        "--- a/Projects/Roadmap.md\n"
        "+++ b/Projects/Roadmap.md\n"
        "@@ -1,10 +1,10 @@\n"
        " # Roadmap\n"
        " ## Month 1\n"
        "-- [ ] Set up the workshop\n"
        "+- [x] Set up the workshop\n"
        " \t- [ ] Buy a workbench\n"
        " \t- notes\n"
        " \t\t- [x] Measure the wall\n"
        " - [ ] Learn joinery basics\n"
        " ## Month 2\n"
        "-- [ ] Build a bookshelf\n"
        "+- [x] Build a bookshelf\n"
        " \t- [ ] Cut the boards\n"
    )
    after = note.stat()
    assert note.read_bytes().decode() == ROADMAP
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_with_children_sets_the_whole_subtree_only(vault: Path) -> None:
    result = _run(vault, "set", "-", "--with-children", "Projects/Roadmap.md:3")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Projects/Roadmap.md:3  [ ] -> [-]  Set up the workshop",
        "Projects/Roadmap.md:4  [ ] -> [-]  Buy a workbench",
        "Projects/Roadmap.md:6  [x] -> [-]  Measure the wall",
    ]
    text = _roadmap(vault)
    assert "- [ ] Learn joinery basics\n" in text and "\t- [ ] Cut the boards\n" in text


def test_a_task_already_in_that_status_is_reported_not_written(vault: Path) -> None:
    note = vault / "Projects" / "Roadmap.md"
    inode = note.stat().st_ino
    result = _run(vault, "done", "Projects/Roadmap.md:6")
    assert result.exit_code == 0
    assert result.output == "Projects/Roadmap.md:6  already [x]  Measure the wall\n"
    assert note.stat().st_ino == inode


def test_done_date_from_the_vault_config(vault: Path) -> None:
    (vault / ".vaultmap.toml").write_text("[edit]\ndone_date = true\n")
    assert _run(vault, "done", "Inbox.md:1").exit_code == 0
    today = date.today().isoformat()
    assert (vault / "Inbox.md").read_text() == f"- [x] Buy glue ✅ {today}\n- [ ] Buy sandpaper\n"
    assert _run(vault, "undo", "Inbox.md:1").exit_code == 0
    assert (vault / "Inbox.md").read_text() == INBOX


class _Renames(FileSystemEventHandler):
    """Counts the renames onto one file; a sentinel file marks the end of the event stream."""

    def __init__(self, note: Path, sentinel: Path) -> None:
        self.note, self.sentinel = str(note), str(sentinel)
        self.renames = 0
        self.done = threading.Event()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type == "moved" and os.fsdecode(event.dest_path) == self.note:
            self.renames += 1
        if os.fsdecode(event.src_path) == self.sentinel:
            self.done.set()


def test_many_targets_in_one_note_are_one_write(vault: Path) -> None:
    folder = vault / "Projects"
    note = folder / "Roadmap.md"
    counter = _Renames(note, folder / "sentinel")
    observer = Observer()
    observer.schedule(counter, str(folder))
    observer.start()
    try:
        result = _run(vault, "done", "Projects/Roadmap.md:3", "Projects/Roadmap.md:4",
                      "Projects/Roadmap.md:7", "Projects/Roadmap.md:9", "Projects/Roadmap.md:10")
        assert result.exit_code == 0, result.output
        (folder / "sentinel").write_text("end")  # inotify keeps order: seen last
        assert counter.done.wait(timeout=10)
    finally:
        observer.stop()
        observer.join(timeout=10)
    assert counter.renames == 1
    assert _roadmap(vault).count("- [x]") == 6


# --- refusals and exit codes -------------------------------------------------------------------


def test_read_only_note_exit_7(vault: Path) -> None:
    (vault / "Inbox.md").chmod(0o444)
    result = _run(vault, "done", "Inbox.md:1")
    assert result.exit_code == 7
    assert result.output == "vaultmap: Inbox.md: the note is read-only; nothing changed\n"
    assert (vault / "Inbox.md").read_text() == INBOX
    assert stat.S_IMODE((vault / "Inbox.md").stat().st_mode) == 0o444


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["done", "Inbox.md:9"], "vaultmap: Inbox.md:9: no task on that line\n"),
        (["done", "Nope.md:1"], "vaultmap: Nope.md: no such note\n"),
        (["done", "k:0000"], "vaultmap: k:0000: no task has this key\n"),
        (["done", "--match", "zebra"], "vaultmap: --match 'zebra': no task matches\n"),
        (["done", "Inbox.md"], "vaultmap: 'Inbox.md': not a target; give PATH:LINE, a task key "
                               "or --match TEXT\n"),
    ],
)
def test_targets_that_name_no_task_exit_11(vault: Path, args: list[str], message: str) -> None:
    result = _run(vault, *args)
    assert result.exit_code == 11
    assert result.output == message


def test_a_path_outside_the_vault_is_not_a_target(
        vault: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("elsewhere") / "x.md"
    outside.write_text("- [ ] not yours\n")
    result = _run(vault, "done", f"{outside}:1")
    assert result.exit_code == 11
    assert "not inside the vault" in result.output
    assert outside.read_text() == "- [ ] not yours\n"


def test_no_target_and_a_bad_status_are_usage_errors(vault: Path) -> None:
    assert _run(vault, "done").exit_code == 2
    bad = _run(vault, "set", "xy", "Inbox.md:1")
    assert bad.exit_code == 2 and "exactly one character" in bad.output


def test_the_real_command_in_a_subprocess(vault: Path) -> None:
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    ok = subprocess.run([sys.executable, "-m", "vaultmap.cli", "done", "Inbox.md:2"], cwd=vault,
                        env=env, capture_output=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == b"Inbox.md:2  [ ] -> [x]  Buy sandpaper\n"
    ambiguous = subprocess.run([sys.executable, "-m", "vaultmap.cli", "undo", "--match", "buy"],
                               cwd=vault, env=env, capture_output=True, timeout=60)
    assert ambiguous.returncode == 2
    assert b"Traceback" not in ambiguous.stderr
    assert (vault / "Inbox.md").read_text() == "- [ ] Buy glue\n- [x] Buy sandpaper\n"


def test_a_status_the_note_encoding_cannot_hold_is_exit_21_not_9(vault: Path) -> None:
    # Exit 9 means "the task changed meanwhile": an encoding refusal has a code of its own.
    legacy = vault / "Ancien.md"
    legacy.write_bytes("- [ ] Réserver la salle\n".encode("cp1252"))
    result = CliRunner().invoke(main, ["set", "→", "Ancien.md:1", "--vault", str(vault)])
    assert result.exit_code == 21
    assert result.output.splitlines() == [
        "Ancien.md:1  not changed: [→] cannot be written in this note's encoding",
        "vaultmap: 1 task(s) were not changed; the reasons are above",
    ]
    assert legacy.read_bytes() == "- [ ] Réserver la salle\n".encode("cp1252")


@pytest.mark.timeout(60)  # without a bound this pattern ran for minutes
def test_a_catastrophic_regex_is_refused_in_one_line(vault: Path) -> None:
    (vault / "Long.md").write_text("- [ ] " + "a" * 5000 + "!\n")
    result = _run(vault, "done", "--regex", "--match", r"(a+)+$")
    assert result.exit_code == 1
    assert result.output.startswith("vaultmap: --regex '(a+)+$': gave up after")
    assert len(result.output.splitlines()) == 1
    assert (vault / "Long.md").read_text().startswith("- [ ] ")
