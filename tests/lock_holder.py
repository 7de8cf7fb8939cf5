"""Hold an index folder's writer lock from another process, as a concurrent `isnad index` would."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_HOLD = """
import sys
from isnad.indexer.lock import writer_lock
with writer_lock(sys.argv[1], timeout=0, purpose="test holder"):
    print("held", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


@contextmanager
def lock_held_elsewhere(folder: Path) -> Iterator[int]:
    """Yields the holder's pid once it holds the lock; releases it on exit."""
    child = subprocess.Popen([sys.executable, "-c", _HOLD, str(folder)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        yield child.pid
    finally:
        if child.stdin:
            child.stdin.close()
        child.wait(timeout=30)
