"""Several named indexes on one server: the registry of collections, and searches across them.

Every collection shares the first one's encoder (and its query cache) and reader, so a collection costs its
index and little more, and scores compare: one model embeds every query and every passage. The first
collection is the default, the one today's routes (`/search`, `/documents/...`) act on when none is named.

Across collections, results are merged into one `SearchResponse` whose chunks carry qualified document ids
("name/doc_id": a doc_id never contains '/'), so the answerer, the differing figures and the copies work over
them unchanged; `split` turns them back into (collection, doc_id) for the client.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from isnad.indexer.embed import Embedder, Role
from isnad.indexer.index import IndexLoadError
from isnad.indexer.types import Chunk, Document, SearchFilters
from isnad.service.ask.answerer import Answer, Answerer
from isnad.service.fusion import dedupe_copies
from isnad.service.keys import COLLECTION_NAME, COLLECTION_NAME_RULE
from isnad.service.live import LiveIndex
from isnad.service.search import Searcher, SearchResponse, SearchResult
from isnad.service.settings import Settings
from isnad.service.state import ServiceState

DEFAULT_NAME = "default"  # the name of a server's only index when it is given as --index PATH
SEP = "/"


class CollectionSpecError(ValueError):
    """A --collection NAME=PATH (or ISNAD_COLLECTIONS) entry that cannot be served."""


def parse_specs(specs: Sequence[str]) -> dict[str, Path]:
    """`["public=/a", "probe=/b"]` (or one comma-separated string each) -> {name: folder}, in order."""
    out: dict[str, Path] = {}
    for spec in (part.strip() for item in specs for part in item.split(",")):
        if not spec:
            continue
        name, eq, path = spec.partition("=")
        name = name.strip()
        if not eq or not path.strip():
            raise CollectionSpecError(f"collection {spec!r}: write it as NAME=PATH (e.g. public=indexes/public)")
        if not COLLECTION_NAME.fullmatch(name):
            raise CollectionSpecError(f"collection name {name!r} is not valid: {COLLECTION_NAME_RULE}")
        if name in out:
            raise CollectionSpecError(f"collection {name!r} is named twice")
        out[name] = Path(path.strip())
    return out


class _Holder:
    """What a LiveIndex swaps its state in: app.state for the default collection, this for the others."""

    def __init__(self, state: ServiceState, settings: Settings) -> None:
        self.isnad, self.settings = state, settings


class Collections:
    """name -> LiveIndex, in the order given; the first is the default."""

    def __init__(self, lives: Mapping[str, LiveIndex]) -> None:
        if not lives:
            raise CollectionSpecError("no collection to serve")
        self._lives = dict(lives)

    @classmethod
    def open(cls, folders: Mapping[str, Path], default_holder: Any, settings: Settings) -> Collections:
        """Opens the first folder into `default_holder.isnad` (unless it holds a state already), the others
        with its encoder and reader."""
        items = list(folders.items())
        if default_holder.isnad is None:
            default_holder.isnad = ServiceState.open(items[0][1], settings=settings)
        first: ServiceState = default_holder.isnad
        lives = {items[0][0]: LiveIndex(default_holder)}
        for name, folder in items[1:]:
            try:
                state = ServiceState.open(folder, first.embedder, settings, first.reader)
            except (IndexLoadError, OSError, ValueError) as exc:  # e.g. another model: scores would not compare
                raise CollectionSpecError(f"collection {name!r} at {folder}: {exc} (every collection is served "
                                          f"with the first one's model, {first.embedder.model_id})") from exc
            lives[name] = LiveIndex(_Holder(state, settings))
        return cls(lives)

    @property
    def names(self) -> list[str]:
        return list(self._lives)

    @property
    def default(self) -> str:
        return next(iter(self._lives))

    def live(self, name: str) -> LiveIndex | None:
        return self._lives.get(name)

    def state(self, name: str) -> ServiceState:
        return self._lives[name].current

    def lives(self) -> list[LiveIndex]:
        return list(self._lives.values())


def qualify(name: str, doc_id: str) -> str:
    return f"{name}{SEP}{doc_id}"


def split(qualified: str) -> tuple[str | None, str]:
    """(collection, doc_id) of a qualified id; (None, doc_id) for a plain one."""
    name, sep, doc_id = qualified.partition(SEP)
    return (name, doc_id) if sep else (None, qualified)


class QualifiedDocuments(Mapping[str, Document]):
    """The documents of several collections under qualified ids, read through (nothing is copied)."""

    def __init__(self, by_name: Mapping[str, Mapping[str, Document]]) -> None:
        self._by_name = by_name

    def __getitem__(self, key: str) -> Document:
        name, doc_id = split(key)
        if name is None or name not in self._by_name:
            raise KeyError(key)
        return self._by_name[name][doc_id]

    def __iter__(self) -> Iterator[str]:
        return (qualify(n, d) for n, docs in self._by_name.items() for d in docs)

    def __len__(self) -> int:
        return sum(len(docs) for docs in self._by_name.values())


class _EmbedOnce:
    """The shared encoder for one request: the question is embedded once for every collection, even with the
    query cache off (the vectors are the same: one model). One slot: a bridge built during the request may
    keep this object, and must not keep more than a vector through it."""

    def __init__(self, inner: Embedder) -> None:
        self.inner, self.model_id = inner, inner.model_id
        self._last: tuple[tuple[tuple[str, ...], str], np.ndarray] | None = None

    def embed_batch(self, texts: Sequence[str], role: Role) -> np.ndarray:
        key = (tuple(texts), str(role))
        if self._last is None or self._last[0] != key:
            self._last = (key, self.inner.embed_batch(texts, role=role))
        return self._last[1]

    def __getattr__(self, name: str) -> Any:  # the background lane, the dimension: the encoder's own
        return getattr(self.inner, name)


def _with_embedder(searcher: Searcher, embedder: Any) -> Searcher:
    clone = copy.copy(searcher)  # shares the index and the bridge parts built for it
    clone.embedder = embedder
    return clone


def _qualified(name: str, chunk: Chunk) -> Chunk:
    return replace(chunk, doc_id=qualify(name, chunk.doc_id))


@dataclass(frozen=True)
class Merged:
    """A search over several collections: the response (qualified ids) and the documents it names."""

    response: SearchResponse
    documents: QualifiedDocuments
    states: dict[str, ServiceState]


def merged_search(states: Mapping[str, ServiceState], query: str, k: int,
                  filters: SearchFilters | None = None) -> Merged:
    """One ranking over the collections: each is searched for k, the fused scores (one model, one formula)
    are merged, and copies of one passage in several collections are folded into one result."""
    started = time.perf_counter()
    once = _EmbedOnce(next(iter(states.values())).embedder)
    responses = {name: _with_embedder(state.searcher, once).search(query, k, filters)
                 for name, state in states.items()}
    candidates = sorted(((r.score, name, r) for name, resp in responses.items() for r in resp.results),
                        key=lambda t: -t[0])
    results = [replace(r, chunk=_qualified(name, r.chunk), copies=tuple(_qualified(name, c) for c in r.copies))
               for _, name, r in candidates]
    by_row = dict(enumerate(results))
    jaccard = next(iter(states.values())).searcher.config.dedupe_jaccard
    kept = dedupe_copies(list(by_row), k, lambda row: by_row[row].chunk.text, jaccard)
    final: list[SearchResult] = []
    for i, (row, copy_rows) in enumerate(list(kept.items())[:k]):
        result = by_row[row]
        seen = {result.chunk.doc_id, *(c.doc_id for c in result.copies)}
        extra = tuple(by_row[c].chunk for c in copy_rows if by_row[c].chunk.doc_id not in seen)
        final.append(replace(result, rank=i + 1, copies=result.copies + extra))
    first = next(iter(responses.values()))
    dense = [r.best_dense for r in responses.values() if r.best_dense is not None]
    response = SearchResponse(query, tuple(final), (time.perf_counter() - started) * 1000, first.analyzed,
                              max(dense, default=None), first.query_vector)
    documents = QualifiedDocuments({name: state.index.documents for name, state in states.items()})
    return Merged(response, documents, dict(states))


@dataclass(frozen=True)
class _MergedIndex:
    documents: QualifiedDocuments
    rounds: frozenset[int]

    def known_rounds(self) -> set[int]:
        return set(self.rounds)


@dataclass(frozen=True)
class _MergedSearcher:
    """What the Answerer reads of its searcher: the index's documents and rounds, and the model's id."""

    index: _MergedIndex
    embedder: Any


def merged_ask(merged: Merged, started: float, min_confidence: float | None = None) -> Answer:
    """The existing Answerer over a merged response: only the merged collections' rounds and documents."""
    first = next(iter(merged.states.values()))
    rounds = set().union(*(s.index.known_rounds() for s in merged.states.values()))
    view = _MergedSearcher(_MergedIndex(merged.documents, frozenset(rounds)), first.embedder)
    answerer = Answerer(view, reader=first.answerer.reader, model=first.answerer.model or False,
                        judge=first.answerer.judge)  # type: ignore[arg-type]
    return answerer.answer(merged.response, started, min_confidence)
