"""A ParsedQuery (articles.search.query) as a Lucene query string for Solr.

The same query as the Whoosh engine's (articles.search.engines.whoosh.
query_builder): every route of every word as a term with its boost, the
routes and the optional clauses summed, required words and phrases that
must match while optional ones only add score, exclusions, prefixes over
the stem fields and the exact field, the all-words and proximity bonuses.

Every term is one our analysis made (the fields are pre-analysed, their
query analyzer only splits on spaces), written inside double quotes with
`\\` and `"` escaped: whatever a reader types (field:value, AND, brackets,
`*`, backslashes) reaches Solr as the text of a term, never as syntax.

Differences from Whoosh, none visible in what matches:
- A prefix matches the words that start with it, each scored as a term and
  summed, as Whoosh's does; Solr's own prefix query scores a constant, so
  the engine lists the words first (the terms component) and they are
  compiled as terms. When a prefix starts more than PREFIX_TERMS words of a
  field, the commonest are scored and a constant-score prefix query at
  PREFIX_TAIL_BOOST keeps the articles with only the rarer ones.
- Whoosh's proximity phrase allows PROXIMITY_SLOP positions between each
  pair of words, in order; Lucene's slop is one budget of moves for the
  whole phrase, so it gets (words - 1) * (PROXIMITY_SLOP - 1), which allows
  every arrangement Whoosh allows and a few more (two words swapped).
- Lucene counts every term and phrase of a query against maxBooleanClauses
  (1024 by default): clauses beyond MAX_LEAVES are left out (32 words come
  to 800 at most; only several prefixes of many words each get there).
"""

import re
from dataclasses import dataclass

from articles.search.query import (
    ALL_WORDS_WEIGHT,
    PROXIMITY_SLOP,
    PROXIMITY_WEIGHT,
    ROUTE_WEIGHTS,
    TEXT_FIELDS,
)
from articles.search.query import word_routes as routes_of_word

# Words of a field a prefix is expanded to (the commonest first), and the
# weight of the constant-score rest.
PREFIX_TERMS = 60
PREFIX_TAIL_BOOST = 0.01
# Fields a prefix searches: the stem fields and the exact word forms.
PREFIX_FIELDS = (*TEXT_FIELDS, "exact")
# Terms one query may hold (Lucene's limit is 1024 by default).
MAX_LEAVES = 1000


# -- the query tree -----------------------------------------------------------


@dataclass(frozen=True)
class Term:
    field: str
    text: str
    boost: float = 1.0


@dataclass(frozen=True)
class Phrase:
    field: str
    terms: tuple
    slop: int = 0
    boost: float = 1.0


@dataclass(frozen=True)
class PrefixTail:
    """Every word with this prefix, one constant score (recall only)."""

    field: str
    prefix: str
    boost: float = 1.0


@dataclass(frozen=True)
class Any:
    """At least one child; the scores of those that match are summed."""

    children: tuple
    boost: float = 1.0


@dataclass(frozen=True)
class All:
    """Every child; their scores summed."""

    children: tuple
    boost: float = 1.0


@dataclass(frozen=True)
class AllMaybe:
    """`required` must match; `optional` adds its score where it matches."""

    required: object
    optional: object


@dataclass(frozen=True)
class Without:
    query: object
    excluded: object


# Matches nothing: an Any without children (a prefix no word starts with).
NOTHING = Any(())


def any_of(children, boost=1.0):
    children = tuple(child for child in children if child is not NOTHING)
    if not children:
        return NOTHING
    if len(children) == 1 and boost == 1.0:
        return children[0]
    return Any(children, boost)


def all_of(children, boost=1.0):
    children = tuple(children)
    if not children or NOTHING in children:
        return NOTHING
    if len(children) == 1 and boost == 1.0:
        return children[0]
    return All(children, boost)


def leaves(node):
    """How many terms Lucene counts in the query (its clause limit)."""
    if isinstance(node, (Term, PrefixTail, Phrase)):
        return 1  # Lucene counts a phrase once, whatever its length
    if isinstance(node, (Any, All)):
        return sum(leaves(child) for child in node.children)
    if isinstance(node, AllMaybe):
        return leaves(node.required) + leaves(node.optional)
    if isinstance(node, Without):
        return leaves(node.query) + leaves(node.excluded)
    raise TypeError(node)


# -- from a ParsedQuery -------------------------------------------------------


def word_routes(readings, weights=ROUTE_WEIGHTS):
    """Every route by which one word may match (query.word_routes), as
    query_builder._word_query: each a term with its weight."""
    return any_of(Term(name, text, boost) for (name, text), boost in routes_of_word(readings, weights).items() if text)


def phrase_routes(stems):
    return any_of(Phrase(name, tuple(stems), 0, ROUTE_WEIGHTS[name]) for name in TEXT_FIELDS)


