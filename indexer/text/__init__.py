"""Text analysis shared by index time and query time: which script a text is in, Arabic normalization and BM25
tokens, sentences, the Astana rounds a text names, the English→Arabic lexicons, and a question's analysis.

Other packages import these names from here (or from the module that defines them), never a `_private` one.
Modules inside this package import each other by module path, so importing one never needs this file's order.
"""

from isnad.indexer.text import induced
from isnad.indexer.text.arabic import (
    TOKENIZER_VERSION,
    NormalizedText,
    normalize,
    normalize_str,
    surface_terms,
    tokenize,
)
from isnad.indexer.text.english_vectors import TABLE_FILE, EnglishVectors, load_words
from isnad.indexer.text.induced import (
    CACHE_FILE,
    Expansion,
    InducedConfig,
    InducedLexicon,
    arabic_vocabulary,
    english_content_words,
    vocabulary_version,
    vocabulary_with_df,
)
from isnad.indexer.text.lexicon import Lexicon, LexiconEntry, english_key, english_words
from isnad.indexer.text.names import NameConfig, NameMatcher
from isnad.indexer.text.numbers import date_number_terms
from isnad.indexer.text.query import AnalyzedQuery, Bridges, analyze
from isnad.indexer.text.rounds import ROUNDS_VERSION, chunk_contexts, detect_query_round, detect_rounds, tag_rounds
from isnad.indexer.text.script import arabic_share, has_arabic, is_arabic_char, query_language, shape, stems_as_arabic
from isnad.indexer.text.sentences import sentence_spans

__all__ = [
    "CACHE_FILE",
    "ROUNDS_VERSION",
    "TABLE_FILE",
    "TOKENIZER_VERSION",
    "AnalyzedQuery",
    "Bridges",
    "EnglishVectors",
    "Expansion",
    "InducedConfig",
    "InducedLexicon",
    "Lexicon",
    "LexiconEntry",
    "NameConfig",
    "NameMatcher",
    "NormalizedText",
    "analyze",
    "arabic_share",
    "arabic_vocabulary",
    "chunk_contexts",
    "date_number_terms",
    "detect_query_round",
    "detect_rounds",
    "english_content_words",
    "english_key",
    "english_words",
    "has_arabic",
    "induced",
    "is_arabic_char",
    "load_words",
    "normalize",
    "normalize_str",
    "query_language",
    "sentence_spans",
    "shape",
    "stems_as_arabic",
    "surface_terms",
    "tag_rounds",
    "tokenize",
    "vocabulary_version",
    "vocabulary_with_df",
]
