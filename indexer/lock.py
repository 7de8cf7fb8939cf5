"""One writer per index folder, across processes: an OS-level lock (flock) on INDEX/.writer.lock.

Taken by `isnad index`, by the API's writes (indexer/changes.py) and by reloads. A second writer waits up to
a bounded timeout, then gets `IndexBusy`. The lock is re-entrant within one thread (a write that loads,
builds and then reloads takes it once), and it dies with its process, so a killed writer never leaves it held.

Readers pin the generation they loaded with a shared flock on its data folder (`pin_generation`); cleanup
deletes only generations it can lock exclusively.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = ".writer.lock"
DEFAULT_TIMEOUT = 30.0  # seconds a writer waits for another one before giving up
RETRY_AFTER = 5  # seconds suggested to clients that got IndexBusy
_POLL = 0.05

_held: dict[tuple[str, int], int] = {}  # (folder, thread id) -> depth, for re-entry in the same thread
_held_guard = threading.Lock()


class IndexBusy(RuntimeError):
    """Another writer holds the index folder's lock; try again later."""

    def __init__(self, folder: Path, holder: str, waited: float) -> None:
        self.folder, self.holder, self.waited = folder, holder, waited
        self.retry_after = RETRY_AFTER
        who = f" ({holder})" if holder else ""
        super().__init__(f"index at {folder} is being written by another process{who}; waited {waited:g}s, "
                         f"try again later")


class IndexWriteError(RuntimeError):
    """Writing the index failed (full disk, read-only folder, ...); the previous index is intact."""


def write_failure(folder: Path, exc: OSError) -> IndexWriteError:
    """An OSError during a write as one sentence naming the cause."""
    causes = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exceeded",
              errno.EROFS: "the index folder is on a read-only file system",
              errno.EACCES: "the index folder is not writable (permission denied)",
              errno.EPERM: "the index folder is not writable (operation not permitted)"}
    cause = causes.get(exc.errno or 0, exc.strerror or str(exc))
    return IndexWriteError(f"cannot write the index at {folder}: {cause}; the previous index is unchanged")


@contextmanager
def writer_lock(folder: str | Path, timeout: float | None = None, purpose: str = "",
                readonly_ok: bool = False) -> Iterator[None]:
    """Hold the folder's writer lock for the block; raises IndexBusy after `timeout` seconds of waiting.

    `readonly_ok` (reloads): on a folder nobody can write, there is no writer to exclude; go on unlocked.
    """
    folder = Path(folder)
    key = (str(folder.resolve()), threading.get_ident())
    with _held_guard:
        depth = _held.get(key, 0)
        if depth:
            _held[key] = depth + 1
    if depth:
        try:
            yield
        finally:
            with _held_guard:
                _held[key] -= 1
        return
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        if readonly_ok and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            yield
            return
        raise write_failure(folder, exc) from exc
    try:
        started = time.monotonic()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = time.monotonic() - started
                if waited >= timeout:
                    raise IndexBusy(folder, _holder(fd), round(waited, 1)) from None
                time.sleep(min(_POLL, max(0.0, timeout - waited)))
        _record_holder(fd, purpose)
        with _held_guard:
            _held[key] = 1
        try:
            yield
        finally:
            with _held_guard:
                del _held[key]
    finally:
        os.close(fd)  # releases the flock


def holds_lock(folder: str | Path) -> bool:
    """True when this thread holds the folder's writer lock."""
    return _held.get((str(Path(folder).resolve()), threading.get_ident()), 0) > 0


def _record_holder(fd: int, purpose: str) -> None:
    # For the next writer's message only: not fsynced, a stale line is harmless
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}{', ' + purpose if purpose else ''}".encode(), 0)
    except OSError:
        pass


def _holder(fd: int) -> str:
    try:
        return os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        return ""


def pin_generation(data: Path) -> int | None:
    """A shared lock on a loaded generation's folder, held while the Index lives; None if it cannot be taken."""
    try:
        fd = os.open(data, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


@contextmanager
def unpinned(data: Path) -> Iterator[bool]:
    """Yields True (holding an exclusive lock on the folder) when no reader pins `data`, else False."""
    try:
        fd = os.open(data, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)
