"""What a question asks for, before retrieval: its language, its lexical terms, and the round it names."""

from __future__ import annotations

from dataclasses import dataclass

from indexer.arabic import tokenize
from indexer.rounds import detect_query_round
from service.lexicon import Lexicon


@dataclass(frozen=True)
class AnalyzedQuery:
    text: str
    lang: str  # "ar" or "en": the script most of its letters are in
    terms: tuple[str, ...]  # BM25 terms of the question itself (for English: its numbers)
    bridge_terms: tuple[str, ...]  # BM25 terms of the lexicon's Arabic for an English question
    round: int | None


def query_language(text: str) -> str:
    letters = [ch for ch in text if ch.isalpha()]
    arabic = sum(1 for ch in letters if "\u0600" <= ch <= "\u06ff")
    return "ar" if letters and arabic * 2 >= len(letters) else "en"


def analyze(text: str, lexicon: Lexicon | None) -> AnalyzedQuery:
    lang = query_language(text)
    bridge: tuple[str, ...] = ()
    if lang == "en" and lexicon is not None:
        bridge = tuple(dict.fromkeys(t for phrase in lexicon.translate(text) for t in tokenize(phrase)))
    terms = tuple(tokenize(text))
    if lang == "en":
        # English words only ever match Latin titles in an Arabic archive, which misleads more than it
        # helps (xquad_en2ar: nDCG@10 0.883 -> 0.881); numbers and Latin names written as digits still match.
        terms = tuple(t for t in terms if any(ch.isdigit() for ch in t))
    return AnalyzedQuery(text, lang, terms, bridge, detect_query_round(text))
