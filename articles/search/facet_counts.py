"""Facet counts by bitmaps, kept per version of the index.

Whoosh counts facets while it scores: every matching document goes through
a Python categorizer per facet, and the topics facet (several values per
article, no column) first rebuilds a document -> topics table of the whole
index for every query. At 100,000 articles that is most of a search's time.

Here each facet value's documents are a bitmap (a Python int, bit n set for
document n), made once per index generation and process. A search's matches
become one bitmap too; a count is then `(matches & value).bit_count()`, done
in C over a few kilobytes. The same bitmaps serve as filters (source, topic,
year) and give the exact total of hits.
"""
import threading
from dataclasses import dataclass, field

from whoosh import collectors
from whoosh import query as wq

_lock = threading.Lock()
ATTRIBUTE = "_newsroom_facet_index"
_MISSING = object()


@dataclass
class FacetIndex:
    """Per facet field, value -> bitmap of the (live) documents that have it."""

    fields: tuple
    doc_count_all: int
    live: int        # bitmap of the documents not deleted
    values: dict
    filters: dict = field(default_factory=dict)

    def bitmap(self, field_name, value):
        return self.values.get(field_name, {}).get(value, 0)


def facet_index(searcher, fields):
    """The bitmaps of `fields` for the index state that `searcher` reads,
    made on its first use and kept with it: the backend keeps one searcher
    per process and opens a new one only when the index has changed."""
    fields = tuple(fields)
    found = getattr(searcher, ATTRIBUTE, None)
    if found is not None and found.fields == fields:
        return found
    with _lock:
        found = getattr(searcher, ATTRIBUTE, None)
        if found is None or found.fields != fields:
            size = searcher.doc_count_all()
            live = ((1 << size) - 1) & ~_deleted(searcher)
            found = FacetIndex(fields, size, live, {name: _value_bitmaps(searcher, name, live) for name in fields})
            setattr(searcher, ATTRIBUTE, found)
    return found


def _value_bitmaps(searcher, field_name, live):
    values = {}
    if field_name not in searcher.schema:
        return values
    for value in searcher.lexicon(field_name):
        value = value.decode("utf-8") if isinstance(value, bytes) else value
        bits = _bitmap(searcher.docs_for_query(wq.Term(field_name, value)), searcher.doc_count_all()) & live
        if bits:
            values[value] = bits
    return values


def _bitmap(docnums, size):
    marks = bytearray(size // 8 + 1)
    for docnum in docnums:
        marks[docnum >> 3] |= 1 << (docnum & 7)
    return int.from_bytes(marks, "little")


def _deleted(searcher):
    reader = searcher.reader()
    if not reader.has_deletions():
        return 0
    return _bitmap((n for n in range(searcher.doc_count_all()) if reader.is_deleted(n)), searcher.doc_count_all())


def matches(searcher, index, text_query):
    """The bitmap of the live documents `text_query` matches, unscored."""
    return _bitmap(searcher.docs_for_query(text_query), index.doc_count_all) & index.live


def counts(index, matched, fields):
    """{field: {value: number of matched documents}} for every value present."""
    result = {}
    for name in fields:
        result[name] = {
            value: count for value, bits in index.values.get(name, {}).items() if (count := (matched & bits).bit_count())
        }
    return result


def restrict(index, matched, terms):
    """`matched` cut down to the documents that have every (field, value) of `terms`."""
    for name, value in terms:
        matched &= index.bitmap(name, value)
    return matched


def allowed_docs(index, terms):
    """The set of document numbers that have every (field, value) of
    `terms` (a search filter), or None when that is every document; kept
    with the index's bitmaps, as the same filters come back again and again."""
    terms = tuple(terms)
    if not terms:
        return None
    found = index.filters.get(terms, _MISSING)
    if found is _MISSING:
        bits = restrict(index, index.live, terms)
        # Whoosh reads the set (never changes it); None lets everything in
        # without a membership test per document.
        found = None if bits == index.live else set(_docnums(bits))
        if len(index.filters) > 256:
            index.filters.clear()
        index.filters[terms] = found
    return found


def _docnums(bits):
    data = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    for position, byte in enumerate(data):
        if byte:
            base = position << 3
            for bit in range(8):
                if byte >> bit & 1:
                    yield base + bit


class _RecordingTopCollector(collectors.TopCollector):
    """The top N by score, and the number of every matching document: the
    exact total and the facet counts come from the same pass. (So no block
    skipping: every match is scored, as a facet count needs them all.)"""

    def __init__(self, limit):
        super().__init__(limit=limit, usequality=False)
        self.docnums = []

    def _collect(self, global_docnum, score):
        self.docnums.append(global_docnum)
        return super()._collect(global_docnum, score)


@dataclass
class Collected:
    collector: object   # what to give Searcher.search_with_collector
    _inner: object

    def matched(self, index):
        """The bitmap of every matching document (after the filter)."""
        inner = self._inner
        docnums = inner.docnums if hasattr(inner, "docnums") else inner.docset
        return _bitmap(docnums, index.doc_count_all)


def collector(index, limit, terms=(), sortedby=None, reverse=False):
    """A collector of the top `limit` hits (by score, or by `sortedby`) among
    the documents that have every (field, value) of `terms`, that also
    remembers all matches for `Collected.matched`."""
    if sortedby is not None:
        inner = collectors.SortingCollector(sortedby, limit=limit, reverse=reverse)  # keeps a docset
    else:
        inner = _RecordingTopCollector(limit)
    allowed = allowed_docs(index, terms)
    if allowed is not None and not allowed:
        # Whoosh reads an empty filter as "no filter"; this one lets nothing in.
        allowed = {-1}
    outer = collectors.FilterCollector(inner, allowed, None) if allowed is not None else inner
    return Collected(outer, inner)
