"""The bundled English → Arabic lexicon: loading, greedy phrase matching, and reaching Arabic passages."""

from __future__ import annotations

from pathlib import Path

import pytest

from isnad.indexer.stores.lexical import LexicalIndex
from isnad.indexer.text.arabic import tokenize
from isnad.indexer.text.lexicon import Lexicon, english_key, english_words

CORPUS = Path(__file__).resolve().parents[3] / "data" / "astana"


def arabic(lexicon: Lexicon, question: str) -> list[str]:
    """The Arabic variants of every lexicon phrase found in `question`, in order."""
    return [v for e in lexicon.matches(question) for v in e.arabic]


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.default()


def test_round_four(lexicon: Lexicon) -> None:
    for q in ("What did round four agree?", "the fourth round", "Astana-4", "round 4", "the 4th round"):
        assert "الجولة الرابعة" in arabic(lexicon, q), q
    assert "أستانا 4" in arabic(lexicon, "round four")


def test_de_escalation_zones_is_one_phrase(lexicon: Lexicon) -> None:
    out = arabic(lexicon, "Which de-escalation zones were agreed?")
    assert out[0] == "مناطق خفض التصعيد"
    assert "مناطق خفض التوتر" in out
    assert [e.english for e in lexicon.matches("de-escalation zones")] == ["de-escalation zone"]


def test_names_plurals_possessives(lexicon: Lexicon) -> None:
    assert "تركيا" in arabic(lexicon, "Turkey")
    assert "روسيا" in arabic(lexicon, "Russia's withdrawal")
    assert "محادثات" in arabic(lexicon, "the TALKS")
    assert "جولة" in arabic(lexicon, "all the rounds")
    assert "المعتقلين" in arabic(lexicon, "detainees")
    assert "الغوطة الشرقية" in arabic(lexicon, "Eastern Ghouta")
    assert "دي ميستورا" in arabic(lexicon, "What does Staffan de Mistura hope?")
    assert "كانون الأول" in arabic(lexicon, "in December")


def test_capitalized_keys_are_case_sensitive(lexicon: Lexicon) -> None:
    assert "الولايات المتحدة" in arabic(lexicon, "the US and Jordan")
    assert "الولايات المتحدة" in arabic(lexicon, "U.S. officials")
    assert "الولايات المتحدة" not in arabic(lexicon, "tell us more")
    assert "أيار" in arabic(lexicon, "on 4 May")
    assert "أيار" not in arabic(lexicon, "what may happen")


def test_english_words_and_keys_fold_like_the_lexicon() -> None:
    assert english_words("U.S. rebels' talks, Russia's ZONES") == ["US", "rebel", "talk", "Russia", "ZONE"]
    assert [english_key(w) for w in ("Talks", "cities", "boxes", "bus", "is", "")] == [
        "talk", "city", "box", "bus", "is", ""]


def test_unknown_words_give_nothing(lexicon: Lexicon) -> None:
    assert arabic(lexicon, "") == []
    assert arabic(lexicon, "quantum chromodynamics") == []


def test_load_custom_file_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "lex.tsv"
    path.write_text("# comment\n\nfoo bar|baz\tفو|بار\nfoo\tف\nfoo bar\tجديد\n", encoding="utf-8")
    lex = Lexicon.load(path)
    assert arabic(lex, "Foo bars and foo") == ["فو", "بار", "جديد", "ف"]
    assert arabic(lex, "baz") == ["فو", "بار"]
    path.write_text("no tab here\n", encoding="utf-8")
    with pytest.raises(ValueError, match=":1:"):
        Lexicon.load(path)


def test_every_default_entry_tokenizes_to_arabic_terms(lexicon: Lexicon) -> None:
    for entry in lexicon.entries.values():
        for variant in entry.arabic:
            assert tokenize(variant), (entry.english, variant)


def test_english_question_reaches_arabic_paragraph(lexicon: Lexicon) -> None:
    paragraphs = [
        p.strip()
        for f in sorted(CORPUS.glob("*.txt"))
        for p in f.read_text(encoding="utf-8").splitlines()
        if len(p.strip()) > 40
    ]
    index = LexicalIndex.build(paragraphs)
    phrases = arabic(lexicon, "Where did Russia deploy its military police?")
    terms = [t for phrase in phrases for t in tokenize(phrase)]
    best = index.search_terms(terms, k=1)[0][0]
    assert "الشرطة العسكرية" in paragraphs[best] or "شرطتها العسكرية" in paragraphs[best]
