"""The one "is this Arabic?" rule, a question's language, and the display shaper of `indexer.text.script`."""

from __future__ import annotations

import pytest

from isnad.indexer.text.script import arabic_share, has_arabic, is_arabic_char, query_language, shape, stems_as_arabic


@pytest.mark.parametrize(
    ("ch", "arabic"),
    [
        ("ب", True), ("ء", True), ("،", True), ("٤", True), ("پ", True),  # Arabic block: letters, comma, digits
        ("ݐ", True), ("ࢠ", True),  # Arabic Supplement, Extended-A
        ("ﻻ", True), ("ﷲ", True),  # presentation forms (PDF copy-paste)
        ("a", False), ("4", False), ("א", False), (" ", False), ("ܐ", False),  # Latin, Hebrew, Syriac (U+0710)
    ],
)
def test_is_arabic_char(ch: str, arabic: bool) -> None:
    assert is_arabic_char(ch) is arabic
    assert has_arabic(f"x {ch} y") is arabic


def test_arabic_share_counts_letters_only() -> None:
    assert arabic_share("") == arabic_share("2017 - ?!") == 0.0
    assert arabic_share("أستانا 2017") == 1.0
    assert arabic_share("ab جد") == 0.5
    assert arabic_share("Astana أستانا") == pytest.approx(6 / 12)


@pytest.mark.parametrize(
    ("question", "lang"),
    [
        ("متى عقدت الجولة الثامنة من محادثات أستانة؟", "ar"),
        ("What did round four of the Astana talks agree?", "en"),
        ("ما موقف Lavrov؟", "ar"),  # 6 Arabic letters of 12: a tie is Arabic
        ("ما رأي Sergei Lavrov؟", "en"),  # 5 of 17
        ("Who is دي ميستورا in the talks?", "en"),
        ("ﻣﺘﻰ ﻋﻘﺪﺕ", "ar"),  # presentation forms
        ("", "en"),
        ("2017؟", "en"),  # no letters
    ],
)
def test_query_language(question: str, lang: str) -> None:
    assert query_language(question) == lang


def test_stems_as_arabic_is_the_base_alphabet_only() -> None:
    assert stems_as_arabic("استانه") and stems_as_arabic("ءامن") and stems_as_arabic("يوم")
    # extended letters are Arabic script but were never stemmed as Arabic (TOKENIZER_VERSION)
    assert is_arabic_char("پ") and not stems_as_arabic("پوتين")
    assert not stems_as_arabic("astana") and not stems_as_arabic("")


def test_shape_joins_and_reorders_each_line() -> None:
    shaped = shape("مرحبا")
    assert all("\ufe70" <= c <= "\ufeff" for c in shaped)  # presentation forms, i.e. joined letters
    assert shaped[-1] == "\ufee3"  # initial MEEM ends the visual (left-to-right) string
    assert shape("سلام\nمرحبا").split("\n") == [shape("سلام"), shaped]  # lines keep their order
    assert shape("round 4\nno Arabic") == "round 4\nno Arabic"
