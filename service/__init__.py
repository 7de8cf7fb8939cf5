"""Isnad service: search, answering, the HTTP API, the chat page and the CLI."""

from isnad.service.ask.answerer import Answer, Answerer, Citation
from isnad.service.fusion import Fused, LexicalWeights, dedupe, fuse
from isnad.service.search import ABLATIONS, MAX_K, SearchConfig, Searcher, SearchResponse, SearchResult
from isnad.service.settings import Settings
from isnad.service.state import ServiceState, open_searcher

__all__ = ["ABLATIONS", "MAX_K", "Answer", "Answerer", "Citation", "Fused", "LexicalWeights", "SearchConfig",
           "SearchResponse", "SearchResult", "Searcher", "ServiceState", "Settings", "dedupe", "fuse",
           "open_searcher"]
