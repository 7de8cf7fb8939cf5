"""The real server process, over real HTTP on loopback."""

from __future__ import annotations

import shutil
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
        question = "When did the eighth round of the Astana talks take place?"
        ask = httpx.post(f"{server.url}/ask", json={"question": question})
        assert ask.status_code == 200 and ask.json()["citations"]
        bad = httpx.post(f"{server.url}/search", content=b"{oops", headers={"content-type": "application/json"})
        assert bad.status_code == 422
        assert "text/html" in httpx.get(f"{server.url}/").headers["content-type"]


# Each text-taking endpoint with a JSON-escaped lone surrogate: valid JSON, but no UTF-8 text exists for it.
LONE_SURROGATE_REQUESTS = [
    ("POST", "/search", b'{"query": "\\ud800"}', "query"),
    ("POST", "/search", b'{"query": "\\u0623\\u0633\\u062a\\u0627\\u0646\\u0627 \\udc00"}', "query"),
    ("POST", "/ask", b'{"question": "\\ud800"}', "question"),
    ("POST", "/documents", b'{"documents": [{"id": "s1", "text": "\\ud83d \\u062e\\u0628\\u0631"}]}', "text"),
    ("POST", "/documents", b'{"documents": [{"id": "s2", "text": "\\u062e\\u0628\\u0631", "title": "\\udfff"}]}',
     "title"),
    ("POST", "/documents", b'{"documents": [{"id": "s3", "text": "\\u062e\\u0628\\u0631", "source": "\\ud800"}]}',
     "source"),
]


def test_lone_surrogates_get_a_4xx_naming_the_fix_on_every_text_endpoint(sample_index: Path, tmp_path: Path) -> None:
    index = Path(shutil.copytree(sample_index, tmp_path / "index"))
    with live_server(index, env={"ISNAD_API_KEY": "k"}) as server:
        headers = {"content-type": "application/json", "authorization": "Bearer k"}
        for method, path, body, field in LONE_SURROGATE_REQUESTS:
            response = httpx.request(method, f"{server.url}{path}", content=body, headers=headers, timeout=60)
            assert response.status_code == 422, (path, body, response.status_code, response.text[:300])
            message = response.json()["message"]
            assert f"{field} contains a lone UTF-16 surrogate" in message and "send valid Unicode" in message
            assert "codec" not in message  # not the raw encoder error
        # GET ?q= arrives percent-encoded: bytes that are no UTF-8 become U+FFFD, and the search still answers
        get = httpx.get(f"{server.url}/search", params={"q": "أستانا"}, timeout=60)
        raw = httpx.get(f"{server.url}/search?q=%ED%A0%80%20%D8%A3%D8%B3%D8%AA%D8%A7%D9%86%D8%A7", timeout=60)
        assert get.status_code == raw.status_code == 200 and raw.json()["results"]
        assert httpx.get(f"{server.url}/health").json()["documents"] == 5  # nothing was written
        server.process.terminate()
        server.process.wait(timeout=60)
        log = server.log()
    assert "Traceback" not in log and "UnicodeEncodeError" not in log, log[-2000:]
