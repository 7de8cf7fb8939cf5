"""The HTTP server: uvicorn on h11 with every limit set explicitly, and a SIGTERM that stops writes first.

Limits (Settings, env ISNAD_*; README "Limits"):
- request head bytes: h11's `max_incomplete_event_size` (uvicorn `h11_max_incomplete_event_size`). h11, not
  httptools: httptools has no head-size limit, and ten clients sending endless headers took 1.8 GB;
- header count: `BodySizeLimit` (431); body bytes and body read time: `BodySizeLimit` (413, 408);
- connections: uvicorn `limit_concurrency` (503 beyond it) and `backlog`;
- idle keep-alive: uvicorn `timeout_keep_alive`; head read time: `GuardedH11Protocol` below (uvicorn has no
  such timeout: a connection that never finished its head stayed open, and 20,000 used up the file handles);
- shutdown: uvicorn `timeout_graceful_shutdown`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from isnad.service.settings import Settings


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus a head-read timeout: a connection gets `timeout_header_read_s` to deliver
    each request line and headers (from connect, or from its first byte after a keep-alive pause), else it
    is closed. uvicorn's keep-alive timer still closes connections that stay idle between requests."""

    header_timeout: float = 10.0  # set per server by `protocol_class`

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE and self._head_timer is None:
            self._arm_head_timer()  # the first bytes of the next request on a kept-alive connection
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:
            self._disarm_head_timer()  # the head is complete: the request is the app's now

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._head_timer = self.loop.call_later(self.header_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def protocol_class(settings: Settings) -> type[GuardedH11Protocol]:
    return type("IsnadH11Protocol", (GuardedH11Protocol,), {"header_timeout": settings.timeout_header_read_s})


def uvicorn_config(app: Any, settings: Settings, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app, host=host, port=port, log_level="warning",
        http=protocol_class(settings),
        h11_max_incomplete_event_size=settings.max_header_bytes,
        limit_concurrency=settings.max_connections,
        backlog=settings.backlog,
        timeout_keep_alive=settings.timeout_keep_alive_s,
        timeout_graceful_shutdown=settings.timeout_graceful_shutdown_s,
    )


class IsnadServer(uvicorn.Server):
    """uvicorn's server; SIGTERM/SIGINT also stop the write queue, so a running write ends at its next
    embedding batch (nothing written, the old generation stays) instead of holding the shutdown for hours."""

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_exit = on_exit

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # A signal handler must not take locks the interrupted code may hold: stop the queue from a thread.
        threading.Thread(target=self.on_exit, name="isnad-stop-writes", daemon=True).start()
        super().handle_exit(sig, frame)


def serve(app: Any, settings: Settings, host: str, port: int) -> None:
    IsnadServer(uvicorn_config(app, settings, host, port), on_exit=app.state.writes.stop).run()
