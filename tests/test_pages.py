"""The public pages through Django's test client: real SQLite, a real Whoosh index.

Each test reads a page as a visitor would get it and checks what they would
notice: the right articles, counts and links, Arabic right-to-left markup,
friendly answers to bad addresses, and imported text shown as text.
"""
import datetime
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import RequestFactory

from articles.models import Article, Source, Topic
from tests.factories import make_article
from tests.test_web_fixtures import (  # noqa: F401  (fixtures)
    HOSTILE_TITLE,
    ODD_QUERIES,
    archive,
    assert_safe_markup,
    main_of,
    text_of,
)

pytestmark = pytest.mark.django_db

PAGE_SIZE = 20


def get_page(client, url, status=200, **params):
    response = client.get(url, params)
    assert response.status_code == status, f"{url} {params} answered {response.status_code}"
    return response.content.decode()


def hrefs(html):
    return [href.replace("&amp;", "&") for href in re.findall(r'href="([^"]*)"', html)]


def query_of(href):
    return {key: values[-1] for key, values in parse_qs(urlsplit(href).query).items()}


def result_titles(html):
    """Titles of the search results, as read."""
    return [text_of(t) for t in re.findall(r'<h2 class="card-title"><a [^>]*>(.*?)</a></h2>', html, re.S)]


def public_urls(archive):
    source = Source.objects.get(name="BBC Arabic")
    topic = Topic.objects.get(name="سياسة")
    return [
        "/",
        "/search/",
        "/search/?q=المفاوضات",
        "/search/?q=كلمةلاتوجدابدا",
        archive["talks"].get_absolute_url(),
        "/sources/",
        source.get_absolute_url(),
        "/topics/",
        topic.get_absolute_url(),
        "/archive/",
        "/archive/2018/",
        "/archive/2018/3/",
        "/about/",
    ]


# ---------------------------------------------------------------------------
# Every page


def test_every_page_is_arabic_right_to_left_with_its_own_title(client, archive):
    titles = set()
    for url in public_urls(archive):
        html = get_page(client, url)
        assert re.search(r'<html lang="ar" dir="rtl">', html), url
        title = re.search(r"<title>(.*?)</title>", html, re.S).group(1).strip()
        assert title and "نيوزروم" in title, url
        titles.add(title)
        assert html.count("<h1") == 1, f"{url} has {html.count('<h1')} h1 headings"
        assert '<main id="main"' in html and 'href="#main"' in html, url
        assert re.search(r'<nav class="site-nav" aria-label="[^"]+"', html)
        # The header's search box, labelled, on every page.
        assert re.search(r'<label class="visually-hidden" for="site-q">[^<]+</label>', html), url
        assert 'name="q"' in html
        assert 'rel="icon"' in html
        # The footer credits the data.
        assert "ANT Corpus" in html, url
    assert len(titles) == len(public_urls(archive)), "two pages share a title"


def test_pages_have_no_inline_script_or_style_and_load_nothing_from_elsewhere(client, archive):
    for url in public_urls(archive) + ["/no-such-page/"]:
        response = client.get(url)
        assert_safe_markup(response.content.decode())


def test_interface_is_translated_to_arabic(client, archive):
    html = get_page(client, "/")
    for arabic in ("الرئيسية", "المواضيع", "المصادر", "الأرشيف", "أحدث المقالات", "ابحث"):
        assert arabic in html
    for english in ("Latest articles", "Skip to content", "Main navigation", "Search the archive"):
        assert english not in html


def test_main_navigation_marks_the_current_section(client, archive):
    html = get_page(client, "/topics/")
    assert re.search(r'<a href="/topics/" aria-current="page">', html)
    topic = Topic.objects.get(name="سياسة")
    html = get_page(client, topic.get_absolute_url())
    assert re.search(r'<a href="/topics/" aria-current="true">', html)
    assert 'aria-current="page"' not in html.split("</nav>")[0].replace('href="/topics/" aria-current="true"', "")


# ---------------------------------------------------------------------------
# Home and browsing


