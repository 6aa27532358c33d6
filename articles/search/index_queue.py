"""The queue of pending search-index updates, and the one writer that applies them.

An index has one writer at a time (Whoosh's write lock; for Solr a lock in
the database that every app server shares), and several gunicorn workers,
on one machine or several, save and delete articles at once. Writing straight from each worker after its commit
loses edits: a worker that read an article before another worker's edit can
write its older document after the newer one, and a writer that gives up on
the lock (haystack's backend logs and swallows that) leaves the index wrong
for good. So:

1. Every change leaves a row (articles.models.IndexOperation) in the same
   database transaction as the change (articles.signals calls `enqueue`):
   committed together, rolled back together.
2. After the commit, the process drains the queue (in a gunicorn worker, in
   a thread after the answer; elsewhere at once). It takes the engine's
   write lock first, and only then reads the pending rows and the articles' current
   rows, so documents are always written from a state at least as new as
   every change they stand for, one writer at a time. The holder of the lock
   drains until the queue is empty, others' rows included, so a drain that
   gives up waiting strands nothing.
3. Rows are deleted only after the index has committed. A crash, a timeout
   or a full disk anywhere before that leaves them for the next drain (the
   next save, `manage.py process_index_queue`, `manage.py ensure_index`);
   writing a document twice gives the same index, so nothing is lost or
   applied wrongly twice.
"""
import logging
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import F

from articles.search.documents import article_index
from articles.search.engines import IndexBusy, get_engine

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
# An inline drain (a command, the shell, a development server) waits this
# long for another process's index write; giving up strands nothing, since
# the writer it waited for drains the whole queue before letting go.
LOCK_WAIT = 10.0
# The same for the drain thread of a gunicorn worker, which no request waits for.
BACKGROUND_LOCK_WAIT = 60.0
# A drain that has applied its own rows stops draining others' after this
# long (seconds): their owners are waiting for the lock and take over.
HOLD_LIMIT = 8.0
# After this many failed attempts an article's rows are left to
# `process_index_queue --retry-failed` instead of being retried on every save.
MAX_ATTEMPTS = 5

_local = threading.local()


@dataclass
class DrainResult:
    operations: int = 0                          # queue rows applied and deleted
    indexed: int = 0                             # documents written
    removed: int = 0                             # documents deleted
    failed: dict = field(default_factory=dict)   # article pk -> error text

    def __iadd__(self, other):
        self.operations += other.operations
        self.indexed += other.indexed
        self.removed += other.removed
        self.failed.update(other.failed)
        return self


# ---------------------------------------------------------------------------
# Queueing (inside the change's transaction)


def enqueue(pks, using=DEFAULT_DB_ALIAS):
    """Queue these articles for indexing, in the current transaction, and
    drain the queue once it commits."""
    from articles.models import IndexOperation

    pks = sorted({int(pk) for pk in pks if pk is not None})
    if not pks:
        return
    IndexOperation.objects.using(using).bulk_create(
        [IndexOperation(article_pk=pk) for pk in pks], batch_size=BATCH_SIZE
    )
    # Set before on_commit: outside a transaction it runs the callback at once.
    _local.pending = True
    transaction.on_commit(_drain_after_commit, using=using)


def _drain_after_commit():
    # One drain per commit however many signals registered a callback: the
    # first one drains, the others find nothing pending. A callback dropped by
    # a rolled-back savepoint only delays the drain to the next one.
    if getattr(_local, "deferred", 0) or not getattr(_local, "pending", False):
        return
    _local.pending = False
    if drains_in_background():
        _background.wake()
    else:
        drain_quietly()


def drains_in_background():
    """Whether a commit's drain runs in a thread of its own, after the answer.

    Under gunicorn ("auto", the default, or NEWSROOM_INDEX_DRAIN=background)
    the request that saved an article answers at once and a thread of the
    worker writes the index: an editor's save never waits for, nor fails
    with, a slow or locked index (a worker overrunning gunicorn's timeout is
    killed, request and all). Elsewhere (management commands, the shell,
    tests) the drain runs inline, so the index is written when save returns.
    """
    mode = getattr(settings, "NEWSROOM_INDEX_DRAIN", "auto")
    if mode == "auto":
        return os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn")
    return mode == "background"


