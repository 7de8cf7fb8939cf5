"""The archive's tables in Milvus: the passages collection passes the same `VectorStore` contract as FAISS (through
a milvus-lite file and a milvus-lite server's URI); a document's head row is its commit point (a later version's
parts written without the head are never read, a long document round-trips through its parts); the meta table
holds JSON values."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from isnad.indexer.stores import VectorStore
from isnad.indexer.stores.milvus_tables import PART_CHARS, MilvusDocuments, MilvusMeta, MilvusPassages, connect
from isnad.indexer.types import Document, document_record
from tests.indexer.stores.store_contract import StoreContract
from tests.indexer.stores.test_milvus_store import milvus_server_uri, milvus_uri  # noqa: F401 (fixtures)


class _PassagesFactory:
    def __init__(self, uri: str) -> None:
        self.uri = uri

    def __call__(self, dim: int) -> MilvusPassages:
        return MilvusPassages(dim, self.uri, "contract_passages")


class TestMilvusPassages(StoreContract):
    @pytest.fixture
    def new_store(self, milvus_uri: str) -> Callable[[int], VectorStore]:  # noqa: F811
        return _PassagesFactory(milvus_uri)

    @pytest.fixture
    def reopen(self) -> Callable[[VectorStore, Path], VectorStore]:
        def _reopen(store: VectorStore, folder: Path) -> VectorStore:
            store.save(folder)
            return MilvusPassages.load(folder)

        return _reopen


@pytest.mark.slow
class TestMilvusServerPassages(TestMilvusPassages):
    """The same contract through a Milvus server's URI, as replicas use it."""

    @pytest.fixture
    def new_store(self, milvus_server_uri: str) -> Callable[[int], VectorStore]:  # noqa: F811
        return _PassagesFactory(milvus_server_uri)


@pytest.fixture
def client(milvus_uri: str) -> Any:  # noqa: F811
    return connect(milvus_uri)


def test_the_head_row_is_the_commit_point_and_long_documents_round_trip(client: Any) -> None:
    documents = MilvusDocuments(client, "docs", create=True)
    long_text = "نص طويل عن المفاوضات في أستانا. " * (3 * PART_CHARS // 30)
    v1 = Document(doc_id="d-1", text=long_text, title="عنوان", published="2018-01-01", origin="api")
    documents.put([(v1, "a" * 64)])
    assert documents["d-1"] == v1 and len(documents) == 1 and documents.hashes_of(["d-1"]) == {"d-1": ("a" * 64, "api")}

    v2 = Document(doc_id="d-1", text=long_text.replace("أستانا", "جنيف"), title="عنوان")
    record = document_record(v2, "b" * 64).decode("utf-8")
    tails = [{"pk": f"p:d-1#{'b' * 16}#{i}", "doc_id": "d-1", "part": i, "parts": 4, "hash": "b" * 64,
              "origin": "folder", "data": record[i * PART_CHARS : (i + 1) * PART_CHARS], "v": [1.0, 0.0]}
             for i in range(1, 4)]
    client.upsert("docs", tails)  # a writer killed after v2's later parts, before its head moved
    documents._recent.clear()
    assert documents["d-1"] == v1  # still the acknowledged version, whole

    documents.put([(v2, "b" * 64)])  # the write done again: the head moves, v1's parts go
    assert documents["d-1"] == v2
    parts = client.query("docs", filter='doc_id == "d-1"', output_fields=["hash"])
    assert {p["hash"] for p in parts} == {"b" * 64}
    assert list(documents.texts()) == [v2.text]

    documents.remove(["d-1"])
    assert "d-1" not in documents and len(documents) == 0
    assert client.query("docs", filter='doc_id == "d-1"', output_fields=["pk"]) == []


def test_meta_holds_json_values(client: Any) -> None:
    meta = MilvusMeta(client, "meta", create=True)
    assert meta.get("rounds") is None
    meta.put("rounds", [2, 4, 8])
    meta.put("manifest", {"model": "m", "dim": 384, "note": "نص"})
    assert meta.get("rounds") == [2, 4, 8] and meta.get("manifest")["note"] == "نص"
    meta.delete("rounds")
    assert meta.get("rounds") is None
