from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from isnad.service.api.deps import StateDep
from isnad.service.api.schemas import SearchParams, SearchRequest, SearchResponseOut

router = APIRouter(tags=["search"])


@router.post("/search", response_model=SearchResponseOut)
def search(body: SearchRequest, state: StateDep) -> SearchResponseOut:
    filters = body.filters.to_internal() if body.filters else None
    return SearchResponseOut.from_domain(state.searcher.search(body.query, body.k, filters), state.index.documents)


@router.get("/search", response_model=SearchResponseOut)
def search_get(params: Annotated[SearchParams, Query()], state: StateDep) -> SearchResponseOut:
    return SearchResponseOut.from_domain(state.searcher.search(params.q, params.k), state.index.documents)
