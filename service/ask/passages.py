"""The top passages of a question, each split into sentences once, with what every stage reads of them: their
BM25 tokens, the figures they state, whether they hold the kind of answer asked and (for a quantity question)
the quantity they give. The fallback scores these sentences (passage rank, the question's terms and answer
type) to choose what to cite; the judge cites the one holding the reader's span; differing figures come from
them either way."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from isnad.indexer.text.arabic import normalize_str, tokenize
from isnad.indexer.text.sentences import sentence_spans
from isnad.indexer.types import Chunk
from isnad.service.ask.answer_types import DIGITS
from isnad.service.ask.question import Question
from isnad.service.search import SearchResponse, SearchResult

# A quantity, not a date or a round number: "300 ألف", "330 الف", "نصف مليون", "1,200".
FIGURE = re.compile(r"\d[\d.,]*\s*(?:ألف|الف|آلاف|مليون|مليار)|نصف مليون|\d{1,3}(?:[.,]\d{3})+")
# Added to a sentence's score when it holds the kind of answer the question wants. Set a priori, not tuned:
# a quarter of full term overlap (2.0), about one passage-rank step (0.17-0.5).
TYPE_BONUS = 0.5


@dataclass(frozen=True)
class Sentence:
    chunk: Chunk
    start: int  # offsets into the document's canonical text
    end: int
    score: float = 0.0
    text: str = field(default="", compare=False)  # the chunk's text at [start, end)
    tokens: frozenset[str] = field(default=frozenset(), compare=False, repr=False)  # its BM25 terms
    numbers: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    has_kind: bool = field(default=False, compare=False)  # holds the kind of answer the question wants
    figure: str | None = field(default=None, compare=False)  # the quantity it states (quantity questions only)


@dataclass(frozen=True)
class Passage:
    result: SearchResult
    sentences: tuple[Sentence, ...]
    tokens: frozenset[str]  # the passage's BM25 terms: its sentences' (they cover every word of it)


@dataclass(frozen=True)
class Passages:
    """The top results' passages for one question, each split and tokenized once, and their sentences ranked
    by the fallback's score (passage rank, the question's terms and answer type): what every later stage reads."""

    response: SearchResponse
    question: Question
    top: tuple[Passage, ...]
    ranked: tuple[Sentence, ...]  # the sentences of the first `scored` passages, best first
    by_chunk: dict[str, Passage]
    span_matches: dict[str, bool] = field(default_factory=dict)  # the judge's: span text -> has the kind wanted

    @classmethod
    def of(cls, response: SearchResponse, question: Question, n: int, scored: int) -> Passages:
        seen: dict[str, Facts] = {}
        top = tuple(_passage(r, question, seen) for r in response.results[: max(n, scored)])
        return cls(response, question, top, _ranked(top[:scored], question),
                   {p.result.chunk.chunk_id: p for p in top})


Facts = tuple[frozenset[str], frozenset[str], bool, "str | None"]  # tokens, numbers, has_kind, figure


def _passage(result: SearchResult, question: Question, seen: dict[str, Facts]) -> Passage:
    chunk = result.chunk
    sentences = tuple(_sentence(chunk, s, e, question, seen) for s, e in sentence_spans(chunk.text))
    return Passage(result, sentences, frozenset().union(*(s.tokens for s in sentences)))


def _sentence(chunk: Chunk, s: int, e: int, question: Question, seen: dict[str, Facts]) -> Sentence:
    """`seen`: the facts of sentences already met (neighbouring chunks overlap by a sentence)."""
    text = chunk.text[s:e]
    if text not in seen:
        norm = normalize_str(text)
        cue = question.cue
        seen[text] = (frozenset(tokenize(text)), frozenset(DIGITS.findall(norm)),
                      cue is not None and cue.search(norm) is not None, figure_of(text) if question.quantity else None)
    return Sentence(chunk, chunk.start + s, chunk.start + e, 0.0, text, *seen[text])


def spanning(passage: Passage, question: Question, start: int, end: int) -> Sentence:
    """A sentence made of characters [start, end) of the passage (a span across sentences, or none: rare)."""
    return _sentence(passage.result.chunk, start, end, question, {})


def figure_of(text: str) -> str | None:
    """The quantity a sentence states, folded ("300 ألف" and "300 الف" are one), or None."""
    found = FIGURE.search(text)
    return normalize_str(found.group(0)).replace(" ", "") if found else None


def _ranked(top: tuple[Passage, ...], question: Question) -> tuple[Sentence, ...]:
    """Sentences of the passages, best first: passage rank, question terms, and whether it has the wanted kind."""
    terms, asked = question.terms, question.numbers
    out = []
    for passage in top:
        prior = 1.0 / (1 + 0.5 * (passage.result.rank - 1))
        for s in passage.sentences:
            overlap = len(s.tokens & terms) / (len(terms) or 1)
            score = prior + 2.0 * overlap
            if s.has_kind:
                score += TYPE_BONUS
            if asked and asked <= s.numbers:
                score += TYPE_BONUS
            out.append(replace(s, score=score))
    out.sort(key=lambda x: -x.score)
    return tuple(out)


def choose(sentences: Sequence[Sentence], quantity: bool, max_sentences: int, runner_up: float,
           max_chars: int) -> tuple[list[Sentence], bool]:
    """The best sentences; for a quantity question whose top evidence disagrees, one per figure."""
    if quantity:
        figures = differing_figures(sentences)
        if len(figures) > 1:
            return figures, True
    chosen = list(sentences[:1])
    for s in sentences[1:max_sentences]:
        # a runner-up nearly as good joins the best while the answer stays about one sentence long
        if s.score >= runner_up * sentences[0].score and \
                sum(x.end - x.start for x in chosen) + s.end - s.start <= max_chars:
            chosen.append(s)
    ordered = sorted(chosen, key=lambda s: (s.chunk.doc_id, s.start)) if len(chosen) > 1 else chosen
    return ordered, False


def differing_figures(sentences: Sequence[Sentence], floor: float = 0.5) -> list[Sentence]:
    """Up to three strong sentences (score >= floor x the best) that state different figures, when the best
    one states one."""
    if not sentences:
        return []
    best = sentences[0].score
    picked: list[Sentence] = []
    seen: set[str] = set()
    for s in sentences[:8]:
        if s.score < floor * best:
            break
        if s.figure is None or s.figure in seen:
            continue
        seen.add(s.figure)
        picked.append(s)
        if len(picked) == 3:
            break
    return picked if len(picked) > 1 and picked[0] is sentences[0] else []
