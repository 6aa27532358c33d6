"""The archive's version in the database (articles.search.archive_state),
and the shared caches keyed by it (SHARED_CACHE_URL).

Concurrent bumps run against a real database file on SQLite (with the
site's WAL and busy-timeout settings: the test database is in memory) and
against the test database on PostgreSQL, from threads and from processes."""
import copy
import importlib.util
import os
import subprocess
import sys
import threading
from contextlib import contextmanager, nullcontext
from pathlib import Path
from urllib.parse import quote

import dj_database_url
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.utils import load_backend
from django.http import HttpResponse
from django.test import RequestFactory

from articles import caching
from articles.models import ArchiveState, Article
from articles.search import archive_state

REPO = Path(__file__).resolve().parent.parent


def test_the_version_is_0_until_the_first_bump_then_counts(db):
    assert archive_state.current_version() == "0"
    archive_state.bump()
    assert archive_state.current_version() == "1"
    archive_state.bump()
    archive_state.bump()
    assert archive_state.current_version() == "3"
    state = ArchiveState.objects.get()
    assert state.pk == archive_state.ROW_ID and state.changed is not None


def test_a_bump_in_a_rolled_back_transaction_never_happened(db):
    def change_and_fail():
        with transaction.atomic():
            archive_state.bump()
            raise RuntimeError("the change failed")

    archive_state.bump()
    with pytest.raises(RuntimeError, match="the change failed"):
        change_and_fail()
    assert archive_state.current_version() == "1"


def test_an_unreadable_version_is_none_and_breaks_no_transaction(db, monkeypatch):
    """No table (a database not migrated yet): nothing is cached, nothing
    fails, and a transaction around the read goes on (PostgreSQL refuses
    every statement after an error in one, unless it is rolled back to a
    savepoint)."""
    monkeypatch.setattr(ArchiveState._meta, "db_table", "no_such_table")
    assert archive_state.current_version() is None
    with transaction.atomic():
        assert archive_state.current_version() is None
        assert Article.objects.count() == 0


# ---------------------------------------------------------------------------
# Concurrent bumps

BUMPS = 25


def url_of(config):
    credentials = quote(config["USER"] or "", safe="")
    if config.get("PASSWORD"):
        credentials += ":" + quote(config["PASSWORD"], safe="")
    port = f":{config['PORT']}" if config.get("PORT") else ""
    return f"postgres://{credentials}@{config.get('HOST') or 'localhost'}{port}/{config['NAME']}"


@pytest.fixture
def shared_database(tmp_path):
    """(URL, connect) of a database that threads and other processes can all
    write and that keeps their commits: the test database on PostgreSQL, a
    migrated file with the site's SQLite settings otherwise. `connect()` is
    a context manager giving a thread its alias for it."""
    if connection.vendor != "sqlite":  # committed rows: the test is marked transaction=True
        yield url_of(connection.settings_dict), lambda: nullcontext(DEFAULT_DB_ALIAS)
        return
    url = f"sqlite:///{tmp_path / 'archive.sqlite3'}"
    config = dj_database_url.parse(url)
    config["OPTIONS"] = dict(connection.settings_dict["OPTIONS"])  # WAL, IMMEDIATE, busy timeout

    def connect():
        return connected("archive_file", config)

    with connect() as alias:
        call_command("migrate", database=alias, verbosity=0)
    yield url, connect


@contextmanager
def connected(alias, config):
    """This thread's connection to `config`'s database under `alias`, left
    out of settings.DATABASES (the test case would refuse it otherwise)."""
    default = copy.deepcopy(connections.settings[DEFAULT_DB_ALIAS])
    config = connections.configure_settings({DEFAULT_DB_ALIAS: default, alias: copy.deepcopy(config)})[alias]
    connections[alias] = load_backend(config["ENGINE"]).DatabaseWrapper(config, alias)
    try:
        yield alias
    finally:
        connections[alias].close()
        del connections[alias]


def read_version(connect):
    with connect() as alias:
        return ArchiveState.objects.using(alias).values_list("version", flat=True).first() or 0


@pytest.mark.django_db(transaction=True)
def test_bumps_from_threads_at_once_each_count(shared_database):
    _url, connect = shared_database
    threads = 4
    start = threading.Barrier(threads)
    errors = []

    def bump_many():
        try:
            with connect() as alias:
                start.wait(10)  # all at once, the first ones racing to make the row
                for _ in range(BUMPS):
                    archive_state.bump(using=alias)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=bump_many) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert errors == []
    assert read_version(connect) == threads * BUMPS


BUMP_SCRIPT = """
import sys
import django
django.setup()
from articles.search.archive_state import bump
sys.stdin.readline()  # all start together
for _ in range(int(sys.argv[1])):
    bump()
"""


@pytest.mark.django_db(transaction=True)
def test_bumps_from_processes_at_once_each_count(shared_database, tmp_path):
    url, connect = shared_database
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        "NEWSROOM_VAR_DIR": str(tmp_path),
        "SECRET_KEY": "test",
        "DEBUG": "1",
        "DATABASE_URL": url,
    }
    env.pop("SEARCH_URL", None)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", BUMP_SCRIPT, str(BUMPS)],
            cwd=REPO, env=env, stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for _ in range(3)
    ]
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.close()
    failures = [process.stderr.read() for process in processes if process.wait(120) != 0]
    for process in processes:
        process.stderr.close()
    assert failures == []
    assert read_version(connect) == 3 * BUMPS


