"""One holder at a time, across processes and app servers: `database_lock`.

The search index has one writer at a time. Whoosh has a lock file of its
own; a Solr collection has none, and its writers may run on several
machines that share nothing but the database, so the lock lives there:

- PostgreSQL: a session-level advisory lock (pg_try_advisory_lock) on the
  default connection, keyed by a 64-bit hash of the lock's name. The
  server drops it if the session ends, so a killed writer never leaves it
  behind.
- SQLite, which is one machine's file: an exclusive flock() on
  VAR_DIR/locks/<name>.lock, dropped by the kernel when the process dies.

Waiting is polling with short jittered sleeps (no blocking call that a
timeout cannot interrupt), so that a waiter can also stop waiting as soon
as `still_needed()` says another holder did the work.
"""
import errno
import fcntl
import hashlib
import logging
import os
import random
import re
import time
from contextlib import contextmanager

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from articles.search.engines.base import IndexBusy

logger = logging.getLogger(__name__)

# Sleeps between tries grow from the first to the last (seconds), jittered
# by half either way so that waiters do not retry in step.
FIRST_POLL = 0.01
LAST_POLL = 0.2
# A lock held longer than this (seconds) is logged: someone waited for it.
SLOW_HOLD = 5.0


@contextmanager
def database_lock(name, wait=None, still_needed=None, using=DEFAULT_DB_ALIAS):
    """Hold the lock `name` for the `with` block; yields True.

    Waits up to `wait` seconds (None: as long as it takes), then raises
    IndexBusy. While waiting it asks `still_needed()`, if given, before each
    try: when that says no, it yields None without taking the lock.
    """
    connection = connections[using]
    if connection.vendor == "postgresql":
        lock = _advisory_lock(connection, name, wait, still_needed)
    else:
        lock = file_lock(name, wait, still_needed)
    with lock as held:
        yield held


def advisory_key(name):
    """A signed 64-bit key for pg_advisory_lock, the same in every process and
    on every machine (Python's hash() is salted per process)."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def _advisory_lock(connection, name, wait, still_needed):
    key = advisory_key(name)

    def try_lock():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            return cursor.fetchone()[0]

    acquired = _poll(try_lock, name, wait, still_needed)
    if not acquired:
        yield None
        return
    connection.ensure_connection()
    session = connection.connection
    # Django closes a connection past its CONN_MAX_AGE when a request starts
    # or ends, and the lock would go with its session: keep it open until
    # the lock is let go.
    close_at, connection.close_at = connection.close_at, None
    locked_at = time.monotonic()
    try:
        yield True
    finally:
        _log_long_hold(name, locked_at)
        if connection.connection is not session:
            # Closed under us after all (an error, close_all()): the server
            # dropped the lock with the session; unlocking on a new session
            # would only warn that it holds no such lock.
            logger.warning("the connection holding lock %r was closed; the lock went with it", name)
        else:
            connection.close_at = close_at
            _advisory_unlock(connection, key, name)


def _advisory_unlock(connection, key, name):
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
    except Exception:
        # Inside a transaction that an error broke no statement runs until
        # it ends; ending the session is the other way to let go.
        logger.warning("could not unlock %r; closing the connection to let go of it", name, exc_info=True)
        connection.close()


@contextmanager
def file_lock(name, wait=None, still_needed=None):
    """The same lock for one machine: flock() on VAR_DIR/locks/<name>.lock.

    Every holder opens the file itself, so threads of one process exclude
    each other as well as processes do."""
    folder = settings.VAR_DIR / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_file_name(name)}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:

        def try_lock():
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    return False
                raise
            return True

        if not _poll(try_lock, name, wait, still_needed):
            yield None
            return
        locked_at = time.monotonic()
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            _log_long_hold(name, locked_at)
    finally:
        os.close(fd)


def _poll(try_lock, name, wait, still_needed):
    """True once try_lock() succeeds; False when still_needed() says the lock
    is no longer wanted; IndexBusy after `wait` seconds."""
    deadline = None if wait is None else time.monotonic() + wait
    pause = FIRST_POLL
    while True:
        if try_lock():
            return True
        if still_needed is not None and not still_needed():
            return False
        if deadline is not None and time.monotonic() >= deadline:
            raise IndexBusy(f"the lock {name!r} stayed taken for {wait:g} s")
        sleep = pause * (0.5 + random.random())
        if deadline is not None:
            sleep = max(0.0, min(sleep, deadline - time.monotonic()))
        time.sleep(sleep)
        pause = min(pause * 2, LAST_POLL)


def _log_long_hold(name, locked_at):
    held = time.monotonic() - locked_at
    if held > SLOW_HOLD:
        # Normal for an import's batch: information, not a warning.
        logger.info("the lock %r was held for %.1f s", name, held)


def _file_name(name):
    """The lock's name as a safe file name (names are ours, but a slash or
    a dot-dot must never lead out of the locks folder)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name).lstrip(".")
    return safe or "lock"
