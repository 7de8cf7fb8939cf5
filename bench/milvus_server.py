"""A real milvus-lite server (`python -m milvus_lite server`) on a free loopback port, from this venv's python.

Stop and start it again on the same port and data folder to test what replicas do while Milvus is away.
Readiness is polled with a bounded wait (a real client call), never a fixed sleep. Tests and the Milvus replica
bench (bench/milvus_replicas.py) start it alike.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from isnad.bench.server_process import free_port

START_TIMEOUT_S = 120.0


class MilvusServer:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.uri = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / f"milvus-lite-{self.port}.log"

    def start(self) -> None:
        with self.log_path.open("ab") as log:  # a file, not a pipe: nobody drains a pipe while it runs
            self.process = subprocess.Popen(
                [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(self.data_dir), "--host",
                 "127.0.0.1", "--port", str(self.port)], stdout=log, stderr=subprocess.STDOUT)
        self._wait_ready()

    def _wait_ready(self) -> None:
        from pymilvus import MilvusClient
        from pymilvus.exceptions import MilvusException

        started = time.monotonic()
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"milvus-lite server exited: {self.log()[-2000:]}")
            try:
                client = MilvusClient(self.uri, timeout=5)
                client.list_collections()
                client.close()
                return
            except MilvusException:
                if time.monotonic() - started > START_TIMEOUT_S:
                    raise TimeoutError(f"milvus-lite on {self.uri} did not answer in {START_TIMEOUT_S}s") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def rss_mb(self) -> float:
        """Resident memory of the server and whatever it started (it holds the archive's data)."""
        import psutil

        assert self.process is not None
        root = psutil.Process(self.process.pid)
        total = root.memory_info().rss
        for child in root.children(recursive=True):
            with suppress(psutil.NoSuchProcess):
                total += child.memory_info().rss
        return round(total / 2**20, 1)


@contextmanager
def milvus_server(data_dir: Path) -> Iterator[MilvusServer]:
    server = MilvusServer(data_dir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        server.log_path.unlink(missing_ok=True)
