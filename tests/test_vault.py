"""The vault walker and its on-disk index, on real files in a temporary folder."""

from __future__ import annotations

import os
import pickle
import resource
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import hypothesis
import hypothesis.strategies as st
import msgspec
import pytest

import vaultmap.vault.index as index_module
import vaultmap.vault.pool as pool_module
import vaultmap.vault.read as read_module
from hypothesis_budget import examples
from vaultmap.config import Settings, VaultSettings, load_settings
from vaultmap.model import Flavor, Note, StatusMap, StatusType
from vaultmap.vault import (
    ScanResult,
    UnreadablePath,
    VaultReadError,
    index_path,
    note_path,
    read_note,
    scan_vault,
)

HOUR_NS = 3600 * 1_000_000_000


def write(root: Path, rel: str, content: str | bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_bytes(content.encode("utf-8"))
    else:
        path.write_bytes(content)
    return path


def age(*paths: Path, hours: int = 1) -> None:
    """Move mtimes into the past, so the index trusts them (no "racy" recent edit)."""
    for path in paths:
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - hours * HOUR_NS))


def age_tree(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            if not path.is_symlink() and path.is_file():
                age(path)


def paths_of(result: ScanResult) -> list[str]:
    return [note.path for note in result.notes]


def task_texts(result: ScanResult) -> list[tuple[str, str, str]]:
    return [(task.path, task.status, task.text) for note in result.notes for task in note.tasks]


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    write(root, "Plan.md", "# Plan\n\n- [ ] write the outline\n- [x] pick a topic\n")
    write(root, "Areas/Health.md", "## Running\n- [/] couch to 5k\n- [ ] buy shoes\n")
    write(root, "Areas/Deep/Notes.markdown", "- [ ] a task in a .markdown file\n")
    write(root, "Journal/2024-01-01.md", "No tasks today, just prose.\n")
    return root


def settings_for(root: Path, **vault_options: Any) -> Settings:
    return Settings(root=root, vault=msgspec.structs.replace(VaultSettings(), **vault_options))


# --------------------------------------------------------------------------- walking


def test_scan_lists_every_markdown_note_sorted_with_or_without_tasks(vault: Path) -> None:
    write(vault, "image.png", b"\x89PNG\r\n")
    write(vault, "todo.txt", "- [ ] not markdown\n")
    result = scan_vault(settings_for(vault))
    assert paths_of(result) == [
        "Areas/Deep/Notes.markdown", "Areas/Health.md", "Journal/2024-01-01.md", "Plan.md",
    ]
    assert result.warnings == ()
    assert result.root == vault
    assert result.parsed == 4 and result.reused == 0
    assert ("Plan.md", "x", "pick a topic") in task_texts(result)


def test_extension_match_ignores_case_and_follows_settings(vault: Path) -> None:
    write(vault, "LOUD.MD", "- [ ] upper case extension\n")
    write(vault, "plain.txt", "- [ ] a text note\n")
    assert "LOUD.MD" in paths_of(scan_vault(settings_for(vault)))
    only_txt = scan_vault(settings_for(vault, extensions=(".txt",)), use_index=False)
    assert paths_of(only_txt) == ["plain.txt"]


def test_tool_folders_are_skipped_at_any_depth(vault: Path) -> None:
    for folder in (".obsidian", ".trash", ".git", ".vaultmap", "Areas/.git", "Areas/.trash"):
        write(vault, f"{folder}/hidden.md", "- [ ] must not be found\n")
    write(vault, ".hidden-but-allowed/seen.md", "- [ ] other dot folders are walked\n")
    found = paths_of(scan_vault(settings_for(vault), use_index=False))
    assert not [p for p in found if p.endswith("hidden.md")]
    assert ".hidden-but-allowed/seen.md" in found


def test_exclude_patterns_use_gitignore_syntax(vault: Path) -> None:
    write(vault, "Archive/old.md", "- [ ] archived\n")
    write(vault, "Areas/Archive/older.md", "- [ ] archived deeper\n")
    write(vault, "Drafts/a.draft.md", "- [ ] draft\n")
    write(vault, "Drafts/keep.draft.md", "- [ ] kept by negation\n")
    write(vault, "Templates/Daily.md", "- [ ] template\n")
    write(vault, "Projects/Templates/x.md", "- [ ] nested folder of the same name\n")
    settings = settings_for(
        vault, exclude=("Archive/", "*.draft.md", "!keep.draft.md", "/Templates/", "", "# c"))
    found = paths_of(scan_vault(settings, use_index=False))
    assert "Archive/old.md" not in found
    assert "Areas/Archive/older.md" not in found  # no leading slash: matches at any depth
    assert "Drafts/a.draft.md" not in found
    assert "Drafts/keep.draft.md" in found
    assert "Templates/Daily.md" not in found  # anchored to the root ...
    assert "Projects/Templates/x.md" in found  # ... so the nested one stays
    assert "Plan.md" in found


def test_exclude_from_the_config_file(vault: Path) -> None:
    write(vault, ".vaultmap.toml", '[vault]\nexclude = ["Journal/"]\n')
    found = paths_of(scan_vault(load_settings(vault), use_index=False))
    assert "Journal/2024-01-01.md" not in found and "Plan.md" in found


def test_symlinked_folder_is_followed_once(vault: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    write(outside, "Shared.md", "- [ ] shared task\n")
    (vault / "Linked").symlink_to(outside, target_is_directory=True)
    (vault / "Again").symlink_to(vault / "Areas", target_is_directory=True)
    result = scan_vault(settings_for(vault), use_index=False)
    assert "Linked/Shared.md" in paths_of(result)
    # The same folder reached twice is read once, with a warning naming the second way in.
    assert not [p for p in paths_of(result) if p.startswith("Again/")]
    assert result.warnings == ("Again/: links to Areas/ inside the vault, read there, skipped",)


def test_links_to_outside_folders_loops_and_twins(vault: Path, tmp_path: Path) -> None:
    outside = tmp_path / "shared"
    write(outside, "a/b/Deep.md", "- [ ] outside task\n")
    (outside / "a" / "b" / "up").symlink_to(outside / "a", target_is_directory=True)
    (vault / "One").symlink_to(outside, target_is_directory=True)
    (vault / "Two").symlink_to(outside, target_is_directory=True)
    result = scan_vault(settings_for(vault), use_index=False)
    assert "One/a/b/Deep.md" in paths_of(result)
    assert not [p for p in paths_of(result) if p.startswith("Two/") or "/up/" in p]
    assert result.warnings == (
        "One/a/b/up/: symbolic link loop (points to an enclosing folder), skipped",
        "Two/: same folder as One/, skipped",
    )


def test_undecodable_file_names_survive_the_index(vault: Path) -> None:
    raw_name = os.fsdecode(b"caf\xe9 latin-1.md")  # not UTF-8: a surrogate escape
    age(write(vault, raw_name, "- [ ] legacy name\n"))
    age_tree(vault)
    cold = scan_vault(settings_for(vault))
    warm = scan_vault(settings_for(vault))
    assert raw_name in paths_of(cold) and warm.notes == cold.notes and warm.reused == 5


# --------------------------------------------------------------------------- warnings


def test_symlink_loops_give_one_warning_each(vault: Path) -> None:
    (vault / "Areas" / "up").symlink_to("..", target_is_directory=True)
    (vault / "self.md").symlink_to("self.md")
    result = scan_vault(settings_for(vault), use_index=False)
    assert result.warnings == (
        "Areas/up/: symbolic link loop (points to an enclosing folder), skipped",
        "self.md: symbolic link loop, skipped",
    )
    assert "Plan.md" in paths_of(result)


def test_unreadable_entries_are_warnings_not_tracebacks(vault: Path) -> None:
    # Tests run as root, for whom chmod 000 hides nothing; these are unreadable for anyone.
    (vault / "dangling.md").symlink_to("does-not-exist.md")
    os.mkfifo(vault / "pipe.md")  # opening a FIFO for reading would block the scan
    result = scan_vault(settings_for(vault), use_index=False)
    assert result.warnings == (
        "dangling.md: broken symbolic link or vanished file, skipped",
        "pipe.md: not a regular file, skipped",
    )
    assert len(result.notes) == 4


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_permission_denied_is_a_warning(vault: Path) -> None:
    secret = write(vault, "secret.md", "- [ ] hidden\n")
    secret.chmod(0)
    try:
        result = scan_vault(settings_for(vault), use_index=False)
    finally:
        secret.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert result.warnings == ("secret.md: cannot read (Permission denied), skipped",)
    assert len(result.notes) == 4


def test_binary_file_named_md_is_skipped_with_a_warning(vault: Path) -> None:
    write(vault, "photo.md", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01- [ ] x\n")
    result = scan_vault(settings_for(vault))
    assert result.warnings == ("photo.md: binary file (contains NUL bytes), skipped",)
    assert "photo.md" not in paths_of(result)
    assert len(result.notes) == 4


def test_unreadable_notes_are_data_with_path_and_reason(vault: Path) -> None:
    # The path is given as data, not to be cut out of the warning line (it may hold ": ").
    write(vault, "Q1: plans/photo.md", b"\x00- [ ] x\n")
    for use_index in (True, True, False):  # cold, then from the index, then without it
        result = scan_vault(settings_for(vault), use_index=use_index)
        assert result.unreadable == (
            UnreadablePath("Q1: plans/photo.md", "binary file (contains NUL bytes), skipped"),)
        assert result.warnings == (
            "Q1: plans/photo.md: binary file (contains NUL bytes), skipped",)


def test_a_50_mb_note_is_skipped_by_the_size_cap(vault: Path) -> None:
    big = vault / "dump.md"
    with open(big, "wb") as handle:  # sparse: 50 MB of size, no 50 MB of disk or time
        handle.truncate(50 * 1024 * 1024)
    result = scan_vault(settings_for(vault))
    assert result.warnings == (
        "dump.md: 50.0 MB is over the 10.0 MB note size limit ([vault] max_note_mb), skipped",)
    assert len(result.notes) == 4


def test_size_cap_is_configurable(vault: Path) -> None:
    write(vault, ".vaultmap.toml", "[vault]\nmax_note_mb = 0.00003\n")  # about 31 bytes
    settings = load_settings(vault)
    assert settings.vault.max_note_bytes == 31
    result = scan_vault(settings, use_index=False)
    assert "Plan.md" not in paths_of(result)  # 58 bytes
    assert any(w.startswith("Plan.md: ") and "size limit" in w for w in result.warnings)


def test_deep_nesting_does_not_stop_the_scan(vault: Path) -> None:
    write(vault, "quotes.md", "> " * 10_000 + "- [ ] deep\n")
    write(vault, "lists.md", "- " * 10_000 + "[ ] deep\n")
    result = scan_vault(settings_for(vault), use_index=False)
    assert {"Plan.md", "quotes.md", "lists.md"} <= set(paths_of(result))
    # Whatever the parser makes of them: at most one warning each, naming the file, one line.
    for name in ("quotes.md", "lists.md"):
        mine = [w for w in result.warnings if w.startswith(f"{name}: ")]
        assert len(mine) <= 1 and all("\n" not in w for w in mine)
    assert len(result.warnings) == sum(len(n.warnings) for n in result.notes)


def test_parser_warnings_are_passed_through_with_the_path(
        vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_parse = read_module.parse_note  # type: ignore[attr-defined]

    def parse_with_warning(data: bytes, path: str, **kwargs: object) -> Note:
        note = real_parse(data, path, **kwargs)  # type: ignore[arg-type]
        if path == "Plan.md":
            return msgspec.structs.replace(note, warnings=("nesting deeper than 1000 levels, cut",))
        return note

    monkeypatch.setattr(read_module, "parse_note", parse_with_warning)
    result = scan_vault(settings_for(vault), use_index=False, jobs=1)
    assert result.warnings == ("Plan.md: nesting deeper than 1000 levels, cut",)


def test_a_parser_crash_costs_one_note(vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_parse = read_module.parse_note  # type: ignore[attr-defined]

    def fragile_parse(data: bytes, path: str, **kwargs: object) -> Note:
        if path == "Plan.md":
            raise RecursionError("maximum recursion depth exceeded")
        return real_parse(data, path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(read_module, "parse_note", fragile_parse)
    result = scan_vault(settings_for(vault), use_index=False, jobs=1)
    assert result.warnings == ("Plan.md: could not be parsed (RecursionError: maximum recursion "
                               "depth exceeded), skipped",)
    assert len(result.notes) == 3


def test_missing_vault_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(VaultReadError, match="no such vault folder"):
        scan_vault(settings_for(tmp_path / "nope"))
    with pytest.raises(VaultReadError, match="is not a folder"):
        scan_vault(settings_for(write(tmp_path, "note.md", "- [ ] x\n")))


# --------------------------------------------------------------------------- the index


def test_second_scan_reuses_unchanged_files(vault: Path) -> None:
    age_tree(vault)
    first = scan_vault(settings_for(vault))
    assert (first.parsed, first.reused) == (4, 0)
    second = scan_vault(settings_for(vault))
    assert (second.parsed, second.reused) == (0, 4)
    assert second.notes == first.notes
    assert (vault / ".vaultmap" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_the_index_never_changes_results(vault: Path) -> None:
    write(vault, "Projects/Launch.md", "---\ntags: [work]\ndue: 2024-05-01\n---\n"
          "# Launch\n- [ ] ship 📅 2024-05-01 #release\n  - [x] test [[Plan]] ^t1\n"
          "> - [?] quoted\n")
    write(vault, "bin.md", b"\x00\x01")
    age_tree(vault)
    without = scan_vault(settings_for(vault), use_index=False)
    cold = scan_vault(settings_for(vault))
    warm = scan_vault(settings_for(vault))
    assert warm.reused == 6 and warm.parsed == 0
    assert without.notes == cold.notes == warm.notes
    assert without.warnings == cold.warnings == warm.warnings
    for a, b in zip(without.notes, warm.notes, strict=True):
        assert [repr(t) for t in a.tasks] == [repr(t) for t in b.tasks]


def test_use_index_false_neither_reads_nor_writes(vault: Path) -> None:
    scan_vault(settings_for(vault), use_index=False)
    assert not (vault / ".vaultmap").exists()


def test_changed_size_or_mtime_is_parsed_again(vault: Path) -> None:
    age_tree(vault)
    scan_vault(settings_for(vault))
    plan = vault / "Plan.md"
    plan.write_bytes(plan.read_bytes() + b"- [ ] one more\n")  # size changes
    health = vault / "Areas" / "Health.md"
    data = health.read_bytes()
    health.write_bytes(data.replace(b"[/]", b"[x]"))  # same size, mtime now
    result = scan_vault(settings_for(vault))
    assert (result.parsed, result.reused) == (2, 2)
    texts = task_texts(result)
    assert ("Plan.md", " ", "one more") in texts
    assert ("Areas/Health.md", "x", "couch to 5k") in texts


def test_same_size_same_mtime_edit_soon_after_a_scan_is_caught(vault: Path) -> None:
    # A file scanned moments after it changed is "racy": an edit in the same mtime tick keeps
    # size and mtime, so such entries are never trusted and are parsed again.
    health = vault / "Areas" / "Health.md"
    # "Just now", pinned a little ahead so a slow machine cannot age it past the window.
    soon = time.time_ns() + 1_000_000_000
    os.utime(health, ns=(soon, soon))
    scan_vault(settings_for(vault))
    before = health.stat()
    with open(health, "r+b") as handle:  # edit in place: same inode, same size
        edited = handle.read().replace(b"[/]", b"[-]")
        handle.seek(0)
        handle.write(edited)
    os.utime(health, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert health.stat().st_size == before.st_size
    result = scan_vault(settings_for(vault))
    assert ("Areas/Health.md", "-", "couch to 5k") in task_texts(result)
    assert result.reused == 0


def test_deleted_and_new_files_are_noticed(vault: Path) -> None:
    age_tree(vault)
    scan_vault(settings_for(vault))
    (vault / "Plan.md").unlink()
    age(write(vault, "New.md", "- [ ] fresh\n"))
    result = scan_vault(settings_for(vault))
    assert "Plan.md" not in paths_of(result) and "New.md" in paths_of(result)
    assert (result.parsed, result.reused) == (1, 3)
    again = scan_vault(settings_for(vault))
    assert (again.parsed, again.reused) == (0, 4)


@pytest.mark.parametrize("damage", ["deleted", "empty", "truncated", "garbage", "older", "alien"])
def test_a_damaged_index_is_rebuilt_silently(vault: Path, damage: str) -> None:
    age_tree(vault)
    reference = scan_vault(settings_for(vault))
    index = index_path(settings_for(vault))
    data = index.read_bytes()
    if damage == "deleted":
        index.unlink()
    elif damage == "empty":
        index.write_bytes(b"")
    elif damage == "truncated":
        index.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        index.write_bytes(os.urandom(len(data)))
    elif damage == "older":
        index.write_bytes(pickle.dumps(("vaultmap-scan-index", 0, "x")) + pickle.dumps({}))
    elif damage == "alien":  # a valid header but a body of the wrong shape
        magic, version, fingerprint, _body, _odd = msgspec.msgpack.decode(data)
        index.write_bytes(msgspec.msgpack.encode(
            (magic, version, fingerprint, {"Plan.md": ["not", "an entry"]}, b"")))
    result = scan_vault(settings_for(vault))
    assert result.warnings == ()
    assert result.notes == reference.notes
    assert (result.parsed, result.reused) == (4, 0)
    assert scan_vault(settings_for(vault)).reused == 4  # and it was written again


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, ...]]:
        return (os.system, (f"touch {self.marker}",))


def test_a_planted_index_cannot_run_code(vault: Path, tmp_path: Path) -> None:
    age_tree(vault)
    scan_vault(settings_for(vault))
    index = index_path(settings_for(vault))
    magic, version, fingerprint, body, _odd = msgspec.msgpack.decode(index.read_bytes())
    marker = tmp_path / "pwned"
    exploit = pickle.dumps(_Exploit(marker))
    # In the pickled part of the index (entries with undecodable names), and as a note.
    index.write_bytes(msgspec.msgpack.encode(
        (magic, version, fingerprint, body, pickle.dumps({"Plan.md": _Exploit(marker)}))))
    result = scan_vault(settings_for(vault))
    assert not marker.exists()
    assert result.parsed == 4 and len(result.notes) == 4
    body["Plan.md"][4] = exploit
    index.write_bytes(msgspec.msgpack.encode((magic, version, fingerprint, body, b"")))
    result = scan_vault(settings_for(vault))
    assert not marker.exists()
    assert (result.parsed, result.reused) == (1, 3) and len(result.notes) == 4


def test_parse_affecting_settings_invalidate_the_index(vault: Path) -> None:
    age_tree(vault)
    scan_vault(settings_for(vault))
    assert scan_vault(settings_for(vault)).reused == 4
    gfm = scan_vault(settings_for(vault, flavor=Flavor.GFM))
    assert (gfm.parsed, gfm.reused) == (4, 0)
    # Each flavour keeps its own index: switching back and forth parses nothing.
    assert scan_vault(settings_for(vault)).reused == 4
    assert scan_vault(settings_for(vault, flavor=Flavor.GFM)).reused == 4
    custom = Settings(root=vault, statuses=StatusMap({" ": StatusType.TODO, "x": StatusType.DONE,
                                                      "/": StatusType.CANCELLED}))
    result = scan_vault(custom)
    assert result.reused == 0
    doing = [t for n in result.notes for t in n.tasks if t.status == "/"]
    assert doing and all(t.type is StatusType.CANCELLED for t in doing)
    # Settings that do not change parsing keep the index.
    assert scan_vault(settings_for(vault, exclude=("Nothing/",))).reused == 0  # back to default
    assert scan_vault(settings_for(vault, exclude=("Nothing/",))).reused == 4


def test_index_is_written_atomically_and_leaves_no_temporary_files(vault: Path) -> None:
    age_tree(vault)
    scan_vault(settings_for(vault))
    age(write(vault, "Plan.md", "- [ ] changed\n"))
    scan_vault(settings_for(vault))
    names = sorted(p.name for p in (vault / ".vaultmap").iterdir())
    # One note changed: written to the changes file beside the main one.
    assert names == [".gitignore", "scan-index.obsidian.changes", "scan-index.obsidian.pickle"]


def test_an_unwritable_state_folder_does_not_fail_the_scan(vault: Path) -> None:
    write(vault, ".vaultmap", "a file where the folder should be\n")
    result = scan_vault(settings_for(vault))
    assert len(result.notes) == 4 and result.warnings == ()


_CONCURRENT_SCANNER = """
import sys
from pathlib import Path
from typing import Any
from vaultmap.config import Settings
from vaultmap.vault import scan_vault
root = Path(sys.argv[1])
for _ in range(int(sys.argv[2])):
    result = scan_vault(Settings(root=root), jobs=1)
    tasks = sum(len(note.tasks) for note in result.notes)
    assert len(result.notes) == 40 and tasks == 80, (len(result.notes), tasks)
print("ok")
"""


def test_concurrent_scans_never_read_a_torn_index(tmp_path: Path) -> None:
    root = tmp_path / "vault"
    for i in range(40):
        write(root, f"n{i:02}.md", f"# Note {i}\n- [ ] first {i}\n- [x] second {i}\n")
    # Half the files stay "racy" (recent), so every scan rewrites the index.
    age_tree(root)
    for i in range(0, 40, 2):
        (root / f"n{i:02}.md").touch()
    workers = [subprocess.Popen([sys.executable, "-c", _CONCURRENT_SCANNER, str(root), "15"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(3)]
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        assert out.strip() == "ok"


# --------------------------------------------------------------------------- selections


def test_paths_select_folders_and_files(vault: Path) -> None:
    settings = settings_for(vault)
    areas = scan_vault(settings, paths=[vault / "Areas"])
    assert paths_of(areas) == ["Areas/Deep/Notes.markdown", "Areas/Health.md"]
    one = scan_vault(settings, paths=[vault / "Plan.md", vault / "Areas" / "Health.md"])
    assert paths_of(one) == ["Areas/Health.md", "Plan.md"]
    overlapping = scan_vault(settings, paths=[vault / "Areas" / "Deep", vault / "Areas",
                                               vault / "Areas" / "Health.md"])
    assert paths_of(overlapping) == ["Areas/Deep/Notes.markdown", "Areas/Health.md"]
    assert overlapping.warnings == ()
    everything = scan_vault(settings, paths=[vault])
    assert len(everything.notes) == 4


def test_relative_paths_are_relative_to_the_vault_root_not_the_current_folder(
        vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # One base for every relative path vaultmap is given: the vault root (the CLI makes shell
    # arguments absolute first), so a path as vaultmap prints it works from any folder.
    monkeypatch.chdir(vault / "Areas")
    result = scan_vault(settings_for(vault), paths=[Path("Areas/Health.md")], use_index=False)
    assert paths_of(result) == ["Areas/Health.md"]
    with pytest.raises(VaultReadError, match="no such file or folder"):
        scan_vault(settings_for(vault), paths=[Path("Health.md")], use_index=False)


def test_a_named_file_is_read_even_if_excluded_or_not_markdown(vault: Path) -> None:
    write(vault, "Archive/old.md", "- [ ] archived\n")
    write(vault, "list.txt", "- [ ] in a text file\n")
    settings = settings_for(vault, exclude=("Archive/",))
    result = scan_vault(settings, paths=[vault / "Archive" / "old.md", vault / "list.txt"])
    assert paths_of(result) == ["Archive/old.md", "list.txt"]
    assert paths_of(scan_vault(settings, paths=[vault / "Archive"])) == []


def test_paths_outside_the_vault_or_missing_are_errors(vault: Path, tmp_path: Path) -> None:
    outside = write(tmp_path, "outside.md", "- [ ] elsewhere\n")
    with pytest.raises(VaultReadError, match="outside the vault"):
        scan_vault(settings_for(vault), paths=[outside])
    with pytest.raises(VaultReadError, match="no such file or folder"):
        scan_vault(settings_for(vault), paths=[vault / "Missing.md"])


def test_a_partial_scan_keeps_the_rest_of_the_index(vault: Path) -> None:
    age_tree(vault)
    scan_vault(settings_for(vault))
    (vault / "Areas" / "Health.md").unlink()
    partial = scan_vault(settings_for(vault), paths=[vault / "Areas"])
    assert paths_of(partial) == ["Areas/Deep/Notes.markdown"]
    assert partial.reused == 1
    full = scan_vault(settings_for(vault))
    assert (full.parsed, full.reused) == (0, 3)


# --------------------------------------------------------------------------- single notes


def test_read_note_returns_the_exact_bytes(vault: Path) -> None:
    raw = b"\xef\xbb\xbf# T\r\n- [ ] crlf task\r\n- [x] done\r"
    path = write(vault, "Sub/crlf.md", raw)
    note, data = read_note(settings_for(vault), path)
    assert data == raw
    assert note.path == "Sub/crlf.md"
    for task in note.tasks:
        assert data[task.offset:task.offset + task.status_len].decode() == task.status


def test_read_note_errors_name_the_file(vault: Path, tmp_path: Path) -> None:
    settings = settings_for(vault)
    write(vault, "bin.md", b"a\x00b")
    with pytest.raises(VaultReadError, match=r"^bin\.md: binary file"):
        read_note(settings, vault / "bin.md")
    with pytest.raises(VaultReadError, match=r"^Areas: is a folder"):
        read_note(settings, vault / "Areas")
    with pytest.raises(VaultReadError, match=r"^gone\.md: broken symbolic link or vanished"):
        read_note(settings, vault / "gone.md")
    with pytest.raises(VaultReadError, match="outside the vault"):
        read_note(settings, write(tmp_path, "x.md", "- [ ] x\n"))
    os.mkfifo(vault / "pipe.md")
    with pytest.raises(VaultReadError, match=r"^pipe\.md: not a regular file$"):
        read_note(settings, vault / "pipe.md")


def test_read_note_turns_a_parser_crash_into_one_line(
        vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_parse(data: bytes, path: str, **kwargs: object) -> Note:
        raise ValueError("unexpected byte\nwith a second line")

    monkeypatch.setattr(read_module, "parse_note", broken_parse)
    with pytest.raises(VaultReadError) as caught:
        read_note(settings_for(vault), vault / "Plan.md")
    assert str(caught.value) == "Plan.md: could not be parsed (ValueError: unexpected byte)"


def test_note_path_is_vault_relative_posix(vault: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(vault)
    assert note_path(settings, vault / "Areas" / "Health.md") == "Areas/Health.md"
    monkeypatch.chdir(vault / "Areas")
    # Relative to the vault root, wherever the current folder is.
    assert note_path(settings, Path("Areas/Deep/Notes.markdown")) == "Areas/Deep/Notes.markdown"
    assert note_path(settings, Path("Areas/../Plan.md")) == "Plan.md"
    # A vault reached through a symbolic link still maps real paths inside it.
    link = tmp_path / "link-to-vault"
    link.symlink_to(vault, target_is_directory=True)
    assert note_path(Settings(root=link), vault / "Plan.md") == "Plan.md"
    with pytest.raises(VaultReadError):
        note_path(settings, tmp_path / "elsewhere.md")


# --------------------------------------------------------------------------- the process pool


def test_the_process_pool_gives_the_same_answers(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "vault"
    for i in range(150):
        body = "".join(f"- [{' x/-'[j % 4]}] task {i}.{j} #t{j % 3}\n" for j in range(20))
        write(root, f"F{i % 5}/note{i:03}.md", f"# Note {i}\n\n{body}")
    write(root, "bin.md", b"\x00")
    serial = scan_vault(settings_for(root), use_index=False, jobs=1)
    monkeypatch.setattr(pool_module, "_POOL_MIN_BYTES", 0)
    # A thread another test left alive in this process makes the pool spawn rather than
    # fork (forking with threads is unsafe): the pool must start either way.
    monkeypatch.setattr(pool_module, "_POOL_MIN_BYTES_SPAWN", 0)
    monkeypatch.setattr(pool_module, "_CHUNK_MIN_BYTES", 1)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    pooled = scan_vault(settings_for(root), use_index=False, jobs=2)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert after.ru_utime + after.ru_stime > before.ru_utime + before.ru_stime  # workers ran
    assert pooled.notes == serial.notes
    assert pooled.warnings == serial.warnings == ("bin.md: binary file (contains NUL bytes), "
                                                  "skipped",)
    assert pooled.parsed == 151
    # Notes made in workers go into the index and come back equal.
    indexed = scan_vault(settings_for(root), jobs=2)
    assert indexed.notes == serial.notes


def test_index_encoding_round_trips_model_objects_exactly(vault: Path) -> None:
    write(vault, "Fields.md", "---\ntags: [a, b]\nwhen: 2024-01-02\nnested: {k: [1, 2]}\n---\n"
          "# Top\n## Sub\n- [ ] one 📅 2024-02-03 [owner:: me] #x ^blk\n"
          "  - [x] two 🆔 abc ⛔ def\n")
    note, _ = read_note(settings_for(vault), vault / "Fields.md")
    copy = index_module._decode(index_module._dumps(note))
    assert copy == note and repr(copy) == repr(note)
    assert type(copy) is Note and type(copy.tasks[0]) is type(note.tasks[0])
    assert hash(copy.tasks[0].key) == hash(note.tasks[0].key)
    with pytest.raises(AttributeError):  # frozen
        copy.tasks[0].line = 99  # type: ignore[misc]
    assert isinstance(copy.frontmatter, type(note.frontmatter))


def test_a_damaged_entry_is_parsed_again(vault: Path) -> None:
    age_tree(vault)
    reference = scan_vault(settings_for(vault))
    index = index_path(settings_for(vault))
    magic, version, fingerprint, body, odd = msgspec.msgpack.decode(index.read_bytes())
    body["Plan.md"][4] = b"\x80\x05not a pickle"
    index.write_bytes(msgspec.msgpack.encode((magic, version, fingerprint, body, odd)))
    result = scan_vault(settings_for(vault))
    assert result.notes == reference.notes and result.warnings == ()
    assert (result.parsed, result.reused) == (1, 3)


def test_file_links_inside_the_vault_are_read_once(vault: Path, tmp_path: Path) -> None:
    (vault / "Areas" / "Plan link.md").symlink_to(vault / "Plan.md")
    outside = write(tmp_path, "outside/Ext.md", "- [ ] from outside\n")
    (vault / "Ext.md").symlink_to(outside)
    result = scan_vault(settings_for(vault), use_index=False)
    assert "Ext.md" in paths_of(result) and "Areas/Plan link.md" not in paths_of(result)
    assert result.warnings == (
        "Areas/Plan link.md: links to Plan.md inside the vault, read there, skipped",)


def _worker_dies(job: object) -> object:
    os._exit(3)  # a worker killed mid-parse (the OOM killer, a crash in C code)


def test_a_dead_worker_falls_back_to_parsing_here(vault: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    reference = scan_vault(settings_for(vault), use_index=False, jobs=1)
    monkeypatch.setattr(pool_module, "_POOL_MIN_BYTES", 0)
    monkeypatch.setattr(pool_module, "_CHUNK_MIN_BYTES", 1)
    monkeypatch.setattr(pool_module, "_parse_chunk", _worker_dies)
    result = scan_vault(settings_for(vault), use_index=False, jobs=2)
    assert result.notes == reference.notes and result.parsed == 4


def test_max_note_mb_must_be_a_positive_number(tmp_path: Path) -> None:
    from vaultmap.errors import ConfigError

    write(tmp_path, ".vaultmap.toml", '[vault]\nmax_note_mb = "big"\n')
    with pytest.raises(ConfigError, match="max_note_mb must be a"):
        load_settings(tmp_path)
    write(tmp_path, ".vaultmap.toml", "[vault]\nmax_note_mb = 0\n")
    with pytest.raises(ConfigError, match="more than 0"):
        load_settings(tmp_path)
    write(tmp_path, ".vaultmap.toml", "[vault]\nmax_note_mb = 2\n")
    assert load_settings(tmp_path).vault.max_note_bytes == 2 * 1024 * 1024


# --------------------------------------------------------------------------- property


_CONTENTS = (
    "- [ ] alpha\n",
    "- [x] alpha\n",  # same size as the one above: only the index's racy rule catches it
    "# H\n- [/] beta\n  - [ ] gamma\n",
    "no tasks\n",
    "\x00binary",
    "> - [-] quoted\r\n",
)
_NAMES = ("a.md", "b.md", "Sub/c.md", "Sub/Deeper/d.md")
_OPERATION = st.one_of(
    st.tuples(st.just("write"), st.sampled_from(_NAMES), st.sampled_from(_CONTENTS)),
    st.tuples(st.just("delete"), st.sampled_from(_NAMES), st.just("")),
    st.tuples(st.just("age"), st.sampled_from(_NAMES), st.just("")),
    st.tuples(st.just("scan"), st.sampled_from(("", "Sub", "b.md")), st.just("")),
)


@hypothesis.settings(max_examples=examples(40), deadline=None,
                     suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture])
@hypothesis.given(operations=st.lists(_OPERATION, min_size=1, max_size=14))
def test_indexed_scans_always_agree_with_fresh_ones(
        tmp_path: Path, operations: list[tuple[str, str, str]]) -> None:
    with tempfile.TemporaryDirectory(dir=tmp_path) as folder:
        root = Path(folder)
        settings = settings_for(root)
        past = time.time_ns() - 10 * HOUR_NS
        for step, (action, name, content) in enumerate([*operations, ("scan", "", "")]):
            path = root / name
            if action == "write":
                write(root, name, content)
            elif action == "delete":
                path.unlink(missing_ok=True)
            elif action == "age" and path.exists():
                # A distinct time per step: re-aging never restores an earlier (size, mtime).
                os.utime(path, ns=(past + step, past + step))
            elif action == "scan":
                selection = [root / name] if name and path.exists() else None
                indexed = scan_vault(settings, paths=selection, jobs=1)
                fresh = scan_vault(settings, paths=selection, use_index=False, jobs=1)
                assert indexed.notes == fresh.notes
                assert indexed.warnings == fresh.warnings
                assert indexed.parsed + indexed.reused == len(indexed.notes) + sum(
                    1 for w in indexed.warnings if "binary" in w)


def test_default_workers_follow_the_idle_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool_module, "_usable_cpus", lambda: 4)
    for load, workers in ((0.0, 4), (1.0, 4), (2.2, 3), (3.4, 2), (4.0, 1), (9.0, 1)):
        monkeypatch.setattr(os, "getloadavg", lambda load=load: (load, load, load))
        assert pool_module._default_jobs() == workers, load


def test_with_other_threads_alive_workers_are_spawned_not_forked(
        vault: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reference = scan_vault(settings_for(vault), use_index=False, jobs=1)
    monkeypatch.setattr(pool_module, "_POOL_MIN_BYTES_SPAWN", 0)
    monkeypatch.setattr(pool_module, "_CHUNK_MIN_BYTES", 1)
    started: list[str] = []
    real_get_context = pool_module.get_context  # type: ignore[attr-defined]

    def recording_get_context(method: str) -> object:
        started.append(method)
        return real_get_context(method)

    monkeypatch.setattr(pool_module, "get_context", recording_get_context)
    monkeypatch.setattr(pool_module.threading, "active_count",  # type: ignore[attr-defined]
                        lambda: 2)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = scan_vault(settings_for(vault), use_index=False, jobs=2)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert started == ["spawn"]
    assert result.notes == reference.notes
    # The workers really ran (a fresh interpreter costs CPU); no silent fallback to this process.
    assert after.ru_utime + after.ru_stime > before.ru_utime + before.ru_stime


def test_a_linked_state_folder_is_never_written_through(vault: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (vault / ".vaultmap").symlink_to(elsewhere, target_is_directory=True)
    result = scan_vault(settings_for(vault))
    assert len(result.notes) == 4 and result.warnings == ()
    assert list(elsewhere.iterdir()) == []


def test_temporaries_of_a_killed_writer_are_cleaned_up_later(vault: Path) -> None:
    state = vault / ".vaultmap"
    state.mkdir()
    old = write(state, "scan-index.abc123.tmp", b"half an index")
    age(old, hours=2)
    young = write(state, "scan-index.def456.tmp", b"being written right now")
    unrelated = write(state, "sync-state.sqlite", b"someone else's")
    scan_vault(settings_for(vault))
    assert not old.exists() and young.exists() and unrelated.exists()
