"""An editor tags stories in the admin; readers then find them by that topic.

These tests change data, so they run against a served app of their own
(`editing_app`), never the shared one.
"""
import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, save_screenshot
from tests.browser.pages import PERMALINK, api, facet_choices, query_params, reload_until, result_ids

pytestmark = pytest.mark.browser


def test_bulk_add_a_new_topic_then_find_the_story_by_it(open_page, editing_app):
    topic_name = "رحلات القمم"
    hit = api(editing_app, "/api/search", q="ألاسكا")["results"][0]

    page = open_page("desktop", served=editing_app)
    log_in(page, editing_app, next_path="/admin/articles/article/")
    save_screenshot(page, "admin-desktop")
    page.locator("#searchbar").fill(hit["title"][:30])
    with page.expect_navigation():
        page.locator("#searchbar").press("Enter")
    row = page.locator("#result_list tbody tr", has=page.get_by_role("link", name=hit["title"]))
    expect(row).to_have_count(1)
    row.locator("input.action-select").check()
    page.locator("select[name=action]").select_option("add_topic")
    with page.expect_navigation():
        page.locator("button[name=index]").click()

    # The confirmation page names the story; a new topic is typed there.
    expect(page.locator("#content-main")).to_contain_text(hit["title"])
    page.locator("input[name=new_topic_name]").fill(topic_name)
    with page.expect_navigation():
        page.locator("input[name=apply]").click()
    expect(page.locator(".messagelist")).to_contain_text(topic_name)
    assert page.url.split("?")[0].endswith("/admin/articles/article/")

    # A reader searching finds the topic among the facets, and the story under it.
    reader = open_page("desktop", served=editing_app)
    reader.goto(editing_app.url("/search/?q=ألاسكا"))

    def tagged(page):
        return [choice for choice in facet_choices(page, "topic") if choice[1] == topic_name]

    reload_until(reader, tagged, f"the topic {topic_name} among the facets")
    choices = tagged(reader)
    assert len(choices) == 1, [choice[1:] for choice in facet_choices(reader, "topic")]
    link, _, count, slug = choices[0]
    assert count == 1
    with reader.expect_navigation():
        link.click()
    assert query_params(reader.url)["topic"] == slug
    assert result_ids(reader) == [hit["id"]]

    # And the story's own page links the topic's page, which lists it.
    reader.goto(editing_app.url(hit["url"]))
    with reader.expect_navigation():
        reader.locator("main").get_by_role("link", name=topic_name).click()
    assert re.search(r"/topics/[^/]+/$", reader.url)
    expect(reader.locator("main").get_by_role("link", name=hit["title"])).to_be_visible()


def test_pick_a_topic_with_autocomplete_then_find_the_story_by_it(open_page, editing_app):
    hit = api(editing_app, "/api/search", q="بوتين")["results"][-1]
    # An existing topic the story does not have yet, as the database knows it.
    topic = json.loads(editing_app.shell(
        "import json; from articles.models import Topic; "
        f"t = Topic.objects.exclude(articles={hit['id']}).order_by('name').first(); "
        "print(json.dumps({'name': t.name, 'slug': t.slug}))"
    ))

    page = open_page("desktop", served=editing_app)
    log_in(page, editing_app, next_path=f"/admin/articles/article/{hit['id']}/change/")
    field = page.locator(".field-topics .select2-selection--multiple")
    field.click()
    page.locator(".select2-container--open .select2-search__field").type(topic["name"][:3], delay=50)
    option = page.locator(".select2-results__option", has_text=topic["name"])
    option.first.click()
    expect(page.locator(".field-topics .select2-selection__choice")).to_contain_text([topic["name"]])
    with page.expect_navigation():
        page.locator("input[name=_save]").first.click()
    expect(page.locator(".messagelist .success")).to_be_visible()

    reader = open_page("desktop", served=editing_app)
    reader.goto(editing_app.url(f"/search/?q=بوتين&topic={topic['slug']}"))
    reload_until(reader, lambda page: hit["id"] in result_ids(page), "the story under its new topic")
    reader.goto(editing_app.url(f"/topics/{topic['slug']}/"))
    links = reader.locator("main a[href*='/articles/']").evaluate_all("links => links.map(a => a.pathname)")
    assert any(PERMALINK.search(path) and int(PERMALINK.search(path).group(1)) == hit["id"] for path in links)


def test_admin_on_a_phone(open_page, editing_app):
    page = open_page("phone", served=editing_app)
    log_in(page, editing_app, next_path="/admin/articles/article/")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    expect(page.locator("#result_list")).to_be_visible()
    save_screenshot(page, "admin-phone")
