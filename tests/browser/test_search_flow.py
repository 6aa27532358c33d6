"""A reader's way through the archive, in a real browser: search, refine,
page through, read, follow a related story, share a permalink.

The served app holds the seed articles and an evenly spread sample of the
demo corpus (tests/servers.py), so a common word has several pages of
results from several outlets.
"""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import save_screenshot
from tests.browser.pages import (
    PAGE_SIZE,
    PERMALINK,
    api,
    facet_choices,
    focus_is_visible,
    no_horizontal_scroll,
    open_facets_if_folded,
    query_params,
    result_ids,
    result_links,
    result_titles,
    search_box,
    search_for,
    shown_total,
    tab_until,
)

pytestmark = pytest.mark.browser

# A word of everyday news: many results, from every outlet, over several pages.
COMMON_WORD = "الرئيس"


def item_text(link):
    """The whole result (title, source, date, snippet) a title link belongs to."""
    return " ".join(link.evaluate("a => (a.closest('li, article') || a.parentElement).innerText").split())


def test_search_then_refine_by_source(desktop, app):
    page = desktop
    page.goto(app.url("/"))
    save_screenshot(page, "home-desktop")
    search_for(page, COMMON_WORD)

    assert re.search(r"/search/\?", page.url)
    assert query_params(page.url)["q"] == COMMON_WORD
    everything = api(app, "/api/search", q=COMMON_WORD)["count"]
    assert everything > PAGE_SIZE, "the demo data should give this word several pages"
    assert shown_total(page) == everything
    assert len(result_ids(page)) == PAGE_SIZE
    # The query stays in the box, to be corrected.
    expect(search_box(page)).to_have_value(COMMON_WORD)
    save_screenshot(page, "search-desktop")

    choices = facet_choices(page, "source")
    assert len(choices) >= 2, "results from several outlets should offer several source facets"
    link, label, count, slug = min(choices, key=lambda choice: choice[2])
    assert 0 < count < everything
    with page.expect_navigation():
        link.click()

    params = query_params(page.url)
    assert params["source"] == slug and params["q"] == COMMON_WORD
    assert shown_total(page) == count
    ids = result_ids(page)
    assert len(ids) == min(count, PAGE_SIZE)
    for result in result_links(page).all():
        assert label in item_text(result), f"a result of another outlet under the {label} filter"
    # The chosen outlet is shown as chosen, and can be removed in one click.
    remove = page.locator("main a[href*='q=']").evaluate_all(
        "links => links.map(a => new URL(a.href).searchParams)"
        ".filter(p => !p.has('source') && !p.has('page') && p.get('q')).map(p => p.toString())"
    )
    assert remove, "no link takes the source filter away again"


def test_paginate_through_results(desktop, app):
    page = desktop
    page.goto(app.url(f"/search/?q={COMMON_WORD}"))
    first_page = result_ids(page)

    pagination = page.get_by_role("navigation").filter(has=page.locator("a[href*='page=2']"))
    expect(pagination).to_have_count(1)
    assert pagination.get_attribute("aria-label"), "the pagination nav has no name for screen readers"
    current = pagination.locator("[aria-current=page]")
    expect(current).to_have_count(1)
    assert "1" in current.inner_text() or "١" in current.inner_text()

    with page.expect_navigation():
        pagination.locator("a[rel~=next]").click()
    assert query_params(page.url)["page"] == "2"
    assert query_params(page.url)["q"] == COMMON_WORD
    second_page = result_ids(page)
    assert second_page and not set(second_page) & set(first_page)
    current = page.get_by_role("navigation").locator("[aria-current=page]")
    assert re.search("[2٢]", current.inner_text())
    expect(page.locator("a[rel~=prev]").first).to_be_visible()


def test_open_a_result_then_a_related_story(desktop, app):
    page = desktop
    page.goto(app.url(f"/search/?q={COMMON_WORD}"))
    first = result_links(page).first
    title = " ".join(first.inner_text().split())
    with page.expect_navigation():
        first.click()

    assert PERMALINK.search(page.url), page.url
    expect(page.locator("h1")).to_have_text(title)
    canonical = page.locator("link[rel=canonical]").get_attribute("href")
    assert canonical.endswith(re.sub(r"^https?://[^/]+", "", page.url))
    assert len(page.locator("main p").all()) >= 2, "the body is not in paragraphs"
    save_screenshot(page, "article-desktop")

    related_links = [
        link for link in page.locator("main :is(section, aside, nav) a[href*='/articles/']").all()
        if PERMALINK.search(link.evaluate("a => a.pathname"))
    ]
    assert 1 <= len(related_links) <= 5, f"{len(related_links)} related stories (up to five wanted)"
    story = related_links[0]
    story_title = " ".join(story.inner_text().split())
    article_url = page.url
    with page.expect_navigation():
        story.click()
    assert PERMALINK.search(page.url) and page.url != article_url
    expect(page.locator("h1")).to_have_text(story_title)


