"""Writes that cannot happen now: another writer holds the folder (503 + Retry-After), or the disk refuses
(full, read-only: 503 naming the cause). Nothing partial is left behind and the old index keeps serving."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from isnad.indexer.embed import Embedder
from isnad.service.api.main import create_app
from isnad.service.settings import Settings
from isnad.service.state import ServiceState
from tests.lock_holder import lock_held_elsewhere

KEY = "fault-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
NEW_DOC = {"id": "new-article", "text": "أعلنت وزارة الزراعة عن موسم قياسي لحصاد القمح في سهل الغاب هذا العام."}


@pytest.fixture()
def index(tmp_path: Path, sample_index: Path) -> Path:
    return Path(shutil.copytree(sample_index, tmp_path / "index"))


@pytest.fixture()
def writer(index: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("ISNAD_LOCK_TIMEOUT", "0.2")  # how long a write waits for the other writer
    with TestClient(create_app(ServiceState.open(index, embedder), Settings(api_key=KEY))) as client:
        yield client


def _still_serving(client: TestClient, index: Path) -> None:
    assert client.get("/health").json()["documents"] == 5
    assert client.get("/search", params={"q": "أستانا"}).json()["results"]
    assert client.get("/documents/new-article").status_code == 404
    assert [p.name for p in index.iterdir() if p.name.startswith(".tmp-")] == []


def test_writes_and_reloads_while_another_writer_holds_the_folder_are_503(writer: TestClient, index: Path) -> None:
    """Before: both wrote at once (21,104 of 25,385 API writes got 500 in the probe)."""
    with lock_held_elsewhere(index) as pid:
        for response in (writer.post("/documents", json={"documents": [NEW_DOC]}, headers=AUTH),
                         writer.delete("/documents/000_00b00902cae748a1", headers=AUTH),
                         writer.post("/admin/reload", headers=AUTH)):
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "5"
            assert f"pid {pid}" in response.json()["message"] and "try again" in response.json()["message"]
        _still_serving(writer, index)
    assert writer.post("/documents", json={"documents": [NEW_DOC]}, headers=AUTH).status_code == 200


@pytest.mark.parametrize(("code", "cause"), [(errno.ENOSPC, "the disk is full"),
                                             (errno.EROFS, "read-only file system"),
                                             (errno.EACCES, "not writable")])
def test_a_full_or_read_only_disk_is_503_naming_the_cause(writer: TestClient, index: Path,
                                                          monkeypatch: pytest.MonkeyPatch, code: int,
                                                          cause: str) -> None:
    """Before: a plain-text 500, and every attempt left a partial .tmp- folder. The disk is simulated: the
    write of documents.jsonl raises the OSError a full or read-only disk raises (tests run as root, which
    chmod does not stop)."""
    import isnad.indexer.index

    def refuse(path: Path, *_: object) -> None:
        path.write_bytes(b"partial")  # the half-written file the failure leaves
        raise OSError(code, os.strerror(code), str(path))

    monkeypatch.setattr(isnad.indexer.index, "write_documents", refuse)
    response = writer.post("/documents", json={"documents": [NEW_DOC]}, headers=AUTH)
    assert response.status_code == 503, response.text
    message = response.json()["message"]
    assert cause in message and str(index) in message and "previous index is unchanged" in message
    _still_serving(writer, index)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders; the monkeypatched test covers it")
def test_a_read_only_folder_is_503(writer: TestClient, index: Path) -> None:
    modes = {p: p.stat().st_mode for p in [index, *index.iterdir()]}
    for p in modes:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        response = writer.post("/documents", json={"documents": [NEW_DOC]}, headers=AUTH)
        assert response.status_code == 503 and "not writable" in response.json()["message"]
        assert writer.post("/admin/reload", headers=AUTH).status_code == 200  # reading needs no lock
    finally:
        for p, mode in modes.items():
            p.chmod(mode)
    _still_serving(writer, index)


def test_a_write_to_a_damaged_folder_is_503_naming_the_file(writer: TestClient, index: Path) -> None:
    """Before: an unhandled IndexLoadError (500). The loaded index keeps serving reads."""
    from isnad.indexer.index import Manifest

    faiss_file = index / Manifest.read(index).data / "index.faiss"
    faiss_file.write_bytes(faiss_file.read_bytes()[:100])  # one generation only: nothing to fall back to
    response = writer.post("/documents", json={"documents": [NEW_DOC]}, headers=AUTH)
    assert response.status_code == 503 and f"{faiss_file} is damaged" in response.json()["message"]
    assert writer.get("/search", params={"q": "أستانا"}).json()["results"]
