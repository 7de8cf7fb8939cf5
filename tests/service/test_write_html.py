"""POST /documents with a saved web page (`html` + `url`): extracted like `isnad index` reads pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from isnad.indexer.embed import Embedder
from tests.indexer.web_fixtures import expected, fold, needs_pages, page_bytes
from tests.service.test_write_api import AUTH, KEY, _client, index_copy

pytestmark = needs_pages
PAGE = "sputnik-2020-03-17.html"
__all__ = ["index_copy"]  # the fixture, imported for these tests


@pytest.fixture()
def writer(index_copy: Path, embedder: Embedder) -> Iterator[TestClient]:
    with _client(index_copy, embedder, api_key=KEY) as client:
        yield client


def test_a_page_with_its_url_is_extracted_and_cited_with_its_source(writer: TestClient) -> None:
    want = expected()[PAGE]
    doc = {"id": "sputnik-egypt", "html": page_bytes(PAGE).decode("utf-8"), "url": want["url"] + "?utm_source=x"}
    response = writer.post("/documents", json={"documents": [doc]}, headers=AUTH)
    assert response.status_code == 200, response.text
    stored = writer.get("/documents/sputnik-egypt").json()
    assert fold(stored["title"]) == fold(want["title"]) and stored["published"] == want["published"]
    assert stored["url"] == want["canonical"] and stored["lang"] == "ar" and stored["site"]
    assert fold(want["first_sentence"]) in fold(stored["text"]) and "<" not in stored["text"]
    answer = writer.post("/ask", json={"question": "كم حالة إصابة جديدة بفيروس كورونا سجلت مصر؟"}).json()
    cited = [c for c in answer["citations"] if c["doc_id"] == "sputnik-egypt"]
    assert cited, answer
    assert (cited[0]["url"], cited[0]["published"]) == (want["canonical"], want["published"])
    assert stored["text"][cited[0]["start"]:cited[0]["end"]] == cited[0]["text"]


@pytest.mark.parametrize(("doc", "needle"), [
    ({"id": "home", "html": "<html><body><nav><a href='/a'>أخبار</a></nav></body></html>"}, "no article"),
    ({"id": "both", "html": "<p>x</p>", "text": "نص"}, "exactly one of `text` or `html`"),
    ({"id": "neither"}, "exactly one of `text` or `html`"),
    ({"id": "js", "text": "نص الخبر", "url": "javascript:alert(1)"}, "http or https"),
])
def test_bad_pages_are_422_and_nothing_is_written(writer: TestClient, doc: dict[str, str], needle: str) -> None:
    response = writer.post("/documents", json={"documents": [doc]}, headers=AUTH)
    assert response.status_code == 422 and needle in response.json()["message"], response.text
    assert writer.get("/health").json()["documents"] == 5
