"""Snippets with the matched words marked, through the same analysis as the index.

A word is marked when its analysed form is one of the query's terms, so the
query المفاوضات marks مفاوضات and آلاسكا marks ألاسكا. Text is escaped piece
by piece and only our own <mark> tags are added: nothing from an article or a
query is ever trusted as HTML.
"""
from django.utils.html import escape
from django.utils.safestring import mark_safe

from articles import arabic

SNIPPET_WORDS = 36


def _matches(word, stems, prefixes):
    normalized = arabic.normalize_word(word)
    if not normalized or normalized in arabic.STOPWORDS:
        return False
    stem = arabic.light_stem(normalized)
    if stem in stems:
        return True
    return any(stem.startswith(prefix) or normalized.startswith(prefix) for prefix in prefixes)


def _render(text, spans):
    """Escape `text`, wrapping the (start, end) spans in <mark>."""
    out, cursor = [], 0
    for start, end in spans:
        out.append(escape(text[cursor:start]))
        out.append("<mark>" + escape(text[start:end]) + "</mark>")
        cursor = end
    out.append(escape(text[cursor:]))
    return "".join(out)


def highlight(text, stems, prefixes=()):
    """The whole text, escaped, with matching words marked."""
    text = text or ""
    spans = [(s, e) for word, s, e in arabic.tokenize(text) if _matches(word, stems, prefixes)]
    return mark_safe(_render(text, spans))


def snippet(text, stems, prefixes=(), length=SNIPPET_WORDS):
    """The window of about `length` words with the most matches, marked.

    Without matches it is the opening of the text, so a result always shows
    something to read.
    """
    text = " ".join((text or "").split())
    words = list(arabic.tokenize(text))
    if not words:
        return mark_safe(escape(text[:300]))
    hits = [i for i, (word, _s, _e) in enumerate(words) if _matches(word, stems, prefixes)]
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
