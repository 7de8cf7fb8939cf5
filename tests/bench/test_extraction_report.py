"""The bench report's web extraction row: judged against 12 pages/s, shown beside indexing documents/s."""

from __future__ import annotations

from isnad.bench.report import extraction_markdown, judge

FIGURES = {"pages": 9, "headline": 9, "date": 9, "first_sentence": 9, "boilerplate_lines": 0, "skipped": 0,
           "pages_per_s": 30.5, "pages_per_s_min": 25.0, "pages_per_s_max": 33.1, "mean_page_kb": 90.4}


def test_extraction_is_judged_and_rendered() -> None:
    report = {"extraction": FIGURES, "throughput": {"astana": {"pipeline_docs_per_s": 4.2}}}
    row = next(t for t in judge(report) if t["target"].startswith("web page extraction"))
    assert (row["value"], row["met"]) == (30.5, True)
    text = "\n".join(extraction_markdown(report))
    assert "30.5 pages/s (passes 25-33.1)" in text and "headline 9/9" in text and "astana 4.2" in text


def test_no_extraction_row_when_it_was_not_measured() -> None:
    assert extraction_markdown({"throughput": {}}) == []
    assert next(t for t in judge({}) if t["target"].startswith("web page extraction"))["met"] is None
