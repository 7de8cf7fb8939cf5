"""Who may read and who may write.

Writes need ISNAD_API_KEY or a write-scope key of the keys file (ISNAD_KEYS_FILE); with neither the API is
read-only. Reads are open until the keys file holds a key; then every read route needs a read or write key.
Open always: `/health` (status only, without a key), the chat page and its assets, `/docs` and the OpenAPI
document (they describe the API, not the archive).

Checked from the request head by `Access` (ASGI middleware), before a byte of the body is read or parsed (a
19.8 MB junk body used to be parsed first, +550 MB per request); `require_writer` (a route dependency) keeps
the rule visible on each write route and in the OpenAPI document. Failed attempts are counted per client and
refused with 429 past a limit, so keys cannot be guessed at line rate.
"""

from __future__ import annotations

import hmac
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import HTTPException, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from isnad.service import keys
from isnad.service.api.limits import refuse
from isnad.service.api.proxy import TrustedProxies
from isnad.service.settings import Settings

log = logging.getLogger(__name__)

READ_ONLY = "the service is read-only: set ISNAD_API_KEY or add a write key (isnad keys add --scope write)"
WRONG_KEY = "missing or wrong API key: send Authorization: Bearer <key>"
READ_SCOPE = "this key may only read: writes need a write-scope key in Authorization: Bearer <key>"
TOO_MANY = "too many failed key attempts from this client: wait and retry with a valid key"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="isnad"'}
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_WRITE_PREFIXES = ("/documents", "/admin/", "/jobs")
_OPEN_PATHS = frozenset({"/", "/health", "/docs", "/openapi.json", "/favicon.ico"})
_OPEN_PREFIXES = ("/static/", "/docs-assets/")


class KeyRing:
    """The keys file's records, re-read when the file changes (one stat per request), so `isnad keys add` or
    `revoke` reaches a running server without a restart. A damaged file keeps the last good keys."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._records: list[keys.KeyRecord] = []
        self._lock = threading.Lock()

    def records(self) -> list[keys.KeyRecord]:
        if self.path is None:
            return []
        try:
            st = self.path.stat()
            stamp = (st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._records = keys.load(self.path) if stamp else []
                    self._stamp = stamp
                except (OSError, keys.KeyFileError) as exc:
                    log.error("keys file %s unreadable, keeping the previous keys: %s", self.path, exc)
            return self._records


GRANT = "isnad.grant"  # where Access leaves the request's Grant in the ASGI scope


@dataclass(frozen=True)
class Grant:
    """What the request's key allows: its id (for the access log, never the key), its scope, and its
    collections (None: all of them)."""

    key_id: str | None
    scope: keys.Scope | None
    collections: tuple[str, ...] | None = None

    def holds(self, collection: str) -> bool:
        return self.collections is None or collection in self.collections


def unscoped_path(path: str) -> str:
    """/collections/{name}/rest -> /rest: a collection's routes need what the default's do."""
    if path.startswith("/collections/"):
        rest = path[len("/collections/"):].partition("/")[2]
        return "/" + rest if rest else "/collections"
    return path


def needed_scope(method: str, path: str) -> keys.Scope | None:
    """The scope a request needs, or None for the open routes."""
    path = unscoped_path(path)
    if (method in _WRITE_METHODS and path.startswith(_WRITE_PREFIXES)) or path.startswith("/jobs"):
        return "write"
    if path in _OPEN_PATHS or path.startswith(_OPEN_PREFIXES):
        return None
    return "read"


def grant_of(settings: Settings, records: list[keys.KeyRecord], authorization: str) -> Grant:
    """What the bearer token grants. Both checks always run: the time taken says nothing of which key, if
    any, came close. ISNAD_API_KEY writes every collection; with no keys file entry, reads are open to all."""
    scheme, _, token = authorization.partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    write_key = settings.api_key.get_secret_value() if settings.api_key else ""
    env_match = bool(write_key) & hmac.compare_digest(token.encode(), write_key.encode())
    record = keys.match(records, token) if token else None
    if env_match:
        return Grant("ISNAD_API_KEY", "write")
    if record is not None:
        return Grant(record.id, record.scope, record.collections)
    return Grant(None, None if records else "read")  # open reads until read keys exist


def granted_scope(settings: Settings, records: list[keys.KeyRecord], authorization: str) -> keys.Scope | None:
    """The scope the bearer token grants (None: no valid key)."""
    grant = grant_of(settings, records, authorization)
    return grant.scope if grant.key_id is not None else None


def auth_problem(settings: Settings, records: list[keys.KeyRecord], authorization: str,
                 needed: keys.Scope | None) -> tuple[int, str] | None:
    """(status, message) when `authorization` does not allow what the request needs, else None. `records`:
    the keys file's keys, read once per request."""
    if needed is None:
        return None
    granted = granted_scope(settings, records, authorization)
    if keys.allows(granted, needed):
        return None
    if needed == "read":
        return None if not records else (401, WRONG_KEY)
    if not settings.api_key and not any(r.scope == "write" for r in records):
        return 403, READ_ONLY
    return (403, READ_SCOPE) if granted == "read" else (401, WRONG_KEY)


