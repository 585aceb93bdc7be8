"""The memo of ``vaultmap report`` (.vaultmap/memo.report.*): a warm report with nothing
changed prints the kept answer, and ANY change of what the answer came from makes the report
be worked out anew, the very answer a report without the index gives.

Whether a run was served from the memo shows in the memo file: a run that works the report
out writes it anew (atomically: another inode), a run served from it leaves it alone.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from vaultmap.cli import main
from vaultmap.cli.report_memo import source_tree_stamp
from vaultmap.vault.memo import KEPT_PER_NAME

AN_HOUR = 3600 * 1_000_000_000
TODAY = "2026-12-01"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def set_old(path: Path) -> None:
    """An mtime well before the scan, so the index trusts the file (no "racy" re-read)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - AN_HOUR))


def write_note(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    set_old(path)


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    (root / ".obsidian").mkdir(parents=True)
    write_note(root / "Plan.md", "# Plan\n\n## Week 1\n\n- [x] read\n- [ ] write 📅 2026-11-20\n"
                                 "## Week 2\n\n- [ ] test\n  - [x] unit\n")
    write_note(root / "Garden" / "Beds.md", "- [ ] dig\n- [/] sow\n")
    write_note(root / "Empty.md", "no tasks here\n")
    return root


def memos(root: Path, fmt: str = "terminal") -> dict[str, int]:
    """The kept answers of one format: file name -> inode."""
    folder = root / ".vaultmap"
    return {path.name: path.lstat().st_ino
            for path in folder.glob(f"memo.report.{fmt}.*.msgpack")}


def memo_file(root: Path, fmt: str = "terminal") -> Path:
    """The newest kept answer of one format."""
    return max((root / ".vaultmap").glob(f"memo.report.{fmt}.*.msgpack"),
               key=lambda path: path.lstat().st_mtime_ns)


def report(root: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[str, str]:
    code, out, err = run("report", str(root), "--no-history", "--today", TODAY, *extra,
                         env=env)
    assert code == 0, err
    return out, err


def fresh(root: Path, *extra: str, env: dict[str, str] | None = None) -> str:
    """The answer worked out from the notes themselves (no index, so no memo either)."""
    return report(root, "--no-index", *extra, env=env)[0]


def served(root: Path, *extra: str, fmt: str = "terminal",
           env: dict[str, str] | None = None) -> tuple[str, bool]:
    """One report, and whether it came from a memo (no memo written anew)."""
    before = memos(root, fmt)
    out, _ = report(root, *extra, env=env)
    return out, memos(root, fmt) == before


def test_a_warm_report_is_served_from_the_memo_byte_for_byte(vault: Path) -> None:
    first, kept = served(vault)
    assert not kept and len(memos(vault)) == 1
    second, kept = served(vault)
    assert kept
    assert second == first == fresh(vault)
    for fmt, extra in (("json", ("--format", "json")), ("markdown", ("--format", "markdown"))):
        first, kept = served(vault, *extra, fmt=fmt)
        assert not kept
        second, kept = served(vault, *extra, fmt=fmt)
        assert kept and second == first == fresh(vault, *extra)


def test_the_memo_serves_the_warnings_a_warm_run_prints(vault: Path) -> None:
    write_note(vault / "Broken.md", "---\ntags: [a, b\n---\n- [ ] x\n")
    _, err = report(vault)
    assert "Broken.md: front matter is not valid YAML" in err
    _, warm_err = report(vault)  # from the index, then kept
    assert "Broken.md: front matter" not in warm_err
    assert "1 warning about unchanged notes" in warm_err
    _, kept_err = report(vault)  # from the memo: the same lines
    assert kept_err == warm_err
    _, verbose_err = report(vault, "-v")
    assert "Broken.md: front matter is not valid YAML" in verbose_err


def edit_same_size(path: Path) -> None:
    """Change one status byte (same size), keeping the file old enough to be trusted."""
    data = path.read_bytes()
    st = path.stat()
    path.write_bytes(data.replace(b"- [ ] write", b"- [x] write", 1))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


CHANGES = {
    "a note edited (same size)": lambda root: edit_same_size(root / "Plan.md"),
    "a note added": lambda root: write_note(root / "New.md", "- [ ] new\n"),
    "a note without tasks added": lambda root: write_note(root / "Other.md", "text\n"),
    "a note removed": lambda root: (root / "Garden" / "Beds.md").unlink(),
    "a note renamed": lambda root: (root / "Garden" / "Beds.md").rename(
        root / "Garden" / "Yard.md"),
    "a folder renamed": lambda root: (root / "Garden").rename(root / "Yard"),
    "the config changed": lambda root: write_note(root / ".vaultmap.toml",
                                                  "[report]\ndepth = 0\n"),
    "a status added to the config": lambda root: write_note(
        root / ".vaultmap.toml", '[statuses]\n"/" = "done"\n'),
}


@pytest.mark.parametrize("change", CHANGES)
def test_any_change_of_the_notes_or_the_config_is_worked_out_anew(vault: Path,
                                                                   change: str) -> None:
    before, _ = served(vault)
    served(vault)
    CHANGES[change](vault)
    after, kept = served(vault)
    assert not kept
    assert after == fresh(vault)
    assert after != before or change == "a note without tasks added"
    again, kept = served(vault)
    assert kept and again == after


@pytest.mark.parametrize("option", [("--today", "2026-11-10"), ("--by", "folder"),
                                    ("--depth", "0"), ("--top-level",), ("--limit", "1"),
                                    ("--rows", "1"), ("--color", "always"),
                                    ("--flavor", "gfm")])
def test_other_options_or_another_day_are_other_answers(vault: Path,
                                                        option: tuple[str, ...]) -> None:
    served(vault)
    out, kept = served(vault, *option)
    assert not kept
    assert out == fresh(vault, *option)
    again, kept = served(vault, *option)
    assert kept and again == out


def test_another_terminal_environment_is_another_answer(vault: Path) -> None:
    served(vault)
    narrow, kept = served(vault, env={"COLUMNS": "40"})
    assert not kept and narrow == fresh(vault, env={"COLUMNS": "40"})
    coloured, kept = served(vault, env={"FORCE_COLOR": "1"})
    assert not kept and coloured == fresh(vault, env={"FORCE_COLOR": "1"})


def test_a_folder_of_the_vault_has_its_own_answer(vault: Path) -> None:
    whole, _ = served(vault)
    before = memos(vault)
    part, _ = report(vault / "Garden")
    assert len(memos(vault)) == 2 and memos(vault).items() >= before.items()
    assert part != whole
    assert part == fresh(vault / "Garden")
    # Both kept: switching between them is served.
    kept_now = memos(vault)
    assert report(vault / "Garden")[0] == part and memos(vault) == kept_now
    again, kept = served(vault)
    assert kept and again == whole


def test_only_the_newest_few_answers_are_kept(vault: Path) -> None:
    for limit in range(1, 8):
        report(vault, "--limit", str(limit))
    assert len(memos(vault)) == KEPT_PER_NAME
    _, kept = served(vault, "--limit", "7")
    assert kept
    _, kept = served(vault, "--limit", "1")
    assert not kept


def test_a_note_changed_just_now_is_not_kept(vault: Path) -> None:
    served(vault)
    kept_bytes = memo_file(vault).read_bytes()
    (vault / "Plan.md").write_text("- [ ] just now\n", encoding="utf-8")  # "racy": too new
    out, _ = served(vault)
    assert out == fresh(vault)
    # Not kept: it may change again within the same mtime tick, stat would not tell.
    assert memo_file(vault).read_bytes() == kept_bytes


def test_no_index_neither_reads_nor_writes_the_memo(vault: Path) -> None:
    fresh(vault)
    assert memos(vault) == {}
    served(vault)
    before = memos(vault)
    fresh(vault)
    assert memos(vault) == before


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "another key"])
def test_a_damaged_memo_is_no_memo(vault: Path, damage: str) -> None:
    expected, _ = served(vault)
    path = memo_file(vault)
    data = path.read_bytes()
    replacement = {"garbage": b"\x93not a memo at all", "truncated": data[: len(data) // 2],
                   "empty": b"", "another key": data.replace(b"vaultmap-memo", b"vaultmap-memX")}
    path.write_bytes(replacement[damage])
    out, _ = served(vault)
    assert out == expected
    assert path.read_bytes() == data  # worked out and kept again


def test_a_link_or_a_fifo_in_place_of_the_memo_is_refused(vault: Path, tmp_path: Path) -> None:
    expected, _ = served(vault)
    planted = memo_file(vault)
    outside = tmp_path / "outside.bin"
    outside.write_bytes(planted.read_bytes())
    planted.unlink()
    planted.symlink_to(outside)
    out, _ = report(vault)
    assert out == expected
    assert planted.is_symlink()  # nothing written through it, nor in its place
    assert outside.read_bytes().startswith(b"\x94")
    planted.unlink()
    os.mkfifo(planted)
    out, _ = report(vault)  # returns: the FIFO is never opened for reading
    assert out == expected


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=T", "-c", "user.email=t@t",
                    *args], check=True, capture_output=True)


