"""The admin as an editor uses it: Arabic and right to left, filters, search,
autocomplete, bulk topic actions, duplicate checks, and search kept in step."""
import datetime
import re

import pytest
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from articles.models import Article, Source, Topic
from articles.search.service import SearchRequest, search_articles
from tests.factories import make_article

CHANGELIST = "admin:articles_article_changelist"


def changelist_url(**params):
    from urllib.parse import urlencode

    url = reverse(CHANGELIST)
    return f"{url}?{urlencode(params)}" if params else url


def titles_in(response):
    """The titles listed in a changelist page, in order."""
    return [article.title for article in response.context["cl"].result_list]


def topic_search(slug):
    """Titles a topic-filtered search finds (the search page and API call the same)."""
    page = search_articles(SearchRequest(q="", topic=slug, page_size=100))
    return {hit.article.title for hit in page.hits}


@pytest.fixture
def archive(db):
    """A small archive: two outlets, two topics, three years."""
    economy = Topic.objects.create(name="اقتصاد", slug="اقتصاد")
    politics = Topic.objects.create(name="سياسة", slug="سياسة")
    return {
        "oil": make_article(
            title="أسعار النفط ترتفع في الأسواق العالمية",
            body="ارتفعت أسعار النفط اليوم بعد قرار خفض الإنتاج.",
            source="الجزيرة",
            topics=["اقتصاد"],
            published=datetime.date(2019, 3, 4),
        ),
        "talks": make_article(
            title="استئناف المفاوضات بين الطرفين",
            body="أعلن الوسطاء استئناف المفاوضات الأسبوع المقبل.",
            source="الجزيرة",
            topics=["سياسة"],
            published=datetime.date(2020, 7, 9),
        ),
        "budget": make_article(
            title="البرلمان يناقش الموازنة العامة",
            body="ناقش البرلمان مشروع الموازنة العامة للدولة.",
            source="الثورة نت",
            published=datetime.date(2021, 1, 15),
        ),
        "economy": economy,
        "politics": politics,
    }


# ---------------------------------------------------------------------------
# Language, direction, access


def test_changelist_is_arabic_and_right_to_left(admin_client, archive):
    response = admin_client.get(reverse(CHANGELIST))
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'<html[^>]*lang="ar"[^>]*dir="rtl"', html)
    assert "إدارة نيوزروم" in html  # site header
    assert "المقالات" in html  # verbose_name_plural
    assert "تاريخ النشر" in html  # a column title from the model's field
    assert "إضافة موضوع إلى المقالات المحددة" in html  # the bulk action
    # Dates with Arabic month names (Django's ar formats).
    assert "مارس" in html or "آذار" in html


def test_admin_index_has_arabic_titles(admin_client, archive):
    html = admin_client.get(reverse("admin:index")).content.decode()
    assert 'dir="rtl"' in html
    assert "إدارة الأرشيف" in html
    assert "المواضيع" in html and "المصادر" in html


def test_non_staff_user_is_sent_to_the_login_page(client, archive):
    user = get_user_model().objects.create_user("reader", password="a-long-password-1")
    client.force_login(user)
    url = reverse(CHANGELIST)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    # Nor can such a user run an action by posting.
    response = client.post(url, {"action": "add_topic", helpers.ACTION_CHECKBOX_NAME: [archive["oil"].pk]})
    assert response.status_code == 302
    assert archive["oil"].topics.count() == 1


