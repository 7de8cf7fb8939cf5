"""The article's headline, without the site name that <title> and og:title wrap around it.

Pages write "Headline - Site", "Site | Headline" (and their og:title may use the other order). Rules, in order:
1. A title candidate (metadata title, then <title>) or one of its separator-split parts that equals an <h1>
   of the page: the page shows it as its headline. A second <h1> may be the logo or the site name, so the
   match is checked against every <h1>, never "the first one", and the longest part shown wins.
2. A part that another title source (og:title, twitter:title, <title>) gives alone: the sources agree on
   the headline, and what only some of them add around it is the site's affix.
3. Otherwise an edge part equal to a name the page gives itself (og:site_name, application-name,
   twitter:site, the host's first label) is cut off.
The parts cut off are the page's names for its site: an "author" equal to one of them is not a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml.html import HtmlElement

from isnad.indexer.web.prune import fold

_SEPARATOR = re.compile(r"\s+[-|–—:·•»]{1,2}\s+|\s*[|]\s*")
_SELF_NAMES_XPATH = (
    "//meta[@property='og:site_name' or @name='application-name' or @name='twitter:site'"
    " or @name='apple-mobile-web-app-title']/@content"
)


@dataclass(frozen=True)
class Headline:
    text: str | None
    site_names: frozenset[str]  # folded, case-folded: declared names and the affixes cut from the title


def headline(tree: HtmlElement, meta_title: str | None, sitename: str | None, host: str | None) -> Headline:
    names = _self_names(tree, sitename, host)
    candidates = [t for t in (meta_title, _html_title(tree)) if t and t.strip()]
    h1s = {fold(h.text_content()) for h in tree.iter("h1")} - {""}
    if not candidates:  # no title at all: a lone <h1> is the headline
        return Headline(next(iter(h1s)) if len(h1s) == 1 else None, frozenset(names))
    for candidate in candidates:
        if fold(candidate) in h1s:
            return Headline(" ".join(candidate.split()), frozenset(names))
        parts = _SEPARATOR.split(candidate)
        longest = max(len(fold(p)) for p in parts)
        shown = [p for p in parts if len(fold(p)) > 3 and fold(p) in h1s and fold(p).casefold() not in names
                 and 2 * len(fold(p)) >= longest]  # not a section name in an <h1> beside a longer headline
        if shown:  # the site's name may be an <h1> too (a logo): the longest part shown is the headline
            best = max(shown, key=lambda p: len(fold(p)))
            affixes = {fold(p).casefold() for p in parts if fold(p) != fold(best)}
            return Headline(" ".join(best.split()), frozenset(names | affixes))
    whole = {fold(c) for c in (*candidates, *_social_titles(tree))}
    for candidate in candidates:  # another title source gives one part alone: the rest is the site's affix
        parts = _SEPARATOR.split(candidate)
        agreed = [p for p in parts if len(parts) > 1 and len(fold(p)) > 3 and fold(p) in whole]
        if agreed:
            best = max(agreed, key=lambda p: len(fold(p)))
            affixes = {fold(p).casefold() for p in parts if fold(p) != fold(best)}
            return Headline(" ".join(best.split()), frozenset(names | affixes))
    return Headline(_strip_site_affix(candidates[0], names), frozenset(names))


def _social_titles(tree: HtmlElement) -> list[str]:
    return [str(v) for v in tree.xpath("//meta[@property='og:title' or @name='twitter:title' "
                                       "or @property='twitter:title']/@content") if str(v).strip()]


def _html_title(tree: HtmlElement) -> str | None:
    title = tree.find(".//title")
    return title.text_content() if title is not None else None


def _self_names(tree: HtmlElement, sitename: str | None, host: str | None) -> set[str]:
    names = {str(value) for value in tree.xpath(_SELF_NAMES_XPATH)}
    if sitename:
        names.add(sitename)
    if host:
        names.add(host.removeprefix("www.").split(".")[0])
        names.add(host.removeprefix("www."))
    return {fold(name).lstrip("@").casefold() for name in names if name.strip()}


def _strip_site_affix(title: str, names: set[str]) -> str:
    whole = _SEPARATOR.split(title.strip())
    parts = [p for p in whole if p.strip()]
    while len(parts) > 1 and fold(parts[-1]).casefold() in names:
        parts.pop()
    while len(parts) > 1 and fold(parts[0]).casefold() in names:
        parts.pop(0)
    if len(parts) == len(whole):
        return " ".join(title.split())
    # rejoin what is left from the original string, so separators inside the headline survive
    start = title.find(parts[0].strip())
    end = title.rfind(parts[-1].strip()) + len(parts[-1].strip())
    return " ".join(title[start:end].split())
