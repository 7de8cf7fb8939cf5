from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from isnad.service.api import scoped
from isnad.service.api.errors import NOT_FOUND
from isnad.service.api.schemas import SearchParams, SearchRequest, SearchResponseOut

router = APIRouter(tags=["search"])


@router.post("/search", response_model=SearchResponseOut, responses=NOT_FOUND)
def search(body: SearchRequest, request: Request) -> SearchResponseOut:
    """Search `collections` (default: every collection the key may read) as one ranking."""
    filters = body.filters.to_internal() if body.filters else None
    return scoped.search(request, scoped.chosen(request, body.collections), body.query, body.k, filters)


@router.get("/search", response_model=SearchResponseOut, responses=NOT_FOUND)
def search_get(params: Annotated[SearchParams, Query()], request: Request) -> SearchResponseOut:
    return scoped.search(request, scoped.chosen(request, None), params.q, params.k)
