"""Document bitmaps per version of the index: totals, facet counts, filters, candidates.

Whoosh does all of a search in Python, one matching document at a time:
it scores every match (a word is looked up by eight routes: title, lead and
text by stem and exact form, the exact and skeleton fields), and counts
facets per match with a categorizer that, for the topics facet, first
rebuilds a document -> topics table of the whole index. At 100,000 articles
a common word matches tens of thousands of documents, and a search takes
seconds.

Here a set of documents is a bitmap: a Python int whose bit n stands for
document n. Set operations and counts on them run in C over a few
kilobytes. They are made once per index version and process (kept with the
backend's long-lived searcher, which is replaced when the index changes):

- per facet value (source, topic, year, content type) for counts and filters;
- per query term (an LRU of the terms searched lately), so that the
  documents a query matches are found by combining its terms' bitmaps
  without visiting the documents one by one.

A segment's postings never change (a commit adds segments, merges some into
a new one, or marks deletions), so the bitmaps of a term or facet value are
made per segment and kept across index versions (articles.search.engines.whoosh.segment_cache):
after an editor's save only the new small segment is read, not the whole
index.

This gives the exact total and exact facet counts of every search cheaply,
and bounds the scoring: when a query matches more than planner.CANDIDATES
documents, only the CANDIDATES most promising ones are scored by the full
query (those holding the most of its words, then those with its words in
the headline; see `candidates`), the others could not reach the first pages.
Which candidates are scored, and how, is the planner's business
(articles.search.engines.whoosh.planner).
"""
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from whoosh import query as wq
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import FilterMatcher
from whoosh.reading import TermNotFound

from articles.search.engines.whoosh import scoring, segment_cache

TERM_CACHE_SIZE = 4000

_lock = threading.Lock()
ATTRIBUTE = "_newsroom_bitmaps"
_MISSING = object()


@dataclass
class IndexBitmaps:
    """The bitmaps of one index version (one searcher)."""

    fields: tuple                 # facet fields whose values have bitmaps
    doc_count_all: int
    live: int                     # documents not deleted
    values: dict                  # facet field -> value -> bitmap
    filters: dict = field(default_factory=dict)      # filter terms -> docnum set
    terms: OrderedDict = field(default_factory=OrderedDict)  # (field, text) -> bitmap, LRU

    def bitmap(self, field_name, value):
        return self.values.get(field_name, {}).get(value, 0)


def facet_index(searcher, fields):
    """The bitmaps for the index state that `searcher` reads, made on its
    first use and kept with it: the backend keeps one searcher per process
    and opens a new one only when the index has changed."""
    fields = tuple(fields)
    found = getattr(searcher, ATTRIBUTE, None)
    if found is not None and found.fields == fields:
        return found
    with _lock:
        found = getattr(searcher, ATTRIBUTE, None)
        if found is None or found.fields != fields:
            size = searcher.doc_count_all()
            live = ((1 << size) - 1) & ~_deleted(searcher)
            found = IndexBitmaps(fields, size, live, {name: _value_bitmaps(searcher, name, live) for name in fields})
            setattr(searcher, ATTRIBUTE, found)
    return found


def _value_bitmaps(searcher, field_name, live):
    values = {}
    if field_name not in searcher.schema:
        return values
    for reader, offset in searcher.reader().leaf_readers():
        for value, bits in segment_cache.cache.get(reader, ("values", field_name), _segment_values).items():
            values[value] = values.get(value, 0) | bits << offset
    return {value: found for value, bits in values.items() if (found := bits & live)}


def _segment_values(reader, field_name):
    """{value: bitmap} of one facet field in one segment, deletions included."""
    values = {}
    if field_name not in reader.schema:
        return values
    for value in reader.lexicon(field_name):
        matcher = scoring.unfiltered_postings(reader, field_name, value)
        value = value.decode("utf-8") if isinstance(value, bytes) else value
        values[value] = _matcher_bitmap(matcher, reader.doc_count_all())
    return values


def _bitmap(docnums, size):
    """The bitmap of document numbers given by any iterable."""
    return scoring.bitmap_of(np.fromiter(docnums, dtype=np.int64), size)


def _deleted(searcher):
    """The deleted documents, from each segment's own set of them."""
    bits = 0
    for reader, offset in searcher.reader().leaf_readers():
        if reader.has_deletions():  # a segment's reader: an empty index has none
            bits |= _bitmap(reader.segment().deleted_docs(), reader.doc_count_all()) << offset
    return bits


def _docnums(bits):
    """The set bits of a bitmap, in increasing order."""
    return scoring.set_bits(bits, bits.bit_length()).tolist()


# ---------------------------------------------------------------------------
# Matching by bitmaps


def term_bitmap(searcher, index, field_name, text):
    """The documents holding one term, remembered (LRU) for this index version."""
    key = (field_name, text)
    terms = index.terms
    bits = terms.get(key)
    if bits is not None:
        terms.move_to_end(key)
        return bits
    bits = _posting_bitmap(searcher, field_name, text, index.doc_count_all)
    terms[key] = bits
    if len(terms) > TERM_CACHE_SIZE:
        terms.popitem(last=False)
    return bits


def _posting_bitmap(searcher, field_name, text, size):
    """The documents of one term's posting lists (deleted ones included:
    callers mask them with the live bitmap), combined from its segments'."""
    return _from_segments(searcher, ("term", field_name, text), _segment_term_bitmap)


def _from_segments(searcher, key, segment_bitmap):
    """The index's bitmap for `key` (deleted documents included), made of
    each segment's, which segment_cache.cache keeps (segment_bitmap(reader, *key[1:]))."""
    bits = 0
    for reader, offset in searcher.reader().leaf_readers():
        found = segment_cache.cache.get(reader, key, segment_bitmap)
        if found:
            bits |= found << offset
    return bits


