from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from isnad.indexer.index import IndexLoadError
from isnad.service.api import scoped
from isnad.service.api.auth import require_writer
from isnad.service.api.errors import WRITE_RESPONSES, ErrorOut, error_json
from isnad.service.api.routes.jobs import await_job, submit
from isnad.service.live import LiveIndex
from isnad.service.writes import Job

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
async def reload_index(request: Request, live: LiveDep) -> ReloadOut | JSONResponse:
    """Re-read the index folder (e.g. after `isnad index`) and swap it in; requests in flight finish on the old one.

    Queued with the writes (service/writes.py), so a reload never holds a thread that reads need.
    """
    scoped.default_live(request)  # a key without the default collection may not reload it

    def run(_: Job) -> ReloadOut:
        index = live.reload().index
        return ReloadOut(status="reloaded", documents=len(index.documents), chunks=index.passage_count(),
                         model=index.manifest.model)

    try:
        result: ReloadOut | None = await await_job(request, submit(request, Job("reload", run)))
    except IndexLoadError as exc:
        raise HTTPException(status_code=500, detail=f"reload failed, still serving the previous index: {exc}") from exc
    return result if result is not None else error_json(503, "the client disconnected")
