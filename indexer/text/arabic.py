"""Arabic text normalization (with an offset map back to the original) and BM25 tokenization.

Normalization (`normalize`, `normalize_str`):
- NFKD per character, combining marks dropped, then NFC: removes harakat, shadda, sukun, tanwin,
  superscript alef (all category Mn), folds presentation forms (ﻻ → لا), strips Latin accents,
  and - because hamza seats decompose into letter + hamza mark - folds أ إ آ → ا, ؤ → و, ئ → ي.
  Folding the hamza seats is deliberate: news text writes them inconsistently (رئيس / رييس, مسؤول / مسئول),
  and a dropped seat is far more common than a meaningful contrast.
- explicit maps: ٱ → ا, ى → ي, ة → ه, Persian ی ک → ي ك, Arabic-Indic and Persian digits → ASCII, tatweel and
  format characters (LRM, ZWNJ, BOM, soft hyphen) removed, curly quotes / primes / guillemets → `"` or `'`.
- Latin lowercased; every whitespace run (NBSP, ZWSP included) → one space; ends stripped.

Each output character remembers the original character it came from, so a span found in the normalized
text maps back to an exact span of the original (`NormalizedText.to_original`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

from isnad.indexer.text.script import stems_as_arabic

__all__ = [
    "TOKENIZER_VERSION",
    "NormalizedText",
    "normalize",
    "normalize_str",
    "surface_terms",
    "tokenize",
]

# Bump when `tokenize` output changes: lexical indexes record it and refuse to load on a mismatch.
TOKENIZER_VERSION = 1

_TA_MARBUTA, _ALEF_MAQSURA = "\u0629", "\u0649"
_SPACE_LIKE = {"\u200b"}  # zero-width space separates words
_EXPLICIT: dict[str, str] = {
    "\u0640": "",  # tatweel
    "\u0671": "\u0627",  # alef wasla
    "\u06cc": "\u064a",  # Persian yeh
    "\u06a9": "\u0643",  # keheh
    "\u06c0": "\u0647",  # heh with yeh above
    **{q: '"' for q in "\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb\u301d\u301e\uff02"},
    **{q: "'" for q in "\u2018\u2019\u201a\u201b\u2032\u2035\u0060\u00b4"},
    **{chr(0x0660 + i): str(i) for i in range(10)},
    **{chr(0x06F0 + i): str(i) for i in range(10)},
}


def _map_char_tok(ch: str) -> str:
    """Normalized form of one character, keeping ة and ى (the tokenizer needs them; see `_fold_ta`)."""
    if ch in _EXPLICIT:
        return _EXPLICIT[ch]
    if ch.isspace() or ch in _SPACE_LIKE:
        return " "
    cat = unicodedata.category(ch)
    if cat in ("Cf", "Cc", "Mn", "Me", "Cs", "Co", "Cn"):
        return ""
    out = unicodedata.normalize("NFKD", ch).lower()
    out = "".join(c for c in out if not unicodedata.combining(c) and unicodedata.category(c) != "Mn")
    out = unicodedata.normalize("NFC", out)
    return "".join(_EXPLICIT.get(c, c) for c in out)


# str.translate tables over the BMP: `_TOK_TABLE` keeps ة/ى, `_TABLE` is the public normalization.
_TOK_TABLE: dict[int, str] = {}
for _cp in range(0x10000):
    if 0xD800 <= _cp <= 0xDFFF:
        continue
    _m = _map_char_tok(chr(_cp))
    if _m != chr(_cp):
        _TOK_TABLE[_cp] = _m
_FOLD_TA = str.maketrans({_TA_MARBUTA: "\u0647", _ALEF_MAQSURA: "\u064a"})
_TABLE: dict[int, str] = {cp: v.translate(_FOLD_TA) for cp, v in _TOK_TABLE.items()}
_TABLE.update({ord(_TA_MARBUTA): "\u0647", ord(_ALEF_MAQSURA): "\u064a"})
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_SPACES = re.compile(" {2,}")


@lru_cache(maxsize=4096)
def _map_astral(ch: str) -> str:
    return _map_char_tok(ch)


def _translate(text: str, table: dict[int, str]) -> str:
    out = text.translate(table)
    if _ASTRAL.search(out):
        out = "".join(_map_astral(c) if ord(c) > 0xFFFF else c for c in out)
        if table is _TABLE:
            out = out.translate(_FOLD_TA)
    return _SPACES.sub(" ", out).strip(" ")


@dataclass(frozen=True)
class NormalizedText:
    """Normalized text plus, for every normalized character, the original span it came from.

    `starts[i]`/`ends[i]` bound the original characters behind `text[i]`; `ends` also covers marks that were
    dropped right after it (diacritics, tatweel), so a cited word keeps its harakat.
    """

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the normalized span [start, end) to the original span that produced it.

        A span that cuts through one character's multi-character expansion (ﷲ → الله) widens to that whole
        character; an empty span maps to an empty span at the matching position.
        """
        n = len(self.text)
        if not 0 <= start <= end <= n:
            raise ValueError(f"span ({start}, {end}) outside normalized text of length {n}")
        if start == end:
            pos = self.starts[start] if start < n else (self.ends[-1] if n else len(self.original))
            return pos, pos
        return self.starts[start], self.ends[end - 1]


