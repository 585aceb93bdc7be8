"""Inputs for the HTML report's tests: a vault of hostile note text and hand-made histories
in the agreed ``vaultmap.history/1`` shape (what ``vaultmap history --format json`` prints)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Text a note may hold that must reach the page as text, never as markup or template code.
HOSTILE_NOTES: dict[str, str] = {
    "Hostile/Plan <b>bold<b> & \"quoted\" 'q'.md": (
        "- [ ] A task before any heading keeps the first heading in the tree\n"
        "# Plan <script>alert('title')</script>\n"
        "## Week \"1\" 'single' </svg> {{ 7 * 7 }}\n"
        "- [ ] Close the </svg> tag <img src=x onerror=alert(1)> {% raw %}\n"
        "- [x] Say it aloud\n"
        "## שבוע ראשון: עברית 🚀\n"
        "- [/] משימה בעברית with mixed English 🎉\n"
        "- [ ] اقرأ الكتاب {{ config }} 📅 2026-11-01\n"
        "## <style>body{display:none}</style> </details></summary>\n"
        "- [-] Cancelled row\n"
        "- [ ] averyveryveryveryveryveryveryveryveryveryveryveryveryveryverylongunbrokenword\n"
    ),
    "Plain.md": (
        "# Plain\n"
        "- [x] One\n"
        "- [ ] Two\n"
        "  - [x] Two a\n"
    ),
}
HOSTILE_TEXTS = ("<script>alert('title')</script>", "</svg>", "{{ 7 * 7 }}", "{{ config }}",
                 "<img src=x onerror=alert(1)>", "{% raw %}", "שבוע ראשון: עברית 🚀",
                 "<style>body{display:none}</style>", "</details></summary>")


def write_vault(root: Path, notes: dict[str, str]) -> Path:
    """Write ``notes`` (vault path -> text) under ``root`` with an empty config."""
    root.mkdir(parents=True, exist_ok=True)
    (root / ".vaultmap.toml").write_text("", encoding="utf-8")
    for rel, text in notes.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
    return root


def weekly_history(weeks: int, *, vault: str = "vault") -> dict[str, Any]:
    """A plausible ``vaultmap.history/1`` dict: ``weeks`` ISO weeks of a growing, filling plan."""
    periods = []
    done = 0
    for index in range(weeks):
        total = 20 + 4 * index
        done_in_period = min(3 + index % 4, total - done)
        done += done_in_period
        cancelled = index // 3
        counted = total - cancelled
        periods.append({
            "period": f"2026-W{30 + index:02d}",
            "start": f"week {index} start", "end": f"week {index} end",
            "commit": f"{index:040x}",
            "total": total, "done": done, "cancelled": cancelled,
            "open": total - done - cancelled,
            "percent": round(100 * done / counted, 1) if counted else None,
            "done_in_period": done_in_period,
        })
    return {"schema": "vaultmap.history/1", "vault": vault, "by": "week", "note": None,
            "periods": periods}
