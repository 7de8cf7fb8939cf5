"""`IsnadRetriever`: langchain-tests' standard retriever suite, unmodified, against a real server on loopback
and against an index folder; and its offsets round-trip to the cited text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from isnad.client import Client, IsnadError
from isnad.langchain import IsnadRetriever
from tests.interfaces.conftest import HOSTILE, KeyedServer

pytestmark = pytest.mark.slow
QUERY = "Astana talks ceasefire zones"


class TestIsnadRetrieverOverAServer(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _server(self, keyed_server: KeyedServer) -> None:
        self.server = keyed_server

    @property
    def retriever_constructor(self) -> type[IsnadRetriever]:
        return IsnadRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"url": self.server.url, "key": self.server.key}

    @property
    def retriever_query_example(self) -> str:
        return QUERY


class TestIsnadRetrieverOverAnIndexFolder(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _index(self, sample_index: Path) -> None:
        self.index = sample_index

    @property
    def retriever_constructor(self) -> type[IsnadRetriever]:
        return IsnadRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"index": str(self.index)}

    @property
    def retriever_query_example(self) -> str:
        return "الجولة الرابعة من محادثات أستانة"


def test_offsets_round_trip_to_the_document(keyed_server: KeyedServer) -> None:
    retriever = IsnadRetriever(url=keyed_server.url, key=keyed_server.key, k=5)
    documents = retriever.invoke("متى عقدت الجولة الثامنة؟")
    assert len(documents) == 5
    with Client(keyed_server.url, keyed_server.key) as client:
        for d in documents:
            m = d.metadata
            assert set(m) >= {"doc_id", "start", "end", "url", "site", "published", "score"}
            assert client.document(m["doc_id"]).text[m["start"]:m["end"]] == d.page_content
    scores = [d.metadata["score"] for d in documents]
    assert scores == sorted(scores, reverse=True)


def test_filters_reach_the_search(keyed_server: KeyedServer) -> None:
    doc_id = IsnadRetriever(url=keyed_server.url, key=keyed_server.key, k=1).invoke(QUERY)[0].metadata["doc_id"]
    only = IsnadRetriever(url=keyed_server.url, key=keyed_server.key, k=5, filters={"doc_id": doc_id}).invoke(QUERY)
    assert only and {d.metadata["doc_id"] for d in only} == {doc_id}


def test_bad_input_gets_a_clear_error_and_the_server_stays_up(keyed_server: KeyedServer) -> None:
    keyless = IsnadRetriever(url=keyed_server.url)
    with pytest.raises(IsnadError, match="Authorization: Bearer") as refused:
        keyless.invoke(QUERY)
    assert refused.value.status == 401
    retriever = IsnadRetriever(url=keyed_server.url, key=keyed_server.key)
    for hostile in HOSTILE:
        try:
            found = retriever.invoke(hostile)
        except IsnadError as exc:
            assert exc.status == 422 and "query" in exc.message, exc.message
        else:
            assert all(d.page_content for d in found)
    with pytest.raises(IsnadError, match="unknown filter keys 'colour'"):
        retriever.invoke(QUERY, filters={"colour": "red"})
    with pytest.raises(IsnadError, match="k"):
        retriever.invoke(QUERY, k=0)
    with pytest.raises(ValueError, match="either url"):
        IsnadRetriever()
    assert len(retriever.invoke(QUERY, k=2)) == 2  # still serving
