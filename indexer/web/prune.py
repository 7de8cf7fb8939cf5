"""Page furniture trafilatura keeps, removed from the parsed tree before extraction, and the lead it drops.

Rules are structural, never site-specific: what a reader cannot see (hidden, modal and pop-up layers), and a
short block that links to the site's own policy pages (the privacy / terms notice above a comment box).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

from lxml.html import HtmlElement

_LAYER_WORDS = ("modal", "popup", "pop-up", "lightbox", "overlay")
_POLICY_WORDS = ("privacy", "terms", "cookie", "guidelines", "policy", "conditions")
# class/id tokens of layers shown only on demand: comment-rule pop-ups, newsletter and cookie dialogs.
_LAYER_TOKEN = re.compile(rf"(?:^|[-_])(?:{'|'.join(_LAYER_WORDS)})(?:$|[-_])", re.I)
# A site's own legal pages: /privacy.html, /privacy-policy/, /terms, /community_guidelines.html, /cookies ...
_POLICY_PATH = re.compile(rf"^/?(?:[\w-]+/)?[\w-]*(?:{'|'.join(_POLICY_WORDS)})[\w-]*(?:\.\w+)?/?$", re.I)
_NOTICE_MAX_CHARS = 700  # a notice is a short block; climbing stops before the article container
_BLOCKS = {"p", "div", "section", "aside", "footer", "li", "ul", "form", "table"}


def _any_in(attribute: str, words: tuple[str, ...]) -> str:
    lowered = f"translate({attribute}, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
    return " or ".join(f"contains({lowered}, '{word}')" for word in words)


# Cheap prefilters in plain XPath (C speed); the exact rules are checked in Python on the few hits.
_HIDDEN = "//*[@hidden or @role='dialog' or @role='alertdialog' or @aria-modal='true']"
_LAYER_CANDIDATES = f"//*[{_any_in('@class', _LAYER_WORDS)} or {_any_in('@id', _LAYER_WORDS)}]"
_POLICY_CANDIDATES = f"//body//a[{_any_in('@href', _POLICY_WORDS)}]"


def prune_furniture(tree: HtmlElement, page_host: str | None) -> int:
    """Remove hidden layers and policy notices from `tree` in place; returns how many subtrees went.

    A layer holding most of the page's text is kept: some themes wrap the whole page in an "overlay"."""
    page_chars = len(tree.text_content())
    doomed: list[HtmlElement] = []
    for element in (*tree.xpath(_HIDDEN), *tree.xpath(_LAYER_CANDIDATES)):
        if element.tag not in ("html", "body") and _is_layer(element) \
                and len(element.text_content()) < page_chars / 2:
            doomed.append(element)
    for link in tree.xpath(_POLICY_CANDIDATES):
        if _is_policy_link(link.get("href", ""), page_host):
            doomed.append(_notice_block(link))
    removed = 0
    for element in doomed:
        parent = element.getparent()
        if parent is not None and _attached(element, tree):
            parent.remove(element)
            removed += 1
    return removed


def recover_lead(tree: HtmlElement, description: str | None, text: str) -> str | None:
    """The page's lead paragraph when the extracted text misses it (it often sits outside articleBody).

    The lead is found by the page's own meta description: a visible paragraph that starts with it."""
    if not description:
        return None
    probe = fold(description).rstrip(".… ")[:40]
    if len(probe) < 20 or probe in fold(text):
        return None
    for element in tree.iter("p", "div", "h2", "span"):
        own = fold(element.text_content())
        if own.startswith(probe) and len(own) <= 3 * len(fold(description)) + 200:
            return " ".join(element.text_content().split())
    return None


def fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _is_layer(element: HtmlElement) -> bool:
    if element.get("hidden") is not None or element.get("aria-modal") == "true":
        return True
    if element.get("role") in ("dialog", "alertdialog"):
        return True
    tokens = f"{element.get('class', '')} {element.get('id', '')}".split()
    return any(_LAYER_TOKEN.search(token) for token in tokens)


def _is_policy_link(href: str, page_host: str | None) -> bool:
    parts = urlsplit(href.strip())
    if parts.netloc and page_host and parts.netloc.lower().removeprefix("www.") != page_host.removeprefix("www."):
        return False  # a link to another site's policy is content (a story about it), not this site's notice
    return bool(_POLICY_PATH.match(parts.path)) and not parts.query


def _notice_block(link: HtmlElement) -> HtmlElement:
    block = link
    while block.tag not in _BLOCKS and block.getparent() is not None:
        block = block.getparent()
    while (parent := block.getparent()) is not None and parent.tag not in ("body", "html") \
            and len(fold(parent.text_content())) <= _NOTICE_MAX_CHARS:
        block = parent
    return block


def _attached(element: HtmlElement, tree: HtmlElement) -> bool:
    """False once an ancestor was already removed (nothing left to do)."""
    root = element
    while (parent := root.getparent()) is not None:
        root = parent
    return root is tree
