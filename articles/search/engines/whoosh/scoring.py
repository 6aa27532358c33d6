"""BM25F scores of a block of candidates, computed on arrays.

Whoosh scores one document at a time through some fifteen Python calls per
term (skip, id, score, the scorer, the field-length column read byte by
byte), decodes a pickled, compressed posting block each time it enters one,
and finds phrases by decoding positions. At 100,000 articles a three-word
query has some twenty leaves (each word by title, lead, text, exact form and
skeleton, an all-words bonus and a proximity phrase) over 1,500 candidates.

Here a term's posting list is decoded once per segment and kept
(articles.search.engines.whoosh.segment_cache), the candidates are looked up in it with
numpy.searchsorted, and whoosh.scoring.bm25 is applied to whole arrays with
the same operands in the same order: IEEE arithmetic gives the same figures
as Whoosh's, to the last bit (tests/test_indexing.py compares them). The
all-words bonus is the sum of its terms' scores in the tree Whoosh's And
matcher builds; a phrase, whose documents the bitmaps already know, the sum
of its words' scores in the binary tree of Whoosh's SpanNear2 matcher; a
prefix (articles.search.engines.whoosh.query_builder.Prefix), the sum of its words' scores in its
binary tree of unions.
"""
import pickle
from itertools import accumulate

import numpy as np
from whoosh import query as wq
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.formats import Positions
from whoosh.matching import FilterMatcher, IntersectionMatcher, WrappingMatcher
from whoosh.reading import TermNotFound
from whoosh.scoring import BM25F
from whoosh.system import _INT_SIZE
from whoosh.util.numeric import byte_to_length

from articles.search.engines.whoosh import key_terms, posting_arrays, query_builder, segment_cache

# False leaves every score to Whoosh's matchers (what the tests compare with).
ENABLED = True

# Whoosh stores a field length in one byte; byte_to_length decodes it.
_LENGTH_OF_BYTE = np.array([byte_to_length(byte) if byte else 0 for byte in range(256)], dtype=np.float64)


