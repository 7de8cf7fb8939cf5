"""Cheap refusals: the key is checked before the body is read, error bodies are capped, heads and slow
bodies are bounded. The floods of the same vectors against a real server are in test_floods.py."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from isnad.service.api.main import create_app
from isnad.service.settings import Settings
from isnad.service.state import ServiceState

KEY = "limits-key"


def _keys_body(n: int) -> bytes:
    """A /search body with n unknown filter keys, as short as JSON allows (105,000 keys: about 0.9 MB)."""
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"

    def b36(i: int) -> str:
        out = ""
        while True:
            i, r = divmod(i, 36)
            out = digits[r] + out
            if not i:
                return out

    return json.dumps({"query": "أستانا", "filters": {b36(i): 0 for i in range(n)}}, separators=(",", ":")).encode()


def test_105000_unknown_filter_keys_get_a_short_error_naming_the_count(client: TestClient) -> None:
    body = _keys_body(105_000)
    assert len(body) < 1_000_000  # under the body limit: this is about the error, not the size
    response = client.post("/search", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert len(response.content) < 2000, len(response.content)  # was 15 MB, every key listed
    message = response.json()["message"]
    assert "105000 in all" in message and "round" in message


def test_many_problems_are_capped_to_the_first_few_and_the_count(client: TestClient) -> None:
    body = {"question": "", "k": "x", "filters": {"round": "a", "doc_id": 5, "published_from": "no",
                                                  "published_to": "never"}}
    response = client.post("/ask", json=body)
    assert response.status_code == 422
    out = response.json()
    assert len(out["detail"]) == 5 and "(and 1 more problems: 6 in all)" in out["message"]


def test_a_huge_key_name_is_not_echoed_whole(client: TestClient) -> None:
    response = client.post("/search", json={"query": "x", "filters": {"k" * 500_000: 1}})
    assert response.status_code == 422 and len(response.content) < 2000


def _call(app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]],
          receive_body: bytes | None = None) -> tuple[int, dict[str, Any], bool]:
    """Runs one request through the ASGI app; returns (status, json body, whether the body was read)."""
    read = False
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        read = True
        if receive_body is None:
            await asyncio.sleep(3600)  # a client that never sends its body
        return {"type": "http.request", "body": receive_body or b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": headers, "http_version": "1.1", "scheme": "http", "root_path": "",
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
    # On a thread of its own: another test's sync Playwright may still run an event loop on this one
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, app(scope, receive, send)).result()
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], json.loads(body), read


@pytest.mark.parametrize(("key", "sent", "status"), [
    (KEY, b"", 401), (KEY, b"Bearer wrong", 401), (None, b"Bearer anything", 403)])
@pytest.mark.parametrize(("method", "path"), [("POST", "/documents"), ("DELETE", "/documents/x"),
                                              ("POST", "/admin/reload"), ("DELETE", "/jobs/x")])
def test_the_key_is_checked_before_the_body_is_read(service_state: ServiceState, key: str | None, sent: bytes,
                                                    status: int, method: str, path: str) -> None:
    app = create_app(service_state, Settings(api_key=key))
    headers = [(b"content-type", b"application/json"), (b"content-length", b"19800000")]
    headers += [(b"authorization", sent)] if sent else []
    code, body, read = _call(app, method, path, headers, receive_body=b"\x00junk" * 1000)
    assert code == status and body["message"]
    assert not read  # a 19.8 MB junk body used to be read and parsed before the key check


def test_a_body_that_never_arrives_is_408(service_state: ServiceState) -> None:
    app = create_app(service_state, Settings(timeout_body_read_s=0.2))
    code, body, read = _call(app, "POST", "/search", [(b"content-type", b"application/json")])
    assert code == 408 and "did not arrive" in body["message"] and read


def test_too_many_headers_is_431(service_state: ServiceState) -> None:
    app = create_app(service_state, Settings(max_header_count=20))
    code, body, _ = _call(app, "GET", "/health", [(f"x-h{i}".encode(), b"1") for i in range(21)], receive_body=b"")
    assert code == 431 and "limit is 20" in body["message"]
