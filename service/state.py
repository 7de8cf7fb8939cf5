"""What a running service holds: the loaded index and the objects built on it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from isnad.indexer.embed import Embedder, embedder_for_model_id
from isnad.indexer.index import Index, Manifest
from isnad.indexer.stores.faiss_store import set_search_threads
from isnad.service.answer import Answerer
from isnad.service.embed_executor import EmbedExecutor
from isnad.service.query_cache import CachedQueryEmbedder
from isnad.service.search import SearchConfig, Searcher
from isnad.service.settings import Settings


def serving_embedder(embedder: Embedder, settings: Settings | None = None) -> CachedQueryEmbedder:
    """query cache -> one owner thread (batching, timing) -> the engine; reloads keep the same one."""
    if isinstance(embedder, CachedQueryEmbedder):
        return embedder
    settings = settings or Settings()
    executor = EmbedExecutor(embedder, window_s=settings.embed_window_ms / 1000)
    return CachedQueryEmbedder(executor, settings.query_cache_size)


def open_searcher(index_folder: Path, embedder: Embedder | None = None, config: SearchConfig | None = None,
                  settings: Settings | None = None) -> Searcher:
    """A searcher over an index folder with the service's query path (query cache, one embedding thread).

    `embedder` defaults to the model the index was built with; the evaluation passes its own.
    """
    settings = settings or Settings()
    if embedder is None:
        embedder = embedder_for_model_id(Manifest.read(index_folder).model, settings.embed_runtime,
                                         settings.cache_dir, settings.embed_spinning,
                                         settings.embed_threads)
    serving = serving_embedder(embedder, settings)
    set_search_threads(settings.search_threads)
    index = Index.load(index_folder, expected_model=serving.model_id, store_uri=settings.milvus_uri,
                       verify_checksums=settings.verify_checksums)
    return Searcher(index, serving, config=config)


@dataclass(frozen=True)
class ServiceState:
    index: Index
    embedder: CachedQueryEmbedder
    searcher: Searcher
    answerer: Answerer

    @classmethod
    def open(cls, index_folder: Path, embedder: Embedder | None = None,
             settings: Settings | None = None) -> ServiceState:
        searcher = open_searcher(index_folder, embedder, settings=settings)
        serving = searcher.embedder
        assert isinstance(serving, CachedQueryEmbedder)  # open_searcher wraps it with serving_embedder
        return cls(searcher.index, serving, searcher, Answerer(searcher))
