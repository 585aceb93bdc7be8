"""The merge driver through real git: a bare repository as "GitHub" and two clones.

"laptop" pushes first; "phone" then pulls with the driver installed, by merge
(`git pull --no-rebase`) and by rebase (`git pull --rebase`). In a merge git's ours is the
phone (local); in a rebase ours is the upstream (laptop) and the phone's commit is replayed
onto it, so tasks both sides inserted at one place come out laptop-first when rebasing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitrepos import commit_all, git, git_environment, init_repo, remote_and_clones
from vaultmap.sync.git.install import install

BASE = (b"# Groceries\n\n- [ ] Milk\n- [ ] Eggs\n- [ ] Bread\n- [ ] Call dentist\n"
        b"- [ ] Pay rent\n\nNotes: buy organic.\n")
MODES = ("--no-rebase", "--rebase")


def sub(*pairs: tuple[bytes, bytes]) -> Callable[[bytes], bytes]:
    def apply(data: bytes) -> bytes:
        for old, new in pairs:
            assert data.count(old) == 1, old
            data = data.replace(old, new)
        return data
    return apply


@dataclass(frozen=True)
class Case:
    name: str
    laptop: Callable[[bytes], bytes]
    phone: Callable[[bytes], bytes]
    expected: bytes | dict[str, bytes]  # one result, or one per pull mode
    base: bytes = BASE
    prefer: str | None = None


CASES = [
    Case("adjacent ticks", sub((b"[ ] Milk", b"[x] Milk")), sub((b"[ ] Eggs", b"[x] Eggs")),
         sub((b"[ ] Milk", b"[x] Milk"), (b"[ ] Eggs", b"[x] Eggs"))(BASE)),
    Case("tick vs reword", sub((b"[ ] Call dentist", b"[x] Call dentist")),
         sub((b"Call dentist", b"Call dentist at 9am")),
         sub((b"[ ] Call dentist", b"[x] Call dentist at 9am"))(BASE)),
    Case("tick vs move in the note", sub((b"[ ] Pay rent", b"[x] Pay rent")),
         sub((b"- [ ] Pay rent\n", b""), (b"\n- [ ] Milk", b"\n- [ ] Pay rent\n- [ ] Milk")),
         sub((b"- [ ] Pay rent\n", b""), (b"\n- [ ] Milk", b"\n- [x] Pay rent\n- [ ] Milk"))(BASE)),
    Case("tick vs delete", sub((b"[ ] Bread", b"[x] Bread")), sub((b"- [ ] Bread\n", b"")),
         sub((b"[ ] Bread", b"[x] Bread"))(BASE)),
    Case("both append", sub((b"Pay rent\n", b"Pay rent\n- [ ] Butter\n")),
         sub((b"Pay rent\n", b"Pay rent\n- [ ] Jam\n")),
         {"--no-rebase": sub((b"Pay rent\n", b"Pay rent\n- [ ] Jam\n- [ ] Butter\n"))(BASE),
          "--rebase": sub((b"Pay rent\n", b"Pay rent\n- [ ] Butter\n- [ ] Jam\n"))(BASE)}),
    *(Case(f"same task both sides, prefer {prefer}", sub((b"[ ] Milk", b"[x] Milk")),
           sub((b"[ ] Milk", b"[-] Milk")), sub((b"[ ] Milk", want))(BASE), prefer=prefer)
      for prefer, want in (("done", b"[x] Milk"), ("local", b"[-] Milk"),
                           ("remote", b"[x] Milk"))),
    Case("CRLF note", sub((b"[ ] a", b"[x] a")), sub((b"[ ] b", b"[x] b")),
         b"# CRLF\r\n- [x] a  \r\n- [x] b\r\n- [ ] c\r\n",
         base=b"# CRLF\r\n- [ ] a  \r\n- [ ] b\r\n- [ ] c\r\n"),
    Case("BOM note", sub((b"[ ] a", b"[x] a")), sub((b"[ ] b", b"[x] b")),
         b"\xef\xbb\xbf- [x] a\n- [x] b\n", base=b"\xef\xbb\xbf- [ ] a\n- [ ] b\n"),
    Case("cp1252 note", sub((b"[ ] caf", b"[x] caf")), sub((b"[ ] th", b"[x] th")),
         b"- [x] caf\xe9\n- [x] th\xe9 \xe0 9h\n", base=b"- [ ] caf\xe9\n- [ ] th\xe9 \xe0 9h\n"),
]


def _install(clone: Path, prefer: str | None) -> None:
    if prefer:
        (clone / ".vaultmap.toml").write_text(f'[git]\nprefer = "{prefer}"\n')
        # Untracked config in the work tree: the driver reads it, git ignores it.
        (clone / ".git" / "info" / "exclude").write_text(".vaultmap.toml\n.vaultmap/\n")
    else:
        (clone / ".git" / "info" / "exclude").write_text(".vaultmap/\n")
    # In-process (the command itself is tested below); git still runs the driver command.
    install(clone, (".md",))


def _diverge(tmp_path: Path, case: Case, name: str = "list.md") -> tuple[Path, Path]:
    _bare, laptop, phone = remote_and_clones(tmp_path, {name: case.base})
    _install(phone, case.prefer)
    (laptop / name).write_bytes(case.laptop(case.base))
    commit_all(laptop, "laptop")
    git(laptop, "push", "-q", "origin", "main")
    (phone / name).write_bytes(case.phone(case.base))
    commit_all(phone, "phone")
    return laptop, phone


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_scenario_merges_cleanly(tmp_path: Path, case: Case, mode: str) -> None:
    _laptop, phone = _diverge(tmp_path, case)
    pulled = git(phone, "pull", "-q", mode, "origin", "main", check=False)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    expected = case.expected if isinstance(case.expected, bytes) else case.expected[mode]
    assert (phone / "list.md").read_bytes() == expected
    assert git(phone, "status", "--porcelain").stdout == ""


@pytest.mark.parametrize("mode", MODES)
def test_tick_vs_delete_is_recorded_for_the_sync_report(tmp_path: Path, mode: str) -> None:
    _laptop, phone = _diverge(tmp_path, CASES[3])
    git(phone, "pull", "-q", mode, "origin", "main")
    from vaultmap.sync.git.driver import read_merge_records

    records = read_merge_records(phone / ".vaultmap")
    assert [r["path"] for r in records] == ["list.md"]
    notes = records[0]["notes"]
    assert isinstance(notes, list) and "Bread" in notes[0] and "deleted" in notes[0]
    assert records[0]["rebase"] is (mode == "--rebase")


@pytest.mark.parametrize("mode", MODES)
def test_genuine_conflict_leaves_markers_in_that_hunk_only(tmp_path: Path, mode: str) -> None:
    case = Case("conflict", sub((b"buy organic", b"buy fresh"), (b"[ ] Milk", b"[x] Milk")),
                sub((b"buy organic", b"buy cheap"), (b"[ ] Eggs", b"[x] Eggs")), b"")
    _laptop, phone = _diverge(tmp_path, case)
    pulled = git(phone, "pull", "-q", mode, "origin", "main", check=False)
    assert pulled.returncode != 0
    assert "list.md" in git(phone, "diff", "--name-only", "--diff-filter=U").stdout
    ours, theirs = ((b"cheap", b"fresh") if mode == "--no-rebase" else (b"fresh", b"cheap"))
    text = (phone / "list.md").read_bytes()
    assert text.startswith(b"# Groceries\n\n- [x] Milk\n- [x] Eggs\n- [ ] Bread\n")
    assert text.count(b"<<<<<<< ") == 1 and text.count(b">>>>>>> ") == 1
    assert b"<<<<<<< " in text and b"Notes: buy " + ours + b".\n=======\nNotes: buy " \
        + theirs + b".\n>>>>>>> " in text
    records = json.loads((phone / ".vaultmap" / "git-merges.jsonl").read_text().splitlines()[-1])
    assert records["conflicts"] == [[9, 13]]


@pytest.mark.parametrize("mode", MODES)
def test_note_added_on_both_sides(tmp_path: Path, mode: str) -> None:
    _bare, laptop, phone = remote_and_clones(tmp_path, {"other.md": b"x\n"})
    _install(phone, None)
    (laptop / "ideas.md").write_bytes(b"# Ideas\n- [ ] from laptop\n")
    commit_all(laptop, "laptop")
    git(laptop, "push", "-q", "origin", "main")
    (phone / "ideas.md").write_bytes(b"# Ideas\n- [ ] from phone\n")
    commit_all(phone, "phone")
    git(phone, "pull", "-q", mode, "origin", "main")
    first, second = (b"phone", b"laptop") if mode == "--no-rebase" else (b"laptop", b"phone")
    assert (phone / "ideas.md").read_bytes() == \
        b"# Ideas\n- [ ] from " + first + b"\n- [ ] from " + second + b"\n"


def test_without_the_driver_git_conflicts_on_adjacent_ticks(tmp_path: Path) -> None:
    # The reason the driver exists; also proves the scenario tests exercise the driver.
    _bare, laptop, phone = remote_and_clones(tmp_path, {"list.md": BASE})
    (laptop / "list.md").write_bytes(CASES[0].laptop(BASE))
    commit_all(laptop)
    git(laptop, "push", "-q", "origin", "main")
    (phone / "list.md").write_bytes(CASES[0].phone(BASE))
    commit_all(phone)
    assert git(phone, "pull", "-q", "--no-rebase", "origin", "main", check=False).returncode != 0


def _run_driver(repo: Path, base: bytes, ours: bytes, theirs: bytes,
                path: str = "list.md") -> tuple[int, bytes, str]:
    files = []
    for name, data in (("o", base), ("a", ours), ("b", theirs)):
        (repo / f".merge_{name}").write_bytes(data)
        files.append(f".merge_{name}")
    done = subprocess.run([sys.executable, "-m", "vaultmap", "merge-driver", *files, "7", path],
                          cwd=repo, capture_output=True, text=True, env=git_environment(),
                          check=False)
    return done.returncode, (repo / ".merge_a").read_bytes(), done.stderr


def test_driver_crash_falls_back_to_git_text_merge_and_logs_why(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    (repo / ".vaultmap.toml").write_text("[vault\nflavor = ")  # cannot be parsed
    ours = sub((b"[ ] Milk", b"[x] Milk"))(BASE)
    theirs = sub((b"[ ] Eggs", b"[x] Eggs"))(BASE)
    code, result, stderr = _run_driver(repo, BASE, ours, theirs)
    assert code == 1 and "Traceback" not in stderr
    assert result.count(b"<<<<<<< ours") == 1 and b"- [x] Milk\n- [ ] Eggs\n=======" in result
    log = (repo / ".vaultmap" / "merge-driver.log").read_text()
    assert "list.md: task-aware merge failed (ConfigError" in log
    assert "fell back to git's text merge" in log
    # A fallback whose text merge is clean exits 0, exactly as git's own merge would.
    far = sub((b"[ ] Pay rent", b"[x] Pay rent"))(BASE)
    code, result, _ = _run_driver(repo, BASE, ours, far)
    assert code == 0 and result == sub((b"[ ] Milk", b"[x] Milk"),
                                       (b"[ ] Pay rent", b"[x] Pay rent"))(BASE)


def test_driver_with_bad_arguments_never_exits_above_128(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "vaultmap", "merge-driver", "only-one"],
                          cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "usage" in done.stderr
    repo = init_repo(tmp_path / "repo")
    done = subprocess.run([sys.executable, "-m", "vaultmap", "merge-driver", "missing-o",
                           "missing-a", "missing-b", "7", "x.md"], cwd=repo,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr


def test_install_and_uninstall_touch_only_their_own_lines(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    vault = repo / "my notes"
    vault.mkdir()
    (vault / ".vaultmap.toml").write_text('[vault]\nextensions = ["md", "txt"]\n')
    attributes = repo / ".git" / "info" / "attributes"
    attributes.parent.mkdir(exist_ok=True)
    attributes.write_bytes(b"*.png binary\r\n")
    env = git_environment()

    def vaultmap(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "vaultmap", *args], capture_output=True,
                              text=True, env=env, check=False)

    assert vaultmap("git", "install", str(vault)).returncode == 0
    assert vaultmap("git", "install", str(vault)).returncode == 0  # idempotent
    text = attributes.read_bytes()
    assert text.count(b"merge=vaultmap") == 2 and text.startswith(b"*.png binary\r\n")
    assert b'"/my notes/**/*.md" merge=vaultmap\r\n' in text
    driver = git(repo, "config", "--get", "merge.vaultmap.driver").stdout.strip()
    assert driver.endswith(" -m vaultmap merge-driver %O %A %B %L %P")
    assert sys.executable in driver
    checked = git(repo, "check-attr", "merge", "--", "my notes/a/b.md", "my notes/c.txt",
                  "elsewhere.md").stdout
    assert checked.splitlines() == ["my notes/a/b.md: merge: vaultmap",
                                    "my notes/c.txt: merge: vaultmap",
                                    "elsewhere.md: merge: unspecified"]
    # A line the user adds inside our block survives uninstall.
    attributes.write_bytes(text.replace(b"# vaultmap: end", b"*.csv text\r\n# vaultmap: end"))
    assert vaultmap("git", "install", "--shared", str(vault)).returncode == 0
    assert (vault / ".gitattributes").read_text().splitlines()[1:3] == \
        ["*.md merge=vaultmap", "*.txt merge=vaultmap"]
    assert vaultmap("git", "uninstall", str(vault)).returncode == 0
    assert attributes.read_bytes() == b"*.png binary\r\n*.csv text\r\n"
    assert not (vault / ".gitattributes").exists()
    assert git(repo, "config", "--get-regexp", "^merge\\.", check=False).stdout == ""
    again = vaultmap("git", "uninstall", str(vault))
    assert again.returncode == 0 and "nothing to remove" in again.stdout


def test_install_outside_a_work_tree_is_one_line_exit_17(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "vaultmap", "git", "install", str(tmp_path)],
                          capture_output=True, text=True, env=git_environment(), check=False)
    assert done.returncode == 17
    assert done.stderr.count("\n") == 1 and "not inside a git work tree" in done.stderr


def test_install_in_a_repository_git_refuses_says_why_not_git_init(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("making a repository owned by another user needs root")
    repo = init_repo(tmp_path / "repo")
    for folder, names, files in os.walk(repo):
        for name in (folder, *(os.path.join(folder, n) for n in names + files)):
            os.chown(name, 65534, 65534, follow_symlinks=False)
    env = {k: v for k, v in git_environment().items() if k != "GIT_CONFIG_GLOBAL"}
    env["GIT_CONFIG_GLOBAL"] = os.devnull  # no safe.directory = * from somewhere
    done = subprocess.run([sys.executable, "-m", "vaultmap", "git", "install", str(repo)],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 17, done.stderr
    assert "dubious ownership" in done.stderr and "git init" not in done.stderr
    assert done.stderr.count("\n") == 1


def test_driver_process_imports_only_what_a_merge_needs(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    for name, data in (("o", BASE), ("a", CASES[0].laptop(BASE)), ("b", CASES[0].phone(BASE))):
        (repo / name).write_bytes(data)
    heavy = ("rich", "click", "notion_client", "httpx", "sqlite3", "mistune", "git",
             "watchdog", "yaml", "vaultmap.sync.engine", "vaultmap.cli")
    probe = ("import atexit, sys, runpy\n"
             f"heavy = {heavy!r}\n"
             "atexit.register(lambda: print('loaded:', sorted(m for m in heavy "
             "if m in sys.modules)))\n"
             "sys.argv = ['vaultmap', 'merge-driver', 'o', 'a', 'b', '7', 'list.md']\n"
             "runpy.run_module('vaultmap', run_name='__main__', alter_sys=True)\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=repo, capture_output=True,
                          text=True, env=git_environment(), check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "loaded: []"
    assert (repo / "a").read_bytes() == sub((b"[ ] Milk", b"[x] Milk"),
                                            (b"[ ] Eggs", b"[x] Eggs"))(BASE)


def test_a_note_over_the_size_limit_gets_git_text_merge(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    (repo / ".vaultmap.toml").write_text("[vault]\nmax_note_mb = 0.001\n")  # 1,048 bytes
    big = BASE + b"filler line\n" * 100
    code, result, _ = _run_driver(repo, big, sub((b"[ ] Milk", b"[x] Milk"))(big),
                                  sub((b"[ ] Eggs", b"[x] Eggs"))(big))
    assert code == 1 and b"<<<<<<< ours" in result  # git's own merge conflicts here
    assert "over [vault] max_note_mb" in (repo / ".vaultmap" / "merge-driver.log").read_text()


def test_vault_in_a_subfolder_uses_its_own_settings(tmp_path: Path) -> None:
    _bare, laptop, phone = remote_and_clones(tmp_path, {
        "notes/.vaultmap.toml": b'[git]\nprefer = "local"\n', "notes/plan/list.md": BASE,
        "README.md": BASE})
    install(phone / "notes", (".md",))
    for clone, status in ((laptop, b"[x] Milk"), (phone, b"[-] Milk")):
        for name in ("notes/plan/list.md", "README.md"):
            (clone / name).write_bytes(sub((b"[ ] Milk", status), (b"buy organic", b"buy"))(BASE)
                                       if clone == laptop else
                                       sub((b"[ ] Milk", status), (b"[ ] Eggs", b"[x] Eggs"))(BASE))
        commit_all(clone, clone.name)
        if clone == laptop:
            git(laptop, "push", "-q", "origin", "main")
    pulled = git(phone, "pull", "-q", "--no-rebase", "origin", "main", check=False)
    assert pulled.returncode != 0  # README.md is outside the vault: git's own merge conflicts
    assert (phone / "notes/plan/list.md").read_bytes() == \
        sub((b"[ ] Milk", b"[-] Milk"), (b"[ ] Eggs", b"[x] Eggs"), (b"buy organic", b"buy"))(BASE)
    assert git(phone, "diff", "--name-only", "--diff-filter=U").stdout.split() == ["README.md"]


def test_install_then_uninstall_gives_the_attribute_file_back_byte_for_byte(
        tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "repo")
    env = git_environment()
    # A BOM, CRLF and LF mixed, a form feed inside a line, and no line break at the end.
    original = b"\xef\xbb\xbf*.png binary\r\n# keep\x0c this\n*.md  text eol=lf"
    for shared, path in ((True, repo / ".gitattributes"),
                         (False, repo / ".git" / "info" / "attributes")):
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(original)
        args = ["git", "install", *(["--shared"] if shared else []), str(repo)]
        for command in (args, args, ["git", "uninstall", str(repo)]):
            done = subprocess.run([sys.executable, "-m", "vaultmap", *command],
                                  capture_output=True, text=True, env=env, check=False)
            assert done.returncode == 0, done.stderr
            if command[1] == "install":
                installed = path.read_bytes()
                assert installed.startswith(original + b"\r\n# vaultmap: ")
                assert installed.count(b"# vaultmap: end") == 1  # a second install replaces
        assert path.read_bytes() == original


@pytest.mark.parametrize("mover", ["laptop", "phone"])
@pytest.mark.parametrize("mode", MODES)
def test_tick_vs_move_to_another_note_through_plain_git_loses_no_tick(
        tmp_path: Path, mode: str, mover: str) -> None:
    # A per-note driver cannot see a move between notes (`vaultmap sync --git` runs the
    # vault-level pass, tested in test_git_sync_matrix.py): through plain git the ticked task
    # stays where it was ticked (a change wins over the deletion) and the moved copy arrives
    # unticked. The merge is clean, nothing is lost, and the record says what was kept.
    later = b"# Later\n\n- [ ] Plan the trip\n"
    _bare, laptop, phone = remote_and_clones(tmp_path, {"list.md": BASE, "later.md": later})
    _install(phone, None)
    moving, ticking = (laptop, phone) if mover == "laptop" else (phone, laptop)
    (moving / "list.md").write_bytes(BASE.replace(b"- [ ] Bread\n", b""))
    (moving / "later.md").write_bytes(later + b"- [ ] Bread\n")
    (ticking / "list.md").write_bytes(BASE.replace(b"[ ] Bread", b"[x] Bread"))
    commit_all(laptop, "laptop")
    git(laptop, "push", "-q", "origin", "main")
    commit_all(phone, "phone")
    pulled = git(phone, "pull", "-q", mode, "origin", "main", check=False)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert (phone / "list.md").read_bytes() == BASE.replace(b"[ ] Bread", b"[x] Bread")
    assert (phone / "later.md").read_bytes() == later + b"- [ ] Bread\n"
    assert git(phone, "status", "--porcelain").stdout == ""
    from vaultmap.sync.git.driver import read_merge_records

    notes = [note for record in read_merge_records(phone / ".vaultmap")
             for note in record["notes"]]
    assert any("Bread" in note and "deleted" in note for note in notes), notes


@pytest.mark.parametrize("style", ["merge", "diff3", "zdiff3"])
def test_conflict_markers_follow_the_users_conflict_style(tmp_path: Path, style: str) -> None:
    case = Case("conflict", sub((b"buy organic", b"buy fresh"), (b"[ ] Milk", b"[x] Milk")),
                sub((b"buy organic", b"buy cheap")), b"")
    _laptop, phone = _diverge(tmp_path, case)
    git(phone, "config", "merge.conflictStyle", style)
    assert git(phone, "pull", "-q", "--no-rebase", "origin", "main", check=False).returncode
    text = (phone / "list.md").read_bytes()
    assert text.startswith(b"# Groceries\n\n- [x] Milk\n")  # the tick merged all the same
    base_part = b"||||||| base\nNotes: buy organic.\n"
    assert (base_part in text) is (style != "merge"), text
    assert b"<<<<<<< ours\nNotes: buy cheap.\n" in text and text.count(b"<<<<<<<") == 1
