"""Real servers on loopback: one milvus-lite server, `isnad index --store milvus --milvus-uri` as the batch job,
and two `isnad serve` replicas, each over its own copy of the index folder (a manifest, a pointer and the bridge's
cache: no tables), the archive being in Milvus. Same answers through both; a write through one is found by the
other's very next search (no reload, no shared folder) and repeating it changes nothing; one replica killed, the
other serves; Milvus stopped: 503 naming its URI and /health "degraded", never a 500; Milvus back: answers again.

Every wait is a bounded poll on a real condition (never a sleep that decides what is tested).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import CORPUS
from tests.live_server import LiveServer, live_server
from tests.milvus_server import MilvusServer, milvus_server

pytestmark = pytest.mark.slow
QUESTIONS = ("مناطق خفض التصعيد", "Which countries sponsor the Astana talks?", "وقف إطلاق النار في سوريا")
RECOVERY_TIMEOUT_S = 120.0
KEY = "replica-test-write-key"
NEW_DOC = {"id": "replica-write", "title": "خبر جديد عن سهل الغاب",
           "text": "أعلنت لجنة التنسيق المشتركة في سهل الغاب عن افتتاح معبر زراعي جديد للمزارعين يوم الأحد.",
           "published": "2024-05-01"}


@pytest.fixture(scope="module")
def milvus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MilvusServer]:
    with milvus_server(tmp_path_factory.mktemp("milvus-data")) as server:
        yield server


@pytest.fixture(scope="module")
def index(milvus: MilvusServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("replicas") / "index"
    run = subprocess.run([sys.executable, "-m", "isnad.cli.main", "index", str(CORPUS), "--index", str(folder),
                          "--store", "milvus", "--milvus-uri", milvus.uri, "--no-progress"],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    return folder


def _search(http: httpx.Client, url: str, question: str) -> list[tuple[str, str, float]]:
    r = http.post(f"{url}/search", json={"query": question, "k": 5})
    assert r.status_code == 200, r.text
    return [(x["doc_id"], x["chunk_id"], x["score"]) for x in r.json()["results"]]


def _ask(http: httpx.Client, url: str, question: str) -> dict[str, Any]:
    r = http.post(f"{url}/ask", json={"question": question})
    assert r.status_code == 200, r.text
    body = r.json()
    return {"answer": body["answer"], "abstained": body["abstained"],
            "citations": [(c.get("doc_id"), c.get("chunk_id")) for c in body["citations"]]}


def test_two_replicas_over_one_milvus(milvus: MilvusServer, index: Path, tmp_path: Path) -> None:
    held = sorted(p.name for p in index.iterdir())
    assert held == ["induced-vocab.npz", "manifest.json", "milvus.json"], held  # no table lives in the folder
    copy = tmp_path / "replica-b"
    shutil.copytree(index, copy)
    env = {"ISNAD_MILVUS_URI": milvus.uri, "ISNAD_API_KEY": KEY}
    with live_server(index, env=env, timeout=300) as a, live_server(copy, env=env, timeout=300) as b, \
            httpx.Client(timeout=120) as http:
        searched = {q: _search(http, a.url, q) for q in QUESTIONS}
        assert all(searched.values())
        assert {q: _search(http, b.url, q) for q in QUESTIONS} == searched
        asked = {q: _ask(http, a.url, q) for q in QUESTIONS}
        assert {q: _ask(http, b.url, q) for q in QUESTIONS} == asked

        _write_through_a_found_through_b(http, a, b)
        searched = {q: _search(http, a.url, q) for q in QUESTIONS}  # the archive grew: compare from here on
        assert {q: _search(http, b.url, q) for q in QUESTIONS} == searched

        a.process.kill()  # one replica dies; the other keeps serving the same archive
        a.process.wait()
        with pytest.raises(httpx.TransportError):
            http.get(f"{a.url}/health")
        assert _search(http, b.url, QUESTIONS[0]) == searched[QUESTIONS[0]]

        milvus.stop()
        _assert_unavailable(http, b, milvus.uri)

        milvus.start()  # same port, same data: the replica recovers by itself, no reload
        _wait_answering(http, b.url)
        assert {q: _search(http, b.url, q) for q in QUESTIONS} == searched
        assert _ask(http, b.url, QUESTIONS[1]) == asked[QUESTIONS[1]]
        assert http.get(f"{b.url}/health").json()["status"] == "ok"


def _write_through_a_found_through_b(http: httpx.Client, a: LiveServer, b: LiveServer) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    r = http.post(f"{a.url}/documents", json={"documents": [NEW_DOC]}, headers=auth)
    assert r.status_code == 200, r.text
    documents = r.json()["documents"]
    # acknowledged means in Milvus (Strong consistency): B's next search finds it, with no wait and no reload
    assert NEW_DOC["id"] in [d for d, _, _ in _search(http, b.url, "معبر زراعي في سهل الغاب")]
    assert http.get(f"{b.url}/documents/{NEW_DOC['id']}").json()["text"] == NEW_DOC["text"]
    again = http.post(f"{b.url}/documents", json={"documents": [NEW_DOC]}, headers=auth)  # the same write, via B
    assert again.status_code == 200 and again.json()["documents"] == documents, again.text
    assert http.get(f"{a.url}/health").json()["documents"] == documents


def _assert_unavailable(http: httpx.Client, replica: LiveServer, uri: str) -> None:
    for route, body in (("/search", {"query": QUESTIONS[0]}), ("/ask", {"question": QUESTIONS[2]})):
        r = http.post(f"{replica.url}{route}", json=body)
        assert r.status_code == 503, (route, r.status_code, r.text)
        assert uri in r.json()["message"] and "Retry-After" in r.headers
    health = http.get(f"{replica.url}/health")
    assert health.status_code == 200
    assert health.json()["status"] == "degraded" and uri in health.json()["store"]
    assert replica.process.poll() is None  # still running: it waits for Milvus, it does not die


def _wait_answering(http: httpx.Client, url: str) -> None:
    started = time.monotonic()
    while True:
        r = http.post(f"{url}/search", json={"query": QUESTIONS[0]})
        if r.status_code == 200:
            return
        assert r.status_code == 503, r.text  # while Milvus comes back: 503, never a 500
        assert time.monotonic() - started < RECOVERY_TIMEOUT_S, f"no recovery in {RECOVERY_TIMEOUT_S}s: {r.text}"
        time.sleep(0.5)
