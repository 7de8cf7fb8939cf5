"""The FastAPI application: routes, the chat page, and error shapes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from isnad.service.api.access_log import AccessLog, open_log
from isnad.service.api.auth import Access, FailedAttempts, KeyRing, unscoped_path
from isnad.service.api.errors import COMMON_RESPONSES, capped_validation_errors, install_error_handlers
from isnad.service.api.limits import BodySizeLimit
from isnad.service.api.routes import admin, ask, documents, health, jobs, metrics, search
from isnad.service.api.routes import collections as collections_routes
from isnad.service.api.security import SecurityHeaders
from isnad.service.collections import DEFAULT_NAME, Collections
from isnad.service.live import LiveIndex
from isnad.service.settings import Settings
from isnad.service.state import ServiceState
from isnad.service.writes import WriteQueue

STATIC = Path(__file__).resolve().parent.parent / "static"
# Swagger UI 5 (OpenAPI 3.1), shipped inside the fastapi-offline package: /docs works offline, without a CDN.
# Only its files are used: its page has an inline script, which our CSP forbids (see static/docs.html).
DOCS_ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"


def create_app(state: ServiceState | None = None, settings: Settings | None = None,
               collections: Mapping[str, Path] | None = None) -> FastAPI:
    """`collections`: name -> index folder, the first the default (`state` is its state when given); None:
    `state` alone, named "default"."""
    settings = settings or Settings()
    writes = WriteQueue(settings.write_queue_size)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        writes.stop()  # queued writes are dropped, the running one stops before it changes the index

    # FastAPI's own /docs and /redoc load their scripts from a CDN; ours come from a package (see DOCS_ASSETS).
    app = FastAPI(title="Isnad", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Search and question answering over Arabic news, cited to the character.")
    app.state.isnad = state
    app.state.settings = settings
    app.state.keyring = KeyRing(settings.keys_file)
    app.state.live = LiveIndex(app.state)
    if collections:
        app.state.collections = Collections.open(collections, app.state, settings)
    else:
        app.state.collections = Collections({DEFAULT_NAME: app.state.live})
    app.state.writes = writes
    install_error_handlers(app)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Keep FastAPI's list (clients parse it), capped, and add one sentence a person can act on.
        errors, message = capped_validation_errors(exc.errors())
        return JSONResponse(status_code=422, content={"detail": errors, "message": message})

    for module in (health, search, ask, documents, collections_routes, jobs, admin, metrics):
        app.include_router(module.router, responses=COMMON_RESPONSES)
    _install_middleware(app, settings)
    app.add_middleware(SecurityHeaders)  # on every response, errors and refusals included
    app.add_middleware(metrics.MetricsMiddleware)  # outermost: times and counts every response

    if STATIC.is_dir():
        app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/docs-assets", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")

    @app.get("/", include_in_schema=False)
    def chat_page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    @app.get("/docs", include_in_schema=False)
    def api_docs() -> FileResponse:
        return FileResponse(STATIC / "docs.html", media_type="text/html")

    return app


def _install_middleware(app: FastAPI, settings: Settings) -> None:
    def limit_for(method: str, path: str) -> int:
        ingest = (method, unscoped_path(path)) == ("POST", "/documents")  # a collection's too
        return settings.max_ingest_bytes if ingest else settings.max_body_bytes

    app.add_middleware(BodySizeLimit, limit_for=limit_for, max_headers=settings.max_header_count,
                       body_timeout=settings.timeout_body_read_s)
    attempts = FailedAttempts(settings.auth_failure_limit, settings.auth_failure_window_s)
    # outside BodySizeLimit: the key is checked before the body
    app.add_middleware(Access, settings=settings, ring=app.state.keyring, attempts=attempts)
    # outside Access: refusals are logged too
    app.add_middleware(AccessLog, settings=settings, out=open_log(settings.access_log))
    if settings.cors_origin_list:  # no CORS headers at all unless origins are configured
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origin_list,
                           allow_methods=["GET", "POST", "DELETE"], allow_headers=["Authorization", "Content-Type"])
