"""How a search runs on Whoosh: which matches to score, in what blocks, and
the collector that scores them (doc_bitmaps finds the matches and counts,
scoring scores candidates on arrays)."""
from bisect import bisect_left
from dataclasses import dataclass

import numpy as np
from whoosh import collectors
from whoosh import query as wq
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import ListMatcher, NullMatcher, WrappingMatcher

from articles.search.engines.whoosh import scoring
from articles.search.engines.whoosh.doc_bitmaps import (
    _MISSING,
    ATTRIBUTE,
    _docnums,
    _is_bonus,
    _match,
    facet_index,
    query_bitmap,
    restrict,
)
from articles.search.engines.whoosh.query_builder import Prefix

# Above this many matches, only this many are scored (the rest keep their
# place in the total and the facet counts). None scores every match.
CANDIDATES = 1500

def _word_queries(query):
    """The per-word parts of a query as articles.search.query builds it: the
    subqueries of its (optional or required) disjunction. A one-word query
    is a disjunction of the word's routes (title, lead, text...), which then
    count as its parts: more routes, a better match."""
    if isinstance(query, wq.AndNot):
        query = query.a
    if isinstance(query, wq.AndMaybe):
        return _word_queries(query.a) + _word_queries(query.b)
    if isinstance(query, (wq.Or, wq.And)) and not isinstance(query, wq.DisjunctionMax):
        return [sub for sub in query.children() if not _is_bonus(sub)]
    return [query]


def _headline_terms(query, out):
    if isinstance(query, (wq.Term, wq.Prefix)):
        if query.fieldname == "title":
            out.append(query)
        return out
    for sub in query.children():
        _headline_terms(sub, out)
    return out


def candidates(searcher, index, query, matched, limit):
    """The `limit` documents of `matched` most worth scoring, as a bitmap
    (all of `matched` when it has no more). A larger limit gives a superset.

    In order: documents holding more of the query's words before those
    holding fewer, and among equals those with a query word in the
    headline first (the headline weighs three times the body), then the
    most recently indexed.
    """
    if matched.bit_count() <= limit:
        return matched
    words = [_match(searcher, index, word) & matched for word in _word_queries(query)]
    # Bit-sliced counting: how many words each document holds.
    levels = []
    for bits in words:
        carry = bits
        for position, level in enumerate(levels):
            levels[position], carry = level ^ carry, level & carry
            if not carry:
                break
        if carry:
            levels.append(carry)
    headline = 0
    for word in _word_queries(query):
        for term in _headline_terms(word, []):
            headline |= _match(searcher, index, term)
    chosen = 0
    for count in range(len(words), 0, -1):
        if count >= 1 << len(levels):
            continue  # no document holds that many
        tier = matched
        for position, level in enumerate(levels):
            tier &= level if count >> position & 1 else ~level
        for part in (tier & headline, tier & ~headline):
            room = limit - chosen.bit_count()
            if part.bit_count() <= room:
                chosen |= part
            else:
                chosen |= _highest(part, room)
                return chosen
    return chosen


def _highest(bits, count):
    """The `count` highest set bits of `bits` (the most recently indexed documents)."""
    if count <= 0:
        return 0
    size = bits.bit_length()
    return scoring.bitmap_of(scoring.set_bits(bits, size)[-count:], size)


class DocsQuery(wq.Query):
    """Matches the documents of a bitmap, scoring nothing: And-ed with a
    query, it limits the scoring to these documents while the query's
    matchers skip straight to them."""

    def __init__(self, bits):
        self.bits = bits
        self._sorted = None

    def __repr__(self):
        return f"{self.__class__.__name__}({self.bits.bit_count()} documents)"

    def __eq__(self, other):
        return type(other) is type(self) and other.bits == self.bits

    def __hash__(self):
        return hash(self.bits)

    def is_leaf(self):
        return True

    def estimate_size(self, ixreader):
        return self.bits.bit_count()

    def matcher(self, searcher, context=None):
        if self._sorted is None:
            self._sorted = list(_docnums(self.bits))
        offset = 0
        parent = searcher.get_parent()
        if parent is not searcher:
            offset = parent._offset_for_subsearcher(searcher) or 0
        end = offset + searcher.doc_count_all()
        ids = [docnum - offset for docnum in self._sorted if offset <= docnum < end]
        if not ids:
            return NullMatcher()
        return ListMatcher(ids, all_weights=0.0)


