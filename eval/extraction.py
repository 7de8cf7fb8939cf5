"""Extraction quality and speed on saved web pages whose headline, date and first sentence are known.

`../shared/corpus/web/html/expected.json` names each page's URL, headline, publication date and the first
sentence of its body. `measure_extraction` returns one flat dict: totals, the same per site, and pages/s
(several timed passes, so a loaded machine shows as a range rather than one lucky figure).
"""

from __future__ import annotations

import json
import statistics
import time
import unicodedata
from pathlib import Path

from isnad.eval.cache import ROOT
from isnad.indexer.types import Document
from isnad.indexer.web import extract_page

WEB_PAGES = ROOT.parent / "shared" / "corpus" / "web" / "html"
# Phrases of page furniture, not of news: a text line holding one is counted as boilerplate left in.
BOILERPLATE_PHRASES = (
    "سياسة الخصوصية", "شروط الاستخدام", "جميع الحقوق محفوظة", "حقوق النشر", "أضف تعليق", "اضف تعليق",
    "التعليقات", "شارك هذا", "شارك الخبر", "شارك المقال", "تابعونا", "تابعنا على", "اشترك في", "النشرة البريدية",
    "ملفات تعريف الارتباط", "اقرأ أيضا", "اقرأ أيضاً", "إقرأ أيضا", "privacy policy", "terms of use",
    "all rights reserved", "cookies", "newsletter", "share this", "follow us", "leave a comment",
)


_KINDS = ("headline", "date", "first_sentence")


def fold(text: str | None) -> str:
    """NFKC and whitespace folding: how headlines and sentences are compared."""
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def boilerplate_lines(text: str) -> list[str]:
    lowered = [(line, line.casefold()) for line in text.splitlines() if line.strip()]
    return [line for line, low in lowered if any(phrase in low for phrase in BOILERPLATE_PHRASES)]


def measure_extraction(folder: Path = WEB_PAGES, timed_passes: int = 3) -> dict[str, float | int]:
    """Headline / date / first-sentence hits and boilerplate lines, in total and per site; pages/s."""
    expected: dict[str, dict[str, str]] = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    pages = {name: (folder / name).read_bytes() for name in sorted(expected)}
    figures: dict[str, float | int] = {"pages": len(pages)}
    for name, data in pages.items():
        want = expected[name]
        site = want.get("site") or name.split("-")[0]
        doc = extract_page(data, url=want.get("url"))
        hits = _hits(doc, want)
        for key, value in hits.items():
            for prefix in ("", f"{site}."):
                figures[prefix + key] = figures.get(prefix + key, 0) + value
        figures[f"{site}.pages"] = int(figures.get(f"{site}.pages", 0)) + 1
    rates = []
    for _ in range(max(1, timed_passes)):
        started = time.perf_counter()
        for name, data in pages.items():
            extract_page(data, url=expected[name].get("url"))
        rates.append(len(pages) / (time.perf_counter() - started))
    figures |= {"pages_per_s": round(statistics.median(rates), 1), "pages_per_s_min": round(min(rates), 1),
                "pages_per_s_max": round(max(rates), 1),
                "mean_page_kb": round(sum(map(len, pages.values())) / len(pages) / 1024, 1)}
    return figures


def extraction_summary(figures: dict[str, float | int]) -> str:
    n = figures["pages"]
    hits = ", ".join(f"{label} {figures.get(key, 0)}/{n}" for label, key in
                     (("headline", "headline"), ("date", "date"), ("first sentence", "first_sentence")))
    sites = sorted(key.removesuffix(".pages") for key in figures if key.endswith(".pages"))
    per_site = ", ".join(f"{site} {'/'.join(str(figures.get(f'{site}.{k}', 0)) for k in _KINDS)} of "
                         f"{figures[f'{site}.pages']}" for site in sites)
    return (f"extraction ({n} web pages): {hits}, boilerplate lines {figures.get('boilerplate_lines', 0)}, "
            f"skipped {figures.get('skipped', 0)}; {figures['pages_per_s']} pages/s "
            f"({figures['pages_per_s_min']}-{figures['pages_per_s_max']}, one process, "
            f"{figures['mean_page_kb']} KB/page)\n  per site (headline/date/first sentence): {per_site}")


def _hits(doc: Document | object, want: dict[str, str]) -> dict[str, int]:
    if not isinstance(doc, Document):
        return {"skipped": 1, "headline": 0, "date": 0, "first_sentence": 0, "boilerplate_lines": 0}
    return {
        "skipped": 0,
        "headline": int(fold(doc.title) == fold(want.get("title"))),
        "date": int(doc.published == want.get("published")),
        "first_sentence": int(fold(want.get("first_sentence")) in fold(doc.text)),
        "boilerplate_lines": len(boilerplate_lines(doc.text)),
    }
