"""The indexing pipeline as the service configures it: chunks are tagged with the rounds they mention."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from isnad.indexer.chunk import Chunker
from isnad.indexer.embed import Embedder
from isnad.indexer.index import CHUNKS_FILE, DEFAULT_SORT_WINDOW, DOCUMENTS_FILE, BuildReport, IndexBuilder, Manifest
from isnad.indexer.milvus_archive import MilvusArchive, index_into_milvus
from isnad.indexer.stores import StoreFactory
from isnad.indexer.tables import load_tables
from isnad.indexer.text import induced
from isnad.indexer.text.arabic import TOKENIZER_VERSION
from isnad.indexer.text.induced import InducedLexicon, vocabulary_version, vocabulary_with_df
from isnad.indexer.text.rounds import ROUNDS_VERSION, tag_rounds
from isnad.indexer.types import RawDocument

ENRICH_VERSION = f"{ROUNDS_VERSION}/tok-{TOKENIZER_VERSION}"  # in the manifest: a change forces a full rebuild


class BridgedBuilder(IndexBuilder):
    """A full index build that also embeds the archive's vocabulary for the cross-lingual bridge
    (indexer/text/induced.py), so a service never does it while answering a request. Partial updates
    (indexer/changes.py, through `build`) leave it to the first English question after the reload, which
    embeds only the new words."""

    def run(self, source: str | Path | Iterable[RawDocument], index_folder: str | Path,
            keep_api_documents: bool = True, rebuild: bool = False, lock_timeout: float | None = None) -> BuildReport:
        if self.store_factory.layout == "milvus":  # every table in Milvus: the folder gets only a pointer
            factory: Any = self.store_factory  # a MilvusStoreFactory
            report = index_into_milvus(self, source, Path(index_folder), factory.uri, factory.collection,
                                       keep_api_documents, rebuild, lock_timeout, factory.lease_s)
        else:
            report = super().run(source, index_folder, keep_api_documents=keep_api_documents, rebuild=rebuild,
                                 lock_timeout=lock_timeout)
        embed_bridge_vocabulary(Path(index_folder), self.embedder)
        return report


def embed_bridge_vocabulary(folder: Path, embedder: Embedder) -> None:
    """Embed the index's vocabulary for the bridge into its cache file (only words the cache lacks), as a
    full build does, so the service never embeds it while serving."""
    manifest = Manifest.read(folder)
    if manifest.layout == "milvus":  # the archive's own manifest (in Milvus) carries the vocabulary's version
        archive = MilvusArchive.open(folder)
        try:
            InducedLexicon.for_index(folder, vocabulary_version(archive.manifest.data),
                                     lambda: vocabulary_with_df(archive.document_texts()), embedder,
                                     min_df=induced.MIN_DF)
        finally:
            archive.close()
        return
    # documents only: the vector store (maybe Milvus) is not reopened
    documents = load_tables(folder / manifest.data, DOCUMENTS_FILE, CHUNKS_FILE).documents
    InducedLexicon.for_index(folder, vocabulary_version(manifest.data),
                             lambda: vocabulary_with_df(d.text for d in documents.values()),
                             embedder, min_df=induced.MIN_DF)


def make_builder(embedder: Embedder, progress: bool = True, chunker: Chunker | None = None,
                 store_factory: StoreFactory | None = None, sort_window: int = DEFAULT_SORT_WINDOW) -> IndexBuilder:
    return BridgedBuilder(embedder, chunker=chunker, progress=progress, enrich=tag_rounds,
                          enrich_version=ENRICH_VERSION, store_factory=store_factory, sort_window=sort_window)
