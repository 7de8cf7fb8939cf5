from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from service.api.deps import StateDep
from service.api.schemas import SearchParams, SearchRequest, SearchResponseOut, SearchResultOut
from service.search import SearchResponse
from service.state import ServiceState
from service.titles import shown_title

router = APIRouter(tags=["search"])


def _out(response: SearchResponse, state: ServiceState) -> SearchResponseOut:
    documents = state.index.documents
    titles = {r.chunk.doc_id: shown_title(r.chunk.title, documents, r.chunk.doc_id) for r in response.results}
    return SearchResponseOut(
        query=response.query,
        took_ms=round(response.took_ms, 3),
        results=[
            SearchResultOut(rank=r.rank, doc_id=r.chunk.doc_id, chunk_id=r.chunk.chunk_id, score=r.score,
                            text=r.chunk.text, start=r.chunk.start, end=r.chunk.end, title=titles[r.chunk.doc_id][0],
                            title_derived=titles[r.chunk.doc_id][1], published=r.chunk.published)
            for r in response.results
        ],
    )


@router.post("/search", response_model=SearchResponseOut)
def search(body: SearchRequest, state: StateDep) -> SearchResponseOut:
    filters = body.filters.to_internal() if body.filters else None
    return _out(state.searcher.search(body.query, body.k, filters), state)


@router.get("/search", response_model=SearchResponseOut)
def search_get(params: Annotated[SearchParams, Query()], state: StateDep) -> SearchResponseOut:
    return _out(state.searcher.search(params.q, params.k), state)
