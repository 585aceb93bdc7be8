"""A deterministic generator of realistic Obsidian-style vaults, for benchmarks.

Usage::

    .venv/bin/python benchmarks/generate.py OUT_DIR --notes 2000 --note-bytes 4000 \\
        --task-share 0.2 --crlf-share 0.1 --seed 1

The same arguments always give byte-identical files (and fixed mtimes, so an index built on
them is trusted at once). Notes hold headings, paragraphs, bullet and ordered lists, block
quotes, tables, fenced code with task-looking lines (never tasks), optional YAML front matter
and, for the share of notes that have tasks, nested task lists with custom statuses, Tasks
plugin fields, tags, wiki links and block ids. :func:`generate_vault` returns how many tasks
each flavour should find, so a benchmark can check its answers.
"""

from __future__ import annotations

import argparse
import os
import random
from dataclasses import dataclass
from pathlib import Path

#: Every generated file gets this mtime (2024-01-01T00:00:00Z), far from "just changed".
FIXED_MTIME_NS = 1_704_067_200 * 1_000_000_000

_WORD_TEXT = (
    "vector matrix gradient descent loss model data feature batch epoch layer attention "
    "token embedding kernel sample variance bias review outline draft chapter section "
    "reading notes summary practice exercise project milestone deadline meeting budget "
    "design sketch prototype release test deploy monitor backup garden recipe travel "
    "budget invoice client research paper question answer idea plan week month goal "
    "habit running swim stretch sleep journal focus build learn teach write publish"
)
_WORDS = _WORD_TEXT.split()
_TOPICS = ("Linear Algebra", "Probability", "Calculus", "Python", "SQL", "Statistics",
           "Deep Learning", "Writing", "Marketing", "Finance", "Garden", "Fitness")
_LANGS = ("python", "bash", "sql", "js", "")
# (status, share): gfm sees only ' ', 'x', 'X'; obsidian sees every one of them.
_STATUSES = ((" ", 0.55), ("x", 0.27), ("X", 0.03), ("/", 0.06), ("-", 0.04), (">", 0.03),
             ("?", 0.02))


@dataclass(frozen=True)
class VaultStats:
    """What was generated."""

    notes: int
    notes_with_tasks: int
    bytes: int
    gfm_tasks: int  # tasks cmark-gfm and the gfm flavour should find
    obsidian_tasks: int  # tasks the obsidian flavour should find


class _NoteWriter:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.lines: list[str] = []
        self.gfm_tasks = 0
        self.obsidian_tasks = 0

    def words(self, low: int, high: int) -> str:
        return " ".join(self.rng.choice(_WORDS) for _ in range(self.rng.randint(low, high)))

    def sentence(self) -> str:
        text = self.words(5, 14)
        return text[0].upper() + text[1:] + "."

    def paragraph(self) -> None:
        text = " ".join(self.sentence() for _ in range(self.rng.randint(1, 4)))
        if self.rng.random() < 0.3:
            text += f" See [[{self.rng.choice(_TOPICS)}]] and **{self.rng.choice(_WORDS)}**."
        self.lines += [text, ""]

    def bullet_list(self) -> None:
        for _ in range(self.rng.randint(2, 6)):
            self.lines.append(f"- {self.words(2, 8)}")
            if self.rng.random() < 0.2:
                self.lines.append(f"  - {self.words(2, 6)}")
        self.lines.append("")

    def ordered_list(self) -> None:
        for number in range(1, self.rng.randint(3, 6)):
            self.lines.append(f"{number}. {self.words(2, 8)}")
        self.lines.append("")

    def quote(self) -> None:
        if self.rng.random() < 0.5:
            self.lines.append(f"> [!note] {self.words(1, 3)}")
        for _ in range(self.rng.randint(1, 3)):
            self.lines.append(f"> {self.sentence()}")
        self.lines.append("")

    def code(self) -> None:
        self.lines.append(f"```{self.rng.choice(_LANGS)}")
        for _ in range(self.rng.randint(2, 8)):
            if self.rng.random() < 0.25:
                self.lines.append("- [ ] this looks like a task but is code")
            else:
                self.lines.append(f"{self.rng.choice(_WORDS)} = {self.rng.randint(0, 999)}")
        self.lines += ["```", ""]

    def table(self) -> None:
        self.lines += ["| item | state |", "| --- | --- |"]
        for _ in range(self.rng.randint(2, 5)):
            self.lines.append(f"| {self.words(1, 3)} | {self.rng.choice(_WORDS)} |")
        self.lines.append("")

    def status(self) -> str:
        roll = self.rng.random()
        for status, share in _STATUSES:
            roll -= share
            if roll < 0:
                return status
        return " "

    def task_text(self) -> str:
        text = self.words(3, 10)
        rng = self.rng
        if rng.random() < 0.15:
            text += f" #{rng.choice(_WORDS)}"
        if rng.random() < 0.1:
            text += f" [[{rng.choice(_TOPICS)}]]"
        if rng.random() < 0.15:
            text += f" 📅 2024-{rng.randint(1, 12):02}-{rng.randint(1, 28):02}"
        if rng.random() < 0.05:
            text += f" ⏫ ⏳ 2024-{rng.randint(1, 12):02}-{rng.randint(1, 28):02}"
        if rng.random() < 0.05:
            text += " 🔁 every week"
        if rng.random() < 0.05:
            text += f" [priority:: {rng.choice(('high', 'low'))}]"
        if rng.random() < 0.04:
            text += f" ^t{rng.randint(1000, 9999)}"
        return text

    def task(self, indent: str, marker: str) -> None:
        status = self.status()
        self.lines.append(f"{indent}{marker} [{status}] {self.task_text()}")
        self.obsidian_tasks += 1
        if status in " xX":
            self.gfm_tasks += 1

    def task_list(self, count: int) -> None:
        marker = self.rng.choice(("-", "-", "-", "*", "+"))
        written = 0
        while written < count:
            self.task("", marker)
            written += 1
            # Nested tasks, and now and then a plain item holding tasks.
            for _ in range(self.rng.choice((0, 0, 0, 1, 2, 3))):
                if written >= count:
                    break
                self.task("    " if marker == "+" else "  ", marker)
                written += 1
        self.lines.append("")


