"""The filter kernel: its vectorized mask, the keyed table and the Milvus expression all follow one rule,
checked against a plain per-chunk statement of it on random chunks and filters."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pytest

from isnad.indexer.stores.filters import FilterColumns, FilterTable, milvus_expression, milvus_fields
from isnad.indexer.types import Chunk, SearchFilters

DOCS = ["a", "b", 'q"uote', "back\\slash", "عربي"]
DATES = [None, "2017-01-23", "2017-05-04", "2017-12-31", "2018-01-01", "2018-09-14"]


def accepts(filters: SearchFilters, chunk: Chunk) -> bool:
    """The filter rule, one chunk at a time: every set field holds; an undated chunk fails any date bound."""
    if filters.doc_id is not None and chunk.doc_id != filters.doc_id:
        return False
    if filters.round is not None and filters.round not in chunk.rounds:
        return False
    if filters.published_from is not None or filters.published_to is not None:
        if chunk.published is None:
            return False
        if filters.published_from is not None and chunk.published < filters.published_from:
            return False
        if filters.published_to is not None and chunk.published > filters.published_to:
            return False
    return True


def random_chunks(rng: random.Random, n: int, tag: str = "") -> list[Chunk]:
    out = []
    for i in range(n):
        doc = rng.choice(DOCS)
        rounds = tuple(sorted(rng.sample(range(1, 10), rng.randint(0, 3))))
        out.append(Chunk(doc, f"{doc}#{tag}{i}", 0, 1, "x", None, rng.choice(DATES), rounds))
    return out


def random_filters(rng: random.Random) -> SearchFilters:
    pick = lambda values: rng.choice([None, None, *values])  # noqa: E731
    return SearchFilters(round=pick(range(0, 11)), doc_id=pick([*DOCS, "absent"]),
                         published_from=pick([*DATES[1:], "2016-01-01"]), published_to=pick([*DATES[1:], "2019"]))


@pytest.mark.parametrize("seed", range(5))
def test_mask_is_the_rule_on_random_chunks_and_filters(seed: int) -> None:
    rng = random.Random(seed)
    chunks = random_chunks(rng, 300)
    columns = FilterColumns.from_chunks(chunks)
    for _ in range(60):
        filters = random_filters(rng)
        assert np.array_equal(columns.mask(filters), [accepts(filters, c) for c in chunks]), filters
    assert columns.mask(None).all() and columns.mask(SearchFilters()).all()


def test_take_and_append_keep_rows_and_rounds() -> None:
    rng = random.Random(7)
    first, second = random_chunks(rng, 40, "x"), random_chunks(rng, 25, "y")
    both = FilterColumns.from_chunks(first).append(second)
    order = np.array(rng.sample(range(65), 65))
    shuffled = both.take(order)
    chunks = [(first + second)[i] for i in order]
    assert [shuffled.rounds(i) for i in range(65)] == [c.rounds for c in chunks]
    kept = shuffled.take(np.arange(65) % 3 == 0)
    assert [kept.rounds(i) for i in range(len(kept))] == [c.rounds for c in chunks[::3]]
    for _ in range(30):
        filters = random_filters(rng)
        assert np.array_equal(kept.mask(filters), [accepts(filters, c) for c in chunks[::3]])


def test_keyed_table_upserts_removes_and_reloads(tmp_path: Path) -> None:
    rng = random.Random(3)
    chunks = random_chunks(rng, 200)
    table = FilterTable()
    for i in range(0, 200, 32):  # a build adds batches of 32
        table.add(chunks[i : i + 32])
    gone = {c.key for c in chunks[::7]}
    assert set(table.remove(np.array([*gone, 12345])).tolist()) == gone
    live = [c for c in chunks if c.key not in gone]
    table.save(tmp_path)
    loaded = FilterTable.load(tmp_path)
    assert len(loaded) == len(live) and np.array_equal(loaded.all_keys(), np.sort([c.key for c in live]))
    for _ in range(40):
        filters = random_filters(rng)
        expected = np.sort(np.array([c.key for c in live if accepts(filters, c)], dtype=np.int64))
        assert np.array_equal(loaded.matching_keys(filters), expected), filters
        assert np.array_equal(table.matching_keys(filters), expected)


def _evaluate(expression: str, row: dict[str, object]) -> bool:
    """Milvus' expression grammar, for the operators `milvus_expression` writes, as Python (JSON string
    literals are Python literals for these values)."""
    python = re.sub(r"ARRAY_CONTAINS\(rounds, (\d+)\)", r"(\1 in rounds)", expression)
    return bool(eval(python or "True", {}, dict(row)))


@pytest.mark.parametrize("seed", range(3))
def test_milvus_expression_selects_what_the_mask_selects(seed: int) -> None:
    rng = random.Random(seed)
    chunks = random_chunks(rng, 150)
    columns = FilterColumns.from_chunks(chunks)
    rows = [milvus_fields(c) for c in chunks]
    for _ in range(40):
        filters = random_filters(rng)
        expression = milvus_expression(filters)
        assert np.array_equal([_evaluate(expression, r) for r in rows], columns.mask(filters)), expression


def test_milvus_expression_escapes_strings_and_excludes_undated() -> None:
    assert milvus_expression(None) == "" and milvus_expression(SearchFilters()) == ""
    expr = milvus_expression(SearchFilters(round=4, doc_id='a"b\\c', published_to="2018-12-31"))
    assert expr == ('doc_id == "a\\"b\\\\c" and ARRAY_CONTAINS(rounds, 4) and published != "" '
                    'and published <= "2018-12-31"')
    assert json.loads(expr.split(" == ")[1].split(" and ")[0]) == 'a"b\\c'


def test_milvus_fields_refuse_more_rounds_than_the_collection_holds() -> None:
    with pytest.raises(ValueError, match="rounds"):
        milvus_fields(Chunk("d", "d#0", 0, 1, "x", rounds=tuple(range(200))))
