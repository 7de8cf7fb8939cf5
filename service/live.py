"""The running service's index, swapped atomically on reload or write.

Requests take `app.state.isnad` once (service/api/deps.py) and finish on that object, so replacing the
attribute never disturbs a request in flight. Reloads and writes are serialized by one lock.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from isnad.indexer.changes import apply_changes
from isnad.indexer.index import BuildReport, IndexLoadError, Manifest
from isnad.indexer.lock import IndexBusy, writer_lock
from isnad.indexer.milvus_archive import MilvusArchive, apply_archive_changes
from isnad.indexer.pipeline import make_builder
from isnad.indexer.stores import factory_for
from isnad.indexer.types import RawDocument
from isnad.service.state import ServiceState
from isnad.service.writes import Job, ProgressEmbedder

log = logging.getLogger(__name__)
_LOAD_ATTEMPTS = 3  # a concurrent `isnad index` may delete the data folder we just read the manifest for


class LiveIndex:
    def __init__(self, holder: Any) -> None:
        self._holder = holder  # has `isnad` and `settings` attributes: the FastAPI app.state
        self.lock = threading.Lock()

    @property
    def current(self) -> ServiceState:
        state: ServiceState = self._holder.isnad
        return state

    @property
    def _lock_timeout(self) -> float:
        return float(self._holder.settings.lock_timeout)

    @property
    def folder(self) -> Path:
        return self.current.index.folder

    def reload(self) -> ServiceState:
        # The folder's writer lock (indexer/lock.py): never read a folder while `isnad index` cleans it up
        with self.lock, writer_lock(self.folder, self._lock_timeout, purpose="reload", readonly_ok=True):
            return self._swap()

    def write(self, add: Sequence[RawDocument] = (), delete: Sequence[str] = (), job: Job | None = None) -> BuildReport:
        """Raises IndexBusy (another writer holds the folder) or IndexWriteError (disk refused the write).

        `job` (service/writes.py) counts progress and can stop the write between embedding batches."""
        index = self.current.index
        if isinstance(index, MilvusArchive):  # live in Milvus: every replica sees it at once, nothing to reload
            with self.lock:
                builder = make_builder(ProgressEmbedder(self.current.embedder, job) if job else self.current.embedder,
                                       progress=False)
                return apply_archive_changes(index, builder, add, delete, lock_timeout=self._lock_timeout,
                                             lease_s=float(self._holder.settings.write_lease_s))
        with self.lock, writer_lock(self.folder, self._lock_timeout, purpose="API write"):
            embedder = self.current.embedder
            builder = make_builder(ProgressEmbedder(embedder, job) if job else embedder, progress=False,
                                   store_factory=factory_for(self.current.index.store))
            report = apply_changes(self.folder, builder, add, delete)
            self._swap()
            return report

    def count_chunks(self, add: Sequence[RawDocument]) -> int:
        """How many chunks these documents make, counted as a write would cut them (before embedding any)."""
        builder = make_builder(self.current.embedder, progress=False)
        return sum(len(builder.chunker.run(builder.cleaner.run(raw))) for raw in add)

    def _swap(self) -> ServiceState:
        old, folder = self.current, self.folder
        for attempt in range(1, _LOAD_ATTEMPTS + 1):
            try:
                same_model = Manifest.read(folder).model == old.embedder.model_id
                new = ServiceState.open(folder, old.embedder if same_model else None, self._holder.settings,
                                       old.reader if same_model else None)
                break
            except IndexLoadError:
                if attempt == _LOAD_ATTEMPTS:
                    raise
                time.sleep(0.2 * attempt)
        self._holder.isnad = new  # one attribute store: atomic for every other thread
        return new


def follow_index(live: LiveIndex, interval_s: float) -> threading.Event | None:
    """Load the folder's index whenever its manifest names a new generation written by another process (another
    replica's write on a shared folder, `isnad index`): replicas over one Milvus and one shared index folder then
    find each other's writes within about `interval_s`, with no reload call. 0: off. Returns the stop event."""
    if interval_s <= 0 or isinstance(live.current.index, MilvusArchive):  # an archive in Milvus is live already
        return None
    stop = threading.Event()

    def loop() -> None:
        seen = live.current.index.manifest.data
        while not stop.wait(interval_s):
            try:
                data = Manifest.read(live.folder).data
                if data in (seen, live.current.index.manifest.data):
                    continue
                live.reload()
                seen = data  # a damaged generation loads the previous one: do not reload it on every tick
                log.info("followed the index folder to %s", data)
            except Exception as exc:  # busy writer, Milvus away, a half-written folder: the next tick tries again
                log.warning("following the index folder: %s; still serving the index loaded before", exc)

    threading.Thread(target=loop, name="isnad-follow-index", daemon=True).start()
    return stop


def install_sighup(*lives: LiveIndex) -> None:
    """`kill -HUP <pid>` reloads the indexes (every collection) in a background thread (the handler itself
    must return fast)."""

    def reload_logged() -> None:
        for live in lives:
            _reload_logged(live)

    signal.signal(signal.SIGHUP, lambda *_: threading.Thread(target=reload_logged, daemon=True).start())


def _reload_logged(live: LiveIndex) -> None:
    try:
        state = live.reload()
        log.warning("reloaded %s: %d documents", state.index.folder, len(state.index.documents))
    except IndexBusy as exc:  # an expected condition, not a bug: one line, no traceback
        log.warning("reload on SIGHUP skipped, still serving the previous index: %s", exc)
    except Exception:  # keep serving the old index; the log says why
        log.exception("reload on SIGHUP failed; still serving the previous index")
