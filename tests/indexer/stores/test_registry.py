"""One name -> store map: the manifest's `store` and `--store` resolve through it, unknown names fail clearly."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from isnad.indexer.index import Index, IndexLoadError
from isnad.indexer.stores import (
    STORE_NAMES,
    FaissStore,
    FaissStoreFactory,
    StoreError,
    factory_for,
    store_class,
    store_factory,
)
from isnad.indexer.stores.milvus_store import MilvusStore, MilvusStoreFactory


def test_names_map_to_classes_and_factories(tmp_path: Path) -> None:
    assert store_class("faiss") is FaissStore and store_class("milvus") is MilvusStore
    faiss = store_factory("faiss", tmp_path)
    store = faiss(8)
    assert isinstance(store, FaissStore) and store.dim == 8 and faiss.name == store.name == "faiss"
    assert faiss.same_target(store)
    milvus = store_factory("milvus", tmp_path, collection="c")  # nothing connects until it is called
    assert isinstance(milvus, MilvusStoreFactory) and milvus.name == "milvus"
    assert (milvus.uri, milvus.collection) == (str(tmp_path / "milvus.db"), "c")
    assert not milvus.same_target(store)
    assert set(STORE_NAMES) == {"faiss", "milvus"}


@pytest.mark.parametrize("lookup", [store_class, lambda name: store_factory(name, Path("index"))])
def test_an_unknown_name_is_a_clear_store_error(lookup: Callable[[str], object]) -> None:
    with pytest.raises(StoreError, match=r"unknown vector store 'qdrant': use one of faiss, milvus"):
        lookup("qdrant")


def test_an_index_naming_an_unknown_store_does_not_load(tmp_path: Path, sample_index: Path) -> None:
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(sample_index, copy)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest.update(store="qdrant", previous=None)
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexLoadError, match="unknown vector store 'qdrant'"):
        Index.load(copy)


def test_factory_for_a_loaded_store_writes_where_it_lives() -> None:
    faiss = FaissStore(8)
    assert isinstance(factory_for(faiss), FaissStoreFactory) and factory_for(faiss).same_target(faiss)
