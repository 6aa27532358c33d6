"""The search service end to end: real articles, a real Whoosh index on disk."""
import datetime

import pytest

from articles.models import Article, Topic
from articles.search import service
from articles.search.service import SearchRequest, SearchRequestError, parse_search_request

pytestmark = pytest.mark.django_db


@pytest.fixture
def archive(search_index, make_article, django_capture_on_commit_callbacks):
    """A small archive saved the way the admin or the importer saves it."""
    with django_capture_on_commit_callbacks(execute=True):
        talks = make_article(
            title="المفاوضات بين موسكو وكييف تتعثر",
            body="تعثرت مفاوضات السلام بين روسيا وأوكرانيا.\nوقال المفاوضون إن الجولة المقبلة في إسطنبول.",
            source="سكاي نيوز عربية",
            topics=["سياسة"],
            published=datetime.date(2018, 3, 1),
        )
        summit = make_article(
            title="قمة ألاسكا بين ترامب وبوتين",
            body="التقى الرئيسان في آلاسكا لبحث الحرب في أوكرانيا والمفاوضات المقبلة.",
            source="بي بي سي عربي",
            topics=["سياسة", "دولية"],
            published=datetime.date(2018, 8, 15),
        )
        match = make_article(
            title="الأهلي يفوز بالمباراة النهائية",
            body="فاز الأهلي على الزمالك بهدفين في المباراة النهائية للكأس.",
            source="سكاي نيوز عربية",
            topics=["رياضة"],
            published=datetime.date(2017, 5, 20),
        )
    return {"talks": talks, "summit": summit, "match": match}


def titles(page):
    return [hit.article.title for hit in page.hits]


def test_inflected_form_finds_article_and_is_highlighted(archive):
    page = service.search_articles(SearchRequest(q="مفاوضات"))
    assert archive["talks"].title in titles(page)
    talks_hit = next(hit for hit in page.hits if hit.article == archive["talks"])
    assert "<mark>المفاوضات</mark>" in talks_hit.title_html
    assert "<mark>مفاوضات</mark>" in talks_hit.snippet


def test_title_match_ranks_above_body_match(archive):
    page = service.search_articles(SearchRequest(q="المفاوضات"))
    assert titles(page)[0] == archive["talks"].title
    assert archive["summit"].title in titles(page)


def test_hamza_variant_in_query_matches_and_highlights(archive):
    page = service.search_articles(SearchRequest(q="آلاسكا"))
    assert titles(page) == [archive["summit"].title]
    assert "<mark>ألاسكا</mark>" in page.hits[0].title_html
    assert "<mark>آلاسكا</mark>" in page.hits[0].snippet


def test_facets_count_every_match_and_filters_narrow(archive):
    page = service.search_articles(SearchRequest(q="أوكرانيا"))
    assert page.total == 2
    sources = {facet.label: facet.count for facet in page.facets["source"]}
    assert sources == {"سكاي نيوز عربية": 1, "بي بي سي عربي": 1}
    years = {facet.value: facet.count for facet in page.facets["year"]}
    assert years == {"2018": 2}

    summit_source = archive["summit"].source.slug
    narrowed = service.search_articles(SearchRequest(q="أوكرانيا", source=summit_source))
    assert titles(narrowed) == [archive["summit"].title]
    assert [f.selected for f in narrowed.facets["source"]] == [True]


def test_topic_and_year_filters_without_query_list_newest_first(archive):
    politics = Topic.objects.get(name="سياسة")
    page = service.search_articles(SearchRequest(topic=politics.slug))
    assert titles(page) == [archive["summit"].title, archive["talks"].title]
    by_year = service.search_articles(SearchRequest(year=2017))
    assert titles(by_year) == [archive["match"].title]


def test_sort_newest(archive):
    page = service.search_articles(SearchRequest(q="المفاوضات", sort="newest"))
    assert titles(page) == [archive["summit"].title, archive["talks"].title]


def test_phrase_prefix_and_exclusion(archive):
    assert titles(service.search_articles(SearchRequest(q='"المباراة النهائية"'))) == [archive["match"].title]
    assert titles(service.search_articles(SearchRequest(q='"النهائية المباراة"'))) == []
    assert archive["talks"].title in titles(service.search_articles(SearchRequest(q="مفاوض*")))
    excluded = service.search_articles(SearchRequest(q="أوكرانيا -ترامب"))
    assert titles(excluded) == [archive["talks"].title]


