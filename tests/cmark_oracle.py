"""cmark-gfm (GitHub's parser, via ``cmarkgfm``) as a test oracle for task list items.

``cmarkgfm`` only renders HTML, so the oracle renders with ``CMARK_OPT_SOURCEPOS`` and reads
each ``<li data-sourcepos="L:C-…">`` that starts with a checkbox ``<input>``: the marker line
and whether it is checked. Raw HTML is left out of the output (no ``UNSAFE``), so a note's own
HTML can never fake an answer.
"""

from __future__ import annotations

import re

from cmarkgfm.cmark import Options, markdown_to_html_with_extensions

_EXTENSIONS = ["table", "autolink", "tagfilter", "strikethrough", "tasklist"]
_TASK_ITEM = re.compile(
    r'<li data-sourcepos="(\d+):\d+-\d+:\d+"><input type="checkbox"( checked="")? disabled="" />'
)


def oracle_tasks(text: str) -> list[tuple[int, bool]]:
    """``(marker line, checked)`` for every task list item cmark-gfm renders, in order."""
    html = markdown_to_html_with_extensions(
        text, options=Options.CMARK_OPT_SOURCEPOS, extensions=_EXTENSIONS
    )
    return [(int(m.group(1)), m.group(2) is not None) for m in _TASK_ITEM.finditer(html)]