def test_home_lists_latest_articles_topics_and_sources_with_counts(client, archive):
    html = get_page(client, "/")
    main = main_of(html)
    latest = main.split('id="latest-title"')[1]
    positions = [latest.find(archive[name].get_absolute_url()) for name in ("summit", "hostile", "talks", "match")]
    assert all(p > 0 for p in positions) and positions == sorted(positions), "latest articles not newest first"
    assert re.search(r'<a href="/topics/%D8%B3%D9%8A%D8%A7%D8%B3%D8%A9/"><bdi>سياسة</bdi> <span class="count">3</span>', main)
    assert re.search(r'<a href="/sources/bbc-arabic/"><bdi>BBC Arabic</bdi> <span class="count">2</span>', main)
    assert 'role="search"' in main and 'name="q"' in main


def test_dates_are_shown_with_arabic_month_names(client, archive):
    html = get_page(client, archive["summit"].get_absolute_url())
    assert '<time class="date" datetime="2018-08-15">15 أغسطس 2018</time>' in html
    html = get_page(client, "/archive/2018/3/")
    assert "<h1>مارس 2018</h1>" in html


def test_latin_source_names_are_isolated_in_arabic_text(client, archive):
    for url in ("/", "/search/?q=المفاوضات", archive["talks"].get_absolute_url(), "/sources/"):
        html = get_page(client, url)
        assert "<bdi>BBC Arabic</bdi>" in html, url
        assert not re.search(r">\s*BBC Arabic", html.replace("<bdi>BBC Arabic", "")), url


def test_source_page_lists_only_its_articles(client, archive):
    html = get_page(client, "/sources/bbc-arabic/")
    main = main_of(html)
    assert "<h1><bdi>BBC Arabic</bdi></h1>" in main
    assert archive["talks"].get_absolute_url() in main and archive["summit"].get_absolute_url() in main
    assert archive["match"].get_absolute_url() not in main
    assert "مقالتان" in main  # "2 articles", in Arabic grammar
    search_link = [h for h in hrefs(main) if h.startswith("/search/")]
    assert search_link and query_of(search_link[0]) == {"source": "bbc-arabic"}


def test_topic_page_and_topic_list(client, archive):
    topic = Topic.objects.get(name="سياسة")
    html = get_page(client, topic.get_absolute_url())
    main = main_of(html)
    for name in ("talks", "summit", "hostile"):
        assert archive[name].get_absolute_url() in main
    assert archive["match"].get_absolute_url() not in main
    listing = main_of(get_page(client, "/topics/"))
    assert listing.index("دولية") < listing.index("رياضة") < listing.index("سياسة")  # by name
    assert "3 مقالات" in listing and "مقالة واحدة" in listing


def test_unknown_source_or_topic_is_a_404(client, archive):
    get_page(client, "/sources/no-such-outlet/", status=404)
    get_page(client, "/topics/لا-يوجد/", status=404)


def test_archive_lists_years_and_months_with_counts(client, archive):
    main = main_of(get_page(client, "/archive/"))
    assert main.index('href="/archive/2018/"') < main.index('href="/archive/2017/"')
    assert re.search(r'href="/archive/2018/3/">مارس <span class="count">2</span>', main)
    assert re.search(r'href="/archive/2018/8/">أغسطس <span class="count">1</span>', main)
    assert re.search(r'href="/archive/2017/5/">مايو <span class="count">1</span>', main)

    year = main_of(get_page(client, "/archive/2018/"))
    assert archive["summit"].get_absolute_url() in year
    assert archive["match"].get_absolute_url() not in year

    month = main_of(get_page(client, "/archive/2018/3/"))
    assert archive["talks"].get_absolute_url() in month and archive["hostile"].get_absolute_url() in month
    assert archive["summit"].get_absolute_url() not in month
    # Neighbouring months that have articles.
    assert 'href="/archive/2017/5/"' in month and 'href="/archive/2018/8/"' in month


@pytest.mark.parametrize(
    "url", ["/archive/2016/", "/archive/0/", "/archive/99999999/", "/archive/2018/13/", "/archive/2018/0/",
            "/archive/2018/2/", "/archive/99999/99999/", "/archive/10000/1/"]
)
def test_archive_of_a_date_without_articles_is_a_404(client, archive, url):
    get_page(client, url, status=404)


