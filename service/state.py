"""What a running service holds: the loaded index and the objects built on it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import faiss

from indexer.embed import Embedder, embedder_for_model_id
from indexer.index import Index, Manifest
from service.answer import Answerer
from service.metrics import timed
from service.search import Searcher


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
        # One OpenMP thread per search: requests already run in parallel, and on a busy 2-core machine
        # faiss's 2-thread search of one query measured 4x slower (88 vs 23 ms at 100k) than 1 thread.
        faiss.omp_set_num_threads(int(os.environ.get("ISNAD_SEARCH_THREADS", "1")))
        index = Index.load(index_folder, expected_model=embedder.model_id)
        searcher = Searcher(index, timed(embedder))  # query embedding time goes to /metrics
        return cls(index, embedder, searcher, Answerer(searcher))
