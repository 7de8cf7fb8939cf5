"""What a question asks for, before retrieval: its language, its lexical terms, and the round it names."""

from __future__ import annotations

from dataclasses import dataclass, field

from isnad.indexer.text.arabic import normalize_str, tokenize
from isnad.indexer.text.induced import Expansion, InducedConfig, InducedLexicon, english_content_words
from isnad.indexer.text.lexicon import Lexicon, english_key, english_words
from isnad.indexer.text.names import NameConfig, NameMatcher
from isnad.indexer.text.numbers import date_number_terms
from isnad.indexer.text.rounds import detect_query_round
from isnad.indexer.text.script import query_language


@dataclass(frozen=True)
class AnalyzedQuery:
    text: str
    lang: str  # "ar" or "en": the script most of its letters are in
    terms: tuple[str, ...]  # BM25 terms of the question itself (for English: its numbers)
    bridge_terms: tuple[str, ...]  # BM25 terms of the lexicon's Arabic for an English question
    round: int | None
    bridge_coverage: float = 0.0  # share of the English question's content words the bridge translated
    expansions: tuple[Expansion, ...] = ()  # weighted terms from the induced lexicon, names, dates/numbers
    translated_share: float = 0.0  # share of content words the hand lexicon or the bridge translated (reported)
    normalized: str = ""  # normalize_str(text), made once here for every later reader of the question

    def weighted_terms(self) -> dict[str, float]:
        """BM25 term -> weight: the question's own terms and the hand lexicon's count fully, the generalizing
        bridge's terms by its confidence (a term reached several ways keeps its best weight)."""
        weights = {t: 1.0 for t in (*self.terms, *self.bridge_terms)}
        for e in self.expansions:
            weights[e.term] = max(weights.get(e.term, 0.0), e.weight)
        return weights


@dataclass(frozen=True)
class Bridges:
    """The generalizing English→Arabic bridge; each part is optional (the evaluation ablates them)."""

    induced: InducedLexicon | None = None
    names: NameMatcher | None = None
    dates: bool = False
    induced_weight: float = 1.0  # scales the induced lexicon's cosine into a BM25 term weight
    induced_config: InducedConfig | None = None
    names_config: NameConfig | None = None
    names_weight: float = 1.0
    coverage_credit: float = 1.0  # how much a word the bridge reached raises BM25's weight (hand entries: 1)
    skip: frozenset[str] = field(default_factory=frozenset)  # English words never expanded


def analyze(text: str, lexicon: Lexicon | None, bridges: Bridges | None = None) -> AnalyzedQuery:
    lang = query_language(text)
    bridge: tuple[str, ...] = ()
    coverage = 0.0
    terms = tuple(tokenize(text))
    expansions: list[Expansion] = []
    translated = 0.0
    if lang == "en":
        covered: set[str] = set()
        if lexicon is not None:
            entries = lexicon.matches(text)
            bridge = tuple(dict.fromkeys(t for e in entries for phrase in e.arabic for t in tokenize(phrase)))
            covered = {w.lower() for e in entries for w in english_words(e.english)}
            n_covered: float = sum(len(tokenize(e.english)) for e in entries)
        else:
            n_covered = 0
        n_translated = n_covered
        if bridges is not None:
            expansions, reached = _expand(text, bridges, covered)
            n_covered += bridges.coverage_credit * len(reached)
            n_translated += len(reached)
        coverage = min(1.0, n_covered / max(1, len(terms)))  # terms: all content words, before the digit filter
        translated = min(1.0, n_translated / max(1, len(terms)))
        # English words only ever match Latin titles in an Arabic archive, which misleads more than it
        # helps (xquad_en2ar: nDCG@10 0.883 -> 0.881); numbers and Latin names written as digits still match.
        terms = tuple(t for t in terms if any(ch.isdigit() for ch in t))
    normalized = normalize_str(text)
    return AnalyzedQuery(text, lang, terms, bridge, detect_query_round(text, normalized), coverage,
                         tuple(expansions), translated, normalized)


def _expand(text: str, bridges: Bridges, covered: set[str]) -> tuple[list[Expansion], set[str]]:
    """Expansions for the English words the hand lexicon left untranslated, and the words they reached."""
    out: list[Expansion] = []
    if bridges.dates:
        out.extend(e for e in date_number_terms(text) if e.word not in covered)
    if bridges.names is not None:
        names = [n for n in NameMatcher.candidates(text) if n.lower() not in covered]
        found = bridges.names.expand(names, bridges.names_config)
        out.extend(Expansion(e.word, e.term, round(e.weight * bridges.names_weight, 4)) for e in found)
    done = covered | {e.word for e in out} | bridges.skip
    if bridges.induced is not None:
        words = [w for w in english_content_words(text) if w not in done and english_key(w) not in done]
        scale = bridges.induced_weight
        found = bridges.induced.expand(words, bridges.induced_config)
        out.extend(Expansion(e.word, e.term, round(e.weight * scale, 4)) for e in found)
    return out, {e.word for e in out}
