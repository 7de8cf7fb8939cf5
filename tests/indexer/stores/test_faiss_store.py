from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
import pytest

from isnad.indexer.stores import FaissStore, StoreError, VectorStore
from isnad.indexer.stores import faiss_store as store_module
from isnad.indexer.stores.faiss_store import set_search_threads
from isnad.indexer.types import Chunk
from tests.indexer.stores.store_contract import StoreContract


class TestFaissStore(StoreContract):
    @pytest.fixture
    def new_store(self) -> Callable[[int], VectorStore]:
        return FaissStore

    @pytest.fixture
    def reopen(self) -> Callable[[VectorStore, Path], VectorStore]:
        def _reopen(store: VectorStore, folder: Path) -> VectorStore:
            store.save(folder)
            return FaissStore.load(folder)

        return _reopen


def test_missing_files_are_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="missing"):
        FaissStore.load(tmp_path)


def test_the_search_thread_limit_holds_in_every_thread_that_searches() -> None:
    # faiss keeps its OpenMP thread count per calling thread: a limit set once in the main thread used to
    # leave the server's request threads at one thread per core.
    store = FaissStore(4)
    chunk = Chunk(doc_id="d", chunk_id="d#0", start=0, end=1, text="x")
    store.add([chunk], np.eye(1, 4, dtype=np.float32))
    seen: list[int] = []

    def search() -> None:
        store.search(np.eye(1, 4, dtype=np.float32), 1)
        seen.append(faiss.omp_get_max_threads())

    previous = store_module._search_threads
    set_search_threads(1)
    try:
        thread = threading.Thread(target=search)
        thread.start()
        thread.join()
    finally:
        set_search_threads(previous)
    assert seen == [1]
    with pytest.raises(ValueError):
        set_search_threads(0)