class BackgroundDrainer:
    """One thread per process that drains whenever a commit wakes it, and
    ends after IDLE_SECONDS without work (it is not a daemon: a process that
    exits waits for the drain in progress)."""

    IDLE_SECONDS = 1.0

    def __init__(self):
        self._wanted = threading.Event()
        self._guard = threading.Lock()
        self._thread = None

    def wake(self):
        self._wanted.set()
        with self._guard:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="search-index-drain")
                self._thread.start()

    def wait_idle(self, timeout=None):
        """For tests: wait until the thread has drained and stopped."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self):
        from django.db import connections

        try:
            while self._wanted.wait(timeout=self.IDLE_SECONDS):
                self._wanted.clear()
                # No request waits on this thread: it may wait for the lock longer.
                drain_quietly(lock_wait=BACKGROUND_LOCK_WAIT)
        finally:
            connections.close_all()
            with self._guard:
                self._thread = None
            # A wake between the last wait and the line above found the old
            # thread alive and started none: look once more.
            if self._wanted.is_set():
                self.wake()


_background = BackgroundDrainer()


@contextmanager
def deferred():
    """Queue every change made inside, but drain once at the end.

    For imports and other loops of many small transactions: each record's
    row is still committed with the record (a killed import loses nothing),
    while the index is written in a few large commits instead of one per
    record.
    """
    _local.deferred = getattr(_local, "deferred", 0) + 1
    try:
        yield
    finally:
        _local.deferred -= 1
        if not _local.deferred and getattr(_local, "pending", False):
            # Inside an outer transaction, wait for its commit.
            transaction.on_commit(_drain_after_commit)


def drain_deferred(**kwargs):
    """Inside deferred(), with the changes committed: drain now (drain_quietly's
    arguments), and leave nothing for the end of deferred() to drain."""
    _local.pending = False
    return drain_quietly(**kwargs)


def pending_count(using=DEFAULT_DB_ALIAS):
    from articles.models import IndexOperation

    return IndexOperation.objects.using(using).count()


def failing_operations(using=DEFAULT_DB_ALIAS):
    """Rows the automatic drains have given up on, oldest first."""
    from articles.models import IndexOperation

    return IndexOperation.objects.using(using).filter(attempts__gte=MAX_ATTEMPTS)


# ---------------------------------------------------------------------------
# The writer


def write_current_state(batch, pks):
    """Make the index agree with the database for these articles, as the
    database is now: index those that exist, remove the others.

    Returns (indexed, removed, failed: {pk: error}). Call it with the write
    lock held (engine.write_lock) so that no other writer can put an older
    state after it.
    """
    indexed, removed, failed = 0, 0, {}
    pks = sorted(set(pks))
    index = article_index()
    for start in range(0, len(pks), BATCH_SIZE):
        chunk = pks[start : start + BATCH_SIZE]
        articles = index.index_queryset().filter(pk__in=chunk).in_bulk()
        for pk in chunk:
            try:
                article = articles.get(pk)
                batch.replace(pk, article)
                if article is None:
                    removed += 1
                else:
                    indexed += 1
            except Exception as error:  # one bad article must not block the others
                logger.exception("could not index article %s", pk)
                failed[pk] = f"{type(error).__name__}: {error}"
    return indexed, removed, failed


# ---------------------------------------------------------------------------
# Draining


def drain(lock_wait=None, retry_failed=False, using=DEFAULT_DB_ALIAS, chunk=None):
    """Apply the queued operations to the index; returns a DrainResult.

    Each index commit takes up to `chunk` queue rows (BATCH_SIZE unless
    told): a bulk import asks for large ones, which engines write in bulk
    (Whoosh: as one new segment, the rebuild's way).

    Whoever holds the lock drains until the queue is empty, everybody's rows
    included, and a drain waiting for the lock stops waiting once the rows
    that were queued when it began are gone. So a drain that gives up (the
    lock stayed busy for `lock_wait` seconds: IndexBusy) strands nothing:
    the holder it was waiting for reads the queue again before it lets go.
    Whatever the engine raises when it cannot write propagates; rows stay.
    """
    from django.db.models import Max

    from articles.models import IndexOperation

    queued = IndexOperation.objects.using(using).order_by("id")
    if not retry_failed:
        queued = queued.filter(attempts__lt=MAX_ATTEMPTS)
    target = queued.aggregate(last=Max("id"))["last"]
    result = DrainResult()
    if target is None:
        return result
    failed_rows = set()

    def still_needed():
        return queued.filter(id__lte=target).exclude(id__in=failed_rows).exists()

    chunk = BATCH_SIZE if chunk is None else max(1, int(chunk))
    engine = get_engine()
    lock_wait = LOCK_WAIT if lock_wait is None else lock_wait
    with engine.write_lock(lock_wait, still_needed=still_needed) as held:
        if held is None:
            return result
        started = time.monotonic()
        while True:
            if time.monotonic() - started > HOLD_LIMIT and not still_needed():
                # Its own work is done; the owners of what is left are
                # waiting for the lock (their commits came after our last
                # read) and take over. This request must answer in time.
                return result
            # Rows first, then the articles: every change a row stands for is
            # committed, so the articles read next are at least that new.
            rows = list(queued.exclude(id__in=failed_rows).values_list("id", "article_pk")[:chunk])
            if not rows:
                return result
            with engine.batch() as batch:
                indexed, removed, failed = write_current_state(batch, {pk for _id, pk in rows})
            engine.committed()
            # The index has committed; forget the rows (a crash before this
            # only means they are applied once more).
            done = [row_id for row_id, pk in rows if pk not in failed]
            IndexOperation.objects.using(using).filter(id__in=done).delete()
            for pk, error in failed.items():
                ids = [row_id for row_id, row_pk in rows if row_pk == pk]
                failed_rows.update(ids)
                IndexOperation.objects.using(using).filter(id__in=ids).update(
                    attempts=F("attempts") + 1, last_error=error[:2000]
                )
            result += DrainResult(operations=len(done), indexed=indexed, removed=removed, failed=failed)


def drain_quietly(**kwargs):
    """Drain after a commit: the change is saved whatever happens here, so a
    failure is logged, never raised into the request that made the change."""
    try:
        result = drain(**kwargs)
    except IndexBusy as error:
        logger.warning(
            "%s; %d change(s) stay queued for the next writer",
            error,
            _safe_pending_count(),
        )
        return None
    except Exception:
        logger.exception("could not update the search index; the changes stay queued")
        return None
    if result.failed:
        logger.error("could not index articles %s; they stay queued", sorted(result.failed))
    return result


def _safe_pending_count():
    try:
        return pending_count()
    except Exception:
        return -1


__all__ = [
    "DrainResult",
    "deferred",
    "drain",
    "drain_deferred",
    "drain_quietly",
    "enqueue",
    "failing_operations",
    "pending_count",
    "write_current_state",
]
