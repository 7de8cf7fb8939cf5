"""Crash safety of `isnad index` (SIGKILL mid-run) and live reload of a running server (admin + SIGHUP)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from isnad.indexer import phases
from isnad.indexer.changes import apply_changes
from isnad.indexer.embed import Embedder
from isnad.indexer.index import Index
from isnad.indexer.pipeline import make_builder
from isnad.indexer.types import RawDocument
from isnad.service.state import ServiceState
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
from isnad.cli.main import main
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


def _assert_previous_index_answers(index: Path, embedder: Embedder) -> None:
    state = ServiceState.open(index, embedder)
    assert len(state.index.documents) == 5
    assert state.searcher.search("مناطق خفض التصعيد", 3, None).results
    for chunk in state.index.chunks[:50]:
        assert state.index.documents[chunk.doc_id].text[chunk.start : chunk.end] == chunk.text


def _rerun_completes(corpus: Path, index: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "isnad.cli.main", "index", str(corpus), "--index", str(index),
                           "--no-progress"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    docs = Index.load(index).documents
    assert len(docs) == 5 and any("فقرة أضيفت لإعادة الفهرسة" in d.text for d in docs.values())
    assert [p.name for p in index.iterdir() if p.name.startswith(".tmp-")] == []  # leftovers cleaned


@pytest.mark.parametrize("kill_at_fsync", range(1, 8))
def test_sigkill_during_the_write_leaves_a_loadable_index(tmp_path: Path, sample_index: Path,
                                                          embedder: Embedder, kill_at_fsync: int) -> None:
    index = Path(shutil.copytree(sample_index, tmp_path / "index"))
    corpus = _changed_corpus(tmp_path, everything=False)
    child = subprocess.run([sys.executable, "-c", _KILL_AT_FSYNC, str(kill_at_fsync), str(corpus), str(index)],
                           capture_output=True, text=True, timeout=300)
    assert child.returncode == -signal.SIGKILL, child.stderr  # it really died mid-write
    _assert_previous_index_answers(index, embedder)  # old or new generation, never a broken one
    _rerun_completes(corpus, index)


def _index_until_paused(phase: str, corpus: Path, index: Path, marker: Path,
                        extra: Sequence[str] = ()) -> dict[str, object]:
    """Start `isnad index` and return once it has stopped itself at `phase` (indexer/phases.py), not before.

    Blocks in waitpid(WUNTRACED) until the child stops or ends: no sleep and no clock decide where it is. A
    timer kills a child that hangs (a hang guard, 10 min, far beyond any machine's build time).
    """
    env = {**os.environ, phases.PAUSE_AT_ENV: phase, phases.MARKER_ENV: str(marker)}
    child = subprocess.Popen([sys.executable, "-m", "isnad.cli.main", "index", str(corpus), "--index", str(index),
                              "--no-progress", *extra], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    guard = threading.Timer(600, child.kill)
    guard.start()
    try:
        _, status = os.waitpid(child.pid, os.WUNTRACED)
    finally:
        guard.cancel()
    if not os.WIFSTOPPED(status):
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here; Popen must not wait again
        pytest.fail(f"the indexer ended ({child.returncode}) without reaching phase {phase!r}")
    child.send_signal(signal.SIGKILL)  # a stopped process dies at once, right at the phase
    assert child.wait() == -signal.SIGKILL
    paused: dict[str, object] = json.loads(marker.read_text(encoding="utf-8"))
    assert paused["phase"] == phase and paused["pid"] == child.pid
    return paused


@pytest.mark.parametrize("phase", [phases.STARTED, phases.FIRST_BATCH, phases.MID_EMBEDDING, phases.BEFORE_SWITCH])
def test_sigkill_before_the_manifest_switch_leaves_the_previous_index(tmp_path: Path, sample_index: Path,
                                                                      embedder: Embedder, phase: str) -> None:
    index = Path(shutil.copytree(sample_index, tmp_path / "index"))
    manifest_before = (index / "manifest.json").read_bytes()
    corpus = _changed_corpus(tmp_path, everything=True)  # every document re-embeds: several batches
    paused = _index_until_paused(phase, corpus, index, tmp_path / "paused.json")
    if phase == phases.MID_EMBEDDING:  # really in the middle: some batches embedded, some not
        assert 0 < int(paused["embedded"]) < int(paused["total"]), paused  # type: ignore[call-overload]
    assert (index / "manifest.json").read_bytes() == manifest_before
    _assert_previous_index_answers(index, embedder)
    _rerun_completes(corpus, index)


def test_sigkill_after_the_manifest_switch_serves_the_new_index(tmp_path: Path, sample_index: Path,
                                                               embedder: Embedder) -> None:
    index = Path(shutil.copytree(sample_index, tmp_path / "index"))
    old_data = json.loads((index / "manifest.json").read_text(encoding="utf-8"))["data"]
    corpus = _changed_corpus(tmp_path, everything=True)
    paused = _index_until_paused(phases.AFTER_SWITCH, corpus, index, tmp_path / "paused.json")
    assert json.loads((index / "manifest.json").read_text(encoding="utf-8"))["data"] == paused["data"] != old_data
    loaded = Index.load(index)  # the new generation, complete, although the old folder was never removed
    assert any("فقرة أضيفت لإعادة الفهرسة" in d.text for d in loaded.documents.values())
    assert (index / old_data).is_dir()
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


def _each_makes_more_requests(queries: list[_Querier], more: int = 2, timeout: float = 600) -> None:
    """Wait until every querier has finished `more` further requests (a count, not a duration, is awaited)."""
    targets = [q.ok + len(q.failures) + more for q in queries]
    deadline = time.monotonic() + timeout  # hang guard only
    while any(q.ok + len(q.failures) < t for q, t in zip(queries, targets, strict=True)):
        assert time.monotonic() < deadline, "the queriers stopped making requests"
        assert all(q.is_alive() for q in queries), "a querier thread died"
        time.sleep(0.02)


def _wait_for_documents(url: str, n: int, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while httpx.get(f"{url}/health").json()["documents"] != n:
        assert time.monotonic() < deadline, f"/health never showed {n} documents"
        time.sleep(0.2)


def test_live_reload_by_admin_and_sighup_fails_no_request(tmp_path: Path, sample_index: Path,
                                                          embedder: Embedder) -> None:
    index = Path(shutil.copytree(sample_index, tmp_path / "index"))
    builder = make_builder(embedder, progress=False)
    extra = RawDocument(doc_id="extra", text="افتتح معرض دمشق الدولي للكتاب أبوابه للزوار صباح اليوم.", path="t")
    with live_server(index, env={"ISNAD_API_KEY": KEY}) as server:
        queries = [_Querier(server.url) for _ in range(2)]
        for q in queries:
            q.start()
        try:
            _each_makes_more_requests(queries)  # requests are in flight before the rebuild
            apply_changes(index, builder, add=[extra])  # rebuilt on disk, as `isnad index` would
            assert httpx.get(f"{server.url}/health").json()["documents"] == 5  # not picked up by itself
            reload = httpx.post(f"{server.url}/admin/reload", headers={"Authorization": f"Bearer {KEY}"}, timeout=60)
            assert reload.status_code == 200 and reload.json()["documents"] == 6
            assert httpx.get(f"{server.url}/documents/extra").status_code == 200
            _each_makes_more_requests(queries)

            apply_changes(index, builder, delete=["extra"])
            os.kill(server.process.pid, signal.SIGHUP)
            _wait_for_documents(server.url, 5)
            assert httpx.get(f"{server.url}/documents/extra").status_code == 404
            assert server.process.poll() is None  # SIGHUP reloads; it does not kill the server
            _each_makes_more_requests(queries)
        finally:
            for q in queries:
                q.stop.set()
            for q in queries:
                q.join(timeout=60)
    assert all(q.failures == [] for q in queries), [q.failures[:3] for q in queries]
    assert all(q.ok >= 6 for q in queries)  # each made 2+ requests in each of the three phases
