"""Whoosh analyzers built on articles.arabic, so index, query and snippets agree.

Tokens keep their character offsets in the original text (the filters only
rewrite `token.text`), which is what lets the highlighter mark the word as
the reader wrote it. These classes are pickled into the index's schema: keep
their names and module stable.
"""
from whoosh.analysis import Filter, RegexTokenizer, StopFilter

from articles import arabic


class ArabicNormalizeFilter(Filter):
    """Presentation forms, marks, tatweel, letter variants, digits, case."""

    def __call__(self, tokens):
        for token in tokens:
            token.text = arabic.normalize_word(token.text)
            if token.text:
                yield token


class ArabicLightStemFilter(Filter):
    """Clitics and affixes off; marked as morphing so Whoosh keeps unstemmed
    words in a separate spelling field for "did you mean" suggestions."""

    is_morph = True

    def __call__(self, tokens):
        for token in tokens:
            if not token.stopped:
                token.text = arabic.light_stem(token.text)
            yield token


def arabic_analyzer():
    """Normalise, drop stop words, light-stem: the analyzer of every text field."""
    return (
        RegexTokenizer(arabic.WORD_RE)
        | ArabicNormalizeFilter()
        | StopFilter(stoplist=arabic.STOPWORDS, minsize=1)
        | ArabicLightStemFilter()
    )