def test_anonymous_visitor_is_sent_to_the_login_page(client, archive):
    response = client.get(reverse("admin:articles_article_change", args=[archive["oil"].pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


# ---------------------------------------------------------------------------
# Finding stories: filters, date hierarchy, search


def test_filter_by_source(admin_client, archive):
    source = Source.objects.get(name="الثورة نت")
    response = admin_client.get(changelist_url(source__id__exact=source.pk))
    assert titles_in(response) == ["البرلمان يناقش الموازنة العامة"]


def test_filter_by_topic_and_by_no_topic(admin_client, archive):
    response = admin_client.get(changelist_url(topics__id__exact=archive["economy"].pk))
    assert titles_in(response) == ["أسعار النفط ترتفع في الأسواق العالمية"]
    response = admin_client.get(changelist_url(topics__isnull="True"))
    assert titles_in(response) == ["البرلمان يناقش الموازنة العامة"]


def test_filter_by_date(admin_client, archive):
    response = admin_client.get(changelist_url(published__year=2020))
    assert titles_in(response) == ["استئناف المفاوضات بين الطرفين"]
    response = admin_client.get(changelist_url(published__gte="2020-01-01", published__lt="2022-01-01"))
    assert titles_in(response) == ["البرلمان يناقش الموازنة العامة", "استئناف المفاوضات بين الطرفين"]


def test_newest_first_and_undated_last(admin_client, archive):
    make_article(title="مقال بلا تاريخ", published=None)
    Article.objects.filter(title="مقال بلا تاريخ").update(published=None)
    titles = titles_in(admin_client.get(reverse(CHANGELIST)))
    assert titles[0] == "البرلمان يناقش الموازنة العامة"
    assert titles[-1] == "مقال بلا تاريخ"


def test_search_by_title_and_by_source_name(admin_client, archive):
    response = admin_client.get(changelist_url(q="المفاوضات"))
    assert titles_in(response) == ["استئناف المفاوضات بين الطرفين"]
    response = admin_client.get(changelist_url(q="الثورة"))
    assert titles_in(response) == ["البرلمان يناقش الموازنة العامة"]


def test_search_by_original_url(admin_client, archive):
    make_article(title="خبر له رابط", url="https://example.com/news/1")
    response = admin_client.get(changelist_url(q="https://example.com/news/1"))
    assert titles_in(response) == ["خبر له رابط"]


def test_topic_column_lists_topics_and_links_to_the_filter(admin_client, archive):
    archive["oil"].topics.add(archive["politics"])
    html = admin_client.get(reverse(CHANGELIST)).content.decode()
    assert f'?topics__id__exact={archive["economy"].pk}">اقتصاد</a>' in html
    assert f'?topics__id__exact={archive["politics"].pk}">سياسة</a>' in html
    assert archive["oil"].get_absolute_url() in html  # the "view on site" column


def test_changelist_queries_do_not_grow_with_rows(admin_client, archive, django_assert_max_num_queries):
    def count_queries():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(reverse(CHANGELIST)).status_code == 200
        return len(queries)

    few = count_queries()
    for n in range(40):
        make_article(title=f"خبر رقم {n}", source=f"مصدر {n % 4}", topics=["اقتصاد", "سياسة"])
    with django_assert_max_num_queries(few):
        assert admin_client.get(reverse(CHANGELIST)).status_code == 200
    assert count_queries() == few


# ---------------------------------------------------------------------------
# Autocomplete


def test_topic_autocomplete_answers(admin_client, archive):
    Topic.objects.create(name="الاقتصاد العالمي")
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"term": "اقتصاد", "app_label": "articles", "model_name": "article", "field_name": "topics"},
    )
    assert response.status_code == 200
    texts = {item["text"] for item in response.json()["results"]}
    assert texts == {"اقتصاد", "الاقتصاد العالمي"}


def test_source_autocomplete_answers(admin_client, archive):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"term": "الثورة", "app_label": "articles", "model_name": "article", "field_name": "source"},
    )
    assert [item["text"] for item in response.json()["results"]] == ["الثورة نت"]


def test_change_form_uses_autocomplete_widgets(admin_client, archive):
    html = admin_client.get(reverse("admin:articles_article_change", args=[archive["oil"].pk])).content.decode()
    assert 'data-field-name="topics"' in html and 'data-field-name="source"' in html
    assert "admin-autocomplete" in html
    assert "select2/i18n/ar.js" in html


# ---------------------------------------------------------------------------
# Bulk topic actions


def post_action(client, action, articles, url=None, **extra):
    data = {"action": action, helpers.ACTION_CHECKBOX_NAME: [a.pk for a in articles], **extra}
    return client.post(url or reverse(CHANGELIST), data)


def test_add_topic_action_shows_a_page_to_choose_the_topic(admin_client, archive):
    response = post_action(admin_client, "add_topic", [archive["talks"], archive["budget"]], index="0")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'dir="rtl"' in html
    assert "سيُضاف الموضوع إلى المقالين المحددين" in html
    assert "استئناف المفاوضات بين الطرفين" in html and "البرلمان يناقش الموازنة العامة" in html
    assert 'name="new_topic_name"' in html
    assert 'data-field-name="topics"' in html  # the topic is picked with autocomplete
    # Nothing changed yet.
    assert not archive["talks"].topics.filter(pk=archive["economy"].pk).exists()


