"""Commit messages that name the task changes (pure: bytes in, text out)."""

from __future__ import annotations

from datetime import datetime

from vaultmap.sync.git.message import NoteChange, commit_message

BEFORE = b"# Plan\n\n- [ ] write\n- [x] read\n- [ ] test\n- [ ] ship it to the users\n"


def _message(*changes: NoteChange, template: str = "vaultmap: {summary}") -> str:
    return commit_message(changes, template=template, now=datetime(2026, 11, 22, 9, 0),
                          host="laptop")


def test_subject_counts_and_body_lists_per_note() -> None:
    after = (b"# Plan\n\n- [x] write\n- [ ] read\n- [-] test\n"
             b"- [x] ship it to all the users\n- [ ] celebrate\n")
    message = _message(NoteChange("Plan.md", BEFORE, after),
                       NoteChange("New.md", None, b"- [ ] one\n- [ ] two\n"))
    subject, _, body = message.partition("\n\n")
    # The reworded and ticked task counts as done (re-matched), not as removed + added.
    assert subject == "vaultmap: 2 done, 1 reopened, 1 cancelled, 3 added (2 notes)"
    assert body.splitlines() == [
        "Plan.md:", "  done: write", "  done: ship it to all the users", "  reopened: read",
        "  cancelled: test", "  added: celebrate",
        "New.md:", "  added: one", "  added: two"]


def test_no_task_change_and_a_deleted_note() -> None:
    assert _message(NoteChange("Plan.md", BEFORE, BEFORE + b"\nprose\n"),
                    NoteChange("img.png", b"a", b"b", is_note=False)).startswith(
        "vaultmap: notes edited (2)\n\nedited: Plan.md, img.png\n")
    assert _message(NoteChange("Plan.md", BEFORE, None)).startswith(
        "vaultmap: 4 removed (1 note)\n")


def test_template_fields() -> None:
    message = _message(NoteChange("Plan.md", BEFORE, BEFORE.replace(b"[ ] write", b"[/] write")),
                       template="{host} {date}: {summary}")
    assert message.startswith("laptop 2026-11-22: 1 started (1 note)\n")


def test_non_utf8_note() -> None:
    before = b"- [ ] caf\xe9\n"
    assert _message(NoteChange("c.md", before, b"- [x] caf\xe9\n")).startswith(
        "vaultmap: 1 done (1 note)\n\nc.md:\n  done: caf\xe9\n".replace("\xe9", "é"))


def test_double_encoded_task_named_by_its_repaired_text() -> None:
    from mojibake_notes import double_encode

    before = double_encode("- [ ] Café with Zoë 🧩\n").encode("utf-8")
    message = _message(NoteChange("m.md", before, before.replace(b"[ ]", b"[x]")))
    assert message.endswith("m.md:\n  done: Café with Zoë 🧩\n")


def test_note_text_and_paths_cannot_put_terminal_escapes_in_the_message() -> None:
    # `git log` prints the message raw: a task or file name must not retitle the terminal,
    # recolour it or forge a line of the body.
    after = b"- [ ] a \x1b]0;owned\x07 task \x1b[2J\xc2\x9b31m\n- [x] b\xe2\x80\xae\n"
    message = _message(NoteChange("N\x1b[1m.md", None, after),
                       NoteChange("img\x1b]8;;x\x1b\\.png", b"a", b"b", is_note=False),
                       NoteChange("bad\udcff.md", None, b"- [ ] c\n"))
    assert all(ch == "\n" or ch.isprintable() for ch in message), ascii(message)
    message.encode("utf-8")  # no lone surrogate either
    assert "  added: a \ufffd]0;owned\ufffd task \ufffd[2J\ufffd31m" in message.splitlines()