def test_with_history_a_moved_head_is_another_answer(vault: Path) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(vault)], check=True)
    git(vault, "add", "-A")
    git(vault, "commit", "-qm", "one")
    args = ("report", str(vault), "--today", TODAY)
    first = run(*args)[1]
    before = memos(vault)
    assert run(*args)[1] == first and memos(vault) == before  # served
    git(vault, "commit", "-q", "--allow-empty", "-m", "two")
    assert run(*args)[1] == first
    assert memos(vault) != before  # worked out anew at the new HEAD


def test_the_code_stamp_changes_with_any_source_file(tmp_path: Path) -> None:
    package = tmp_path / "package"
    (package / "report").mkdir(parents=True)
    source = package / "report" / "terminal.py"
    source.write_text("x = 1\n")
    (package / "__init__.py").write_text("")
    stamp = source_tree_stamp(package)
    assert source_tree_stamp(package) == stamp
    source.write_text("x = 22\n")
    assert source_tree_stamp(package) != stamp
    stamp = source_tree_stamp(package)
    (package / "report" / "new.py").write_text("")
    assert source_tree_stamp(package) != stamp


def test_without_git_a_report_with_history_is_kept_too(vault: Path) -> None:
    # Not a git work tree (the test's tmp folder is in none): a report asking for history
    # goes without it, every time, so it is kept; a GIT_* variable that does not move git
    # elsewhere (GIT_EDITOR) changes nothing.
    env = {"GIT_EDITOR": "true", "GIT_CEILING_DIRECTORIES": str(vault.parent)}
    args = ("report", str(vault), "--today", TODAY)
    first = run(*args, env=env)[1]
    before = memos(vault)
    assert len(before) == 1
    assert run(*args, env=env)[1] == first and memos(vault) == before
    assert first == run(*args, "--no-index", env=env)[1]


def test_an_in_place_edit_that_keeps_size_and_restores_the_mtime_is_seen(vault: Path) -> None:
    # A tick keeps the size; a tool that writes in place and sets the mtime back (a backup
    # restore, a sync tool preserving times) leaves size, mtime and inode as they were. Only
    # the change time moves, and the memo and the index must both notice it.
    served(vault)
    _, kept = served(vault)
    assert kept
    note = vault / "Garden" / "Beds.md"
    st = note.stat()
    with note.open("r+b") as handle:
        data = handle.read()
        handle.seek(0)
        handle.write(data.replace(b"- [ ] dig", b"- [x] dig"))
    os.utime(note, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = note.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == \
        (st.st_size, st.st_mtime_ns, st.st_ino)
    out, kept = served(vault)
    assert not kept
    assert out == fresh(vault)
    assert report(vault, "--format", "json")[0] == fresh(vault, "--format", "json")
    assert '"done":2' in fresh(vault, "--format", "json").replace(" ", "")
