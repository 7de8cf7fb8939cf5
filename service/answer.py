"""Extractive answers: the corpus' own sentences, each cited to its exact span.

The answer is the sentence of the top passages that best answers the question: scored against the
question's terms (and, for an English question, the lexicon's Arabic for them) and against the kind of answer
it wants (a number, a date, a person, a place; `service/answer_types.py`). A learned answerability model
(`service/answerability.py`) gives a calibrated confidence and decides when to abstain; on abstention the
closest passages are returned apart, marked as not answering. When the top evidence gives different figures
for the same fact, they are shown side by side, each cited. `answer_span` is the shortest exact part of the
cited sentence that answers a number or date question.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from isnad.indexer.text.arabic import normalize_str, tokenize
from isnad.indexer.text.query import AnalyzedQuery
from isnad.indexer.text.sentences import sentence_spans
from isnad.indexer.types import Chunk, SearchFilters
from isnad.service.answer_types import AnswerType, find_span, question_numbers, question_type, sentence_has
from isnad.service.answerability import AnswerabilityModel, Evidence
from isnad.service.search import Searcher, SearchResponse

NOT_FOUND = "Not found in the corpus. / لم يُعثر على إجابة في المدونة."
_QUANTITY_QUESTION = re.compile(r"\b(how many|how much|number of|death toll|toll)\b|كم |عدد", re.IGNORECASE)
# A quantity, not a date or a round number: "300 ألف", "330 الف", "نصف مليون", "1,200".
_FIGURE = re.compile(r"\d[\d.,]*\s*(?:ألف|الف|آلاف|مليون|مليار)|نصف مليون|\d{1,3}(?:[.,]\d{3})+")
DIFFERING_FIGURES = "Sources give different figures / المصادر تذكر أرقاماً مختلفة:"
# Added to a sentence's score when it holds the kind of answer the question wants. Set a priori, not tuned:
# a quarter of full term overlap (2.0), about one passage-rank step (0.17-0.5).
TYPE_BONUS = 0.5


@dataclass(frozen=True)
class Citation:
    n: int
    chunk: Chunk
    start: int  # offsets into the document's canonical text
    end: int
    text: str
    copies: tuple[Chunk, ...] = ()  # the same passage in other documents: other sources, not confirmations


@dataclass(frozen=True)
class Segment:
    """A run of answer text; `n` is set when the service's citation [n] backs it (its marker follows it)."""

    text: str
    n: int | None = None


@dataclass(frozen=True)
class AnswerSpan:
    n: int  # the citation it lies in
    start: int  # offsets into the document's canonical text
    end: int
    text: str


@dataclass(frozen=True)
class Answer:
    question: str
    text: str  # the segments as one string, see `answer_string`
    abstained: bool
    citations: tuple[Citation, ...]
    took_ms: float
    confidence: float | None = None  # 0-1, from the answerability model (None without one for this embedder)
    span: AnswerSpan | None = None
    closest: tuple[Citation, ...] = ()  # on abstention: the nearest passages, which do not answer
    segments: tuple[Segment, ...] = ()  # what clients render; `text` is answer_string(segments)


@dataclass(frozen=True)
class _Sentence:
    chunk: Chunk
    start: int
    end: int
    score: float


