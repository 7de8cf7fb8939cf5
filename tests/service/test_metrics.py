"""GET /metrics: Prometheus text with per-route request counts, latency histograms, index size, embed time."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families


def _value(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def test_metrics_count_requests_by_route_template_and_report_the_index(client: TestClient) -> None:
    before = client.get("/metrics").text
    assert client.post("/search", json={"query": "أستانا", "k": 3}).status_code == 200
    # A different query: a repeat would come from the query cache without an embedding call.
    doc_id = client.get("/search", params={"q": "محادثات أستانا", "k": 1}).json()["results"][0]["doc_id"]
    assert client.get(f"/documents/{doc_id}").status_code == 200
    assert client.get("/no/such/path").status_code == 404
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text

    count = "isnad_http_requests_total"
    assert _value(text, count, method="POST", route="/search", status="200") == \
        _value(before, count, method="POST", route="/search", status="200") + 1
    routes = {s.labels["route"] for f in text_string_to_metric_families(text) for s in f.samples
              if s.name == count}
    assert any(r.startswith("/documents/{doc_id") for r in routes)
    assert f'route="/documents/{doc_id}"' not in text  # templates, never raw paths
    assert _value(text, count, method="GET", route="<unmatched>", status="404") >= 1
    assert _value(text, "isnad_http_request_duration_seconds_count", method="POST", route="/search") >= 1
    assert 'isnad_http_request_duration_seconds_bucket{le="0.05",method="POST",route="/search"}' in text
    assert _value(text, "isnad_embedding_seconds_count", role="query") >= 2
    assert _value(text, "isnad_index_documents") == 5
    assert _value(text, "isnad_index_chunks") > 5
    assert _value(text, "isnad_index_bytes") > 10_000
