"""Two app servers on one PostgreSQL and one SolrCloud, as the README's cluster layout.

The acceptance test of "app servers keep no state of their own": with the
settings `scripts/cluster up` exports and nothing else changed, an article
imported while two servers run is found through each of them within a few
seconds, a page either server cached before stops being served, and an
editor's change on one server shows on the other.

Servers A and B are real gunicorns (tests/servers.py) with var dirs of their
own, so they share nothing on disk, like two machines. Their environment is
the cluster's exports with a database and a collection alias of this
module's own (newsroom_apps_<xdist worker>), plus one SECRET_KEY for both, as
a site's servers have. Only runs on the cluster pass of scripts/test.
"""
from __future__ import annotations

import html
import json
import os
import re
import secrets
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

DATABASE_URL = os.environ.get("DATABASE_URL", "")
SEARCH_URL = os.environ.get("SEARCH_URL", "")
ON_THE_CLUSTER = SEARCH_URL.startswith("solr://") and DATABASE_URL.startswith(("postgres://", "postgresql://"))

pytestmark = [
    pytest.mark.server,
    pytest.mark.slow,
    pytest.mark.skipif(
        not ON_THE_CLUSTER,
        reason='needs PostgreSQL and SolrCloud: eval "$(scripts/cluster up)" exports '
        "DATABASE_URL=postgres://... and SEARCH_URL=solr://... (the cluster pass of scripts/test)",
    ),
]

# What a reader would call "at once" after an import or a save has returned.
VISIBLE_WITHIN = 10.0  # seconds
# The first poll comes quickly; later ones back off, so that a slow cluster
# does not spend the API's rate limit (60 a minute per address, counted in the
# database for both servers together).
FIRST_PAUSE, LONGEST_PAUSE = 0.05, 0.5

# A word of every seed article (data/demo/seeds), and words in none of them.
SEED_WORD = "ألاسكا"
IMPORTED_WORD = "الزعفران"
EDITED_WORD = "البرتقال"

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
OWN_NAME = f"newsroom_apps_{WORKER}"


def with_database(url, name):
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def with_collection(url, name):
    return f"{url.rsplit('/', 1)[0]}/{name}"


# ---------------------------------------------------------------------------
# The shared services: a database and a collection alias of this module's own


