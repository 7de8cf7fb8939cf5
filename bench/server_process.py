"""Run `isnad serve` as a child process on a free loopback port (benchmarks and tests talk real HTTP to it)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
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
    log_path: Path  # the server's stderr

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@contextmanager
def running_server(index: Path, env: dict[str, str] | None = None, probe: Probe = health_probe,
                   timeout: float = 300.0, launcher: Sequence[str] = ("-m", "isnad.cli.main", "serve"),
                   ) -> Iterator[RunningServer]:
    """`launcher`: what follows the interpreter (tests start a variant taking the same --index/--host/--port).

    stderr goes to a file, never a pipe: nobody drains a pipe while the server runs, and a full one would block
    the server's logging and so the server. `timeout` only guards against a server that never comes up.
    """
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="isnad-server-", suffix=".log", delete=False)  # noqa: SIM115
    log_path = Path(log.name)
    cmd = [sys.executable, *launcher, "--index", str(index), "--host", "127.0.0.1", "--port", str(port)]
    started = time.perf_counter()
    process = subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL,
                               stderr=log)
    log.close()  # the child holds its own descriptor
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=5.0) as client:
            while True:
                if process.poll() is not None:
                    err = log_path.read_text(encoding="utf-8", errors="replace")
                    raise RuntimeError(f"server exited: {err[-2000:]}")
                try:
                    if probe(client, url):
                        break
                except httpx.HTTPError:
                    pass
                if time.perf_counter() - started > timeout:
                    raise TimeoutError(f"server on {url} did not answer in {timeout}s")
                time.sleep(0.02)
        yield RunningServer(url, process, time.perf_counter() - started, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log_path.unlink(missing_ok=True)
