"""The top passages of a question, each split into sentences once, with what every stage reads of them: their
BM25 tokens, the figures they state, whether they hold the kind of answer asked and (for a quantity question)
the quantity they give. The fallback scores these sentences (passage rank, the question's terms and answer
type) to choose what to cite; the judge cites the one holding the reader's span; differing figures come from
them either way."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

from isnad.indexer.text.arabic import normalize_str, tokenize
from isnad.indexer.text.sentences import sentence_spans
from isnad.indexer.types import Chunk
from isnad.service.ask.answer_types import has_kind, numbers_in
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
    tokens: frozenset[str] = field(default=frozenset(), compare=False, repr=False)  # its BM25 terms
    numbers: frozenset[str] = field(default=frozenset(), compare=False, repr=False)
    has_kind: bool = field(default=False, compare=False)  # holds the kind of answer the question wants
    figure: str | None = field(default=None, compare=False)  # the quantity it states (quantity questions only)

    @property
    def text(self) -> str:
        return self.chunk.text[self.start - self.chunk.start : self.end - self.chunk.start]


@dataclass(frozen=True)
class Passage:
    result: SearchResult
    question: Question
    sentences: tuple[Sentence, ...]

    @classmethod
    def of(cls, result: SearchResult, question: Question) -> Passage:
        chunk = result.chunk
        return cls(result, question, tuple(_sentence(chunk, s, e, question) for s, e in sentence_spans(chunk.text)))

    @cached_property
    def tokens(self) -> frozenset[str]:
        """The passage's BM25 terms (on first use: the fallback's fourth passage never needs them); a passage
        of one sentence has that sentence's."""
        chunk = self.result.chunk
        if len(self.sentences) == 1 and self.sentences[0].text == chunk.text:
            return self.sentences[0].tokens
        return frozenset(tokenize(chunk.text))

    def sentence_around(self, start: int, end: int) -> Sentence:
        """The sentence(s) holding characters [start, end) of the passage, in document offsets."""
        chunk = self.result.chunk
        inside = [s for s in self.sentences
                  if s.start - chunk.start < max(end, start + 1) and start < s.end - chunk.start]
        if len(inside) == 1:
            return inside[0]
        # several sentences, or none (the whole passage): rare, made here
        s, e = (inside[0].start - chunk.start, inside[-1].end - chunk.start) if inside else (0, len(chunk.text))
        return _sentence(chunk, s, e, self.question)


def _sentence(chunk: Chunk, s: int, e: int, question: Question) -> Sentence:
    text = chunk.text[s:e]
    norm = normalize_str(text)
    return Sentence(chunk, chunk.start + s, chunk.start + e, 0.0, frozenset(tokenize(text)), numbers_in(norm),
                    question.kind != "other" and has_kind(question.kind, norm),
                    figure_of(text) if question.quantity else None)


class Passages:
    """The top results' passages, each split and tokenized on first use and kept for the whole question."""

    def __init__(self, response: SearchResponse, question: Question) -> None:
        self.response, self.question = response, question
        self._made: dict[int, Passage] = {}

    def __getitem__(self, rank_index: int) -> Passage:
        if rank_index not in self._made:
            self._made[rank_index] = Passage.of(self.response.results[rank_index], self.question)
        return self._made[rank_index]

    def top(self, n: int) -> list[Passage]:
        return [self[i] for i in range(min(n, len(self.response.results)))]

    def of_result(self, result: SearchResult) -> Passage:
        return self[next(i for i, r in enumerate(self.response.results) if r is result)]


def figure_of(text: str) -> str | None:
    """The quantity a sentence states, folded ("300 ألف" and "300 الف" are one), or None."""
    found = FIGURE.search(text)
    return normalize_str(found.group(0)).replace(" ", "") if found else None


def scored_sentences(passages: Passages, n: int) -> list[Sentence]:
    """Sentences of the top `n` passages, best first: passage rank, question terms, and the wanted kind."""
    question = passages.question
    terms, asked = question.terms, question.numbers
    out = []
    for passage in passages.top(n):
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
    return out


def choose(sentences: list[Sentence], quantity: bool, max_sentences: int, runner_up: float,
           max_chars: int) -> tuple[list[Sentence], bool]:
    """The best sentences; for a quantity question whose top evidence disagrees, one per figure."""
    if quantity:
        figures = differing_figures(sentences)
        if len(figures) > 1:
            return figures, True
    chosen = sentences[:1]
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
