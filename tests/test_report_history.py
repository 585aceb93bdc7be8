"""``vaultmap report`` with git history: the "Stalled" gap and the "Focus" line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from gitsync_repos import GIT_ENV, git
from vaultmap.cli import main

ROADMAP = """\
# Roadmap
## Month 1
- [ ] m1a
- [ ] m1b
## Month 2
- [ ] m2a
- [ ] m2b
## Month 3
- [ ] m3a
"""


def _commit(repo: Path, when: str, rel: str, text: str) -> None:
    (repo / rel).write_text(text)
    git(repo, "add", rel)
    stamp = f"{when}T09:00:00+00:00"
    git(repo, "commit", "-q", "-m", when, env={"GIT_AUTHOR_DATE": stamp,
                                               "GIT_COMMITTER_DATE": stamp})


def _vault(tmp_path: Path) -> Path:
    repo = tmp_path / "plans"
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    git(repo, "config", "user.name", "r")
    git(repo, "config", "user.email", "r@example.invalid")
    _commit(repo, "2026-10-01", "Roadmap.md", ROADMAP)
    _commit(repo, "2026-10-01", "Shopping.md", "- [x] bread\n- [ ] milk\n")
    _commit(repo, "2026-10-02", "Roadmap.md", ROADMAP.replace("[ ] m1a", "[x] m1a"))
    _commit(repo, "2026-11-20", "Roadmap.md",
            ROADMAP.replace("[ ] m1a", "[x] m1a").replace("[ ] m2a", "[x] m2a"))
    return repo


def _report(vault: Path, *args: str) -> str:
    env = {k: v for k, v in GIT_ENV.items() if v}
    env["COLUMNS"] = "100"
    result = CliRunner().invoke(main, ["report", str(vault), "--today", "2026-11-22", *args],
                                env=env)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_stalled_and_focus_from_history(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    data = json.loads(_report(vault, "--format", "json"))
    # Month 1 was started and last moved on 2026-10-02; Month 2 moved two days ago; the
    # shopping list's tick came with the note itself on 2026-10-01.
    stalled = [(s["path"], s["section"], s["last_progress"], s["days"])
               for s in data["gaps"]["stalled"]]
    assert stalled == [("Shopping.md", [], "2026-10-01", 52),
                       ("Roadmap.md", ["Roadmap", "Month 1"], "2026-10-02", 51)]
    # Only the roadmap note (tasks under several headings) has a focus: its first
    # unfinished section's next task.
    assert [(f["path"], f["section"], f["task"]["text"]) for f in data["gaps"]["focus"]] == [
        ("Roadmap.md", ["Roadmap", "Month 1"], "m1b")]

    text = _report(vault, "--color", "never")
    assert "Focus    Roadmap › Month 1: m1b" in text
    assert "Stalled (2)" in text and "last progress 2026-10-02, 51 days ago" in text
    markdown = _report(vault, "--format", "markdown")
    assert "**Focus:** Roadmap › Month 1: m1b" in markdown
    assert "### Stalled" in markdown


def test_stalled_days_is_configurable_and_history_optional(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    (vault / ".vaultmap.toml").write_text("[report]\nstalled_days = 60\n")
    assert json.loads(_report(vault, "--format", "json"))["gaps"]["stalled"] == []
    data = json.loads(_report(vault, "--format", "json", "--no-history"))
    assert "stalled" not in data["gaps"] and "focus" not in data["gaps"]
    assert "Focus" not in _report(vault, "--no-history")


def test_no_git_no_history_sections(tmp_path: Path) -> None:
    vault = tmp_path / "plain"
    vault.mkdir()
    (vault / "Roadmap.md").write_text(ROADMAP)
    data = json.loads(_report(vault, "--format", "json"))
    assert "stalled" not in data["gaps"]
    assert "Focus" not in _report(vault)


def test_focus_is_one_line_per_roadmap_note_cut_to_the_terminal(tmp_path: Path) -> None:
    repo = tmp_path / "plans"
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    git(repo, "config", "user.name", "r")
    git(repo, "config", "user.email", "r@example.invalid")
    long_task = ("Read chapters three to seven of the probability book and do every exercise "
                 "at the end of each chapter")
    _commit(repo, "2026-11-01", "Roadmap.md",
            "# Roadmap\n## Month 1: Foundations of statistics and probability\n- [x] m1a\n"
            f"- [ ] {long_task}\n## Month 2\n- [ ] m2a\n")
    _commit(repo, "2026-11-02", "Garden.md",
            "# Garden\n## Build\n- [ ] pick a generator\n## Launch\n- [ ] write the post\n")
    (repo / "Courses" / "Deep").mkdir(parents=True)
    _commit(repo, "2026-11-03", "Courses/Deep/Machine-learning-course-with-a-long-name.md",
            "# ML\n## Week 10: Classification and regression trees\n### Practice\n"
            "- [x] one\n- [ ] train a model\n## Week 11\n- [ ] evaluate\n")
    env = {k: v for k, v in GIT_ENV.items() if v}
    for width in (40, 80, 120):
        result = CliRunner().invoke(main, ["report", str(repo), "--today", "2026-11-22",
                                           "--color", "never"],
                                    env={**env, "COLUMNS": str(width)})
        assert result.exit_code == 0, result.stderr
        lines = result.stdout.splitlines()
        first = next(n for n, line in enumerate(lines) if line.startswith("Focus    "))
        focus = lines[first:first + 3]
        # One line per note, in note order, each starting under the first; none wraps.
        assert [line[9:13] for line in focus] == ["Mach", "Gard", "Road"], focus
        assert all(line.startswith(" " * 9) for line in focus[1:]), focus
        assert not lines[first + 3].startswith(" " * 9), lines[first + 3]
        assert all(len(line) <= width for line in focus), focus
        assert focus[2].endswith("…"), focus  # the long task is cut, with an ellipsis
        if width >= 80:
            assert focus[0].endswith("› … › Practice: train a model"), focus
            assert focus[1] == "         Garden › Build: pick a generator"
    wide = CliRunner().invoke(main, ["report", str(repo), "--today", "2026-11-22", "--color",
                                     "never", "--limit", "2"], env={**env, "COLUMNS": "200"})
    lines = wide.stdout.splitlines()
    first = next(n for n, line in enumerate(lines) if line.startswith("Focus    "))
    assert lines[first + 1] == "         Garden › Build: pick a generator"
    assert lines[first + 2].startswith("  … and 1 more")
