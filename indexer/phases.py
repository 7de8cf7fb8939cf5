"""Named points of an index build, where a crash test can stop the process and kill it deterministically.

A test sets ISNAD_TEST_PAUSE_AT=<phase> and ISNAD_TEST_PAUSE_MARKER=<file> for a child `isnad index` (the CLI
reads them and calls `pause_at`): when the build reaches that phase it writes the marker (JSON: phase and
progress) and stops itself with SIGSTOP. The test waits for the marker, then sends SIGKILL, so where the kill
lands never depends on machine speed. Unconfigured (always, outside tests) `reached` is one comparison.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

PAUSE_AT_ENV = "ISNAD_TEST_PAUSE_AT"
MARKER_ENV = "ISNAD_TEST_PAUSE_MARKER"

STARTED = "started"  # corpus read, model loaded, previous index loaded; nothing embedded or written yet
FIRST_BATCH = "embedded-first-batch"  # one batch of new chunks is in the (in-memory) store
MID_EMBEDDING = "mid-embedding"  # the batch that takes embedding past half of the new chunks
BEFORE_SWITCH = "before-manifest-switch"  # the new data folder is complete and renamed; manifest still old
AFTER_SWITCH = "after-manifest-switch"  # manifest points at the new data folder; old folders not yet removed
# a Milvus archive's write: the new versions' passages are in, no document head has moved yet
BEFORE_HEADS = "before-document-heads"
PHASES = (STARTED, FIRST_BATCH, MID_EMBEDDING, BEFORE_SWITCH, AFTER_SWITCH, BEFORE_HEADS)


_pause: tuple[str, Path] | None = None  # (phase, marker file) a crash test asked for


def pause_at(phase: str | None, marker: str | None) -> None:
    """Stop this process at `phase`, after writing `marker` (None: never stop)."""
    global _pause
    if phase and phase not in PHASES:
        raise ValueError(f"{PAUSE_AT_ENV}={phase!r} is not a build phase: use one of {', '.join(PHASES)}")
    if phase and not marker:
        raise ValueError(f"{PAUSE_AT_ENV} is set but {MARKER_ENV} is not: say where to write the marker")
    _pause = (phase, Path(marker)) if phase and marker else None


def reached(phase: str, **progress: int | str) -> None:
    """Mark `phase`; stops this process there when a test asked for it."""
    if _pause is None or _pause[0] != phase:
        return
    path = _pause[1]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"phase": phase, "pid": os.getpid(), **progress}), encoding="utf-8")
    os.replace(tmp, path)  # the test never reads a half-written marker
    os.kill(os.getpid(), signal.SIGSTOP)  # the test SIGKILLs us here (or SIGCONTs to let the build go on)
