"""What a running service holds: the loaded index and the objects built on it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from indexer.embed import Embedder, embedder_for_model_id
from indexer.index import Index, Manifest
from indexer.stores.faiss_store import set_search_threads
from service.answer import Answerer
from service.embed_executor import EmbedExecutor
from service.metrics import timed
from service.query_cache import CachedQueryEmbedder
from service.search import Searcher
from service.settings import Settings


def serving_embedder(embedder: Embedder, settings: Settings | None = None) -> CachedQueryEmbedder:
    """query cache -> one owner thread (batching) -> timing -> the engine; reloads keep the same one."""
    if isinstance(embedder, CachedQueryEmbedder):
        return embedder
    settings = settings or Settings()
    executor = EmbedExecutor(timed(embedder), window_s=settings.embed_window_ms / 1000)
    return CachedQueryEmbedder(executor, settings.query_cache_size)


@dataclass(frozen=True)
class ServiceState:
    index: Index
    embedder: CachedQueryEmbedder
    searcher: Searcher
    answerer: Answerer
    store_uri: str | None = None  # where a Milvus store runs now, when not where the index was built

    @classmethod
    def open(cls, index_folder: Path, embedder: Embedder | None = None, store_uri: str | None = None) -> ServiceState:
        settings = Settings()
        store_uri = store_uri or settings.milvus_uri
        if embedder is None:
            embedder = embedder_for_model_id(Manifest.read(index_folder).model)
        serving = serving_embedder(embedder, settings)
        set_search_threads(settings.search_threads)
        index = Index.load(index_folder, expected_model=serving.model_id, store_uri=store_uri)
        searcher = Searcher(index, serving)
        return cls(index, serving, searcher, Answerer(searcher), store_uri)
