"""Page furniture trafilatura keeps, removed from the parsed tree before extraction, and the lead it drops.

Rules are structural, never site-specific: layers a reader sees only on demand (dialogs, modal and pop-up
windows), and a short block that links to the site's own policy pages (the privacy / terms notice above a
comment box). Elements merely `hidden` stay: a collapsed "read more" may hold the rest of the article.
"""

from __future__ import annotations

import re
import unicodedata
from html import unescape as html_unescape
from urllib.parse import urlsplit

from lxml.html import HtmlElement

_LAYER_WORDS = ("modal", "popup", "pop-up", "lightbox", "overlay")
_POLICY_WORDS = ("privacy", "terms", "cookie", "guidelines", "policy", "conditions")
# class/id tokens of layers shown only on demand: comment-rule pop-ups, newsletter and cookie dialogs.
_LAYER_TOKEN = re.compile(rf"(?:^|[-_])(?:{'|'.join(_LAYER_WORDS)})(?:$|[-_])", re.I)
# A site's own legal pages: /privacy.html, /privacy-policy/, /terms, /community_guidelines.html, /cookies ...
_POLICY_PATH = re.compile(rf"^/?(?:[\w-]+/)?[\w-]*(?:{'|'.join(_POLICY_WORDS)})[\w-]*(?:\.\w+)?/?$", re.I)
_NOTICE_MAX_CHARS = 700  # a notice is a short block; climbing stops before the article container
_NOT_LEAD = {"footer", "nav", "aside"}
_BLOCKS = {"p", "div", "section", "aside", "footer", "li", "ul", "form", "table"}


# Prefilters run on the raw HTML with bytes.find (C speed): XPath contains() over every element, or a
# case-insensitive regex over every attribute, costs more than the extraction itself. The attribute values
# found are then selected exactly.
_ATTRIBUTE_BEFORE = re.compile(rb"\b(class|id|href)\s*=\s*\Z")
_UNQUOTED_STOP = frozenset(bytes([c]) for c in b" \t\r\n\"'=<>`")
_DIALOG_HINTS = (b"dialog", b"aria-modal")
_DIALOGS = "//*[@role='dialog' or @role='alertdialog' or @aria-modal='true']"
_LEAD_CANDIDATES = "//body//*[self::p or self::div or self::h2 or self::span][contains(normalize-space(.), $start)]"


def prune_furniture(tree: HtmlElement, html: str, page_host: str | None) -> int:
    """Remove on-demand layers and policy notices from `tree` (parsed from `html`) in place; returns how many
    subtrees went. A layer holding most of the page's text is kept: some themes wrap the page in an "overlay"."""
    raw = html.encode("utf-8", "surrogatepass")
    lowered = raw.lower()  # ASCII only: byte offsets stay those of `raw`
    candidates = list(tree.xpath(_DIALOGS)) if any(hint in lowered for hint in _DIALOG_HINTS) else []
    for attribute, value in _attributes_holding(raw, lowered, _LAYER_WORDS, (b"class", b"id")):
        candidates += tree.xpath(f"//*[@{attribute}=$value]", value=value)
    layers = [e for e in candidates if e.tag not in ("html", "body") and _is_layer(e)]
    page_chars = len(tree.text_content()) if layers else 0
    doomed = [layer for layer in layers if len(layer.text_content()) < page_chars / 2]
    for _, href in _attributes_holding(raw, lowered, _POLICY_WORDS, (b"href",)):
        if _is_policy_link(href, page_host):
            doomed += [_notice_block(link) for link in tree.xpath("//body//a[@href=$href]", href=href)]
    removed = 0
    for element in doomed:
        if element.getparent() is not None and _attached(element, tree):
            element.drop_tree()  # its tail text stays: it belongs to the parent's flow
            removed += 1
    return removed


