"""Let no one in: settings that fail closed, production checks, security
headers and a policy the pages actually keep, staff-only admin with throttled
sign-ins, CSRF everywhere, and a rate limit on the search API."""
import json
import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import translation

from articles import security

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple 42"

PRODUCTION_ENV = {
    "SECRET_KEY": "x" * 10 + secrets.token_urlsafe(50),
    "DEBUG": "0",
    "ALLOWED_HOSTS": "news.example.org",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_COOKIES": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "SECURE_PROXY_SSL_HEADER": "1",
}
EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


@pytest.fixture(autouse=True)
def fresh_counters():
    caches[security.SECURITY_CACHE].clear()
    yield
    caches[security.SECURITY_CACHE].clear()


# ---------------------------------------------------------------------------
# Settings fail closed


def run_python(code, env_overrides, var_dir):
    """Run `code` in a fresh process with newsroom.settings and only this environment."""
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    env.update(DJANGO_SETTINGS_MODULE="newsroom.settings", NEWSROOM_VAR_DIR=str(var_dir))
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


SHOW_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({name: getattr(s, name, None) for name in ("
    "'DEBUG', 'SECURE_SSL_REDIRECT', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', "
    "'SECURE_HSTS_SECONDS', 'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_HSTS_PRELOAD', "
    "'SECURE_PROXY_SSL_HEADER', 'ALLOWED_HOSTS')}))"
)


def test_without_a_secret_key_production_refuses_to_start(tmp_path):
    done = run_python(SHOW_SETTINGS, {}, tmp_path)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "SECRET_KEY" in done.stderr


def test_debug_is_off_unless_asked_for(tmp_path):
    done = run_python(SHOW_SETTINGS, {"SECRET_KEY": "k" * 60}, tmp_path)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["DEBUG"] is False
    assert shown["SECURE_SSL_REDIRECT"] is False  # plain HTTP on a developer's machine
    assert shown["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost", "[::1]"]


def test_only_development_runs_without_a_key(tmp_path):
    done = run_python(SHOW_SETTINGS, {"DEBUG": "1"}, tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["DEBUG"] is True


def test_a_misspelt_switch_is_an_error_not_a_default(tmp_path):
    done = run_python(SHOW_SETTINGS, {"SECRET_KEY": "k" * 60, "DEBUG": "maybe"}, tmp_path)
    assert done.returncode != 0
    assert "DEBUG must be true or false" in done.stderr


def test_https_settings_are_switched_on_by_the_environment(tmp_path):
    done = run_python(SHOW_SETTINGS, PRODUCTION_ENV, tmp_path)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["SECURE_SSL_REDIRECT"] is True
    assert shown["SESSION_COOKIE_SECURE"] is True
    assert shown["CSRF_COOKIE_SECURE"] is True
    assert shown["SECURE_HSTS_SECONDS"] == 31536000
    assert shown["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True and shown["SECURE_HSTS_PRELOAD"] is True
    assert shown["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert shown["ALLOWED_HOSTS"] == ["news.example.org"]


def test_check_deploy_is_clean_with_the_production_environment(tmp_path):
    code = "import sys; from django.core.management import execute_from_command_line as run; run(sys.argv)"
    done = run_python(code.replace("sys.argv", "['manage.py', 'check', '--deploy', '--fail-level', 'WARNING']"),
                      PRODUCTION_ENV, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
    # And it does complain when the environment leaves HTTPS off.
    lax = run_python(code.replace("sys.argv", "['manage.py', 'check', '--deploy']"),
                     {"SECRET_KEY": PRODUCTION_ENV["SECRET_KEY"]}, tmp_path)
    assert "security.W008" in lax.stdout + lax.stderr


# ---------------------------------------------------------------------------
# HTTPS behind the proxy, in behaviour


@pytest.mark.django_db
def test_https_redirect_hsts_and_secure_cookies_when_switched_on(settings, client):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True

    plain = client.get("/about/")
    assert plain.status_code == 301 and plain["Location"] == "https://testserver/about/"
    # The container's healthcheck speaks plain HTTP to the app itself.
    assert client.get("/healthz").status_code == 200

    behind_proxy = client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")
    assert behind_proxy.status_code == 200
    assert behind_proxy["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert behind_proxy.cookies["csrftoken"]["secure"] is True


# ---------------------------------------------------------------------------
# Headers, and pages that keep the Content-Security-Policy


@pytest.fixture
def archive(search_index, make_article, django_capture_on_commit_callbacks):
    import datetime

    with django_capture_on_commit_callbacks(execute=True):
        return make_article(
            title="المفاوضات بين موسكو وكييف",
            body="تعثرت المفاوضات.\nفقرة ثانية.",
            topics=["سياسة"],
            published=datetime.date(2018, 3, 1),
        )


def public_pages(article):
    return [
        "/",
        "/search/?q=المفاوضات",
        "/search/",
        article.get_absolute_url(),
        article.source.get_absolute_url(),
        article.topics.get().get_absolute_url(),
        "/sources/",
        "/topics/",
        "/archive/",
        "/archive/2018/",
        "/archive/2018/3/",
        "/about/",
        "/no-such-page/",
    ]


@pytest.mark.django_db
def test_every_answer_carries_the_security_headers(client, archive):
    for path in [*public_pages(archive), "/api/search?q=المفاوضات", f"/api/articles/{archive.pk}", "/admin/login/"]:
        response = client.get(path)
        assert response["Content-Security-Policy"] == EXPECTED_CSP, path
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["Referrer-Policy"] == "same-origin", path
        assert response["X-Frame-Options"] == "DENY", path
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", path
        assert "camera=()" in response["Permissions-Policy"], path


class InlineCode(HTMLParser):
    """What a policy without 'unsafe-inline' blocks: inline scripts, inline
    styles, event-handler attributes and javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.found = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self._in_script = "src" not in attributes
        if tag == "style":
            self.found.append("<style> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name == "style":
                self.found.append(f"<{tag} style=…>")
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}=javascript:…>")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append(f"inline <script>: {data.strip()[:60]}")


def inline_code(html):
    parser = InlineCode()
    parser.feed(html)
    return parser.found


@pytest.fixture
def staff_client(db):
    user = get_user_model().objects.create_superuser("chief", "chief@example.org", PASSWORD)
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_public_pages_have_no_inline_script_or_style(client, archive):
    for path in public_pages(archive):
        html = client.get(path).content.decode()
        assert inline_code(html) == [], f"{path} needs 'unsafe-inline' under our CSP"


@pytest.mark.django_db
def test_admin_pages_have_no_inline_script_or_style(client, staff_client, archive):
    pages = [
        "/admin/",
        "/admin/articles/article/",
        "/admin/articles/article/add/",
        f"/admin/articles/article/{archive.pk}/change/",
        "/admin/articles/topic/",
        "/admin/articles/source/add/",
    ]
    assert inline_code(client.get("/admin/login/").content.decode()) == []
    for path in pages:
        response = staff_client.get(path)
        assert response.status_code == 200, path
        assert inline_code(response.content.decode()) == [], f"{path} needs 'unsafe-inline' under our CSP"


# ---------------------------------------------------------------------------
# The admin: staff only, throttled sign-ins, CSRF


def log_in(client, username, password=PASSWORD, ip="10.0.0.1"):
    return client.post(
        "/admin/login/",
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


def signed_in(response):
    return response.status_code == 302 and response["Location"] == "/admin/"


@pytest.fixture
def editor(db):
    return get_user_model().objects.create_user("editor", "editor@example.org", PASSWORD, is_staff=True)


@pytest.mark.django_db
def test_the_admin_is_for_staff_only(client, editor):
    assert client.get("/admin/").status_code == 302
    reader = get_user_model().objects.create_user("reader", "reader@example.org", PASSWORD)
    refused = log_in(client, reader.username)
    assert refused.status_code == 200 and not signed_in(refused)
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    # Even signed in elsewhere, a non-staff user gets no admin page.
    client.force_login(reader)
    assert client.get("/admin/articles/article/").status_code == 302

    staff = Client()
    assert signed_in(log_in(staff, editor.username))
    assert staff.get("/admin/").status_code == 200


def lockout_text(minutes):
    return str(security.LOCKED_OUT_MESSAGE) % {"minutes": minutes}


@pytest.mark.django_db
def test_failed_sign_ins_lock_the_account_for_that_address(settings, client, editor):
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_LOCKOUT_SECONDS = 900
    for _attempt in range(4):
        assert not signed_in(log_in(client, "editor", "wrong password"))
    fifth = log_in(client, "editor", "wrong password")
    assert lockout_text(15) in fifth.content.decode()

    # Now even the right password is refused from this address...
    locked = log_in(client, "editor")
    assert not signed_in(locked)
    assert lockout_text(15) in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # ...and the Editor working from elsewhere is not locked out.
    assert signed_in(log_in(Client(), "EDITOR".lower(), ip="10.0.0.2"))


@pytest.mark.django_db
def test_the_lockout_ends_after_its_time(settings, client, editor, monkeypatch):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_LOCKOUT_SECONDS = 600
    now = [1_000_000.0]
    monkeypatch.setattr(security.time, "time", lambda: now[0])
    for _attempt in range(3):
        log_in(client, "editor", "wrong password")
    assert not signed_in(log_in(client, "editor"))
    now[0] += 599
    assert lockout_text(1) in log_in(client, "editor").content.decode()
    now[0] += 2
    assert signed_in(log_in(client, "editor"))


@pytest.mark.django_db
def test_one_address_trying_many_names_is_locked_out_too(settings, client, editor):
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_FAILURE_LIMIT_PER_IP = 8
    for n in range(8):
        log_in(client, f"guess{n}", "wrong password")
    assert not signed_in(log_in(client, "editor"))
    assert signed_in(log_in(Client(), "editor", ip="10.0.0.9"))


@pytest.mark.django_db
def test_a_right_password_clears_the_accounts_failures(settings, client, editor):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _round in range(3):
        log_in(client, "editor", "wrong password")
        log_in(client, "editor", "wrong password")
        assert signed_in(log_in(client, "editor"))
        client.logout()


@pytest.mark.django_db
def test_the_throttle_refuses_sign_ins_outside_the_admin_form_too(settings, editor, rf):
    """Any django.contrib.auth sign-in goes through the throttled backend."""
    from django.contrib.auth import authenticate

    settings.LOGIN_FAILURE_LIMIT = 2
    request = rf.post("/elsewhere/", REMOTE_ADDR="10.0.0.5")
    assert authenticate(request, username="editor", password="wrong") is None
    assert authenticate(request, username="editor", password="wrong") is None
    assert authenticate(request, username="editor", password=PASSWORD) is None
    assert authenticate(rf.post("/", REMOTE_ADDR="10.0.0.6"), username="editor", password=PASSWORD) == editor


@pytest.mark.django_db
def test_failures_counted_by_one_worker_lock_out_in_another(settings, editor, rf):
    """Gunicorn workers are separate processes: the counters must be shared."""
    settings.LOGIN_FAILURE_LIMIT = 3
    code = (
        "import django; django.setup()\n"
        "from django.test import RequestFactory\n"
        "from articles import security\n"
        "request = RequestFactory().post('/admin/login/', REMOTE_ADDR='10.0.0.7')\n"
        "for _ in range(3): security.record_login_failure(request, 'editor')\n"
    )
    env = {
        "SECRET_KEY": "k" * 60,
        "NEWSROOM_VAR_DIR": str(django_settings.VAR_DIR),
        "LOGIN_FAILURE_LIMIT": "3",
    }
    done = run_python(code, env, django_settings.VAR_DIR)
    assert done.returncode == 0, done.stderr
    assert security.login_locked_for(rf.post("/", REMOTE_ADDR="10.0.0.7"), "editor") > 0


@pytest.mark.django_db
def test_the_lockout_message_is_in_arabic():
    with translation.override("ar"):
        text = str(security.LOCKED_OUT_MESSAGE) % {"minutes": 15}
    assert re.search("[\u0600-\u06ff]", text), f"not translated: {text}"


@pytest.mark.django_db
def test_csrf_is_enforced_on_the_admin(editor, archive):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/admin/login/", {"username": "editor", "password": PASSWORD}).status_code == 403

    form = strict.get("/admin/login/")
    token = form.cookies["csrftoken"].value
    answer = strict.post(
        "/admin/login/", {"username": "editor", "password": PASSWORD, "next": "/admin/", "csrfmiddlewaretoken": token}
    )
    assert signed_in(answer)
    # Signed in, a forged form is still refused.
    forged = strict.post(f"/admin/articles/article/{archive.pk}/delete/", {"post": "yes"})
    assert forged.status_code == 403


def all_views(resolver=None):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from all_views(pattern)
        elif isinstance(pattern, URLPattern):
            yield pattern


def test_no_view_is_exempt_from_csrf():
    exempt = [str(p.pattern) for p in all_views() if getattr(p.callback, "csrf_exempt", False)]
    assert exempt == []


# ---------------------------------------------------------------------------
# Rate limit on the search API


@pytest.mark.django_db
def test_the_search_api_answers_429_beyond_the_limit(settings, client, archive):
    settings.API_RATE_LIMIT_REQUESTS = 3
    settings.API_RATE_LIMIT_WINDOW = 60
    for _request in range(3):
        assert client.get("/api/search", {"q": "المفاوضات"}, REMOTE_ADDR="10.1.0.1").status_code == 200
    limited = client.get("/api/search", {"q": "المفاوضات"}, REMOTE_ADDR="10.1.0.1")
    assert limited.status_code == 429
    assert limited["Content-Type"].startswith("application/json")
    assert 1 <= int(limited["Retry-After"]) <= 60
    payload = json.loads(limited.content)
    assert payload["error"] and payload["retry_after"] == int(limited["Retry-After"])
    # Others are not limited, nor are the pages.
    assert client.get("/api/search", {"q": "المفاوضات"}, REMOTE_ADDR="10.1.0.2").status_code == 200
    assert client.get("/search/", {"q": "المفاوضات"}, REMOTE_ADDR="10.1.0.1").status_code == 200


@pytest.mark.django_db
def test_the_limit_reads_the_client_behind_a_trusted_proxy_only(settings, client, archive):
    settings.API_RATE_LIMIT_REQUESTS = 1
    # No proxy declared: X-Forwarded-For is the client's own say, ignored.
    assert client.get("/api/search", REMOTE_ADDR="10.2.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1").status_code == 200
    assert client.get("/api/search", REMOTE_ADDR="10.2.0.1", HTTP_X_FORWARDED_FOR="2.2.2.2").status_code == 429

    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "127.0.0.1"
    # The proxy appends the real client; what the client wrote before is ignored.
    assert client.get("/api/search", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="9.9.9.9, 3.3.3.3").status_code == 200
    assert client.get("/api/search", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="8.8.8.8, 3.3.3.3").status_code == 429
    assert client.get("/api/search", REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="4.4.4.4").status_code == 200


@pytest.mark.django_db
def test_a_limit_of_zero_switches_it_off(settings, client, archive):
    settings.API_RATE_LIMIT_REQUESTS = 0
    for _request in range(30):
        assert client.get("/api/search", REMOTE_ADDR="10.3.0.1").status_code == 200
