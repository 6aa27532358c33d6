"""The app as people run it: gunicorn, production settings, whitenoise.

These talk HTTP to a real gunicorn (tests/servers.py) serving the seed
articles and a sample of the demo corpus from a fresh var dir.
"""

import gzip
import json
import os
import re
import runpy
import signal
import subprocess
import sys
import time

import pytest
from django.utils.html import escape

from tests.servers import REPO, _free_port

ARABIC_LETTER = re.compile("[\u0621-\u064a]")
STYLESHEET_LINK = re.compile(r"<link\b[^>]*\brel=\"stylesheet\"[^>]*>")
HREF = re.compile(r"\bhref=\"([^\"]+)\"")


@pytest.fixture(scope="module")
def newest_article(served_app):
    """The newest article in the served archive: its permalink and title."""
    printed = served_app.shell(
        "import json; from articles.models import Article\n"
        "a = Article.objects.published().first()\n"
        "print(json.dumps({'url': a.get_absolute_url(), 'title': a.title}))"
    )
    return json.loads(printed.strip().splitlines()[-1])


def assert_arabic_page(response):
    assert response.status == 200, response.text[:500]
    assert response.headers.get_content_type() == "text/html"
    assert 'dir="rtl"' in response.text
    assert 'lang="ar"' in response.text
    assert ARABIC_LETTER.search(response.text)


@pytest.mark.server
def test_health_check_answers(served_app):
    assert served_app.get("/healthz").status == 200


@pytest.mark.server
def test_each_worker_opens_the_search_index_before_its_first_request(served_app):
    def opened():
        log = served_app.log_path.read_text(errors="replace")
        booted = len(re.findall(r"Booting worker with pid", log))
        return booted, re.findall(r"opened the search index ahead of the first request: (\d+) articles", log)

    deadline = time.monotonic() + 60
    booted, totals = opened()
    while len(totals) < booted and time.monotonic() < deadline:
        time.sleep(0.2)  # a worker may still be starting after the first one answered
        booted, totals = opened()
    assert booted >= 1 and len(totals) == booted, served_app.log_tail(40)
    articles = int(served_app.shell("from articles.models import Article; print(Article.objects.count())").split()[-1])
    assert all(int(total) == articles for total in totals)


@pytest.mark.server
def test_home_page_lists_the_newest_article_right_to_left(served_app, newest_article):
    response = served_app.get("/")
    assert_arabic_page(response)
    assert escape(newest_article["title"]) in response.text


@pytest.mark.server
def test_search_page_finds_an_article_by_its_title(served_app, newest_article):
    response = served_app.get("/search/", params={"q": newest_article["title"]})
    assert_arabic_page(response)
    assert f'href="{newest_article["url"]}"' in response.text


@pytest.mark.server
def test_permalink_shows_the_article_right_to_left(served_app, newest_article):
    response = served_app.get(newest_article["url"])
    assert_arabic_page(response)
    assert escape(newest_article["title"]) in response.text


@pytest.mark.server
def test_stylesheet_is_compressed_and_cached_for_a_year(served_app):
    links = STYLESHEET_LINK.findall(served_app.get("/").text)
    assert links, "the home page links no stylesheet"
    css_url = HREF.search(links[0]).group(1)

    plain = served_app.get(css_url)
    assert plain.status == 200
    assert plain.headers.get_content_type() == "text/css"
    assert plain.headers.get("Content-Encoding") is None

    compressed = served_app.get(css_url, headers={"Accept-Encoding": "gzip"})
    assert compressed.status == 200
    assert compressed.headers.get("Content-Encoding") == "gzip"
    assert "Accept-Encoding" in compressed.headers.get("Vary", "")
    assert gzip.decompress(compressed.body) == plain.body
    assert len(compressed.body) < len(plain.body)

    # A hashed file name (manifest storage) never changes content: cached for good.
    cache_control = compressed.headers.get("Cache-Control", "")
    max_age = int(re.search(r"max-age=(\d+)", cache_control).group(1))
    assert max_age >= 365 * 24 * 3600
    assert "immutable" in cache_control


@pytest.mark.server
def test_missing_page_is_the_styled_404_not_the_debug_page(served_app):
    response = served_app.get("/no-such-page-صفحة/")
    assert response.status == 404
    assert 'dir="rtl"' in response.text
    assert STYLESHEET_LINK.search(response.text), "the 404 page is not styled like the site"
    for debug_sign in ("DEBUG = True", "Page not found at", "URLconf", "Traceback"):
        assert debug_sign not in response.text


def production_env(var_dir, **extra):
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="newsroom.settings",
        NEWSROOM_VAR_DIR=str(var_dir),
        DEBUG="0",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


def test_check_refuses_to_run_without_a_secret_key(tmp_path):
    command = [sys.executable, "manage.py", "check"]
    refused = subprocess.run(
        command, cwd=REPO, env=production_env(tmp_path), capture_output=True, text=True, timeout=120
    )
    assert refused.returncode != 0
    assert "SECRET_KEY is not set" in refused.stderr

    # The same command with a key passes: the key was the only thing missing.
    accepted = subprocess.run(
        command,
        cwd=REPO,
        env=production_env(tmp_path, SECRET_KEY="k" * 50),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert accepted.returncode == 0, accepted.stderr


@pytest.mark.server
def test_gunicorn_refuses_to_serve_without_a_secret_key(tmp_path):
    env = production_env(tmp_path, NEWSROOM_BIND=f"127.0.0.1:{_free_port()}", WEB_CONCURRENCY="1")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py", "newsroom.wsgi:application"],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
    assert server.returncode != 0
    assert "SECRET_KEY is not set" in output


def load_gunicorn_config(monkeypatch, **env):
    for name in ("WEB_CONCURRENCY", "NEWSROOM_BIND", "GUNICORN_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(REPO / "gunicorn.conf.py"))


def test_gunicorn_config_defaults_to_loopback_and_capped_workers(monkeypatch):
    config = load_gunicorn_config(monkeypatch)
    assert config["bind"] == ["127.0.0.1:8000"]
    assert config["preload_app"] is False
    assert config["default_workers"](cores=1) == 2
    assert config["default_workers"](cores=2) == 2
    assert config["default_workers"](cores=4) == 4
    assert config["default_workers"](cores=32) == config["MAX_DEFAULT_WORKERS"]


def test_gunicorn_config_reads_the_environment(monkeypatch):
    config = load_gunicorn_config(monkeypatch, WEB_CONCURRENCY="3", NEWSROOM_BIND="0.0.0.0:9000")
    assert config["workers"] == 3
    assert config["bind"] == ["0.0.0.0:9000"]

    with pytest.raises(SystemExit, match="WEB_CONCURRENCY"):
        load_gunicorn_config(monkeypatch, WEB_CONCURRENCY="many")
