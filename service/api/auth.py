"""Who may write: only callers presenting ISNAD_API_KEY as a bearer token; no key configured = read-only.

Checked twice: `WriteAuth` (ASGI middleware) refuses an unauthenticated write from its headers alone, before a
byte of its body is read or parsed (a 19.8 MB junk body used to be parsed first, +550 MB per request);
`require_writer` (a route dependency) keeps the rule visible on each route and in the OpenAPI document.
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from isnad.service.api.limits import refuse
from isnad.service.settings import Settings

READ_ONLY = "the service is read-only: set ISNAD_API_KEY to enable writes"
WRONG_KEY = "missing or wrong API key: send Authorization: Bearer <key>"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="isnad"'}
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_WRITE_PREFIXES = ("/documents", "/admin/", "/jobs")


def auth_problem(settings: Settings, authorization: str) -> tuple[int, str] | None:
    """(status, message) when `authorization` does not allow writing, else None."""
    key = settings.api_key.get_secret_value() if settings.api_key else ""
    if not key:
        return 403, READ_ONLY
    scheme, _, token = authorization.partition(" ")
    # compare_digest: the time taken must not reveal how much of the key matched.
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), key.encode()):
        return 401, WRONG_KEY
    return None


def require_writer(request: Request) -> None:
    problem = auth_problem(request.app.state.settings, request.headers.get("authorization", ""))
    if problem is not None:
        status, message = problem
        raise HTTPException(status_code=status, detail=message, headers=CHALLENGE if status == 401 else None)


def is_write(method: str, path: str) -> bool:
    return method in _WRITE_METHODS and path.startswith(_WRITE_PREFIXES)


class WriteAuth:
    """Refuses unauthenticated writes from the request head; the connection is closed, the body never read."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and is_write(scope["method"], scope["path"]):
            authorization = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
            problem = auth_problem(self.settings, authorization.decode("latin-1"))
            if problem is not None:
                status, message = problem
                await refuse(send, status, message, CHALLENGE if status == 401 else None)
                return
        await self.app(scope, receive, send)
