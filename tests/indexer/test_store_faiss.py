from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from indexer.store import FaissStore, StoreError, VectorStore
from tests.indexer.store_contract import StoreContract


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
