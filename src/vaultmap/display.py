"""Text made safe to show on a terminal: part of the shared base, like ``errors``.

Note text, file names and anything a remote sent may hold control characters. Printed raw, an
ESC, CSI or OSC sequence recolours the terminal, moves the cursor, erases lines, retitles the
window or plants a hidden link; a bidi override makes a line read differently from what it
holds. Every place that shows such text goes through :func:`printable` (one line) or
:func:`printable_lines` (a message of several lines), so there is one rule:

- C0 controls except tab, DEL, C1 controls (U+0080-U+009F, which include the 8-bit CSI and
  OSC) and the bidi embedding, override and isolate characters are shown as U+FFFD;
- lone surrogates (bytes that were not valid UTF-8) are shown as U+FFFD too, so the text
  prints on any UTF-8 output.

JSON output keeps text as written (its encoder escapes the C0 controls; see
``report.json_report``); everything else shown to a person uses these functions.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"
# C0 (tab kept), DEL, C1; the bidi embeddings/overrides U+202A-U+202E and isolates
# U+2066-U+2069 ("Trojan Source"); U+2028/U+2029 break a line like a newline does.
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` on one line with every control character (line breaks included) and every lone
    surrogate shown as U+FFFD; other characters, tab and emoji included, are kept."""
    text = _UNSAFE.sub(REPLACEMENT, text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _SURROGATE.sub(REPLACEMENT, text)
    return text


def printable_lines(text: str) -> str:
    """A message of several ``\\n``-separated lines, each made :func:`printable`."""
    if "\n" not in text:
        return printable(text)
    return "\n".join(printable(line) for line in text.split("\n"))


__all__ = ["REPLACEMENT", "printable", "printable_lines"]