def recover_lead(tree: HtmlElement, description: str | None, text: str) -> str | None:
    """The page's lead paragraph when the extracted text misses it (it often sits outside articleBody).

    The lead is found by the page's own meta description: a visible paragraph that starts with it, outside
    footer/nav/aside (a site-wide description repeats the footer's "about us"), before the extracted body."""
    if not description:
        return None
    probe = fold(description).rstrip(".… ")[:40]
    if len(probe) < 20 or probe in fold(text):
        return None
    start = " ".join(description.split())[:15]  # XPath prefilter (C speed), exact check on the few hits
    for element in tree.xpath(_LEAD_CANDIDATES, start=start):
        own = fold(element.text_content())
        if own.startswith(probe) and len(own) <= 3 * len(fold(description)) + 200 \
                and not any(a.tag in _NOT_LEAD for a in element.iterancestors()) \
                and _precedes_body(tree, element, text):
            return " ".join(element.text_content().split())
    return None


def _precedes_body(tree: HtmlElement, lead: HtmlElement, text: str) -> bool:
    """Whether `lead` comes before the element holding the extracted text's first line (when it is found)."""
    first = " ".join(text.split("\n", 1)[0].split())[:30]
    if not first:
        return True
    body = tree.xpath(_LEAD_CANDIDATES, start=first)
    if not body:
        return True
    for element in tree.iter():  # document order: whichever comes first
        if element is lead:
            return True
        if element is body[-1]:
            return False
    return True


def fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split())


def _attributes_holding(raw: bytes, lowered: bytes, words: tuple[str, ...],
                        names: tuple[bytes, ...]) -> set[tuple[str, str]]:
    """(attribute, value) of every `names` attribute, quoted or not, whose value contains one of `words`."""
    found: set[tuple[str, str]] = set()
    for word in words:
        at = lowered.find(word.encode())
        while at >= 0:
            if span := _value_around(lowered, at, names):
                value = raw[span[1]:span[2]].decode("utf-8", "replace")
                found.add((span[0], html_unescape(value)))
            at = lowered.find(word.encode(), at + len(word))
    return found


def _value_around(lowered: bytes, at: int, names: tuple[bytes, ...]) -> tuple[str, int, int] | None:
    """(attribute name, start, end) of the attribute value holding offset `at`, if it is one of `names`."""
    opening = max(lowered.rfind(b'"', max(0, at - 300), at), lowered.rfind(b"'", max(0, at - 300), at))
    if opening >= 0 and (name := _name_before(lowered, opening, names)):
        closing = lowered.find(lowered[opening:opening + 1], at)
        return (name, opening + 1, closing) if closing > 0 else None
    start = at
    while start > 0 and lowered[start - 1:start] not in _UNQUOTED_STOP:
        start -= 1
    if lowered[start - 1:start] == b"=" and (name := _name_before(lowered, start, names)):
        end = at
        while end < len(lowered) and lowered[end:end + 1] not in _UNQUOTED_STOP:
            end += 1
        return name, start, end
    return None


def _name_before(lowered: bytes, value_start: int, names: tuple[bytes, ...]) -> str | None:
    before = _ATTRIBUTE_BEFORE.search(lowered, max(0, value_start - 40), value_start)
    return before.group(1).decode() if before and before.group(1) in names else None


def _is_layer(element: HtmlElement) -> bool:
    if element.get("aria-modal") == "true":
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
    size = len(fold(block.text_content()))
    while (parent := block.getparent()) is not None and parent.tag not in ("body", "html"):
        # climb while the parent is still short and mostly this notice: a short article holding a
        # policy link must not go with it
        parent_size = len(fold(parent.text_content()))
        if parent_size > _NOTICE_MAX_CHARS or parent_size > 1.5 * size + 100:
            break
        block, size = parent, parent_size
    return block


def _attached(element: HtmlElement, tree: HtmlElement) -> bool:
    """False once an ancestor was already removed (nothing left to do)."""
    root = element
    while (parent := root.getparent()) is not None:
        root = parent
    return root is tree
