from __future__ import annotations

from fastapi import APIRouter

from service.api.deps import StateDep
from service.api.schemas import AnswerSpanOut, AskRequest, AskResponseOut, CitationOut, ClosestOut

router = APIRouter(tags=["ask"])


@router.post("/ask", response_model=AskResponseOut)
def ask(body: AskRequest, state: StateDep) -> AskResponseOut:
    filters = body.filters.to_internal() if body.filters else None
    answer = state.answerer.ask(body.question, body.k, filters)
    return AskResponseOut(
        question=answer.question,
        answer=answer.text,
        abstained=answer.abstained,
        took_ms=round(answer.took_ms, 3),
        citations=[
            CitationOut(n=c.n, doc_id=c.chunk.doc_id, chunk_id=c.chunk.chunk_id, text=c.text, start=c.start,
                        end=c.end, title=c.chunk.title, published=c.chunk.published)
            for c in answer.citations
        ],
        confidence=answer.confidence,
        answer_span=AnswerSpanOut(n=answer.span.n, start=answer.span.start, end=answer.span.end,
                                  text=answer.span.text) if answer.span else None,
        closest=[
            ClosestOut(n=c.n, doc_id=c.chunk.doc_id, chunk_id=c.chunk.chunk_id, text=c.text, start=c.start,
                       end=c.end, title=c.chunk.title, published=c.chunk.published)
            for c in answer.closest
        ],
    )
