"""The real server process, over real HTTP on loopback."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import ROUND_FOUR_AGREEMENT
from tests.live_server import live_server

pytestmark = pytest.mark.slow


def test_real_server_answers_over_http(sample_index: Path) -> None:
    with live_server(sample_index) as server:
        health = httpx.get(f"{server.url}/health").json()
        assert health["status"] == "ok" and health["documents"] == 5
        search = httpx.get(f"{server.url}/search", params={"q": "what did round four agree"}).json()
        top3 = search["results"][:3]
        assert any(ROUND_FOUR_AGREEMENT in r["text"] for r in top3)
        hit = next(r for r in top3 if ROUND_FOUR_AGREEMENT in r["text"])
        doc = httpx.get(f"{server.url}/documents/{hit['doc_id']}").json()
        assert doc["text"][hit["start"] : hit["end"]] == hit["text"]
        ask = httpx.post(f"{server.url}/ask", json={"question": "What did round four of the Astana talks agree?"})
        assert ask.status_code == 200 and ask.json()["citations"]
        bad = httpx.post(f"{server.url}/search", content=b"{oops", headers={"content-type": "application/json"})
        assert bad.status_code == 422
        assert "text/html" in httpx.get(f"{server.url}/").headers["content-type"]
