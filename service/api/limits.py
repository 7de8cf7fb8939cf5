"""Request head and body limits, as pure ASGI middleware so an oversized body is never read whole.

A declared Content-Length over the limit is refused before reading anything; bodies without one (chunked)
are counted while streaming and refused as soon as they pass the limit. Accepted bodies are at most the
limit, so buffering them for the app is bounded. A body that trickles in slower than `body_timeout` allows
is refused with 408, and a head with more than `max_headers` headers with 431 (h11 bounds their bytes).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

LimitFor = Callable[[str, str], int]  # (method, path) -> max body bytes


class BodySizeLimit:
    def __init__(self, app: ASGIApp, limit_for: LimitFor, max_headers: int = 100,
                 body_timeout: float = 60.0) -> None:
        self.app = app
        self.limit_for = limit_for
        self.max_headers = max_headers
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope["headers"]) > self.max_headers:
            await refuse(send, 431, f"the request has {len(scope['headers'])} headers; the limit is {self.max_headers}")
            return
        limit = self.limit_for(scope["method"], scope["path"])
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            if not declared.isdigit():
                await refuse(send, 400, "Content-Length is not a number")
                return
            if int(declared) > limit:
                await refuse(send, 413, f"request body is {int(declared)} bytes; the limit is {limit}")
                return
        chunks: list[bytes] = []
        total = 0
        try:
            async with asyncio.timeout(self.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] != "http.request":
                        return  # client went away before sending the body
                    body = message.get("body", b"")
                    total += len(body)
                    if total > limit:
                        await refuse(send, 413, f"request body exceeds the limit of {limit} bytes")
                        return
                    chunks.append(body)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            await refuse(send, 408, f"the request body did not arrive within {self.body_timeout:g} s")
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # e.g. waiting for http.disconnect
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)


async def refuse(send: Send, status: int, message: str, headers: dict[str, str] | None = None) -> None:
    """Answer without reading the body, and close the connection so the rest of it is never read either."""
    body = json.dumps({"detail": message, "message": message}).encode()
    extra = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *extra]})
    await send({"type": "http.response.body", "body": body})


class StatusOf:
    """A `send` that remembers the response's status (500 until one is sent: the app raised)."""

    def __init__(self, send: Send) -> None:
        self.send, self.status = send, 500

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
        await self.send(message)
