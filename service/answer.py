"""Extractive answers: the corpus' own sentences, each cited to its exact span.

The answer is the best 1–3 sentences of the top passages, scored against the question's terms (and, for an
English question, the lexicon's Arabic for them). When the evidence is weak the answerer abstains. When
the top evidence gives different figures for the same fact, they are shown side by side, each cited.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from indexer.arabic import normalize_str, tokenize
from indexer.chunk import sentence_spans
from indexer.types import Chunk, SearchFilters
from service.query import AnalyzedQuery
from service.search import Searcher, SearchResponse

NOT_FOUND = "Not found in the corpus. / لم يُعثر على إجابة في المدونة."
_QUANTITY_QUESTION = re.compile(r"\b(how many|how much|number of|death toll|toll)\b|كم |عدد", re.IGNORECASE)
# A quantity, not a date or a round number: "300 ألف", "330 الف", "نصف مليون", "1,200".
_FIGURE = re.compile(r"\d[\d.,]*\s*(?:ألف|الف|آلاف|مليون|مليار)|نصف مليون|\d{1,3}(?:[.,]\d{3})+")
DIFFERING_FIGURES = "Sources give different figures / المصادر تذكر أرقاماً مختلفة:"


@dataclass(frozen=True)
class Citation:
    n: int
    chunk: Chunk
    start: int  # offsets into the document's canonical text
    end: int
    text: str


@dataclass(frozen=True)
class Segment:
    """A run of answer text; `n` is set when the service's citation [n] backs it (its marker follows it)."""

    text: str
    n: int | None = None


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # the segments as one string, see `answer_string`
    abstained: bool
    citations: tuple[Citation, ...]
    took_ms: float
    segments: tuple[Segment, ...] = ()


@dataclass(frozen=True)
class _Sentence:
    chunk: Chunk
    start: int
    end: int
    score: float


class Answerer:
    """Chooses and cites sentences; abstains on weak evidence or when a named round is absent.

    `min_dense` is per question language: an English question sits further from Arabic text in the
    embedding space than an Arabic one, so its bar is lower. Both were picked on the development set only
    (lowest answerable: ar 0.837, en 0.754; the off-topic Arabic question: 0.740).
    """

    def __init__(self, searcher: Searcher, min_dense: dict[str, float] | None = None, max_sentences: int = 2,
                 passages: int = 4) -> None:
        if not 1 <= max_sentences <= 3:
            raise ValueError("max_sentences must be 1, 2 or 3")
        if passages < 1:
            raise ValueError("passages must be at least 1")
        self.searcher = searcher
        self.min_dense = min_dense or {"ar": 0.80, "en": 0.72}
        self.max_sentences = max_sentences
        self.passages = passages
        self._known_rounds = searcher.index.chunks.known_rounds()  # from the rounds column, no Chunk objects

    def ask(self, question: str, k: int = 5, filters: SearchFilters | None = None) -> Answer:
        started = time.perf_counter()
        response = self.searcher.search(question, k, filters)
        if self._should_abstain(response):
            return Answer(question, NOT_FOUND, True, (), _ms(started), (Segment(NOT_FOUND),))
        analyzed = response.analyzed
        sentences = self._scored_sentences(response, analyzed)
        chosen, differing = self._choose(sentences, analyzed)
        documents = self.searcher.index.documents
        citations = tuple(
            Citation(n=i + 1, chunk=s.chunk, start=s.start, end=s.end,
                     text=documents[s.chunk.doc_id].text[s.start : s.end])
            for i, s in enumerate(chosen)
        )
        segments = ((Segment(DIFFERING_FIGURES),) if differing else ()) + tuple(Segment(c.text, c.n) for c in citations)
        return Answer(question, answer_string(segments), False, citations, _ms(started), segments)

    def _should_abstain(self, response: SearchResponse) -> bool:
        if not response.results:
            return True
        analyzed = response.analyzed
        if analyzed is not None and analyzed.round is not None and analyzed.round not in self._known_rounds:
            return True  # the question is about a round no article mentions
        lang = analyzed.lang if analyzed is not None else "ar"
        return response.best_dense is not None and response.best_dense < self.min_dense.get(lang, 0.75)

    def _scored_sentences(self, response: SearchResponse, analyzed: AnalyzedQuery | None) -> list[_Sentence]:
        terms = set(analyzed.terms + analyzed.bridge_terms) if analyzed else set()
        out = []
        for result in response.results[: self.passages]:
            chunk = result.chunk
            prior = 1.0 / (1 + 0.5 * (result.rank - 1))
            for s, e in sentence_spans(chunk.text):
                words = set(tokenize(chunk.text[s:e]))
                overlap = len(words & terms) / (len(terms) or 1)
                out.append(_Sentence(chunk, chunk.start + s, chunk.start + e, prior + 2.0 * overlap))
        out.sort(key=lambda x: -x.score)
        return out

    def _choose(self, sentences: list[_Sentence], analyzed: AnalyzedQuery | None) -> tuple[list[_Sentence], bool]:
        """The best sentences; for a quantity question whose top evidence disagrees, one per figure."""
        if analyzed is not None and _QUANTITY_QUESTION.search(analyzed.text):
            figures = self._differing_figures(sentences)
            if len(figures) > 1:
                return figures, True
        chosen = sentences[: self.max_sentences]
        ordered = sorted(chosen, key=lambda s: (s.chunk.doc_id, s.start)) if len(chosen) > 1 else chosen
        return ordered, False

    def _differing_figures(self, sentences: list[_Sentence]) -> list[_Sentence]:
        """Up to three strong sentences that state different figures, when the best one states one."""
        if not sentences:
            return []
        best = sentences[0].score
        picked: list[_Sentence] = []
        seen: set[str] = set()
        for s in sentences[:8]:
            if s.score < 0.5 * best:
                break
            found = _FIGURE.search(s.chunk.text[s.start - s.chunk.start : s.end - s.chunk.start])
            figure = normalize_str(found.group(0)).replace(" ", "") if found else None
            if figure is None or figure in seen:
                continue
            seen.add(figure)
            picked.append(s)
            if len(picked) == 3:
                break
        return picked if len(picked) > 1 and picked[0] is sentences[0] else []


def escape_brackets(text: str) -> str:
    """Backslash-escape brackets (and backslashes) so a "[1]" in a document never reads as a citation marker."""
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def answer_string(segments: tuple[Segment, ...]) -> str:
    """Segments joined by spaces, each cited one followed by its marker " [n]"; only markers are unescaped."""
    return " ".join(escape_brackets(s.text) + (f" [{s.n}]" if s.n is not None else "") for s in segments)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
