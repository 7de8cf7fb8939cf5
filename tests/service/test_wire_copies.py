"""A wire story on two sites: two documents, cited once as one passage with the other site as another source."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from isnad.indexer.embed import Embedder
from isnad.indexer.pipeline import make_builder
from isnad.service.api.main import create_app
from isnad.service.state import ServiceState

STORY = ("أعلنت وزارة الري المصرية اليوم افتتاح محطة جديدة لتحلية مياه البحر في مدينة العلمين بطاقة مئة ألف متر "
         "مكعب يومياً. وقال الوزير إن المحطة تخدم نحو نصف مليون نسمة وتكلفت ثلاثة مليارات جنيه.")
OTHER = ("افتتح سوق الخضار الكبير في مدينة حلب أبوابه من جديد بعد أعمال ترميم استمرت عامين كاملين. وقال التجار "
         "إن الإقبال على السوق تضاعف منذ الافتتاح.")
RECORDS = [
    {"id": "agency-a", "title": "محطة تحلية جديدة في العلمين", "text": STORY, "published": "2024-03-01",
     "url": "https://a.example.com/desal", "site": "وكالة أ"},
    {"id": "paper-b", "title": "العلمين: محطة لتحلية المياه", "text": STORY, "published": "2024-03-01",
     "url": "https://b.example.net/news/desal", "site": "صحيفة ب"},
    {"id": "aleppo", "title": "سوق حلب", "text": OTHER, "published": "2024-02-01"},
]
QUESTION = "ما طاقة محطة تحلية المياه الجديدة في العلمين؟"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[TestClient]:
    corpus = tmp_path_factory.mktemp("wire")
    (corpus / "wire.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in RECORDS), encoding="utf-8")
    index = tmp_path_factory.mktemp("wire-index") / "index"
    make_builder(embedder, progress=False).run(corpus, index)
    with TestClient(create_app(ServiceState.open(index, embedder))) as test_client:
        yield test_client


def test_the_same_passage_on_two_sites_is_one_citation_with_two_sources(client: TestClient) -> None:
    assert client.get("/health").json()["documents"] == 3  # the same text on two sites stays two documents
    body = client.post("/ask", json={"question": QUESTION}).json()
    assert not body["abstained"], body
    story = [c for c in body["citations"] if c["doc_id"] in ("agency-a", "paper-b")]
    assert len({c["text"] for c in story}) == len(story)  # never the same sentence twice
    first = story[0]
    other = "paper-b" if first["doc_id"] == "agency-a" else "agency-a"
    also = first["also_reported_by"]
    assert [a["doc_id"] for a in also] == [other]
    assert also[0]["url"] == next(r["url"] for r in RECORDS if r["id"] == other)
    assert also[0]["site"] == next(r["site"] for r in RECORDS if r["id"] == other)
    results = client.post("/search", json={"query": QUESTION, "k": 3}).json()["results"]
    assert [r["doc_id"] for r in results].count(other) + [r["doc_id"] for r in results].count(first["doc_id"]) == 1
    assert results[0]["also_reported_by"][0]["published"] == "2024-03-01"
