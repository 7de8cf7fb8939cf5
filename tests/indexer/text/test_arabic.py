"""Normalization offsets, tokenization and spelling-variant behaviour of `indexer.text.arabic`."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from isnad.indexer.text.arabic import normalize, normalize_str, tokenize

CORPUS = Path(__file__).resolve().parents[3] / "data" / "astana"
CORPUS_FILES = sorted(CORPUS.glob("*.txt"))

TRICKY = [
    "أَسْتَانَـــا\u00a0\u00a0“٤”",
    "مُحَمَّدٌ  ــ  الإِمَارَاتُ\u200f\u200eﻻ ﷲ",
    "\u00a0 \tإنّ الجولةَ الـ6 في آستانةَ ″أستانا-9″ \n",
    "Café ÉLYSÉE  Ａｓｔａｎａ ۱۲۳ ٤٥٦",
    "ٱلْكِتَابُ، مسؤول، رئيس، مستشفى",
    "\u200b\u200bx\u200by\u00ad z ",
    "",
    "ـــ",
    "a\U0001d400b 😀 ة",
]


def _check_roundtrip(original: str, rng: random.Random, samples: int) -> None:
    norm = normalize(original)
    text = norm.text
    assert normalize_str(original) == text
    assert len(norm.starts) == len(norm.ends) == len(text)
    n = len(text)
    for _ in range(samples):
        if n == 0:
            break
        s = rng.randrange(n)
        e = rng.randrange(s, n) + 1
        # spans starting/ending on a collapsed space cannot round-trip (the edge space is stripped)
        if text[s] == " " or text[e - 1] == " ":
            continue
        # a span cutting through one character's expansion (ﷲ → الله) widens to the whole character
        starts = norm.starts
        if (s > 0 and starts[s - 1] == starts[s]) or (e < n and starts[e] == starts[e - 1]):
            continue
        os_, oe = norm.to_original(s, e)
        assert 0 <= os_ < oe <= len(original)
        assert normalize_str(original[os_:oe]) == text[s:e]


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda p: p.name[:3])
def test_offsets_roundtrip_on_corpus(path: Path) -> None:
    _check_roundtrip(path.read_text(encoding="utf-8"), random.Random(path.name), samples=300)


def test_offsets_roundtrip_on_tricky_strings() -> None:
    rng = random.Random(7)
    for s in TRICKY:
        _check_roundtrip(s, rng, samples=200)
    alphabet = list("استانة أإآٱىئؤ ـ\u064e\u064b\u0651\u0652\u0670\u00a0\u200f“”″٤۴abcÉ ﻻ\n\t")
    for _ in range(300):
        _check_roundtrip("".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 30))), rng, samples=20)


def test_normalize_rules() -> None:
    assert normalize_str("أَسْتَانَـــا") == "استانا"
    assert normalize_str("إِدلب آستانة ٱلكتاب مستشفى مدرسة") == "ادلب استانه الكتاب مستشفي مدرسه"
    assert normalize_str("مسؤول رئيس") == "مسوول رييس"
    assert normalize_str("٤ مايو ۱۲") == "4 مايو 12"
    assert normalize_str("ﻻ") == "لا"
    assert normalize_str("“أستانا “3 ″x″ ‘y’") == '"استانا "3 "x" \'y\''
    assert normalize_str("  Astana\u00a0\u00a0TALKS\n\n") == "astana talks"
    assert normalize_str("نزوح\u200cالملايين") == "نزوحالملايين"


def test_to_original_keeps_harakat_and_maps_exact_span() -> None:
    original = "قال: الجولةُ الرابعةُ في أَسْتَانَـــا\u00a0اليوم"
    norm = normalize(original)
    i = norm.text.index("استانا")
    s, e = norm.to_original(i, i + len("استانا"))
    assert original[s:e] == "أَسْتَانَـــا"
    j = norm.text.index("الجوله")
    s, e = norm.to_original(j, j + len("الجوله"))
    assert original[s:e] == "الجولةُ"
    assert norm.to_original(3, 3)[0] == norm.to_original(3, 4)[0]
    with pytest.raises(ValueError):
        norm.to_original(0, len(norm.text) + 1)


@pytest.mark.parametrize(
    "variants",
    [
        ["أستانا", "أستانة", "آستانة", "استانا", "استانه", "باستانا", "وأستانة", "لأستانا"],
        ["سوريا", "سورية", "السورية", "وسوريا"],
        ["تركيا", "التركية", "وتركيا"],
        ["المعتقلين", "معتقلين", "والمعتقلين", "للمعتقلين", "بالمعتقلين"],
        ["الجولة", "جولة", "الجوله", "والجولة"],
        ["اتفاقًا", "اتفاق", "الاتفاق", "والاتفاق"],
        ["الوزير", "وزير", "والوزير"],
        ["فلاديمير", "وفلاديمير"],
        ["إدلب", "وإدلب", "بإدلب"],
    ],
)
def test_spelling_and_clitic_variants_meet(variants: list[str]) -> None:
    terms = {tuple(tokenize(v)) for v in variants}
    assert len(terms) == 1, terms
    assert len(next(iter(terms))) == 1


def test_de_mistura_variants_share_terms() -> None:
    a, b, c = (set(tokenize(v)) for v in ("دي ميستورا", "دى ميستورا", "دي مستورا"))
    assert a == b == c


def test_glued_words_are_split() -> None:
    assert tokenize("روسياوتركيا وإيران") == tokenize("روسيا وتركيا وإيران")
    assert tokenize("عنالأمم المتحدة") == tokenize("عن الأمم المتحدة")
    assert tokenize("وكالةسبوتنيك") == tokenize("وكالة سبوتنيك")
    # not glue: a word that merely starts like one stays whole
    assert len(tokenize("معالجات")) == 1
    assert len(tokenize("منال")) == 1


def test_stopwords_numbers_and_english() -> None:
    assert tokenize("في من إلى على هذا الذي") == []
    assert tokenize("يومي الـ14 والـ15") == [tokenize("يومي")[0], "14", "15"]
    assert tokenize("٢١ و٢٢") == ["21", "22"]
    assert tokenize("The Astana talks and the rounds") == ["astana", "talk", "round"]
