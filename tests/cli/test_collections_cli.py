"""`isnad search/ask --collection` over several indexes, and `isnad keys add --collection`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from isnad.cli.main import cli
from isnad.indexer.embed import Embedder
from isnad.service import keys
from tests.service.three_collections import build

QUESTION = "متى عقدت الجولة التاسعة من محادثات أستانة؟"


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> dict[str, Path]:
    return build(tmp_path_factory.mktemp("cli-collections"), embedder)


def test_search_and_ask_over_named_collections(folders: dict[str, Path]) -> None:
    runner = CliRunner()
    env = {"ISNAD_COLLECTIONS": f"pubarchive={folders['pubarchive']},probex9={folders['probex9']}"}
    # one by the configured name, one as NAME=PATH
    args = ["--collection", "pubarchive", "--collection", f"wirefeed={folders['wirefeed']}"]
    found = runner.invoke(cli, ["search", QUESTION, "-k", "8", "--json", *args], env=env)
    assert found.exit_code == 0, found.output
    results = json.loads(found.output)["results"]
    assert {r["collection"] for r in results} == {"pubarchive", "wirefeed"}
    printed = runner.invoke(cli, ["search", QUESTION, "--no-shape", *args], env=env)
    assert printed.exit_code == 0 and "] wirefeed:" in printed.output and "] pubarchive:" in printed.output
    answered = runner.invoke(cli, ["ask", QUESTION, "--json", "--collection", "probex9"], env=env)
    assert answered.exit_code == 0, answered.output
    body = json.loads(answered.output)
    assert {c["collection"] for c in body["citations"] + body["closest"]} == {"probex9"}
    unknown = runner.invoke(cli, ["search", QUESTION, "--collection", "nosuch"], env=env)
    assert unknown.exit_code != 0 and "no collection 'nosuch'" in unknown.output and "pubarchive" in unknown.output


def test_keys_add_with_collections(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    runner = CliRunner()
    added = runner.invoke(cli, ["keys", "add", "--scope", "write", "--collection", "probe", "--collection", "wire",
                                "--keys-file", str(path)])
    assert added.exit_code == 0 and "for probe, wire" in added.output, added.output
    record = keys.load(path)[0]
    assert record.collections == ("probe", "wire") and record.holds("probe") and not record.holds("public")
    listed = runner.invoke(cli, ["keys", "list", "--keys-file", str(path)])
    assert listed.output.strip().split("\t")[-1] == "probe,wire"
    bad = runner.invoke(cli, ["keys", "add", "--scope", "read", "--collection", "No Such", "--keys-file", str(path)])
    assert bad.exit_code != 0 and "not valid" in bad.output
    assert len(keys.load(path)) == 1
