"""Prometheus metrics for the service: one registry per process, filled by a middleware and the searcher.

A private `CollectorRegistry` (not prometheus_client's global one) so tests that build many apps and
libraries that register their own metrics never collide with ours.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry()
_LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0)

REQUESTS = Counter("isnad_http_requests_total", "HTTP requests by route template, method and status",
                   ("method", "route", "status"), registry=REGISTRY)
LATENCY = Histogram("isnad_http_request_duration_seconds", "HTTP request latency by route template",
                    ("method", "route"), buckets=_LATENCY_BUCKETS, registry=REGISTRY)
EMBEDDING = Histogram("isnad_embedding_seconds", "Time to embed one batch, by role (query or passage)",
                      ("role",), buckets=(0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 1.0, 5.0),
                      registry=REGISTRY)
EMBEDDING_BATCH = Histogram("isnad_embedding_batch_texts", "Texts per embedding call, by role",
                            ("role",), buckets=(1, 2, 4, 8, 16, 32, 64, 128), registry=REGISTRY)
QUERY_CACHE_HITS = Counter("isnad_query_cache_hits_total", "Query vectors answered from the query cache",
                           registry=REGISTRY)
QUERY_CACHE_MISSES = Counter("isnad_query_cache_misses_total", "Query vectors the query cache had to embed",
                             registry=REGISTRY)
QUERY_CACHE_HIT_RATIO = Gauge("isnad_query_cache_hit_ratio", "hits / (hits + misses) of the query cache since start",
                              registry=REGISTRY)
QUERY_CACHE_ENTRIES = Gauge("isnad_query_cache_entries", "Query vectors held by the query cache", registry=REGISTRY)
INDEX_DOCUMENTS = Gauge("isnad_index_documents", "Documents in the loaded index", registry=REGISTRY)
INDEX_CHUNKS = Gauge("isnad_index_chunks", "Chunks in the loaded index", registry=REGISTRY)
WRITES_WAITING = Gauge("isnad_writes_waiting", "Writes queued behind the running one", registry=REGISTRY)
WRITES_RUNNING = Gauge("isnad_writes_running", "1 while a write is running", registry=REGISTRY)
WRITES_DROPPED = Gauge("isnad_writes_dropped", "Writes cancelled before they started (client gone, cancel, "
                       "shutdown) since the service started", registry=REGISTRY)
INDEX_BYTES = Gauge("isnad_index_bytes", "Bytes of the loaded index's data folder on disk", registry=REGISTRY)