def test_listings_are_paginated_and_bad_page_numbers_fall_back(client, db):
    for n in range(PAGE_SIZE + 5):
        make_article(title=f"خبر رقم {n}", source="وكالة الأنباء", published=datetime.date(2018, 1, 1) + datetime.timedelta(days=n))
    url = Source.objects.get(name="وكالة الأنباء").get_absolute_url()

    first = main_of(get_page(client, url))
    assert first.count('class="card"') == PAGE_SIZE
    assert "خبر رقم 24" in first and "خبر رقم 4<" not in first  # newest first
    assert re.search(r'<span class="pager-current" aria-current="page">.*?1</span>', first)
    next_link = re.search(r'<a class="pager-step" rel="next" href="([^"]+)"', first).group(1)
    assert query_of(next_link.replace("&amp;", "&")) == {"page": "2"}

    second = main_of(get_page(client, url, page=2))
    assert second.count('class="card"') == 5
    assert 'rel="prev"' in second and 'rel="next"' not in second

    for bad, expected in (("abc", first), ("0", first), ("-3", first), ("1e9", first), ("99999", second)):
        assert main_of(get_page(client, url, page=bad)) == expected, bad


def test_listing_pages_cost_the_same_queries_whatever_their_size(client, db, django_assert_max_num_queries):
    def queries(url):
        from django.core.cache import cache
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        cache.clear()  # the view's own cost, not the page cache's
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    make_article(title="أول خبر", source="وكالة", topics=["سياسة", "اقتصاد"])
    urls = ["/", "/sources/وكالة/", "/topics/سياسة/", "/archive/2018/", "/archive/2018/5/", "/topics/", "/sources/", "/archive/"]
    small = {url: queries(url) for url in urls}
    for n in range(30):
        make_article(title=f"خبر {n}", source=f"وكالة {n % 3}" if n % 2 else "وكالة", topics=["سياسة", f"موضوع {n % 4}"])
    large = {url: queries(url) for url in urls}
    assert large == small
    assert max(large.values()) <= 8, large


def test_a_search_page_reads_only_its_hits_from_the_database(client, archive):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.engines import page_queries

    url = "/search/?q=" + "المفاوضات"
    assert client.get(url).status_code == 200  # the facets' labels, kept until the archive changes
    with CaptureQueriesContext(connection) as captured:
        page = client.get(url + "&page=1")  # the same hits, not yet a page in the cache
    assert "<mark>" in page.content.decode()
    assert len(page_queries(captured)) == 1, page_queries(captured)


