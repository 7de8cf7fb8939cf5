"""The question, analysed once for every stage of `/ask`: its text and language (from retrieval's analysis), the
normalized text, the answer type it wants, the figures it states, whether it asks for a quantity, its content
terms and their weights. Stages read these fields; none normalizes or tokenizes the question again."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from isnad.indexer.text.arabic import normalize_str, tokenize
from isnad.indexer.text.query import AnalyzedQuery
from isnad.service.ask.answer_types import KIND_CUES, AnswerType, numbers_in, question_type_of_normalized
from isnad.service.search import SearchResponse

QUANTITY_QUESTION = re.compile(r"\b(how many|how much|number of|death toll|toll)\b|كم |عدد", re.IGNORECASE)
# Interrogatives are not content: no answer sentence repeats "when" or "how many".
QUESTION_WORDS = frozenset(tokenize("متى كم أين من ماذا ما لماذا كيف هل أي أيّ ماهي ماهو"))


@dataclass(frozen=True)
class Question:
    text: str  # as retrieval analysed it (the query itself when it was not analysed)
    query: str  # as asked
    lang: str
    kind: AnswerType
    numbers: frozenset[str]  # the figures the question states (digits of its normalized text)
    query_numbers: frozenset[str]  # the same of the query as asked (the fallback's span skips them)
    quantity: bool  # asks how many / how much: differing figures are shown side by side
    terms: frozenset[str]  # its BM25 terms and, for English, the lexicon's Arabic for them
    content: frozenset[str]  # the terms less the interrogatives
    weights: dict[str, float] = field(default_factory=dict)  # content terms -> weight (English: the bridge's)
    analyzed: AnalyzedQuery | None = None
    cue: re.Pattern[str] | None = None  # what a normalized text holds when it has the kind wanted (None: no kind)

    @classmethod
    def of(cls, response: SearchResponse) -> Question:
        analyzed = response.analyzed
        if analyzed is None:
            return cls(response.query, response.query, "ar", "other", frozenset(),
                       numbers_in(normalize_str(response.query)), False, frozenset(), frozenset())
        norm = analyzed.normalized or normalize_str(analyzed.text)  # retrieval's, when it made one
        numbers = numbers_in(norm)
        query_numbers = numbers if response.query == analyzed.text else numbers_in(normalize_str(response.query))
        terms = frozenset(analyzed.terms + analyzed.bridge_terms)
        content = terms - QUESTION_WORDS
        weights = {t: w for t, w in analyzed.weighted_terms().items() if t in content or w < 1.0}
        kind = question_type_of_normalized(analyzed.text, norm, analyzed.lang)
        return cls(analyzed.text, response.query, analyzed.lang, kind, numbers, query_numbers,
                   QUANTITY_QUESTION.search(analyzed.text) is not None, terms, content, weights, analyzed,
                   KIND_CUES.get(kind))
