"""Scan warnings on stderr: summed up past the first few, and not repeated on every warm run for
notes that did not change (``-v`` lists them all)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from click.testing import CliRunner

from vaultmap.cli import main
from vaultmap.report.common import MAX_SCAN_WARNINGS, SCAN_WARNINGS_WHEN_CUT, scan_warning_lines

BROKEN = "---\ntags: [a, b\n---\n# Plan\n\n- [ ] a task\n- [x] done\n"
AN_HOUR_AGO = 3600


def run(*args: str) -> tuple[int, str, list[str]]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr.splitlines()


def set_old(path: Path) -> None:
    """An mtime well before the scan, so the index trusts the file (no "racy" re-parse)."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - AN_HOUR_AGO * 1_000_000_000))


def broken_vault(root: Path, broken: int) -> Path:
    (root / ".obsidian").mkdir(parents=True)
    for number in range(broken):
        note = root / f"broken-{number:02d}.md"
        note.write_text(BROKEN, encoding="utf-8")
        set_old(note)
    fine = root / "fine.md"
    fine.write_text("- [ ] fine\n", encoding="utf-8")
    set_old(fine)
    return root


def about_notes(lines: list[str]) -> list[str]:
    return [line for line in lines if "front matter is not valid YAML" in line]


def test_many_broken_front_matters_are_summed_up_and_all_listed_with_v(tmp_path: Path) -> None:
    vault = broken_vault(tmp_path / "vault", 15)
    code, _, err = run("report", str(vault), "--no-history", "--no-index")
    assert code == 0
    assert len(about_notes(err)) == SCAN_WARNINGS_WHEN_CUT
    assert err[SCAN_WARNINGS_WHEN_CUT] == ("vaultmap: warning: ... and 10 more warnings "
                                           "(-v lists them all)")
    assert len(err) == SCAN_WARNINGS_WHEN_CUT + 1

    code, _, err = run("report", str(vault), "--no-history", "--no-index", "-v")
    assert code == 0
    assert len(about_notes(err)) == len(err) == 15
    assert all(line.startswith("vaultmap: warning: broken-") for line in err)


def test_a_warm_run_does_not_repeat_warnings_about_unchanged_notes(tmp_path: Path) -> None:
    vault = broken_vault(tmp_path / "vault", 3)
    _, first_out, err = run("report", str(vault), "--no-history")  # builds the index
    assert len(about_notes(err)) == 3

    code, out, err = run("report", str(vault), "--no-history")
    assert code == 0 and out == first_out
    assert about_notes(err) == []
    assert err == ["vaultmap: warning: 3 warnings about unchanged notes, given on an earlier "
                   "run, not repeated (-v lists them)"]

    # Asked for: all of them again; and every run of `tasks` behaves the same.
    _, _, err = run("report", str(vault), "--no-history", "--verbose")
    assert len(about_notes(err)) == len(err) == 3
    _, _, err = run("tasks", str(vault))
    assert about_notes(err) == [] and len(err) == 1
    _, _, err = run("tasks", str(vault), "-v")
    assert len(about_notes(err)) == 3

    # A changed note is said again; the others stay summed up.
    changed = vault / "broken-01.md"
    changed.write_text(BROKEN + "- [ ] one more\n", encoding="utf-8")
    set_old(changed)
    _, _, err = run("report", str(vault), "--no-history")
    assert [line.split(":")[2].strip() for line in about_notes(err)] == ["broken-01.md"]
    assert err[-1].startswith("vaultmap: warning: 2 warnings about unchanged notes")


def test_the_json_report_keeps_every_warning_on_a_warm_run(tmp_path: Path) -> None:
    vault = broken_vault(tmp_path / "vault", 12)
    run("report", str(vault), "--no-history")
    code, out, err = run("report", str(vault), "--no-history", "--format", "json")
    assert code == 0 and len(err) == 1
    warnings = json.loads(out)["warnings"]
    assert len([w for w in warnings if "front matter is not valid YAML" in w]) == 12


def test_unreadable_files_are_warned_about_on_every_run(tmp_path: Path) -> None:
    vault = broken_vault(tmp_path / "vault", 0)
    binary = vault / "blob.md"
    binary.write_bytes(b"\x00\x01binary")
    set_old(binary)
    for _ in range(2):  # cold, then warm: a skipped file is never taken for said before
        _, _, err = run("report", str(vault), "--no-history")
        assert len(err) == 1 and "blob.md" in err[0] and "skipped" in err[0]


def test_scan_warning_lines() -> None:
    few = [f"n{i}.md: problem" for i in range(MAX_SCAN_WARNINGS)]
    assert scan_warning_lines(few) == few
    many = [*few, "n99.md: problem"]
    assert scan_warning_lines(many) == [
        *many[:SCAN_WARNINGS_WHEN_CUT],
        f"... and {len(many) - SCAN_WARNINGS_WHEN_CUT} more warnings (-v lists them all)"]
    assert scan_warning_lines(many, verbose=True) == many
    assert scan_warning_lines(many, many[1:], verbose=True) == many
    one_repeated = scan_warning_lines(["a", "b"], ["b"])
    assert one_repeated == ["a", "1 warning about unchanged notes, given on an earlier run, "
                                 "not repeated (-v lists them)"]
    assert scan_warning_lines([]) == []
