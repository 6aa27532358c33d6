"""articles.search.locks: one holder at a time, between threads, between
processes, and (PostgreSQL) between machines that share only the database.

Each test runs with the database's own lock (an advisory lock on
PostgreSQL, a file lock on SQLite) and with the file lock alone; the
PostgreSQL-only tests run when DATABASE_URL names a PostgreSQL server (the
cluster pass of scripts/test)."""
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import close_old_connections, connection, connections

from articles.search import locks
from articles.search.engines.base import IndexBusy

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME = "search-index-test"

on_postgresql = pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="PostgreSQL's advisory locks: runs when DATABASE_URL is a postgres:// URL (scripts/test's cluster pass)",
)


@pytest.fixture(params=["database", "file"])
def lock(request, db):
    """The lock under test: database_lock (advisory on PostgreSQL, a file on
    SQLite) or the file lock itself."""
    if request.param == "database":
        return locks.database_lock
    return lambda name, wait=None, still_needed=None: locks.file_lock(name, wait, still_needed)


class Holder:
    """Another thread (so another database session) holding the lock until told."""

    def __init__(self, lock, name=NAME, hold=None):
        self.lock, self.name, self.hold = lock, name, hold
        self.locked = threading.Event()
        self.release = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self._run)

    def _run(self):
        try:
            with self.lock(self.name, 5):
                self.locked.set()
                self.release.wait(self.hold if self.hold is not None else 30)
        except BaseException as error:  # shown by the test, not lost in the thread
            self.error = error
        finally:
            self.locked.set()
            connections.close_all()

    def __enter__(self):
        self.thread.start()
        assert self.locked.wait(10)
        assert self.error is None, self.error
        return self

    def __exit__(self, *exc):
        self.release.set()
        self.thread.join(10)


def try_in_thread(lock, wait=0.0, name=NAME):
    """Whether another session gets the lock within `wait` seconds."""
    outcome = {}

    def attempt():
        try:
            with lock(name, wait):
                outcome["held"] = True
        except IndexBusy:
            outcome["held"] = False
        except BaseException as error:
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=attempt)
    thread.start()
    thread.join(30)
    assert "error" not in outcome, outcome.get("error")
    return outcome["held"]


def test_a_second_holder_waits_then_gets_index_busy(lock):
    with Holder(lock):
        started = time.monotonic()
        with pytest.raises(IndexBusy, match=NAME), lock(NAME, 0.3):
            pytest.fail("two holders at once")
        waited = time.monotonic() - started
    assert 0.3 <= waited < 3
    # Let go: the next one gets it at once.
    assert try_in_thread(lock)


def test_a_waiter_gets_the_lock_once_the_holder_lets_go(lock):
    with Holder(lock, hold=0.4):
        started = time.monotonic()
        with lock(NAME, 10) as held:
            waited = time.monotonic() - started
            assert held is True
            assert not try_in_thread(lock)
    assert 0.2 <= waited < 5


def test_other_names_are_other_locks(lock):
    with Holder(lock):
        assert try_in_thread(lock, name=NAME + "-other")


def test_the_lock_is_let_go_when_the_block_raises(lock):
    def write_and_fail():
        with lock(NAME, 1):
            assert not try_in_thread(lock)
            raise ValueError("the index write failed")

    with pytest.raises(ValueError, match="the index write failed"):
        write_and_fail()
    assert try_in_thread(lock)


def test_a_waiter_stops_waiting_when_the_work_is_done(lock):
    """A drain waiting for the lock stops once the holder has drained its rows."""
    asked = []

    def still_needed():
        asked.append(time.monotonic())
        return len(asked) < 3

    with Holder(lock):
        started = time.monotonic()
        with lock(NAME, 30, still_needed=still_needed) as held:
            assert held is None
        assert time.monotonic() - started < 5
    assert len(asked) == 3


def test_the_wait_is_not_overrun(lock):
    with Holder(lock):
        started = time.monotonic()
        with pytest.raises(IndexBusy), lock(NAME, 0):
            pass
        assert time.monotonic() - started < 0.5


# ---------------------------------------------------------------------------
# Other processes

