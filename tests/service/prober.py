"""Normal traffic for the flood tests, in its own process so the flooding threads do not slow its clock.

    python -m tests.service.prober URL OUT STOP    # appends "status seconds path" lines to OUT until STOP exists
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

PATHS = ("/search?q=مناطق+خفض+التصعيد&k=3", "/health")


def main(url: str, out: Path, stop: Path) -> None:
    with httpx.Client(base_url=url, timeout=60) as http, out.open("a", encoding="utf-8") as fh:
        while not stop.exists():
            for path in PATHS:
                started = time.perf_counter()
                try:
                    status = http.get(path).status_code
                except httpx.HTTPError:
                    status = -1
                fh.write(f"{status} {time.perf_counter() - started:.4f} {path}\n")
                fh.flush()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
