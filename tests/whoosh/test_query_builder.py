"""A ParsedQuery as a Whoosh query (articles.search.engines.whoosh.query_builder)."""
import pytest
from whoosh import query as wq

from articles.search import query
from articles.search.engines.whoosh import query_builder


def test_nothing_left_to_search_builds_no_query():
    assert query_builder.build(query.parse("في من على")) is None
    assert query_builder.build(query.parse("-ترامب")) is None


@pytest.mark.parametrize(
    "text", ['"', "((", "AND OR NOT", "title:ترامب", "*", "ترامب~2", "🙂" * 50, "x" * 6000, '"غير مغلق', "+-+"]
)
def test_any_text_builds_a_query_or_none(text):
    built = query_builder.build(query.parse(text))
    assert built is None or isinstance(built, wq.Query)


def test_a_word_is_searched_by_every_route_with_its_weight():
    built = query_builder.build(query.parse("المفاوضات"))
    routes = {(term.fieldname, term.text): term.boost for term in built.leaves() if isinstance(term, wq.Term)}
    assert routes[("title", "مفاوض")] == query.ROUTE_WEIGHTS["title"]
    assert routes[("text", "مفاوض")] == query.ROUTE_WEIGHTS["text"]
    assert routes[("exact", "مفاوضات")] == query.ROUTE_WEIGHTS["exact"]
