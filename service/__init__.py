"""Isnad service: search, answering, the HTTP API, the chat page and the CLI."""

from service.answer import Answer, Answerer, Citation
from service.fusion import Fused, LexicalWeights, dedupe, fuse
from service.search import ABLATIONS, MAX_K, SearchConfig, Searcher, SearchResponse, SearchResult
from service.settings import Settings
from service.state import ServiceState, open_searcher

__all__ = ["ABLATIONS", "MAX_K", "Answer", "Answerer", "Citation", "Fused", "LexicalWeights", "SearchConfig",
           "SearchResponse", "SearchResult", "Searcher", "ServiceState", "Settings", "dedupe", "fuse",
           "open_searcher"]