def _note(rng: random.Random, title: str, note_bytes: int, tasks: int) -> _NoteWriter:
    writer = _NoteWriter(rng)
    if rng.random() < 0.3:
        writer.lines += ["---", f"tags: [{rng.choice(_WORDS)}, {rng.choice(_WORDS)}]",
                         "created: 2024-01-02", "---", ""]
    writer.lines += [f"# {title}", ""]
    blocks = (writer.paragraph, writer.paragraph, writer.paragraph, writer.bullet_list,
              writer.ordered_list, writer.quote, writer.code, writer.table)
    week = 1
    size = 0
    tasks_left = tasks
    while size < note_bytes or tasks_left > 0:
        if rng.random() < 0.35:
            writer.lines += [f"## Week {week}: {rng.choice(_TOPICS)}", ""]
            week += 1
        if tasks_left > 0 and rng.random() < 0.5:
            batch = min(tasks_left, rng.randint(3, 12))
            writer.task_list(batch)
            tasks_left -= batch
        else:
            rng.choice(blocks)()
        size = sum(len(line) + 1 for line in writer.lines)
        if size > note_bytes * 3 and tasks_left <= 0:
            break
    return writer


def generate_vault(
    root: Path,
    *,
    notes: int,
    note_bytes: int = 4000,
    task_share: float = 0.2,
    tasks_per_note: int = 40,
    crlf_share: float = 0.1,
    seed: int = 1,
) -> VaultStats:
    """Write ``notes`` notes under ``root`` (a new or empty folder) and say what they hold."""
    rng = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    total_bytes = gfm = obsidian = with_tasks = 0
    for number in range(notes):
        folder = root / f"Area {number % 7}" / f"Topic {number % 23}"
        folder.mkdir(parents=True, exist_ok=True)
        has_tasks = rng.random() < task_share
        count = max(1, round(rng.gauss(tasks_per_note, tasks_per_note / 4))) if has_tasks else 0
        size = max(200, round(rng.gauss(note_bytes, note_bytes / 3)))
        writer = _note(rng, f"{rng.choice(_TOPICS)} {number}", size, count)
        newline = "\r\n" if rng.random() < crlf_share else "\n"
        data = newline.join(writer.lines).encode("utf-8")
        path = folder / f"Note {number:06}.md"
        path.write_bytes(data)
        os.utime(path, ns=(FIXED_MTIME_NS, FIXED_MTIME_NS))
        total_bytes += len(data)
        gfm += writer.gfm_tasks
        obsidian += writer.obsidian_tasks
        with_tasks += has_tasks
    return VaultStats(notes, with_tasks, total_bytes, gfm, obsidian)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--notes", type=int, default=1000)
    parser.add_argument("--note-bytes", type=int, default=4000)
    parser.add_argument("--task-share", type=float, default=0.2)
    parser.add_argument("--tasks-per-note", type=int, default=40)
    parser.add_argument("--crlf-share", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    stats = generate_vault(args.out, notes=args.notes, note_bytes=args.note_bytes,
                           task_share=args.task_share, tasks_per_note=args.tasks_per_note,
                           crlf_share=args.crlf_share, seed=args.seed)
    print(stats)


if __name__ == "__main__":
    main()
