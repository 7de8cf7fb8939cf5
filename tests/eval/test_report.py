import json
import re
import subprocess
import warnings

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from isnad.eval.datasets import Benchmark, Query
from isnad.eval.metrics import AnswerOutcome, RetrievedPassage, evaluate_answers, evaluate_retrieval
from isnad.eval.report import (
    Revision,
    git_revision,
    history_record,
    markdown_table,
    native_text_shaping,
    plot_failed_questions,
    previous_record,
    record_run,
    shape_for_display,
    write_report,
)
from isnad.indexer.text.script import shape
from isnad.indexer.types import RawDocument

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
QUERIES = (
    Query("a1", "متى عقدت الجولة الثامنة من محادثات أستانة؟", "ar", frozenset({"d1"}), ("21 و22 ديسمبر",)),
    Query("e1", "Which countries were observers?", "en", frozenset({"d2"}), ("الولايات المتحدة والأردن",)),
)
BENCH = Benchmark("tiny", tuple(RawDocument(d, "t", d) for d in ("d1", "d2")), QUERIES, "document")


def _result(hit_ranks: dict[str, int | None]):
    def retrieve(text):
        q = next(q for q in QUERIES if q.text == text)
        rank = hit_ranks[q.id]
        other = "d2" if "d1" in q.relevant_docs else "d1"
        if rank is None:
            return [RetrievedPassage(other, "")]
        fillers = [RetrievedPassage(f"x{i}", "") for i in range(rank - 1)]
        return [*fillers, RetrievedPassage(next(iter(q.relevant_docs)), "")]

    docs = BENCH.documents + tuple(RawDocument(f"x{i}", "t", "p") for i in range(10))
    return evaluate_retrieval(Benchmark("tiny", docs, QUERIES, "document"), retrieve)


def _rendered_width(text: str) -> float:
    renderer = FigureCanvasAgg(Figure()).get_renderer()
    return renderer.get_text_width_height_descent(text, FontProperties(), ismath=False)[0]


def test_shape_for_display_renders_joined_letters_on_this_matplotlib():
    # Either matplotlib shapes natively (raw text passes through) or we reshape: the letters end up joined.
    shown = shape_for_display("\u0628" * 4)
    assert _rendered_width(shown) < _rendered_width("\ufe8f" * 4)
    assert shown == ("\u0628" * 4 if native_text_shaping() else shape("\u0628" * 4))
    assert shape_for_display("plain text") == "plain text"
    assert len(shape_for_display("ب" * 200, max_chars=50)) <= 50


def test_markdown_table_rows_and_columns():
    md = markdown_table({"dense": _result({"a1": 1, "e1": 3}), "bm25": _result({"a1": None, "e1": 1})})
    lines = md.strip().splitlines()
    assert lines[0].startswith("| config | ndcg@10 |") and "en/ndcg@10" in lines[0]
    assert lines[2].startswith("| dense |") and lines[3].startswith("| bm25 |")
    assert all(line.count("|") == lines[0].count("|") for line in lines)


