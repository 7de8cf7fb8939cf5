"""The access log: one JSON line per keyed request, for a newsroom to see who read which collection.

A line holds the time, the real client (service/api/proxy.py), the key's id (never the key), the method,
the route's template, the collection(s) acted on, the status and the duration. The question or query text
is left out unless `access_log_questions` is set: a newsroom's questions can be as sensitive as its archive.
Only requests that present a key are logged (a wrong one too); open routes (the chat page, /health, /docs)
never are.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import UTC, datetime
from typing import TextIO

from starlette.types import ASGIApp, Receive, Scope, Send

from isnad.service.api.auth import GRANT, Grant, needed_scope
from isnad.service.api.limits import StatusOf
from isnad.service.api.proxy import TrustedProxies
from isnad.service.api.scoped import COLLECTIONS, QUESTION
from isnad.service.settings import Settings


def open_log(target: str) -> TextIO | None:
    """"-": stderr; "": none; else the file, appended to line by line."""
    if not target:
        return None
    if target == "-":
        return sys.stderr
    return open(target, "a", encoding="utf-8", buffering=1)  # kept open for the app's life


class AccessLog:
    def __init__(self, app: ASGIApp, settings: Settings, out: TextIO | None) -> None:
        self.app, self.out = app, out
        self.questions = settings.access_log_questions
        self.proxies = TrustedProxies.parse(settings.trusted_proxies)
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.out is None or scope["type"] != "http" or needed_scope(scope["method"], scope["path"]) is None \
                or not any(k == b"authorization" for k, _ in scope["headers"]):  # keyed requests only
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        sent = StatusOf(send)
        try:
            await self.app(scope, receive, sent)
        finally:
            self.write(scope, sent.status, time.perf_counter() - started)

    def write(self, scope: Scope, status: int, seconds: float) -> None:
        grant: Grant | None = scope.get(GRANT)
        line = {
            "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "client": self.proxies.client_of(scope),
            "key": grant.key_id if grant is not None else None,
            "method": scope["method"],
            "route": getattr(scope.get("route"), "path", None) or scope["path"][:200],
            "collections": scope.get(COLLECTIONS) or [],
            "status": status,
            "ms": round(seconds * 1000, 1),
        }
        if self.questions and scope.get(QUESTION):
            line["question"] = scope[QUESTION]
        assert self.out is not None
        with self._lock:
            self.out.write(json.dumps(line, ensure_ascii=False) + "\n")
            self.out.flush()