def test_pagination(search_index, make_article, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(25):
            make_article(title=f"خبر الاقتصاد رقم {n}", body="ارتفعت أسعار النفط في الأسواق العالمية.")
    first = service.search_articles(SearchRequest(q="النفط", page=1, page_size=10))
    third = service.search_articles(SearchRequest(q="النفط", page=3, page_size=10))
    assert (first.total, first.num_pages, len(first.hits), len(third.hits)) == (25, 3, 10, 5)
    assert first.has_next and not first.has_previous
    assert not third.has_next and third.has_previous
    assert not set(titles(first)) & set(titles(third))
    beyond = service.search_articles(SearchRequest(q="النفط", page=9, page_size=10))
    assert beyond.hits == [] and beyond.total == 25


def test_a_page_of_hits_is_read_from_the_database_in_one_query(search_index, make_article, django_capture_on_commit_callbacks):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.engines import page_queries

    with django_capture_on_commit_callbacks(execute=True):
        for n in range(12):
            make_article(title=f"خبر النفط رقم {n}", source=f"وكالة {n % 4}", topics=["اقتصاد", f"موضوع {n}"])
    service.search_articles(SearchRequest(q="النفط"))  # the facets' labels, kept until the archive changes
    with CaptureQueriesContext(connection) as captured:
        page = service.search_articles(SearchRequest(q="النفط", page_size=10))
        sources = [hit.article.source.name for hit in page.hits]  # no query more for the sources
    assert len(page.hits) == 10
    assert sorted(set(sources)) == [f"وكالة {n}" for n in range(4)]
    assert len(page_queries(captured)) == 1, page_queries(captured)


@pytest.mark.parametrize(
    "text",
    ['"', "(((", "AND OR NOT", "title:foo", "*", "-", "+", "😀🔥", "a" * 5000, "ترامب) OR (", "\x00", "[ { <"],
)
def test_odd_queries_answer_without_error(archive, text):
    page = service.search_articles(parse_search_request({"q": text}))
    assert page.total >= 0


def test_stop_words_only_query_finds_nothing(archive):
    page = service.search_articles(SearchRequest(q="في من على"))
    assert page.total == 0 and page.hits == []


@pytest.mark.parametrize(
    "params",
    [{"page": "abc"}, {"page": "0"}, {"page": "-3"}, {"year": "20x8"}, {"sort": "random"}, {"topic": "a b"}],
)
def test_bad_parameters_raise_a_readable_error(params):
    with pytest.raises(SearchRequestError) as error:
        parse_search_request(params)
    assert str(error.value)


def test_spelling_suggestion_for_a_misspelled_word(archive):
    page = service.search_articles(SearchRequest(q="المفاوظات"))
    assert page.total == 0
    assert page.suggestion and "مفاوض" in page.suggestion


def test_no_suggestion_is_worked_out_when_the_search_finds_articles(archive, monkeypatch):
    """The page offers "did you mean" only where nothing matched; a search
    that finds articles does not pay for a walk of the term dictionary."""
    walks = []
    real = service._better_spelling
    monkeypatch.setattr(service, "_better_spelling", lambda *args: walks.append(args) or real(*args))

    found = service.search_articles(SearchRequest(q="المفاوظات الأهلي"))
    assert found.total > 0 and found.suggestion is None and walks == []

    nothing = service.search_articles(SearchRequest(q="المفاوظات"))
    assert nothing.total == 0 and "مفاوض" in nothing.suggestion and walks


def test_related_stories_exclude_the_article_and_share_its_subject(archive):
    related = service.related_articles(archive["talks"])
    assert archive["talks"] not in related
    assert archive["summit"] in related
    assert archive["match"] not in related


def test_edits_and_deletes_reach_the_index(archive, django_capture_on_commit_callbacks):
    match = archive["match"]
    with django_capture_on_commit_callbacks(execute=True):
        match.title = "الأهلي يحتفل بالكأس"
        match.save()
    assert titles(service.search_articles(SearchRequest(q="يحتفل"))) == [match.title]

    with django_capture_on_commit_callbacks(execute=True):
        Article.objects.filter(pk=match.pk).delete()
    assert service.search_articles(SearchRequest(q="الأهلي")).total == 0


def test_topic_added_later_is_found_by_topic_filter(archive, django_capture_on_commit_callbacks):
    economy, _ = Topic.objects.get_or_create(name="اقتصاد")
    with django_capture_on_commit_callbacks(execute=True):
        archive["match"].topics.add(economy)
    assert titles(service.search_articles(SearchRequest(topic=economy.slug))) == [archive["match"].title]
    with django_capture_on_commit_callbacks(execute=True):
        economy.articles.remove(archive["match"])
    assert service.search_articles(SearchRequest(topic=economy.slug)).total == 0
