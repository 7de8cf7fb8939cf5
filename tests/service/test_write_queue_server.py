"""A real server process: reads keep answering while a slow write runs and the write queue is full; a client
that gives up before its write starts has it dropped; SIGTERM abandons the write in progress and exits.

The server is tests/service/gated_server.py: the real service whose passage embedding waits for a file to
appear, because these tests are about queueing and shutdown, not about embedding.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from isnad.indexer.index import Index
from tests.live_server import LiveServer, live_server

pytestmark = pytest.mark.slow
KEY = "queue-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
GATED = ("-m", "tests.service.gated_server")


def _doc(doc_id: str) -> dict[str, object]:
    return {"documents": [{"id": doc_id, "text": f"افتتح معرض دمشق الدولي للكتاب أبوابه للزوار في دورته {doc_id}."}]}


def _wait(predicate: Callable[[], bool], what: str, timeout: float = 120) -> None:
    """Waits for observable state; the timeout only guards against a hang."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _metric(url: str, name: str) -> float:
    for line in httpx.get(f"{url}/metrics", timeout=30).text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


@contextmanager
def _gated_server(tmp_path: Path, sample_index: Path, **env: str) -> Iterator[tuple[LiveServer, Path, Path]]:
    index = Path(shutil.copytree(sample_index, tmp_path / "index"))
    gate = tmp_path / "gate"
    gate.mkdir()
    with live_server(index, env={"ISNAD_API_KEY": KEY, "ISNAD_TEST_GATE": str(gate), **env},
                     launcher=GATED) as server:
        yield server, index, gate


class _Post(threading.Thread):
    def __init__(self, url: str, doc_id: str) -> None:
        super().__init__(daemon=True)
        self.url, self.doc_id = url, doc_id
        self.response: httpx.Response | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.response = httpx.post(f"{self.url}/documents", json=_doc(self.doc_id), headers=AUTH, timeout=300)
        except BaseException as exc:
            self.error = exc


def _raw_post(url: str, body: dict[str, object]) -> socket.socket:
    """Sends a whole write on a raw socket and leaves it waiting: the test closes it to 'give up'."""
    parsed = urlparse(url)
    payload = json.dumps(body).encode()
    sock = socket.create_connection((parsed.hostname, parsed.port))
    sock.sendall(b"POST /documents HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 + f"Authorization: Bearer {KEY}\r\nContent-Length: {len(payload)}\r\n\r\n".encode() + payload)
    return sock


def test_reads_answer_while_a_slow_write_runs_and_the_queue_overflows(tmp_path: Path, sample_index: Path) -> None:
    with _gated_server(tmp_path, sample_index, ISNAD_WRITE_QUEUE_SIZE="3") as (server, index, gate):
        url = server.url
        running = _Post(url, "w-running")
        running.start()
        _wait(lambda: (gate / "started").exists(), "the first write to reach the embedder")
        queued = _Post(url, "w-queued")
        queued.start()
        _wait(lambda: _metric(url, "isnad_writes_waiting") == 1, "one queued write")

        quitter = _raw_post(url, _doc("w-gave-up"))  # its client gives up while it waits
        _wait(lambda: _metric(url, "isnad_writes_waiting") == 2, "the quitter's write to queue")
        quitter.close()
        _wait(lambda: _metric(url, "isnad_writes_dropped") == 1, "the quitter's write to be dropped")
        assert _metric(url, "isnad_writes_waiting") == 1

        later = [_Post(url, f"w-later-{i}") for i in range(2)]
        for post in later:
            post.start()
        _wait(lambda: _metric(url, "isnad_writes_waiting") == 3, "a full queue")

        # 60 more writes at once: before the queue they each held one of the 40 request threads, and
        # /health, /search and /metrics stopped answering.
        overflow = [_Post(url, f"w-over-{i}") for i in range(60)]
        for post in overflow:
            post.start()
        with httpx.Client(base_url=url, timeout=60) as http:
            for _ in range(5):
                assert http.get("/health").json()["documents"] == 5
                assert http.get("/search", params={"q": "أستانا", "k": 3}).json()["results"]
                assert http.post("/search", json={"query": "مناطق خفض التصعيد"}).status_code == 200
                assert http.get("/metrics").status_code == 200
        for post in overflow:
            post.join(120)
            assert post.response is not None, post.error
            assert post.response.status_code == 503, post.response.text
            assert post.response.headers["retry-after"] and "too many writes" in post.response.json()["message"]

        (gate / "release").touch()
        acknowledged = [running, queued, *later]
        for post in acknowledged:
            post.join(300)
            assert post.response is not None and post.response.status_code == 200, (post.error, post.response)
        health = httpx.get(f"{url}/health", timeout=30).json()
        assert health["documents"] == 5 + len(acknowledged)
        assert httpx.get(f"{url}/documents/w-gave-up", timeout=30).status_code == 404
    on_disk = Index.load(index).documents
    assert {p.doc_id for p in acknowledged} <= set(on_disk) and "w-gave-up" not in on_disk
    assert not any(d.startswith("w-over-") for d in on_disk)


def _refuses_connections(url: str) -> bool:
    parsed = urlparse(url)
    try:
        socket.create_connection((parsed.hostname, parsed.port), timeout=5).close()
    except OSError:
        return True
    return False


def test_sigterm_abandons_the_running_write_keeps_the_old_generation_and_exits(tmp_path: Path,
                                                                              sample_index: Path) -> None:
    # A long graceful-shutdown limit: the exit must come from the write stopping, not from uvicorn giving up.
    with _gated_server(tmp_path, sample_index, ISNAD_TIMEOUT_GRACEFUL_SHUTDOWN_S="600") as (server, index, gate):
        manifest = (index / "manifest.json").read_bytes()
        write = _Post(server.url, "w-during-sigterm")
        write.start()
        _wait(lambda: (gate / "started").exists(), "the write to reach the embedder")
        server.process.send_signal(signal.SIGTERM)
        _wait(lambda: _refuses_connections(server.url), "the server to stop accepting connections")
        assert server.process.poll() is None  # still finishing the request in flight
        (gate / "release").touch()  # the embedding batch in progress returns; the write must stop there
        returncode = server.process.wait(timeout=120)
        write.join(120)
    assert returncode in (0, -signal.SIGTERM)
    assert write.response is not None and write.response.status_code == 503, (write.error, write.response)
    assert "shutting down" in write.response.json()["message"]
    assert (index / "manifest.json").read_bytes() == manifest
    documents = Index.load(index).documents
    assert len(documents) == 5 and "w-during-sigterm" not in documents
    assert not [p for p in index.iterdir() if p.name.startswith(".tmp-")]