def prefix_routes(prefix, expansions):
    """The words starting with `prefix` in each field, as terms summed and
    weighted by the field's route; `expansions` maps (field, prefix) to
    (words, truncated)."""
    routes = []
    for name in PREFIX_FIELDS:
        words, truncated = expansions.get((name, prefix), ((), False))
        parts = [Term(name, word) for word in words if word]
        if truncated:
            parts.append(PrefixTail(name, prefix, PREFIX_TAIL_BOOST))
        routes.append(any_of(parts, ROUTE_WEIGHTS[name]))
    return any_of(routes)


def clause_query(clause, expansions):
    if clause.kind == "prefix":
        return prefix_routes(clause.terms[0], expansions)
    if clause.kind == "phrase":
        return phrase_routes(clause.terms)
    return word_routes(clause.readings)


def bonus_queries(stems):
    """Extra score for articles holding all the words, and holding them close."""
    stems = tuple(stems)
    bonus = []
    if stems and ALL_WORDS_WEIGHT:
        bonus.append(All(tuple(Term("text", stem) for stem in stems), ALL_WORDS_WEIGHT))
    if stems and PROXIMITY_WEIGHT:
        slop = (len(stems) - 1) * max(PROXIMITY_SLOP - 1, 0)
        bonus.append(Phrase("text", stems, slop, PROXIMITY_WEIGHT))
    return bonus


def prefixes(parsed):
    """The prefixes whose words the engine must list before compiling."""
    found = []
    for clause in parsed.clauses:
        if clause.kind == "prefix" and clause.terms[0] not in found:
            found.append(clause.terms[0])
    return found


class _Budget:
    """Lucene's clause limit shared out in the order clauses come: a clause
    that does not fit is left out (None), not made to match nothing."""

    def __init__(self, total):
        self.left = total

    def take(self, node):
        cost = leaves(node)
        if cost > self.left:
            return None
        self.left -= cost
        return node


def build(parsed, expansions=None):
    """The query tree of a ParsedQuery, or None when nothing is left to
    search for (only stop words, only exclusions); NOTHING when it cannot
    match (a required prefix that starts no word)."""
    expansions = expansions or {}
    if parsed.is_empty:
        return None
    budget = _Budget(MAX_LEAVES)

    def fitting(queries):
        return [query for query in map(budget.take, queries) if query is not None]

    required = fitting(clause_query(clause, expansions) for clause in parsed.required)
    optional = fitting(clause_query(clause, expansions) for clause in parsed.optional)
    optional = any_of(optional + fitting(bonus_queries(parsed.bonus_stems())))
    if required:
        query = all_of(required)
        if query is not NOTHING and optional is not NOTHING:
            query = AllMaybe(query, optional)
    else:
        query = optional
    if query is NOTHING:
        return NOTHING
    excluded = any_of(fitting(clause_query(clause, expansions) for clause in parsed.excluded))
    if excluded is not NOTHING:
        query = Without(query, excluded)
    return query


def related_query(key_terms, exclude_identifier):
    """More like this: the key terms in `text`, each with its weight, summed;
    never the article itself."""
    liked = any_of(Term("text", word, weight) for word, weight in key_terms if word)
    if liked is NOTHING:
        return NOTHING
    return Without(liked, Term("id", exclude_identifier))


# -- as Lucene syntax ---------------------------------------------------------


def quoted(text):
    """Text inside double quotes: the query parser reads it as text only."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_SPECIAL = re.compile(r'([\\+\-!():^\[\]"{}~*?|&;/]|\s)')


def escaped(text):
    """Text outside quotes, every character that means syntax escaped
    (as SolrJ's ClientUtils.escapeQueryChars)."""
    return _SPECIAL.sub(r"\\\1", text)


def _boost(boost):
    if boost == 1.0:
        return ""
    return "^" + (f"{boost:.6f}".rstrip("0").rstrip(".") or "0")


def to_lucene(node):
    """The query tree as a string for Solr's standard query parser (q.op=OR)."""
    if isinstance(node, Term):
        return f"{node.field}:{quoted(node.text)}{_boost(node.boost)}"
    if isinstance(node, Phrase):
        slop = f"~{node.slop}" if node.slop else ""
        return f"{node.field}:{quoted(' '.join(node.terms))}{slop}{_boost(node.boost)}"
    if isinstance(node, PrefixTail):
        return f"{node.field}:{escaped(node.prefix)}*{_boost(node.boost)}"
    if isinstance(node, Any):
        if not node.children:
            raise ValueError("an empty query matches nothing: check for NOTHING before writing it")
        return "(" + " ".join(to_lucene(child) for child in node.children) + ")" + _boost(node.boost)
    if isinstance(node, All):
        return "(" + " ".join("+" + to_lucene(child) for child in node.children) + ")" + _boost(node.boost)
    if isinstance(node, AllMaybe):
        return f"(+{to_lucene(node.required)} {to_lucene(node.optional)})"
    if isinstance(node, Without):
        return f"(+{to_lucene(node.query)} -{to_lucene(node.excluded)})"
    raise TypeError(node)
