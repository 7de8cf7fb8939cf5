"""Two writers on one index folder: the lock, API documents surviving a folder re-index, safe cleanup,
and damaged data files (checksums, fallback to the previous generation, one-line CLI errors)."""

from __future__ import annotations

import gc
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from isnad.indexer.changes import apply_changes
from isnad.indexer.embed import Embedder
from isnad.indexer.index import Index, IndexLoadError, Manifest
from isnad.indexer.lock import IndexBusy, writer_lock
from isnad.indexer.pipeline import make_builder
from isnad.indexer.types import RawDocument
from tests.conftest import CORPUS
from tests.lock_holder import lock_held_elsewhere

API_DOC = RawDocument(doc_id="api-note", path="api:api-note",
                      text="افتتح معرض دمشق الدولي للكتاب أبوابه للزوار صباح اليوم بمشاركة مئات دور النشر.")


@pytest.fixture()
def index(tmp_path: Path, sample_index: Path) -> Path:
    return Path(shutil.copytree(sample_index, tmp_path / "index"))


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "isnad.cli.main", *args], capture_output=True, text=True, timeout=300)


def _one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), proc.stderr
    return lines[0]


def test_a_second_writer_waits_then_gets_index_busy(index: Path, embedder: Embedder) -> None:
    """Before: nothing stopped a second process from writing the same folder at the same time."""
    with lock_held_elsewhere(index) as pid:
        with pytest.raises(IndexBusy, match=rf"being written by another process \(pid {pid}, test holder\)"):
            apply_changes(index, make_builder(embedder, progress=False), add=[API_DOC], lock_timeout=0.2)
        line = _one_line_error(_cli("index", str(CORPUS), "--index", str(index), "--no-progress",
                                    "--lock-timeout", "0.2"))
        assert "being written by another process" in line
    assert "api-note" not in Index.load(index).documents  # nothing was written while it was held
    apply_changes(index, make_builder(embedder, progress=False), add=[API_DOC], lock_timeout=0.2)
    assert "api-note" in Index.load(index).documents


def test_the_lock_is_reentrant_in_one_thread_and_exclusive_across_threads(tmp_path: Path) -> None:
    import threading

    outcome: list[str] = []

    def other() -> None:
        try:
            with writer_lock(tmp_path, timeout=0):
                outcome.append("acquired")
        except IndexBusy:
            outcome.append("busy")

    with writer_lock(tmp_path), writer_lock(tmp_path):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert outcome == ["busy"]
    other()
    assert outcome == ["busy", "acquired"]


