"""Racing writers against a real server: `isnad index` re-index loops, API writes and deletes, reloads (admin
and SIGHUP) and searches, all on one index folder at once. Then: every acknowledged write is there, no
request got a 500, and the index loads.

    python -m tests.load.race_writers --seconds 60            # builds data/astana into a temp folder
    python -m tests.load.race_writers --seconds 60 --index PATH --corpus DIR

Prints the figures as JSON; exit 1 on any 500, transport error, failed re-index or lost write.
tests/service/test_racing_writers.py runs the same race bounded by counts.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from isnad.bench.server_process import running_server
from isnad.indexer.index import Index, Manifest

KEY = "race-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "data" / "astana"
HTTP_TIMEOUT = 180  # > the server's lock timeout (120 s) plus one write: a request still open then has hung
EXTRA = "\n\nفقرة أضيفت لإعادة الفهرسة أثناء السباق بين الكتّاب.\n"


@dataclass
class Budget:
    """Stops each loop after `count` rounds, or at the deadline when a duration is given."""

    count: int | None
    deadline: float | None

    def more(self, done: int) -> bool:
        if self.deadline is not None:
            return time.monotonic() < self.deadline
        return done < (self.count or 0)


@dataclass
class RaceResult:
    seconds: float = 0.0
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    transport_errors: list[str] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)  # bodies of unexpected statuses
    cli_runs: int = 0
    cli_failures: list[str] = field(default_factory=list)
    sighups: int = 0
    acknowledged_adds: int = 0
    acknowledged_deletes: int = 0
    lost_writes: list[str] = field(default_factory=list)  # acknowledged adds missing, or deletes back
    loads_after: bool = False
    documents_after: int = 0
    generations_after: int = 0
    leftover_temp: int = 0
    server_tracebacks: int = 0  # in the server's stderr

    def count(self, kind: str, response: httpx.Response) -> None:
        self.statuses.setdefault(kind, Counter())[response.status_code] += 1
        if response.status_code not in (200, 503) and len(self.samples) < 5:
            self.samples.append(f"{kind} {response.status_code}: {response.text[:200]}")

    @property
    def server_errors(self) -> int:
        return sum(n for c in self.statuses.values() for s, n in c.items() if s >= 500 and s != 503)

    @property
    def ok(self) -> bool:
        return (not self.server_errors and not self.transport_errors and not self.cli_failures
                and not self.lost_writes and self.loads_after and not self.samples and not self.server_tracebacks)

    def summary(self) -> dict[str, object]:
        return {"seconds": round(self.seconds, 1), "ok": self.ok, "server_errors_5xx_not_503": self.server_errors,
                "statuses": {k: dict(sorted(v.items())) for k, v in self.statuses.items()},
                "transport_errors": len(self.transport_errors), "cli_reindex_runs": self.cli_runs,
                "cli_failures": self.cli_failures[:3], "sighups": self.sighups,
                "acknowledged_adds": self.acknowledged_adds, "acknowledged_deletes": self.acknowledged_deletes,
                "lost_acknowledged_writes": len(self.lost_writes), "lost_samples": self.lost_writes[:5],
                "index_loads_after": self.loads_after, "documents_after": self.documents_after,
                "data_generations_after": self.generations_after, "leftover_temp_folders": self.leftover_temp,
                "server_tracebacks": self.server_tracebacks,
                "unexpected_samples": self.samples}


class _Race:
    def __init__(self, url: str, pid: int, index: Path, corpus: Path, result: RaceResult) -> None:
        self.url, self.pid, self.index, self.corpus, self.result = url, pid, index, corpus, result
        self.lock = threading.Lock()
        self.present: set[str] = set()  # acknowledged adds not deleted since
        self.deleted: set[str] = set()  # acknowledged deletes not re-added since
        self.writers_done = threading.Event()

    def _record_error(self, kind: str, exc: Exception) -> None:
        with self.lock:
            self.result.transport_errors.append(f"{kind}: {exc!r}")

    def api_writer(self, name: str, budget: Budget) -> None:
        with httpx.Client(base_url=self.url, timeout=HTTP_TIMEOUT) as http:
            n = 0
            while budget.more(n):
                doc_id = f"race-{name}-{n}"
                text = f"خبر رقم {n} من الكاتب {name}: اجتمع الوفدان في العاصمة لبحث ملف المعابر والإغاثة."
                try:
                    r = http.post("/documents", json={"documents": [{"id": doc_id, "text": text}]}, headers=AUTH)
                except httpx.HTTPError as exc:
                    self._record_error("post", exc)
                    n += 1
                    continue
                with self.lock:
                    self.result.count("post", r)
                    if r.status_code == 200:
                        self.result.acknowledged_adds += 1
                        self.present.add(doc_id)
                if n % 3 == 2:  # delete one of this writer's earlier documents
                    victim = f"race-{name}-{n - 2}"
                    with self.lock:
                        if victim not in self.present:
                            victim = ""
                    if victim:
                        try:
                            r = http.delete(f"/documents/{victim}", headers=AUTH)
                        except httpx.HTTPError as exc:
                            self._record_error("delete", exc)
                        else:
                            with self.lock:
                                self.result.count("delete", r)
                                if r.status_code == 200:
                                    self.result.acknowledged_deletes += 1
                                    self.present.discard(victim)
                                    self.deleted.add(victim)
                n += 1

    def cli_reindexer(self, budget: Budget) -> None:
        target = sorted(self.corpus.glob("*.txt"))[0]
        original = target.read_text(encoding="utf-8")
        n = 0
        while budget.more(n):
            target.write_text(original + (EXTRA if n % 2 == 0 else ""), encoding="utf-8")  # one changed document
            done = subprocess.run([sys.executable, "-m", "isnad.cli.main", "index", str(self.corpus), "--index",
                                   str(self.index), "--no-progress"], capture_output=True, text=True, timeout=900,
                                  env={**os.environ, "ISNAD_LOCK_TIMEOUT": "600"})
            with self.lock:
                self.result.cli_runs += 1
                if done.returncode != 0 or "Traceback" in done.stderr:
                    self.result.cli_failures.append(done.stderr.strip()[-300:])
            n += 1
        target.write_text(original, encoding="utf-8")

    def reloader(self, budget: Budget) -> None:
        with httpx.Client(base_url=self.url, timeout=HTTP_TIMEOUT) as http:
            n = 0
            while budget.more(n):
                if n % 3 == 2:
                    os.kill(self.pid, signal.SIGHUP)  # reloads in the server's background thread
                    with self.lock:
                        self.result.sighups += 1
                else:
                    try:
                        r = http.post("/admin/reload", headers=AUTH)
                    except httpx.HTTPError as exc:
                        self._record_error("reload", exc)
                    else:
                        with self.lock:
                            self.result.count("reload", r)
                n += 1
                time.sleep(0.5)  # pacing only: the outcome does not depend on it

    def reader(self) -> None:
        with httpx.Client(base_url=self.url, timeout=HTTP_TIMEOUT) as http:
            while not self.writers_done.is_set():
                try:
                    r = http.get("/search", params={"q": "أستانا", "k": 3})
                except httpx.HTTPError as exc:
                    self._record_error("search", exc)
                    continue
                with self.lock:
                    self.result.count("search", r)

    def verify_live(self) -> None:
        with httpx.Client(base_url=self.url, timeout=HTTP_TIMEOUT) as http:
            r = http.post("/admin/reload", headers=AUTH)
            self.result.count("reload", r)
            for doc_id in sorted(self.present):
                if http.get(f"/documents/{doc_id}").status_code != 200:
                    self.result.lost_writes.append(f"{doc_id}: acknowledged add missing on the server")
            for doc_id in sorted(self.deleted):
                if http.get(f"/documents/{doc_id}").status_code != 404:
                    self.result.lost_writes.append(f"{doc_id}: acknowledged delete undone on the server")


def race(index: Path, corpus: Path, *, seconds: float | None = None, cli_runs: int = 3, api_writes: int = 8,
         api_writers: int = 2, reloads: int = 6) -> RaceResult:
    """Race on `index` (modified in place) and `corpus` (restored afterwards); counts bound it unless `seconds`."""
    result = RaceResult()
    started = time.monotonic()
    deadline = started + seconds if seconds is not None else None
    env = {"ISNAD_API_KEY": KEY, "ISNAD_LOCK_TIMEOUT": "120"}
    with running_server(index, env=env, timeout=300) as server:
        run = _Race(server.url, server.process.pid, index, corpus, result)
        writers = [threading.Thread(target=run.api_writer, args=(f"w{i}", Budget(api_writes, deadline)))
                   for i in range(api_writers)]
        writers += [threading.Thread(target=run.cli_reindexer, args=(Budget(cli_runs, deadline),)),
                    threading.Thread(target=run.reloader, args=(Budget(reloads, deadline),))]
        reader = threading.Thread(target=run.reader)
        for t in [*writers, reader]:
            t.start()
        for t in writers:
            t.join()
        run.writers_done.set()
        reader.join()
        result.seconds = time.monotonic() - started
        run.verify_live()
        result.server_tracebacks = server.log().count("Traceback")
    try:
        loaded = Index.load(index)
    except Exception as exc:  # the figure reports it; the caller fails on loads_after False
        result.lost_writes.append(f"index does not load afterwards: {exc}")
        return result
    result.loads_after = getattr(loaded, "damaged", None) is None  # (older Isnad: no such attribute)
    result.documents_after = len(loaded.documents)
    on_disk = set(loaded.documents)
    result.lost_writes += [f"{d}: acknowledged add missing on disk" for d in sorted(run.present - on_disk)]
    result.lost_writes += [f"{d}: acknowledged delete back on disk" for d in sorted(run.deleted & on_disk)]
    result.generations_after = sum(1 for p in index.iterdir() if p.name.startswith("data-"))
    result.leftover_temp = sum(1 for p in index.iterdir() if p.name.startswith(".tmp-"))
    assert (index / Manifest.read(index).data).is_dir()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--index", type=Path, default=None, help="index folder to race on (modified in place)")
    parser.add_argument("--corpus", type=Path, default=None, help="corpus folder (copied; default data/astana)")
    parser.add_argument("--writers", type=int, default=2, help="concurrent API writer threads")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args()
    faulthandler.dump_traceback_later(args.seconds + 300, exit=True)  # a hung race prints where, then exits
    with tempfile.TemporaryDirectory(prefix="isnad-race-") as tmp:
        corpus = Path(shutil.copytree(args.corpus or CORPUS, Path(tmp) / "corpus"))
        index = args.index or Path(tmp) / "index"
        if args.index is None:
            subprocess.run([sys.executable, "-m", "isnad.cli.main", "index", str(corpus), "--index", str(index),
                            "--no-progress"], check=True, capture_output=True)
        result = race(index, corpus, seconds=args.seconds, api_writers=args.writers)
    summary = result.summary()
    text = json.dumps(summary, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    sys.exit(0 if result.ok else 1)


if __name__ == "__main__":
    main()
