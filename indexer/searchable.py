"""`SearchIndex`: what search and /ask read from an archive, addressed by `Chunk.key`, never by a row.

Two implementations: `Index` (a folder of files with FAISS or vectors-only Milvus, loaded into this process) and
`MilvusArchive` (everything in Milvus: a replica holds no table). The service reads only this seam, so it serves
either the same way, and fusion stays the service's (`service/fusion.py`) over the two hit lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from isnad.indexer.stores.base import VectorStore
from isnad.indexer.types import Chunk, Document, Hit, SearchFilters

if TYPE_CHECKING:
    from isnad.indexer.index import Manifest


class SearchIndex(Protocol):
    folder: Path  # where the index's manifest lives, and the bridge's caches
    manifest: Manifest
    documents: Mapping[str, Document]
    store: VectorStore  # its `problem()` is /health's store line
    damaged: str | None

    @property
    def has_lexical(self) -> bool:
        """Whether BM25 is available (an index whose BM25 files are unusable searches dense only)."""
        ...

    def dense_hits(self, vector: np.ndarray, n: int, filters: SearchFilters | None) -> list[Hit]:
        """The `n` nearest passages by cosine, best first."""
        ...

    def lexical_hits(self, terms: Sequence[str] | Mapping[str, float], n: int,
                     filters: SearchFilters | None) -> list[Hit]:
        """The `n` best passages by BM25 (bm25s' scale) over analysed terms (weighted or not), best first."""
        ...

    def passages(self, keys: Sequence[int]) -> dict[int, Chunk]:
        """The passages of those keys that exist."""
        ...

    def rounds_of(self, keys: Sequence[int]) -> dict[int, tuple[int, ...]]: ...

    def known_rounds(self) -> set[int]:
        """Every round some passage mentions (a question about another round is not answered)."""
        ...

    def passage_count(self) -> int: ...

    def document_texts(self) -> Iterable[str]:
        """Every document's text once (the cross-lingual bridge's vocabulary)."""
        ...
