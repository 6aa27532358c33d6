"""Hostile input: whatever a visitor types or a crawler sends, the site answers
(never a 500, never a traceback, never a hang), and whatever an imported
article holds is shown as text, never run as markup."""
import datetime
import io
import json
import re
import signal
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st

from articles.models import Article

# Generous: only a request that hangs reaches it. Speed is measured in bench/.
HANG_LIMIT = 60

EXAMPLES = hypothesis_settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# ---------------------------------------------------------------------------
# What visitors send

ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=120)
WORDS = st.sampled_from(
    ["المفاوضات", "مفاوضات", "قمة", "آلاسكا", "الأمم", "و", "في", "news", "Trump", "١٢٣", "🙂", "ﷺ", "ـــ", "ٱلله"]
)
OPERATORS = st.sampled_from(
    [
        "AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", '"', "'", "(", ")", "[", "]", "{", "}", "*", "?", "~",
        "~2", "^", "^3", "-", "+", ":", "title:", "text:", "source:", "django_ct:", "id:", "*:*", "TO",
        "<", ">", "=", "\\", "/", "|", "&&", "||", "!", "%", "«", "»", "،", "؟", "\u200f", "\u200e",
        "\u0640", "\ufeff", "\x00", "\n", "\t", "<script>", "';--", "${x}", "{{ x }}", "{% x %}",
    ]
)
OPERATOR_SOUP = st.lists(st.one_of(OPERATORS, WORDS, ANY_TEXT), max_size=40).map(" ".join)
NESTED = st.builds(
    lambda opening, word, closing: "(" * opening + word + ")" * closing,
    st.integers(0, 600),
    WORDS,
    st.integers(0, 600),
)
# Past the service's 5,000-character cap, and up to ten times over it.
HUGE = st.builds(
    lambda token, length: ((token + " ") * (length // (len(token) + 1) + 1))[:length],
    st.one_of(WORDS, OPERATORS),
    st.one_of(st.integers(4990, 5100), st.integers(5100, 50_000)),
)
# Huge queries cost more than others (page links repeat the query): one
# example in ten keeps 500 examples quick and still sends fifty of them.
QUERY = st.integers(0, 9).flatmap(lambda n: HUGE if n == 0 else st.one_of(ANY_TEXT, OPERATOR_SOUP, NESTED))

NUMBERISH = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(
        ["", "0", "-1", "1e3", "2.5", "NaN", "inf", "٣", "１", " 2 ", "0x10", "99999999999999999999999",
         "2018-13-45", "1999-02-30", "٢٠١٨", "—", "None", "null", "[]", "{}"]
    ),
    ANY_TEXT,
)
SLUGISH = st.one_of(
    st.sampled_from(["", "سياسة", "مصدر-تجريبي", "../../etc/passwd", "a/b", "%00", "x" * 300, " "]),
    ANY_TEXT,
)
SEARCH_PARAMS = st.fixed_dictionaries(
    {},
    optional={
        "q": QUERY,
        "page": NUMBERISH,
        "year": NUMBERISH,
        "source": SLUGISH,
        "topic": SLUGISH,
        "sort": st.one_of(st.sampled_from(["relevance", "newest", "oldest", ""]), ANY_TEXT),
        "page_size": NUMBERISH,
    },
)
# Query strings as a crawler writes them: bad percent-escapes, bare keys, repeats.
RAW_QUERY_STRING = st.lists(
    st.tuples(
        st.sampled_from(["q", "page", "year", "source", "topic", "sort", "q[]", "", "&", "=="]),
        st.text(alphabet="%0123456789abcdefABCDEFzZ=&+;#?/ ", max_size=30),
    ),
    max_size=8,
).map(lambda pairs: "&".join(f"{key}={value}" for key, value in pairs))
IDS = st.one_of(st.integers(-5, 10**25).map(str), ANY_TEXT.map(lambda text: quote(text, safe="")))


@contextmanager
def answered_in_bounded_time(seconds=HANG_LIMIT):
    """Fail instead of waiting forever if a request hangs."""

    def hung(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s: the request hangs")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def fetch(client, path, data=None, **extra):
    with answered_in_bounded_time():
        response = client.get(path, data, **extra)
    assert response.status_code < 500, f"{response.status_code} for {path} {data!r}"
    body = response.content.decode("utf-8", "replace")
    assert "Traceback" not in body and 'File "/' not in body, f"a traceback in the answer to {path} {data!r}"
    return response


def fetch_json(client, path, data=None, **extra):
    response = fetch(client, path, data, **extra)
    assert response["Content-Type"].startswith("application/json")
    payload = json.loads(response.content)
    if response.status_code >= 400:
        assert isinstance(payload.get("error"), str) and payload["error"]
    return response, payload


@pytest.fixture
def archive(settings, search_index, make_article, django_capture_on_commit_callbacks):
    settings.API_RATE_LIMIT_REQUESTS = 0  # the limit is tested in test_security
    with django_capture_on_commit_callbacks(execute=True):
        articles = [
            make_article(
                title="المفاوضات بين موسكو وكييف تتعثر",
                body="تعثرت مفاوضات السلام.\nوقال المفاوضون إن الجولة المقبلة في إسطنبول.",
                source="سكاي نيوز عربية",
                topics=["سياسة"],
                published=datetime.date(2018, 3, 1),
            ),
            make_article(
                title="قمة ألاسكا (AND OR NOT) \"اقتباس\" *:*",
                body="التقى الرئيسان في آلاسكا. " * 50,
                source="بي بي سي عربي",
                topics=["سياسة", "دولية"],
                published=None,
            ),
        ]
    return articles


# ---------------------------------------------------------------------------
# Never a 500, never a traceback, never a hang


@pytest.mark.django_db
@EXAMPLES
@given(params=SEARCH_PARAMS)
def test_search_page_answers_any_parameters(client, archive, params):
    response = fetch(client, "/search/", params)
    assert response.status_code in (200, 400)


@pytest.mark.django_db
@EXAMPLES
@given(params=SEARCH_PARAMS)
def test_search_api_answers_any_parameters_with_json(client, archive, params):
    response, payload = fetch_json(client, "/api/search", params)
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert isinstance(payload["count"], int) and isinstance(payload["results"], list)


@pytest.mark.django_db
@EXAMPLES
@given(query_string=RAW_QUERY_STRING, path=st.sampled_from(["/search/", "/api/search", "/", "/archive/2018/"]))
def test_raw_query_strings_are_answered(client, archive, query_string, path):
    fetch(client, f"{path}?{query_string}")


@pytest.mark.django_db
@EXAMPLES
@given(article_id=IDS, slug=SLUGISH, page=NUMBERISH)
def test_article_urls_answer_any_id(client, archive, article_id, slug, page):
    if article_id.isdigit():
        response, _payload = fetch_json(client, f"/api/articles/{article_id}")
        assert response.status_code in (200, 404)
    else:
        # Not an API URL at all: the site's 404 page.
        assert fetch(client, f"/api/articles/{article_id}").status_code == 404
    fetch(client, f"/articles/{article_id}/")
    fetch(client, f"/articles/{article_id}/{quote(slug, safe='') or 'x'}/", {"page": page})


@pytest.mark.django_db
@EXAMPLES
@given(
    pattern=st.sampled_from(
        [
            "/archive/{year}/",
            "/archive/{year}/{month}/",
            "/sources/{slug}/",
            "/topics/{slug}/",
            "/",
            "/archive/",
            "/sources/",
            "/topics/",
        ]
    ),
    year=IDS,
    month=IDS,
    slug=SLUGISH,
    page=NUMBERISH,
)
def test_browsing_urls_answer_any_year_month_slug_and_page(client, archive, pattern, year, month, slug, page):
    path = pattern.format(year=year, month=month, slug=quote(slug, safe="") or "x")
    fetch(client, path, {"page": page})


# ---------------------------------------------------------------------------
# Imported markup is shown as text


HOSTILE_TITLE = '<script>alert("title")</script> قمة المناخ في <b onmouseover=alert(1)>الرياض</b>'
HOSTILE_BODY = 'نص عن المناخ <img src=x onerror=alert("body")> والطاقة.\n<iframe src="javascript:alert(2)"></iframe> فقرة ثانية عن المناخ.'
HOSTILE_SOURCE = "<svg onload=alert(3)>مصدر"
HOSTILE_TOPIC = "<style>body{display:none}</style>بيئة"
RAW_MARKUP = re.compile(r"<(script|img|iframe|svg|style)\b[^>]*(alert|javascript:|display:none)|<b onmouseover", re.I)


@pytest.fixture
def hostile_article(settings, tmp_path, search_index, db, django_capture_on_commit_callbacks):
    """An article with markup in every field, imported the way users import."""
    settings.API_RATE_LIMIT_REQUESTS = 0
    records = [
        {
            "id": "hostile-1",
            "title": HOSTILE_TITLE,
            "body": HOSTILE_BODY,
            "source": HOSTILE_SOURCE,
            "published": "2018-03-04",
            "category": HOSTILE_TOPIC,
            "url": "https://example.org/hostile",
        },
        {
            "id": "neighbour-1",
            "title": "مؤتمر المناخ والطاقة في الرياض",
            "body": "نص عن المناخ والطاقة في الرياض وقمة المناخ.",
            "source": HOSTILE_SOURCE,
            "published": "2018-03-05",
            "category": HOSTILE_TOPIC,
            "url": "https://example.org/neighbour",
        },
    ]
    path = tmp_path / "hostile.jsonl"
    path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records), encoding="utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_articles", str(path), "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
    return Article.objects.get(external_id="hostile-1"), Article.objects.get(external_id="neighbour-1")


def test_markup_in_an_imported_article_is_escaped_on_every_page(client, hostile_article):
    article, neighbour = hostile_article
    assert article.title == HOSTILE_TITLE  # stored as imported, escaped when shown
    topic = article.topics.get()
    pages = {
        "home": "/",
        "search results": "/search/?q=المناخ",
        "article": article.get_absolute_url(),
        "a related article": neighbour.get_absolute_url(),
        "source": article.source.get_absolute_url(),
        "topic": topic.get_absolute_url(),
        "archive year": "/archive/2018/",
        "archive month": "/archive/2018/3/",
        "sources list": "/sources/",
        "topics list": "/topics/",
    }
    for name, url in pages.items():
        response = fetch(client, url, follow=True)
        assert response.status_code == 200, name
        html = response.content.decode()
        assert not RAW_MARKUP.search(html), f"markup from the import runs on the {name} page: {RAW_MARKUP.search(html)}"
        if name not in ("sources list", "topics list"):
            assert "&lt;script&gt;alert(" in html, f"the title is not shown (escaped) on the {name} page"

    # Both other fields, where they are shown.
    article_html = fetch(client, article.get_absolute_url()).content.decode()
    assert "&lt;img src=x onerror=" in article_html
    assert "&lt;svg onload=alert(3)&gt;" in article_html
    assert "&lt;style&gt;" in article_html


def test_markup_in_an_imported_article_stays_data_in_the_api(client, hostile_article):
    article, _neighbour = hostile_article
    response, payload = fetch_json(client, f"/api/articles/{article.pk}")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert payload["title"] == HOSTILE_TITLE
    assert payload["body"] == HOSTILE_BODY
    assert payload["source"] == HOSTILE_SOURCE
    assert payload["topics"] == [HOSTILE_TOPIC]

    _response, results = fetch_json(client, "/api/search", {"q": "المناخ"})
    hit = next(result for result in results["results"] if result["id"] == article.pk)
    assert hit["title"] == HOSTILE_TITLE
    # The snippet is HTML for clients to insert: only <mark> may be markup in it.
    assert set(re.findall(r"</?([a-zA-Z]+)", hit["snippet"])) <= {"mark"}
    assert "&lt;img" in hit["snippet"] or "img" not in hit["snippet"]
