"""The permalink of an article: one canonical address, redirects to it, and
what a shared link shows (canonical URL, Open Graph, Twitter card)."""
import re
from urllib.parse import quote, unquote

import pytest

from articles.models import Article
from tests.test_web_fixtures import archive, main_of, text_of  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db


def canonical_path(article):
    return f"/articles/{article.pk}/{quote(article.slug)}/"


def meta(html, attribute, name):
    match = re.search(rf'<meta {attribute}="{re.escape(name)}" content="([^"]*)">', html)
    assert match, f"no <meta {attribute}={name}>"
    return match.group(1)


def test_canonical_path_is_the_percent_encoded_arabic_slug(archive):
    talks = archive["talks"]
    assert talks.slug == "المفاوضات-بين-موسكو-وكييف-تتعثر"
    assert talks.get_absolute_url() == canonical_path(talks)


@pytest.mark.parametrize(
    "slug", ["المفاوضات-بين-موسكو-وكييف-تتعثر", "trump_putin-2018", "٢٠١٤-عام", "a", "q%20x", "ترامب~قمة:1"]
)
@pytest.mark.parametrize("script_prefix", ["/", "/newsroom/"])
def test_permalinks_are_the_addresses_django_reverses(slug, script_prefix):
    """articles.links fills in a route reversed once; the address must be
    reverse()'s to the byte, under the site's root or a sub-path."""
    from django.urls import reverse, set_script_prefix

    from articles import links

    set_script_prefix(script_prefix)
    try:
        assert links.article_url(4321, slug) == reverse("articles:detail", kwargs={"pk": 4321, "slug": slug})
        assert links.slug_url("articles:source", slug) == reverse("articles:source", kwargs={"slug": slug})
        assert links.article_url(4321, slug).startswith(script_prefix + "articles/4321/")
    finally:
        set_script_prefix("/")


def test_a_slug_the_route_cannot_take_is_refused_as_reverse_refuses_it():
    from django.urls import NoReverseMatch

    from articles import links

    for slug in ("", "a/b"):
        with pytest.raises(NoReverseMatch):
            links.article_url(1, slug)


def test_the_canonical_address_answers_200(client, archive):
    talks = archive["talks"]
    response = client.get(canonical_path(talks))
    assert response.status_code == 200
    assert f"<h1>{talks.title}</h1>" in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/articles/{pk}/",
        "/articles/{pk}/wrong-slug/",
        "/articles/{pk}/المفاوضات/",
        "/articles/{pk}/{slug}-extra/",
        "/articles/{pk}/{unquoted_slug}x/",
    ],
)
def test_a_missing_or_wrong_slug_redirects_permanently_to_the_canonical_address(client, archive, path):
    talks = archive["talks"]
    url = path.format(pk=talks.pk, slug=quote(talks.slug), unquoted_slug=talks.slug)
    response = client.get(url)
    assert response.status_code == 301
    assert response["Location"] == canonical_path(talks)
    assert client.get(response["Location"]).status_code == 200


def test_the_unquoted_slug_is_the_same_address(client, archive):
    """A browser may send the Arabic slug as UTF-8 bytes or percent-encoded: both are canonical."""
    talks = archive["talks"]
    assert client.get(f"/articles/{talks.pk}/{talks.slug}/").status_code == 200
    assert client.get(canonical_path(talks).lower()).status_code == 200  # %d8 and %D8 are the same bytes


@pytest.mark.parametrize("path", ["/articles/999999/", "/articles/999999/slug/", "/articles/0/x/",
                                  "/articles/99999999999999999999999/", "/articles/99999999999999999999999/x/"])