def test_add_topic_action_tags_the_selected_articles(admin_client, archive):
    economy = archive["economy"]
    response = post_action(
        admin_client, "add_topic", [archive["oil"], archive["talks"], archive["budget"]],
        apply="1", topic=economy.pk, select_across="0",
    )
    assert response.status_code == 302
    assert set(economy.articles.all()) == {archive["oil"], archive["talks"], archive["budget"]}
    messages = [str(m) for m in response.wsgi_request._messages]
    assert "أُضيف الموضوع «اقتصاد» إلى مقالين." in messages
    assert "مقال واحد من المقالات المحددة كان موسوماً به من قبل." in messages


def test_add_topic_action_creates_a_new_topic(admin_client, archive):
    response = post_action(
        admin_client, "add_topic", [archive["talks"], archive["budget"]],
        apply="1", new_topic_name="  شؤون   برلمانية ", select_across="0",
    )
    assert response.status_code == 302
    topic = Topic.objects.get(name="شؤون برلمانية")
    assert topic.slug == "شؤون-برلمانية"
    assert set(topic.articles.all()) == {archive["talks"], archive["budget"]}
    messages = [str(m) for m in response.wsgi_request._messages]
    assert "أُنشئ الموضوع «شؤون برلمانية»." in messages


def test_new_topic_name_that_reads_like_an_existing_topic_reuses_it(admin_client, archive):
    # "اِقتصاد" with a kasra is the same word as the existing "اقتصاد".
    post_action(
        admin_client, "add_topic", [archive["budget"]],
        apply="1", new_topic_name="اِقتصاد", select_across="0",
    )
    assert Topic.objects.filter(name__contains="قتصاد").count() == 1
    assert archive["budget"].topics.get() == archive["economy"]


def test_add_topic_action_without_a_topic_shows_an_error(admin_client, archive):
    response = post_action(admin_client, "add_topic", [archive["budget"]], apply="1", select_across="0")
    assert response.status_code == 200
    assert "اختر موضوعاً." in response.content.decode()
    assert archive["budget"].topics.count() == 0


def test_add_topic_action_across_all_filtered_articles(admin_client, archive):
    source = Source.objects.get(name="الجزيرة")
    for n in range(3):
        make_article(title=f"خبر آخر من الجزيرة {n}", source="الجزيرة")
    url = changelist_url(source__id__exact=source.pk)
    # Only one checkbox ticked, then "select all N": the whole filtered set.
    response = post_action(
        admin_client, "add_topic", [archive["oil"]], url=url,
        apply="1", topic=archive["politics"].pk, select_across="1",
    )
    assert response.status_code == 302
    tagged = set(archive["politics"].articles.values_list("title", flat=True))
    assert tagged == set(source.articles.values_list("title", flat=True))
    assert "البرلمان يناقش الموازنة العامة" not in tagged


def test_remove_topic_action(admin_client, archive):
    economy = archive["economy"]
    archive["talks"].topics.add(economy)
    response = post_action(admin_client, "remove_topic", [archive["oil"], archive["talks"]], index="0")
    assert response.status_code == 200
    assert "سيُزال الموضوع من المقالين المحددين" in response.content.decode()
    assert 'name="new_topic_name"' not in response.content.decode()

    response = post_action(
        admin_client, "remove_topic", [archive["oil"], archive["talks"], archive["budget"]],
        apply="1", topic=economy.pk, select_across="0",
    )
    assert response.status_code == 302
    assert economy.articles.count() == 0
    assert archive["talks"].topics.get() == archive["politics"]  # other topics kept
    messages = [str(m) for m in response.wsgi_request._messages]
    assert "أُزيل الموضوع «اقتصاد» من مقالين." in messages


# ---------------------------------------------------------------------------
# Every change reaches search at once


def test_topic_added_in_change_form_is_found_by_topic_search(
    admin_client, archive, index_articles, django_capture_on_commit_callbacks
):
    index_articles(archive["oil"], archive["talks"], archive["budget"])
    economy = archive["economy"]
    assert topic_search(economy.slug) == {"أسعار النفط ترتفع في الأسواق العالمية"}

    budget = archive["budget"]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:articles_article_change", args=[budget.pk]),
            {
                "title": budget.title,
                "slug": budget.slug,
                "lead": "",
                "body": budget.body,
                "source": budget.source_id,
                "published": "2021-01-15",
                "topics": [economy.pk],
                "url": "",
                "_save": "1",
            },
        )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert topic_search(economy.slug) == {"أسعار النفط ترتفع في الأسواق العالمية", "البرلمان يناقش الموازنة العامة"}


