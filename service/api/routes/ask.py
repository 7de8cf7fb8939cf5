from __future__ import annotations

from fastapi import APIRouter

from isnad.service.api.deps import StateDep
from isnad.service.api.schemas import AskRequest, AskResponseOut

router = APIRouter(tags=["ask"])


@router.post("/ask", response_model=AskResponseOut)
def ask(body: AskRequest, state: StateDep) -> AskResponseOut:
    filters = body.filters.to_internal() if body.filters else None
    answer = state.answerer.ask(body.question, body.k, filters, body.min_confidence)
    return AskResponseOut.from_answer(answer, state.index.documents)
