"""The FastAPI application: routes, the chat page, and error shapes."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from service.api.errors import COMMON_RESPONSES, install_error_handlers
from service.api.limits import BodySizeLimit
from service.api.routes import admin, ask, documents, health, metrics, search
from service.api.security import SecurityHeaders
from service.live import LiveIndex
from service.settings import Settings
from service.state import ServiceState

STATIC = Path(__file__).resolve().parent.parent / "static"
# Swagger UI 5 (OpenAPI 3.1), shipped inside the fastapi-offline package: /docs works offline, without a CDN.
# Only its files are used: its page has an inline script, which our CSP forbids (see static/docs.html).
DOCS_ASSETS = Path(fastapi_offline.__file__).resolve().parent / "static"


def _readable(errors: list[dict[str, object]]) -> str:
    parts = []
    for err in errors:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)


def create_app(state: ServiceState | None = None, settings: Settings | None = None) -> FastAPI:
    # FastAPI's own /docs and /redoc load their scripts from a CDN; ours come from a package (see DOCS_ASSETS).
    app = FastAPI(title="Isnad", version="0.1.0", docs_url=None, redoc_url=None,
                  description="Search and question answering over Arabic news, cited to the character.")
    app.state.isnad = state
    app.state.settings = settings = settings or Settings()
    app.state.live = LiveIndex(app.state)
    install_error_handlers(app)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Keep FastAPI's list (clients parse it) and add one sentence a person can act on.
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return JSONResponse(status_code=422, content={"detail": errors, "message": _readable(errors)})

    for module in (health, search, ask, documents, admin, metrics):
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
        return settings.max_ingest_bytes if (method, path) == ("POST", "/documents") else settings.max_body_bytes

    app.add_middleware(BodySizeLimit, limit_for=limit_for)
    if settings.cors_origin_list:  # no CORS headers at all unless origins are configured
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origin_list,
                           allow_methods=["GET", "POST", "DELETE"], allow_headers=["Authorization", "Content-Type"])