class Answerer:
    """Chooses and cites sentences; abstains when the answerability model says the corpus does not answer, or
    when a named round is absent.

    `model`: True loads the bundled model trained for the embedder (service/data/answerability/), False uses none.
    Without one, the old rule applies: `min_dense` is per question language: an English question sits
    further from Arabic text in the embedding space than an Arabic one, so its bar is lower. Both were picked
    on the development set only (lowest answerable: ar 0.837, en 0.754; the off-topic Arabic question: 0.740).
    """

    def __init__(self, searcher: Searcher, min_dense: dict[str, float] | None = None, max_sentences: int = 3,
                 passages: int = 4, model: AnswerabilityModel | bool | None = True, runner_up: float = 0.8,
                 max_chars: int = 400) -> None:
        if not 1 <= max_sentences <= 3:
            raise ValueError("max_sentences must be 1, 2 or 3")
        if passages < 1:
            raise ValueError("passages must be at least 1")
        self.searcher = searcher
        self.min_dense = min_dense or {"ar": 0.80, "en": 0.72}
        self.max_sentences = max_sentences
        self.passages = passages
        # The best sentence, plus runners-up scoring >= runner_up x its score while the answer stays within
        # max_chars. Chosen on the XQuAD training split (every third question): one sentence only put the gold
        # answer in 73% (ar) / 45% (en) of answers at a median 160 chars; (3, 0.8, 400) 80% / 56% at 196 / 217.
        self.runner_up, self.max_chars = runner_up, max_chars
        self._known_rounds = searcher.index.chunks.known_rounds()  # from the rounds column, no Chunk objects
        # True: the bundled model for this embedder, if one was trained for it (else the cosine rule).
        self.model = AnswerabilityModel.load(searcher.embedder.model_id) if model is True else (model or None)

    def ask(self, question: str, k: int = 5, filters: SearchFilters | None = None) -> Answer:
        started = time.perf_counter()
        return self.answer(self.searcher.search(question, k, filters), started)

    def answer(self, response: SearchResponse, started: float) -> Answer:
        """The answer to a search response (split from `ask` so calibration can replay responses)."""
        question = response.query
        found = self.evidence(response)
        if found is None:
            return _abstain(question, started, 0.0 if self.model else None, self._closest(response))
        evidence, citations, differing = found
        confidence = None
        if self.model is not None:
            confidence, answerable = self.model.score(evidence)
            confidence = round(confidence, 4)
            if not answerable:
                return _abstain(question, started, confidence, self._closest(response))
        elif self._weak_dense(response):
            return _abstain(question, started, None, self._closest(response))
        segments = ((Segment(DIFFERING_FIGURES),) if differing else ()) + tuple(Segment(c.text, c.n) for c in citations)
        return Answer(question, answer_string(segments), False, citations, _ms(started), confidence,
                      span=_span(citations[0], evidence.kind, question), segments=segments)

    def evidence(self, response: SearchResponse) -> tuple[Evidence, tuple[Citation, ...], bool] | None:
        """The chosen sentences, cited, and what the answerability model reads; None when a rule abstains."""
        if self._rule_abstains(response):
            return None
        analyzed = response.analyzed
        kind = question_type(analyzed.text, analyzed.lang) if analyzed is not None else "other"
        sentences = self._scored_sentences(response, analyzed, kind)
        chosen, differing = self._choose(sentences, analyzed)
        documents = self.searcher.index.documents
        copies = {r.chunk.chunk_id: r.copies for r in response.results}
        citations = tuple(
            Citation(n=i + 1, chunk=s.chunk, start=s.start, end=s.end,
                     text=documents[s.chunk.doc_id].text[s.start : s.end], copies=copies.get(s.chunk.chunk_id, ()))
            for i, s in enumerate(chosen)
        )
        best = next(c for c in citations if c.chunk is sentences[0].chunk and c.start == sentences[0].start)
        return Evidence(response, best.text, kind), citations, differing

    def _rule_abstains(self, response: SearchResponse) -> bool:
        if not response.results:
            return True
        analyzed = response.analyzed
        # the question is about a round no article mentions
        return analyzed is not None and analyzed.round is not None and analyzed.round not in self._known_rounds

    def _weak_dense(self, response: SearchResponse) -> bool:
        """The fallback rule when no answerability model fits the embedder: one cosine bar per language."""
        lang = response.analyzed.lang if response.analyzed is not None else "ar"
        return response.best_dense is not None and response.best_dense < self.min_dense.get(lang, 0.75)

    def _closest(self, response: SearchResponse, n: int = 3) -> tuple[Citation, ...]:
        """The nearest passages, whole, for a reader to judge; they are not an answer."""
        return tuple(Citation(n=r.rank, chunk=r.chunk, start=r.chunk.start, end=r.chunk.end, text=r.chunk.text,
                              copies=r.copies) for r in response.results[:n])

    def _scored_sentences(self, response: SearchResponse, analyzed: AnalyzedQuery | None,
                          kind: AnswerType = "other") -> list[_Sentence]:
        """Sentences of the top passages: passage rank, question terms, and whether it has the wanted kind."""
        terms = set(analyzed.terms + analyzed.bridge_terms) if analyzed else set()
        asked = question_numbers(analyzed.text) if analyzed else set()
        out = []
        for result in response.results[: self.passages]:
            chunk = result.chunk
            prior = 1.0 / (1 + 0.5 * (result.rank - 1))
            for s, e in sentence_spans(chunk.text):
                text = chunk.text[s:e]
                words = set(tokenize(text))
                overlap = len(words & terms) / (len(terms) or 1)
                score = prior + 2.0 * overlap
                if kind != "other" and sentence_has(kind, text):
                    score += TYPE_BONUS
                if asked and asked <= question_numbers(text):
                    score += TYPE_BONUS
                out.append(_Sentence(chunk, chunk.start + s, chunk.start + e, score))
        out.sort(key=lambda x: -x.score)
        return out

    def _choose(self, sentences: list[_Sentence], analyzed: AnalyzedQuery | None) -> tuple[list[_Sentence], bool]:
        """The best sentences; for a quantity question whose top evidence disagrees, one per figure."""
        if analyzed is not None and _QUANTITY_QUESTION.search(analyzed.text):
            figures = self._differing_figures(sentences)
            if len(figures) > 1:
                return figures, True
        chosen = sentences[:1]
        for s in sentences[1 : self.max_sentences]:
            # a runner-up nearly as good joins the best while the answer stays about one sentence long
            if s.score >= self.runner_up * sentences[0].score and \
                    sum(x.end - x.start for x in chosen) + s.end - s.start <= self.max_chars:
                chosen.append(s)
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


def _span(citation: Citation, kind: AnswerType, question: str) -> AnswerSpan | None:
    found = find_span(kind, citation.text, question)
    if found is None:
        return None
    start, end = citation.start + found[0], citation.start + found[1]
    return AnswerSpan(citation.n, start, end, citation.text[found[0] : found[1]])


def escape_brackets(text: str) -> str:
    """Backslash-escape brackets (and backslashes) so a "[1]" in a document never reads as a citation marker."""
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def answer_string(segments: tuple[Segment, ...]) -> str:
    """Segments joined by spaces, each cited one followed by its marker " [n]"; only markers are unescaped."""
    return " ".join(escape_brackets(s.text) + (f" [{s.n}]" if s.n is not None else "") for s in segments)


def _abstain(question: str, started: float, confidence: float | None, closest: tuple[Citation, ...]) -> Answer:
    return Answer(question, NOT_FOUND, True, (), _ms(started), confidence, closest=closest,
                  segments=(Segment(NOT_FOUND),))


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
