"""axe-core, run in chromium on the pages people use: no serious or critical
violation on the home, search, article and admin pages, in light and dark
mode and on a phone. Each run's full results are written to
tests/artifacts/axe/<page>.json and summed up in the test's output.
"""
import pytest

from tests.browser.pages import api

pytestmark = pytest.mark.browser

COMMON_WORD = "الرئيس"


@pytest.fixture(scope="module")
def article_path(app):
    return api(app, "/api/search", q="ألاسكا")["results"][0]["url"]


def public_path(name, app, article_path):
    return {
        "home": "/",
        "search": f"/search/?q={COMMON_WORD}",
        "search-empty": "/search/?q=",
        "search-no-hits": "/search/?q=كلمةلاتوجدابدا",
        "article": article_path,
        "topics": "/topics/",
        "archive": "/archive/",
    }[name]


def check(result):
    print(result.summary())
    blocking = result.blocking()
    assert not blocking, f"serious or critical accessibility problems:\n{result.describe(blocking)}"


@pytest.mark.parametrize(
    "name, device, scheme",
    [
        ("home", "desktop", "light"),
        ("search", "desktop", "light"),
        ("search-empty", "desktop", "light"),
        ("search-no-hits", "desktop", "light"),
        ("article", "desktop", "light"),
        ("topics", "desktop", "light"),
        ("archive", "desktop", "light"),
        ("home", "desktop", "dark"),
        ("search", "desktop", "dark"),
        ("article", "desktop", "dark"),
        ("search", "phone", "light"),
        ("article", "phone", "dark"),
    ],
)
def test_public_page_has_no_serious_accessibility_problem(axe, app, article_path, name, device, scheme):
    check(axe(public_path(name, app, article_path), f"{name}-{device}-{scheme}", device=device, color_scheme=scheme))


@pytest.mark.parametrize(
    "name, path",
    [
        ("admin-login", "/admin/login/"),
        ("admin-index", "/admin/"),
        ("admin-articles", "/admin/articles/article/"),
        ("admin-article-form", "/admin/articles/article/{pk}/change/"),
    ],
)
def test_admin_page_has_no_serious_accessibility_problem(axe, editing_app, editor_state, name, path):
    pk = editing_app.shell("from articles.models import Article; print(Article.objects.order_by('pk').first().pk)")
    state = None if name == "admin-login" else editor_state
    check(axe(path.format(pk=pk.strip()), name, served=editing_app, storage_state=state))


def test_topic_action_page_has_no_serious_accessibility_problem(axe, editing_app, editor_state):
    def choose_add_topic(page):
        page.locator("input.action-select").first.check()
        page.locator("select[name=action]").select_option("add_topic")
        with page.expect_navigation():
            page.locator("button[name=index]").click()
        assert page.locator("input[name=apply]").count() == 1, "the add-topic page did not open"

    check(axe("/admin/articles/article/", "admin-add-topic", served=editing_app, storage_state=editor_state,
              prepare=choose_add_topic))
