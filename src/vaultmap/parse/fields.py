"""The task-line grammar: Tasks-plugin emoji fields, Dataview fields, tags, links, block ids."""

from __future__ import annotations

from vaultmap.model import TaskFields


def parse_task_text(text: str) -> TaskFields:
    """Read the fields of a task's text (everything after ``[c] `` on its first line)."""
    return TaskFields(description=text.strip())  # placeholder until the grammar lands
