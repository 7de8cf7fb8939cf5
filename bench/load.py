"""Concurrent load against a running server: N clients alternating /search and /ask, each request a distinct
question, for S seconds. Used by `make load` (tests/load/loadtest.py) and the benchmark's load rows.

Questions are the XQuAD questions in both languages (data/eval, 2,380 of them), handed out one per request
across all clients, so no request repeats another's text and the query cache cannot help (until a run
outlasts the list and wraps; `Result.wrapped` says so).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from isnad.bench.measure import percentiles

QUESTIONS_FILE = Path(__file__).resolve().parent.parent / "data" / "eval" / "xquad_en2ar" / "queries.jsonl"
FALLBACK = ("متى عقدت الجولة الثامنة؟", "what did round four agree?", "مناطق خفض التصعيد",
            "who are the guarantor states?", "وقف إطلاق النار في سوريا", "Astana talks round six")


def distinct_questions(path: Path = QUESTIONS_FILE) -> list[str]:
    """Arabic and English XQuAD questions, interleaved, without repeats."""
    if not path.is_file():
        return list(FALLBACK)
    out: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            out += [rec["question_ar"], rec["question_en"]]
    return list(dict.fromkeys(q.strip() for q in out if q.strip()))


class QuestionCursor:
    """Hands out the next question; shared by all clients (one event loop: no lock needed)."""

    def __init__(self, questions: Sequence[str], start: int = 0) -> None:
        if not questions:
            raise ValueError("need at least one question")
        self.questions = questions
        self.position = start

    def next(self) -> tuple[int, str]:
        i = self.position
        self.position += 1
        return i, self.questions[i % len(self.questions)]


@dataclass
class Result:
    clients: int
    seconds: float
    requests: int = 0
    errors: int = 0
    wrapped: bool = False  # more requests than distinct questions: some texts repeated
    server_cpu_s: float | None = None  # CPU seconds the server process used during the run
    error_samples: list[str] = field(default_factory=list)
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: {"search": [], "ask": []})

    def summary(self) -> dict[str, object]:
        everything = [x for v in self.latencies_ms.values() for x in v]
        out: dict[str, object] = {"clients": self.clients, "seconds": round(self.seconds, 2),
                                  "requests": self.requests, "errors": self.errors,
                                  "requests_per_s": round(self.requests / self.seconds, 2) if self.seconds else 0.0,
                                  "distinct_questions": not self.wrapped,
                                  "error_samples": self.error_samples[:10], "all": percentiles(everything)}
        if self.server_cpu_s is not None and self.seconds:
            cores = psutil.cpu_count() or 1
            out["server_cpu_s"] = round(self.server_cpu_s, 2)
            out["server_cpu_utilization"] = round(self.server_cpu_s / (self.seconds * cores), 3)  # of all cores
        out.update({name: percentiles(v) for name, v in self.latencies_ms.items()})
        return out


async def _client(http: httpx.AsyncClient, cursor: QuestionCursor, deadline: float, result: Result,
                  kinds: Sequence[str]) -> None:
    while time.monotonic() < deadline:
        i, question = cursor.next()
        result.wrapped = result.wrapped or i >= len(cursor.questions)
        kind = kinds[i % len(kinds)]
        body = {"question": question, "k": 5} if kind == "ask" else {"query": question, "k": 5}
        started = time.perf_counter()
        try:
            response = await http.post(f"/{kind}", json=body)
            ok = response.status_code == 200 and bool(response.json().get("answer" if kind == "ask" else "results"))
            problem = "" if ok else f"{kind}: HTTP {response.status_code} {response.text[:200]}"
        except (httpx.HTTPError, ValueError) as exc:
            problem = f"{kind}: {type(exc).__name__}: {exc}"
        result.requests += 1
        if problem:
            result.errors += 1
            result.error_samples.append(problem)
        else:
            result.latencies_ms[kind].append((time.perf_counter() - started) * 1000)


async def run_load(url: str, clients: int, seconds: float, cursor: QuestionCursor | None = None,
                   server_pid: int | None = None, kinds: Sequence[str] = ("search", "ask")) -> Result:
    """`kinds`: the routes the requests take in turn ("search", "ask"; one of them alone for a route's own rate)."""
    cursor = cursor or QuestionCursor(distinct_questions())
    result = Result(clients, seconds)
    server = psutil.Process(server_pid) if server_pid else None
    cpu0 = sum(server.cpu_times()[:2]) if server else 0.0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=httpx.Timeout(120.0)) as http:
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(*(_client(http, cursor, deadline, result, kinds) for _ in range(clients)))
        result.seconds = time.monotonic() - started  # includes draining the last requests
    if server:
        result.server_cpu_s = sum(server.cpu_times()[:2]) - cpu0
    return result


def run_load_blocking(url: str, clients: int, seconds: float, cursor: QuestionCursor | None = None,
                      server_pid: int | None = None, kinds: Sequence[str] = ("search", "ask")) -> Result:
    """`run_load` on a fresh thread: callers may already have an event loop (pytest with playwright's sync API)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, run_load(url, clients, seconds, cursor, server_pid, kinds)).result()