def normalize(text: str) -> NormalizedText:
    """Normalize `text` (see module doc) keeping an offset map to the original."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, ch in enumerate(text):
        cp = ord(ch)
        out = _TABLE.get(cp, ch) if cp <= 0xFFFF else _map_astral(ch).translate(_FOLD_TA)
        if not out:
            # a dropped mark stays attached to the character before it
            if chars and chars[-1] != " " and ends[-1] == i:
                for j in range(len(ends) - 1, -1, -1):
                    if ends[j] != i:
                        break
                    ends[j] = i + 1
            continue
        for c in out:
            if c == " " and (not chars or chars[-1] == " "):
                continue
            chars.append(c)
            starts.append(i)
            ends.append(i + 1)
    while chars and chars[-1] == " ":
        chars.pop()
        starts.pop()
        ends.pop()
    return NormalizedText(text, "".join(chars), tuple(starts), tuple(ends))


def normalize_str(text: str) -> str:
    """Fast path: `normalize(text).text` without the offset map."""
    return _translate(text, _TABLE)


# ---------------------------------------------------------------------------------------------- tokenization


def _n(words: str) -> frozenset[str]:
    return frozenset(_translate(w, _TOK_TABLE) for w in words.split())


_AR_STOP = _n(
    """
    في من الى إلى على عن مع حتى منذ لدى لدي عند بين ضد نحو خلال عبر حول دون غير سوى تحت فوق قبل بعد
    و ف ب ك ل ال أو او ثم أم بل لكن لكنه لكن ولكن إن ان أن إنه انه أنه أنها انها إنها لأن كأن ليس لم لن لا ما
    ماذا هل قد لقد سوف كل بعض أي اي أية أيضا ايضا كما كذلك حيث إذ اذ إذا اذا لو لولا أما اما إما إلا الا
    هو هي هم هن هما أنا نحن أنت انت أنتم هذا هذه هذان هاتان هؤلاء ذلك تلك أولئك هنا هناك الذي التي الذين
    اللذان اللتان اللاتي اللواتي الذى التى فيه فيها منه منها عليه عليها إليه اليه إليها اليها به بها له لها
    لهم لهما عنه عنها بينما فيما كان كانت يكون تكون كانوا وكان وكانت قال قالت يذكر يشار وقد فقد مما عما
    ومن وفي وعلى والى وإلى وعن ومع وهو وهي وهذا وهذه وذلك وأن وان وإن ولا ولم ولن وما وقد
    """
)
_AR_STOP = _AR_STOP | frozenset(_translate(p, _TOK_TABLE) for p in ("وال", "بال", "كال", "فال", "لل", "ولل"))
_EN_STOP = _n(
    """
    a an the and or but if of to in on at by for with from as into about over under between after before
    during without within is are was were be been being am do does did doing have has had having will would
    shall should can could may might must this that these those it its it's they them their there here what
    which who whom whose when where why how than then so such not no nor too very also just only own same
    i me my we our you your he him his she her us all any both each few more most other some s t
    """
)

_ALEF, _WAW, _NOON, _HEH, _ALEF_LAM = "\u0627", "\u0648", "\u0646", "\u0647", "\u0627\u0644"
# Definite-article clusters, longest first: conjunction? + preposition? + ال (لل = ل + ال).
_ARTICLE_PREFIXES = tuple(
    sorted(
        {c + p + "ال" for c in ("", "و", "ف") for p in ("", "ب", "ك")} | {c + "لل" for c in ("", "و", "ف")},
        key=len,
        reverse=True,
    )
)
_CONJ = frozenset("وف")
_CLITICS = frozenset("وفبكل")
# `عنالأمم`: a preposition glued to a following definite noun (مع is left out: معالجات, معالم).
_GLUED_PREPS = tuple(_translate(w, _TOK_TABLE) for w in ("عن", "من", "في", "على", "إلى"))
# Known names for `روسياوتركيا` splitting; written as they appear after normalization.
_GLUE_NAMES = _n(
    """
    روسيا تركيا إيران ايران سوريا سورية الأردن الاردن أمريكا امريكا لبنان العراق مصر قطر السعودية
    الإمارات فرنسا بريطانيا ألمانيا الصين كازاخستان موسكو أنقرة طهران دمشق عمان واشنطن جنيف أستانا أستانة
    حلب إدلب حمص حماة درعا القنيطرة اللاذقية الرقة دير الزور
    """
)
_GLUE_NAMES_ORDERED = tuple(sorted(_GLUE_NAMES, key=lambda w: (-len(w), w)))  # deterministic, longest first
# Spelling variants of names that the stemmer would not bring together: surface form → canonical form.
_VARIANTS: dict[str, str] = {
    _translate(k, _TOK_TABLE): _translate(v, _TOK_TABLE)
    for k, v in {
        "أستانا": "أستانة",  # ا after ن is not folded by `_fold_ta`
        "مستورا": "ميستورا",
        "ستيفان": "ستافان",
        "ستيفن": "ستافان",
        "أميركا": "أمريكا",
        "أميركي": "أمريكي",
        "أميركية": "أمريكية",
    }.items()
}

_WORD = re.compile(r"[^\W\d_]+|\d+")
_AR_STEM = Stemmer.Stemmer("arabic")
_EN_STEM = Stemmer.Stemmer("english")


def _split_glued(word: str) -> list[tuple[int, int]]:
    """Split cheap glue inside one word; returns (start, end) pieces relative to the word.

    Rules, in order: (1) ة and ى only end a word, so a letter after them starts a new word
    (`وكالةسبوتنيك`); (2) عن/من/في/على/إلى directly followed by ال + at least 3 letters (`عنالأمم`);
    (3) `A وB` where A is a known name and B is a known name or splits again (`روسياوتركيا`).
    """
    for i, ch in enumerate(word[:-1]):
        if ch in (_TA_MARBUTA, _ALEF_MAQSURA):
            rest = _split_glued(word[i + 1 :])
            return [(0, i + 1)] + [(s + i + 1, e + i + 1) for s, e in rest]
    for p in _GLUED_PREPS:
        if word.startswith(p + _ALEF_LAM) and len(word) - len(p) - 2 >= 3:
            return [(0, len(p)), *[(s + len(p), e + len(p)) for s, e in _split_glued(word[len(p) :])]]
    for name in _GLUE_NAMES_ORDERED:
        if word.startswith(name + _WAW) and len(word) > len(name) + 1:
            rest = word[len(name) + 1 :]
            pieces = _split_glued(rest)
            if rest in _GLUE_NAMES or len(pieces) > 1:
                off = len(name)  # keep the و on the second name: clitic stripping removes it
                return [(0, len(name))] + [
                    (s + off + (0 if k == 0 else 1), e + off + 1) for k, (s, e) in enumerate(pieces)
                ]
    return [(0, len(word))]


def _fold_ta(word: str) -> str:
    """Unify word-final ة/ه/ا of long words as ة, the form the Snowball stemmer strips.

    ة→ه spelling (`استانه`) and the ا/ة alternation of names vs. their adjectives (سوريا/السورية,
    تركيا/التركية) are the commonest variants in news text. ا stays after و (verb plurals) and ن (pronoun نا,
    left to Snowball).
    """
    word = word.replace(_ALEF_MAQSURA, "\u064a")
    if len(word) >= 4:
        last, prev = word[-1], word[-2]
        if last == _HEH or (last == _ALEF and prev not in (_WAW, _NOON)):
            return word[:-1] + _TA_MARBUTA
    return word


def _strip_clitics(word: str) -> str:
    """Remove proclitics until none is left: an article cluster (وال, بال, لل, ...) when ≥ 2 letters remain,
    or a conjunction و/ف when ≥ 3 letters remain, or a preposition ب/ك/ل when ≥ 4 remain.

    Running to a fixed point makes X, وX, الX, والX, بX all end on the same string, even when X itself starts
    with one of those letters (وزير / الوزير): consistency between query and passage matters more for BM25
    than linguistic correctness. Three-letter words (وفد) and four-letter ones under a preposition
    (لجنة, بلاد) are left whole.
    """
    while True:
        for p in _ARTICLE_PREFIXES:
            if word.startswith(p) and len(word) - len(p) >= 2:
                word = word[len(p) :]
                break
        else:
            if (word[:1] in _CONJ and len(word) >= 4) or (word[:1] in _CLITICS and len(word) >= 5):
                word = word[1:]
            else:
                return word


def _snowball(word: str) -> str:
    """Snowball Arabic stem, with its own one-letter prefix removal undone (`_strip_clitics` owns that)."""
    out = _AR_STEM.stemWord(word)
    if len(out) < 2:
        return word  # Snowball can shave short words to one letter; the clitic-free word is more useful
    k = word.find(out)
    if 0 < k <= 2 and all(c in _CLITICS for c in word[:k]):
        out = word[:k] + out
    return out


@lru_cache(maxsize=1 << 18)  # word frequencies are Zipfian: most calls hit the cache
def _term(word: str) -> str | None:
    """BM25 term for one normalized (ة-keeping) word, or None for a stopword / noise."""
    if word.isdigit():
        return word.lstrip("0") or "0"
    if not stems_as_arabic(word):
        if len(word) < 2 or word in _EN_STOP:
            return None
        return _EN_STEM.stemWord(word)
    if word in _AR_STOP:
        return None
    stem = _strip_clitics(word)
    if len(stem) < 2 or stem in _AR_STOP:
        return None
    stem = _fold_ta(_VARIANTS.get(stem, stem))
    return _snowball(_VARIANTS.get(stem, stem))


def tokenize(text: str) -> list[str]:
    """BM25 terms of `text`: normalized, glue-split, stopwords dropped, clitics stripped, Snowball-stemmed."""
    # Cached per word: BM25 over 1M chunks tokenizes ~800 MB of text.
    return [t for word in _WORD.findall(_translate(text, _TOK_TABLE)) for t in _word_terms(word)]


@lru_cache(maxsize=1 << 18)  # glue splitting costs ~15 µs a word; news vocabulary repeats (Zipf)
def _word_terms(word: str) -> tuple[str, ...]:
    """BM25 terms of one normalized word (several when it is glue: `روسياوتركيا`)."""
    pieces = ((0, len(word)),) if word.isdigit() or len(word) < 5 else _split_glued(word)
    return tuple(t for t in (_term(word[s:e]) for s, e in pieces) if t)


_RAW_WORD = re.compile(r"[^\W\d_][\w\u064b-\u0652\u0670\u0640]*")  # a word with its harakat and tatweel
_MARKS = re.compile("[\u064b-\u0652\u0670\u0640]")


def surface_terms(text: str) -> list[tuple[str, str]]:
    """(word, BM25 term) for each word of `text` that yields exactly one term. The word is as written, less
    harakat and tatweel: hamza seats and ة stay, so it reads as a word (the cross-lingual bridge embeds it)
    where the term is a folded stem."""
    out: list[tuple[str, str]] = []
    for raw in _RAW_WORD.findall(text):
        terms = [t for word in _WORD.findall(_translate(raw, _TOK_TABLE)) for t in _word_terms(word)]
        if len(terms) == 1:
            out.append((_MARKS.sub("", raw), terms[0]))
    return out