# ---------------------------------------------------------------------------
# The collector


def _filter_docs(index, terms):
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


def _flat_leaves(query):
    """The leaves of a query whose score is the plain sum of its leaves'
    scores (Or trees of terms, phrases, prefixes and and-ed terms, as the
    query builder makes them), or None for any other shape."""
    if type(query) in (wq.And, wq.Or) and len(query.subqueries) == 1:
        # Whoosh gives a compound of one query that query's matcher (boost
        # included): a quoted phrase is a required Or of its field routes.
        return _flat_leaves(query.subqueries[0])
    if isinstance(query, wq.Or) and not isinstance(query, wq.DisjunctionMax):
        if query.boost != 1.0 or getattr(query, "scale", None) or getattr(query, "minmatch", 0):
            return None
        leaves = []
        for sub in query.children():
            found = _flat_leaves(sub)
            if found is None:
                return None
            leaves.extend(found)
        return leaves
    if isinstance(query, (wq.Term, wq.Phrase, Prefix)) or _is_bonus(query):
        return [query]
    return None


class _BlockScorer(collectors.Collector):
    """The top N hits, scored block of candidates by block.

    The candidates come in blocks (the CANDIDATES most promising matches,
    then the next CANDIDATES, ...); each block is ranked by score and put
    after the blocks before it, so that every page of a search shows each
    hit once, whatever the page.

    A query shaped as the query builder makes it (an Or tree of terms,
    phrases, prefixes and and-ed terms: `leaves`) is scored leaf by leaf: Whoosh would
    move a tree of union matchers (thirty leaves for a three-word query) to
    each document in turn, while the bitmaps tell in advance which
    candidates each leaf matches, so each leaf's matcher skips straight to
    those. The score is the same sum of the leaves' scores, computed in full
    (Whoosh's union matchers drop, after a while, leaves that can no longer
    lift a document into the top N on their own). Other queries are scored
    by Whoosh, limited to the block.
    """

    def __init__(self, limit, blocks, leaves, index):
        super().__init__()
        self.limit = limit
        self.blocks = blocks
        self.leaves = leaves
        self.index = index
        self.items = []

    def prepare(self, top_searcher, q, context):
        super().prepare(top_searcher, q, context)
        self.items = []

    def run(self):
        try:
            for block in self.blocks:
                if len(self.items) >= self.limit:
                    break
                docnums, scores = self._leaf_scores(block) if self.leaves is not None else self._whoosh_scores(block)
                need = self.limit - len(self.items)
                # Highest score first, then the lower document number (as Whoosh orders ties).
                best = np.lexsort((docnums, -scores))[:need]
                self.items.extend(zip(scores[best].tolist(), docnums[best].tolist()))
        finally:
            self.finish()

    def _leaf_scores(self, block):
        """(document numbers, scores) of the block's candidates, as arrays."""
        docnums, scores = [], []
        searcher = self.top_searcher
        for subsearcher, offset in searcher.leaf_searchers():
            size = subsearcher.doc_count_all()
            in_segment = (1 << size) - 1
            local_block = (block >> offset) & in_segment
            if not local_block:
                continue
            candidates = scoring.set_bits(local_block, size)
            scorer = scoring.SegmentScorer(subsearcher, self.context, candidates)
            for leaf in self.leaves:
                chosen = scoring.bits_at((_match(searcher, self.index, leaf) >> offset) & in_segment, candidates, size)
                if not chosen.any() or (scoring.ENABLED and scorer.add(leaf, chosen)):
                    continue
                matcher = leaf.matcher(subsearcher, self.context)
                skip_to = _skipper(matcher)
                for position in chosen.nonzero()[0].tolist():
                    local = int(candidates[position])
                    if not matcher.is_active():
                        break
                    if matcher.id() < local:
                        skip_to(matcher, local)
                        if not matcher.is_active():
                            break
                    if matcher.id() == local:
                        scorer.add_one(position, matcher.score())
            segment_docnums, segment_scores = scorer.results(offset)
            docnums.append(segment_docnums)
            scores.append(segment_scores)
        if not docnums:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
        return np.concatenate(docnums), np.concatenate(scores)

    def _whoosh_scores(self, block):
        collector = collectors.TopCollector(limit=self.limit, usequality=False)
        self.top_searcher.search_with_collector(wq.And([DocsQuery(block), self.q]), collector, self.context)
        hits = collector.results()
        return (
            np.array([hit.docnum for hit in hits], dtype=np.int64),
            np.array([hit.score for hit in hits], dtype=np.float64),
        )

    def results(self):
        return self._results(list(self.items))

    def count(self):
        return sum(block.bit_count() for block in self.blocks)

    def computes_count(self):
        return True

    def all_ids(self):
        for block in self.blocks:
            yield from _docnums(block)