HOLDER_SCRIPT = """
import sys
import django
django.setup()
from articles.search.locks import database_lock
with database_lock(sys.argv[1], 10):
    print("locked", flush=True)
    sys.stdin.readline()
"""


def database_url():
    """This test database as a URL another process can use (None: SQLite,
    whose lock is a file that needs no database)."""
    config = connection.settings_dict
    if connection.vendor != "postgresql":
        return None
    credentials = quote(config["USER"] or "", safe="")
    if config.get("PASSWORD"):
        credentials += ":" + quote(config["PASSWORD"], safe="")
    host = config.get("HOST") or "localhost"
    port = f":{config['PORT']}" if config.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{config['NAME']}"


@contextmanager
def holder_process(name=NAME):
    """Another Django process, of this test's var/ and database, holding `name`."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        "NEWSROOM_VAR_DIR": str(settings.VAR_DIR),
        "SECRET_KEY": "test",
        "DEBUG": "1",
    }
    env.pop("DATABASE_URL", None)
    env.pop("SEARCH_URL", None)
    if database_url():
        env["DATABASE_URL"] = database_url()
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER_SCRIPT, name],
        cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = process.stdout.readline()
        assert line.strip() == "locked", process.stderr.read()
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        for stream in (process.stdin, process.stdout, process.stderr):
            stream.close()


def test_another_process_holding_the_lock(db):
    with holder_process() as process:
        with pytest.raises(IndexBusy), locks.database_lock(NAME, 0.3):
            pass
        process.stdin.write("let go\n")
        process.stdin.flush()
        with locks.database_lock(NAME, 10) as held:
            assert held is True
        assert process.wait(10) == 0


def test_a_killed_holder_leaves_no_lock_behind(db):
    with holder_process() as process:
        assert not try_in_thread(locks.database_lock, 0.1)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        with locks.database_lock(NAME, 10) as held:
            assert held is True


# ---------------------------------------------------------------------------
# PostgreSQL's advisory lock


def test_the_key_is_the_same_everywhere_and_fits_a_bigint():
    key = locks.advisory_key("search-index-solr")
    assert key == locks.advisory_key("search-index-solr")
    assert key != locks.advisory_key("search-index-whoosh")
    assert -(2**63) <= key < 2**63
    # sha256's first eight bytes, signed: fixed for good, since every app
    # server of a site (old and new versions alike) must agree on it.
    assert locks.advisory_key("") == int.from_bytes(bytes.fromhex("e3b0c44298fc1c14"), "big", signed=True)


@on_postgresql
def test_an_advisory_lock_is_held_on_the_server_and_let_go(db):
    def advisory_locks():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            )
            return cursor.fetchone()[0]

    with locks.database_lock(NAME, 1):
        assert advisory_locks() == 1
    assert advisory_locks() == 0


@on_postgresql
def test_the_connection_is_not_closed_under_the_lock(transactional_db):
    """Django closes connections past CONN_MAX_AGE when a request starts or
    ends; one holding the lock stays open until the lock is let go."""
    outcome = {}

    def hold():
        try:
            connection.ensure_connection()
            connection.close_at = time.monotonic() - 1  # past its age
            with locks.database_lock(NAME, 1):
                close_old_connections()
                outcome["open while held"] = connection.connection is not None
                outcome["others kept out"] = not try_in_thread(locks.database_lock)
            close_old_connections()
            outcome["closed after"] = connection.connection is None
        except BaseException as error:
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    thread.join(30)
    assert outcome == {"open while held": True, "others kept out": True, "closed after": True}


@on_postgresql
def test_a_lock_whose_connection_was_closed_is_gone_not_stuck(db, caplog):
    outcome = {}

    def hold():
        try:
            with locks.database_lock(NAME, 1):
                connection.close()
        except BaseException as error:
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    thread.join(30)
    assert outcome == {}
    assert "the lock went with it" in caplog.text
    assert try_in_thread(locks.database_lock)


# ---------------------------------------------------------------------------
# The file lock


def test_lock_files_stay_in_the_locks_folder():
    with locks.file_lock("../../etc/x y", 0):
        pass
    assert (settings.VAR_DIR / "locks" / "_.._etc_x_y.lock").is_file()
