"""Web archives in: article extraction from HTML pages, feeds and URL canonicalization."""

from isnad.indexer.web.extract import Skipped, canonical_url, extract_page
from isnad.indexer.web.feed import FeedItem, read_feed

__all__ = ["FeedItem", "Skipped", "canonical_url", "extract_page", "read_feed"]
