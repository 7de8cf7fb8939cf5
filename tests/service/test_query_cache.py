"""The query-vector cache: repeats are answered from memory, bounded, keyed by model and normalized text."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from isnad.indexer.embed import Embedder
from isnad.service.api.main import create_app
from isnad.service.query_cache import CachedQueryEmbedder, normalize_query
from isnad.service.state import ServiceState
from tests.indexer.fake_embedder import HashEmbedder


def test_a_repeated_query_is_embedded_once_whatever_its_spacing_or_unicode_form() -> None:
    inner = HashEmbedder()
    cache = CachedQueryEmbedder(inner, size=8)
    first = cache.embed_batch(["متى عقدت الجولة الثامنة؟"], "query")
    again = cache.embed_batch(["  متى   عقدت الجولة\tالثامنة؟ "], "query")
    presentation = cache.embed_batch(["\ufee3\ufe98\ufef0 عقدت الجولة الثامنة؟"], "query")  # ﻣﺘﻰ: NFKC gives متى
    assert inner.texts == 1 and cache.hits == 2 and cache.misses == 1
    assert np.array_equal(first, again) and np.array_equal(first, presentation)
    assert cache.hit_rate == pytest.approx(2 / 3)


def test_the_cache_is_bounded_and_evicts_the_least_recently_used() -> None:
    inner = HashEmbedder()
    cache = CachedQueryEmbedder(inner, size=2)
    for text in ("a", "b", "a", "c"):  # "a" was used again, so "b" is the oldest when "c" arrives
        cache.embed_batch([text], "query")
    assert len(cache) == 2
    cache.embed_batch(["a"], "query")
    cache.embed_batch(["b"], "query")
    assert inner.texts == 4  # a, b, c, then b again


def test_a_batch_mixes_hits_and_misses_in_order_and_passages_are_never_cached() -> None:
    inner = HashEmbedder()
    cache = CachedQueryEmbedder(inner, size=8)
    cache.embed_batch(["b"], "query")
    out = cache.embed_batch(["a", "b", "c"], "query")
    assert np.array_equal(out, HashEmbedder().embed_batch(["a", "b", "c"], "query"))
    assert inner.texts == 3
    cache.embed_batch(["p"], "passage")
    cache.embed_batch(["p"], "passage")
    assert inner.texts == 5 and len(cache) == 3


def test_size_zero_turns_the_cache_off_and_keys_carry_the_model_id() -> None:
    inner = HashEmbedder()
    off = CachedQueryEmbedder(inner, size=0)
    off.embed_batch(["a"], "query")
    off.embed_batch(["a"], "query")
    assert inner.texts == 2 and len(off) == 0
    on = CachedQueryEmbedder(inner, size=4)
    on.embed_batch(["a"], "query")
    assert next(iter(on._vectors)) == ("fake:hash", "a")
    with pytest.raises(ValueError):
        CachedQueryEmbedder(inner, size=-1)


def test_a_cached_vector_is_exactly_what_the_model_returns_for_the_normalized_query(embedder: Embedder) -> None:
    cache = CachedQueryEmbedder(embedder, size=4)
    query = "  what did   round four agree? "
    cache.embed_batch([query], "query")
    cached = cache.embed_batch([query], "query")
    assert cache.hits == 1
    assert np.allclose(cached, embedder.embed_batch([normalize_query(query)], "query"), atol=1e-6)


def _sample(text: str, name: str) -> float:
    return next(s.value for f in text_string_to_metric_families(text) for s in f.samples if s.name == name)


def test_metrics_report_the_query_cache_hit_rate(service_state: ServiceState) -> None:
    state = ServiceState.open(service_state.index.folder)  # its own serving embedder and cache
    with TestClient(create_app(state)) as client:
        for query in ("مناطق خفض التصعيد", "مناطق  خفض التصعيد", "who are the guarantor states?"):
            assert client.post("/search", json={"query": query, "k": 3}).status_code == 200
        text = client.get("/metrics").text
    assert state.embedder.hits == 1 and state.embedder.misses == 2
    assert _sample(text, "isnad_query_cache_hit_ratio") == pytest.approx(1 / 3)
    assert _sample(text, "isnad_query_cache_entries") == 2
    assert _sample(text, "isnad_query_cache_hits_total") >= 1
