"""What a running service holds: the loaded index and the objects built on it."""

from __future__ import annotations

import functools
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from isnad.indexer.embed import Embedder, embedder_for_model_id
from isnad.indexer.encoder.convert import DEFAULT_CACHE_DIR
from isnad.indexer.index import Manifest, SearchIndex
from isnad.indexer.milvus_archive import open_index
from isnad.indexer.stores.faiss_store import set_search_threads
from isnad.service.ask.answerer import Answerer
from isnad.service.ask.judge import Judge, load_judge_for
from isnad.service.ask.reader import OwnedReader, Reader
from isnad.service.ask.reader import open_reader as open_reader_named
from isnad.service.embed_executor import EmbedExecutor
from isnad.service.query_cache import CachedQueryEmbedder
from isnad.service.search import SearchConfig, Searcher
from isnad.service.settings import Settings

log = logging.getLogger(__name__)


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
    index = open_index(index_folder, expected_model=serving.model_id, store_uri=settings.milvus_uri,
                       verify_checksums=settings.verify_checksums)
    return Searcher(index, serving, config=config)


@dataclass(frozen=True)
class LoadedReader:
    """The reader the service answers with and the judge fitted for it, or None and why not (what /health shows
    as `reader`)."""

    reader: Reader | None
    status: str
    judge: Judge | None = None


def open_reader(serving: CachedQueryEmbedder, settings: Settings) -> LoadedReader:
    """The reader named by the settings on the embedder's owner thread, with its judge; a missing or damaged file
    falls back to the sentence rules, said at start and in /health, never as an error on /ask."""
    if not settings.use_reader:
        return LoadedReader(None, "off (ISNAD_USE_READER=false): sentence rules and the answerability model")
    from isnad.indexer.reader.weights import DEFAULT_READER

    path = settings.reader_file or DEFAULT_READER
    try:
        stamp = path.stat().st_mtime_ns if path.exists() else 0  # a replaced file is loaded anew
        reader, judge, problem = _loaded_reader(settings.reader, path, stamp, settings.cache_dir or DEFAULT_CACHE_DIR,
                                                settings.embed_threads, settings.embed_spinning)
    except Exception as exc:  # any failure to load means the fallback, never a service that cannot start
        status = f"fallback: sentence rules ({type(exc).__name__}: {exc})"
        log.warning("reader not loaded, answering with the sentence rules: %s", exc)
        print(f"isnad: warning: reader not loaded ({exc}); /ask falls back to the sentence rules", file=sys.stderr)
        return LoadedReader(None, status)
    executor = serving.inner
    run = executor.call if isinstance(executor, EmbedExecutor) else (lambda fn: fn())
    if problem:
        log.warning("the reader answers without its judge: %s", problem)
        print(f"isnad: warning: {problem}; /ask decides by the reader's own probability", file=sys.stderr)
    judged = f"judge: none, {problem}; no sure bar, every answer 'possible'" if problem else "with its judge"
    if judge is not None and not judge.sure_thresholds:
        judged += ", no sure bar (an older judge file): every answer 'possible'"
        log.warning("the reader's judge has no sure bar: every answer is 'possible' (refit: `isnad fit-judge`)")
    return LoadedReader(OwnedReader(reader, run), f"{reader.runtime} ({path.name}, {judged})", judge)


@functools.lru_cache(maxsize=4)
def _loaded_reader(name: str, path: Path, mtime_ns: int, cache_dir: Path, threads: int | None,
                   spinning: bool) -> tuple[Reader, Judge | None, str | None]:
    """One session per reader file and options in a process (states of several indexes share it), its judge."""
    reader = open_reader_named(name, path, cache_dir=cache_dir, threads=threads, spinning=spinning)
    sha256 = getattr(reader, "sha256", None)
    if sha256 is None:
        return reader, None, f"the {name} reader names no file its judge was fitted for"
    return (reader, *load_judge_for(path, sha256))


@dataclass(frozen=True)
class ServiceState:
    index: SearchIndex
    embedder: CachedQueryEmbedder
    searcher: Searcher
    answerer: Answerer
    reader: LoadedReader = LoadedReader(None, "not loaded")

    @classmethod
    def open(cls, index_folder: Path, embedder: Embedder | None = None, settings: Settings | None = None,
             reader: LoadedReader | None = None) -> ServiceState:
        """`reader`: the one already loaded (a reload keeps it); None loads it per the settings."""
        settings = settings or Settings()
        searcher = open_searcher(index_folder, embedder, settings=settings)
        serving = searcher.embedder
        assert isinstance(serving, CachedQueryEmbedder)  # open_searcher wraps it with serving_embedder
        loaded = reader if reader is not None else open_reader(serving, settings)
        return cls(searcher.index, serving, searcher, Answerer(searcher, reader=loaded.reader, judge=loaded.judge),
                   loaded)
