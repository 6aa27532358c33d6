"""Articles as Solr documents (articles.search.engines.solr.documents): our
analysis's tokens, pre-analysed, with the readings of a word at one
position and token weights kept as whole frequencies. No cluster needed."""

import datetime
import json

import pytest

from articles.search.analysis import field_tokens
from articles.search.documents import article_index
from articles.search.engines.solr import documents


def tokens(text, form):
    return json.loads(documents.pre_analysed(text, form))["tokens"]


def positions(tokens):
    """[(term, position)] from the position increments Solr will read."""
    position, found = -1, []
    for token in tokens:
        position += token["i"]
        found.append((token["t"], position))
    return found


def test_a_words_readings_share_its_position():
    found = positions(tokens("لترامب وحكومة", "stem"))
    assert ("ترامب", 0) in found and ("لترامب", 0) in found
    assert ("حكوم", 1) in found and ("وحكوم", 1) in found
    assert tokens("لترامب", "stem")[0]["i"] == 1  # Lucene needs the first increment > 0


def test_token_weights_become_whole_frequencies_in_the_same_proportion():
    text = "لترامب ترامب"
    frequency = {}
    for token in tokens(text, "stem"):
        frequency[token["t"]] = frequency.get(token["t"], 0) + 1
    weights = {}
    for token in field_tokens(text, "stem"):
        weights[token.term] = weights.get(token.term, 0) + token.weight
    assert {term: count / documents.TF_SCALE for term, count in frequency.items()} == weights
    assert weights["ترامب"] == 1.5  # 1 as written + 0.5 as the reading of لترامب


def test_a_text_of_stop_words_only_leaves_the_field_out():
    assert documents.pre_analysed("في من على", "exact") is None
    assert documents.pre_analysed("", "stem") is None


def test_field_values_as_solr_takes_them():
    index = article_index()
    assert (
        documents.solr_value(index.fields["published"], datetime.date(2018, 5, 1)) == "2018-05-01T00:00:00Z"
    )
    assert documents.solr_value(index.fields["topics"], ["a", "", "b"]) == ["a", "b"]
    assert documents.solr_value(index.fields["source"], None) is None


@pytest.mark.django_db
def test_an_article_document_has_every_declared_field(make_article):
    article = make_article(title="مفاوضات السلام", body="تعثرت المفاوضات في إسطنبول.", topics=["سياسة"])
    document = documents.solr_document(article, article_index())
    assert document["id"] == f"articles.article.{article.pk}"
    assert document["django_id"] == str(article.pk)
    assert document["topics"] == [article.topics.get().slug]
    assert document["published"] == "2018-05-01T00:00:00Z"
    for name in ("title", "text", "exact", "skeleton"):
        assert json.loads(document[name])["v"] == "1"
    assert "lead" not in document  # empty lead: no tokens, no field
    exact_terms = {token["t"] for token in json.loads(document["exact"])["tokens"]}
    assert "مفاوضات" in exact_terms and "اسطنبول" in exact_terms


def test_a_word_too_long_for_any_query_is_left_out_and_positions_kept():
    found = positions(tokens("سلام " + "x" * (documents.MAX_TERM_CHARS + 1) + " حرب", "exact"))
    assert [term for term, _ in found] == ["سلام", "سلام", "حرب", "حرب"]
    assert found[-1][1] == 2
