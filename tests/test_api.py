"""The JSON API: search and one article, over a real index and database."""
import json
import re

import pytest

from tests.test_web_fixtures import HOSTILE_TITLE, ODD_QUERIES, archive  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

RESULT_FIELDS = {"id", "title", "url", "source", "published", "snippet", "score"}


def api(client, path, status=200, **params):
    response = client.get(path, params)
    assert response.status_code == status, f"{path} {params} answered {response.status_code}: {response.content[:300]}"
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content.decode("utf-8"))


def test_search_finds_an_inflected_form_and_marks_it(client, archive):
    data = api(client, "/api/search", q="مفاوضات")
    assert set(data) == {"count", "page", "num_pages", "results"}
    assert data["page"] == 1 and data["num_pages"] == 1
    assert data["count"] == len(data["results"]) >= 2
    by_id = {result["id"]: result for result in data["results"]}
    talks = by_id[archive["talks"].pk]
    assert set(talks) == RESULT_FIELDS
    assert talks == {
        "id": archive["talks"].pk,
        "title": "المفاوضات بين موسكو وكييف تتعثر",
        "url": archive["talks"].get_absolute_url(),
        "source": "BBC Arabic",
        "published": "2018-03-01",
        "snippet": talks["snippet"],
        "score": talks["score"],
    }
    assert "<mark>مفاوضات</mark>" in talks["snippet"]
    assert isinstance(talks["score"], float) and talks["score"] > 0
    scores = [result["score"] for result in data["results"]]
    assert scores == sorted(scores, reverse=True)


def test_arabic_is_sent_as_utf8_not_escaped(client, archive):
    raw = client.get("/api/search", {"q": "مفاوضات"}).content
    assert "المفاوضات بين موسكو".encode() in raw
    assert b"\\u06" not in raw


def test_the_snippet_is_escaped_html_with_only_mark_tags(client, archive):
    data = api(client, "/api/search", q="المفاوضات")
    hostile = next(r for r in data["results"] if r["id"] == archive["hostile"].pk)
    assert hostile["title"] == HOSTILE_TITLE  # a title is plain text
    tags = set(re.findall(r"</?([a-zA-Z]+)", hostile["snippet"]))
    assert tags == {"mark"}
    assert "&lt;script&gt;" in hostile["snippet"] and "&lt;b&gt;" in hostile["snippet"]


def test_filters(client, archive):
    assert {r["id"] for r in api(client, "/api/search", q="المفاوضات", source="bbc-arabic")["results"]} == {
        archive["talks"].pk,
        archive["summit"].pk,
    }
    assert [r["id"] for r in api(client, "/api/search", q="المفاوضات", topic="دولية")["results"]] == [archive["summit"].pk]
    assert api(client, "/api/search", q="الأهلي", year="2018")["count"] == 0
    assert api(client, "/api/search", q="الأهلي", year="2017")["count"] == 1
    listing = api(client, "/api/search", source="سكاي-نيوز-عربية")
    assert {r["id"] for r in listing["results"]} == {archive["match"].pk, archive["hostile"].pk}


def test_no_query_and_no_filter_is_an_empty_answer(client, archive):
    assert api(client, "/api/search") == {"count": 0, "page": 1, "num_pages": 0, "results": []}


def test_pages(client, search_index, django_capture_on_commit_callbacks):
    from tests.factories import make_article

    with django_capture_on_commit_callbacks(execute=True):
        for n in range(23):
            make_article(title=f"اجتماع المجلس رقم {n}", body=f"عقد المجلس اجتماعه رقم {n}.")
    first = api(client, "/api/search", q="المجلس")
    second = api(client, "/api/search", q="المجلس", page=2)
    assert (first["count"], first["num_pages"], len(first["results"])) == (23, 2, 20)
    assert (second["count"], second["page"], len(second["results"])) == (23, 2, 3)
    assert not {r["id"] for r in first["results"]} & {r["id"] for r in second["results"]}
    past = api(client, "/api/search", q="المجلس", page=3)
    assert past["count"] == 23 and past["results"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x", "page": "abc"},
        {"q": "x", "page": "0"},
        {"q": "x", "page": "-1"},
        {"q": "x", "page": "1.5"},
        {"q": "x", "page": "99999999999999999999999"},
        {"q": "x", "year": "zz"},
        {"q": "x", "year": "0"},
        {"q": "x", "year": "١٢٣٤٥"},
        {"q": "x", "sort": "oldest"},
        {"q": "x", "source": "a b"},
        {"q": "x", "topic": "a/b"},
        {"q": "x", "source": "s" * 500},
        {"q": "x", "topic": "\x00"},
    ],
)
def test_bad_parameters_answer_400_with_a_json_error(client, archive, params):
    data = api(client, "/api/search", status=400, **params)
    assert set(data) == {"error"}
    assert data["error"] and isinstance(data["error"], str)


@pytest.mark.parametrize("query", ODD_QUERIES, ids=range(len(ODD_QUERIES)))
def test_any_query_text_gets_an_answer(client, archive, query):
    data = api(client, "/api/search", q=query)
    assert isinstance(data["count"], int) and isinstance(data["results"], list)


def test_one_article(client, archive):
    summit = archive["summit"]
    data = api(client, f"/api/articles/{summit.pk}")
    assert set(data) == {"id", "title", "url", "source", "published", "lead", "body", "topics", "related"}
    assert data["id"] == summit.pk
    assert data["title"] == "قمة ألاسكا بين ترامب وبوتين"
    assert data["url"] == summit.get_absolute_url()
    assert data["source"] == "BBC Arabic"
    assert data["published"] == "2018-08-15"
    assert data["body"] == summit.body and data["lead"] == summit.lead
    assert sorted(data["topics"]) == ["دولية", "سياسة"]
    assert isinstance(data["related"], list)


def test_one_article_with_its_related_stories(client, archive):
    talks = archive["talks"]
    related = api(client, f"/api/articles/{talks.pk}")["related"]
    assert 1 <= len(related) <= 5
    for story in related:
        assert set(story) == {"id", "title", "url"}
        assert story["id"] != talks.pk
        assert client.get(story["url"]).status_code == 200
    summit = archive["summit"]
    assert {"id": summit.pk, "title": summit.title, "url": summit.get_absolute_url()} in related


def test_an_article_without_source_or_date(client, search_index, django_capture_on_commit_callbacks):
    from articles.models import Article

    with django_capture_on_commit_callbacks(execute=True):
        article = Article.objects.create(title="خبر بلا مصدر", body="نص قصير بلا تاريخ.")
    data = api(client, f"/api/articles/{article.pk}")
    assert data["source"] is None and data["published"] is None and data["topics"] == []
    hit = api(client, "/api/search", q="مصدر")["results"][0]
    assert hit["id"] == article.pk and hit["source"] is None and hit["published"] is None


@pytest.mark.parametrize("pk", ["999999", "0", "99999999999999999999999"])
def test_an_unknown_article_answers_404_json(client, archive, pk):
    data = api(client, f"/api/articles/{pk}", status=404)
    assert set(data) == {"error"}


def test_a_broken_index_answers_503_json(client, archive, monkeypatch):
    def broken(search_request):
        raise OSError("index is gone")

    monkeypatch.setattr("articles.api.search_articles", broken)
    data = api(client, "/api/search", status=503, q="مفاوضات")
    assert set(data) == {"error"}


@pytest.mark.parametrize("path", ["/api/", "/api/nothing", "/api/articles/", "/api/articles/abc", "/api/search/extra"])
def test_an_unknown_api_path_answers_404_json(client, path):
    data = api(client, path, status=404)
    assert path in data["error"]
