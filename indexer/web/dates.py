"""A page's publication date: markup first, then the URL, then htmldate's text search without copyright years.

Order and why:
1. JSON-LD datePublished, its calendar date as written: it carries the publisher's own UTC offset, so it is
   the day the page shows (meta article:published_time is often the same instant in UTC, a day earlier
   for a story published after local midnight).
2. htmldate, original-date mode, no extensive search: meta article:published_time, JSON-LD datePublished,
   itemprop, <time> and dates in the URL. What the publisher declares beats anything guessed from text.
3. A URL whose path holds a year segment and, further on, month and day segments (/2013/section/8/3/):
   htmldate's URL patterns want them adjacent.
4. htmldate's extensive search, unless all it found is a copyright year: it then answers YEAR-01-01, a
   date no article was published on as far as the page says.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from urllib.parse import unquote, urlsplit

from htmldate import find_date
from lxml.html import HtmlElement

_URL_YEAR_THEN_MONTH_DAY = re.compile(r"/((?:19|20)\d{2})/(?:[^/]+/){0,2}?(\d{1,2})/(\d{1,2})(?:/|$)")
_JSON_LD_PUBLISHED = re.compile(r'"datePublished"\s*:\s*"[^"]*')
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_COPYRIGHT_YEAR = re.compile(r"(?:©|&copy;|\(c\)|copyright|حقوق)\D{0,40}((?:19|20)\d{2})", re.I)


def date_params(extensive: bool) -> dict[str, object]:
    """htmldate settings: the original (published) date, not the last-modified one."""
    return {"original_date": True, "extensive_search": extensive, "max_date": date.today().isoformat()}


def publication_date(tree: HtmlElement, url: str | None) -> str | None:
    """Each step runs only when the ones before found nothing (htmldate's searches cost most)."""
    if declared := json_ld_date(tree):
        return declared
    if markup := find_date(tree, url=url, **date_params(extensive=False)):
        return markup
    if url and (from_url := url_date(url)):
        return from_url
    guessed = find_date(tree, url=url, **date_params(extensive=True))
    if guessed and guessed.endswith("-01-01") and _is_copyright_year(tree, guessed[:4]):
        return None
    return guessed


def json_ld_date(tree: HtmlElement) -> str | None:
    """datePublished of the page's article object (an embedded video or a listed item may carry their own);
    the first one found when no object says it is an article; malformed JSON-LD is searched as text."""
    found: list[tuple[bool, str]] = []  # (belongs to an *Article / *Posting object, value)
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            found += [(_is_article(obj), str(obj["datePublished"])) for obj in _objects(json.loads(script))
                      if isinstance(obj.get("datePublished"), str)]
        except ValueError:
            found += [(False, match.group(0)) for match in _JSON_LD_PUBLISHED.finditer(script)]
    for _, value in sorted(found, key=lambda item: not item[0]):  # stable: article objects first
        if (day := _plausible_day(value)) is not None:
            return day
    return None


def _objects(data: object) -> list[dict[str, object]]:
    """Every JSON object in a JSON-LD document (top level, lists, @graph, nested values)."""
    out: list[dict[str, object]] = []
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            out.append(node)
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(node)
    return out


def _is_article(obj: dict[str, object]) -> bool:
    kinds = obj.get("@type")
    names = kinds if isinstance(kinds, list) else [kinds]
    return any(isinstance(k, str) and k.endswith(("Article", "Posting")) for k in names)


def _plausible_day(value: str) -> str | None:
    match = _ISO_DAY.search(value)
    if not match:
        return None
    try:
        day = date.fromisoformat(match.group(0))
    except ValueError:
        return None
    return day.isoformat() if date(1995, 1, 1) <= day <= datetime.now().date() else None


def url_date(url: str) -> str | None:
    match = _URL_YEAR_THEN_MONTH_DAY.search(unquote(urlsplit(url).path))
    if not match:
        return None
    try:
        found = date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None
    return found.isoformat() if found <= datetime.now().date() else None


def _is_copyright_year(tree: HtmlElement, year: str) -> bool:
    text = tree.text_content()
    return any(m.group(1) == year for m in _COPYRIGHT_YEAR.finditer(text))
