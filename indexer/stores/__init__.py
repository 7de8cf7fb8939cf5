"""Vector stores behind one seam (`VectorStore`), the filter kernel they share, and BM25.

Layer: imports only `indexer.types`, `indexer.text` and this package.
"""

from indexer.stores.base import StoreError, VectorStore
from indexer.stores.faiss_store import FaissStore
from indexer.stores.filters import FilterColumns, FilterTable, milvus_expression
from indexer.stores.lexical import LexicalIndex
from indexer.stores.registry import (
    STORE_NAMES,
    FaissStoreFactory,
    StoreFactory,
    factory_for,
    store_class,
    store_factory,
)

__all__ = [
    "STORE_NAMES",
    "FaissStore",
    "FaissStoreFactory",
    "FilterColumns",
    "FilterTable",
    "LexicalIndex",
    "StoreError",
    "StoreFactory",
    "VectorStore",
    "factory_for",
    "milvus_expression",
    "store_class",
    "store_factory",
]
