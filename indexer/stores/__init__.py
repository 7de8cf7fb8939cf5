"""Vector stores behind one seam (`VectorStore`), the filter kernel they share, and BM25.

Layer: imports only `indexer.types`, `indexer.text` and this package.
"""

from isnad.indexer.stores.base import StoreError, StoreUnavailable, VectorStore
from isnad.indexer.stores.faiss_store import FaissStore
from isnad.indexer.stores.filters import FilterColumns, FilterTable, milvus_expression
from isnad.indexer.stores.lexical import LexicalIndex
from isnad.indexer.stores.registry import (
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
    "StoreUnavailable",
    "VectorStore",
    "factory_for",
    "milvus_expression",
    "store_class",
    "store_factory",
]
