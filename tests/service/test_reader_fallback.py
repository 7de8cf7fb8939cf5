"""A missing or damaged reader file never breaks /ask: the service says so at start and in /health, and
answers with the sentence rules (the fallback). Real model, real index; only the reader file is broken."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from isnad.indexer.embed import Embedder
from isnad.indexer.reader.weights import DEFAULT_READER, judge_path
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


def test_an_unknown_reader_name_falls_back_and_names_the_known_ones(sample_index: Path, embedder: Embedder) -> None:
    """ISNAD_READER picks the reader by name (service/ask/reader.py's READERS); a name it does not know is the
    fallback, said in /health, and /ask still answers, never "sure" without a reader."""
    state = ServiceState.open(sample_index, embedder, Settings(reader="nope"))
    assert state.answerer.reader is None and state.answerer.judge is None
    with TestClient(create_app(state)) as client:
        assert "no reader named 'nope' (known: onnx)" in client.get("/health").json()["reader"]
        body = client.post("/ask", json={"question": "ماذا اتفقت الدول الضامنة في الجولة الرابعة؟"}).json()
        assert body["certainty"] == ("not_found" if body["abstained"] else "possible")


@pytest.mark.parametrize("judge", ["missing", "stale", "other features"])
def test_a_reader_without_a_usable_judge_answers_by_its_own_probability_and_says_so(
        sample_index: Path, embedder: Embedder, tmp_path: Path, judge: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped reader copied without its judge, with a judge fitted for another reader file, or with one
    on features this code does not compute: /health and the start log say why; /ask answers 200."""
    path = tmp_path / "reader.npz"
    path.write_bytes(DEFAULT_READER.read_bytes())
    shipped = json.loads(judge_path(DEFAULT_READER).read_text(encoding="utf-8"))
    if judge == "stale":
        judge_path(path).write_text(json.dumps({**shipped, "reader_sha256": "0" * 64}), encoding="utf-8")
    elif judge == "other features":
        judge_path(path).write_text(json.dumps({**shipped, "features": ["reader_logit"]}), encoding="utf-8")
    state = ServiceState.open(sample_index, embedder, Settings(reader_file=path))
    assert "/ask decides by the reader's own probability" in capsys.readouterr().err
    assert state.answerer.reader is not None and state.answerer.judge is None
    expected = {"missing": "no judge file", "stale": "another reader file", "other features": "fitted on features"}
    with TestClient(create_app(state)) as client:
        health = client.get("/health").json()["reader"]
        assert "judge: none" in health and expected[judge] in health and "no sure bar" in health
        response = client.post("/ask", json={"question": "متى عقدت الجولة الثامنة من محادثات أستانة؟"})
        assert response.status_code == 200 and response.json()["citations"]
        assert response.json()["certainty"] == "possible"  # no judge, no sure bar
