"""A missing or damaged reader file never breaks /ask: the service says so at start and in /health, and
answers with the sentence rules (the fallback). Real model, real index; only the reader file is broken."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from isnad.indexer.embed import Embedder
from isnad.service.api.main import create_app
from isnad.service.settings import Settings
from isnad.service.state import ServiceState


def _damaged(tmp_path: Path) -> Path:
    path = tmp_path / "reader.npz"
    path.write_bytes(b"PK\x03\x04 this is not a reader" * 100)
    return path


@pytest.mark.parametrize("broken", ["missing", "damaged"])
def test_a_broken_reader_file_falls_back_and_says_so(sample_index: Path, embedder: Embedder, tmp_path: Path,
                                                     broken: str, capsys: pytest.CaptureFixture[str]) -> None:
    """/health names the fallback and why; /ask still answers 200 with a cited answer."""
    path = tmp_path / "absent.npz" if broken == "missing" else _damaged(tmp_path)
    state = ServiceState.open(sample_index, embedder, Settings(reader_file=path))
    assert "reader not loaded" in capsys.readouterr().err
    with TestClient(create_app(state)) as client:
        health = client.get("/health").json()
        assert health["reader"].startswith("fallback: sentence rules (ReaderFileError")
        assert str(path) in health["reader"]
        response = client.post("/ask", json={"question": "ماذا اتفقت الدول الضامنة في الجولة الرابعة؟"})
        assert response.status_code == 200
        body = response.json()
        assert not body["abstained"] and body["citations"]


def test_the_reader_can_be_turned_off(sample_index: Path, embedder: Embedder) -> None:
    """ISNAD_USE_READER=false: the sentence rules answer, and /health says the reader is off."""
    state = ServiceState.open(sample_index, embedder, Settings(use_reader=False))
    assert state.answerer.reader is None
    with TestClient(create_app(state)) as client:
        assert client.get("/health").json()["reader"].startswith("off")
