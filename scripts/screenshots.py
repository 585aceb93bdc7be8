"""Regenerate the HTML report's screenshots in ``docs/`` from the bundled template vault.

Usage (needs Debian's ``chromium`` and ``chromium-driver``, and selenium from ``.[test]``)::

    .venv/bin/python scripts/screenshots.py

It writes ``docs/report-desktop.png`` (1280 px wide) and ``docs/report-phone.png`` (375 px),
each the top of the page in the light theme, plus ``docs/report-phone-dark.png``. The date is
fixed so the pictures only change when the page does.
"""

from __future__ import annotations

import base64
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import INSTALL_HINT, browser_paths, chromium  # noqa: E402

SHOTS = (  # file, width, height of the picture, dark theme
    ("report-desktop.png", 1280, 1500, False),
    ("report-phone.png", 375, 1400, False),
    ("report-phone-dark.png", 375, 1400, True),
)


def main() -> int:
    if browser_paths() is None:
        print(INSTALL_HINT, file=sys.stderr)
        return 1
    vaultmap = Path(sys.executable).with_name("vaultmap")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        subprocess.run([str(vaultmap), "report", str(ROOT / "vault-template"), "--format",
                        "html", "--today", "2026-11-22", "--no-index", "-o", str(page)],
                       check=True)
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
