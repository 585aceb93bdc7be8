"""Vaults and report shapes whose terminal and Markdown output is pinned byte for byte.

The renderers lay their lines out by hand for speed; these cases pin that the bytes stay what
rich's tables printed before (``tests/golden/report_bytes.json``, captured from that renderer).
Three vaults: odd text (CJK, emoji with joiners, combining accents, mojibake, a tab in a file
name, very long names and headings, notes of the same title in several folders), the example
vault of ``vault-template/``, and a generated one of many notes. Each is rendered in every
shape below, at widths from the narrowest to wide, with colour on and off, and once on a
console that can only encode ASCII.

Regenerate (only when a change of output is intended, and say so in the commit)::

    .venv/bin/python tests/terminal_golden.py --write
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from vaultmap.parse import parse_note
from vaultmap.progress import Progress, build_progress, with_history
from vaultmap.report import ReportOptions, render_markdown
from vaultmap.report.terminal import make_console, render_terminal

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "report_bytes.json"
TODAY = date(2026, 3, 14)

ODD_NOTES: dict[str, str] = {
    "Projects/日本語のノート.md": (
        "# 日本語のノート\n\n## 第一週：基礎\n"
        "- [x] ひらがなを覚える\n- [ ] カタカナを覚える 📅 2026-02-01\n"
        "- [/] 漢字を百個 #日本\n\n## 第二週：会話\n- [ ] 自己紹介の練習をする\n"
        "- [ ] 買い物の会話 📅 2026-03-01\n"),
    "Projects/Emoji 🚀 launch.md": (
        "---\ntags: [launch, 🎉party]\n---\n"
        "## 🚀 Rocket 👩\u200d💻 team\n- [x] Design the 🎨 logo\n- [x] Pick a 🎵 jingle\n"
        "- [ ] Ship it 🚢 📅 2026-01-10\n\n## ✅ Done-ish ✔️\n- [-] Cancelled 🙅 idea\n"
        "- [x] Celebrate 🎉🎉🎉\n"),
    ("Archive/A very long note name that goes on and on and on well past any terminal "
     "width at all.md"): (
        "# Month one of a plan that has a name much longer than any column would hold\n\n"
        "## Week one: getting every single tool installed and configured properly\n\n"
        "### Monday, the first day of the week, which is always the hardest one\n\n"
        "#### Morning session before lunch and coffee and everything else\n"
        "- [x] Install the interpreter and the editor and the terminal multiplexer\n"
        "- [ ] Read the entire manual of the build system from the first page to the last "
        "one, including the appendices #reading\n"
        "- [ ] Parent task left open\n  - [x] child one\n  - [x] child two\n\n"
        "### Tuesday\n- [ ] " + "Write " * 40 + "\n\n"
        "## Week two\n- [ ] nothing yet\n- [ ] still nothing\n"),
    "Journal/2024-12-21.md": "- [x] journal entry done\n- [ ] journal entry open\n",
    "Work/2024-12-21.md": "## Standup\n- [ ] work item 📅 2026-03-13\n- [x] work done\n",
    "Work/Deep/Deeper/2024-12-21.md": "- [ ] deep item\n",
    "Mojibake/CafÃ© notes.md": (
        "# CafÃ© notes\n\n## Menu â€” draft\n- [ ] Price the crÃ¨me brÃ»lÃ©e\n"
        "- [x] Order the cafÃ© au lait beans #cafÃ©\n"),
    "Re\u0301sume\u0301.md": (
        "## Cafe\u0301 se\u0301ance\n- [ ] Write the re\u0301sume\u0301\n"
        "- [x] Na\u0308i\u0308ve draft\n"),
    "Odd\tname.md": "## Tab\theading\n- [ ] a task in a note whose name holds a tab\n",
    "Garden.md": "# Garden\n\n## Beds\n- [x] dig\n- [ ] sow **peas** [[Seeds|the seeds]]\n",
    "Empty.md": "Just prose, no tasks.\n",
    "Tagged.md": "- [ ] one #home\n- [ ] two #home/kitchen\n- [x] three #home\n",
}

# (name, options) for every vault; the title is set per vault.
SHAPES: tuple[tuple[str, dict[str, object]], ...] = (
    ("default", {}),
    ("depth0", {"depth": 0}),
    ("depth4", {"depth": 4}),
    ("section1", {"by": "section", "depth": 1}),
    ("section3", {"by": "section", "depth": 3}),
    ("folder1", {"by": "folder", "depth": 1}),
    ("folder3", {"by": "folder", "depth": 3}),
    ("tag", {"by": "tag"}),
    ("limit1", {"limit": 1}),
    ("limit50", {"limit": 50}),
    ("rows5", {"max_rows": 5}),
    ("rows0", {"max_rows": 0}),
)
WIDTHS = (20, 40, 80, 120, 200)
COLOURS = ("never", "always")


def _generated_notes(count: int = 160, seed: int = 8) -> dict[str, str]:
    """A vault of many notes: folders three deep, headings four deep, every status, due dates,
    tags, titles that repeat across folders."""
    rng = random.Random(seed)
    words = ("plan", "draft", "review", "garden", "budget", "train", "model", "read", "write",
             "ship", "test", "call", "paint", "fix", "sort")
    notes: dict[str, str] = {}
    for _ in range(count):
        folder = "/".join(rng.choice(("Alpha", "Beta", "Gamma", "Delta"))
                          for _ in range(rng.randrange(0, 4)))
        title = f"Note {rng.randrange(0, 90):03}"
        path = f"{folder}/{title}.md" if folder else f"{title}.md"
        if path in notes:
            continue
        lines = [f"# {title}\n"] if rng.random() < 0.4 else []
        if rng.random() < 0.35:
            notes[path] = "".join(lines) + "Prose only.\n"
            continue
        for heading in range(rng.randrange(1, 6)):
            level = rng.randrange(2, 6)
            lines.append(f"\n{'#' * level} Part {heading}: {rng.choice(words).title()}\n")
            for _ in range(rng.randrange(0, 7)):
                status = rng.choice(" xx/-> ")
                text = " ".join(rng.choice(words) for _ in range(rng.randrange(1, 14)))
                if rng.random() < 0.2:
                    text += f" #{rng.choice(words)}"
                if rng.random() < 0.15:
                    text += f" 📅 2026-{rng.randrange(1, 13):02}-{rng.randrange(1, 29):02}"
                indent = "  " if rng.random() < 0.2 else ""
                lines.append(f"{indent}- [{status}] {text}\n")
        notes[path] = "".join(lines)
    return notes


def _template_notes() -> dict[str, str]:
    root = REPO / "vault-template"
    return {path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(root.rglob("*.md"))}


VAULTS = {"odd": ODD_NOTES, "generated": None, "template": None}


def vault_notes(name: str) -> dict[str, str]:
    if name == "odd":
        return ODD_NOTES
    if name == "generated":
        return _generated_notes()
    return _template_notes()


def progress_of(name: str) -> Progress:
    """The vault's progress as of :data:`TODAY`, with made-up history for Stalled and Focus."""
    notes = [parse_note(text.encode("utf-8"), path)
             for path, text in sorted(vault_notes(name).items())]
    progress = build_progress(notes, today=TODAY)
    last: dict[tuple[str, tuple[str, ...]], date] = {}
    for number, note in enumerate(progress.notes):
        for section in note.root.walk():
            if section.own.done and section.own.open:
                last[(note.path, section.path)] = TODAY - timedelta(days=3 + (number * 7) % 50)
    return with_history(progress, last, today=TODAY, stalled_days=14)


