"""Write jobs: how write routes hand work to the write queue (service/writes.py), and `/jobs/{id}` to follow one.

A write route enqueues a job and either awaits it (small writes: 200 with the result) or answers
`202 Accepted` with the job (large writes, or `Prefer: respond-async`) for the client to poll and cancel.
While a client waits, its disconnect is watched: a write whose client has gone is dropped if not yet started.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from isnad.indexer.changes import UnknownDocumentError
from isnad.indexer.index import IndexLoadError
from isnad.indexer.lock import IndexBusy, IndexWriteError
from isnad.service.api.auth import request_grant, require_writer
from isnad.service.api.errors import WRITE_RESPONSES, Busy, ErrorOut, LimitExceeded
from isnad.service.writes import Job, QueueFull, WriteCancelled, WriteQueue

router = APIRouter(tags=["jobs"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut, "description": "unknown or expired job id"}}


class JobOut(BaseModel):
    id: str
    kind: str
    state: str  # queued, running, done, failed, cancelled
    documents: int
    total_chunks: int | None  # known once the job has chunked its documents
    embedded_chunks: int
    cancel_requested: bool
    result: dict[str, Any] | None  # the write's report when done
    error: str | None  # why it failed or was cancelled
    error_status: int | None  # the HTTP status the same failure gets on a synchronous write


def get_writes(request: Request) -> WriteQueue:
    writes: WriteQueue = request.app.state.writes
    return writes


WritesDep = Annotated[WriteQueue, Depends(get_writes)]


def error_status(error: BaseException | None) -> int | None:
    """The status a synchronous write answers for the same failure."""
    if error is None:
        return None
    if isinstance(error, LimitExceeded):
        return 413
    if isinstance(error, UnknownDocumentError):
        return 404
    if isinstance(error, ValueError):
        return 422
    # Another writer, a refused disk or a damaged folder: the old index keeps serving, retry later
    if isinstance(error, WriteCancelled | Busy | IndexBusy | IndexWriteError | IndexLoadError):
        return 503
    return 500


def job_out(job: Job) -> JobOut:
    result = job.result.model_dump() if isinstance(job.result, BaseModel) else None
    return JobOut(id=job.id, kind=job.kind, state=job.state, documents=job.documents, total_chunks=job.total_chunks,
                  embedded_chunks=job.embedded_chunks, cancel_requested=job.cancel_reason is not None,
                  result=result, error=str(job.error) if job.error else None, error_status=error_status(job.error))


def submit(request: Request, job: Job, collection: str | None = None) -> Job:
    writes = get_writes(request)
    job.collection = collection
    retry = request.app.state.settings.write_retry_after_s
    try:
        return writes.submit(job)
    except QueueFull as exc:
        raise Busy(f"too many writes in progress: {exc}; retry after {retry} s", retry) from exc
    except WriteCancelled as exc:
        raise Busy(f"{exc}; retry after {retry} s", retry) from exc


def accepted(job: Job) -> JSONResponse:
    return JSONResponse(status_code=202, content=job_out(job).model_dump(), headers={"Location": f"/jobs/{job.id}"})


async def await_job(request: Request, job: Job) -> Any:
    """The job's result (or its exception). If the client disconnects first, a job not yet started is dropped."""
    done = asyncio.wrap_future(job.future)
    gone = asyncio.ensure_future(_disconnected(request))
    try:
        await asyncio.wait({done, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
    if not done.done():  # nobody will read the answer; a running write finishes (it may be nearly done)
        get_writes(request).drop_if_queued(job, "the client disconnected before the write started")
        done.add_done_callback(lambda f: f.cancelled() or f.exception())  # no "exception never retrieved"
        return None
    try:
        return done.result()
    except WriteCancelled as exc:
        retry = request.app.state.settings.write_retry_after_s
        raise Busy(f"{exc}; retry after {retry} s", retry) from exc


async def _disconnected(request: Request) -> None:
    while (await request.receive())["type"] != "http.disconnect":
        pass


@router.get("/jobs/{job_id}", response_model=JobOut, dependencies=[Depends(require_writer)],
            responses={**WRITE_RESPONSES, **NOT_FOUND})
def get_job(job_id: str, writes: WritesDep, request: Request) -> JobOut:
    """Progress of a write accepted with 202: state, chunks embedded of the total, then the result or error."""
    return job_out(_job(writes, job_id, request))


@router.delete("/jobs/{job_id}", response_model=JobOut, dependencies=[Depends(require_writer)],
               responses={**WRITE_RESPONSES, **NOT_FOUND})
def cancel_job(job_id: str, writes: WritesDep, request: Request) -> JobOut:
    """Cancel a write: a queued one is dropped, a running one stops before it changes the index."""
    job = _job(writes, job_id, request)
    writes.cancel(job, "cancelled by DELETE /jobs")
    return job_out(job)


def _job(writes: WriteQueue, job_id: str, request: Request) -> Job:
    job = writes.get(job_id)
    # a job of a collection the key does not hold is as unknown as a missing one
    if job is None or (job.collection is not None and not request_grant(request).holds(job.collection)):
        raise HTTPException(status_code=404, detail=f"no job with id {job_id!r} (finished jobs are kept for a while)")
    return job
