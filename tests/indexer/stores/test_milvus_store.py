"""The store contract on Milvus (embedded milvus-lite, a local `.db` file), plus what is Milvus-specific."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from isnad.indexer.stores import StoreError, VectorStore
from isnad.indexer.stores import milvus_store as store_milvus
from isnad.indexer.stores.filters import milvus_fields, milvus_schema_fields
from isnad.indexer.stores.milvus_store import MilvusStore, MilvusStoreFactory
from isnad.indexer.types import Chunk, SearchFilters
from tests.indexer.stores.store_contract import DIM, StoreContract, make_chunks, unit_vectors


@pytest.fixture
def milvus_uri(tmp_path: Path) -> Iterator[str]:
    uri = str(tmp_path / "milvus.db")
    yield uri
    from milvus_lite.server_manager import server_manager_instance

    server_manager_instance.release_server(uri)  # one in-process server per test, stopped after it


class TestMilvusStore(StoreContract):
    @pytest.fixture
    def new_store(self, milvus_uri: str) -> Callable[[int], VectorStore]:
        return MilvusStoreFactory(milvus_uri, "contract")

    @pytest.fixture
    def reopen(self) -> Callable[[VectorStore, Path], VectorStore]:
        def _reopen(store: VectorStore, folder: Path) -> VectorStore:
            store.save(folder)
            return MilvusStore.load(folder)

        return _reopen


def test_awkward_doc_ids_and_undated_chunks_filter_like_faiss(milvus_uri: str) -> None:
    store = MilvusStore(DIM, milvus_uri, "awkward")
    ids = ['q"uote', "back\\slash", "عربي' or 1==1", "line\nbreak"]
    chunks = [Chunk(d, f"{d}#0", 0, 1, "x", None, None if i == 0 else "2018-01-01", (i,)) for i, d in enumerate(ids)]
    store.add(chunks, unit_vectors(4))
    query = unit_vectors(1, seed=4)
    for chunk in chunks:
        assert [h.key for h in store.search(query, 5, SearchFilters(doc_id=chunk.doc_id))[0]] == [chunk.key]
    dated = store.search(query, 5, SearchFilters(published_to="2030-01-01"))[0]
    assert {h.key for h in dated} == {c.key for c in chunks[1:]}  # the undated chunk never matches a date range


def test_pointer_is_relative_inside_the_index_folder_and_index_switches_by_size(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = tmp_path / "index"
    uri = str(index / "milvus.db")
    try:
        store = MilvusStore(DIM, uri, "sized")
        chunks, vectors = make_chunks(40), unit_vectors(40)
        store.add(chunks, vectors)
        monkeypatch.setattr(store_milvus, "HNSW_MIN_ROWS", 30)
        store.save(index / "data-1")
        pointer = json.loads((index / "data-1" / "milvus.json").read_text())
        assert pointer == {"uri": "./milvus.db", "collection": "sized", "dim": DIM, "count": 40,
                           "index_type": "HNSW"}
        loaded = MilvusStore.load(index / "data-1")
        assert loaded.index_type == "HNSW" and loaded.uri == str(Path(uri).resolve())
        assert [h[0].key for h in loaded.search(vectors[[0, 33]], 3)] == [chunks[0].key, chunks[33].key]
    finally:
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(uri)


def test_missing_pointer_or_collection_is_a_store_error(tmp_path: Path, milvus_uri: str) -> None:
    with pytest.raises(StoreError, match="missing"):
        MilvusStore.load(tmp_path)
    (tmp_path / "milvus.json").write_text(json.dumps({"uri": milvus_uri, "collection": "gone", "dim": DIM}))
    with pytest.raises(StoreError, match="not found"):
        MilvusStore.load(tmp_path)


def test_factory_reuses_only_its_own_target(milvus_uri: str) -> None:
    factory = MilvusStoreFactory(milvus_uri, "mine")
    store = factory(DIM)
    assert factory.same_target(store)
    assert not MilvusStoreFactory(milvus_uri, "other").same_target(store)


def test_load_takes_the_uri_where_milvus_runs_now(tmp_path: Path, milvus_uri: str) -> None:
    store = MilvusStore(DIM, milvus_uri, "moved")
    store.add(make_chunks(2), unit_vectors(2))
    store.save(tmp_path / "data-1")
    elsewhere = str(tmp_path / "elsewhere" / "milvus.db")
    try:
        with pytest.raises(StoreError, match="elsewhere"):  # the override is used, not the saved uri
            MilvusStore.load(tmp_path / "data-1", uri=elsewhere)
    finally:
        from milvus_lite.server_manager import server_manager_instance

        server_manager_instance.release_server(elsewhere)
    assert MilvusStore.load(tmp_path / "data-1", uri=milvus_uri).count() == 2


def test_a_collection_with_the_old_bm25_fields_loads_and_is_rebuilt_by_the_next_index(
        tmp_path: Path, milvus_uri: str) -> None:
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    client = MilvusClient(milvus_uri)  # the schema the code before issue 12 created
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=DIM)
    milvus_schema_fields(schema, DataType)
    schema.add_field("terms", DataType.VARCHAR, max_length=1000, enable_analyzer=True,
                     analyzer_params={"tokenizer": "standard"})
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"],
                                 output_field_names=["sparse"]))
    params = client.prepare_index_params()
    params.add_index("vector", index_name="vector", index_type="FLAT", metric_type="IP")
    params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    client.create_collection("old", schema=schema, index_params=params, consistency_level="Strong")
    chunks, vectors = make_chunks(3), unit_vectors(3)
    client.insert("old", [{"key": c.key, "vector": v, **milvus_fields(c), "terms": "t1 t2"}
                          for c, v in zip(chunks, vectors, strict=True)])
    (tmp_path / "milvus.json").write_text(json.dumps({"uri": milvus_uri, "collection": "old", "dim": DIM,
                                                       "lexical": True}))
    loaded = MilvusStore.load(tmp_path)
    assert loaded.legacy_bm25 and loaded.count() == 3
    assert [h.key for h in loaded.search(vectors[1], 1)[0]] == [chunks[1].key]
    assert not MilvusStoreFactory(milvus_uri, "old").same_target(loaded)


def test_second_process_on_a_local_file_gets_a_clear_error(tmp_path: Path, milvus_uri: str) -> None:
    import subprocess
    import sys

    MilvusStore(DIM, milvus_uri, "locked").add(make_chunks(1), unit_vectors(1))
    script = f"from indexer.stores.milvus_store import MilvusStore; MilvusStore({DIM}, {milvus_uri!r}, 'other')"
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode != 0 and "one process" in run.stderr


def test_vectors_round_trip_as_float32(milvus_uri: str) -> None:
    store = MilvusStore(DIM, milvus_uri, "f32")
    vectors = unit_vectors(3).astype(np.float64)  # accepted and stored as float32, like FaissStore
    store.add(make_chunks(3), vectors)
    hit = store.search(vectors[1], 1)[0][0]
    assert hit.key == make_chunks(3)[1].key and hit.score == pytest.approx(1.0, abs=1e-5)


@pytest.fixture(scope="module")
def milvus_server_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.milvus_server import milvus_server

    with milvus_server(tmp_path_factory.mktemp("milvus-server")) as server:
        yield server.uri


@pytest.mark.slow
class TestMilvusServerStore(TestMilvusStore):
    """The same contract through a Milvus server's URI (a milvus-lite server on loopback), as replicas use it."""

    @pytest.fixture
    def new_store(self, milvus_server_uri: str) -> Callable[[int], VectorStore]:
        return MilvusStoreFactory(milvus_server_uri, "contract")


@pytest.mark.slow
def test_a_server_that_goes_away_is_a_store_unavailable_naming_it_and_a_restart_recovers(tmp_path: Path) -> None:
    from isnad.indexer.stores import StoreUnavailable
    from tests.milvus_server import milvus_server

    with milvus_server(tmp_path / "data") as server:
        store = MilvusStore(DIM, server.uri, "faults")
        chunks, vectors = make_chunks(6), unit_vectors(6)
        store.add(chunks, vectors)
        store.save(tmp_path / "data-1")
        assert store.problem() is None
        server.stop()
        with pytest.raises(StoreUnavailable, match=server.uri.replace(".", r"\.")):
            store.search(vectors[2], 1)
        problem = store.problem()
        assert problem is not None and server.uri in problem
        with pytest.raises(StoreUnavailable, match=server.uri.replace(".", r"\.")):  # a starting replica: not "rebuild"
            MilvusStore.load(tmp_path / "data-1")
        server.start()  # same port and data: the restarted server holds the collection, released
        assert [h.key for h in store.search(vectors[2], 1)[0]] == [chunks[2].key]  # loaded again, once
        assert store.problem() is None and store.count() == 6
