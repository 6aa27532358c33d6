"""Whoosh analyzers built on articles.arabic, so index, query and snippets agree.

Each text is indexed three ways (see articles.arabic.word_forms):

- "stem" fields (title, lead, text): the words' light stems, with positions,
  for word and phrase queries;
- the "exact" field: exact forms only, so a query can prefer the word as the
  reader wrote it ("بوتين", not every word that stems to "بوت");
- the "skeleton" field: consonant skeletons, for the other spellings of a
  transliterated name ("ترمب" finds "ترامب"), weighted lowest.

A text is split and normalised once, whichever field asks first (an article
is analysed for several fields in a row). Tokens keep their character
offsets in the original text. These classes are pickled into the index's
schema: keep their names and module stable.
"""
from functools import lru_cache

from whoosh.analysis import Analyzer, Filter, Token

from articles import arabic

FORMS = ("stem", "exact", "skeleton")


@lru_cache(maxsize=500_000)
def _readings(word):
    """The readings of one word as written, None for a stop word (one cache
    lookup a word instead of three)."""
    normalized = arabic.normalize_word(word)
    if normalized and not arabic.is_stopword(normalized):
        return arabic.index_forms(normalized)
    return None


@lru_cache(maxsize=8)
def _words(text):
    """(start, end, readings) for each non-stop word of `text`."""
    words = []
    for word, start, end in arabic.tokenize(text):
        readings = _readings(word)
        if readings is not None:
            words.append((start, end, readings))
    return tuple(words)


@lru_cache(maxsize=500_000)
def _terms(readings, form):
    """(term, weight) for the distinct terms one word gives the field of this
    form; a term two readings share keeps the larger weight."""
    terms = {}
    for forms, weight in readings:
        if form == "stem":
            candidates = (forms.stem,)
        elif form == "exact":
            candidates = (forms.exact,)
        else:
            candidates = (forms.skeleton,) if forms.skeleton else ()
        for term in candidates:
            terms[term] = max(weight, terms.get(term, 0.0))
    return tuple(terms.items())


class ArabicAnalyzer(Analyzer):
    """The analyzer of one form ("stem", "exact" or "skeleton")."""

    def __init__(self, form="stem"):
        if form not in FORMS:
            raise ValueError(f"form must be one of {FORMS}")
        self.form = form

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        mode="",
        **kwargs,
    ):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        token.stopped = False
        for index, (start, end, readings) in enumerate(_words(value)):
            for term, weight in _terms(readings, self.form):
                token.text = term
                token.boost = weight
                if keeporiginal:
                    token.original = value[start:end]
                if positions:
                    token.pos = start_pos + index
                if chars:
                    token.startchar = start_char + start
                    token.endchar = start_char + end
                yield token


def arabic_analyzer(form="stem"):
    return ArabicAnalyzer(form)


# The analyzer of the first index format, kept so that an index written
# before `rebuild_index` can still be opened (its schema names these).
class ArabicNormalizeFilter(Filter):
    def __call__(self, tokens):
        for token in tokens:
            token.text = arabic.normalize_word(token.text)
            if token.text:
                yield token


class ArabicLightStemFilter(Filter):
    is_morph = True

    def __call__(self, tokens):
        for token in tokens:
            if not token.stopped:
                token.text = arabic.light_stem(token.text)
            yield token
