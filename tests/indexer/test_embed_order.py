"""Issue 29: `isnad index` with its defaults stores, for every passage, the vector the runtime gives that passage
alone (the one a query-side call of it gets), whatever shares its calls, into both stores."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from isnad.indexer.embed import Embedder, runtime_of
from isnad.indexer.index import DEFAULT_SORT_WINDOW
from isnad.indexer.milvus_archive import open_index
from isnad.indexer.pipeline import make_builder
from isnad.indexer.stores import store_factory
from isnad.indexer.types import passage_text
from tests.conftest import CORPUS


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Eight real articles: one-line leads beside full paragraphs, so a call of 32 mixes lengths."""
    folder = tmp_path_factory.mktemp("corpus")
    for path in sorted(CORPUS.glob("*.txt"))[:8]:
        shutil.copy(path, folder / path.name)
    return folder


@pytest.mark.parametrize("store", ["faiss", "milvus"])
def test_default_index_stores_each_passage_s_own_vector(tmp_path: Path, corpus: Path, embedder: Embedder,
                                                        store: str) -> None:
    if store == "milvus":
        pytest.importorskip("pymilvus")
    assert runtime_of(embedder).startswith("onnxruntime") and DEFAULT_SORT_WINDOW == 1
    folder = tmp_path / "index"
    make_builder(embedder, progress=False, store_factory=store_factory(store, folder)).run(corpus, folder)
    index = open_index(folder)  # FAISS files, or the archive in Milvus
    try:
        keys = index.store.all_keys().tolist()
        passages = index.passages(keys)
        assert sorted(passages) == keys  # every stored vector is a shown passage
        texts = [passage_text(passages[k]) for k in keys]
        lengths = [embedder.token_count(t) for t in texts]  # type: ignore[attr-defined]
        assert len(texts) > 32 and max(lengths) > 3 * min(lengths)  # calls of mixed lengths, several of them
        stored = index.store.vectors_for(keys)
        alone = np.vstack([embedder.embed_batch([t], "passage") for t in texts])
        np.testing.assert_allclose(stored, alone, atol=1e-6, rtol=0)
    finally:
        index.store.close()