def set_bits(bits, size):
    """The positions of the set bits of a bitmap (an int), as an array."""
    if not bits:
        return np.empty(0, dtype=np.uint32)
    data = np.frombuffer(bits.to_bytes(size // 8 + 1, "little"), dtype=np.uint8)
    return np.flatnonzero(np.unpackbits(data, bitorder="little")).astype(np.uint32)


def bits_at(bits, positions, size):
    """Whether each of `positions` is set in the bitmap `bits`, as a boolean array."""
    data = np.frombuffer(bits.to_bytes(size // 8 + 1, "little"), dtype=np.uint8)
    return (data[positions >> 3] >> (positions & 7).astype(np.uint8) & 1).astype(bool)


class SegmentScorer:
    """Scores of one segment's candidates (sorted local document numbers),
    leaf by leaf, each leaf's added to the running sum in the order given."""

    def __init__(self, subsearcher, context, candidates):
        self.searcher = subsearcher
        self.context = context
        self.reader = subsearcher.reader()
        self.weighting = context.weighting if context is not None else subsearcher.weighting
        self.candidates = candidates
        self.sums = np.zeros(len(candidates), dtype=np.float64)
        self.scored = np.zeros(len(candidates), dtype=bool)

    def add(self, leaf, chosen):
        """Add `leaf`'s scores of the candidates where `chosen` (a boolean
        array; they all match the leaf); False when Whoosh must score it."""
        wanted = self.candidates[chosen]
        if not len(wanted):
            return True
        scores = self.leaf_scores(leaf, wanted)
        if scores is None:
            return False
        self.sums[chosen] += scores
        self.scored |= chosen
        return True

    def add_one(self, position, score):
        """Add a score Whoosh computed for the candidate at `position`."""
        self.sums[position] += score
        self.scored[position] = True

    def results(self, offset):
        """(index document numbers, scores) of the candidates scored, as arrays."""
        where = np.flatnonzero(self.scored)
        return self.candidates[where].astype(np.int64) + offset, self.sums[where]

    # Leaves ---------------------------------------------------------------

    def leaf_scores(self, leaf, wanted):
        kind = type(leaf)
        if kind is wq.Term:
            scores = self.term(leaf.fieldname, term_bytes_of(self.searcher.schema, leaf.fieldname, leaf.text), wanted)
            # Term.matcher wraps a boosted term in a WrappingMatcher.
            return scores if scores is None or leaf.boost == 1.0 else scores * leaf.boost
        if kind is wq.Phrase:
            return self.phrase(leaf, wanted)
        if kind is query_builder.Prefix:
            return self.prefix(leaf, wanted)
        if kind is wq.And:
            # The tree of Whoosh's matchers (its shape depends on the
            # segment's document frequencies, not on the query's context)
            # is built once per segment and kept as a shape.
            shape = segment_cache.cache.get(
                self.reader, ("and tree", leaf), lambda _reader, _leaf: _tree_shape(leaf.matcher(self.searcher, self.context))
            )
            return None if shape is None else self.tree(shape, wanted)
        return None

    def term(self, field_name, term_bytes, wanted, all_hold=True):
        """whoosh.scoring.bm25 of one term for `wanted` (which all hold it,
        unless `all_hold` is False: 0.0 for those without it), with
        BM25FScorer's operands; None when Whoosh would not score it so."""
        params = term_bytes is not None and self._bm25(field_name, term_bytes)
        if not params:
            return None
        postings = segment_postings(self.reader, field_name, term_bytes)
        if postings is None:
            return None
        ids, weights = postings
        at = np.searchsorted(ids, wanted)
        holding = None
        if not all_hold:
            at = np.minimum(at, ids.size - 1)
            held = ids[at] == wanted
            if not held.all():
                holding, at, wanted = held, at[held], wanted[held]
        elif at.size and (at[-1] >= ids.size or not np.array_equal(ids[at], wanted)):
            return None  # a candidate without the term: not what the bitmaps said
        scores = self._bm25_scores(field_name, params, weights[at], wanted)
        if holding is None:
            return scores
        spread = np.zeros(holding.size, dtype=np.float64)
        spread[holding] = scores
        return spread

    def phrase(self, leaf, wanted):
        if leaf.fieldname not in self.searcher.schema:
            return None
        field = self.searcher.schema[leaf.fieldname]
        if not field.format or not field.format.supports("positions"):
            return None
        words = [term_bytes_of(self.searcher.schema, leaf.fieldname, word) for word in leaf.words]
        return self._tree_sum(leaf.fieldname, words, wanted, leaf.boost)

    def prefix(self, leaf, wanted):
        """query_builder.Prefix's binary tree of unions of its words' scores: a
        word missing from a document adds nothing there, and x + 0.0 is x."""
        words = prefix_words(self.reader, leaf.fieldname, leaf.text)
        if not words:
            return None
        return self._tree_sum(leaf.fieldname, words, wanted, leaf.boost, all_hold=False)

    def _tree_sum(self, field_name, words, wanted, boost, all_hold=True):
        """The words' scores (see term()) added up in the binary tree Whoosh
        builds over them (make_binary_tree), times `boost`; None when one
        cannot be scored."""
        columns = []
        for term_bytes in words:
            scores = self.term(field_name, term_bytes, wanted, all_hold)
            if scores is None:
                return None
            columns.append(scores)
        summed = _binary_sum(columns)
        return summed if boost == 1.0 else summed * boost

    def tree(self, shape, wanted):
        """The scores of a tree of intersections of terms (see _tree_shape),
        added up as Whoosh's matchers do; None where a term cannot be scored."""
        kind = shape[0]
        if kind == "boost":
            below = self.tree(shape[2], wanted)
            return below if below is None else below * shape[1]
        if kind == "and":
            left = self.tree(shape[1], wanted)
            right = None if left is None else self.tree(shape[2], wanted)
            return None if right is None else left + right
        return self.term(shape[1], shape[2], wanted)

    def postings_scores(self, field_name, term_bytes, params):
        """(local document numbers, scores) of every posting of a term the
        segment holds, as term() scores them (`params`: what _bm25 gives for
        the term); None when its postings cannot be read as arrays."""
        postings = segment_postings(self.reader, field_name, term_bytes)
        if postings is None:
            return None
        ids, weights = postings
        return ids, self._bm25_scores(field_name, params, weights, ids)

    def _bm25_scores(self, field_name, params, weights, docnums):
        """whoosh.scoring.bm25 of a term in `docnums` (its `weights` there),
        with the same operands in the same order."""
        lengths = segment_cache.cache.get(self.reader, ("lengths", field_name), _segment_lengths)
        idf, avgfl, b, k1 = params
        tf = weights.astype(np.float64)
        fl = _LENGTH_OF_BYTE[lengths[docnums]]
        return idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * fl / avgfl)))

    def _bm25(self, field_name, term_bytes):
        """(idf, average field length, B, K1) as BM25F.scorer() sets them up
        for this term, or None when it would not make a BM25F scorer."""
        weighting = self.weighting
        if type(weighting) is not BM25F or not self.searcher.schema[field_name].scorable:
            return None
        parent = self.searcher.get_parent()
        return (
            parent.idf(field_name, term_bytes),
            parent.avg_field_length(field_name) or 1,
            weighting._field_B.get(field_name, weighting.B),
            weighting.K1,
        )


def _tree_shape(matcher):
    """A Whoosh matcher tree of intersections of terms (an And) as nested
    tuples: ("and", left, right), ("boost", factor, below), ("term", field,
    term bytes); None for any other tree."""
    kind = type(matcher)
    if kind is WrappingMatcher or (kind is FilterMatcher and matcher.boost == 1.0):
        below = _tree_shape(matcher.child)
        return below if below is None or matcher.boost == 1.0 else ("boost", matcher.boost, below)
    if kind is IntersectionMatcher:
        left = _tree_shape(matcher.a)
        right = None if left is None else _tree_shape(matcher.b)
        return None if right is None else ("and", left, right)
    if kind is W3LeafMatcher:
        return ("term", *matcher._term)
    return None


def best_documents(searcher, context, terms, count):
    """[(docnum, score)] of the `count` live documents with the highest sum
    of `terms`' scores (boosted Term queries, added in their order, as
    SegmentScorer adds leaves), highest first, then the lower document
    number; every document holding one of the terms is scored. None when a
    term cannot be scored on arrays.

    What more-like-this asks: a dozen terms, most of them rare, whose
    postings are fewer than the work of choosing candidates by bitmaps."""
    docnums, scores = [], []
    leaf_scorers = [(SegmentScorer(sub, context, np.empty(0, dtype=np.uint32)), offset) for sub, offset in searcher.leaf_searchers()]
    if not leaf_scorers:
        return []
    # A term's idf and its field's average length are the whole index's: once per term.
    terms = [(term, term_bytes_of(searcher.schema, term.fieldname, term.text)) for term in terms]
    params = [term_bytes is not None and leaf_scorers[0][0]._bm25(term.fieldname, term_bytes) for term, term_bytes in terms]
    if not all(params):
        return None  # a term Whoosh would not score with BM25F
    for scorer, offset in leaf_scorers:
        reader = scorer.reader
        sums = np.zeros(reader.doc_count_all(), dtype=np.float64)
        for (term, term_bytes), term_params in zip(terms, params):
            if key_terms.term_weight(reader, term.fieldname, term_bytes) is None:
                continue  # not in this segment: most of the key terms in an editor's small save
            found = scorer.postings_scores(term.fieldname, term_bytes, term_params)
            if found is None:
                return None
            ids, term_scores = found
            sums[ids] += term_scores if term.boost == 1.0 else term_scores * term.boost
        if reader.has_deletions():
            sums[np.fromiter(reader.segment().deleted_docs(), dtype=np.int64)] = 0.0
        scored = np.flatnonzero(sums)  # a match scores above 0: idf > 0, tf > 0
        if scored.size > count:
            # The segment's best `count`, and every document tied with the last of them.
            floor = np.partition(sums[scored], scored.size - count)[scored.size - count]
            scored = scored[sums[scored] >= floor]
        docnums.append(scored + offset)
        scores.append(sums[scored])
    if not docnums:
        return []
    docnums, scores = np.concatenate(docnums), np.concatenate(scores)
    best = np.lexsort((docnums, -scores))[:count]
    return list(zip(docnums[best].tolist(), scores[best].tolist()))


def _binary_sum(columns):
    """The columns added up as whoosh.util.make_binary_tree pairs them."""
    if len(columns) == 1:
        return columns[0]
    half = len(columns) // 2
    return _binary_sum(columns[:half]) + _binary_sum(columns[half:])


def prefix_words(reader, field_name, prefix):
    """The words (as bytes) of one segment's field that start with `prefix`, kept per segment."""
    return segment_cache.cache.get(reader, ("prefix words", field_name, prefix), _segment_prefix_words)


def _segment_prefix_words(reader, field_name, prefix):
    if field_name not in reader.schema:
        return ()
    return tuple(word for word in reader.expand_prefix(field_name, prefix) if word)


def term_bytes_of(schema, field_name, text):
    """A term's text as its field keeps it in the index, or None when the
    schema has no such field or the text cannot be one of its terms."""
    if field_name not in schema:
        return None
    try:
        return schema[field_name].to_bytes(text)
    except ValueError:
        return None


def segment_postings(reader, field_name, term_bytes):
    """(ids, weights) arrays of a term's posting list in one segment, kept
    per segment, or None when the segment lacks it (or is not Whoosh 3's)."""
    return segment_cache.cache.get(reader, ("postings", field_name, term_bytes), _segment_postings)


def bitmap_of(ids, size):
    """The bitmap (an int) of document numbers `ids` below `size`."""
    flags = np.zeros(size, dtype=bool)
    flags[ids] = True
    return int.from_bytes(np.packbits(flags, bitorder="little").tobytes(), "little")


def _segment_postings(reader, field_name, term_bytes):
    """(ids, weights) of a term's posting list in one segment (deleted
    documents included), from the segment's posting arrays when it has
    them, else decoded from its blocks."""
    arrays = segment_cache.cache.get(reader, ("posting arrays",), posting_arrays.arrays_of)
    if arrays is not None:
        found = _from_arrays(arrays, reader, field_name, term_bytes)
        if found is not None:
            return found
    matcher = unfiltered_postings(reader, field_name, term_bytes)
    if matcher is None:
        return None
    if type(matcher) is not W3LeafMatcher:
        return None
    if matcher._byteids:
        return None
    ids, weights = [], []
    while matcher.is_active():
        # The block's (deltas, weights, values) tuple, unpickled once; ids
        # and weights become arrays here rather than through Whoosh's
        # per-posting generator (delta_decode) and array("f") copies.
        if matcher._data is None:
            matcher._read_data()
        deltas, block_weights, _values = matcher._data
        ids.append(np.cumsum(np.array(deltas, dtype=np.int64)).astype(np.uint32))
        if block_weights is None:
            weights.append(np.ones(len(deltas), dtype=np.float32))
        elif isinstance(block_weights, float):
            # Whoosh repeats it in an array("f"): rounded to 32 bits as there.
            weights.append(np.full(len(deltas), block_weights, dtype=np.float32))
        else:
            # A tuple of floats, used as they are (float64).
            weights.append(np.asarray(block_weights, dtype=np.float64))
        matcher._next_block()
    if not ids:
        return None
    return np.concatenate(ids), np.concatenate(weights)


def unfiltered_postings(reader, field_name, term_bytes):
    """A matcher of the term's whole posting list, the segment's deleted
    documents left in, or None when the segment lacks the term.

    reader.postings() wraps the list in a filter of the deletions, which
    moves it past the deleted postings at its start at once: past all of
    them when every document holding the term was deleted (an article
    saved again in a later segment), leaving nothing to read."""
    terms = getattr(reader, "_terms", None)
    try:
        if terms is not None and field_name in reader.schema:
            return terms.matcher(field_name, term_bytes, reader.schema[field_name].format)
        matcher = reader.postings(field_name, term_bytes)
    except TermNotFound:
        return None
    return matcher.child if isinstance(matcher, FilterMatcher) else matcher


def _from_arrays(arrays, reader, field_name, term_bytes):
    try:
        info = reader._terms.term_info(field_name, term_bytes)
    except (TermNotFound, AttributeError):
        return None
    if info.is_inlined():
        return None
    return arrays.postings(info.extent()[0])


def _segment_lengths(reader, field_name):
    """The segment's column of field lengths (one byte per document, as
    Whoosh stores them), read in one piece."""
    size = reader.doc_count_all()
    column = reader._perdoc._cached_reader(_lenfield(field_name), LENGTHS_COLUMN)
    if column is None:
        return np.zeros(size, dtype=np.uint8)
    if getattr(column, "_fixedlen", None) != 1 or not hasattr(column, "_dbfile"):
        return np.array([column[docnum] for docnum in range(size)], dtype=np.uint8)
    raw = np.frombuffer(bytes(column._dbfile.get(column._basepos, column._count)), dtype=np.uint8)
    return np.concatenate([raw, np.zeros(max(0, size - raw.size), dtype=np.uint8)])


def phrase_docs(reader, field_name, words_bytes, slop):
    """The local document numbers (deleted ones included) where the words
    come in this order, each at most `slop` positions after the one before,
    as whoosh.query.Phrase finds them (SpanNear2, ordered, mindist 1); None
    when a posting list is not Whoosh 3's.

    Only the blocks that hold a document having every word are decoded, and
    positions only of those documents."""
    columns = []
    for term_bytes in words_bytes:
        postings = segment_postings(reader, field_name, term_bytes)
        if postings is None:
            return None if (field_name, term_bytes) in reader else np.empty(0, dtype=np.uint32)
        columns.append(postings[0])
    together = columns[0]
    for ids in columns[1:]:
        together = np.intersect1d(together, ids, assume_unique=True)
    if not together.size:
        return together
    position_lists = []
    for term_bytes in words_bytes:
        positions = _positions(reader, field_name, term_bytes, together.tolist())
        if positions is None:
            return None
        position_lists.append(positions)
    found = [docnum for docnum, *lists in zip(together.tolist(), *position_lists) if _in_order(lists, slop)]
    return np.array(found, dtype=np.uint32)


def _positions(reader, field_name, term_bytes, wanted):
    """The position lists of a term in each of `wanted` (sorted local
    document numbers that all hold it), reading only their blocks."""
    matcher = unfiltered_postings(reader, field_name, term_bytes)
    if type(matcher) is not W3LeafMatcher or not matcher.format.supports("positions"):
        return None
    decode = _decode_positions if type(matcher.format) is Positions else matcher.format.decode_positions
    found, k, count = [], 0, len(wanted)
    while matcher.is_active() and k < count:
        if matcher._maxid < wanted[k]:  # from the block's header: its data stays unread
            matcher._next_block()
            continue
        if matcher._ids is None:
            matcher._read_ids()
        if matcher._values is None:
            matcher._read_values()
        where = {docnum: i for i, docnum in enumerate(matcher._ids)}
        values = matcher._values
        while k < count and wanted[k] <= matcher._maxid:
            found.append(decode(values[where[wanted[k]]]))
            k += 1
        matcher._next_block()
    return found if k == count else None


def _decode_positions(value):
    """whoosh.formats.Positions.decode_positions: a count, then the pickled
    gaps between positions, added up here in C."""
    return list(accumulate(pickle.loads(value[_INT_SIZE:] if value.endswith(b".") else value[_INT_SIZE:] + b".")))


def _in_order(position_lists, slop):
    """Whether some position of each list follows one of the list before,
    at a distance of 1 to `slop` (SpanNear2's spans, start to end)."""
    spans = {(position, position) for position in position_lists[0]}
    for positions in position_lists[1:]:
        spans = {(start, position) for start, end in spans for position in positions if end < position <= end + slop}
        if not spans:
            return False
    return True
