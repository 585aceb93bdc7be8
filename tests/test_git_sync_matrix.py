"""The scenario matrix through ``vaultmap sync --git``: two clones edit the same notes, "a"
syncs first, then "b" (whose sync merges), then "a" again; both must end with the same
bytes. Merge mode runs with the driver configured for the one run (not installed); rebase
mode with ``vaultmap git install`` done in "b". In a merge "b" is ours; in a rebase the
upstream ("a") is, so tasks both sides added at one place come out in that order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gitsync_repos import clone, make_origin

BASE = (b"# Groceries\n\n- [ ] Milk\n- [ ] Eggs\n- [ ] Bread\n- [ ] Call dentist\n"
        b"- [ ] Pay rent\n\nNotes: buy organic.\n")
Edit = Callable[[bytes], bytes]


def sub(*pairs: tuple[bytes, bytes]) -> Edit:
    def apply(data: bytes) -> bytes:
        for old, new in pairs:
            assert data.count(old) == 1, old
            data = data.replace(old, new)
        return data
    return apply


@dataclass(frozen=True)
class Case:
    name: str
    a: dict[str, Edit]
    b: dict[str, Edit]
    expected: dict[str, bytes | None] | dict[str, dict[str, bytes | None]]
    base: dict[str, bytes] = field(default_factory=lambda: {"list.md": BASE})
    prefer: str | None = None


def _one(edit_a: Edit, edit_b: Edit, expected: bytes) -> tuple[
        dict[str, Edit], dict[str, Edit], dict[str, bytes | None]]:
    return {"list.md": edit_a}, {"list.md": edit_b}, {"list.md": expected}


TICK_MILK = sub((b"[ ] Milk", b"[x] Milk"))
CASES = [
    Case("adjacent ticks", *_one(
        TICK_MILK, sub((b"[ ] Eggs", b"[x] Eggs")),
        sub((b"[ ] Milk", b"[x] Milk"), (b"[ ] Eggs", b"[x] Eggs"))(BASE))),
    Case("tick vs reword", *_one(sub((b"[ ] Call dentist", b"[x] Call dentist")),
                                 sub((b"Call dentist", b"Call dentist at 9am")),
                                 sub((b"[ ] Call dentist", b"[x] Call dentist at 9am"))(BASE))),
    Case("tick vs move in the note", *_one(
        sub((b"[ ] Pay rent", b"[x] Pay rent")),
        sub((b"- [ ] Pay rent\n", b""), (b"\n- [ ] Milk", b"\n- [ ] Pay rent\n- [ ] Milk")),
        sub((b"- [ ] Pay rent\n", b""), (b"\n- [ ] Milk", b"\n- [x] Pay rent\n- [ ] Milk"))(BASE))),
    Case("tick vs delete", *_one(sub((b"[ ] Bread", b"[x] Bread")), sub((b"- [ ] Bread\n", b"")),
                                 sub((b"[ ] Bread", b"[x] Bread"))(BASE))),
    Case("both append", {"list.md": sub((b"Pay rent\n", b"Pay rent\n- [ ] Butter\n"))},
         {"list.md": sub((b"Pay rent\n", b"Pay rent\n- [ ] Jam\n"))},
         {"merge": {"list.md": sub((b"Pay rent\n", b"Pay rent\n- [ ] Jam\n- [ ] Butter\n"))(BASE)},
          "rebase": {"list.md": sub((b"Pay rent\n",
                                     b"Pay rent\n- [ ] Butter\n- [ ] Jam\n"))(BASE)}}),
    *(Case(f"same task both sides, prefer {prefer}",
           *_one(TICK_MILK, sub((b"[ ] Milk", b"[-] Milk")), sub((b"[ ] Milk", want))(BASE)),
           prefer=prefer)
      for prefer, want in (("done", b"[x] Milk"), ("local", b"[-] Milk"),
                           ("remote", b"[x] Milk"))),
    Case("CRLF note", {"n.md": sub((b"[ ] a", b"[x] a"))}, {"n.md": sub((b"[ ] b", b"[x] b"))},
         {"n.md": b"# CRLF\r\n- [x] a  \r\n- [x] b\r\n- [ ] c\r\n"},
         base={"n.md": b"# CRLF\r\n- [ ] a  \r\n- [ ] b\r\n- [ ] c\r\n"}),
    Case("BOM note", {"n.md": sub((b"[ ] a", b"[x] a"))}, {"n.md": sub((b"[ ] b", b"[x] b"))},
         {"n.md": b"\xef\xbb\xbf- [x] a\n- [x] b\n"},
         base={"n.md": b"\xef\xbb\xbf- [ ] a\n- [ ] b\n"}),
    Case("cp1252 note", {"n.md": sub((b"[ ] caf", b"[x] caf"))},
         {"n.md": sub((b"[ ] th", b"[x] th"))}, {"n.md": b"- [x] caf\xe9\n- [x] th\xe9 \xe0 9h\n"},
         base={"n.md": b"- [ ] caf\xe9\n- [ ] th\xe9 \xe0 9h\n"}),
    Case("a note added on both sides", {"new.md": lambda _: b"- [ ] from a\n"},
         {"new.md": lambda _: b"- [ ] from b\n"},
         {"merge": {"new.md": b"- [ ] from b\n- [ ] from a\n"},
          "rebase": {"new.md": b"- [ ] from a\n- [ ] from b\n"}}),
]


def _expected(case: Case, mode: str) -> dict[str, bytes | None]:
    if mode in case.expected:
        value = case.expected[mode]
        assert isinstance(value, dict)
        return value
    return case.expected  # type: ignore[return-value]


@pytest.mark.parametrize("mode", ["merge", "rebase"])
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_scenario_through_sync_git(tmp_path: Path, case: Case, mode: str) -> None:
    bare = make_origin(tmp_path, case.base)
    config = f'pull = "{mode}"\n' + (f'prefer = "{case.prefer}"\n' if case.prefer else "")
    a = clone(bare, tmp_path, "a", config=config)
    b = clone(bare, tmp_path, "b", config=config)
    if mode == "rebase":
        b.vaultmap("git", "install", str(b.vault))
        assert b.git("config", "--get", "merge.vaultmap.driver").strip()
    for rel, edit in case.a.items():
        a.write(rel, edit(a.read_bytes(rel) if (a.vault / rel).exists() else b""))
    a.sync()
    for rel, edit in case.b.items():
        b.write(rel, edit(b.read_bytes(rel) if (b.vault / rel).exists() else b""))
    b.sync()
    a.sync()
    for rel, want in _expected(case, mode).items():
        assert b.read_bytes(rel) == want
        assert a.read_bytes(rel) == want
    assert b.git("status", "--porcelain").strip() == ""


OTHER = b"# Later\n\n- [ ] Plan the trip\n"


@pytest.mark.parametrize("mover", ["a", "b"])
@pytest.mark.parametrize("mode", ["merge", "rebase"])
def test_tick_vs_move_to_another_note(tmp_path: Path, mode: str, mover: str) -> None:
    """One side moves "Bread" to later.md, the other ticks it in list.md: after the sync the
    tick is on the moved task, and list.md holds no copy."""
    bare = make_origin(tmp_path, {"list.md": BASE, "later.md": OTHER})
    a = clone(bare, tmp_path, "a", config=f'pull = "{mode}"\n')
    b = clone(bare, tmp_path, "b", config=f'pull = "{mode}"\n')
    moving, ticking = (a, b) if mover == "a" else (b, a)
    moving.write("list.md", BASE.replace(b"- [ ] Bread\n", b""))
    moving.write("later.md", OTHER + b"- [ ] Bread\n")
    ticking.write("list.md", BASE.replace(b"[ ] Bread", b"[x] Bread"))
    a.sync()
    result = b.sync()
    assert "later.md: 'Bread' was moved here from list.md" in result.stderr
    a.sync()
    for side in (a, b):
        assert side.read_bytes("list.md") == BASE.replace(b"- [ ] Bread\n", b"")
        assert side.read_bytes("later.md") == OTHER + b"- [x] Bread\n"
    assert b.git("status", "--porcelain").strip() == ""
