"""A searcher over a few hand-written documents and the hash embedder: ranking and answering without a model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from indexer.index import Index
from indexer.pipeline import make_builder
from indexer.types import RawDocument
from service.search import Searcher
from tests.indexer.fake_embedder import HashEmbedder


def tiny_searcher(folder: Path, documents: Sequence[RawDocument]) -> Searcher:
    embedder = HashEmbedder()
    make_builder(embedder, progress=False).run(documents, folder)
    return Searcher(Index.load(folder), embedder)
