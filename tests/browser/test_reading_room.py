"""How the pages look and behave for an Arabic reader: right to left, the
bundled Arabic font, readable lines, dark mode, print, phones, and nothing
loaded from anywhere but the app itself.
"""
import re
from urllib.parse import unquote

import pytest
from playwright.sync_api import expect

from tests.browser.pages import ARABIC_MONTHS, api, no_horizontal_scroll

pytestmark = pytest.mark.browser

COMMON_WORD = "الرئيس"

# The page's effective background and text colours, with their relative luminance.
PAGE_COLOURS = """() => {
    const parse = c => (c.match(/[\\d.]+/g) || []).map(Number);
    const luminance = ([r, g, b]) => {
        const lin = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
        return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b);
    };
    let background = [255, 255, 255];
    for (const el of [document.querySelector('main'), document.body, document.documentElement]) {
        const c = parse(getComputedStyle(el).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0)) { background = c.slice(0, 3); break; }
    }
    const text = parse(getComputedStyle(document.querySelector('main p, main') ).color).slice(0, 3);
    return {background, text, backgroundLuminance: luminance(background), textLuminance: luminance(text)};
}"""


@pytest.fixture(scope="module")
def dated_article(app):
    """An article of the demo corpus with a date and a Latin-named outlet."""
    for hit in api(app, "/api/search", q=COMMON_WORD)["results"]:
        if hit["published"] and re.search("[A-Za-z]", hit["source"] or ""):
            return hit
    pytest.fail("no dated article from a Latin-named outlet among the results")


@pytest.fixture(scope="module")
def public_paths(app, dated_article):
    """One page of each kind a reader visits."""
    year, month = dated_article["published"][:4], int(dated_article["published"][5:7])
    paths = [
        "/", f"/search/?q={COMMON_WORD}", "/search/?q=", "/search/?q=كلمةلاتوجدابدا", dated_article["url"],
        "/topics/", "/sources/", "/archive/", f"/archive/{year}/", f"/archive/{year}/{month}/",
        "/about/", "/no-such-page/",
    ]
    # A topic's and an outlet's own page, as their list pages link them.
    for listing in ("/topics/", "/sources/"):
        hrefs = re.findall(rf'href="({listing}[^"/]+/)"', app.get(listing).text)
        assert hrefs, f"{listing} links to no page of its own"
        paths.append(unquote(hrefs[0]))
    return paths


def test_every_page_is_arabic_and_right_to_left(desktop, app, public_paths):
    page = desktop
    problems = []
    for path in public_paths:
        page.goto(app.url(path))
        state = page.evaluate(
            """() => ({lang: document.documentElement.lang, dir: document.documentElement.dir,
                      direction: getComputedStyle(document.body).direction,
                      mainDirection: getComputedStyle(document.querySelector('main') || document.body).direction,
                      title: document.title, h1: document.querySelectorAll('h1').length})"""
        )
        if not (state["lang"] == "ar" and state["dir"] == "rtl" and state["direction"] == "rtl"
                and state["mainDirection"] == "rtl" and state["title"].strip() and state["h1"] == 1):
            problems.append((path, state))
    assert not problems, problems


def test_the_bundled_arabic_font_draws_the_text(desktop, app, dated_article, browser_session):
    page = desktop
    page.goto(app.url(dated_article["url"]))
    page.evaluate("document.fonts.ready.then(() => true)")

    declared = page.evaluate(
        """() => {
            const families = [];
            for (const sheet of document.styleSheets) {
                let rules; try { rules = sheet.cssRules; } catch (e) { continue; }
                for (const rule of rules) {
                    if (rule instanceof CSSFontFaceRule) families.push(
                        rule.style.getPropertyValue('font-family').replace(/["']/g, '').trim());
                }
            }
            return families;
        }"""
    )
    assert declared, "no @font-face in the app's stylesheets: the Arabic font is not bundled"
    loaded = page.evaluate(
        "() => [...document.fonts].filter(f => f.status === 'loaded').map(f => f.family.replace(/[\"']/g, ''))"
    )
    assert set(loaded) & set(declared), f"declared {declared}, loaded {loaded}"
    font_files = [url for url, kind, _, _ in browser_session.requests if kind == "font"]
    assert font_files and all(url.startswith(app.base_url + "/static/") for url in font_files), font_files

    # What chromium really drew the Arabic with, glyph by glyph.
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
    for selector in ("h1", "main p"):
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        total = sum(font["glyphCount"] for font in fonts)
        bundled = sum(font["glyphCount"] for font in fonts if font["isCustomFont"])
        assert total and bundled / total >= 0.9, f"{selector} drawn with {fonts}, not the bundled font"


def test_article_text_is_comfortable_to_read(desktop, app, dated_article):
    page = desktop
    page.goto(app.url(dated_article["url"]))
    page.evaluate("document.fonts.ready.then(() => true)")
    measure = page.evaluate(
        """() => {
            const paragraphs = [...document.querySelectorAll('main p')];
            const p = paragraphs.sort((a, b) => b.innerText.length - a.innerText.length)[0];
            const style = getComputedStyle(p);
            const range = document.createRange();
            range.selectNodeContents(p);
            const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
            return {chars: p.innerText.length, lines: tops.size, fontSize: parseFloat(style.fontSize),
                    lineHeight: parseFloat(style.lineHeight) / parseFloat(style.fontSize),
                    align: style.textAlign};
        }"""
    )
    per_line = measure["chars"] / measure["lines"]
    assert measure["lines"] >= 2, measure
    assert 35 <= per_line <= 95, f"{per_line:.0f} characters a line: {measure}"
    assert measure["fontSize"] >= 17, measure
    assert measure["lineHeight"] >= 1.6, measure
    assert measure["align"] in ("start", "right", "justify"), measure


