"""A ParsedQuery (articles.search.query) as a Whoosh query: every route of
every word with its weight, phrases, prefixes and the all-words and
proximity bonuses."""
from whoosh import query as wq
from whoosh import scoring
from whoosh.matching import NullMatcher, UnionMatcher, WrappingMatcher
from whoosh.util import make_binary_tree

from articles.search.query import (
    ALL_WORDS_WEIGHT,
    BM25_B,
    BM25_FIELD_B,
    BM25_K1,
    PROXIMITY_SLOP,
    PROXIMITY_WEIGHT,
    ROUTE_WEIGHTS,
    TEXT_FIELDS,
    word_routes,
)

WEIGHTING = scoring.BM25F(B=BM25_B, K1=BM25_K1, **{f"{name}_B": b for name, b in BM25_FIELD_B.items()})


def _word_query(readings, weights=ROUTE_WEIGHTS):
    """Every route by which one word may match (query.word_routes), each a
    term with its weight."""
    return wq.Or([wq.Term(name, text, boost=boost) for (name, text), boost in word_routes(readings, weights).items()])


class Prefix(wq.Prefix):
    """The words starting with a prefix, each scored as a term and added up,
    times the route's boost.

    Whoosh's Prefix drops its boost in a segment where a single word has the
    prefix (a headline match then weighs as little as a body match), and
    scores its words with the searcher's default weighting rather than the
    search's. Here every segment scores alike, as the other routes do, and
    the sum is an order-preserving binary tree of unions that
    articles.search.scoring repeats on arrays to the last bit.
    """

    def matcher(self, searcher, context=None):
        if not self.text:
            return super().matcher(searcher, context)
        words = [word for word in self._btexts(searcher.reader()) if word]
        if not words:
            return NullMatcher()
        matcher = make_binary_tree(UnionMatcher, [wq.Term(self.fieldname, word).matcher(searcher, context) for word in words])
        return matcher if self.boost == 1.0 else WrappingMatcher(matcher, boost=self.boost)


def _phrase_query(stems, boost=1.0):
    return wq.Or([wq.Phrase(name, stems, boost=ROUTE_WEIGHTS[name] * boost) for name in TEXT_FIELDS])


def _clause_query(clause):
    if clause.kind == "prefix":
        # Stems starting with the prefix, and whole words starting with it
        # (a prefix longer than the stem of the words it starts).
        fields = TEXT_FIELDS + ("exact",)
        return wq.Or([Prefix(name, clause.terms[0], boost=ROUTE_WEIGHTS[name]) for name in fields])
    if clause.kind == "phrase":
        return _phrase_query(clause.terms)
    return _word_query(clause.readings)


def _bonus_queries(stems):
    """Extra score for articles holding all the words, and holding them close."""
    bonus = []
    if stems and ALL_WORDS_WEIGHT:
        bonus.append(wq.And([wq.Term("text", stem) for stem in stems], boost=ALL_WORDS_WEIGHT))
    if stems and PROXIMITY_WEIGHT:
        bonus.append(wq.Phrase("text", stems, slop=PROXIMITY_SLOP, boost=PROXIMITY_WEIGHT))
    return bonus


def build(parsed):
    """The Whoosh query for parsed user text, or None when nothing is left to
    search for (only stop words, only exclusions)."""
    if parsed.is_empty:
        return None
    required = [_clause_query(clause) for clause in parsed.required]
    optional = [_clause_query(clause) for clause in parsed.optional] + _bonus_queries(parsed.bonus_stems())
    if required and optional:
        query = wq.AndMaybe(wq.And(required), wq.Or(optional))
    elif required:
        query = wq.And(required)
    else:
        query = wq.Or(optional) if len(optional) > 1 else optional[0]
    excluded = [_clause_query(clause) for clause in parsed.excluded]
    if excluded:
        query = wq.AndNot(query, wq.Or(excluded))
    return query
