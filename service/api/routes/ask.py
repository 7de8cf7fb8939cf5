from __future__ import annotations

from fastapi import APIRouter, Request

from isnad.service.api import scoped
from isnad.service.api.errors import NOT_FOUND
from isnad.service.api.schemas import AskRequest, AskResponseOut

router = APIRouter(tags=["ask"])


@router.post("/ask", response_model=AskResponseOut, responses=NOT_FOUND)
def ask(body: AskRequest, request: Request) -> AskResponseOut:
    """Answer from `collections` (default: every collection the key may read), searched as one ranking."""
    filters = body.filters.to_internal() if body.filters else None
    return scoped.ask(request, scoped.chosen(request, body.collections), body.question, body.k, filters,
                      body.min_confidence)
