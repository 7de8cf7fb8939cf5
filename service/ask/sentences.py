"""The sentences of the top passages, scored without a reader: passage rank, the question's terms (and, for an
English question, the lexicon's Arabic for them) and the kind of answer it wants (`service/answer_types.py`).
The fallback's way to choose what to cite, and how differing figures are found either way."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from isnad.indexer.text.arabic import normalize_str, tokenize
from isnad.indexer.text.query import AnalyzedQuery
from isnad.indexer.text.sentences import sentence_spans
from isnad.indexer.types import Chunk
from isnad.service.ask.answer_types import AnswerType, question_numbers, sentence_has
from isnad.service.search import SearchResponse

QUANTITY_QUESTION = re.compile(r"\b(how many|how much|number of|death toll|toll)\b|كم |عدد", re.IGNORECASE)
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

    @property
    def text(self) -> str:
        return self.chunk.text[self.start - self.chunk.start : self.end - self.chunk.start]


def is_quantity_question(analyzed: AnalyzedQuery | None) -> bool:
    return analyzed is not None and QUANTITY_QUESTION.search(analyzed.text) is not None


def figure_of(text: str) -> str | None:
    """The quantity a sentence states, folded ("300 ألف" and "300 الف" are one), or None."""
    found = FIGURE.search(text)
    return normalize_str(found.group(0)).replace(" ", "") if found else None


def scored_sentences(response: SearchResponse, passages: int, kind: AnswerType = "other") -> list[Sentence]:
    """Sentences of the top passages: passage rank, question terms, and whether it has the wanted kind."""
    analyzed = response.analyzed
    terms = set(analyzed.terms + analyzed.bridge_terms) if analyzed else set()
    asked = question_numbers(analyzed.text) if analyzed else set()
    out = []
    for result in response.results[:passages]:
        chunk = result.chunk
        prior = 1.0 / (1 + 0.5 * (result.rank - 1))
        for s, e in sentence_spans(chunk.text):
            text = chunk.text[s:e]
            overlap = len(set(tokenize(text)) & terms) / (len(terms) or 1)
            score = prior + 2.0 * overlap
            if kind != "other" and sentence_has(kind, text):
                score += TYPE_BONUS
            if asked and asked <= question_numbers(text):
                score += TYPE_BONUS
            out.append(Sentence(chunk, chunk.start + s, chunk.start + e, score))
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
        figure = figure_of(s.text)
        if figure is None or figure in seen:
            continue
        seen.add(figure)
        picked.append(s)
        if len(picked) == 3:
            break
    return picked if len(picked) > 1 and picked[0] is sentences[0] else []


def sentence_around(chunk: Chunk, start: int, end: int) -> Sentence:
    """The sentence(s) of `chunk` holding characters [start, end) of the chunk's text, in document offsets."""
    spans = [(s, e) for s, e in sentence_spans(chunk.text) if s < max(end, start + 1) and start < e]
    if not spans:
        return Sentence(chunk, chunk.start, chunk.end)
    return Sentence(chunk, chunk.start + spans[0][0], chunk.start + spans[-1][1])
