"""Snippets with the matched words marked, through the same analysis as the index.

A word is marked when one of the forms the index gives it (stem, exact form,
skeleton; see articles.arabic.index_forms) is among the query's, so the query
المفاوضات marks مفاوضات, آلاسكا marks ألاسكا and ترمب marks ترامب. Text is
escaped piece by piece and only our own <mark> tags are added: nothing from
an article or a query is ever trusted as HTML.
"""
import re
from bisect import bisect_left
from functools import lru_cache
from itertools import islice

from django.utils.html import escape
from django.utils.safestring import mark_safe

from articles import arabic
from articles.memo import memoize
from articles.search.query import HighlightTerms

SNIPPET_WORDS = 36


def _as_terms(terms, prefixes=()):
    """HighlightTerms from a HighlightTerms, or from a set of stems and prefixes."""
    if isinstance(terms, HighlightTerms):
        return terms
    return HighlightTerms(stems=frozenset(terms or ()), prefixes=frozenset(prefixes or ()))


# Skeletons are told apart from stems and exact forms by this first character.
_SKELETON = "\x00"


@memoize(100_000)
def _forms(word):
    """The forms the index keeps of a word's readings: its stems and exact
    forms (held by the stem fields), and its skeletons (marked with
    _SKELETON), in one flat tuple of strings: one set test tells whether a
    query marks the word, and tuples of strings are not tracked by the
    garbage collector (100,000 words' readings as named tuples made every
    full collection scan them, 0.4 s each at 100,000 articles)."""
    normalized = arabic.normalize_word(word)
    if not normalized or arabic.is_stopword(normalized):
        return ()
    forms = [arabic.word_form_strings(reading) for reading, _weight in arabic.reading_words(normalized)]
    stems = {form for exact, stem, _skeleton in forms for form in (stem, exact)}
    skeletons = {_SKELETON + skeleton for _exact, _stem, skeleton in forms if skeleton}
    return tuple(stems | skeletons)


def _prefixed(forms, prefixes):
    return any(form.startswith(prefix) for form in forms for prefix in prefixes)


class _Marking:
    """What one query marks: its forms as one set, and the words seen so
    far (`seen`) with those of them it marks (`marked`), so that a page of
    snippets, whose words repeat, looks at each word once."""

    MAX_SEEN = 50_000

    def __init__(self, terms):
        self.forms = frozenset(terms.stems | terms.exacts | {_SKELETON + skeleton for skeleton in terms.skeletons})
        self.prefixes = terms.prefixes
        self.seen = set()
        self.marked = set()

    def marked_among(self, words):
        """The set of those `words` that are marked."""
        unique = set(words)
        unseen = unique.difference(self.seen)
        if unseen:
            if len(self.seen) > self.MAX_SEEN:
                self.seen.clear()
                self.marked.clear()
            self.seen |= unseen
            # A thousand words a page: the kept forms are read straight from
            # the memo's dict, the function called only for a word not kept.
            kept, disjoint = _forms.cache.get, self.forms.isdisjoint
            self.marked.update(
                word for word in unseen if not disjoint(forms if (forms := kept(word)) is not None else _forms(word))
            )
            if self.prefixes:
                self.marked.update(word for word in unseen if _prefixed(_forms(word), self.prefixes))
        return unique & self.marked


@lru_cache(maxsize=64)
def _marking(terms):
    """Kept for the last queries (HighlightTerms is frozen, so hashable)."""
    return _Marking(terms)


def _marked_words(words, terms):
    """The set of those `words` that are marked for `terms`."""
    return _marking(terms).marked_among(words)


_SPACES = re.compile(r"\s+")


def _render(text, spans, collapse_spaces=False):
    """Escape `text`, wrapping the (start, end) spans in <mark>; with
    `collapse_spaces`, each run of white space between them becomes one space."""
    out, cursor = [], 0
    tidy = (lambda part: _SPACES.sub(" ", part)) if collapse_spaces else (lambda part: part)
    for start, end in spans:
        out.append(escape(tidy(text[cursor:start])))
        out.append("<mark>" + escape(text[start:end]) + "</mark>")
        cursor = end
    out.append(escape(tidy(text[cursor:])))
    return "".join(out)


def highlight(text, terms, prefixes=()):
    """The whole text, escaped, with matching words marked."""
    text = text or ""
    terms = _as_terms(terms, prefixes)
    marked = _marked_words(arabic.WORD_RE.findall(text), terms)
    spans = [match.span() for match in arabic.WORD_RE.finditer(text) if match.group() in marked] if marked else []
    return mark_safe(_render(text, spans))


def snippet(text, terms, prefixes=(), length=SNIPPET_WORDS):
    """The window of about `length` words with the most matches, marked.

    Without matches it is the opening of the text, so a result always shows
    something to read. Words are listed with findall (no match objects),
    only the window's are located in the text, and only the window's white
    space is tidied (a body's line breaks become spaces).
    """
    text = text or ""
    terms = _as_terms(terms, prefixes)
    words = arabic.WORD_RE.findall(text)
    if not words:
        return mark_safe(escape(" ".join(text.split())[:300]))
    marked = _marked_words(words, terms)
    hits = [i for i, word in enumerate(words) if word in marked] if marked else []
    best_start, best_score = 0, -1
    for first in hits[:200] or [0]:
        # Start a little before the first match so the reader sees context.
        start = max(0, first - 4)
        score = bisect_left(hits, start + length) - bisect_left(hits, start)
        if score > best_score:
            best_start, best_score = start, score
    end_index = min(len(words), best_start + length)
    window_words = list(islice(arabic.WORD_RE.finditer(text), best_start, end_index))
    char_start = window_words[0].start() if best_start else 0
    char_end = window_words[-1].end() if end_index < len(words) else len(text)
    window = text[char_start:char_end]
    spans = [(match.start() - char_start, match.end() - char_start) for match in window_words if match.group() in marked]
    html = _render(window, spans, collapse_spaces=True).strip()
    if char_start > 0:
        html = "… " + html
    if char_end < len(text):
        html = html + " …"
    return mark_safe(html)