def _segment_term_bitmap(reader, field_name, text):
    # From the posting list the scoring decodes and keeps anyway: a term is
    # then read from disk once, not once for its bitmap and once for its scores.
    term_bytes = text if isinstance(text, bytes) else scoring.term_bytes_of(reader.schema, field_name, text)
    postings = None if term_bytes is None else scoring.segment_postings(reader, field_name, term_bytes)
    if postings is not None:
        return scoring.bitmap_of(postings[0], reader.doc_count_all())
    try:
        matcher = reader.postings(field_name, text)
    except TermNotFound:
        return 0
    return _matcher_bitmap(matcher, reader.doc_count_all())


def _matcher_bitmap(matcher, size):
    """A posting list's documents (deleted ones included)."""
    if isinstance(matcher, FilterMatcher):  # the segment's deletions
        matcher = matcher.child
    return _bitmap(_block_ids(matcher) if isinstance(matcher, W3LeafMatcher) else matcher.all_ids(), size)


def _block_ids(matcher):
    """A Whoosh 3 posting list's ids, block by block: Whoosh's own all_ids()
    makes two method calls per posting."""
    while matcher.is_active():
        if matcher._ids is None:
            matcher._read_ids()
        yield from matcher._ids
        matcher._next_block()


def query_bitmap(searcher, index, query):
    """The live documents `query` matches, combined from its terms' bitmaps
    where the query's structure allows (terms, phrases, prefixes,
    and/or/not); other queries are run unscored by Whoosh."""
    return _match(searcher, index, query) & index.live


def _match(searcher, index, query):
    kind = type(query)
    if kind is wq.Term:
        return term_bitmap(searcher, index, query.fieldname, query.text)
    if kind is wq.Every:
        return index.live
    if kind in (wq.Or, wq.DisjunctionMax) and not getattr(query, "minmatch", 0):
        bits = 0
        covered = set()
        later = []
        for sub in query.subqueries:
            if _is_bonus(sub):
                later.append(sub)
                continue
            bits |= _match(searcher, index, sub)
            covered.update(_terms_of(sub))
        for sub in later:
            # A bonus (all the words, or the words close together) only
            # matches documents that one of its terms matches already.
            if not covered.intersection(_terms_of(sub)):
                bits |= _match(searcher, index, sub)
        return bits
    if kind is wq.And:
        bits = index.live
        for sub in query.subqueries:
            bits &= _match(searcher, index, sub)
            if not bits:
                break
        return bits
    if kind is wq.AndMaybe:
        return _match(searcher, index, query.a)
    if kind is wq.AndNot:
        return _match(searcher, index, query.a) & ~_match(searcher, index, query.b)
    if query is wq.NullQuery:
        return 0
    if kind is wq.Phrase:
        bits = _phrase_bitmap(searcher, query)
        if bits is not None:
            return bits
    # Prefixes (their words' bitmaps, segment by segment), and what the
    # arrays cannot read (Whoosh finds its documents); remembered like
    # terms, for this index version.
    key = ("query", query)
    bits = index.terms.get(key)
    if bits is None:
        if isinstance(query, wq.Prefix) and query.text:
            bits = _prefix_bitmap(searcher, query.fieldname, query.text)
        else:
            bits = _bitmap(searcher.docs_for_query(query), index.doc_count_all)
        index.terms[key] = bits
        if len(index.terms) > TERM_CACHE_SIZE:
            index.terms.popitem(last=False)
    return bits


def _phrase_bitmap(searcher, phrase):
    """The documents of a phrase (deleted ones included), found on arrays
    segment by segment and kept per segment like a term's; None when Whoosh
    must find them."""
    schema = searcher.schema
    if not phrase.words or phrase.fieldname not in schema:
        return None
    field = schema[phrase.fieldname]
    if not field.format or not field.format.supports("positions"):
        return None
    words = tuple(scoring.term_bytes_of(schema, phrase.fieldname, word) for word in phrase.words)
    if None in words:
        return None
    bits = 0
    for reader, offset in searcher.reader().leaf_readers():
        found = segment_cache.cache.get(reader, ("phrase", phrase.fieldname, words, phrase.slop), _segment_phrase_bitmap)
        if found is None:
            return None
        bits |= found << offset
    return bits


def _prefix_bitmap(searcher, field_name, prefix):
    """The documents holding a word that starts with `prefix` (deleted ones included)."""
    return _from_segments(searcher, ("prefix", field_name, prefix), _segment_prefix_bitmap)


def _segment_prefix_bitmap(reader, field_name, prefix):
    bits = 0
    for word in scoring.prefix_words(reader, field_name, prefix):
        bits |= _segment_term_bitmap(reader, field_name, word)
    return bits


def _segment_phrase_bitmap(reader, field_name, words, slop):
    docs = scoring.phrase_docs(reader, field_name, words, slop)
    return None if docs is None else scoring.bitmap_of(docs, reader.doc_count_all())


def _terms_of(query):
    """The (field, text) of the terms a query needs one of, for Terms,
    Phrases and And/Or trees of them."""
    if isinstance(query, wq.Term):
        return {(query.fieldname, query.text)}
    if isinstance(query, wq.Phrase):
        return {(query.fieldname, word) for word in query.words}
    found = set()
    for sub in query.children():
        found |= _terms_of(sub)
    return found


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


# ---------------------------------------------------------------------------
# Bounding the scoring


def _is_bonus(query):
    # The all-words and proximity bonuses repeat the words; they do not
    # tell which words a document holds.
    if isinstance(query, wq.Phrase):
        return True
    return isinstance(query, wq.And) and all(isinstance(sub, wq.Term) for sub in query.children())
