"""A searcher over a few hand-written documents and the hash embedder: ranking and answering without a model."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from isnad.indexer.index import Index
from isnad.indexer.pipeline import make_builder
from isnad.indexer.types import RawDocument
from isnad.service.search import Searcher
from tests.indexer.fake_embedder import HashEmbedder


def tiny_searcher(folder: Path, documents: Sequence[RawDocument]) -> Searcher:
    embedder = HashEmbedder()
    make_builder(embedder, progress=False).run(documents, folder)
    return Searcher(Index.load(folder), embedder)
