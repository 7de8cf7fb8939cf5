"""Build phases as crash tests configure them (the CLI passes ISNAD_TEST_PAUSE_AT / _MARKER)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from isnad.indexer import phases


@pytest.fixture(autouse=True)
def unconfigured() -> Iterator[None]:
    yield
    phases.pause_at(None, None)


def test_an_unknown_phase_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ValueError, match="not a build phase: use one of started"):
        phases.pause_at("half-way", "/tmp/marker")


def test_a_phase_without_a_marker_is_refused() -> None:
    with pytest.raises(ValueError, match="ISNAD_TEST_PAUSE_MARKER"):
        phases.pause_at(phases.STARTED, None)


def test_unconfigured_or_another_phase_never_stops(tmp_path: Path) -> None:
    phases.reached(phases.STARTED)  # unconfigured: returns
    phases.pause_at(phases.AFTER_SWITCH, str(tmp_path / "marker"))
    phases.reached(phases.STARTED, embedded=0)  # another phase: returns, writes nothing
    assert not (tmp_path / "marker").exists()
