"""A short version of `make load` inside the suite: 8 clients for 5 s, zero errors (figures are reported only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.live_server import live_server
from tests.load.loadtest import report, run_load_blocking

pytestmark = pytest.mark.slow


def test_short_load_has_zero_errors(sample_index: Path, tmp_path: Path) -> None:
    with live_server(sample_index) as server:
        result = run_load_blocking(server.url, clients=8, seconds=5)
    summary = report(result, tmp_path / "load.json")
    assert result.errors == 0, result.error_samples[:5]
    assert result.latencies_ms["search"] and result.latencies_ms["ask"]  # both endpoints really exercised
    assert json.loads((tmp_path / "load.json").read_text())["requests"] == result.requests == summary["requests"]
