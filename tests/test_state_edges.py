"""The file-system edge holds for the state files of git sync, the merge driver, the git
history cache and the GitHub link table: a cloned repository or a shared folder can carry a
``.vaultmap/`` file that is a symbolic link pointing outside the vault, or a FIFO, and neither
may make vaultmap write outside the vault or hang."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from daemon_proc import DaemonProcess, wait_for
from gitsync_repos import GIT_ENV, clone, git, make_origin
from privileges import without_privileges

PLAN = "# Plan\n\n- [ ] one\n- [ ] two\n"
OUTSIDE_TEXT = b"a file of the user's outside the vault\n"


def _origin_with_link(tmp_path: Path, name: str, target: Path) -> Path:
    """An origin whose ``.vaultmap/<name>`` is a committed symbolic link to ``target``."""
    bare = make_origin(tmp_path, {"Plan.md": PLAN})
    seed = tmp_path / "seed"
    (seed / ".vaultmap").mkdir()
    (seed / ".vaultmap" / name).symlink_to(target)
    git(seed, "add", "-f", "-A")
    git(seed, "commit", "-q", "-m", "a state file that is a link")
    git(seed, "push", "-q", str(bare), "main")
    return bare


def _outside(tmp_path: Path) -> Path:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(OUTSIDE_TEXT)
    return outside


def test_git_sync_never_writes_its_attributes_file_through_a_cloned_link(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    a = clone(_origin_with_link(tmp_path, "merge-attributes", outside), tmp_path, "a")
    a.write("Plan.md", PLAN.replace("[ ] one", "[x] one"))
    result = a.sync(code=17)
    assert outside.read_bytes() == OUTSIDE_TEXT
    assert "symbolic link" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_git_history_cache_is_never_opened_through_a_cloned_link(tmp_path: Path) -> None:
    outside = tmp_path / "made-outside.sqlite"  # a dangling link: SQLite would create it
    a = clone(_origin_with_link(tmp_path, "history.sqlite", outside), tmp_path, "a")
    result = a.vaultmap("history", "--format", "json", str(a.vault))
    assert not outside.exists()
    assert result.stdout.strip().startswith(("{", "["))


def test_a_fifo_in_place_of_the_git_record_is_refused_not_waited_on(tmp_path: Path) -> None:
    a = clone(make_origin(tmp_path, {"Plan.md": PLAN}), tmp_path, "a")
    (a.vault / ".vaultmap").mkdir(exist_ok=True)
    os.mkfifo(a.vault / ".vaultmap" / "git.json")
    a.write("Plan.md", PLAN.replace("[ ] one", "[x] one"))
    env = {**os.environ, **{k: v for k, v in GIT_ENV.items() if v}}
    done = subprocess.run([sys.executable, "-m", "vaultmap", "sync", "--git", str(a.vault)],
                          env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 17, done.stderr
    assert "not a regular file" in done.stderr
    assert "Traceback" not in done.stderr




def _vaultmap(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **{k: v for k, v in GIT_ENV.items() if v}}
    return subprocess.run([sys.executable, "-m", "vaultmap", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


def test_git_install_never_writes_a_cloned_gitattributes_link_outside(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    bare = make_origin(tmp_path, {"Plan.md": PLAN})
    seed = tmp_path / "seed"
    (seed / ".gitattributes").symlink_to(outside)
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "attributes that are a link")
    git(seed, "push", "-q", str(bare), "main")
    a = clone(bare, tmp_path, "a")
    for args in (("install", "--shared"), ("uninstall",)):
        done = _vaultmap("git", *args, str(a.vault))
        assert outside.read_bytes() == OUTSIDE_TEXT
        assert done.returncode == 17 and "outside the vault" in done.stderr, done
        assert done.stderr.count("\n") == 1


def test_merge_driver_never_logs_through_a_linked_log(tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    (repo / ".vaultmap.toml").write_text("[vault\nflavor = ")  # the driver falls back and logs
    (repo / ".vaultmap").mkdir()
    (repo / ".vaultmap" / "merge-driver.log").symlink_to(outside)
    for name in ("o", "a", "b"):
        (repo / name).write_bytes(PLAN.encode())
    done = _vaultmap("merge-driver", "o", "a", "b", "7", "Plan.md", cwd=repo)
    assert done.returncode == 0, done
    assert outside.read_bytes() == OUTSIDE_TEXT


def test_merge_records_in_a_fifo_are_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "git-merges.jsonl")
    probe = ("import sys\nfrom pathlib import Path\n"
             "from vaultmap.sync.git.driver import read_merge_records\n"
             "print(read_merge_records(Path(sys.argv[1])))\n")
    done = subprocess.run([sys.executable, "-c", probe, str(tmp_path)], capture_output=True,
                          text=True, timeout=30, check=False)  # a hang fails the test
    assert done.stdout.strip() == "[]", done


def test_github_link_table_is_never_opened_through_a_link(tmp_path: Path) -> None:
    from vaultmap.errors import StateError
    from vaultmap.sync.github.store import GitHubStore

    vault = tmp_path / "vault"
    (vault / ".vaultmap").mkdir(parents=True)
    outside = tmp_path / "made-outside.sqlite"
    (vault / ".vaultmap" / "github.sqlite").symlink_to(outside)
    try:
        GitHubStore.open(vault / ".vaultmap").close()
    except StateError as error:
        assert "symbolic link" in str(error)
    else:
        raise AssertionError("the linked link table was opened")
    assert not outside.exists()


def test_doctor_reports_a_fifo_daemon_status_instead_of_hanging(tmp_path: Path) -> None:
    (tmp_path / ".vaultmap.toml").write_text("")
    (tmp_path / "Plan.md").write_text(PLAN)
    (tmp_path / ".vaultmap").mkdir()
    os.mkfifo(tmp_path / ".vaultmap" / "daemon.json")
    done = _vaultmap("doctor", "--format", "json", str(tmp_path))  # a hang times out
    checks = {f"{c['area']}/{c['name']}": c for c in json.loads(done.stdout)["checks"]}
    assert not checks["daemon/daemon"]["ok"]
    assert "not a regular file" in checks["daemon/daemon"]["detail"]


def test_credentials_in_the_github_api_url_are_refused_and_never_shown(tmp_path: Path) -> None:
    (tmp_path / ".vaultmap.toml").write_text("")
    (tmp_path / "Plan.md").write_text(PLAN)
    env = {**os.environ, "GITHUB_TOKEN": "ghp_" + "a" * 36,
           "VAULTMAP_GITHUB_API_URL": "http://someone:s3cr3t-pass@127.0.0.1:9/api"}
    env.pop("GH_TOKEN", None)
    done = subprocess.run([sys.executable, "-m", "vaultmap", "github", "publish",
                           str(tmp_path / "Plan.md"), "--repo", "owner/repo"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0
    assert "s3cr3t" not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def _running(marker: bytes) -> bool:
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if Path(f"/proc/{pid}/cmdline").read_bytes() == marker:
                    return True
            except OSError:
                continue
    return False


def test_a_timed_out_git_command_leaves_no_child_behind(tmp_path: Path) -> None:
    import time

    import pytest

    from vaultmap.errors import GitError
    from vaultmap.sync.git.repo import run_git

    git(tmp_path, "init", "-q", "-b", "main", str(tmp_path / "r"))
    # An alias runs through a shell: git's child lives on if only git is killed.
    with pytest.raises(GitError, match="did not finish"):
        run_git(["-c", "alias.hang=!sleep 61.5; true", "hang"], tmp_path / "r", timeout=1)
    marker = b"sleep\x0061.5\x00"
    deadline = time.monotonic() + 10
    while _running(marker) and time.monotonic() < deadline:
        time.sleep(0.05)  # polling a kill with a deadline
    assert not _running(marker)


def test_a_note_path_cannot_forge_merge_driver_log_lines(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    (repo / ".vaultmap.toml").write_text("[vault\nflavor = ")  # the driver falls back and logs
    for name in ("o", "a", "b"):
        (repo / name).write_bytes(PLAN.encode())
    done = _vaultmap("merge-driver", "o", "a", "b", "7",
                     "x.md\n2026-01-01T00:00:00Z y.md: \x1b]0;forged\x07", cwd=repo)
    assert done.returncode == 0, done
    log = (repo / ".vaultmap" / "merge-driver.log").read_text()
    assert len(log.splitlines()) == 1 and "\x1b" not in log


def _plain_vault(tmp_path: Path) -> Path:
    vault = tmp_path / "vault"
    vault.mkdir()
    (vault / ".vaultmap.toml").write_text("[git]\nenabled = false\n")
    (vault / "Plan.md").write_text(PLAN)
    return vault


def test_the_daemon_never_writes_through_a_linked_state_folder(tmp_path: Path) -> None:
    vault = _plain_vault(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (vault / ".vaultmap").symlink_to(elsewhere)
    done = _vaultmap("daemon", str(vault))  # refused at once: a run would time out the test
    assert done.returncode == 12, done.stderr
    assert "symbolic link" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert list(elsewhere.iterdir()) == []


@pytest.mark.slow
def test_the_daemon_never_logs_or_locks_through_a_linked_file(tmp_path: Path) -> None:
    for name in ("daemon.log", "daemon.log.1", "daemon.lock", "daemon.json"):
        (tmp_path / name).mkdir()
        vault = _plain_vault(tmp_path / name)
        outside = _outside(vault.parent)
        (vault / ".vaultmap").mkdir()
        (vault / ".vaultmap" / name).symlink_to(outside)
        done = _vaultmap("daemon", str(vault))
        assert done.returncode == 12, (name, done.stderr)
        assert "symbolic link" in done.stderr
        assert outside.read_bytes() == OUTSIDE_TEXT


@pytest.mark.slow
def test_daemon_status_and_stop_do_not_wait_on_a_fifo(tmp_path: Path) -> None:
    for name in ("daemon.lock", "daemon.json"):
        (tmp_path / name).mkdir()
        vault = _plain_vault(tmp_path / name)
        (vault / ".vaultmap").mkdir()
        os.mkfifo(vault / ".vaultmap" / name)
        for command in ("status", "stop"):
            done = _vaultmap("daemon", command, str(vault))  # a hang times out
            assert "Traceback" not in done.stderr
            assert "daemon: not running" in done.stdout, (name, command, done.stderr)


def test_doctor_does_not_wait_on_a_fifo_saved_as_the_scan_index(tmp_path: Path) -> None:
    vault = _plain_vault(tmp_path)
    (vault / ".vaultmap").mkdir()
    os.mkfifo(vault / ".vaultmap" / "scan-index.obsidian.pickle")
    done = _vaultmap("doctor", str(vault))  # a hang times out
    assert "Traceback" not in done.stderr
    assert "index" in done.stdout and "unreadable" in done.stdout, done.stdout


def test_a_fifo_saved_as_a_note_does_not_stop_the_daemon(tmp_path: Path) -> None:
    vault = _plain_vault(tmp_path)
    (vault / ".vaultmap.toml").write_text("[git]\nenabled = false\n[daemon]\nquiet_period = 0.2\n")
    daemon = DaemonProcess(vault, {})
    try:
        wait_for(lambda: daemon.status().get("started"), what="the daemon's start")
        os.mkfifo(vault / "Trap.md")
        (vault / "Plan.md").write_text(PLAN + "- [ ] three\n")
        # Hashing the FIFO like a note would wait for a writer forever: no change is logged.
        wait_for(lambda: ("changed: " in daemon.log() and "Plan.md" in daemon.log()) or None,
                 what="the changed note logged")
        assert daemon.terminate(timeout=10) < 10
    finally:
        daemon.close()


def test_the_daemon_log_shows_no_control_characters_from_note_names(tmp_path: Path) -> None:
    vault = _plain_vault(tmp_path)
    (vault / ".vaultmap.toml").write_text("[git]\nenabled = false\n[daemon]\nquiet_period = 0.2\n")
    daemon = DaemonProcess(vault, {})
    try:
        wait_for(lambda: daemon.status().get("started"), what="the daemon's start")
        (vault / "Plan \x1b]0;owned\x07\x1b[2J.md").write_text(PLAN)
        wait_for(lambda: "changed: Plan " in daemon.log() or None, what="the new note logged")
        daemon.terminate(timeout=10)
        for text in (daemon.log(), daemon.output()):
            assert "\x1b" not in text and "\x07" not in text
            assert "changed: Plan \ufffd]0;owned\ufffd\ufffd[2J.md" in text
    finally:
        daemon.close()


def test_a_malformed_github_api_url_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    vault = _plain_vault(tmp_path)
    for url, command in (("http://[::1", ["sync", "--github"]),
                         ("http://127.0.0.1:9/a\npi", ["github", "publish", "Plan.md", "--repo",
                                                        "o/r"])):
        env = {**os.environ, "GITHUB_TOKEN": "ghp_" + "a" * 36, "VAULTMAP_GITHUB_API_URL": url}
        env.pop("GH_TOKEN", None)
        done = subprocess.run([sys.executable, "-m", "vaultmap", *command], cwd=vault, env=env,
                              capture_output=True, text=True, timeout=60, check=False)
        assert "Traceback" not in done.stderr, (url, done.stderr)
        assert done.returncode == 6, (url, done.stderr)
        assert "VAULTMAP_GITHUB_API_URL must be an http(s) URL" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_a_damaged_github_link_row_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    import sqlite3

    from vaultmap.sync.github.store import GitHubStore, Link

    vault = _plain_vault(tmp_path)
    with GitHubStore.open(vault / ".vaultmap") as store:
        store.put_link(Link("Plan.md", (), "o/r", 12, "m1", "Plan"))
    for damage in ("UPDATE links SET section = '5'", "UPDATE links SET number = 'twelve'",
                   "UPDATE links SET section = 'not json'"):
        db = sqlite3.connect(vault / ".vaultmap" / "github.sqlite")
        with db:
            db.execute(damage)
        db.close()
        done = _vaultmap("github", "list", cwd=vault)
        assert "Traceback" not in done.stderr, (damage, done.stderr)
        assert done.returncode == 12, (damage, done.stderr)
        assert "GitHub link table" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_a_sync_state_row_of_the_wrong_shape_is_exit_12_not_a_traceback(tmp_path: Path) -> None:
    import sqlite3

    import pytest

    from vaultmap.errors import StateError
    from vaultmap.sync.base import BaseEntry
    from vaultmap.sync.state import StateStore

    vault = _plain_vault(tmp_path)
    with StateStore.open(vault / ".vaultmap", "notion") as state:
        state.put(BaseEntry("k1", "row-1", " ", " ", "h", "h", "Plan.md", "one", ("Plan",)))
        state.finish_sync(datetime.now(UTC))
    for damage, read in (("UPDATE base SET section = 'not json'", StateStore.entries),
                         ("UPDATE meta SET value = 'soon' WHERE name = 'last_start'",
                          lambda s: s.last_sync_start),
                         ("UPDATE meta SET value = 'many' WHERE name = 'count'",
                          lambda s: s.sync_count)):
        db = sqlite3.connect(vault / ".vaultmap" / "sync.sqlite")
        with db:
            db.execute(damage)
        db.close()
        with StateStore.open(vault / ".vaultmap", "notion") as state, \
                pytest.raises(StateError) as caught:
            read(state)
        assert caught.value.exit_code == 12
        assert "move the file aside" in str(caught.value)



def test_a_daemon_that_cannot_write_its_log_says_so_in_one_line(tmp_path: Path) -> None:
    vault = _plain_vault(tmp_path)
    state = vault / ".vaultmap"
    state.mkdir()
    (state / ".gitignore").write_text("*\n")
    state.chmod(0o555)
    try:
        done = subprocess.run([*without_privileges(), sys.executable, "-m", "vaultmap",
                               "daemon", str(vault)], capture_output=True, text=True,
                              timeout=60, check=False)
    finally:
        state.chmod(0o755)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 12, done.stderr
    assert "cannot write the daemon's log (Permission denied)" in done.stderr
    assert "make the vault's .vaultmap folder and its files writable" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_systemd_unit_keeps_a_vault_path_with_percent_dollar_quote_and_backslash(
        tmp_path: Path) -> None:
    # systemd expands %x specifiers (also in Description=) and $VAR in ExecStart=, and reads
    # backslash escapes inside quotes: each must reach the daemon as the literal folder name.
    vault = tmp_path / 'plan 100% $HOME "q" b\\s'
    vault.mkdir()
    (vault / ".vaultmap.toml").write_text("")
    done = _vaultmap("daemon", "--print-service", "systemd", str(vault))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    quoted = str(tmp_path).replace("%", "%%").replace("$", "$$")
    assert f'ExecStart={sys.executable} -m vaultmap daemon "{quoted}/plan 100%% $$HOME ' \
           '\\"q\\" b\\\\s"' in lines
    assert f"Description=vaultmap daemon for {quoted.replace('$$', '$')}" \
           '/plan 100%% $HOME "q" b\\s' in lines


def test_a_systemd_unit_keeps_a_vault_path_with_a_line_break_or_an_undecodable_byte_on_its_line(
        tmp_path: Path) -> None:
    # A line break in the folder name ended the ExecStart= (and Description=) line: the rest
    # of the name was read as a directive of its own.
    vault = Path(os.fsdecode(os.fsencode(tmp_path) + b"/a\nExecStartPre=x \xe9\x01"))
    vault.mkdir()
    (vault / ".vaultmap.toml").write_text("")
    done = _vaultmap("daemon", "--print-service", "systemd", str(vault))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert not [line for line in lines if line.startswith("ExecStartPre")]
    (exec_start,) = [line for line in lines if line.startswith("ExecStart=")]
    assert exec_start.endswith('/a\\x0aExecStartPre=x \\xe9\\x01"')
    (description,) = [line for line in lines if line.startswith("Description=")]
    assert description.endswith("/a\ufffdExecStartPre=x \ufffd\ufffd")


class _OneAnswer:
    """An HTTP server on 127.0.0.1 that answers every request with one JSON text."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        answer = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                data = answer.text.encode()
                self.send_response(201 if self.command == "POST" else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.text = "{}"
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.slow
def test_a_github_answer_that_is_no_issue_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    vault = _plain_vault(tmp_path)
    server = _OneAnswer()
    env = {**os.environ, "GITHUB_TOKEN": "ghp_" + "a" * 36, "VAULTMAP_GITHUB_API_URL": server.url}
    env.pop("GH_TOKEN", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "vaultmap", *args], cwd=vault, env=env,
                              capture_output=True, text=True, timeout=60, check=False)

    try:
        server.text = '{"number": "x"}'
        done = run("github", "publish", "Plan.md", "--repo", "o/r")
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode == 6 and "not an issue" in done.stderr, done.stderr
        shutil.rmtree(vault / ".vaultmap")
        server.text = '{"number": 12, "title": "Plan", "body": null, "state": "open"}'
        assert run("github", "publish", "Plan.md", "--repo", "o/r").returncode == 0
        server.text = '{"number": 12, "body": 7, "state": []}'
        done = run("sync", "--github")
        assert "Traceback" not in done.stderr, done.stderr
        assert "not an issue" in done.stderr and done.returncode != 0, done.stderr
    finally:
        server.close()