def test_an_unknown_article_is_a_404(client, archive, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "الصفحة غير موجودة" in response.content.decode()


def test_a_deleted_article_is_a_404(client, archive):
    path = canonical_path(archive["match"])
    archive["match"].delete()
    assert client.get(path).status_code == 404


def test_share_metadata(client, archive):
    talks = archive["talks"]
    html = client.get(canonical_path(talks)).content.decode()
    absolute = "http://testserver" + canonical_path(talks)
    assert f'<link rel="canonical" href="{absolute}">' in html
    assert meta(html, "property", "og:url") == absolute
    assert meta(html, "property", "og:title") == talks.title
    assert meta(html, "property", "og:description") == talks.lead
    assert meta(html, "property", "og:type") == "article"
    assert meta(html, "property", "og:locale") == "ar_AR"
    assert meta(html, "property", "og:site_name") == "نيوزروم"
    assert meta(html, "property", "article:published_time") == "2018-03-01"
    assert meta(html, "property", "article:tag") == "سياسة"
    assert meta(html, "name", "twitter:card") == "summary"
    assert meta(html, "name", "twitter:title") == talks.title
    assert meta(html, "name", "description") == talks.lead
    assert re.search(r"<title>المفاوضات بين موسكو وكييف تتعثر — نيوزروم</title>", html)


def test_share_metadata_is_escaped(client, archive):
    html = client.get(canonical_path(archive["hostile"])).content.decode()
    assert meta(html, "property", "og:title") == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; عنوان خبيث"


def test_canonical_url_follows_the_host_and_scheme_of_the_request(client, archive, settings):
    settings.ALLOWED_HOSTS = ["news.example.org"]
    talks = archive["talks"]
    html = client.get(canonical_path(talks), HTTP_HOST="news.example.org", secure=True).content.decode()
    assert f'<link rel="canonical" href="https://news.example.org{canonical_path(talks)}">' in html


def test_the_reading_page(client, archive):
    talks = archive["talks"]
    html = client.get(canonical_path(talks)).content.decode()
    main = main_of(html)
    # Source (linked) and date in Arabic.
    assert '<a class="meta-source" href="/sources/bbc-arabic/"><bdi>BBC Arabic</bdi></a>' in main
    assert '<time class="date" datetime="2018-03-01">1 مارس 2018</time>' in main
    # Topics, linked.
    assert '<a href="/topics/%D8%B3%D9%8A%D8%A7%D8%B3%D8%A9/"><bdi>سياسة</bdi></a>' in main
    # The body in paragraphs, the lead once.
    paragraphs = re.findall(r"<p[^>]*>([^<]+)</p>", main)
    assert paragraphs[:3] == talks.paragraphs
    assert main.count(talks.lead) == 1
    # The original, without passing on the reader.
    assert re.search(
        r'<a href="https://www.bbc.com/arabic/world-1" rel="noopener noreferrer nofollow">اقرأ المقال الأصلي على <bdi>BBC Arabic</bdi></a>',
        main,
    )


def test_a_lead_of_its_own_is_shown_above_the_body(client, db):
    from tests.factories import make_article

    article = make_article(title="خبر بمقدمة", lead="مقدمة كتبها المحرر.", body="الفقرة الأولى.\nالفقرة الثانية.")
    main = main_of(client.get(article.get_absolute_url()).content.decode())
    assert re.findall(r"<p[^>]*>([^<]+)</p>", main)[:3] == ["مقدمة كتبها المحرر.", "الفقرة الأولى.", "الفقرة الثانية."]


def test_the_copy_link_button_copies_the_canonical_address(client, archive):
    talks = archive["talks"]
    html = client.get(canonical_path(talks)).content.decode()
    absolute = "http://testserver" + canonical_path(talks)
    # The address is in a labelled field to select by hand, the button (shown by
    # newsroom.js, no inline script) copies that field, and a live region tells.
    assert re.search(r'<label class="share-label" for="permalink">[^<]+</label>', html)
    assert f'<input id="permalink" class="share-url" type="url" value="{absolute}" readonly dir="ltr">' in html
    button = re.search(r"<button [^>]*data-copy-target=\"permalink\"[^>]*>([^<]+)</button>", html)
    assert button and button.group(1) == "نسخ الرابط"
    assert 'data-copy-status="copy-status"' in button.group(0)
    assert re.search(r'<p id="copy-status" class="copy-status" role="status"></p>', html)
    assert re.search(r'<script src="/static/js/newsroom\.js" defer></script>', html)


def test_related_stories_link_to_their_permalinks(client, archive):
    talks = archive["talks"]
    html = client.get(canonical_path(talks)).content.decode()
    related = re.search(r'<section class="related".*?</section>', html, re.S)
    assert related, "no related stories"
    links = re.findall(r'<a class="related-title" href="([^"]+)">([^<]+)</a>', related.group(0))
    assert 1 <= len(links) <= 5
    assert canonical_path(talks) not in [href for href, _ in links]
    # The summit story shares "المفاوضات" and "أوكرانيا" with the talks.
    assert (canonical_path(archive["summit"]), archive["summit"].title) in links
    for href, title in links:
        pk = int(re.match(r"/articles/(\d+)/", href).group(1))
        story = Article.objects.get(pk=pk)
        assert href == canonical_path(story)
        assert text_of(title) == story.title
        assert client.get(href).status_code == 200


def test_at_most_five_related_stories(client, search_index, django_capture_on_commit_callbacks):
    from tests.factories import make_article

    with django_capture_on_commit_callbacks(execute=True):
        stories = [
            make_article(title=f"الانتخابات البرلمانية في العراق {n}", body=f"جرت الانتخابات البرلمانية في العراق وسط إقبال {n}.")
            for n in range(9)
        ]
    html = client.get(stories[0].get_absolute_url()).content.decode()
    related = re.search(r'<section class="related".*?</section>', html, re.S).group(0)
    assert len(re.findall(r'class="related-title"', related)) == 5


def test_the_page_works_without_the_search_index(client, archive, monkeypatch):
    def broken(article, limit=5):
        raise OSError("index is gone")

    monkeypatch.setattr("articles.views.reading.related_articles", broken)
    response = client.get(canonical_path(archive["talks"]))
    assert response.status_code == 200
    assert 'class="related"' not in response.content.decode()


def test_the_permalink_survives_a_title_edit(client, archive):
    """A shared link keeps working after an editor changes the title: the slug does not follow."""
    talks = archive["talks"]
    old = canonical_path(talks)
    talks.title = "عنوان جديد تماما"
    talks.save()
    assert client.get(old).status_code == 200
    assert unquote(old).endswith(f"/{talks.slug}/")
