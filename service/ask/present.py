"""Present: the decision as the client sees it: numbered citations with the documents' exact text, the
segments to render, the answer span inside its citation, or "not found" with the closest passages apart."""

from __future__ import annotations

import time
from collections.abc import Mapping

from isnad.indexer.types import Document
from isnad.service.ask.decide import Decision
from isnad.service.ask.result import DIFFERING_FIGURES, NOT_FOUND, Answer, AnswerSpan, Citation, Segment
from isnad.service.search import SearchResponse

CLOSEST = 3  # passages shown apart on abstention


def present(response: SearchResponse, decision: Decision, documents: Mapping[str, Document],
            started: float) -> Answer:
    copies = {r.chunk.chunk_id: r.copies for r in response.results}
    if decision.abstained:
        closest = tuple(Citation(n=r.rank, chunk=r.chunk, start=r.chunk.start, end=r.chunk.end, text=r.chunk.text,
                                 copies=r.copies) for r in response.results[:CLOSEST])
        return Answer(response.query, NOT_FOUND, True, (), _ms(started), decision.confidence, closest=closest,
                      segments=(Segment(NOT_FOUND),), certainty="not_found")
    citations = tuple(
        Citation(n=i + 1, chunk=s.chunk, start=s.start, end=s.end, text=documents[s.chunk.doc_id].text[s.start : s.end],
                 copies=copies.get(s.chunk.chunk_id, ()))
        for i, s in enumerate(decision.sentences))
    segments = ((Segment(DIFFERING_FIGURES),) if decision.differing else ()) + tuple(
        Segment(c.text, c.n) for c in citations)
    return Answer(response.query, answer_string(segments), False, citations, _ms(started), decision.confidence,
                  span=_span(decision, citations, documents), segments=segments,
                  certainty="sure" if decision.sure else "possible")


def _span(decision: Decision, citations: tuple[Citation, ...], documents: Mapping[str, Document]) -> AnswerSpan | None:
    """The span, numbered by the citation that holds it (None if none does: it is never shown out of context)."""
    if decision.span is None:
        return None
    chunk, start, end = decision.span
    for c in citations:
        if c.chunk.doc_id == chunk.doc_id and c.start <= start and end <= c.end and start < end:
            return AnswerSpan(c.n, start, end, documents[chunk.doc_id].text[start:end])
    return None


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def escape_brackets(text: str) -> str:
    """Backslash-escape brackets (and backslashes) so a "[1]" in a document never reads as a citation marker."""
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def answer_string(segments: tuple[Segment, ...]) -> str:
    """Segments joined by spaces, each cited one followed by its marker " [n]"; only markers are unescaped."""
    return " ".join(escape_brackets(s.text) + (f" [{s.n}]" if s.n is not None else "") for s in segments)
