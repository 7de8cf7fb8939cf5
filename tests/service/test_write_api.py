"""Who may write: POST/DELETE /documents and /admin/reload need ISNAD_API_KEY; bodies are size-limited."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from isnad.indexer.embed import Embedder
from isnad.indexer.index import Index
from isnad.service.api.main import create_app
from isnad.service.settings import Settings
from isnad.service.state import ServiceState

KEY = "s3cret-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
NEW_DOC = {"id": "new-article", "title": "اختبار الإضافة",
           "text": "أعلنت وزارة الزراعة عن موسم قياسي لحصاد القمح في سهل الغاب هذا العام.",
           "published": "2024-05-01", "source": "test"}


@pytest.fixture()
def index_copy(tmp_path: Path, sample_index: Path) -> Path:
    return Path(shutil.copytree(sample_index, tmp_path / "index"))


def _client(folder: Path, embedder: Embedder, **settings: object) -> TestClient:
    return TestClient(create_app(ServiceState.open(folder, embedder), Settings(**settings)))  # type: ignore[arg-type]


@pytest.fixture()
def writer(index_copy: Path, embedder: Embedder) -> Iterator[TestClient]:
    with _client(index_copy, embedder, api_key=KEY) as client:
        yield client


@pytest.fixture()
def reader(index_copy: Path, embedder: Embedder) -> Iterator[TestClient]:
    with _client(index_copy, embedder, api_key=None) as client:
        yield client


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/documents", {"documents": [NEW_DOC]}),
    ("DELETE", "/documents/x", None),
    ("POST", "/admin/reload", None),
])
def test_without_a_key_the_service_is_read_only(reader: TestClient, method: str, path: str, body: object) -> None:
    response = reader.request(method, path, json=body, headers=AUTH)
    assert response.status_code == 403
    assert "read-only" in response.json()["message"] and "ISNAD_API_KEY" in response.json()["message"]
    assert reader.get("/health").json()["documents"] == 5


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {KEY}"},
                                     {"Authorization": f"Bearer {KEY}x"}])
def test_missing_or_wrong_bearer_is_401(writer: TestClient, headers: dict[str, str]) -> None:
    response = writer.post("/documents", json={"documents": [NEW_DOC]}, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert writer.get("/health").json()["documents"] == 5


def test_ingest_then_delete_round_trip(writer: TestClient, index_copy: Path) -> None:
    response = writer.post("/documents", json={"documents": [NEW_DOC]}, headers=AUTH)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["changed"] == ["new-article"] and body["documents"] == 6 and body["embedded_chunks"] >= 1
    assert writer.get("/health").json()["documents"] == 6
    doc = writer.get("/documents/new-article").json()
    assert "سهل الغاب" in doc["text"] and doc["published"] == "2024-05-01"
    hits = writer.post("/search", json={"query": "حصاد القمح في سهل الغاب", "k": 3}).json()["results"]
    assert hits[0]["doc_id"] == "new-article"
    assert "new-article" in Index.load(index_copy).documents  # written to disk, not just memory

    deleted = writer.delete("/documents/new-article", headers=AUTH)
    assert deleted.status_code == 200 and deleted.json()["documents"] == 5
    assert writer.get("/documents/new-article").status_code == 404
    assert "new-article" not in Index.load(index_copy).documents


def test_delete_unknown_is_404_and_changes_nothing(writer: TestClient) -> None:
    response = writer.delete("/documents/no-such-doc", headers=AUTH)
    assert response.status_code == 404 and "no-such-doc" in response.json()["message"]
    assert writer.get("/health").json()["documents"] == 5


@pytest.mark.parametrize("doc_id", ["..%2Fx", "a%2Fb", "a%00b", "x" * 201, "a..b", "%2E%2E"])
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_path_tricks_in_doc_id_are_422(writer: TestClient, method: str, doc_id: str) -> None:
    response = writer.request(method, f"/documents/{doc_id}", headers=AUTH)
    assert response.status_code == 422, (doc_id, response.status_code, response.text)
    assert "doc_id" in response.json()["message"]


@pytest.mark.parametrize(("doc", "needle"), [
    ({**NEW_DOC, "id": "../etc"}, "id"),
    ({**NEW_DOC, "id": "new\u200darticle"}, "U+200D ZERO WIDTH JOINER"),  # the folder reader's rule too
    ({**NEW_DOC, "id": "ＮＥＷ"}, "NFKC"),
    ({**NEW_DOC, "text": "   "}, "text"),
    ({**NEW_DOC, "title": None, "text": "*** >> |"}, "no text left"),
    ({**NEW_DOC, "published": "yesterday"}, "published"),
])
def test_bad_documents_are_422_and_nothing_is_written(writer: TestClient, doc: dict[str, str], needle: str) -> None:
    response = writer.post("/documents", json={"documents": [doc]}, headers=AUTH)
    assert response.status_code == 422 and needle in response.json()["message"]
    assert writer.get("/health").json()["documents"] == 5


def test_body_limits_refuse_with_413(index_copy: Path, embedder: Embedder) -> None:
    with _client(index_copy, embedder, api_key=KEY, max_body_bytes=1000, max_ingest_bytes=5000) as client:
        big_query = client.post("/search", json={"query": "س" * 600})
        assert big_query.status_code == 413 and "limit is 1000" in big_query.json()["message"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: the middleware must count while streaming
            yield b'{"query": "'
            for _ in range(50):
                yield b"a" * 100
            yield b'"}'

        streamed = client.post("/search", content=chunks(), headers={"Content-Type": "application/json"})
        assert streamed.status_code == 413 and "limit" in streamed.json()["message"]
        # ingest has its own, larger limit
        doc = {**NEW_DOC, "text": NEW_DOC["text"] * 20}
        assert len(str(doc).encode()) > 1000
        assert client.post("/documents", json={"documents": [doc]}, headers=AUTH).status_code == 200
        too_big = {**NEW_DOC, "text": NEW_DOC["text"] * 60}
        assert client.post("/documents", json={"documents": [too_big]}, headers=AUTH).status_code == 413
        assert client.post("/search", json={"query": "أستانا"}).status_code == 200


def test_cors_is_off_unless_configured(index_copy: Path, embedder: Embedder) -> None:
    origin = {"Origin": "https://example.org"}
    with _client(index_copy, embedder) as closed:
        assert "access-control-allow-origin" not in closed.get("/health", headers=origin).headers
    with _client(index_copy, embedder, cors_origins="https://example.org") as open_:
        assert open_.get("/health", headers=origin).headers["access-control-allow-origin"] == "https://example.org"


def test_admin_reload_picks_up_a_rebuilt_index(writer: TestClient, index_copy: Path, embedder: Embedder) -> None:
    from isnad.indexer.changes import apply_changes
    from isnad.indexer.pipeline import make_builder

    victim = sorted(Index.load(index_copy).documents)[0]
    apply_changes(index_copy, make_builder(embedder, progress=False), delete=[victim])  # as `isnad index` would
    assert writer.get("/health").json()["documents"] == 5  # still the loaded one
    response = writer.post("/admin/reload", headers=AUTH)
    assert response.status_code == 200 and response.json()["documents"] == 4
    assert writer.get("/health").json()["documents"] == 4


def test_non_utf8_body_is_a_declared_400_with_a_message(reader: TestClient) -> None:
    """Found by schemathesis: FastAPI answered an undeclared 400 without `message`."""
    response = reader.post("/search", content=b'{"query": "\xff\xfe"}', headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "UTF-8" in response.json()["message"]
    assert "400" in reader.get("/openapi.json").json()["paths"]["/search"]["post"]["responses"]
