"""The archive's version in the database (articles.search.archive_state).

Concurrent bumps run against a real database file on SQLite (with the
site's WAL and busy-timeout settings: the test database is in memory) and
against the test database on PostgreSQL, from threads and from processes."""
import copy
import os
import subprocess
import sys
import threading
from contextlib import contextmanager, nullcontext
from pathlib import Path
from urllib.parse import quote

import dj_database_url
import pytest
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.utils import load_backend

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