def test_copy_a_permalink_and_open_it(open_page, app):
    page = open_page("desktop", permissions=["clipboard-read", "clipboard-write"])
    hit = api(app, "/api/search", q="ألاسكا")["results"][0]
    # The short form without the slug is a permalink too: it leads to the canonical URL.
    page.goto(app.url(f"/articles/{hit['id']}/"))
    assert page.url == app.url(hit["url"])
    canonical = page.locator("link[rel=canonical]").get_attribute("href")
    assert canonical == app.url(hit["url"])

    button = page.get_by_role("button", name=re.compile("نسخ|رابط"))
    expect(button).to_have_count(1)
    button.click()
    # The reader is told it worked, also through a screen reader.
    expect(page.locator("[role=status], [aria-live]").filter(has_text=re.compile(r"\S")).first).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == canonical

    reader = open_page("desktop")
    reader.goto(copied)
    assert reader.url == canonical
    expect(reader.locator("h1")).to_have_text(hit["title"])


def test_main_flow_on_a_phone(phone, app):
    page = phone
    width = 390

    def fits():
        fits_, sizes = no_horizontal_scroll(page)
        assert fits_ and sizes[0] <= width, f"{page.url} scrolls sideways on a phone: {sizes}"

    page.goto(app.url("/"))
    fits()
    save_screenshot(page, "home-phone")
    search_box(page).tap()
    search_for(page, COMMON_WORD)
    fits()
    everything = shown_total(page)
    save_screenshot(page, "search-phone")

    link, label, count, slug = min(facet_choices(page, "source"), key=lambda choice: choice[2])
    open_facets_if_folded(page, link)
    fits()
    link.evaluate("a => a.closest('details').scrollIntoView()")
    page.mouse.move(0, 0)  # no hover left where the finger was, in the picture
    save_screenshot(page, "search-facets-phone")
    with page.expect_navigation():
        link.tap()
    assert query_params(page.url)["source"] == slug
    assert shown_total(page) == count < everything
    fits()

    first = result_links(page).first
    title = " ".join(first.inner_text().split())
    with page.expect_navigation():
        first.tap()
    expect(page.locator("h1")).to_have_text(title)
    fits()
    # Text is read, not zoomed: at least 16 CSS pixels.
    size = page.locator("main p").first.evaluate("p => parseFloat(getComputedStyle(p).fontSize)")
    assert size >= 16
    save_screenshot(page, "article-phone")


def test_slash_focuses_the_search_box(desktop, app):
    page = desktop
    hit = api(app, "/api/search", q="ألاسكا")["results"][0]
    page.goto(app.url(hit["url"]))
    box = search_box(page)
    expect(box).not_to_be_focused()
    page.keyboard.press("/")
    expect(box).to_be_focused()
    expect(box).to_have_value("")  # the slash itself is not typed
    # In the box, a slash is only a character.
    page.keyboard.type("أ/ب")
    expect(box).to_have_value("أ/ب")


def test_keyboard_only(desktop, app):
    page = desktop
    page.goto(app.url("/"))
    # The first Tab offers to skip the header, visibly.
    skip, _ = tab_until(page, lambda el: True, limit=1)
    assert skip["tag"] == "a" and skip["href"].startswith("#"), skip
    box = page.evaluate("document.activeElement.getBoundingClientRect().toJSON()")
    assert box["width"] > 10 and box["height"] > 10 and box["top"] >= 0, f"the skip link stays hidden: {box}"
    assert focus_is_visible(page)

    element, _ = tab_until(page, lambda el: el["name"] == "q", limit=8)
    assert focus_is_visible(page), "the search box shows no focus ring"
    page.keyboard.type(COMMON_WORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert query_params(page.url)["q"] == COMMON_WORD

    first_result, _ = tab_until(page, lambda el: el["inResults"], limit=60)
    assert focus_is_visible(page), "a result link shows no focus ring"
    next_link, _ = tab_until(page, lambda el: "next" in (el["rel"] or "").split(), limit=120)
    assert focus_is_visible(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert query_params(page.url)["page"] == "2"

    result, _ = tab_until(page, lambda el: el["inResults"], limit=60)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith(result["href"]) or PERMALINK.search(page.url)
    expect(page.locator("h1")).to_have_text(result["text"])
