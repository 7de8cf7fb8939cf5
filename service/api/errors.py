"""Error bodies: every 4xx/5xx carries `detail` (FastAPI's shape) and `message` (one sentence to act on).

The models are declared in the OpenAPI schema so clients (and schemathesis) can rely on them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException  # the base class: routing 404/405 too

from isnad.indexer.index import IndexLoadError
from isnad.indexer.lock import IndexBusy, IndexWriteError
from isnad.indexer.stores import StoreError


class ErrorOut(BaseModel):
    detail: str
    message: str


class ValidationIssue(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    detail: list[ValidationIssue]
    message: str


def _doc(model: type[BaseModel], description: str) -> dict[str, Any]:
    return {"model": model, "description": description}


# Declared on every route: what any request may get back besides its 200.
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _doc(ErrorOut, "the body could not be read (not UTF-8, bad Content-Length)"),
    408: _doc(ErrorOut, "the request body arrived too slowly"),
    413: _doc(ErrorOut, "request body too large"),
    422: _doc(ValidationErrorOut, "invalid input; `message` says what to fix (the first few problems and the count)"),
    401: _doc(ErrorOut, "missing or wrong key (Authorization: Bearer …): reads need one once read keys exist"),
    429: _doc(ErrorOut, "too many failed key attempts from this client (see Retry-After)"),
    431: _doc(ErrorOut, "too many request headers"),
    503: _doc(ErrorOut, "the index is not loaded yet, another writer holds it, the service is busy or "
                        "shutting down (see Retry-After), the disk refused a write (full, read-only), or the "
                        "vector store's server (Milvus) did not answer; `message` names the cause"),
}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: _doc(ErrorOut, "missing or wrong API key (Authorization: Bearer …)"),
    403: _doc(ErrorOut, "the service is read-only (no write key configured), or the key may only read"),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _doc(ErrorOut, "unknown doc_id")}


class LimitExceeded(Exception):
    """A request asks for more than a configured limit allows; the message names the limit (HTTP 413)."""


class Busy(Exception):
    """The service cannot take this now; the client should retry after `retry_after` seconds (HTTP 503)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


STORE_RETRY_AFTER_S = 2
# A body with 105,000 unknown filter keys once got a 15 MB error listing every key: report the first few.
MAX_REPORTED_PROBLEMS = 5


def _short(value: object, limit: int = 80) -> str | int:
    """Keys and messages may echo the input: a 900 KB key must not come back whole."""
    if isinstance(value, int):
        return value
    text = str(value)
    return text if len(text) <= limit else text[:limit] + f"…({len(text)} chars)"


def capped_validation_errors(errors: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """The first few problems (each part shortened) for `detail`, and one sentence naming them and the count."""
    shown = [{"loc": [_short(p) for p in e.get("loc", ())], "msg": str(_short(e.get("msg", "invalid"), 400)),
              "type": str(e.get("type", "value_error"))} for e in errors[:MAX_REPORTED_PROBLEMS]]
    parts = []
    for err in shown:
        loc = ".".join(str(p) for p in err["loc"] if p not in ("body", "query", "path"))
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    message = "; ".join(parts)
    if len(errors) > len(shown):
        message += f" (and {len(errors) - len(shown)} more problems: {len(errors)} in all)"
    return shown, message


def error_json(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": message, "message": message}, headers=headers)


_FASTAPI_BODY_ERROR = "There was an error parsing the body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        detail = str(exc.detail)
        if exc.status_code == 400 and detail == _FASTAPI_BODY_ERROR:  # FastAPI's words for a non-UTF-8 body
            detail = "the request body could not be parsed: send UTF-8 encoded JSON"
        return error_json(exc.status_code, detail, dict(exc.headers) if exc.headers else None)

    @app.exception_handler(IndexBusy)
    async def index_busy(_: Request, exc: IndexBusy) -> JSONResponse:
        return error_json(503, str(exc), {"Retry-After": str(exc.retry_after)})

    @app.exception_handler(IndexWriteError)
    async def write_refused(_: Request, exc: IndexWriteError) -> JSONResponse:
        return error_json(503, str(exc))  # the old index keeps serving; an operator has to free or fix the disk

    @app.exception_handler(IndexLoadError)
    async def unreadable(_: Request, exc: IndexLoadError) -> JSONResponse:
        # A write found the folder's index unusable (damaged beyond the previous generation); still serving
        return error_json(503, f"{exc}; still serving the index loaded before")

    @app.exception_handler(StoreError)
    async def store_down(_: Request, exc: StoreError) -> JSONResponse:
        # Milvus down or restarting (the message names its uri): transient, the next request tries it again
        return error_json(503, str(exc), {"Retry-After": str(STORE_RETRY_AFTER_S)})

    @app.exception_handler(LimitExceeded)
    async def limit_exceeded(_: Request, exc: LimitExceeded) -> JSONResponse:
        return error_json(413, str(exc))

    @app.exception_handler(Busy)
    async def busy(_: Request, exc: Busy) -> JSONResponse:
        return error_json(503, str(exc), {"Retry-After": str(exc.retry_after)})