def test_write_report_files_and_history(tmp_path):
    history = tmp_path / "hist" / "history.jsonl"
    good = {"dense": _result({"a1": 1, "e1": 1})}
    summary1 = write_report(tmp_path / "r1", good, history_path=history, commit="abc")
    assert "first run" in summary1

    out = tmp_path / "r2"
    ask = evaluate_answers(BENCH, lambda t: AnswerOutcome("", True))
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from")  # a missing Arabic glyph would warn
        summary2 = write_report(
            out, {"dense": _result({"a1": None, "e1": 2}), "dense+qa": ask}, history, "def"
        )
    assert "REGRESSION" in summary2.splitlines()[0] and "prev 1.000 @ abc" in summary2

    payload = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert payload["commit"] == "def"
    assert payload["results"]["dense"]["metrics"]["recall@10"] == 0.5
    assert payload["results"]["dense"]["details"][0]["question"] == QUERIES[0].text
    md = (out / "results.md").read_text(encoding="utf-8")
    assert "| dense |" in md and "| dense+qa |" in md
    for name in ("recall_at_k.png", "failed_dense_retrieval.png", "failed_dense_qa_answers.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 1000

    lines = [json.loads(line) for line in history.read_text(encoding="utf-8").splitlines()]
    assert [(r["config"], r["kind"], r["commit"]) for r in lines] == [
        ("dense", "retrieval", "abc"),
        ("dense", "retrieval", "def"),
        ("dense+qa", "answers", "def"),
    ]
    assert lines[1]["primary_metric"] == "ndcg@10" and "en/recall@5" in lines[1]["metrics"]
    assert previous_record(history, "tiny", "dense", "retrieval")["commit"] == "def"
    assert previous_record(history, "tiny", "other", "retrieval") is None


def test_record_run_improvement_and_unchanged(tmp_path):
    history = tmp_path / "h.jsonl"
    record_run(history, _result({"a1": 2, "e1": 2}), "c")
    assert "improved" in record_run(history, _result({"a1": 1, "e1": 1}), "c")
    same = record_run(history, _result({"a1": 1, "e1": 1}), "c")
    assert "REGRESSION" not in same and "improved" not in same and "+0.000" in same
    assert history_record(_result({"a1": 1, "e1": 1}), "c")["primary"] == pytest.approx(1.0)


def test_failed_questions_plot_without_failures(tmp_path):
    path = plot_failed_questions(tmp_path / "f.png", _result({"a1": 1, "e1": 1}))
    assert path.read_bytes().startswith(PNG_MAGIC)


def _cells(row: str) -> list[str]:
    """A Markdown table row split as a renderer does: on "|" that is not escaped."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def test_config_names_with_pipes_keep_every_value_under_its_header():
    other = Benchmark("other", BENCH.documents, QUERIES, "document")
    dense = _result({"a1": 1, "e1": 3})
    moved = evaluate_retrieval(other, lambda text: [RetrievedPassage("d1", "")])
    md = markdown_table({"tiny | dense": dense, "other | dense": moved, "a|b": dense})  # as eval/run.py names them
    head, _, *rows = md.strip().splitlines()
    header = _cells(head)
    assert header[:2] == ["config", "benchmark"]
    for row in rows:
        assert len(_cells(row)) == len(header), row
    first = dict(zip(header, _cells(rows[0]), strict=True))
    assert first["config"] == "dense" and first["benchmark"] == "tiny"
    assert first["recall@1"] == f"{dense.metrics['recall@1']:.3f}"
    assert first["ndcg@10"] == f"{dense.metrics['ndcg@10']:.3f}"
    assert _cells(rows[2])[0] == "a\\|b"  # a pipe of its own is escaped, not a column


def _git(repo, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=repo, check=True,
                   capture_output=True)


def test_git_revision_records_a_dirty_tree_and_a_hash_of_its_diff(tmp_path):
    (tmp_path / "code.py").write_text("x = 1\n")
    (tmp_path / "eval" / "results").mkdir(parents=True)
    (tmp_path / "eval" / "results" / "history.jsonl").write_text("")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "c")
    clean = git_revision(tmp_path)
    assert clean.commit and clean.dirty is False and clean.diff_sha256 is None and clean.label() == clean.commit

    (tmp_path / "eval" / "results" / "history.jsonl").write_text("{}\n")  # the eval's own output: not code
    assert git_revision(tmp_path) == clean

    (tmp_path / "code.py").write_text("x = 2\n")
    edited = git_revision(tmp_path)
    assert edited.commit == clean.commit and edited.dirty is True and len(edited.diff_sha256 or "") == 64
    assert edited.label() == f"{clean.commit}+dirty:{edited.diff_sha256[:8]}"
    (tmp_path / "new_module.py").write_text("y = 1\n")  # untracked code counts too
    with_new = git_revision(tmp_path)
    assert with_new.dirty and with_new.diff_sha256 != edited.diff_sha256
    (tmp_path / "new_module.py").write_text("y = 2\n")
    assert git_revision(tmp_path).diff_sha256 != with_new.diff_sha256
    (tmp_path / "new_module.py").unlink()
    assert git_revision(tmp_path) == edited  # the same change hashes the same
    (tmp_path / "code.py").write_text("x = 1\n")
    assert git_revision(tmp_path) == clean


def test_history_and_results_json_carry_the_dirty_flag_and_diff_hash(tmp_path):
    history = tmp_path / "history.jsonl"
    revision = Revision("abc1234", True, "f" * 64)
    summary = write_report(tmp_path / "r1", {"dense": _result({"a1": 1, "e1": 1})}, history, revision)
    assert "first run" in summary
    line = json.loads(history.read_text(encoding="utf-8"))
    assert (line["commit"], line["dirty"], line["diff_sha256"]) == ("abc1234", True, "f" * 64)
    payload = json.loads((tmp_path / "r1" / "results.json").read_text(encoding="utf-8"))
    assert (payload["commit"], payload["dirty"], payload["diff_sha256"]) == ("abc1234", True, "f" * 64)
    again = write_report(tmp_path / "r2", {"dense": _result({"a1": 1, "e1": 1})}, history, Revision("abc1234", False))
    assert "@ abc1234+dirty:ffffffff" in again  # the comparison says the previous run was uncommitted work
    default = history_record(_result({"a1": 1, "e1": 1}), "c", git_revision())
    assert default["commit"] and isinstance(default["dirty"], bool)  # this checkout, measured for real
