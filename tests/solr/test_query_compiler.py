"""The Solr query compiler (articles.search.engines.solr.query_compiler):
the same query as the Whoosh builder, written so that no reader's text
becomes query syntax. Pure: no cluster needed."""

import re

import pytest
from whoosh import query as wq

from articles.search import query
from articles.search.engines.solr import query_compiler as qc
from articles.search.engines.whoosh import query_builder

HOSTILE = [
    '"',
    "((",
    "AND OR NOT",
    "title:ترامب",
    "*",
    "ترامب~2",
    "a\\",
    '\\"',
    'x" OR id:* OR "y',
    "{!func}sum(1,2)",
    "_query_:{!lucene}x",
    "[* TO *]",
    "ترامب^100",
    "/regex.*/",
    "&& || !",
    "🙂" * 50,
    "x" * 6000,
    '"غير مغلق',
    "+-+",
    "-",
    'مفاوض\\"*',
    "a:* b:*",
]


def canonical_whoosh(node):
    """A Whoosh query as nested tuples, children unordered (sums commute)."""
    if isinstance(node, wq.Term):
        return ("term", node.fieldname, node.text, round(node.boost, 6))
    if isinstance(node, wq.Phrase):
        return (
            "phrase",
            node.fieldname,
            tuple(node.words),
            "exact" if node.slop == 1 else "near",
            round(node.boost, 6),
        )
    if isinstance(node, wq.AndMaybe):
        return ("and_maybe", canonical_whoosh(node.a), canonical_whoosh(node.b))
    if isinstance(node, wq.AndNot):
        return ("and_not", canonical_whoosh(node.a), canonical_whoosh(node.b))
    if isinstance(node, (wq.Or, wq.And)):
        kind = "or" if isinstance(node, wq.Or) else "and"
        if len(node.subqueries) == 1 and node.boost == 1.0:
            return canonical_whoosh(node.subqueries[0])
        return (kind, tuple(sorted(map(repr, map(canonical_whoosh, node.subqueries)))), round(node.boost, 6))
    raise TypeError(node)


def canonical_solr(node):
    if isinstance(node, qc.Term):
        return ("term", node.field, node.text, round(node.boost, 6))
    if isinstance(node, qc.Phrase):
        return (
            "phrase",
            node.field,
            tuple(node.terms),
            "exact" if node.slop == 0 else "near",
            round(node.boost, 6),
        )
    if isinstance(node, qc.AllMaybe):
        return ("and_maybe", canonical_solr(node.required), canonical_solr(node.optional))
    if isinstance(node, qc.Without):
        return ("and_not", canonical_solr(node.query), canonical_solr(node.excluded))
    if isinstance(node, (qc.Any, qc.All)):
        kind = "or" if isinstance(node, qc.Any) else "and"
        return (kind, tuple(sorted(map(repr, map(canonical_solr, node.children)))), round(node.boost, 6))
    raise TypeError(node)


@pytest.mark.parametrize(
    "text",
    [
        "المفاوضات",
        "ترمب",
        "وزارة الخارجية الأمريكية",
        "لترامب وبوتين",
        '"وزارة الخارجية"',
        '"بوتين"',
        "+غزة هدنة",
        '+غزة "وقف إطلاق النار" هدنة -حماس',
        "-حماس غزة",
        'روسيا -"البيت الأبيض" أوكرانيا',
        "COVID-19 لقاح",
        "بالمفاوضات وللحكومة",
    ],
)
def test_the_same_query_as_the_whoosh_builder(text):
    parsed = query.parse(text)
    assert canonical_solr(qc.build(parsed)) == canonical_whoosh(query_builder.build(parsed))


def test_nothing_left_to_search_builds_no_query():
    assert qc.build(query.parse("في من على")) is None
    assert qc.build(query.parse("-ترامب")) is None


def test_a_prefix_is_its_words_scored_as_terms_in_each_field():
    parsed = query.parse("مفاوض*")
    expansions = {
        ("title", "مفاوض"): (["مفاوض", "مفاوضات"], False),
        ("text", "مفاوض"): (["مفاوض"], False),
    }
    built = qc.build(parsed, expansions)
    routes = {canonical_solr(child) for child in built.children}
    assert (
        "or",
        tuple(sorted([repr(("term", "title", "مفاوض", 1.0)), repr(("term", "title", "مفاوضات", 1.0))])),
        3.0,
    ) in routes
    assert ("term", "text", "مفاوض", 1.0) in routes
    # No field has a word the prefix starts and the expansion says so: nothing.
    assert qc.build(parsed, {}) is qc.NOTHING