def _plain_skip(matcher, target):
    matcher.skip_to(target)


def _skipper(matcher):
    """The fastest way to move this matcher forward (see _fast_skip)."""
    if type(matcher) is W3LeafMatcher:
        return _fast_skip
    if type(matcher) is WrappingMatcher and type(matcher.child) is W3LeafMatcher:
        # A boosted term: the wrapper only multiplies the score.
        return lambda wrapper, target: _fast_skip(wrapper.child, target)
    return _plain_skip


def _fast_skip(matcher, target):
    """W3LeafMatcher.skip_to, with a binary search inside the block where
    Whoosh steps through it posting by posting."""
    if target > matcher.block_max_id():
        matcher._skip_to_block(lambda: target > matcher.block_max_id())
        if not matcher.is_active():
            return
    if matcher._ids is None:
        matcher._read_ids()
    position = bisect_left(matcher._ids, target, matcher._i, matcher._blocklength)
    if position == matcher._blocklength:
        matcher._i = position - 1
        matcher.next()  # on to the next block
    else:
        matcher._i = position


@dataclass
class Search:
    query: object        # what to give Searcher.search_with_collector
    collector: object
    matched: int         # bitmap of every match (after the filter): total and facets
    scored: int | None   # bitmap of the matches scored, None for all


def plan(searcher, index, query, limit, terms=(), sortedby=None, reverse=False, candidate_limit=_MISSING):
    """How to run `query`: its matches as a bitmap (within the filter
    `terms`), and a collector for the top `limit` hits (by score, or by
    `sortedby`) that scores the matches in blocks of `candidate_limit`
    candidates (default CANDIDATES; None for one block of every match),
    only as many blocks as `limit` hits need."""
    if candidate_limit is _MISSING:
        candidate_limit = CANDIDATES
    matched = restrict(index, query_bitmap(searcher, index, query), terms)
    if sortedby is not None:
        inner = collectors.SortingCollector(sortedby, limit=limit, reverse=reverse)
        if isinstance(query, wq.Every):
            # A listing without words: visit only the documents it lists.
            return Search(DocsQuery(matched) if matched else wq.NullQuery, inner, matched, None)
        allowed = _filter_docs(index, terms)
        if allowed is not None and not allowed:
            # Whoosh reads an empty filter as "no filter"; this one lets nothing in.
            allowed = {-1}
        collector = collectors.FilterCollector(inner, allowed, None) if allowed is not None else inner
        return Search(query, collector, matched, None)
    blocks, scored = [matched] if matched else [], None
    if candidate_limit is not None and matched.bit_count() > candidate_limit:
        blocks, previous = [], 0
        for number in range(1, -(-limit // candidate_limit) + 1):
            chosen = candidates(searcher, index, query, matched, candidate_limit * number)
            blocks.append(chosen & ~previous)
            previous = chosen
        scored = previous
    return Search(query, _BlockScorer(limit, blocks, _flat_leaves(query), index), matched, scored)


def top_documents(searcher, query, limit, exclude=(), context=None, candidate_limit=_MISSING):
    """[(docnum, score)] of the `limit` best matches of `query`, leaving out
    the document numbers in `exclude`: a search without facets or filters
    (more-like-this), through the same bounded scoring as `plan`."""
    leaves = _flat_leaves(query)
    if candidate_limit is None and scoring.ENABLED and leaves and all(type(leaf) is wq.Term for leaf in leaves):
        # Every match scored: on arrays, without bitmaps, for an Or of terms.
        found = scoring.best_documents(searcher, context or searcher.context(), leaves, limit + len(exclude))
        if found is not None:
            return [(docnum, score) for docnum, score in found if docnum not in exclude][:limit]
    index = getattr(searcher, ATTRIBUTE, None) or facet_index(searcher, ("django_ct",))
    search = plan(searcher, index, query, limit + len(exclude), candidate_limit=candidate_limit)
    searcher.search_with_collector(search.query, search.collector, context=context or searcher.context())
    hits = [(hit.docnum, hit.score) for hit in search.collector.results() if hit.docnum not in exclude]
    return hits[:limit]
