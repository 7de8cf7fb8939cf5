from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import StateDep
from service.api.schemas import (
    AnswerSegmentOut,
    AnswerSpanOut,
    AskRequest,
    AskResponseOut,
    CitationOut,
    ClosestOut,
)
from service.titles import shown_title

router = APIRouter(tags=["ask"])


@router.post("/ask", response_model=AskResponseOut)
def ask(body: AskRequest, state: StateDep) -> AskResponseOut:
    filters = body.filters.to_internal() if body.filters else None
    answer = state.answerer.ask(body.question, body.k, filters)
    documents = state.index.documents
    titles = {c.n: shown_title(c.chunk.title, documents, c.chunk.doc_id) for c in answer.citations}
    closest_titles = {c.n: shown_title(c.chunk.title, documents, c.chunk.doc_id) for c in answer.closest}
    return AskResponseOut(
        question=answer.question,
        answer=answer.text,
        answer_segments=[AnswerSegmentOut(text=s.text, n=s.n) for s in answer.segments],
        abstained=answer.abstained,
        took_ms=round(answer.took_ms, 3),
        citations=[
            CitationOut(n=c.n, doc_id=c.chunk.doc_id, chunk_id=c.chunk.chunk_id, text=c.text, start=c.start,
                        end=c.end, title=titles[c.n][0], title_derived=titles[c.n][1], published=c.chunk.published)
            for c in answer.citations
        ],
        confidence=answer.confidence,
        answer_span=AnswerSpanOut(n=answer.span.n, start=answer.span.start, end=answer.span.end,
                                  text=answer.span.text) if answer.span else None,
        closest=[
            ClosestOut(n=c.n, doc_id=c.chunk.doc_id, chunk_id=c.chunk.chunk_id, text=c.text, start=c.start,
                       end=c.end, title=closest_titles[c.n][0], title_derived=closest_titles[c.n][1],
                       published=c.chunk.published)
            for c in answer.closest
        ],
    )