def cases() -> Iterator[tuple[str, str, ReportOptions, str, int, str]]:
    """(key, vault, options, colour, width, encoding) for every pinned terminal render."""
    for vault in VAULTS:
        for shape, fields in SHAPES:
            options = ReportOptions(title=f"{vault} vault", **fields)  # type: ignore[arg-type]
            for width in WIDTHS:
                for colour in COLOURS:
                    yield f"{vault}/{shape}/{width}/{colour}", vault, options, colour, width, \
                        "utf-8"
            yield f"{vault}/{shape}/80/ascii", vault, options, "always", 80, "ascii"


def render(progress: Progress, options: ReportOptions, colour: str, width: int,
           encoding: str) -> str:
    """The terminal report's text on a console of ``width`` and ``encoding``."""
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
    render_terminal(progress, options,
                    make_console(out, color=colour, width=width))  # type: ignore[arg-type]
    out.flush()
    return raw.getvalue().decode(encoding)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def all_outputs(widths: tuple[int, ...] = WIDTHS) -> dict[str, str]:
    """Every pinned output (terminal and Markdown) by key; terminal ones only at ``widths``."""
    outputs: dict[str, str] = {}
    progresses = {vault: progress_of(vault) for vault in VAULTS}
    for key, vault, options, colour, width, encoding in cases():
        if width in widths:
            outputs[key] = render(progresses[vault], options, colour, width, encoding)
    for vault in VAULTS:
        for shape, fields in SHAPES:
            options = ReportOptions(title=f"{vault} vault", **fields)  # type: ignore[arg-type]
            outputs[f"{vault}/{shape}/markdown"] = render_markdown(progresses[vault], options)
    return outputs


if __name__ == "__main__" and "--write" in sys.argv:
    import os

    for variable in ("NO_COLOR", "FORCE_COLOR", "COLORTERM", "COLUMNS"):
        os.environ.pop(variable, None)
    os.environ["TERM"] = "xterm-256color"
    GOLDEN.parent.mkdir(exist_ok=True)
    everything = all_outputs()
    GOLDEN.write_text(json.dumps({key: digest(text) for key, text in everything.items()},
                                 indent=0, sort_keys=True) + "\n", encoding="utf-8")
    for vault in VAULTS:  # a few in full, for a person reading a failure
        (GOLDEN.parent / f"{vault}-default-80.txt").write_text(
            everything[f"{vault}/default/80/never"], encoding="utf-8")
    print(f"{len(everything)} outputs pinned in {GOLDEN}")
