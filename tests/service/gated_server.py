"""`isnad serve` with a write that blocks until the test lets it go: for tests about write queueing and SIGTERM.

The fake is only the *passage* embedder's timing: each passage batch appends a line to GATE/started, then
waits until GATE/release exists, then embeds with the real model. Queries use the real model unchanged.
Everything else is the real service: the same app, settings, uvicorn server and signal handling.

    python -m tests.service.gated_server --index PATH --host 127.0.0.1 --port N   (env ISNAD_TEST_GATE=DIR)
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from isnad.indexer.embed import E5Embedder, Role
from isnad.service.api.main import create_app
from isnad.service.http_server import serve
from isnad.service.live import install_sighup
from isnad.service.settings import Settings
from isnad.service.state import ServiceState


class GatedEmbedder:
    def __init__(self, inner: E5Embedder, gate: Path) -> None:
        self.inner, self.gate = inner, gate
        self.model_id, self.dim = inner.model_id, inner.dim

    def embed_batch(self, texts: Sequence[str], role: Role) -> np.ndarray:
        if role == "passage":
            with (self.gate / "started").open("a") as fh:
                fh.write(f"{len(texts)}\n")
            while not (self.gate / "release").exists():
                time.sleep(0.01)
        return self.inner.embed_batch(texts, role)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    embedder = GatedEmbedder(E5Embedder(), Path(os.environ["ISNAD_TEST_GATE"]))
    settings = Settings()
    app = create_app(ServiceState.open(args.index, embedder), settings)  # type: ignore[arg-type]
    install_sighup(app.state.live)
    serve(app, settings, args.host, args.port)


if __name__ == "__main__":
    main()
