"""Crash safety of `isnad index` (SIGKILL mid-run) and live reload of a running server (admin + SIGHUP)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from indexer.changes import apply_changes
from indexer.embed import E5Embedder
from indexer.index import Index
from indexer.types import RawDocument
from service.pipeline import make_builder
from service.state import ServiceState
from tests.conftest import CORPUS
from tests.live_server import live_server

pytestmark = pytest.mark.slow
KEY = "reload-key"

# Runs `isnad index` in a child that SIGKILLs itself right after its Nth fsync: every fsync in write_index
# marks a step (each data file, the data-folder rename, the manifest, the directory), so N walks the write.
_KILL_AT_FSYNC = """
import os, signal, sys
n, real, calls = int(sys.argv[1]), os.fsync, [0]
def fsync(fd):
    real(fd)
    calls[0] += 1
    if calls[0] == n:
        os.kill(os.getpid(), signal.SIGKILL)
os.fsync = fsync
from service.cli import main
sys.argv = ["isnad", "index", sys.argv[2], "--index", sys.argv[3], "--no-progress"]
main()
"""


def _changed_corpus(tmp_path: Path, everything: bool) -> Path:
    corpus = Path(shutil.copytree(CORPUS, tmp_path / "corpus"))
    files = sorted(corpus.glob("*.txt"))
    for path in files if everything else files[:1]:
        path.write_text(path.read_text(encoding="utf-8") + "\n\nفقرة أضيفت لإعادة الفهرسة بعد التعديل.\n",
                        encoding="utf-8")
    return corpus


def _assert_previous_index_answers(index: Path, embedder: E5Embedder) -> None:
    state = ServiceState.open(index, embedder)
    assert len(state.index.documents) == 5
    assert state.searcher.search("مناطق خفض التصعيد", 3, None).results
    for chunk in state.index.chunks[:50]:
        assert state.index.documents[chunk.doc_id].text[chunk.start : chunk.end] == chunk.text


def _rerun_completes(corpus: Path, index: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "service.cli", "index", str(corpus), "--index", str(index),
                           "--no-progress"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    docs = Index.load(index).documents
    assert len(docs) == 5 and any("فقرة أضيفت لإعادة الفهرسة" in d.text for d in docs.values())
    assert [p.name for p in index.iterdir() if p.name.startswith(".tmp-")] == []  # leftovers cleaned


@pytest.mark.parametrize("kill_at_fsync", range(1, 8))
def test_sigkill_during_the_write_leaves_a_loadable_index(tmp_path: Path, sample_index: Path,
                                                          embedder: E5Embedder, kill_at_fsync: int) -> None:
    index = Path(shutil.copytree(sample_index, tmp_path / "index"))
    corpus = _changed_corpus(tmp_path, everything=False)
    child = subprocess.run([sys.executable, "-c", _KILL_AT_FSYNC, str(kill_at_fsync), str(corpus), str(index)],
                           capture_output=True, text=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stderr  # it really died mid-write
    _assert_previous_index_answers(index, embedder)  # old or new generation, never a broken one
    _rerun_completes(corpus, index)


# The whole re-index of the sample takes ~3.4 s on a quiet machine (start-up ~0.7 s): 4 s killed it after the
# manifest switch. These land in start-up, embedding and late embedding.
@pytest.mark.parametrize("after_s", [0.5, 1.25, 2.0])
def test_sigkill_during_embedding_leaves_the_previous_index(tmp_path: Path, sample_index: Path,
                                                            embedder: E5Embedder, after_s: float) -> None:
    index = Path(shutil.copytree(sample_index, tmp_path / "index"))
    manifest_before = (index / "manifest.json").read_bytes()
    corpus = _changed_corpus(tmp_path, everything=True)  # every document re-embeds: a long embedding phase
    child = subprocess.Popen([sys.executable, "-m", "service.cli", "index", str(corpus), "--index", str(index),
                              "--no-progress"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(after_s)
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL, "the build finished before the kill; raise the corpus size"
    assert (index / "manifest.json").read_bytes() == manifest_before
    _assert_previous_index_answers(index, embedder)
    _rerun_completes(corpus, index)


class _Querier(threading.Thread):
    """Keeps querying a live server; every non-200 or transport error is recorded."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stop, self.ok, self.failures = url, threading.Event(), 0, []  # type: ignore[var-annotated]

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as http:
            while not self.stop.is_set():
                try:
                    r = (http.post("/ask", json={"question": "ما هي مناطق خفض التصعيد؟"}) if self.ok % 2
                         else http.get("/search", params={"q": "أستانا", "k": 3}))
                    if r.status_code == 200:
                        self.ok += 1
                    else:
                        self.failures.append(f"HTTP {r.status_code}: {r.text[:200]}")
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))


def _wait_for_documents(url: str, n: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while httpx.get(f"{url}/health").json()["documents"] != n:
        assert time.monotonic() < deadline, f"/health never showed {n} documents"
        time.sleep(0.2)


def test_live_reload_by_admin_and_sighup_fails_no_request(tmp_path: Path, sample_index: Path,
                                                          embedder: E5Embedder) -> None:
    index = Path(shutil.copytree(sample_index, tmp_path / "index"))
    builder = make_builder(embedder, progress=False)
    extra = RawDocument(doc_id="extra", text="افتتح معرض دمشق الدولي للكتاب أبوابه للزوار صباح اليوم.", path="t")
    with live_server(index, env={"ISNAD_API_KEY": KEY}) as server:
        queries = [_Querier(server.url) for _ in range(2)]
        for q in queries:
            q.start()
        try:
            time.sleep(1.0)
            apply_changes(index, builder, add=[extra])  # rebuilt on disk, as `isnad index` would
            assert httpx.get(f"{server.url}/health").json()["documents"] == 5  # not picked up by itself
            reload = httpx.post(f"{server.url}/admin/reload", headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
            assert reload.status_code == 200 and reload.json()["documents"] == 6
            assert httpx.get(f"{server.url}/documents/extra").status_code == 200
            time.sleep(1.0)

            apply_changes(index, builder, delete=["extra"])
            os.kill(server.process.pid, signal.SIGHUP)
            _wait_for_documents(server.url, 5)
            assert httpx.get(f"{server.url}/documents/extra").status_code == 404
            assert server.process.poll() is None  # SIGHUP reloads; it does not kill the server
            time.sleep(1.0)
        finally:
            for q in queries:
                q.stop.set()
            for q in queries:
                q.join(timeout=60)
    assert all(q.failures == [] for q in queries), [q.failures[:3] for q in queries]
    assert sum(q.ok for q in queries) > 5
