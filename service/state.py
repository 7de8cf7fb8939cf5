"""What a running service holds: the loaded index and the objects built on it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import faiss

from indexer.embed import Embedder, embedder_for_model_id
from indexer.index import Index, Manifest
from service.answer import Answerer
from service.metrics import timed
from service.search import Searcher
from service.settings import Settings


@dataclass(frozen=True)
class ServiceState:
    index: Index
    embedder: Embedder
    searcher: Searcher
    answerer: Answerer

    @classmethod
    def open(cls, index_folder: Path, embedder: Embedder | None = None) -> ServiceState:
        if embedder is None:
            embedder = embedder_for_model_id(Manifest.read(index_folder).model)
        faiss.omp_set_num_threads(Settings().search_threads)
        index = Index.load(index_folder, expected_model=embedder.model_id)
        searcher = Searcher(index, timed(embedder))  # query embedding time goes to /metrics
        return cls(index, embedder, searcher, Answerer(searcher))
