"""The indexing pipeline as the service configures it (chunk enrichment included)."""

from __future__ import annotations

from indexer.chunk import Chunker
from indexer.embed import Embedder
from indexer.index import IndexBuilder


def make_builder(embedder: Embedder, progress: bool = True, chunker: Chunker | None = None) -> IndexBuilder:
    return IndexBuilder(embedder, chunker=chunker, progress=progress)
