from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from isnad.cli.main import cli
from tests.conftest import ROUND_FOUR_AGREEMENT


def test_search_json_has_exact_offsets(sample_index: Path) -> None:
    result = CliRunner().invoke(cli, ["search", "what did round four agree", "--index", str(sample_index), "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert any(ROUND_FOUR_AGREEMENT in r["text"] for r in body["results"][:3])


def test_ask_plain_text_unshaped_when_piped(sample_index: Path) -> None:
    result = CliRunner().invoke(cli, ["ask", "متى عقدت الجولة الثامنة؟", "--index", str(sample_index)])
    assert result.exit_code == 0, result.output
    assert "[1]" in result.output and "الجولة" in result.output  # logical order, not reshaped
    certainty = next(line for line in result.output.splitlines() if line.strip().startswith("certainty"))
    assert certainty.split()[1].rstrip(",") in ("sure", "possible")
    assert ("Possible answer, not confirmed" in result.output) == ("possible" in certainty)


def test_ask_with_a_bar_above_the_answers_confidence_says_not_found(sample_index: Path) -> None:
    args = ["ask", "متى عقدت الجولة الثامنة؟", "--index", str(sample_index), "--json"]
    plain = json.loads(CliRunner().invoke(cli, args).output)
    assert not plain["abstained"]
    strict = CliRunner().invoke(cli, [*args, "--min-confidence", "1"])
    assert plain["certainty"] in ("sure", "possible")
    assert strict.exit_code == 0 and json.loads(strict.output)["abstained"]
    assert json.loads(strict.output)["certainty"] == "not_found"
    wrong = CliRunner().invoke(cli, [*args, "--min-confidence", "2"])
    assert wrong.exit_code != 0 and "min-confidence" in wrong.output


def test_shape_flag_reshapes_arabic(sample_index: Path) -> None:
    result = CliRunner().invoke(cli, ["search", "أستانا", "--index", str(sample_index), "-k", "1", "--shape"])
    assert result.exit_code == 0
    assert any("\ufe70" <= ch <= "\ufeff" for ch in result.output)  # presentation forms from the reshaper


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    runs = [
        ["search", "x", "--index", str(tmp_path / "none")],
        ["index", str(tmp_path / "missing-corpus"), "--index", str(tmp_path / "i")],
        ["index", str(tmp_path), "--index", str(tmp_path / "i")],
        ["search", "   ", "--index", str(tmp_path)],
    ]
    for args in runs:
        proc = subprocess.run([sys.executable, "-m", "isnad.cli.main", *args], capture_output=True, text=True,
                              timeout=120)
        assert proc.returncode != 0
        assert "Traceback" not in proc.stderr
        assert proc.stderr.strip().startswith("Error:") and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_english_table_command_writes_the_index_models_table(sample_index: Path, tmp_path: Path) -> None:
    import shutil

    from isnad.indexer.index import Manifest
    from isnad.indexer.text.english_vectors import TABLE_FILE, EnglishVectors, load_words

    folder = tmp_path / "copy"
    shutil.copytree(sample_index, folder)
    result = CliRunner().invoke(cli, ["english-table", "--index", str(folder), "--words", "40"])
    assert result.exit_code == 0, result.output
    model = Manifest.read(folder).model
    table = EnglishVectors.load(folder / TABLE_FILE, model)
    assert table.words == load_words(limit=40) and "embedded 40 English words" in result.output
    missing = CliRunner().invoke(cli, ["english-table", "--index", str(tmp_path / "none")])
    assert missing.exit_code != 0 and "Traceback" not in missing.output


def test_eval_and_bench_outside_a_checkout_name_the_folders_they_need(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """From an installed wheel the repository's data folders are absent: say which, before any work."""
    import isnad.cli.main

    monkeypatch.setattr(isnad.cli.main, "checkout_root", lambda: tmp_path / "site-packages")
    for command in (["eval", "--no-answers"], ["bench"]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code != 0
        assert "reads the source checkout's data" in result.output and str(tmp_path / "site-packages") in result.output
        assert "data/eval" in result.output or "data/astana" in result.output