class FailedAttempts:
    """Failed key attempts per client in a sliding window; `clock` is injectable so tests need no sleeps."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self.clock = limit, window_s, clock
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str) -> deque[float]:
        times = self._seen.setdefault(client, deque())
        while times and times[0] <= self.clock() - self.window_s:
            times.popleft()
        if not times:
            del self._seen[client]  # no memory kept for clients that stopped failing
            return deque()
        return times

    def retry_after(self, client: str) -> int | None:
        """Seconds until `client` may try again, or None when it is not locked out."""
        with self._lock:
            times = self._recent(client)
            if len(times) < self.limit:
                return None
            return max(1, int(times[-self.limit] + self.window_s - self.clock()) + 1)

    def record(self, client: str) -> None:
        with self._lock:
            self._seen.setdefault(client, deque()).append(self.clock())


def require_writer(request: Request) -> None:
    problem = auth_problem(request.app.state.settings, request.app.state.keyring.records(),
                           request.headers.get("authorization", ""), "write")
    if problem is not None:
        status, message = problem
        raise HTTPException(status_code=status, detail=message, headers=CHALLENGE if status == 401 else None)


def request_grant(request: Request) -> Grant:
    """The request's Grant (computed by Access; computed here for the open routes)."""
    grant = request.scope.get(GRANT)
    if grant is None:
        grant = grant_of(request.app.state.settings, request.app.state.keyring.records(),
                         request.headers.get("authorization", ""))
        request.scope[GRANT] = grant
    return grant  # type: ignore[no-any-return]


def may_read(request: Request) -> bool:
    """Whether this request may see the archive's figures (open when no read key is configured)."""
    return auth_problem(request.app.state.settings, request.app.state.keyring.records(),
                        request.headers.get("authorization", ""), "read") is None


class Access:
    """Refuses a request its key does not allow, from the request head; the body is never read."""

    def __init__(self, app: ASGIApp, settings: Settings, ring: KeyRing, attempts: FailedAttempts) -> None:
        self.app, self.settings, self.ring, self.attempts = app, settings, ring, attempts
        self.proxies = TrustedProxies.parse(settings.trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            needed = needed_scope(scope["method"], scope["path"])
            records = self.ring.records()
            if needed == "read" and not records:
                needed = None  # reads are open until read keys exist: a lockout must not close them
            if needed is not None:
                client = self.proxies.client_of(scope)  # behind a trusted proxy: the real client
                wait = self.attempts.retry_after(client)
                if wait is not None:
                    await refuse(send, 429, TOO_MANY, {"Retry-After": str(wait)})
                    return
                authorization = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
                problem = auth_problem(self.settings, records, authorization.decode("latin-1"), needed)
                if problem is not None:
                    status, message = problem
                    if status == 401:
                        self.attempts.record(client)
                    await refuse(send, status, message, CHALLENGE if status == 401 else None)
                    return
                scope[GRANT] = grant_of(self.settings, records, authorization.decode("latin-1"))
        await self.app(scope, receive, send)