def test_bulk_actions_reach_search(admin_client, archive, index_articles, django_capture_on_commit_callbacks):
    index_articles(archive["oil"], archive["talks"], archive["budget"])
    politics = archive["politics"]
    with django_capture_on_commit_callbacks(execute=True):
        post_action(
            admin_client, "add_topic", [archive["oil"], archive["budget"]],
            apply="1", topic=politics.pk, select_across="0",
        )
    assert topic_search(politics.slug) == {
        "أسعار النفط ترتفع في الأسواق العالمية",
        "استئناف المفاوضات بين الطرفين",
        "البرلمان يناقش الموازنة العامة",
    }
    with django_capture_on_commit_callbacks(execute=True):
        post_action(
            admin_client, "remove_topic", [archive["talks"], archive["budget"]],
            apply="1", topic=politics.pk, select_across="0",
        )
    assert topic_search(politics.slug) == {"أسعار النفط ترتفع في الأسواق العالمية"}


def test_new_article_typed_in_the_admin_is_searchable(admin_client, archive, search_index, django_capture_on_commit_callbacks):
    source = Source.objects.get(name="الجزيرة")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:articles_article_add"),
            {
                "title": "افتتاح معرض الكتاب الدولي",
                "slug": "",
                "lead": "",
                "body": "افتُتح اليوم معرض الكتاب الدولي بمشاركة مئات الناشرين.",
                "source": source.pk,
                "published": "2022-02-01",
                "topics": [archive["politics"].pk],
                "url": "",
                "_save": "1",
            },
        )
    assert response.status_code == 302
    article = Article.objects.get(title="افتتاح معرض الكتاب الدولي")
    assert article.slug == "افتتاح-معرض-الكتاب-الدولي"
    hits = search_articles(SearchRequest(q="معرض الكتاب")).hits
    assert [hit.article for hit in hits] == [article]
    assert "افتتاح معرض الكتاب الدولي" in topic_search(archive["politics"].slug)


def test_renamed_topic_is_searchable_under_its_new_slug(
    admin_client, archive, index_articles, django_capture_on_commit_callbacks
):
    index_articles(archive["oil"])
    economy = archive["economy"]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:articles_topic_change", args=[economy.pk]),
            {"name": "الاقتصاد", "slug": "الاقتصاد", "_save": "1"},
        )
    assert response.status_code == 302
    assert topic_search("الاقتصاد") == {"أسعار النفط ترتفع في الأسواق العالمية"}
    assert topic_search("اقتصاد") == set()


def test_deleted_topic_leaves_search(admin_client, archive, index_articles, django_capture_on_commit_callbacks):
    index_articles(archive["oil"])
    economy = archive["economy"]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:articles_topic_delete", args=[economy.pk]), {"post": "yes"}
        )
    assert response.status_code == 302
    assert not Topic.objects.filter(pk=economy.pk).exists()
    assert topic_search("اقتصاد") == set()


def test_deleted_article_leaves_search(admin_client, archive, index_articles, django_capture_on_commit_callbacks):
    index_articles(archive["oil"], archive["talks"])
    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(admin_client, "delete_selected", [archive["oil"]], post="yes")
    assert response.status_code == 302
    assert topic_search("اقتصاد") == set()
    assert topic_search("سياسة") == {"استئناف المفاوضات بين الطرفين"}


# ---------------------------------------------------------------------------
# Bad input gets a form error, never a 500


def article_form_data(**overrides):
    data = {
        "title": "عنوان جديد",
        "slug": "",
        "lead": "",
        "body": "نص جديد تماماً لم يظهر في الأرشيف.",
        "source": "",
        "published": "",
        "url": "",
        "_save": "1",
    }
    data.update(overrides)
    return data