# ---------------------------------------------------------------------------
# The shared caches, keyed by the version


@pytest.fixture
def database_caches(db, settings):
    """The "shared" and "security" caches of a cluster (SHARED_CACHE_URL=db),
    in the tables that migrate made."""
    settings.CACHES = {**settings.CACHES, **_load_settings(SHARED_CACHE_URL="db").CACHES}
    from django.core.cache import caches

    assert type(caches["shared"]).__name__ == "DatabaseCache"
    return caches


def test_migrate_makes_the_cache_tables_whatever_the_settings(db):
    """The test database was migrated with file caches configured: a site
    that moves to SolrCloud later finds its cache tables all the same."""
    tables = connection.introspection.table_names()
    assert {"newsroom_cache", "newsroom_cache_security"} <= set(tables)


def test_values_in_the_database_cache_last_until_a_bump(database_caches):
    made = []

    def compute():
        made.append(1)
        return {"ids": [3, 1, 2], "title": "أخبار الطقس"}

    def read():
        return caching.cached("related:7", compute, version=archive_state.current_version(), store="shared")

    assert read() == read() == {"ids": [3, 1, 2], "title": "أخبار الطقس"}
    assert len(made) == 1
    archive_state.bump()
    assert read()["title"] == "أخبار الطقس"
    assert len(made) == 2


def test_pages_in_the_database_cache_are_unreachable_after_a_bump(database_caches, monkeypatch):
    monkeypatch.setattr(caching, "archive_version", archive_state.current_version)
    served = []

    @caching.cache_page_until_change(store="shared")
    def page(request):
        served.append(1)
        return HttpResponse(f"<p>نتائج البحث {len(served)}</p>", content_type="text/html; charset=utf-8")

    def get():
        return page(RequestFactory().get("/search/", {"q": "أمطار"})).content.decode()

    first = get()
    assert get() == first == "<p>نتائج البحث 1</p>"
    archive_state.bump()
    assert get() == "<p>نتائج البحث 2</p>"
    assert len(served) == 2


def test_sign_in_counters_live_in_their_own_table(database_caches):
    from articles import security

    window = security.Window(security._key("login", "10.0.0.1"), 60)
    assert window.hit()[0] == 1 and window.hit()[0] == 2
    database_caches["shared"].clear()  # a full page cache culled or emptied
    assert window.count() == 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM newsroom_cache_security")
        assert cursor.fetchone()[0] == 1


def _load_settings(**env):
    """newsroom/settings.py run afresh under these environment variables
    (None removes one), as a module of its own: Django's settings are untouched."""
    saved = dict(os.environ)
    try:
        for name, value in env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        spec = importlib.util.spec_from_file_location("newsroom_settings_probe", REPO / "newsroom" / "settings.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_one_machine_keeps_its_caches_in_files_by_default():
    loaded = _load_settings(SHARED_CACHE_URL=None, SEARCH_URL=None)
    assert loaded.SHARED_CACHE_URL == "files"
    assert loaded.CACHES["shared"]["BACKEND"] == "articles.caching.SharedFileCache"
    assert loaded.CACHES["security"]["BACKEND"].endswith("FileBasedCache")


def test_a_solr_site_shares_its_caches_through_the_database_by_default():
    loaded = _load_settings(SHARED_CACHE_URL=None, SEARCH_URL="solr://127.0.0.1:8983/solr/news")
    assert loaded.SHARED_CACHE_URL == "db"
    assert loaded.CACHES["shared"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert loaded.CACHES["shared"]["LOCATION"] == "newsroom_cache"
    assert loaded.CACHES["security"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert loaded.CACHES["security"]["LOCATION"] == "newsroom_cache_security"
    # ...unless told to keep them on this machine.
    loaded = _load_settings(SHARED_CACHE_URL="files", SEARCH_URL="solr://127.0.0.1:8983/solr/news")
    assert loaded.CACHES["shared"]["BACKEND"] == "articles.caching.SharedFileCache"


def test_shared_cache_urls():
    loaded = _load_settings(SHARED_CACHE_URL="db://site_cache")
    assert [loaded.CACHES[name]["LOCATION"] for name in ("shared", "security")] == ["site_cache", "site_cache_security"]
    loaded = _load_settings(SHARED_CACHE_URL="redis://127.0.0.1:6379/2")
    for name, prefix in (("shared", "newsroom-shared"), ("security", "newsroom-security")):
        assert loaded.CACHES[name]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
        assert loaded.CACHES[name]["LOCATION"] == "redis://127.0.0.1:6379/2"
        assert loaded.CACHES[name]["KEY_PREFIX"] == prefix
    for wrong in ("memcached://127.0.0.1", "db://drop table", "db://x;y"):
        with pytest.raises(ImproperlyConfigured, match="SHARED_CACHE_URL"):
            _load_settings(SHARED_CACHE_URL=wrong)
