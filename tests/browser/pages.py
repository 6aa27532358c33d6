"""How the browser tests find things on Newsroom's pages, in one place.

Locators go by what a reader perceives (roles, links to permalinks, the
query string a filter link sets) rather than by CSS classes, so that a
restyling does not break the tests but a broken page does.
"""
from __future__ import annotations

import json
import re
import time
from urllib.parse import parse_qs, urlsplit

PERMALINK = re.compile(r"/articles/(\d+)/[^/?#]+/$")
PAGE_SIZE = 20
# Arabic-Indic and Persian digits read as 0-9; thousands separators dropped.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789", "٬,\u066c\u00a0")
ARABIC_MONTHS = (
    "يناير", "فبراير", "مارس", "أبريل", "ابريل", "مايو", "يونيو", "يوليو", "أغسطس", "اغسطس",
    "سبتمبر", "أكتوبر", "اكتوبر", "نوفمبر", "ديسمبر",
    "كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول",
    "تشرين الأول", "تشرين الثاني", "كانون الأول",
)


def latin_digits(text):
    return text.translate(_DIGITS)


def numbers_in(text):
    return [int(n) for n in re.findall(r"\d+", latin_digits(text))]


def api(served, path, **params):
    """The app's JSON API answer (used to know what a page should show)."""
    response = served.get(path, params={k: v for k, v in params.items() if v is not None})
    assert response.status == 200, f"{path} {params} answered {response.status}"
    return json.loads(response.body)


def query_params(url):
    return {key: values[-1] for key, values in parse_qs(urlsplit(url).query).items()}


def search_box(page):
    """The search field (the header's, on every page)."""
    return page.locator("input[name=q]").first


def search_for(page, text):
    box = search_box(page)
    box.fill(text)
    with page.expect_navigation():
        box.press("Enter")


def result_links(page):
    """Title links of the search results (permalinks in headings of the main region)."""
    return page.locator("main :is(h2, h3) a[href*='/articles/']")


def result_titles(page):
    return [" ".join(text.split()) for text in result_links(page).all_inner_texts()]


def result_ids(page):
    ids = []
    for href in result_links(page).evaluate_all("links => links.map(a => a.pathname)"):
        match = PERMALINK.search(href)
        assert match, f"a result links to {href}, not to a permalink"
        ids.append(int(match.group(1)))
    return ids


def facet_choices(page, name):
    """(link, label, count) of each value of the `name` facet (source, topic, year) offered.

    A choice is a link in the main region that sets `name` to a value the
    current page does not have (pagination keeps the current filters).
    """
    current = query_params(page.url).get(name)
    choices = []
    for link in page.locator(f"main a[href*='{name}=']").all():
        value = query_params(link.get_attribute("href")).get(name)
        if value is None or value == current:
            continue
        # textContent: on a phone the facets may be folded away until opened.
        text = " ".join(link.text_content().split())
        counts = numbers_in(text)
        assert counts, f"the {name} facet {text!r} shows no count"
        label = re.sub(r"\(?\s*[\d٠-٩۰-۹,٬]+\s*\)?\s*$", "", text).strip()
        choices.append((link, label, counts[-1], value))
    return choices


def open_facets_if_folded(page, link):
    """On a phone the facets may sit in a folded <details>: open it as a reader would."""
    if link.is_visible():
        return
    summary = link.locator("xpath=ancestor::details[not(@open)][last()]/summary")
    summary.click()
    assert link.is_visible(), "opening the folded facets did not show them"


def main_text(page):
    return " ".join(page.locator("main").inner_text().split())


def shown_total(page):
    """The result count the search page states ("123 نتيجة", Arabic digits allowed)."""
    text = latin_digits(main_text(page))
    if re.search(r"\bلا (?:نتائج|مقالات)\b", text):
        return 0
    match = re.search(r"(\d+)\s*(?:نتيجة|نتائج|مقالة|مقالات|مقال|خبر|أخبار)", text)
    assert match, f"the page states no result count: {text[:300]}"
    return int(match.group(1))


def no_horizontal_scroll(page):
    return page.evaluate(
        "() => document.scrollingElement.scrollWidth <= document.documentElement.clientWidth"
    ), page.evaluate("() => [document.scrollingElement.scrollWidth, document.documentElement.clientWidth]")


def focused(page):
    """A description of the focused element: tag, name, href, text."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            if (!el || el === document.body) return null;
            return {tag: el.tagName.toLowerCase(), name: el.getAttribute('name'),
                    type: el.getAttribute('type'), href: el.getAttribute('href'),
                    rel: el.getAttribute('rel'), current: el.getAttribute('aria-current'),
                    text: (el.innerText || el.value || '').trim().slice(0, 80),
                    inResults: !!el.closest('main') && /\\/articles\\/\\d+\\//.test(el.getAttribute('href') || '')
                               && !!el.closest('h2, h3')};
        }"""
    )


def focus_is_visible(page):
    """The focused element shows a focus ring (outline or box-shadow)."""
    return page.evaluate(
        """() => {
            const style = getComputedStyle(document.activeElement);
            const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
            return outline || (style.boxShadow && style.boxShadow !== 'none');
        }"""
    )


def tab_until(page, predicate, limit=60):
    """Press Tab until predicate(focused element) holds; the elements passed on the way."""
    visited = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        element = focused(page)
        visited.append(element)
        if element and predicate(element):
            return element, visited
    raise AssertionError(f"Tab never reached it in {limit} presses; focus went: {visited}")


def reload_until(page, condition, what, seconds=10.0):
    """Reload until condition(page) holds, as a reader would after an edit.

    Under gunicorn the search index takes an editor's change in a thread
    right after the admin has answered, so the very first reload may come a
    moment early; a change that never reaches search still fails here.
    """
    deadline = time.monotonic() + seconds
    while not condition(page):
        assert time.monotonic() < deadline, f"{what}: not on {page.url} after {seconds:.0f} s"
        page.wait_for_timeout(200)
        page.reload()
