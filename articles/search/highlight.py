"""Snippets with the matched words marked, through the same analysis as the index.

A word is marked when one of the forms the index gives it (stem, exact form,
skeleton; see articles.arabic.index_forms) is among the query's, so the query
المفاوضات marks مفاوضات, آلاسكا marks ألاسكا and ترمب marks ترامب. Text is
escaped piece by piece and only our own <mark> tags are added: nothing from
an article or a query is ever trusted as HTML.
"""
from functools import lru_cache

from django.utils.html import escape
from django.utils.safestring import mark_safe

from articles import arabic
from articles.search.query import HighlightTerms

SNIPPET_WORDS = 36


def _as_terms(terms, prefixes=()):
    """HighlightTerms from a HighlightTerms, or from a set of stems and prefixes."""
    if isinstance(terms, HighlightTerms):
        return terms
    return HighlightTerms(stems=frozenset(terms or ()), prefixes=frozenset(prefixes or ()))


@lru_cache(maxsize=100_000)
def _readings(word):
    normalized = arabic.normalize_word(word)
    if not normalized or arabic.is_stopword(normalized):
        return ()
    return arabic.index_forms(normalized)


def _matches(word, terms):
    for reading, _weight in _readings(word):
        # As in the index, where the stem fields hold stems and exact forms.
        for form in (reading.stem, reading.exact):
            if form in terms.stems or form in terms.exacts:
                return True
        if reading.skeleton and reading.skeleton in terms.skeletons:
            return True
        if any(reading.exact.startswith(prefix) or reading.stem.startswith(prefix) for prefix in terms.prefixes):
            return True
    return False


@lru_cache(maxsize=64)
def _verdicts(terms):
    """word -> marked?, for one query's terms: the words of a page of
    snippets repeat, and each verdict looks at every reading of the word.
    Kept for the last queries (HighlightTerms is frozen, so hashable)."""
    return {}


MAX_VERDICTS = 50_000


def _marked_positions(words, terms):
    verdicts = _verdicts(terms)
    if len(verdicts) > MAX_VERDICTS:
        verdicts.clear()
    positions = []
    for i, (word, _start, _end) in enumerate(words):
        verdict = verdicts.get(word)
        if verdict is None:
            verdict = verdicts[word] = _matches(word, terms)
        if verdict:
            positions.append(i)
    return positions


def _render(text, spans):
    """Escape `text`, wrapping the (start, end) spans in <mark>."""
    out, cursor = [], 0
    for start, end in spans:
        out.append(escape(text[cursor:start]))
        out.append("<mark>" + escape(text[start:end]) + "</mark>")
        cursor = end
    out.append(escape(text[cursor:]))
    return "".join(out)


def highlight(text, terms, prefixes=()):
    """The whole text, escaped, with matching words marked."""
    text = text or ""
    terms = _as_terms(terms, prefixes)
    words = list(arabic.tokenize(text))
    spans = [words[i][1:] for i in _marked_positions(words, terms)]
    return mark_safe(_render(text, spans))


def snippet(text, terms, prefixes=(), length=SNIPPET_WORDS):
    """The window of about `length` words with the most matches, marked.

    Without matches it is the opening of the text, so a result always shows
    something to read.
    """
    text = " ".join((text or "").split())
    terms = _as_terms(terms, prefixes)
    words = list(arabic.tokenize(text))
    if not words:
        return mark_safe(escape(text[:300]))
    hits = _marked_positions(words, terms)
    hit_set = set(hits)
    best_start, best_score = 0, -1
    for first in hits[:200] or [0]:
        # Start a little before the first match so the reader sees context.
        start = max(0, first - 4)
        score = sum(1 for i in hits if start <= i < start + length)
        if score > best_score:
            best_start, best_score = start, score
    end_index = min(len(words), best_start + length)
    char_start = words[best_start][1] if best_start else 0
    char_end = words[end_index - 1][2] if end_index < len(words) else len(text)
    window = text[char_start:char_end]
    spans = [
        (s - char_start, e - char_start)
        for i, (word, s, e) in enumerate(words[best_start:end_index], start=best_start)
        if i in hit_set
    ]
    html = _render(window, spans)
    if char_start > 0:
        html = "… " + html
    if char_end < len(text):
        html = html + " …"
    return mark_safe(html)
