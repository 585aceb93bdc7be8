"""A small vault for the report / tasks tests, written fresh into a tmp folder per test.

Known numbers (today = 2026-11-22):

* Roadmap/Month 1.md: done 4, todo 2, doing 1, cancelled 1 (front-matter tags learning, Python)
* Roadmap/Month 2.md: todo 2, no progress
* Projects/Garden.md: done 1, other 1 ([?]), todo 1, two tasks tagged #home; its section
  "Soil | compost" has no progress
* Inbox.md: no tasks
* Overall: 5 of 12 counted done (13 tasks, 1 cancelled) = 41.67 %, label "41%".
* Overdue: "Read the style guide" (due 2026-11-01, 21 days late).
* Parent left open: "Parse a CSV file" (both children done).
"""

from __future__ import annotations

import re
from pathlib import Path

TODAY = "2026-11-22"
ANSI = re.compile(r"\x1b\[")

NOTES: dict[str, str] = {
    "Roadmap/Month 1.md": (
        "---\n"
        "tags: [learning, Python]\n"
        "---\n"
        "# Month 1\n"
        "\n"
        "## Week 1: Basics\n"
        "- [x] Install the toolchain\n"
        "- [x] Write a hello world #practice\n"
        "- [ ] Read the style guide 📅 2026-11-01\n"
        "\n"
        "## Week 2: Data\n"
        "- [/] Learn list comprehensions\n"
        "- [ ] Parse a CSV file\n"
        "  - [x] open the file\n"
        "  - [x] split the rows\n"
        "- [-] Build a web scraper\n"
    ),
    "Roadmap/Month 2.md": (
        "# Month 2\n"
        "## Week 5\n"
        "- [ ] Study decorators\n"
        "- [ ] Write a context manager\n"
    ),
    "Projects/Garden.md": (
        "# Garden | beds\n"
        "- [x] Buy seeds #home\n"
        "## Soil | compost\n"
        "- [?] Ask about soil #home\n"
        "- [ ] Water daily\n"
    ),
    "Inbox.md": "# Inbox\n\nIdeas without checkboxes.\n\n- a plain item\n",
}


def make_vault(root: Path, *, config: str = "") -> Path:
    """Write the test vault into ``root`` (made if needed) and return it."""
    root.mkdir(parents=True, exist_ok=True)
    (root / ".vaultmap.toml").write_text(config, encoding="utf-8")
    for rel, text in NOTES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    return root
