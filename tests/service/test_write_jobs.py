"""Writes as queued jobs: 202 + /jobs/{id} for large ones, cancellation, a bounded queue, limits per request.

Some tests hold a write inside the embedder with `BlockingEmbedder`: it is the real model, with passage
batches waiting on an Event, because these tests are about what happens while a write is queued or running.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from isnad.indexer.embed import E5Embedder, Embedder, Role
from isnad.indexer.index import Index, IndexLoadError
from isnad.indexer.lock import IndexBusy, IndexWriteError
from isnad.service.api.main import create_app
from isnad.service.api.routes.jobs import error_status
from isnad.service.settings import Settings
from isnad.service.state import ServiceState

KEY = "jobs-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
ASYNC = {**AUTH, "Prefer": "respond-async"}


def _doc(doc_id: str, words: str = "افتتح معرض دمشق الدولي للكتاب أبوابه للزوار صباح اليوم") -> dict[str, str]:
    return {"id": doc_id, "text": f"{words}، في دورة جديدة تحمل الرقم {doc_id}."}


class BlockingEmbedder:
    """The real embedder; passage batches wait for `release` (queries pass straight through)."""

    def __init__(self, inner: E5Embedder) -> None:
        self.inner, self.model_id, self.dim = inner, inner.model_id, inner.dim
        self.started, self.release = threading.Event(), threading.Event()

    def embed_batch(self, texts: Sequence[str], role: Role) -> np.ndarray:
        if role == "passage":
            self.started.set()
            assert self.release.wait(120), "the test never released the write"
        return self.inner.embed_batch(texts, role)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture()
def index_copy(tmp_path: Path, sample_index: Path) -> Path:
    return Path(shutil.copytree(sample_index, tmp_path / "index"))


def _client(folder: Path, embedder: Any, **settings: Any) -> TestClient:
    return TestClient(create_app(ServiceState.open(folder, embedder), Settings(api_key=KEY, **settings)))


def _wait(predicate: Callable[[], bool], what: str, timeout: float = 120) -> None:
    """Waits for observable state; the timeout only guards against a hang."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _job(client: TestClient, job_id: str) -> dict[str, Any]:
    response = client.get(f"/jobs/{job_id}", headers=AUTH)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _no_temp_folders(index: Path) -> bool:
    return not [p for p in index.iterdir() if p.name.startswith(".tmp-")]


def test_a_large_write_answers_202_and_its_job_reports_progress_and_result(index_copy: Path,
                                                                           embedder: Embedder) -> None:
    with _client(index_copy, embedder, sync_write_max_chars=50) as client:
        response = client.post("/documents", json={"documents": [_doc("big-one")]}, headers=AUTH)
        assert response.status_code == 202, response.text
        job = response.json()
        assert response.headers["location"] == f"/jobs/{job['id']}" and job["kind"] == "add"
        _wait(lambda: _job(client, job["id"])["state"] in ("done", "failed", "cancelled"), "the job to finish")
        done = _job(client, job["id"])
        assert done["state"] == "done", done
        assert done["total_chunks"] >= 1 and done["embedded_chunks"] == done["total_chunks"]
        assert done["result"]["changed"] == ["big-one"] and done["result"]["documents"] == 6
        assert client.get("/documents/big-one").status_code == 200
        assert "big-one" in Index.load(index_copy).documents


def test_jobs_need_the_key_and_unknown_ids_are_404(index_copy: Path, embedder: Embedder) -> None:
    with _client(index_copy, embedder) as client:
        assert client.get("/jobs/nope").status_code == 401
        missing = client.get("/jobs/nope", headers=AUTH)
        assert missing.status_code == 404 and "nope" in missing.json()["message"]


def test_cancel_drops_a_queued_job_and_stops_a_running_one_before_it_writes(index_copy: Path,
                                                                           embedder: Embedder) -> None:
    blocking = BlockingEmbedder(embedder)
    manifest = (index_copy / "manifest.json").read_bytes()
    with _client(index_copy, blocking) as client:
        running = client.post("/documents", json={"documents": [_doc("first")]}, headers=ASYNC).json()
        assert blocking.started.wait(120)
        queued = client.post("/documents", json={"documents": [_doc("second")]}, headers=ASYNC).json()
        assert _job(client, queued["id"])["state"] == "queued"

        dropped = client.delete(f"/jobs/{queued['id']}", headers=AUTH).json()
        assert dropped["state"] == "cancelled" and dropped["error_status"] == 503
        stopping = client.delete(f"/jobs/{running['id']}", headers=AUTH).json()
        assert stopping["state"] == "running" and stopping["cancel_requested"]
        blocking.release.set()
        _wait(lambda: _job(client, running["id"])["state"] != "running", "the running job to stop")
        ended = _job(client, running["id"])
        assert ended["state"] == "cancelled" and "cancelled" in ended["error"]
        assert client.get("/health").json()["documents"] == 5
    assert (index_copy / "manifest.json").read_bytes() == manifest  # the old generation stays
    assert _no_temp_folders(index_copy)