def test_duplicate_text_is_a_form_error(admin_client, archive):
    oil = archive["oil"]
    # The same words with diacritics and another hamza: the import's fingerprint says "same".
    response = admin_client.post(
        reverse("admin:articles_article_add"),
        article_form_data(title="أسعار النفطِ ترتفع في الأسواق العالمية", body=oil.body.replace("أسعار", "اسعار")),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "في الأرشيف من قبل مقال بالعنوان والنص نفسيهما" in html
    assert reverse("admin:articles_article_change", args=[oil.pk]) in html
    assert Article.objects.count() == 3


def test_duplicate_url_is_a_form_error(admin_client, archive):
    make_article(title="خبر له رابط", url="https://example.com/news/7")
    response = admin_client.post(
        reverse("admin:articles_article_add"), article_form_data(url="https://example.com/news/7")
    )
    assert response.status_code == 200
    assert "في الأرشيف مقال آخر له هذا الرابط الأصلي" in response.content.decode()
    assert Article.objects.filter(url="https://example.com/news/7").count() == 1


def test_duplicate_error_escapes_the_other_title(admin_client, db):
    make_article(title="<script>alert(1)</script>", body="نص")
    response = admin_client.post(
        reverse("admin:articles_article_add"), article_form_data(title="<script>alert(1)</script>", body="نص")
    )
    html = response.content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</a>" in html
    assert "<script>alert(1)</script>" not in html


def test_editing_an_article_is_not_a_duplicate_of_itself(admin_client, archive):
    oil = archive["oil"]
    response = admin_client.post(
        reverse("admin:articles_article_change", args=[oil.pk]),
        article_form_data(title=oil.title, body=oil.body, slug=oil.slug, published="2019-03-04"),
    )
    assert response.status_code == 302


def test_empty_title_and_body_and_bad_date_are_form_errors(admin_client, db):
    response = admin_client.post(
        reverse("admin:articles_article_add"), article_form_data(title="", body="", published="2021-02-30")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"title", "body", "published"}
    assert Article.objects.count() == 0


def test_topic_slug_is_made_from_an_arabic_name(admin_client, db):
    response = admin_client.post(
        reverse("admin:articles_topic_add"), {"name": "الطاقة المتجددة", "slug": "", "_save": "1"}
    )
    assert response.status_code == 302
    assert Topic.objects.get(name="الطاقة المتجددة").slug == "الطاقة-المتجددة"


def test_topic_slug_clash_gets_a_free_slug(admin_client, archive):
    # "اقتصاد!" slugifies to the existing topic's slug "اقتصاد".
    response = admin_client.post(reverse("admin:articles_topic_add"), {"name": "اقتصاد!", "slug": "", "_save": "1"})
    assert response.status_code == 302
    assert Topic.objects.get(name="اقتصاد!").slug == "اقتصاد-2"


def test_topic_name_that_reads_like_an_existing_one_is_refused(admin_client, archive):
    response = admin_client.post(reverse("admin:articles_topic_add"), {"name": "إقتصاد", "slug": "", "_save": "1"})
    assert response.status_code == 200
    assert "يوجد من قبل موضوع يكاد اسمه يطابق هذا الاسم" in response.content.decode()
    assert Topic.objects.count() == 2


def test_topic_and_source_lists_count_articles(admin_client, archive):
    response = admin_client.get(reverse("admin:articles_topic_changelist"))
    counts = {topic.name: topic.article_count for topic in response.context["cl"].result_list}
    assert counts == {"اقتصاد": 1, "سياسة": 1}
    response = admin_client.get(reverse("admin:articles_source_changelist"))
    counts = {source.name: source.article_count for source in response.context["cl"].result_list}
    assert counts == {"الجزيرة": 2, "الثورة نت": 1}


def test_prepopulated_slug_keeps_arabic_letters(admin_client, db):
    html = admin_client.get(reverse("admin:articles_topic_add")).content.decode()
    assert "&quot;allowUnicode&quot;: true" in html


# ---------------------------------------------------------------------------
# In a real browser: the slug typed for the editor keeps Arabic letters


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.mark.browser
def test_browser_fills_an_arabic_slug_from_the_topic_name(live_server, django_user_model):
    playwright_api = pytest.importorskip("playwright.sync_api")
    django_user_model.objects.create_superuser("editor", "editor@example.com", "a-long-password-1")
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(live_server.url + reverse("admin:login"))
            assert page.locator("html").get_attribute("dir") == "rtl"
            page.fill("#id_username", "editor")
            page.fill("#id_password", "a-long-password-1")
            page.click("input[type=submit]")
            page.goto(live_server.url + reverse("admin:articles_topic_add"))
            # Playwright types letters missing from its US layout as text
            # input without keyup; leaving the field (Tab) fires "change", on
            # which the admin's prepopulate.js fills the slug, as for a person.
            page.locator("#id_name").press_sequentially("الطاقةُ المتجدِّدة")
            page.keyboard.press("Tab")
            slug_typed = page.input_value("#id_slug")
            page.click("input[name=_save]")
            page.wait_for_url("**/admin/articles/topic/")
        finally:
            browser.close()
    # URLify drops the marks, as slugify does on the server.
    assert slug_typed == "الطاقة-المتجددة"
    assert Topic.objects.get(name="الطاقةُ المتجدِّدة").slug == "الطاقة-المتجددة"
