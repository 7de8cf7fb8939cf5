"""A short version of `make load` inside the suite: 8 clients for 5 s, zero errors (figures are reported only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from isnad.bench.load import QuestionCursor, distinct_questions
from isnad.bench.server_process import free_port
from tests.live_server import live_server
from tests.load.loadtest import main, report, run_load_blocking


@pytest.mark.slow
def test_short_load_has_zero_errors(sample_index: Path, tmp_path: Path) -> None:
    cursor = QuestionCursor(distinct_questions())
    with live_server(sample_index) as server:
        result = run_load_blocking(server.url, clients=8, seconds=5, cursor=cursor, server_pid=server.process.pid)
    summary = report(result, tmp_path / "load.json")
    assert result.errors == 0, result.error_samples[:5]
    assert result.latencies_ms["search"] and result.latencies_ms["ask"]  # both endpoints really exercised
    assert cursor.position >= result.requests  # one question per request, from one shared list
    assert summary["distinct_questions"] is (cursor.position <= len(cursor.questions))
    assert result.server_cpu_s is not None and result.server_cpu_s > 0
    assert json.loads((tmp_path / "load.json").read_text())["requests"] == result.requests == summary["requests"]


def test_load_questions_are_distinct_and_in_both_languages() -> None:
    questions = distinct_questions()
    assert len(questions) == len(set(questions)) >= 2000  # the XQuAD questions, Arabic and English
    assert any("\u0600" <= ch <= "\u06ff" for ch in questions[0]) and questions[1].isascii()
    cursor = QuestionCursor(questions[:3])
    assert [cursor.next()[1] for _ in range(4)] == [*questions[:3], questions[0]]


def test_the_load_test_exits_non_zero_on_any_error(tmp_path: Path) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens: every request fails
    assert main(["--url", nobody, "--clients", "2", "--seconds", "0.2", "--out", str(tmp_path / "l.json")]) == 1
    assert json.loads((tmp_path / "l.json").read_text())["errors"] >= 1