def test_a_full_queue_answers_503_with_retry_after_and_reads_go_on(index_copy: Path, embedder: Embedder) -> None:
    blocking = BlockingEmbedder(embedder)
    with _client(index_copy, blocking, write_queue_size=1, write_retry_after_s=7) as client, \
            ThreadPoolExecutor(2) as pool:
        first = pool.submit(client.post, "/documents", json={"documents": [_doc("a1")]}, headers=AUTH)
        assert blocking.started.wait(120)
        second = pool.submit(client.post, "/documents", json={"documents": [_doc("a2")]}, headers=AUTH)
        _wait(lambda: client.app.state.writes.waiting == 1, "the second write to queue")  # type: ignore[attr-defined]
        refused = client.post("/documents", json={"documents": [_doc("a3")]}, headers=AUTH)
        assert refused.status_code == 503 and refused.headers["retry-after"] == "7"
        assert "too many writes" in refused.json()["message"] and "limit is 1" in refused.json()["message"]
        assert client.get("/search", params={"q": "أستانا"}).status_code == 200
        assert client.get("/health").json()["documents"] == 5
        blocking.release.set()
        assert first.result().status_code == 200 and second.result().status_code == 200
        assert client.get("/health").json()["documents"] == 7
        assert client.get("/documents/a3").status_code == 404


def test_stop_abandons_the_running_write_and_keeps_the_old_generation(index_copy: Path,
                                                                     embedder: Embedder) -> None:
    """What SIGTERM does to a write (service/http_server.py calls the same `stop`)."""
    blocking = BlockingEmbedder(embedder)
    manifest = (index_copy / "manifest.json").read_bytes()
    with _client(index_copy, blocking) as client, ThreadPoolExecutor(1) as pool:
        pending: Future[httpx.Response] = pool.submit(client.post, "/documents",
                                                      json={"documents": [_doc("late")]}, headers=AUTH)
        assert blocking.started.wait(120)
        client.app.state.writes.stop()  # type: ignore[attr-defined]
        blocking.release.set()
        response = pending.result()
        assert response.status_code == 503 and "shutting down" in response.json()["message"]
        assert "retry-after" in response.headers
        again = client.post("/documents", json={"documents": [_doc("later")]}, headers=AUTH)
        assert again.status_code == 503 and "shutting down" in again.json()["message"]
    assert (index_copy / "manifest.json").read_bytes() == manifest
    assert "late" not in Index.load(index_copy).documents and _no_temp_folders(index_copy)


@pytest.mark.parametrize(("doc", "status", "needle"), [
    ({"id": "huge", "text": "نص " * 800}, 413, "max_document_chars"),
    ({**_doc("titled"), "title": "عنوان " * 40}, 422, "max_title_chars"),
    ({"id": "many", "text": "\n\n".join(f"فقرة رقم {i} عن موضوع مختلف تماما في هذا الخبر الطويل جدا." * 2
                                         for i in range(10))}, 413, "max_chunks_per_request"),
])
def test_write_limits_answer_with_a_message_naming_the_limit(index_copy: Path, embedder: Embedder,
                                                             doc: dict[str, str], status: int, needle: str) -> None:
    limits = {"max_document_chars": 2000, "max_title_chars": 100, "max_chunks_per_request": 3}
    with _client(index_copy, embedder, **limits) as client:
        response = client.post("/documents", json={"documents": [doc]}, headers=AUTH)
        assert response.status_code == status, response.text
        assert needle in response.json()["message"], response.json()
        assert client.get("/health").json()["documents"] == 5


def test_an_async_job_over_the_chunk_limit_fails_with_the_limit(index_copy: Path, embedder: Embedder) -> None:
    text = "\n\n".join(f"فقرة رقم {i} عن موضوع مختلف تماما في هذا الخبر الطويل جدا." * 2 for i in range(10))
    with _client(index_copy, embedder, max_chunks_per_request=3) as client:
        job = client.post("/documents", json={"documents": [{"id": "many", "text": text}]}, headers=ASYNC).json()
        _wait(lambda: _job(client, job["id"])["state"] == "failed", "the job to fail")
        failed = _job(client, job["id"])
        assert failed["error_status"] == 413 and "max_chunks_per_request" in failed["error"]


@pytest.mark.parametrize("error", [IndexBusy(Path("index"), "pid 1: isnad index", 30.0),
                                   IndexWriteError("disk full"), IndexLoadError("index.faiss damaged")])
def test_an_async_job_failing_on_the_folder_reports_503_like_a_synchronous_write(error: Exception) -> None:
    assert error_status(error) == 503
