"""`isnad index` re-index loops racing API writes, deletes, reloads (admin + SIGHUP) and searches on a real
server, bounded by counts: no 500, no failed re-index, no lost acknowledged write, and the index loads.

Before the writer lock the probe saw 21,104 of 25,385 API writes answer 500 and a manifest pointing at a
half-deleted data folder; before origins were recorded, every re-index dropped the API's documents."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import CORPUS
from tests.load.race_writers import race

pytestmark = pytest.mark.slow


def test_racing_writers_lose_nothing_and_never_500(tmp_path: Path, sample_index: Path) -> None:
    index = Path(shutil.copytree(sample_index, tmp_path / "index"))
    corpus = Path(shutil.copytree(CORPUS, tmp_path / "corpus"))
    result = race(index, corpus, cli_runs=3, api_writes=6, api_writers=2, reloads=6)
    summary = result.summary()
    assert result.server_errors == 0 and result.samples == [], summary
    assert result.transport_errors == [] and result.cli_failures == [] and result.server_tracebacks == 0, summary
    assert result.lost_writes == [] and result.loads_after, summary
    assert result.cli_runs == 3 and result.acknowledged_adds > 0, summary
    assert result.leftover_temp == 0 and result.generations_after <= 4, summary  # + ones pinned by readers
    # every acknowledged add not deleted later survived three folder re-indexes
    assert result.documents_after == 5 + result.acknowledged_adds - result.acknowledged_deletes, summary