def test_a_truncated_prefix_expansion_keeps_the_rest_at_a_small_constant():
    parsed = query.parse("مف*")
    built = qc.build(parsed, {("exact", "مف"): (["مفاوضات"], True)})
    text = qc.to_lucene(built)
    assert "exact:مف*^0.01" in text
    assert 'exact:"مفاوضات"' in text


def test_a_required_prefix_that_starts_no_word_matches_nothing():
    assert qc.build(query.parse("+مفاوض* غزة"), {}) is qc.NOTHING


def test_an_optional_prefix_that_starts_no_word_leaves_the_rest():
    built = qc.build(query.parse("مفاوض* غزة"), {})
    assert qc.to_lucene(built).startswith('(title:"غزه"^3')


def test_proximity_slop_covers_whoosh_gaps_in_lucene_moves():
    built = qc.build(query.parse("روسيا أوكرانيا الحرب"))
    (near,) = [child for child in built.children if isinstance(child, qc.Phrase)]
    assert near.slop == 2 * (query.PROXIMITY_SLOP - 1)
    assert near.boost == query.PROXIMITY_WEIGHT


def _balanced(lucene):
    """Quotes close, and brackets outside quotes balance: what Solr's parser
    needs not to fail (escapes inside quotes honoured)."""
    depth, inside, escape = 0, False, False
    for char in lucene:
        if escape:
            escape = False
        elif char == "\\":
            escape = True
        elif char == '"':
            inside = not inside
        elif not inside and char == "(":
            depth += 1
        elif not inside and char == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0 and not inside and not escape


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_stays_inside_quoted_terms(text):
    built = qc.build(query.parse(text), {("exact", 'مفاوض\\"'): (['a"b\\'], True)})
    if built is None or built is qc.NOTHING:
        return
    lucene = qc.to_lucene(built)
    assert _balanced(lucene)
    # Outside quoted terms only our own syntax: field names, brackets, +/-,
    # boosts, slops and escaped prefixes.
    outside = re.sub(r'"(?:[^"\\]|\\.)*"', '""', lucene)
    outside = re.sub(r":(?:[^\s\\()*]|\\.)+\*", ':""', outside)
    assert re.fullmatch(r'(?:[()+\- ]|\w+:""(?:~\d+)?(?:\^[\d.]+)?|\)\^[\d.]+)*', outside), outside


def test_quoting_escapes_backslashes_and_quotes_only():
    assert qc.quoted('a"b\\c:*') == '"a\\"b\\\\c:*"'
    assert qc.escaped("a:b*c d\\") == "a\\:b\\*c\\ d\\\\"


def test_a_query_past_lucenes_clause_limit_is_cut_to_fit():
    # Five prefixes of many words each, and words.
    parsed = query.parse("ab* ac* ad* ae* af* غزة هدنة")
    expansions = {
        (name, prefix): ([f"{prefix}{n}" for n in range(qc.PREFIX_TERMS)], True)
        for name in qc.PREFIX_FIELDS
        for prefix in ("ab", "ac", "ad", "ae", "af")
    }
    assert sum(qc.leaves(qc.clause_query(clause, expansions)) for clause in parsed.clauses) > 1024
    built = qc.build(parsed, expansions)
    assert 0 < qc.leaves(built) <= qc.MAX_LEAVES
    assert 'text:"غزه"' in qc.to_lucene(built)  # later clauses that fit are kept


def test_boosts_are_plain_decimals():
    term = qc.Term("text", "x", 0.0000123)
    assert qc.to_lucene(term) == 'text:"x"^0.000012'
    assert qc.to_lucene(qc.Term("text", "x", 2.5)) == 'text:"x"^2.5'


def test_related_query_excludes_the_article_itself():
    like = qc.related_query([("مفاوض", 1.0), ("سلام", 0.5)], "articles.article.7")
    assert qc.to_lucene(like) == '(+(text:"مفاوض" text:"سلام"^0.5) -id:"articles.article.7")'
    assert qc.related_query([], "articles.article.7") is qc.NOTHING
