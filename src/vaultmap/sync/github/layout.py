"""What placing a vault task on GitHub reads of it, apart from the parsed note.

:func:`~vaultmap.sync.github.remote.layout_of` decides, for every task, which checklist line
or issue it is; it needs a few of the task's facts (its key, note, heading path, depth, status
and text). :class:`LayoutTask` holds just those, so a caller that keeps the vault's tasks in
memory (the daemon, ``docs/daemon.md``) can lay the vault out at every GitHub poll without
reading a note. No I/O and no HTTP here: importing it costs nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from vaultmap.model import Task


@dataclass(frozen=True, slots=True)
class LayoutTask:
    """A task as :func:`~vaultmap.sync.github.remote.layout_of` reads it."""

    key: str
    path: str  # the note, vault-relative
    section: tuple[str, ...]  # heading texts as written (a published section is matched on them)
    depth: int
    status: str  # the status character
    status_type: str  # todo | doing | done | cancelled | other
    text: str  # the description, else the text: where an issue reference is looked for


def layout_task(task: Task) -> LayoutTask:
    """The facts of ``task`` that place it on GitHub."""
    return LayoutTask(task.key, task.path, task.section, task.depth, task.status,
                      task.type.value, task.fields.description or task.text)
