"""The one map from a store's name (the manifest's `store`, `--store`) to its class and its factory.

Milvus is imported only when named, so a FAISS-only install never loads its client code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from isnad.indexer.stores.base import StoreError, VectorStore
from isnad.indexer.stores.faiss_store import FaissStore
from isnad.indexer.stores.milvus_store import DEFAULT_COLLECTION  # no Milvus client is imported with the module

STORE_NAMES = ("faiss", "milvus")


class StoreFactory(Protocol):
    """Makes the new, empty store of a from-scratch build; its `name` goes into the manifest."""

    name: str
    # "folder": a build writes data folders; "milvus": `make_builder`'s builder writes every table into Milvus
    # (indexer/milvus_archive.py) and the folder gets a pointer (a bare `IndexBuilder` writes vectors only there)
    layout: str

    def __call__(self, dim: int) -> VectorStore: ...

    def same_target(self, store: VectorStore) -> bool:
        """Whether an incremental build may keep adding to `store` (it lives where this factory writes)."""
        ...


class FaissStoreFactory:
    name = "faiss"
    layout = "folder"

    def __call__(self, dim: int) -> FaissStore:
        return FaissStore(dim)

    def same_target(self, store: VectorStore) -> bool:
        return isinstance(store, FaissStore)


def _unknown(name: str) -> StoreError:
    return StoreError(f"unknown vector store {name!r}: use one of {', '.join(STORE_NAMES)}")


def store_class(name: str) -> type[VectorStore]:
    """The class whose `load(folder)` opens a store saved under `name`."""
    if name == "faiss":
        return FaissStore
    if name == "milvus":
        from isnad.indexer.stores.milvus_store import MilvusStore

        return MilvusStore
    raise _unknown(name)


def store_factory(name: str, index_folder: Path, milvus_uri: str | None = None,
                  collection: str = DEFAULT_COLLECTION, lease_s: float = 60.0) -> StoreFactory:
    """The factory for `IndexBuilder`: FAISS files, or Milvus at `milvus_uri` (default INDEX/milvus.db)."""
    if name == "faiss":
        return FaissStoreFactory()
    if name == "milvus":
        from isnad.indexer.stores.milvus_store import MilvusStoreFactory

        return MilvusStoreFactory(milvus_uri or str(index_folder / "milvus.db"), collection, lease_s)
    raise _unknown(name)


def factory_for(store: VectorStore) -> StoreFactory:
    """A factory that writes where `store` lives, so an update of a loaded index keeps its store (an API write
    on a Milvus index must not rebuild it as FAISS)."""
    if isinstance(store, FaissStore):
        return FaissStoreFactory()
    from isnad.indexer.stores.milvus_store import MilvusStore, MilvusStoreFactory

    if isinstance(store, MilvusStore):
        return MilvusStoreFactory(store.uri, store.collection)
    raise _unknown(store.name)