def test_dates_have_arabic_month_names(desktop, app, dated_article):
    page = desktop
    page.goto(app.url(dated_article["url"]))
    date = page.locator("main time[datetime]").first
    expect(date).to_be_visible()
    assert date.get_attribute("datetime").startswith(dated_article["published"][:10])
    text = date.inner_text()
    assert any(month in text for month in ARABIC_MONTHS), f"no Arabic month name in {text!r}"


def test_latin_outlet_names_are_isolated_from_arabic_text(desktop, app, dated_article):
    """A name like "BBC Arabic" next to Arabic text and numbers keeps its own direction."""
    page = desktop
    page.goto(app.url(f"/search/?q={COMMON_WORD}"))
    names = page.locator("main").get_by_text(re.compile(r"^[A-Za-z][A-Za-z0-9 .&'-]+$"))
    assert names.count() >= 1, "the results show no outlet with a Latin name"
    not_isolated = names.evaluate_all(
        """elements => elements.filter(el => {
            for (let node = el; node && node !== document.body; node = node.parentElement) {
                const bidi = getComputedStyle(node).unicodeBidi;
                if (['isolate', 'isolate-override', 'plaintext'].includes(bidi)) return false;
                if (node.tagName === 'BDI' || node.hasAttribute('dir')) return false;
                if (getComputedStyle(node).display !== 'inline') break;
            }
            return true;
        }).map(el => el.outerHTML.slice(0, 120))"""
    )
    assert not not_isolated, not_isolated


def test_dark_mode_follows_the_system(open_page, app, dated_article):
    colours = {}
    for scheme in ("light", "dark"):
        page = open_page("desktop", color_scheme=scheme)
        page.goto(app.url(dated_article["url"]))
        colours[scheme] = page.evaluate(PAGE_COLOURS)
    light, dark = colours["light"], colours["dark"]
    assert light["background"] != dark["background"], colours
    assert light["backgroundLuminance"] > 0.7 > 0.2 > dark["backgroundLuminance"], colours
    assert dark["textLuminance"] > dark["backgroundLuminance"] + 0.3, colours
    assert light["textLuminance"] < light["backgroundLuminance"] - 0.3, colours


def test_articles_print_as_text_without_the_site_around_it(open_page, app, dated_article):
    page = open_page("desktop")
    page.goto(app.url(dated_article["url"]))
    page.emulate_media(media="print", color_scheme="dark")
    expect(page.locator("h1")).to_be_visible()
    expect(page.locator("main p").first).to_be_visible()
    # Reading aids that mean nothing on paper are left out.
    expect(page.locator("input[name=q]").first).to_be_hidden()
    expect(page.get_by_role("button", name=re.compile("نسخ|رابط"))).to_be_hidden()
    colours = page.evaluate(PAGE_COLOURS)
    assert colours["backgroundLuminance"] > 0.9 and colours["textLuminance"] < 0.1, colours
    # The paper says where the article lives, in a link a reader can type, and it leads back here.
    printed = re.findall(r"https?://\S+", page.locator("body").inner_text())
    assert printed, "the printed page does not give the article's address"
    assert len(printed[0]) < 60 and "%" not in printed[0], printed[0]
    reader = open_page("desktop")
    reader.goto(printed[0])
    assert reader.url == page.url
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")


def test_every_request_goes_to_the_app_itself(open_page, app, public_paths, browser_session):
    for device in ("desktop", "phone"):
        page = open_page(device)
        for path in public_paths:
            page.goto(app.url(path))
            page.evaluate("document.fonts.ready.then(() => true)")
    assert not browser_session.foreign_requests(), browser_session.foreign_requests()
    assert not browser_session.refused, browser_session.refused
    kinds = {kind for url, kind, _, _ in browser_session.requests}
    assert {"document", "stylesheet", "font"} <= kinds, kinds
    favicon = page.locator("link[rel~=icon]").first.get_attribute("href")
    assert favicon and app.get(favicon).status == 200, favicon
    # The one error the browser may log is the 404 status of the page that is meant to be missing.
    errors = [e for e in browser_session.errors if not ("/no-such-page/" in e and "404" in e)]
    assert not errors, errors


def test_no_page_scrolls_sideways_on_a_phone(phone, app, public_paths):
    page = phone
    overflowing = []
    for path in public_paths:
        page.goto(app.url(path))
        fits, sizes = no_horizontal_scroll(page)
        if not fits or sizes[0] > 390:
            wide = page.evaluate(
                """() => [...document.querySelectorAll('body *')]
                    .filter(el => el.getBoundingClientRect().left < -1 || el.getBoundingClientRect().right > innerWidth + 1)
                    .slice(0, 5).map(el => el.tagName + '.' + el.className)"""
            )
            overflowing.append((path, sizes, wide))
    assert not overflowing, overflowing
