"""`GET /metrics` in Prometheus text format, and the middleware that counts and times every request."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Receive, Scope, Send

from isnad.service.api.limits import StatusOf
from isnad.service.metrics import (
    INDEX_BYTES,
    INDEX_CHUNKS,
    INDEX_DOCUMENTS,
    LATENCY,
    QUERY_CACHE_ENTRIES,
    QUERY_CACHE_HIT_RATIO,
    REGISTRY,
    REQUESTS,
    WRITES_DROPPED,
    WRITES_RUNNING,
    WRITES_WAITING,
)
from isnad.service.query_cache import CachedQueryEmbedder

router = APIRouter(tags=["metrics"])
UNMATCHED = "<unmatched>"  # one label for every unknown path: raw paths would explode the series count
_bytes_cache: dict[Path, int] = {}


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    state = getattr(request.app.state, "isnad", None)
    if state is not None:
        index = state.index
        INDEX_DOCUMENTS.set(len(index.documents))
        INDEX_CHUNKS.set(index.passage_count())
        data = index.folder / index.manifest.data
        if data not in _bytes_cache:  # a data folder never changes once written; a new build is a new folder
            _bytes_cache[data] = sum(p.stat().st_size for p in data.rglob("*") if p.is_file())
        INDEX_BYTES.set(_bytes_cache[data])
        cache = state.embedder
        if isinstance(cache, CachedQueryEmbedder):
            QUERY_CACHE_HIT_RATIO.set(cache.hit_rate)
            QUERY_CACHE_ENTRIES.set(len(cache))
    writes = getattr(request.app.state, "writes", None)
    if writes is not None:
        WRITES_WAITING.set(writes.waiting)
        WRITES_RUNNING.set(1 if writes.running else 0)
        WRITES_DROPPED.set(writes.dropped)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Pure ASGI (no per-request task like BaseHTTPMiddleware): labels by the matched route's template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        sent = StatusOf(send)
        try:
            await self.app(scope, receive, sent)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            method = scope.get("method", "")
            REQUESTS.labels(method, route, str(sent.status)).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - started)
