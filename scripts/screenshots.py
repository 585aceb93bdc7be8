"""Regenerate the HTML report's screenshots in ``docs/`` from the bundled template vault.

Usage (needs Debian's ``chromium`` and ``chromium-driver``, and selenium from ``.[test]``)::

    .venv/bin/python scripts/screenshots.py

It writes ``docs/report-desktop.png`` (1280 px wide) and ``docs/report-phone.png`` (375 px),
each the top of the page in the light theme, plus ``docs/report-phone-dark.png``. The date is
fixed so the pictures only change when the page does.

The template vault is copied into a git repository whose history reaches today's template in
weekly commits, each ticking a few more of its done tasks, so the charts over time show too.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import INSTALL_HINT, browser_paths, chromium  # noqa: E402

SHOTS = (  # file, width, height of the picture, dark theme
    ("report-desktop.png", 1280, 1700, False),
    ("report-phone.png", 375, 1500, False),
    ("report-phone-dark.png", 375, 1500, True),
)


DONE_MARK = re.compile(r"(?m)^[ \t>]*[-*+] \[(x)\]")
WEEKS = 8


def template_with_history(target: Path) -> None:
    """Copy the template vault to ``target`` and commit its past: week 0 with no task done,
    then a commit a week ticking the next done tasks, the last being the template itself."""
    shutil.copytree(ROOT / "vault-template", target,
                    ignore=shutil.ignore_patterns(".vaultmap", ".git"))
    notes = sorted(target.rglob("*.md"))
    final = {path: path.read_text(encoding="utf-8") for path in notes}
    marks = [(path, m.start(1)) for path in notes for m in DONE_MARK.finditer(final[path])]
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(target.parent)}

    def git(*args: str, when: date | None = None) -> None:
        extra = {"GIT_AUTHOR_DATE": f"{when}T18:00:00", "GIT_COMMITTER_DATE":
                 f"{when}T18:00:00"} if when else {}
        subprocess.run(["git", "-C", str(target), *args], check=True, capture_output=True,
                       env={**env, **extra})

    git("init", "-q", "-b", "main")
    git("config", "user.name", "vaultmap screenshots")
    git("config", "user.email", "screenshots@example.invalid")
    start = date(2026, 9, 28)
    for week in range(WEEKS + 1):
        ticked = set(marks[:len(marks) * week // WEEKS])
        for path in notes:
            text = list(final[path])
            for mark_path, offset in marks:
                if mark_path == path and (mark_path, offset) not in ticked:
                    text[offset] = " "
            path.write_text("".join(text), encoding="utf-8")
        git("add", "-A")
        git("commit", "-q", "--allow-empty", "-m", f"week {week}",
            when=start + timedelta(days=7 * week))


def main() -> int:
    if browser_paths() is None:
        print(INSTALL_HINT, file=sys.stderr)
        return 1
    vaultmap = Path(sys.executable).with_name("vaultmap")
    with tempfile.TemporaryDirectory() as tmp:
        vault = Path(tmp) / "vault-template"
        template_with_history(vault)
        page = Path(tmp) / "report.html"
        subprocess.run([str(vaultmap), "report", str(vault), "--format", "html", "--today",
                        "2026-11-22", "-o", str(page)], check=True)
        with chromium() as browser:
            for name, width, height, dark in SHOTS:
                load = browser.load(page, width=width, height=height, dark=dark)
                if load.requests or load.errors:
                    print(f"{name}: the page made requests or errors: {load}", file=sys.stderr)
                    return 1
                shot = browser.driver.execute_cdp_cmd("Page.captureScreenshot", {
                    "format": "png", "captureBeyondViewport": False,
                    "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
                target = ROOT / "docs" / name
                target.write_bytes(base64.b64decode(shot["data"]))
                print(f"{target.relative_to(ROOT)}: {target.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
