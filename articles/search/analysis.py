"""The Arabic analysis every engine indexes and searches with.

Each text is indexed three ways (see articles.arabic.word_forms):

- "stem" fields (title, lead, text): the words' light stems, with positions,
  for word and phrase queries;
- the "exact" field: exact forms only, so a query can prefer the word as the
  reader wrote it ("بوتين", not every word that stems to "بوت");
- the "skeleton" field: consonant skeletons, for the other spellings of a
  transliterated name ("ترمب" finds "ترامب"), weighted lowest.

Engines never analyse Arabic themselves: Whoosh wraps `field_tokens` in an
analyzer (articles.search.engines.whoosh.analysis), Solr receives the tokens
pre-analysed (articles.search.engines.solr.documents). Queries are analysed
by the same functions (articles.search.query), so both engines agree on what
"the same word" is.

A text is split and normalised once, whichever field asks first (an article
is analysed for several fields in a row).
"""
from functools import lru_cache
from typing import NamedTuple

from articles import arabic

FORMS = ("stem", "exact", "skeleton")


class FieldToken(NamedTuple):
    term: str
    weight: float      # 1.0, or less for a word's secondary reading
    position: int      # the word's index among the text's non-stop words
    start: int         # character offsets of the word in the text
    end: int


@lru_cache(maxsize=500_000)
def _readings(word):
    """The readings of one word as written, None for a stop word (one cache
    lookup a word instead of three)."""
    normalized = arabic.normalize_word(word)
    if normalized and not arabic.is_stopword(normalized):
        return arabic.index_forms(normalized)
    return None


@lru_cache(maxsize=8)
def words(text):
    """(start, end, readings) for each non-stop word of `text`."""
    found = []
    for word, start, end in arabic.tokenize(text):
        readings = _readings(word)
        if readings is not None:
            found.append((start, end, readings))
    return tuple(found)


@lru_cache(maxsize=500_000)
def terms(readings, form):
    """(term, weight) for the distinct terms one word gives the field of this
    form; a term two readings share keeps the larger weight."""
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}")
    found = {}
    for forms, weight in readings:
        if form == "stem":
            candidates = (forms.stem,)
        elif form == "exact":
            candidates = (forms.exact,)
        else:
            candidates = (forms.skeleton,) if forms.skeleton else ()
        for term in candidates:
            found[term] = max(weight, found.get(term, 0.0))
    return tuple(found.items())


def field_tokens(text, form="stem"):
    """The tokens of `text` for a field of this form, in order; a word's
    several terms share its position."""
    for position, (start, end, readings) in enumerate(words(text or "")):
        for term, weight in terms(readings, form):
            yield FieldToken(term, weight, position, start, end)


def __getattr__(name):
    # Whoosh indexes written before the engines moved into packages name their
    # analyzer classes here in their pickled schema; they still open.
    if name in ("ArabicAnalyzer", "ArabicNormalizeFilter", "ArabicLightStemFilter", "arabic_analyzer"):
        from articles.search.engines.whoosh import analysis as whoosh_analysis

        return getattr(whoosh_analysis, name)
    raise AttributeError(name)
