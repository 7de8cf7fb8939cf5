"""Speed and scale benchmark: `isnad bench` / `make bench` (see bench/run.py)."""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["RESULTS", "run_bench"]


def __getattr__(name: str) -> Any:
    # Lazy: the servers the tests start import bench.server_process alone, not the whole benchmark.
    if name in __all__:
        return getattr(import_module("isnad.bench.run"), name)
    raise AttributeError(f"module 'bench' has no attribute {name!r}")
