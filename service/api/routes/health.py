from __future__ import annotations

from fastapi import APIRouter, Request

from isnad.indexer.embed import runtime_of
from isnad.service.api.auth import may_read, request_grant
from isnad.service.api.deps import StateDep
from isnad.service.api.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut, response_model_exclude_none=True)
def health(state: StateDep, request: Request) -> HealthOut:
    index = state.index
    problem = index.store.problem()  # Milvus down: "degraded", and why (searches answer 503 meanwhile)
    status = "degraded" if problem else "ok"
    if not may_read(request) or not request_grant(request).holds(request.app.state.collections.default):
        return HealthOut(status=status)
    # an archive in Milvus is counted by Milvus: while it is away the counts are left out, the status says why
    documents, chunks = (None, None) if problem else (len(index.documents), index.passage_count())
    return HealthOut(status=status, documents=documents, chunks=chunks,
                     model=index.manifest.model, runtime=runtime_of(state.embedder), reader=state.reader.status,
                     store=problem)
