"""The indexing pipeline as the service configures it: chunks are tagged with the rounds they mention."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from indexer.arabic import TOKENIZER_VERSION
from indexer.chunk import Chunker
from indexer.embed import Embedder
from indexer.index import IndexBuilder, chunk_contexts
from indexer.rounds import detect_rounds
from indexer.store import VectorStore
from indexer.types import Chunk

ENRICH_VERSION = f"rounds-2/tok-{TOKENIZER_VERSION}"


def tag_rounds(chunks: Sequence[Chunk]) -> list[Chunk]:
    # Headline + previous sentence + text name the round a paragraph often leaves implicit.
    return [replace(c, rounds=detect_rounds(text)) for c, text in zip(chunks, chunk_contexts(chunks), strict=True)]


def make_builder(embedder: Embedder, progress: bool = True, chunker: Chunker | None = None,
                 store_factory: Callable[[int], VectorStore] | None = None) -> IndexBuilder:
    return IndexBuilder(embedder, chunker=chunker, progress=progress, enrich=tag_rounds,
                        enrich_version=ENRICH_VERSION, store_factory=store_factory)
