"""The key terms of a text, as Whoosh's `Searcher.key_terms_from_text` picks
them (Bo1 model, weights normalised), with fewer look-ups.

Whoosh asks every segment twice per distinct word of the text (is it there,
then how often), and forgets the answers: for an article of 300 distinct
words in an index of 16 segments that is ~10,000 look-ups, most of the time
of a reading page's related stories. Here each segment is asked once per
word, the answer is kept for as long as the segment exists, and a small
segment (an editor's save) has its whole vocabulary read at once, so a word
it lacks costs nothing.
"""
from collections import defaultdict
from itertools import takewhile

from whoosh import classify, formats
from whoosh.util.text import utf8encode

from articles.search.engines.whoosh import segment_cache

# Segments with fewer documents than this have their vocabulary read whole.
SMALL_SEGMENT = 200
# Words whose weight is kept per large segment; the table is emptied when full.
KEPT_WORDS = 20_000
# Roughly what one kept word costs: its bytes, a float and the dict's slot.
WORD_BYTES = 120


def key_terms(searcher, field_name, text, count):
    """The `count` most important [(word, weight)] of `text`, the same list
    (and order) as searcher.key_terms_from_text(field_name, text, count)."""
    reader = searcher.reader()
    field = searcher.schema[field_name]
    in_text = defaultdict(float)
    text_total = 0
    for term_bytes, weight in _text_weights(field, text):
        in_text[term_bytes] += weight
        text_total += weight
    if not in_text:
        return []
    model = classify.Bo1Model(reader.doc_count_all(), reader.field_length(field_name))
    tables = [_weights_of(segment, field_name) for segment, _offset in reader.leaf_readers()]
    scored = []
    highest = 0
    for term_bytes, weight in in_text.items():
        collection_weight = _collection_weight(tables, term_bytes)
        if collection_weight is None:
            continue
        score = model.score(weight, collection_weight, text_total)
        if score > highest:
            highest = score
        scored.append((score, field.from_bytes(term_bytes)))
    norm = model.normalizer(highest, text_total)
    ranked = sorted(((score / norm, word) for score, word in scored), key=lambda pair: (0 - pair[0], pair[1]))
    return [(word, weight) for weight, word in ranked[:count]]


def _text_weights(field, text):
    """(term bytes, weight) of each word of `text`, in the order and with the
    weights field.index(text) gives them, without encoding every word's
    positions as field.index does (Positions.word_values) only for this
    caller to drop them."""
    weights = defaultdict(float)
    for token in formats.tokens(text, field.analyzer, {"mode": "index", "positions": True, "boosts": True}):
        weights[token.text] += token.boost
    boost = field.format.field_boost
    return [(utf8encode(word)[0], weight * boost) for word, weight in weights.items()]


def _collection_weight(tables, term_bytes):
    """The term's total weight over the segments, summed in their order as
    Whoosh's MultiReader.frequency sums it; None when no segment has it."""
    total = 0
    found = False
    for table in tables:
        weight = table.weight(term_bytes)
        if weight is not None:
            total += weight
            found = True
    return total if found else None


class _SegmentWeights:
    """A segment's term weights for one field: looked up once each, or all
    read at the start for a small segment."""

    def __init__(self, reader, field_name):
        self._reader = reader
        self._field_name = field_name
        self._terms = getattr(reader, "_terms", None)  # Whoosh 3's terms table
        self._kept = {}
        self._whole = reader.doc_count_all() < SMALL_SEGMENT and self._terms is not None
        if self._whole:
            # The terms are sorted by field, then text: the field's run of them.
            items = takewhile(lambda item: item[0][0] == field_name, self._terms.items_from(field_name, b""))
            self._kept = {term_bytes: info.weight() for (_name, term_bytes), info in items}

    @property
    def nbytes(self):
        """What the table may come to hold (for segment_cache.cache's budget)."""
        return WORD_BYTES * (len(self._kept) if self._whole else KEPT_WORDS)

    def weight(self, term_bytes):
        kept = self._kept
        if term_bytes in kept:
            return kept[term_bytes]
        if self._whole:
            return None
        weight = self._look_up(term_bytes)
        if len(kept) >= KEPT_WORDS:
            kept.clear()
        kept[term_bytes] = weight
        return weight

    def _look_up(self, term_bytes):
        if self._terms is None:
            if (self._field_name, term_bytes) not in self._reader:
                return None
            return self._reader.frequency(self._field_name, term_bytes)
        try:
            return self._terms.frequency(self._field_name, term_bytes)
        except KeyError:
            return None


def term_weight(reader, field_name, term_bytes):
    """A term's total weight in one segment, None when the segment lacks it:
    kept per segment, and a dictionary look-up in a small segment."""
    return _weights_of(reader, field_name).weight(term_bytes)


def _weights_of(reader, field_name):
    return segment_cache.cache.get(reader, ("term weights", field_name), _SegmentWeights)
