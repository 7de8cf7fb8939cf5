from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel

from indexer.index import IndexLoadError
from service.api.auth import require_writer
from service.api.errors import WRITE_RESPONSES, ErrorOut
from service.live import LiveIndex

router = APIRouter(tags=["admin"])


class ReloadOut(BaseModel):
    status: str
    documents: int
    chunks: int
    model: str


def get_live(request: Request) -> LiveIndex:
    live: LiveIndex | None = getattr(request.app.state, "live", None)
    if live is None or getattr(request.app.state, "isnad", None) is None:
        raise HTTPException(status_code=503, detail="the index is not loaded yet; try again shortly")
    return live


LiveDep = Annotated[LiveIndex, Depends(get_live)]


@router.post("/admin/reload", response_model=ReloadOut, dependencies=[Depends(require_writer)],
             responses={**WRITE_RESPONSES, 500: {"model": ErrorOut, "description": "the index on disk is unusable"}})
def reload_index(live: LiveDep) -> ReloadOut:
    """Re-read the index folder (e.g. after `isnad index`) and swap it in; requests in flight finish on the old one."""
    try:
        state = live.reload()
    except IndexLoadError as exc:
        raise HTTPException(status_code=500, detail=f"reload failed, still serving the previous index: {exc}") from exc
    index = state.index
    return ReloadOut(status="reloaded", documents=len(index.documents), chunks=len(index.chunks),
                     model=index.manifest.model)
