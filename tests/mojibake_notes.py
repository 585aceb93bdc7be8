"""Original notes and their double-encoded twins, shared by the mojibake and doctor tests.

Everything here is written for these tests. ``double_encode`` does what a Windows editor does
to a UTF-8 note it reads as Windows-1252 and saves as UTF-8 again.
"""

from __future__ import annotations

from vaultmap.parse.mojibake import UNDEFINED_BYTES


def double_encode(text: str, *, drop_undefined: bool = True) -> str:
    """UTF-8 read as Windows-1252. The five undefined bytes are dropped (``drop_undefined``)
    or kept as the C1 control of the same number (what a Latin-1 reading gives)."""
    out = []
    for byte in text.encode("utf-8"):
        if byte in UNDEFINED_BYTES:
            if not drop_undefined:
                out.append(chr(byte))
        else:
            out.append(bytes([byte]).decode("cp1252"))
    return "".join(out)


ROADMAP = """---
tags: [plan]
---
# 🧩 Skill 1 — Python

Intro line with “quotes” and a café.

## Week 1️⃣: Basics

- [ ] Read “Fluent Python” — chapter 1
- [x] Install 🚀 and set up the venv
- [ ] Meet Zoë about the naïve approach
  - [ ] 日本語のメモを読む

## Week 2️⃣: Next

- [/] Write 👩‍💻 pair-programming notes … later
- [ ] Plain ASCII task
"""

# A note about encodings: it quotes mojibake on purpose next to correct characters.
ABOUT_ENCODINGS = """# Encodings — a primer

- [ ] Explain why é turns into Ã© when UTF-8 is read as Windows-1252
- [ ] Show that ’ becomes â€™ and that ü becomes Ã¼
- [x] Note that the fix is to decode the bytes again
"""


def damaged(text: str = ROADMAP, *, drop_undefined: bool = True) -> bytes:
    """The UTF-8 bytes of ``text`` after a double encoding."""
    return double_encode(text, drop_undefined=drop_undefined).encode("utf-8")
