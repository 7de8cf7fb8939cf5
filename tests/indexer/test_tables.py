"""The column form of a loaded index (indexer/tables.py) reads back exactly what the JSONL files hold."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from isnad.indexer.index import Index, IndexLoadError, Manifest
from isnad.indexer.tables import COLUMNS_FILE, load_tables
from isnad.indexer.types import Chunk, SearchFilters
from tests.indexer.stores.test_filters import accepts


def _jsonl_chunks(index: Index) -> list[Chunk]:
    lines = (index.folder / index.manifest.data / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    return [Chunk(**{**rec, "rounds": tuple(rec["rounds"])}) for rec in map(json.loads, lines)]


def test_columns_materialize_the_written_chunks(sample_index: Path) -> None:
    index = Index.load(sample_index)
    expected = _jsonl_chunks(index)
    assert list(index.chunks) == expected and index.chunks[-1] == expected[-1] and index.chunks[:3] == expected[:3]
    for row, chunk in enumerate(expected):
        assert index.chunks.by_key.get(chunk.key) == row and chunk.key in index.chunks.by_key
    assert index.chunks.by_key.get(12345) is None and 12345 not in index.chunks.by_key
    assert index.chunks.known_rounds() == {r for c in expected for r in c.rounds}
    with pytest.raises(IndexError):
        index.chunks[len(expected)]


def test_documents_mapping(sample_index: Path) -> None:
    index = Index.load(sample_index)
    lines = (sample_index / index.manifest.data / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert list(index.documents) == [r["doc_id"] for r in records] and len(index.documents) == len(records)
    for rec in records:
        doc = index.documents[rec["doc_id"]]
        assert (doc.text, doc.title, doc.published) == (rec["text"], rec["title"], rec["published"])
        assert index.document_hashes[rec["doc_id"]] == rec["hash"] == doc.content_hash
    assert "nope" not in index.documents and index.documents.get("nope") is None
    assert [d.doc_id for d in index.documents.values()] == list(index.documents)


@pytest.mark.parametrize("filters", [SearchFilters(round=4), SearchFilters(doc_id="002_3e452db34f5d0aa1"),
                                     SearchFilters(published_from="2017-06-01", published_to="2018-12-31"),
                                     SearchFilters(round=8, published_from="2017-01-01"), SearchFilters(doc_id="x")])
def test_vectorized_filter_mask_matches_the_rule_per_chunk(sample_index: Path, filters: SearchFilters) -> None:
    index = Index.load(sample_index)
    expected = np.array([accepts(filters, c) for c in index.chunks])
    assert np.array_equal(index.chunks.mask(filters), expected)


def test_chunks_unlike_their_document_filter_by_their_own_fields(tmp_path: Path, sample_index: Path) -> None:
    # A chunks.jsonl-only index whose chunks differ from their document (date, doc_id): kept whole as odd rows
    data = tmp_path / "data"
    shutil.copytree(sample_index / Manifest.read(sample_index).data, data)
    (data / COLUMNS_FILE).unlink()
    records = [json.loads(line) for line in (data / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
    records[0]["published"] = "1999-01-01"
    records[1].update(doc_id="ghost", chunk_id="ghost#0")
    dated = next(i for i, r in enumerate(records) if i > 1 and r["published"] is not None)
    records[dated]["published"] = None
    (data / "chunks.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                                       encoding="utf-8")
    table = load_tables(data, "documents.jsonl", "chunks.jsonl")
    assert set(table.odd) == {0, 1, dated}
    some_round = next(r for rec in records for r in rec["rounds"])
    for filters in [SearchFilters(published_to="2000-01-01"), SearchFilters(doc_id="ghost"),
                    SearchFilters(doc_id=records[dated]["doc_id"]), SearchFilters(published_from="2017-01-01"),
                    SearchFilters(round=some_round, published_from="1990-01-01")]:
        expected = np.array([accepts(filters, c) for c in table])
        assert expected.any() and np.array_equal(table.mask(filters), expected), filters


def test_without_the_column_file_the_jsonl_files_load_the_same(tmp_path: Path, sample_index: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(sample_index, copy)
    (copy / Manifest.read(copy).data / COLUMNS_FILE).unlink()
    fallback, columns = Index.load(copy), Index.load(sample_index)
    assert list(fallback.chunks) == list(columns.chunks)
    assert dict(fallback.documents.items()) == dict(columns.documents.items())
    assert fallback.document_hashes == columns.document_hashes
    assert np.array_equal(fallback.chunks.mask(SearchFilters(round=4)), columns.chunks.mask(SearchFilters(round=4)))


def test_truncated_documents_file_is_a_clear_error(tmp_path: Path, sample_index: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(sample_index, copy)
    docs = copy / Manifest.read(copy).data / "documents.jsonl"
    docs.write_bytes(docs.read_bytes()[:-10])
    with pytest.raises(IndexLoadError, match=r"documents\.jsonl is damaged \(\d+ bytes"):  # the manifest's record
        Index.load(copy)
