"""Run `isnad serve` as a child process on a free loopback port (benchmarks and tests talk real HTTP to it)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

# Answers True once the server at `url` is ready; the default asks /health.
Probe = Callable[[httpx.Client, str], bool]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def health_probe(client: httpx.Client, url: str) -> bool:
    return client.get(f"{url}/health").status_code == 200


@dataclass(frozen=True)
class RunningServer:
    url: str
    process: subprocess.Popen[bytes]
    ready_seconds: float  # from process start to the first successful probe


@contextmanager
def running_server(index: Path, env: dict[str, str] | None = None, probe: Probe = health_probe,
                   timeout: float = 60.0, launcher: Sequence[str] = ("-m", "service.cli", "serve"),
                   ) -> Iterator[RunningServer]:
    """`launcher`: what follows the interpreter (tests start a variant taking the same --index/--host/--port)."""
    port = free_port()
    cmd = [sys.executable, *launcher, "--index", str(index), "--host", "127.0.0.1", "--port", str(port)]
    started = time.perf_counter()
    process = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=5.0) as client:
            while True:
                if process.poll() is not None:
                    err = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"server exited: {err[-2000:]}")
                try:
                    if probe(client, url):
                        break
                except httpx.HTTPError:
                    pass
                if time.perf_counter() - started > timeout:
                    raise TimeoutError(f"server on {url} did not answer in {timeout}s")
                time.sleep(0.02)
        yield RunningServer(url, process, time.perf_counter() - started)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