def test_browsing_pages_are_kept_until_the_archive_changes(client, search_index, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        article = make_article(title="خبر أول عن الأمطار", source="وكالة", topics=["طقس"])
    urls = ["/", "/sources/وكالة/", "/topics/طقس/", "/archive/2018/", "/archive/"]
    before = {url: get_page(client, url) for url in urls}
    assert all("خبر أول عن الأمطار" in before[url] for url in urls[:4])

    # A write that bypasses the application (no save(), no index commit) is
    # not seen: the pages come from the cache, unchanged.
    Article.objects.filter(pk=article.pk).update(title="عنوان لم يمر بالتطبيق")
    assert {url: get_page(client, url) for url in urls} == before

    # A save through the application changes the archive: every page is fresh.
    with django_capture_on_commit_callbacks(execute=True):
        article.title = "خبر معدل عن الأمطار"
        article.save()
        make_article(title="خبر ثان عن الرياح", source="وكالة", topics=["طقس"])
    after = {url: get_page(client, url) for url in urls}
    for url in urls[:4]:
        assert "خبر معدل عن الأمطار" in after[url] and "خبر ثان عن الرياح" in after[url], url
    assert after["/archive/"] != before["/archive/"]  # the month counts moved


def test_search_pages_are_kept_for_every_worker_until_the_archive_changes(
    client, admin_client, search_index, django_capture_on_commit_callbacks
):
    from django.core.cache import caches

    with django_capture_on_commit_callbacks(execute=True):
        article = make_article(title="أمطار غزيرة في الشمال", source="وكالة")
    url = "/search/?q=" + "أمطار"
    before = text_of(get_page(client, url))
    assert "أمطار غزيرة في الشمال" in before

    # A write that bypasses the application is not seen, even by a worker
    # whose own memory is empty: the page is in the cache they all read.
    Article.objects.filter(pk=article.pk).update(title="عنوان لم يمر بالتطبيق")
    caches["default"].clear()
    assert text_of(get_page(client, url)) == before
    # A signed-in editor gets the page made again.
    assert "عنوان لم يمر بالتطبيق" in text_of(get_page(admin_client, url))

    # A save through the application changes the archive: the next search
    # finds the new article and the edited title.
    with django_capture_on_commit_callbacks(execute=True):
        article.title = "أمطار غزيرة في الجنوب"
        article.save()
        make_article(title="أمطار خفيفة على الساحل", source="وكالة")
    after = text_of(get_page(client, url))
    assert "أمطار غزيرة في الجنوب" in after and "أمطار خفيفة على الساحل" in after
    assert "أمطار غزيرة في الشمال" not in after


def test_a_search_page_with_a_problem_is_made_fresh_each_time(client, search_index, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        article = make_article(title="أمطار غزيرة في الشمال")
    url = "/search/?q=" + "أمطار" + "&page=abc"
    assert "أمطار غزيرة في الشمال" in text_of(get_page(client, url, status=400))
    Article.objects.filter(pk=article.pk).update(title="أمطار لم تمر بالتطبيق")
    assert "أمطار لم تمر بالتطبيق" in text_of(get_page(client, url, status=400))


def test_a_broken_shared_cache_costs_speed_not_pages(client, archive, monkeypatch, caplog):
    """A full disk or a damaged file under var/cache/shared: pages are made
    as if nothing were cached, and the log says why they are slower."""
    import sqlite3

    from django.core.cache import caches

    def broken(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    shared = caches["shared"]
    monkeypatch.setattr(shared, "get", broken)
    monkeypatch.setattr(shared, "set", broken)
    results = text_of(get_page(client, "/search/?q=" + "المفاوضات"))
    assert archive["talks"].title in results and archive["summit"].title in results
    article_page = get_page(client, archive["talks"].get_absolute_url())
    related = re.search(r'<section class="related".*?</section>', article_page, re.S)
    assert related and archive["summit"].title in text_of(related.group(0))
    assert "the shared cache could not be read" in caplog.text


def test_a_damaged_cached_page_is_made_again(client, archive, monkeypatch, caplog):
    from django.core.cache import caches

    shared = caches["shared"]
    real_get = shared.get

    def damaged(key, default=None, **kwargs):
        return (b"not a compressed page", "text/html", None) if ":page:" in key else real_get(key, default, **kwargs)

    monkeypatch.setattr(shared, "get", damaged)
    results = text_of(get_page(client, "/search/?q=" + "المفاوضات"))
    assert archive["talks"].title in results
    assert "a damaged page in the shared cache" in caplog.text


def test_a_signed_in_editor_gets_pages_fresh(admin_client, search_index, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        article = make_article(title="خبر أول عن الأمطار")
    assert "خبر أول عن الأمطار" in get_page(admin_client, "/")
    Article.objects.filter(pk=article.pk).update(title="عنوان لم يمر بالتطبيق")
    assert "عنوان لم يمر بالتطبيق" in get_page(admin_client, "/")


def test_about_page_credits_the_corpus(client, db):
    html = get_page(client, "/about/")
    assert 'href="https://antcorpus.github.io"' in html
    for paper in ("ANT Corpus: An Arabic News Text Collection for Textual Classification",
                  "An Arabic Multi-source News Corpus", "Events Extraction from Arabic News Corpus"):
        assert paper in html
    assert "Chouigui" in html
    assert 'id="credits"' in html and 'href="/about/#credits"' in html
    assert "SIL Open Font License" in html


def test_health_check(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


def test_health_check_reports_a_database_that_does_not_answer(client, db, monkeypatch):
    from django.db import DatabaseError
    from django.db.models import QuerySet

    def broken(self):
        raise DatabaseError("disk I/O error")

    monkeypatch.setattr(QuerySet, "exists", broken)
    response = client.get("/healthz")
    assert response.status_code == 503


# ---------------------------------------------------------------------------
# Errors


def test_missing_page_is_an_arabic_404_through_the_base(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert "الصفحة غير موجودة" in html and 'href="/static/css/newsroom.css"' in html
    assert 'href="/archive/"' in html


def test_server_error_page_needs_neither_request_context_nor_database(db, django_assert_num_queries):
    from articles.views.errors import server_error

    request = RequestFactory().get("/")
    with django_assert_num_queries(0):
        response = server_error(request)
    html = response.content.decode()
    assert response.status_code == 500
    assert '<html lang="ar" dir="rtl">' in html
    assert "عذرًا، حدث خطأ من جهتنا" in html
    assert 'href="/static/css/newsroom.css"' in html


def test_an_exception_in_a_view_gives_the_arabic_500_page(db, monkeypatch):
    from django.test import Client

    def broken():
        raise RuntimeError("a bug")

    monkeypatch.setattr("articles.views.browse.topics_with_counts", broken)
    response = Client(raise_request_exception=False).get("/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "عذرًا، حدث خطأ من جهتنا" in html and '<html lang="ar" dir="rtl">' in html
    assert "RuntimeError" not in html and "Traceback" not in html


def test_a_broken_search_index_gives_a_page_saying_so(client, archive, monkeypatch):
    def broken(search_request):
        raise OSError("index directory is gone")

    monkeypatch.setattr("articles.views.search.search_articles", broken)
    response = client.get("/search/", {"q": "مفاوضات"})
    assert response.status_code == 503
    html = response.content.decode()
    assert "البحث غير متاح الآن" in html and 'href="/topics/"' in html


# ---------------------------------------------------------------------------
# Imported text is text


def test_script_in_a_title_is_escaped_on_every_page(client, archive):
    hostile = archive["hostile"]
    topic = Topic.objects.get(name="سياسة")
    source = hostile.source
    for url in ("/", f"/search/?q={hostile.title}", "/search/?q=المفاوضات", hostile.get_absolute_url(),
                topic.get_absolute_url(), source.get_absolute_url(), "/archive/2018/3/", "/archive/2018/"):
        html = get_page(client, url)
        assert HOSTILE_TITLE not in html, url
        assert "<script>alert" not in html, url
        # ...and shown as the text it is.
        assert HOSTILE_TITLE in text_of(main_of(html)), url
        assert_safe_markup(html)


def test_a_javascript_url_is_never_a_link(client, archive):
    html = get_page(client, archive["hostile"].get_absolute_url())
    assert "javascript:" not in html


# ---------------------------------------------------------------------------
# Search


def test_search_finds_an_inflected_form_and_highlights_it(client, archive):
    html = get_page(client, "/search/", q="مفاوضات")
    main = main_of(html)
    titles = result_titles(main)
    assert archive["talks"].title in titles
    assert "<mark>المفاوضات</mark> بين موسكو وكييف تتعثر" in main
    assert re.search(r'<p class="snippet">[^<]*<mark>مفاوضات</mark>', main)
    assert f'href="{archive["talks"].get_absolute_url()}"' in main
    # The query stays in the box and the page states the count.
    assert 'value="مفاوضات"' in html
    count = len(titles)
    assert re.search(rf"<p class=\"result-count\">{count} (نتيجة|نتائج)</p>", main)


def test_hamza_variant_finds_and_highlights(client, archive):
    main = main_of(get_page(client, "/search/", q="آلاسكا"))
    assert "قمة <mark>ألاسكا</mark> بين ترامب وبوتين" in main


def test_facets_offer_counts_and_filter(client, archive):
    main = main_of(get_page(client, "/search/", q="المفاوضات"))
    source_links = {query_of(h).get("source"): h for h in hrefs(main) if "source=" in h}
    assert "bbc-arabic" in source_links
    assert re.search(r"<bdi>BBC Arabic</bdi> <span class=\"count\">2</span>", main)

    filtered = main_of(get_page(client, "/search/" + source_links["bbc-arabic"]))
    titles = result_titles(filtered)
    assert titles and all(t in (archive["talks"].title, archive["summit"].title) for t in titles)
    assert text_of(HOSTILE_TITLE) not in titles
    # The chosen source is shown and can be removed in one click, keeping the query.
    remove = [h for h in hrefs(filtered) if "source=" not in h and query_of(h).get("q") == "المفاوضات"
              and "page" not in query_of(h) and "sort" not in query_of(h)]
    assert remove, "no link removes the source filter"
    assert "المصدر:" in filtered and "<bdi>BBC Arabic</bdi>" in filtered


def test_topic_and_year_filters(client, archive):
    main = main_of(get_page(client, "/search/", q="المفاوضات", topic="دولية"))
    assert result_titles(main) == [archive["summit"].title]
    main = main_of(get_page(client, "/search/", q="المفاوضات", year="2018"))
    assert archive["talks"].title in result_titles(main)
    main = main_of(get_page(client, "/search/", q="الأهلي", year="2018"))
    assert result_titles(main) == []
    assert "لا توجد مقالات مطابقة" in main
    assert "بعض عوامل التصفية مستعملة" in main


def test_filters_without_words_list_the_filtered_articles(client, archive):
    main = main_of(get_page(client, "/search/", source="سكاي-نيوز-عربية"))
    titles = result_titles(main)
    assert archive["match"].title in titles and len(titles) == 2


def test_sort_by_newest(client, archive):
    main = main_of(get_page(client, "/search/", q="المفاوضات", sort="newest"))
    titles = result_titles(main)
    dates = [Article.objects.get(title=t if t != text_of(HOSTILE_TITLE) else HOSTILE_TITLE).published for t in titles]
    assert dates == sorted(dates, reverse=True) and len(dates) >= 3
    assert re.search(r'<a href="[^"]*sort=newest[^"]*" aria-current="true">', main)


def test_search_results_are_paginated(client, search_index, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(PAGE_SIZE + 3):
            make_article(title=f"اجتماع المجلس رقم {n}", body=f"عقد المجلس اجتماعه رقم {n} لمناقشة الميزانية.")
    first = main_of(get_page(client, "/search/", q="المجلس"))
    assert len(result_titles(first)) == PAGE_SIZE
    assert re.search(r"<p class=\"result-count\">23 نتيجة</p>", first)
    next_href = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert query_of(next_href) == {"q": "المجلس", "page": "2"}
    second = main_of(get_page(client, "/search/" + next_href))
    assert len(result_titles(second)) == 3
    assert not set(result_titles(first)) & set(result_titles(second))
    assert re.search(r'aria-current="page"><span class="visually-hidden">[^<]+</span>2</span>', second)
    # Past the last page: a friendly page, not an error.
    past = main_of(get_page(client, "/search/", q="المجلس", page=9))
    assert "ليس للنتائج إلا صفحتان" in past
    assert re.search(r'<a href="\?q=%D8%A7%D9%84%D9%85%D8%AC%D9%84%D8%B3">', past)


def test_empty_query_gets_a_helpful_page(client, archive):
    html = get_page(client, "/search/", q="")
    main = main_of(html)
    assert "نصائح للبحث" in main
    assert 'href="/topics/%D8%B3%D9%8A%D8%A7%D8%B3%D8%A9/"' in main
    assert 'href="/sources/bbc-arabic/"' in main
    assert 'name="q"' in main


def test_no_hits_offers_a_suggestion_and_tips(client, archive):
    main = main_of(get_page(client, "/search/", q="المفاوصات"))  # ض typed as ص
    assert "لا توجد مقالات مطابقة" in main and "نصائح للبحث" in main
    suggestion = re.search(r'هل تقصد <a href="([^"]+)"><bdi>([^<]+)</bdi></a>؟', main)
    assert suggestion, "no 'did you mean' suggestion"
    href, text = suggestion.group(1).replace("&amp;", "&"), suggestion.group(2)
    assert query_of(href)["q"] == text
    assert archive["talks"].title in result_titles(main_of(get_page(client, "/search/" + href)))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"page": "abc"}, "«<bdi>abc</bdi>» ليس رقم صفحة"),
        ({"year": "zz"}, "«<bdi>zz</bdi>» ليست سنة"),
        ({"sort": "oldest"}, "ليس ترتيبًا معروفًا"),
        ({"source": "a/b"}, "ليس مصدرًا صالحًا"),
        ({"topic": "x" * 300}, "ليس موضوعًا صالحًا"),
        ({"page": "0"}, "ليس رقم صفحة"),
        ({"page": "99999999999999999999"}, "ليس رقم صفحة"),
    ],
)
def test_bad_parameters_are_named_and_the_rest_still_searches(client, archive, params, message):
    response = client.get("/search/", {"q": "المفاوضات", **params})
    assert response.status_code == 400
    main = main_of(response.content.decode())
    assert message in main
    assert archive["talks"].title in result_titles(main)
    # The links of the page do not carry the bad value on.
    bad_value = next(iter(params.values()))
    for href in hrefs(main):
        assert bad_value not in query_of(href).values(), href


@pytest.mark.parametrize("query", ODD_QUERIES, ids=range(len(ODD_QUERIES)))
def test_any_query_text_gets_a_page(client, archive, query):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1" in html and 'dir="rtl"' in html
    assert "<script>alert(1)" not in html
    assert_safe_markup(html)


def test_repeated_and_unknown_parameters_are_ignored(client, archive):
    response = client.get("/search/?q=x&q=المفاوضات&utm_source=mail&page=1&page=1")
    assert response.status_code == 200
    main = main_of(response.content.decode())
    assert archive["talks"].title in result_titles(main)
    assert "utm_source" not in main
