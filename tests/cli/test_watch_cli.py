"""`isnad watch` end to end with the default model: one poll of a loopback feed adds its article."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from isnad.cli.main import cli
from isnad.indexer.index import Index
from tests.indexer.feed_server import PAGES, feed_server, feed_url

pytestmark = pytest.mark.skipif(not (PAGES / "expected.json").is_file(), reason="shared web corpus not present")


def test_watch_indexes_a_new_article_then_answers_304(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "seed.txt").write_text("عقدت الجولة الأولى من محادثات أستانا في كانون الثاني.", encoding="utf-8")
    index = tmp_path / "index"
    runner = CliRunner()
    built = runner.invoke(cli, ["index", str(corpus), "--index", str(index), "--no-progress", "--embed-workers", "1"])
    assert built.exit_code == 0, built.output
    with feed_server() as httpd:
        httpd.items.append(("beirutobserver-2020-11-09.html", "item"))  # type: ignore[attr-defined]
        first = runner.invoke(cli, ["watch", feed_url(httpd), "--index", str(index), "--polls", "1"])
        assert first.exit_code == 0, first.output
        assert "1 feeds changed" in first.output and "1 articles indexed" in first.output
        again = runner.invoke(cli, ["watch", feed_url(httpd), "--index", str(index), "--polls", "1"])
        assert "0 feeds changed, 1 unchanged, 0 pages fetched, 0 articles indexed" in again.output
        assert httpd.hits[-1] == ("/feed.xml", 304)  # type: ignore[attr-defined]
    documents = Index.load(index).documents
    assert len(documents) == 2
    assert any("سرقة منزل أميرة سعودية" in (documents[d].title or "") for d in documents)


def test_watch_without_an_index_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["watch", "http://127.0.0.1:1/feed.xml", "--index", str(tmp_path / "none")])
    assert result.exit_code != 0 and "isnad index" in result.output