def test_folder_reindex_keeps_api_documents_unless_pruned(index: Path, embedder: Embedder) -> None:
    """Before: `isnad index DIR` silently dropped documents acknowledged through POST /documents."""
    apply_changes(index, make_builder(embedder, progress=False), add=[API_DOC])
    loaded = Index.load(index)
    assert loaded.documents["api-note"].origin == "api" and loaded.documents.api_ids() == ["api-note"]
    assert {loaded.documents[d].origin for d in loaded.documents if d != "api-note"} == {"folder"}

    done = _cli("index", str(CORPUS), "--index", str(index), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "kept 1 documents added through the API" in done.stdout
    assert "api-note" in Index.load(index).documents and len(Index.load(index).documents) == 6

    pruned = _cli("index", str(CORPUS), "--index", str(index), "--no-progress", "--prune-api-documents")
    assert pruned.returncode == 0, pruned.stderr
    assert "kept" not in pruned.stdout and "removed 1" in pruned.stdout
    assert "api-note" not in Index.load(index).documents


def test_a_folder_file_replaces_an_api_document_with_its_id(tmp_path: Path, index: Path,
                                                            embedder: Embedder) -> None:
    apply_changes(index, make_builder(embedder, progress=False), add=[API_DOC])
    corpus = Path(shutil.copytree(CORPUS, tmp_path / "corpus"))
    (corpus / "api-note.txt").write_text("نسخة الملف من المقال عن معرض الكتاب في دمشق هذا العام.", encoding="utf-8")
    report = make_builder(embedder, progress=False).run(corpus, index)
    assert report.kept_api_documents == 0
    document = Index.load(index).documents["api-note"]
    assert document.origin == "folder" and "نسخة الملف" in document.text


def test_cleanup_keeps_the_previous_generation_and_pinned_ones(index: Path, embedder: Embedder) -> None:
    """Before: every write deleted every other data folder, including one a reader was loading or serving."""
    builder = make_builder(embedder, progress=False)
    reader = Index.load(index)  # a live reader of generation A
    first = reader.manifest.data
    apply_changes(index, builder, add=[API_DOC])  # B; A is the previous one
    apply_changes(index, builder, delete=["api-note"])  # C; B previous; A pinned by the reader
    manifest = Manifest.read(index)
    assert (index / first).is_dir(), "a generation a reader holds was deleted"
    assert {p.name for p in index.iterdir() if p.is_dir()} == {first, manifest.data, manifest.previous["data"]}
    assert reader.documents[next(iter(reader.documents))].text  # still readable
    del reader
    gc.collect()
    apply_changes(index, builder, add=[API_DOC])  # D; C previous; A unpinned now
    manifest = Manifest.read(index)
    assert {p.name for p in index.iterdir() if p.is_dir()} == {manifest.data, manifest.previous["data"]}


def _two_generations(index: Path, embedder: Embedder) -> tuple[Manifest, Manifest]:
    apply_changes(index, make_builder(embedder, progress=False), add=[API_DOC])
    manifest = Manifest.read(index)
    previous = manifest.previous_manifest()
    assert previous is not None and (index / previous.data).is_dir()
    return manifest, previous


@pytest.mark.parametrize("name", ["index.faiss", "chunks.npz", "documents.jsonl", "bm25/data.csc.index.npy"])
def test_a_damaged_file_is_named_and_the_previous_generation_loads(index: Path, embedder: Embedder,
                                                                   name: str) -> None:
    manifest, previous = _two_generations(index, embedder)
    damaged = index / manifest.data / name
    assert name in manifest.files
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])  # truncated
    loaded = Index.load(index)
    assert loaded.manifest.data == previous.data and "api-note" not in loaded.documents
    assert loaded.damaged is not None and str(damaged) in loaded.damaged and "damaged" in loaded.damaged


def test_a_flipped_byte_is_caught_by_the_checksum(index: Path, embedder: Embedder) -> None:
    manifest, previous = _two_generations(index, embedder)
    path = index / manifest.data / "documents.jsonl"
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x01  # same size, different content
    path.write_bytes(bytes(data))
    loaded = Index.load(index)
    assert loaded.manifest.data == previous.data and "checksum differs" in (loaded.damaged or "")
    # sizes only (the service's ISNAD_VERIFY_CHECKSUMS=0): the flip goes unnoticed, truncation would not
    assert Index.load(index, verify_checksums=False).manifest.data == manifest.data


def test_isnad_index_repairs_a_damaged_index_and_serve_fails_in_one_line(index: Path, tmp_path: Path) -> None:
    """Before: a truncated chunks.npz crashed both commands with a zipfile.BadZipFile traceback, and a truncated
    index.faiss made `isnad index` fail instead of rebuilding."""
    data = index / Manifest.read(index).data  # one generation only: no previous one to fall back to
    for name in ("chunks.npz", "index.faiss"):
        (data / name).write_bytes((data / name).read_bytes()[:100])
    line = _one_line_error(_cli("serve", "--index", str(index), "--port", "1"))
    assert "damaged" in line and ("index.faiss" in line or "chunks.npz" in line), line
    with pytest.raises(IndexLoadError):
        Index.load(index)
    done = _cli("index", str(CORPUS), "--index", str(index), "--no-progress")
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "damaged" in done.stderr  # the warning names what it rebuilt from scratch
    assert len(Index.load(index).documents) == 5 and Index.load(index).damaged is None
    rebuilt = _cli("index", str(CORPUS), "--index", str(index), "--no-progress", "--rebuild")
    assert rebuilt.returncode == 0 and "embedded 0 chunks" not in rebuilt.stdout, rebuilt.stdout