def create_database(name):
    import psycopg
    from psycopg import sql

    with psycopg.connect(DATABASE_URL, autocommit=True) as connection:
        # Left over by a run that was killed: start clean.
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(name):
    import psycopg
    from psycopg import sql

    with psycopg.connect(DATABASE_URL, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def delete_alias_and_collections(search_url):
    """The alias setup_search made and every collection named after it."""
    from articles.search.engines import _make_engine, parse_search_url

    engine = _make_engine(parse_search_url(search_url))
    admin = engine.admin
    targets = admin.alias_targets(engine.collection)
    if targets:
        admin.delete_alias(engine.collection)
    for name in set(targets) | {c for c in admin.collections() if c.startswith(engine.collection + "_")}:
        admin.delete_collection(name)


@pytest.fixture(scope="module")
def app_servers(serve_app):
    """Servers A and B on a database and alias of their own; all of it gone afterwards."""
    site_env = {
        "DATABASE_URL": with_database(DATABASE_URL, OWN_NAME),
        "SEARCH_URL": with_collection(SEARCH_URL, OWN_NAME),
        # One site, one key (sessions and signed values work on either server).
        "SECRET_KEY": secrets.token_urlsafe(40),
    }
    servers = []
    create_database(OWN_NAME)
    try:
        # A starts the site: migrate, setup_search, the seed articles, ensure_index.
        servers.append(serve_app(name=f"apps-a-{WORKER}", paths=None, sample=0, env=site_env))
        # B joins it: its own start-up finds the schema, the alias and the
        # articles there already and imports nothing.
        servers.append(serve_app(name=f"apps-b-{WORKER}", paths=(), sample=0, env=site_env))
        yield tuple(servers)
    finally:
        for server in servers:
            server.stop()  # their connections would keep the database from being dropped
        try:
            delete_alias_and_collections(site_env["SEARCH_URL"])
        finally:
            drop_database(OWN_NAME)


@pytest.fixture
def server_a(app_servers):
    return app_servers[0]


@pytest.fixture
def server_b(app_servers):
    return app_servers[1]


# ---------------------------------------------------------------------------
# What a reader sees


def api_search(server, q):
    """The API's first page as (ids in order, hits by id); fails on anything but 200."""
    answer = server.get("/api/search", params={"q": q})
    assert answer.status == 200, f"{server.name}: /api/search?q={q} answered {answer.status}: {answer.text[:300]}"
    results = json.loads(answer.text)["results"]
    return [hit["id"] for hit in results], {hit["id"]: hit for hit in results}


def search_page(server, q):
    answer = server.get("/search/", params={"q": q})
    assert answer.status == 200, f"{server.name}: /search/?q={q} answered {answer.status}"
    return answer.text


def wait_until_found(servers, q, wanted, since):
    """Poll /api/search?q= on each server until a hit satisfies `wanted(hit)`.

    Returns {server name: seconds after `since` when it first answered with
    such a hit, or None if it never did within VISIBLE_WITHIN}.
    """
    found = {server.name: None for server in servers}
    pause = FIRST_PAUSE
    while True:
        for server in servers:
            if found[server.name] is None:
                _ids, hits = api_search(server, q)
                if any(wanted(hit) for hit in hits.values()):
                    found[server.name] = time.monotonic() - since
        if all(seconds is not None for seconds in found.values()) or time.monotonic() - since > VISIBLE_WITHIN:
            return found
        time.sleep(pause)
        pause = min(pause * 2, LONGEST_PAUSE)


def describe(found):
    """Each server's time, e.g. "apps-a: 0.08 s, apps-b: not within 10 s"."""
    return ", ".join(
        f"{name}: " + (f"not within {VISIBLE_WITHIN:.0f} s" if seconds is None else f"{seconds:.2f} s")
        for name, seconds in found.items()
    )


# ---------------------------------------------------------------------------
# The tests


def test_both_servers_serve_the_same_archive(server_a, server_b):
    ids_on_a, _ = api_search(server_a, SEED_WORD)
    ids_on_b, _ = api_search(server_b, SEED_WORD)
    assert ids_on_a, f"the seed articles mention {SEED_WORD}, yet A finds none"
    assert ids_on_b == ids_on_a


def test_an_article_imported_while_both_run_is_found_through_each_of_them(server_a, server_b, tmp_path):
    # Readers of both servers have seen the search page before the import:
    # it is in the shared cache, under the archive version of that moment.
    marker = secrets.token_hex(4)  # pages highlight the searched word: look for this instead of the title
    title = f"قمة ألاسكا وتجارة {IMPORTED_WORD} {marker}"
    for server in (server_a, server_b, server_b):
        assert marker not in search_page(server, SEED_WORD)

    record = {
        "id": f"apps-{secrets.token_hex(8)}",
        "title": title,
        "body": f"بعد قمة ألاسكا عاد الحديث عن تجارة {IMPORTED_WORD} بين البلدين.\nوقال التجار إن الأسعار ارتفعت.",
        "source": "وكالة الاختبار",
        "published": "2025-08-20",
        "category": "economy",
    }
    records = tmp_path / "new-article.jsonl"
    records.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")

    # Imported by a third machine: the site's settings, a var dir of its own.
    importer_var = tmp_path / "importer-var"
    importer_var.mkdir()
    started = time.monotonic()
    server_a.manage("import_articles", records, env={"NEWSROOM_VAR_DIR": str(importer_var)})
    imported = time.monotonic()

    found = wait_until_found((server_a, server_b), IMPORTED_WORD, lambda hit: hit["title"] == title, since=imported)
    assert all(seconds is not None for seconds in found.values()), (
        f"the imported article was not found everywhere within {VISIBLE_WITHIN:.0f} s of the import's end "
        f"({describe(found)}; the import itself took {imported - started:.2f} s)"
    )
    print(f"\nimport took {imported - started:.2f} s; found after it on {describe(found)}")

    ids_on_a, _ = api_search(server_a, IMPORTED_WORD)
    ids_on_b, _ = api_search(server_b, IMPORTED_WORD)
    assert ids_on_a == ids_on_b and len(ids_on_a) == 1, (ids_on_a, ids_on_b)

    # The page B served from its cache before the import is not served again,
    # though B took no part in the import.
    assert marker in search_page(server_b, SEED_WORD), "B still serves its search page from before the import"
    assert marker in search_page(server_a, SEED_WORD), "A still serves its search page from before the import"


def test_an_edit_in_the_admin_of_one_server_shows_on_the_other(server_a, server_b):
    ids, hits = api_search(server_b, SEED_WORD)
    article_id = ids[-1]
    # Read on B before the edit: B's search page for the word is cached.
    assert EDITED_WORD not in search_page(server_b, SEED_WORD)
    assert article_id not in api_search(server_b, EDITED_WORD)[0]

    editor = AdminSession(server_a)
    editor.log_in(*server_a.create_superuser(f"editor-{secrets.token_hex(4)}", "a long editing password 1"))
    new_title = f"{hits[article_id]['title']} و{EDITED_WORD}"
    saved = editor.change_article(article_id, title=new_title)

    found = wait_until_found((server_b, server_a), EDITED_WORD, lambda hit: hit["id"] == article_id, since=saved)
    assert all(seconds is not None for seconds in found.values()), (
        f"the title saved in A's admin is not searchable everywhere within {VISIBLE_WITHIN:.0f} s ({describe(found)})"
    )
    print(f"\nadmin edit on A found after it on {describe(found)}")

    reading_page = server_b.get(hits[article_id]["url"])
    assert reading_page.status == 200, f"B's page of the edited article answered {reading_page.status}"
    assert new_title in html.unescape(reading_page.text), "B's page of the article shows the old title"
    assert EDITED_WORD in search_page(server_b, SEED_WORD), "B still serves its search page from before the edit"


# ---------------------------------------------------------------------------
# An editor in the admin


class AdminSession:
    """An editor's browser reduced to a cookie jar and the article form's fields."""

    def __init__(self, server):
        self.server = server
        self.http = requests.Session()

    def _url(self, path):
        return self.server.base_url + path

    def _csrf(self):
        return self.http.cookies.get("csrftoken") or ""

    def log_in(self, username, password):
        self.http.get(self._url("/admin/login/"), timeout=30).raise_for_status()
        answer = self.http.post(
            self._url("/admin/login/?next=/admin/"),
            data={"username": username, "password": password, "csrfmiddlewaretoken": self._csrf()},
            allow_redirects=False,
            timeout=30,
        )
        assert answer.status_code == 302, f"signing in on {self.server.name} answered {answer.status_code}"

    def change_article(self, pk, **changes):
        """Post the article's change form with `changes`; returns when the answer came."""
        path = f"/admin/articles/article/{pk}/change/"
        self.http.get(self._url(path), timeout=30).raise_for_status()
        fields = {**self._current_fields(pk), **changes, "csrfmiddlewaretoken": self._csrf()}
        answer = self.http.post(self._url(path), data=fields, allow_redirects=False, timeout=30)
        answered = time.monotonic()
        errors = re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', answer.text, re.S)
        assert answer.status_code == 302, f"saving article {pk} on {self.server.name}: {answer.status_code} {errors}"
        return answered

    def _current_fields(self, pk):
        """The form's fields as it shows them (ArticleAdminForm.Meta.fields)."""
        printed = self.server.shell(
            "import json\n"
            "from articles.models import Article\n"
            f"a = Article.objects.get(pk={int(pk)})\n"
            "print(json.dumps({'title': a.title, 'slug': a.slug, 'lead': a.lead, 'body': a.body,\n"
            "    'source': a.source_id or '', 'published': a.published.isoformat() if a.published else '',\n"
            "    'topics': [t.pk for t in a.topics.all()], 'url': a.url or ''}))\n"
        )
        return json.loads(printed.strip().splitlines()[-1])
