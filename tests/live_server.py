"""Start the real `isnad serve` process on a free loopback port, for tests that talk real HTTP."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from isnad.bench.server_process import RunningServer, running_server

LiveServer = RunningServer


@contextmanager
def live_server(index: Path, env: dict[str, str] | None = None, timeout: float = 60.0,
                launcher: Sequence[str] = ("-m", "isnad.cli.main", "serve")) -> Iterator[LiveServer]:
    with running_server(index, env=env, timeout=timeout, launcher=launcher) as server:
        yield server
