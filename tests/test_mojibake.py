"""Display repair of double-encoded text (vaultmap.parse.mojibake)."""

from __future__ import annotations

import ftfy
import pytest
from ftfy.badness import is_bad
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hypothesis_budget import examples
from vaultmap.parse.mojibake import (
    UNDEFINED_BYTES,
    apply_plan,
    damaged_spans,
    display_text,
    might_be_damaged,
    repair_plan,
)


def double_encode(text: str, *, drop_undefined: bool) -> str:
    """UTF-8 read as Windows-1252, as a Windows editor does. The five undefined bytes are
    either dropped or kept as the C1 control of the same number (what Latin-1 would give)."""
    out = []
    for byte in text.encode("utf-8"):
        if byte in UNDEFINED_BYTES:
            if not drop_undefined:
                out.append(chr(byte))
        else:
            out.append(bytes([byte]).decode("cp1252"))
    return "".join(out)


ORIGINALS = [
    "🧩 Skill 1 — Python",
    "1️⃣ Set up the environment",
    "Read “Deep Learning” and don’t skip chapter 2",
    "Meet Zoë, José and Ångström at the café",
    "日本語のテストを読む",  # not く (E3 81 8F): two lost bytes are past repair
    "学习 Python 的基础",
    "👩‍💻 pair with 👨‍👩‍👧 family — weekend",
    "Finish ✅ and ❤️ it… then rest",
    "Smörgåsbord for ñandú fans: naïve façade",
]


@pytest.mark.parametrize("original", ORIGINALS)
@pytest.mark.parametrize("drop", [True, False], ids=["dropped-bytes", "kept-bytes"])
def test_double_encoded_text_is_repaired(original: str, drop: bool) -> None:
    damaged = double_encode(original, drop_undefined=drop)
    assert damaged != original
    assert might_be_damaged(damaged)
    assert display_text(damaged) == original


def test_keycap_that_lost_its_variation_selector_byte() -> None:
    # U+FE0F is EF B8 8F; 0x8F is undefined in Windows-1252 and was dropped.
    assert double_encode("1️⃣", drop_undefined=True) == "1ï¸âƒ£"
    assert display_text("Step 1ï¸âƒ£ done") == "Step 1️⃣ done"


def test_closing_quote_that_lost_its_last_byte() -> None:
    assert display_text("say â€œhiâ€ now") == "say “hi” now"


@pytest.mark.parametrize("clean", [
    "",
    "plain ASCII text - with [brackets] and `code`",
    "naïve café — “quoted” … ellipsis",
    "🧩 Skill 1 — Python",
    "日本語のテスト",
    "In Windows-1252 the UTF-8 bytes of é show as Ã©, which is mojibake.",
    "Ã© and â€™ are what é and ’ become when read the wrong way; Ã¼ is ü.",
    "Ça va? À bientôt, Éric. ÀÉÎÕÜ",
])
def test_clean_text_is_never_altered(clean: str) -> None:
    assert repair_plan(clean) is None
    assert display_text(clean) == clean
    assert damaged_spans(clean) == []


def test_repair_is_local_so_a_substring_repairs_the_same() -> None:
    line = "- [ ] " + double_encode("🧩 Skill — Python “intro”", drop_undefined=True) + " #tag"
    plan = repair_plan(line)
    assert plan is not None
    text = line[6:]
    assert apply_plan(text, plan) == apply_plan(line, plan)[6:]


def test_damaged_spans_cover_only_the_damage() -> None:
    text = "a ðŸ§© b â€” c"
    spans = damaged_spans(text)
    assert [(s.before, s.after) for s in spans] == [("ðŸ§©", "🧩"), ("â€”", "—")]
    rebuilt = list(text)
    for span in reversed(spans):
        rebuilt[span.start:span.end] = [span.after]
    assert "".join(rebuilt) == "a 🧩 b — c"


def test_mixed_note_with_a_later_correct_character_is_still_repaired() -> None:
    # A done date written later by an editor that gets UTF-8 right must not stop the repair.
    text = double_encode("🧩 Skill — Python “go”", drop_undefined=True) + " ✅ 2024-01-01 — ok"
    assert display_text(text) == "🧩 Skill — Python “go” ✅ 2024-01-01 — ok"


_TEXT = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Co", "Cn")),
    max_size=40,
)


@settings(max_examples=examples(300), deadline=None)
@given(_TEXT)
def test_property_repair_undoes_a_lossless_double_encoding(text: str) -> None:
    damaged = double_encode(text, drop_undefined=False)
    # Text that itself has the shape of mojibake (Ã followed by ©, or Ğ¤, which is Ф read as
    # Windows-1254, or what ftfy's badness test flags) is ambiguous: not recoverable.
    assume(not might_be_damaged(text) and not is_bad(text) and ftfy.fix_encoding(text) == text)
    if damaged == text:  # ASCII only
        assert display_text(damaged) == text
        return
    assert display_text(damaged) == text


@settings(max_examples=examples(300), deadline=None)
@given(_TEXT)
def test_property_clean_text_without_mojibake_shape_is_unchanged(text: str) -> None:
    # Text a person typed is left alone unless it has the shape of mojibake and that shape
    # decodes; either way repairing twice changes nothing more.
    once = display_text(text)
    assert display_text(once) == once
    if not might_be_damaged(text):
        assert once == text
