"""Renderers of a :class:`~vaultmap.progress.Progress`: terminal (rich), JSON and Markdown.

All three show the same numbers; they differ in form only. Each takes the progress model and a
:class:`ReportOptions` and never touches the vault::

    from vaultmap.report import ReportOptions, render_json, render_markdown, render_terminal
    text = render_markdown(progress, ReportOptions(by="folder", depth=1, title="My vault"))

The pieces every view shares (rows of the ``--by`` views, bars, labels) live in ``common``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vaultmap.report.common import (
    BY_CHOICES,
    By,
    ReportOptions,
    Row,
    bar_cells,
    breakdown_rows,
    counts_summary,
    note_title,
    section_label,
    text_bar,
)

if TYPE_CHECKING:
    from vaultmap.report.json_report import SCHEMA, render_json, report_dict, task_dict
    from vaultmap.report.markdown import render_markdown
    from vaultmap.report.terminal import render_terminal

# Each renderer is loaded on first use: the terminal one pulls in rich (a good part of
# start-up), so `report --format json` never imports it, and a terminal report loads no
# Markdown renderer (docs/architecture.md, "Start-up").
_LAZY = {"SCHEMA": "json_report", "render_json": "json_report", "report_dict": "json_report",
         "task_dict": "json_report", "render_markdown": "markdown",
         "render_terminal": "terminal"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f"{__name__}.{module}"), name)

__all__ = [
    "BY_CHOICES",
    "SCHEMA",
    "By",
    "ReportOptions",
    "Row",
    "bar_cells",
    "breakdown_rows",
    "counts_summary",
    "note_title",
    "render_json",
    "render_markdown",
    "render_terminal",
    "report_dict",
    "section_label",
    "task_dict",
    "text_bar",
]
