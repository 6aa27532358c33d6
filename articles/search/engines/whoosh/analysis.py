"""The shared Arabic analysis (articles.search.analysis) as Whoosh analyzers.

These classes are pickled into the index's schema: keep their names and
module stable.
"""
from whoosh.analysis import Analyzer, Filter, Token

from articles import arabic
from articles.search.analysis import FORMS, terms, words


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
        for index, (start, end, readings) in enumerate(words(value)):
            for term, weight in terms(readings, self.form):
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
