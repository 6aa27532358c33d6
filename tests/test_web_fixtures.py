"""A small archive for the page and API tests, saved and indexed as the admin would.

Imported by tests/test_pages.py, test_permalink.py and test_api.py; it holds
no tests itself. (The fixtures live here rather than in conftest.py, which
belongs to the whole suite.)
"""
import datetime
import re
from html import unescape

import pytest

HOSTILE_TITLE = '<script>alert("x")</script> عنوان خبيث'
ESCAPED_SCRIPT = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"

# Queries a visitor may type, none of which may break a page or the API.
ODD_QUERIES = [
    '"',
    '"المفاوضات',
    "«قمة ألاسكا",
    "(",
    ")",
    "[",
    "{",
    "((((مفاوضات",
    "AND OR NOT",
    "title:ألاسكا",
    "*",
    "-",
    "+",
    "مفاو*",
    "-المفاوضات",
    "🙂🇸🇦 مفاوضات",
    "Trump ترامب 2018 ٢٠١٨",
    "\u200fمفاوضات\u200e",
    "مفاوضات\x00",
    "\x00",
    "<script>alert(1)</script>",
    "{{ request }} {% debug %}",
    "%",
    "\\",
    "ـــــ",
    "المفاوضات " * 700,
    "ب" * 5000,
    "x" * 6000,
]


def make(title, body, source, topics, published, url=None, lead=""):
    from tests.factories import make_article

    return make_article(title=title, body=body, source=source, topics=topics, published=published, url=url, lead=lead)


@pytest.fixture
def archive(db, search_index, django_capture_on_commit_callbacks):
    """Four articles over two sources, three topics and two years, indexed."""
    with django_capture_on_commit_callbacks(execute=True):
        talks = make(
            "المفاوضات بين موسكو وكييف تتعثر",
            "تعثرت مفاوضات السلام بين روسيا وأوكرانيا في جولتها الأخيرة.\n"
            "وقال المفاوضون إن الجولة المقبلة ستعقد في إسطنبول الشهر المقبل.\n"
            "وأضافوا أن وقف إطلاق النار ما زال بعيدا.",
            "BBC Arabic",
            ["سياسة"],
            datetime.date(2018, 3, 1),
            url="https://www.bbc.com/arabic/world-1",
            lead="تعثرت مفاوضات السلام بين روسيا وأوكرانيا في جولتها الأخيرة.",
        )
        summit = make(
            "قمة ألاسكا بين ترامب وبوتين",
            "التقى الرئيسان في آلاسكا لبحث الحرب في أوكرانيا والمفاوضات المقبلة.\n"
            "واستمر اللقاء ثلاث ساعات.",
            "BBC Arabic",
            ["سياسة", "دولية"],
            datetime.date(2018, 8, 15),
        )
        match = make(
            "الأهلي يفوز بالمباراة النهائية",
            "فاز الأهلي على الزمالك بهدفين في المباراة النهائية للكأس.\nوتوج الفريق باللقب للمرة العاشرة.",
            "سكاي نيوز عربية",
            ["رياضة"],
            datetime.date(2017, 5, 20),
        )
        hostile = make(
            HOSTILE_TITLE,
            "نص عن المفاوضات فيه <b>وسم</b> و<script>alert(2)</script> لا يجوز تنفيذه.",
            "سكاي نيوز عربية",
            ["سياسة"],
            datetime.date(2018, 3, 9),
            url="javascript:alert(3)",
        )
    return {"talks": talks, "summit": summit, "match": match, "hostile": hostile}


def text_of(html):
    """What a reader sees of an HTML fragment: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def main_of(html):
    match = re.search(r"<main\b.*?</main>", html, re.S)
    assert match, "the page has no <main>"
    return match.group(0)


def assert_safe_markup(html):
    """No inline script or style anywhere (the CSP will forbid them) and nothing from another host."""
    for script in re.findall(r"<script\b[^>]*>", html):
        assert 'src="/static/' in script, f"inline or foreign script: {script}"
        assert "defer" in script
    assert not re.search(r"<script\b[^>]*>\s*[^<\s]", html), "a script element with inline code"
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html), "an inline style attribute"
    assert not re.search(r"\son[a-z]+=", html), "an inline event handler"
    loading = re.findall(r"<(?:script|img|link rel=\"(?:stylesheet|icon|preload|apple-touch-icon)\")\b[^>]*>", html)
    assert loading
    for tag in loading:
        assert re.search(r'(?:src|href)="/static/', tag), f"loads from elsewhere than the app's static files: {tag}"
