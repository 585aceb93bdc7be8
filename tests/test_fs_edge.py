"""The file-system edge under hostile vaults: links out of the vault, FIFOs, devices, odd files.

A cloned vault can carry symbolic links, FIFOs and odd config files, so every test here builds
one on disk and runs the real CLI, scanner, editor or sync runner against it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from test_sync_runner import MemoryRemote, make_settings, sync, write
from vaultmap.cli import main
from vaultmap.edit import append_tasks
from vaultmap.errors import EditError, StateError
from vaultmap.sync.runner import run_sync
from vaultmap.sync.state import StateStore
from vaultmap.vault import scan_vault


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert not (result.exception and not isinstance(result.exception, SystemExit)), \
        result.exception
    return result.exit_code, result.stdout, result.stderr


def one_line_error(stderr: str, expected: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], stderr
    assert lines[0].startswith("vaultmap: ") and "Traceback" not in stderr


def marked_vault(root: Path) -> Path:
    (root / ".obsidian").mkdir(parents=True)
    return root


def vaultmap_bin() -> str:
    return str(Path(sys.executable).parent / "vaultmap")


# --------------------------------------------------------------------------- links (writes)


def test_done_on_a_note_linked_from_outside_the_vault_is_refused(tmp_path: Path) -> None:
    vault = marked_vault(tmp_path / "vault")
    outside = tmp_path / "outside.md"
    outside.write_bytes(b"- [ ] not in the vault\n")
    (vault / "linked.md").symlink_to(outside)
    code, _, err = invoke("done", "--vault", str(vault), "linked.md:1")
    assert code == 1
    one_line_error(err, "linked.md: leads outside the vault")
    assert outside.read_bytes() == b"- [ ] not in the vault\n"


def test_a_note_linked_inside_the_vault_is_still_written_at_its_target(tmp_path: Path) -> None:
    vault = marked_vault(tmp_path / "vault")
    write(vault, "real/n.md", "- [ ] inside\n")
    (vault / "alias.md").symlink_to(vault / "real" / "n.md")
    code, out, err = invoke("done", "--vault", str(vault), "alias.md:1")
    assert code == 0, err
    assert out.startswith("alias.md:1  [ ] -> [x]")
    assert (vault / "real" / "n.md").read_bytes() == b"- [x] inside\n"
    assert (vault / "alias.md").is_symlink()


def test_a_tick_from_the_remote_never_writes_through_a_link_out_of_the_vault(
        tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    outside = tmp_path / "elsewhere"
    write(outside, "Linked.md", "- [ ] lives outside\n")
    write(vault, "Plan.md", "- [ ] at home\n")
    (vault / "Shared").symlink_to(outside, target_is_directory=True)
    s, remote = make_settings(vault), MemoryRemote()
    sync(s, remote)
    (row,) = [r for r in remote.live() if r.text == "lives outside"]
    remote.person_sets_status(row.remote_id, "x")
    report = run_sync(s, remote, progress=False)
    assert (outside / "Linked.md").read_bytes() == b"- [ ] lives outside\n"
    assert any("outside the vault" in line for line in report.failures), report.failures


def test_an_inbox_under_a_linked_folder_creates_nothing_outside(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    write(vault, "Plan.md", "- [ ] one\n")
    (vault / "In").symlink_to(outside, target_is_directory=True)
    s = make_settings(vault, inbox="In/new/Inbox.md")
    with pytest.raises(EditError, match="outside the vault"):
        append_tasks(s, Path("In/new/Inbox.md"), ["- [ ] from the remote"])
    assert list(outside.iterdir()) == []


def test_the_same_note_through_two_links_is_one_note(tmp_path: Path) -> None:
    vault = marked_vault(tmp_path / "vault")
    outside = tmp_path / "elsewhere"
    write(outside, "Shared.md", "- [ ] shared task\n")
    (vault / "a.md").symlink_to(outside / "Shared.md")
    (vault / "b.md").symlink_to(outside / "Shared.md")
    (vault / "Folder").symlink_to(outside, target_is_directory=True)
    result = scan_vault(make_settings(vault), use_index=False)
    # The first way the walk meets it (files of a folder before its subfolders) keeps it.
    assert [n.path for n in result.notes] == ["a.md"]
    assert result.warnings == ("Folder/Shared.md: same note as a.md, skipped",
                               "b.md: same note as a.md, skipped")


# --------------------------------------------------------------------------- links (state)


def test_a_linked_state_folder_or_state_file_is_refused(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    write(vault, "Plan.md", "- [ ] one\n")
    (vault / ".vaultmap").symlink_to(outside, target_is_directory=True)
    with pytest.raises(StateError, match="symbolic link"):
        StateStore.open(vault / ".vaultmap", "notion")
    assert list(outside.iterdir()) == []

    (vault / ".vaultmap").unlink()
    (vault / ".vaultmap").mkdir()
    for name in ("sync.sqlite", "sync.sqlite-wal", "sync-notion.lock"):
        target = outside / f"{name}.victim"
        target.write_bytes(b"precious")
        link = vault / ".vaultmap" / name
        link.unlink(missing_ok=True)
        link.symlink_to(target)
        with pytest.raises(StateError, match="symbolic link"):
            sync(make_settings(vault), MemoryRemote())
        assert target.read_bytes() == b"precious"
        link.unlink()


def test_a_state_file_that_cannot_be_opened_is_not_moved_aside(tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    write(vault, "Plan.md", "- [ ] one\n")
    s = make_settings(vault)
    sync(s, MemoryRemote())
    state = vault / ".vaultmap" / "sync.sqlite"
    before = state.read_bytes()
    # An immutable file: even root may not open it for writing (like another user's file).
    if subprocess.run(["chattr", "+i", str(state)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        with pytest.raises(StateError, match="left as it is"):
            StateStore.open(vault / ".vaultmap", "notion")
    finally:
        subprocess.run(["chattr", "-i", str(state)], check=True)
    assert state.read_bytes() == before
    assert not list((vault / ".vaultmap").glob("*.damaged*"))


# --------------------------------------------------------------------------- report -o


def test_report_output_refuses_to_replace_a_note(tmp_path: Path) -> None:
    vault = marked_vault(tmp_path / "vault")
    note = write(vault, "Plan.md", "# Plan\n\n- [ ] keep me\n")
    for fmt in ("terminal", "json", "markdown", "html"):
        code, _, err = invoke("report", str(vault), "--format", fmt, "-o", str(note))
        assert code == 1
        one_line_error(err, "is not an earlier vaultmap report")
        assert note.read_bytes() == b"# Plan\n\n- [ ] keep me\n"
    code, _, _ = invoke("report", str(vault), "-o", str(note), "--force")
    assert code == 0 and note.read_text(encoding="utf-8").startswith("vaultmap · ")


@pytest.mark.parametrize("first", ["terminal", "json", "markdown", "html"])
def test_report_output_replaces_an_earlier_report_of_any_format(tmp_path: Path,
                                                                 first: str) -> None:
    vault = marked_vault(tmp_path / "vault")
    write(vault, "Plan.md", "- [ ] a\n")
    out = tmp_path / "progress.out"
    assert invoke("report", str(vault), "--format", first, "-o", str(out), "--no-history")[0] == 0
    for then in ("json", "markdown", "html", "terminal"):
        code, _, err = invoke("report", str(vault), "--format", then, "-o", str(out),
                              "--no-history")
        assert code == 0, err
    assert out.read_text(encoding="utf-8").startswith("vaultmap · ")


# --------------------------------------------------------------------------- metadata


def test_an_edit_keeps_extended_attributes(tmp_path: Path) -> None:
    vault = marked_vault(tmp_path / "vault")
    note = write(vault, "Plan.md", "- [ ] tagged note\n")
    try:
        os.setxattr(note, "user.xdg.tags", b"work,urgent")
    except OSError:
        pytest.skip("this file system has no user extended attributes")
    code, _, err = invoke("done", "--vault", str(vault), "Plan.md:1")
    assert code == 0, err
    assert note.read_bytes() == b"- [x] tagged note\n"
    assert os.getxattr(note, "user.xdg.tags") == b"work,urgent"


# --------------------------------------------------------------------------- odd config files


@pytest.mark.parametrize("kind", ["fifo", "zero", "urandom", "huge"])
def test_an_odd_config_file_is_one_line_and_fast(tmp_path: Path, kind: str) -> None:
    vault = marked_vault(tmp_path / "vault")
    write(vault, "Plan.md", "- [ ] a\n")
    config = vault / ".vaultmap.toml"
    if kind == "fifo":
        os.mkfifo(config)
    elif kind == "huge":
        config.write_bytes(b"# " + b"x" * (3 * 1024 * 1024) + b"\n")
    else:
        config.symlink_to(f"/dev/{kind}")
    start = time.monotonic()
    proc = subprocess.run([vaultmap_bin(), "report", str(vault)], capture_output=True,
                          text=True, timeout=60)
    assert time.monotonic() - start < 30
    assert proc.returncode == 3
    one_line_error(proc.stderr, ".vaultmap.toml: ")


# --------------------------------------------------------------------------- named notes


@pytest.mark.parametrize("kind", ["fifo", "binary", "broken link", "missing"])
def test_tasks_on_an_unreadable_named_note_is_exit_16(tmp_path: Path, kind: str) -> None:
    vault = marked_vault(tmp_path / "vault")
    write(vault, "Plan.md", "- [ ] a\n")
    note = vault / "odd.md"
    if kind == "fifo":
        os.mkfifo(note)
    elif kind == "binary":
        note.write_bytes(b"- [ ] a task\n\x00\x01")
    elif kind == "broken link":
        note.symlink_to(vault / "nowhere.md")
    for command in ("tasks", "report"):
        proc = subprocess.run([vaultmap_bin(), command, str(note)], capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 16, (command, proc.stdout, proc.stderr)
        one_line_error(proc.stderr, "odd.md")
        assert "No tasks" not in proc.stdout


def test_a_utf16_note_is_named_as_such(tmp_path: Path) -> None:
    vault = marked_vault(tmp_path / "vault")
    (vault / "wide.md").write_bytes("- [ ] wide task\n".encode("utf-16"))
    result = scan_vault(make_settings(vault), use_index=False)
    assert result.warnings == ("wide.md: UTF-16 text, not supported (save it as UTF-8), "
                               "skipped",)
    code, _, err = invoke("tasks", str(vault / "wide.md"))
    assert code == 16
    one_line_error(err, "UTF-16 text, not supported")


# --------------------------------------------------------------------------- the vault root


def test_targets_as_tasks_prints_them_work_from_an_unmarked_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "plain"
    write(root, "a/x.md", "- [ ] in a\n")
    write(root, "b/y.md", "- [ ] in b\n")
    monkeypatch.chdir(root)
    code, out, err = invoke("tasks", "a/x.md", "b/y.md")
    assert code == 0, err
    assert out.splitlines()[0] == "a/x.md" and "b/y.md" in out.splitlines()
    code, out, err = invoke("done", "a/x.md:1", "b/y.md:1")
    assert code == 0, err
    assert out.splitlines() == ["a/x.md:1  [ ] -> [x]  in a", "b/y.md:1  [ ] -> [x]  in b"]
    code, out, err = invoke("undo", "a/x.md:1")
    assert code == 0, err
    assert out.startswith("a/x.md:1  [x] -> [ ]")


def test_a_path_from_a_subfolder_gets_a_hint(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    vault = marked_vault(tmp_path / "vault")
    write(vault, "Projects/Plan.md", "- [ ] a\n")
    monkeypatch.chdir(vault / "Projects")
    code, _, err = invoke("done", "Plan.md:1")
    assert code == 11
    one_line_error(err, "Projects/Plan.md:1")


def test_report_takes_a_note_like_tasks(tmp_path: Path) -> None:
    vault = marked_vault(tmp_path / "vault")
    write(vault, "Plan.md", "- [ ] a\n- [x] b\n")
    write(vault, "Other.md", "- [ ] c\n")
    code, out, err = invoke("report", str(vault / "Plan.md"), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert [n["path"] for n in data["notes"]] == ["Plan.md"]
    assert data["totals"]["total"] == 2


def test_an_unmarked_folder_skips_dot_folders_and_node_modules(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "project"
    write(root, "TODO.md", "- [ ] mine\n")
    for folder in (".venv/lib", "node_modules/pkg", ".cache", ".github"):
        write(root, f"{folder}/README.md", "- [ ] not mine\n")
    monkeypatch.chdir(root)
    code, out, err = invoke("tasks", "--json")
    assert code == 0, err
    assert [t["path"] for t in json.loads(out)] == ["TODO.md"]
    code, out, err = invoke("report", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["totals"]["total"] == 1


def test_the_obsidian_templates_folder_is_skipped(tmp_path: Path) -> None:
    vault = marked_vault(tmp_path / "vault")
    (vault / ".obsidian" / "templates.json").write_text('{"folder": "Meta/Templates"}')
    write(vault, "Meta/Templates/Daily.md", "- [ ] \n- [ ] template task\n")
    write(vault, "Daily/2026-01-01.md", "- [ ] real task\n")
    result = scan_vault(make_settings(vault), use_index=False)
    assert [n.path for n in result.notes] == ["Daily/2026-01-01.md"]
    # Named on purpose, it is read.
    named = scan_vault(make_settings(vault), paths=[vault / "Meta" / "Templates"],
                       use_index=False)
    assert [n.path for n in named.notes] == ["Meta/Templates/Daily.md"]


def test_an_inbox_in_a_skipped_folder_is_refused_like_the_walk_skips_it(
        tmp_path: Path) -> None:
    from vaultmap.errors import ConfigError
    from vaultmap.sync.runner import check_inbox

    vault = marked_vault(tmp_path / "vault")
    (vault / ".obsidian" / "templates.json").write_text('{"folder": "Templates"}')
    with pytest.raises(ConfigError, match="Templates/"):
        check_inbox(make_settings(vault, inbox="Templates/Inbox.md"))
    # A marked vault walks other dot-folders, so an inbox may live there.
    check_inbox(make_settings(vault, inbox=".inbox/Inbox.md"))
    shutil.rmtree(vault / ".obsidian")
    with pytest.raises(ConfigError, match="hidden folder"):
        check_inbox(make_settings(vault, inbox=".inbox/Inbox.md"))


def test_the_git_sync_state_folder_follows_the_same_rule(tmp_path: Path) -> None:
    from vaultmap.errors import GitStateError
    from vaultmap.sync.git.vaultrepo import state_dir

    vault = tmp_path / "vault"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    vault.mkdir()
    (vault / ".vaultmap").symlink_to(outside, target_is_directory=True)
    with pytest.raises(GitStateError, match="symbolic link"):
        state_dir(make_settings(vault))
    (vault / ".vaultmap").unlink()
    (vault / ".vaultmap").mkdir()
    (vault / ".vaultmap" / ".gitignore").symlink_to(outside / "victim")
    with pytest.raises(GitStateError, match="symbolic link"):
        state_dir(make_settings(vault))
    assert list(outside.iterdir()) == []


def test_a_lost_edit_is_never_saved_through_a_linked_state_folder(tmp_path: Path) -> None:
    from vaultmap.edit.atomic import save_lost

    vault, outside = tmp_path / "vault", tmp_path / "outside"
    vault.mkdir()
    outside.mkdir()
    (vault / "Plan.md").write_text("- [ ] one\n")
    (vault / ".vaultmap").symlink_to(outside)
    saved = save_lost(vault / ".vaultmap" / "recovery", vault / "Plan.md", b"typed meanwhile\n")
    assert list(outside.iterdir()) == []
    assert saved is not None and saved.parent == vault
    assert saved.read_bytes() == b"typed meanwhile\n"
    assert saved.stat().st_mode & 0o077 == 0  # the user's text, not for other accounts


def test_a_note_path_with_a_nul_is_one_error_not_a_crash(tmp_path: Path) -> None:
    from vaultmap.config import load_settings
    from vaultmap.edit import append_tasks
    from vaultmap.errors import EditError, VaultReadError
    from vaultmap.vault.paths import resolve_note

    (tmp_path / ".vaultmap.toml").write_text("")
    settings = load_settings(tmp_path)
    with pytest.raises(VaultReadError, match="cannot hold a NUL character"):
        resolve_note(settings, "In\0box.md")
    with pytest.raises(EditError):
        append_tasks(settings, Path("In\0box.md"), ["- [ ] from a remote"])
    assert [p.name for p in tmp_path.iterdir()] == [".vaultmap.toml"]
