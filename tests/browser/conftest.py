"""Browser fixtures: Debian's chromium, driven by Playwright, against the served app.

The pages are served the way people run them (tests/servers.py: gunicorn on
loopback, production settings, a fresh var dir with the demo data) and opened
in the chromium of the distribution (/usr/bin/chromium), never a browser that
Playwright downloads.

Fixtures
--------
``browser``        one headless chromium for the browser tests of a worker.
``app``            the shared served app (seeds and a sample of the demo corpus).
``editing_app``    a served app of its own for tests that change data (the admin),
                   with a superuser: ``editing_app.admin_credentials``.
``open_page``      ``open_page(device="desktop"|"phone", **context_options)``:
                   a new page in a new context. Every request it makes is
                   recorded (``session.requests``), requests to other hosts are
                   refused, JavaScript errors are collected (``session.errors``),
                   and when the test fails every open page is saved as a PNG in
                   tests/artifacts/.
``desktop``, ``phone``  a page of each kind (1280x900; 390x844 touch phone).
``editor_state``   the cookies of an editor logged in to ``editing_app`` (storage_state).
``axe``            ``axe(path, name, ...)`` runs axe-core on a page and returns its results.

Why the browser is package-scoped, not session-scoped: Playwright's sync API
keeps an asyncio loop running in the main thread while it is started, and
Django then refuses ORM calls ("SynchronousOnlyOperation") in any other test
of the same process. Closing it when the last browser test is done keeps the
rest of the suite unaffected.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.servers import REPO

CHROMIUM = Path(os.environ.get("NEWSROOM_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
DEVICES = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}
ARTIFACTS = REPO / "tests" / "artifacts"
AXE_SCRIPT = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
# docs/screenshots/ is rewritten only when asked (scripts/screenshots.py sets it).
SCREENSHOTS_ENV = "NEWSROOM_SCREENSHOTS"
DOCS_SCREENSHOTS = REPO / "docs" / "screenshots"
DEFAULT_TIMEOUT_MS = 10_000

_reports_key = pytest.StashKey[dict]()


def _in_ci():
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _missing(what):
    """Outside CI a missing tool skips the browser tests; in CI it fails them."""
    if _in_ci():
        pytest.fail(f"{what} (CI must run the browser tests)", pytrace=False)
    pytest.skip(what)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    item.stash.setdefault(_reports_key, {})[report.when] = report
    return report


def _failed(item):
    reports = item.stash.get(_reports_key, {})
    return any(report.failed for report in reports.values())


# ---------------------------------------------------------------------------
# The browser and the servers


@pytest.fixture(scope="package")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        _missing(f"{CHROMIUM} is missing: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def app(served_app):
    """The shared served app; tests must not change its data."""
    return served_app


@pytest.fixture(scope="session")
def editing_app(serve_app):
    """A served app of its own, for tests that tag stories in the admin."""
    editing = serve_app(name="browser-editing", sample=40)
    if not hasattr(editing, "admin_credentials"):
        editing.admin_credentials = editing.create_superuser("editor", "a-long-browser-password-7")
    return editing


# ---------------------------------------------------------------------------
# Pages


@dataclass
class BrowserSession:
    """What one test opened in the browser, and what those pages did."""

    browser: object
    default_app: object   # a callable returning the served app pages open by default
    contexts: list = field(default_factory=list)
    requests: list = field(default_factory=list)   # (url, resource type, page url, app origin)
    refused: list = field(default_factory=list)    # requests to another host, aborted
    errors: list = field(default_factory=list)     # uncaught exceptions and console errors

    @staticmethod
    def is_local(url, origin):
        return url == origin or url.startswith((origin + "/", "data:", "blob:"))

    def new_context(self, device="desktop", served=None, color_scheme="light", **options):
        """A fresh browser context (own cookies, storage) for pages of `served`."""
        origin = (served or self.default_app()).base_url
        context = self.browser.new_context(**DEVICES[device], locale="ar", color_scheme=color_scheme, **options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.on("request", lambda request: self._record_request(request, origin))
        # Nothing may come from another host: refuse it rather than wait for a network there is not.
        context.route(lambda url: not self.is_local(url, origin), self._refuse)
        context.on("page", self._watch_page)
        self.contexts.append(context)
        return context

    def new_page(self, device="desktop", served=None, **options):
        return self.new_context(device, served, **options).new_page()

    def _record_request(self, request, origin):
        try:
            page_url = request.frame.page.url
        except Exception:  # a service worker's request has no frame
            page_url = ""
        self.requests.append((request.url, request.resource_type, page_url, origin))

    def _refuse(self, route):
        self.refused.append(route.request.url)
        route.abort("blockedbyclient")

    def _watch_page(self, page):
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: uncaught {error}"))
        page.on(
            "console",
            lambda message: message.type == "error"
            and self.errors.append(f"{page.url}: console error: {message.text}"),
        )

    def foreign_requests(self):
        return [(url, page) for url, _, page, origin in self.requests if not self.is_local(url, origin)]

    def pages(self):
        return [page for context in self.contexts for page in context.pages]

    def close(self):
        for context in self.contexts:
            context.close()
        self.contexts.clear()


def _artifact_name(nodeid):
    return re.sub(r"[^\w.-]+", "_", nodeid.split("::", 1)[-1])[:120]


@pytest.fixture
def browser_session(browser, request):
    session = BrowserSession(browser=browser, default_app=lambda: request.getfixturevalue("app"))
    yield session
    if _failed(request.node):
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for number, page in enumerate(session.pages(), 1):
            target = ARTIFACTS / f"{_artifact_name(request.node.nodeid)}-{number}.png"
            try:
                page.screenshot(path=str(target), full_page=True)
                print(f"screenshot of {page.url} saved to {target}")
            except Exception as error:  # a crashed page cannot be photographed
                print(f"no screenshot of {page.url}: {error}")
    session.close()


@pytest.fixture
def open_page(browser_session):
    return browser_session.new_page


@pytest.fixture
def desktop(open_page):
    return open_page("desktop")


@pytest.fixture
def phone(open_page):
    return open_page("phone")


@pytest.fixture
def editor_state(editing_app, open_page):
    """The cookies of an editor logged in to `editing_app`, for a context of its own."""
    page = open_page("desktop", served=editing_app)
    log_in(page, editing_app)
    return page.context.storage_state()


# ---------------------------------------------------------------------------
# Helpers used by several test modules


def log_in(page, served, next_path="/admin/"):
    """Log in to the admin through its form, as an editor does."""
    username, password = served.admin_credentials
    page.goto(served.url(f"/admin/login/?next={next_path}"))
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    with page.expect_navigation():
        page.locator("#login-form [type=submit]").click()
    assert "/admin/login/" not in page.url, "the admin refused the superuser's password"


def save_screenshot(page, name):
    """Keep a screenshot of a main page; into docs/screenshots/ when asked to."""
    targets = [ARTIFACTS / "screenshots" / f"{name}.png"]
    if os.environ.get(SCREENSHOTS_ENV):
        targets.append(DOCS_SCREENSHOTS / f"{name}.png")
    # Fonts and layout settled, so the picture shows what a reader sees.
    page.evaluate("document.fonts.ready.then(() => true)")
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(target), animations="disabled", caret="initial")
    return targets


IMPACTS = ("critical", "serious", "moderate", "minor")


@dataclass
class AxeResult:
    name: str
    url: str
    violations: list
    passes: int
    incomplete: list   # ids of rules axe could not decide alone

    def by_impact(self):
        counts = dict.fromkeys(IMPACTS, 0)
        for violation in self.violations:
            counts[violation.get("impact") or "minor"] += len(violation["nodes"])
        return counts

    def blocking(self):
        return [v for v in self.violations if v.get("impact") in ("serious", "critical")]

    def describe(self, violations=None):
        lines = []
        for violation in self.violations if violations is None else violations:
            targets = ", ".join(" ".join(map(str, node["target"])) for node in violation["nodes"][:5])
            lines.append(
                f"  [{violation.get('impact')}] {violation['id']}: {violation['help']} "
                f"({len(violation['nodes'])} element(s): {targets})"
            )
        return "\n".join(lines)

    def summary(self):
        counts = ", ".join(f"{impact} {count}" for impact, count in self.by_impact().items())
        text = f"{self.name} {unquote(self.url)}: {len(self.violations)} rule(s) violated ({counts}); " \
               f"{self.passes} rules passed, {len(self.incomplete)} need a person's review {self.incomplete}"
        return text + ("\n" + self.describe() if self.violations else "")


@pytest.fixture
def axe(browser_session):
    """Run axe-core on a page and return an AxeResult.

    axe is injected as an inline script; a Content-Security-Policy that
    forbids inline scripts (as it should) would block it, so the axe run (and
    only it) uses a context that bypasses CSP.
    """
    if not AXE_SCRIPT.exists():
        _missing(f"{AXE_SCRIPT} is missing: cd tests/browser && npm ci")

    def run(path, name, served=None, device="desktop", storage_state=None, color_scheme="light", prepare=None):
        page = browser_session.new_page(
            device, served, bypass_csp=True, storage_state=storage_state, color_scheme=color_scheme
        )
        page.goto((served or browser_session.default_app()).url(path))
        if prepare:
            prepare(page)
        page.evaluate("document.fonts.ready.then(() => true)")
        page.add_script_tag(path=str(AXE_SCRIPT))
        raw = page.evaluate(
            """async () => {
                const results = await axe.run(document, {
                    runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
                    resultTypes: ["violations"],
                });
                return {violations: results.violations, passes: results.passes.length,
                        incomplete: results.incomplete.map(rule => rule.id)};
            }"""
        )
        result = AxeResult(name, page.url, raw["violations"], raw["passes"], raw["incomplete"])
        target = ARTIFACTS / "axe" / f"{name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(raw, ensure_ascii=False, indent=1), encoding="utf-8")
        page.context.close()
        browser_session.contexts.remove(page.context)
        return result

    return run
