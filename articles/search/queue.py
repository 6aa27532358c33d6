"""The queue of pending search-index updates, and the one writer that applies them.

Whoosh allows one writer at a time, and several gunicorn workers save and
delete articles at once. Writing straight from each worker after its commit
loses edits: a worker that read an article before another worker's edit can
write its older document after the newer one, and a writer that gives up on
the lock (haystack's backend logs and swallows that) leaves the index wrong
for good. So:

1. Every change leaves a row (articles.models.IndexOperation) in the same
   database transaction as the change (articles.signals calls `enqueue`):
   committed together, rolled back together.
2. After the commit, the process drains the queue. It takes Whoosh's write
   lock first, and only then reads the pending rows and the articles' current
   rows, so documents are always written from a state at least as new as
   every change they stand for, one writer at a time.
3. Rows are deleted only after the index has committed. A crash, a timeout
   or a full disk anywhere before that leaves them for the next drain (the
   next save, `manage.py process_index_queue`, `manage.py ensure_index`);
   writing a document twice gives the same index, so nothing is lost or
   applied wrongly twice.
"""
import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import F
from haystack.constants import ID
from whoosh.index import LockError

from articles.search.indexing import get_article_index, get_backend, identifier

logger = logging.getLogger(__name__)

BATCH_SIZE = 500
# A save waits this long for another process's index write to finish. It must
# stay well under gunicorn's worker timeout (30 s): a request that waits
# longer is killed, while a drain that gives up only leaves its rows queued.
LOCK_WAIT = 10.0
# After this many failed attempts an article's rows are left to
# `process_index_queue --retry-failed` instead of being retried on every save.
MAX_ATTEMPTS = 5

_local = threading.local()
# Whoosh's lock is a file lock between processes; this one orders the threads
# of one process as well (a development server, a test, a management command).
_process_lock = threading.Lock()


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
    drain_quietly()


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


def pending_count(using=DEFAULT_DB_ALIAS):
    from articles.models import IndexOperation

    return IndexOperation.objects.using(using).count()


def failing_operations(using=DEFAULT_DB_ALIAS):
    """Rows the automatic drains have given up on, oldest first."""
    from articles.models import IndexOperation

    return IndexOperation.objects.using(using).filter(attempts__gte=MAX_ATTEMPTS)


# ---------------------------------------------------------------------------
# The writer


@contextmanager
def locked_writer(lock_wait=None):
    """A Whoosh writer holding the index's write lock; commits on success.

    Yields (writer, backend, article index). Raises whoosh.index.LockError
    when the lock is not free within `lock_wait` seconds (default LOCK_WAIT).
    """
    lock_wait = LOCK_WAIT if lock_wait is None else lock_wait
    if not _process_lock.acquire(timeout=lock_wait):
        raise LockError("another thread of this process is writing to the search index")
    try:
        backend = get_backend()
        if not backend.setup_complete:
            backend.setup()
        backend.index = backend.index.refresh()
        writer = backend.index.writer(timeout=lock_wait)
        try:
            yield writer, backend, get_article_index()
            writer.commit()
        except BaseException:
            _abandon(writer)
            raise
    finally:
        _process_lock.release()


def _abandon(writer):
    """Give up a writer, even one whose commit failed half-way (a full disk):
    its lock must not outlive it, or every later drain would wait in vain."""
    if getattr(writer, "is_closed", False):
        return
    try:
        writer.cancel()
    except Exception:
        logger.exception("could not cancel the search index writer")
        lock = getattr(writer, "writelock", None)
        if lock is not None and getattr(lock, "fd", 0) is not None:
            try:
                lock.release()
            except Exception:
                logger.exception("could not release the search index lock")


def write_current_state(writer, backend, index, pks):
    """Make the index agree with the database for these articles, as the
    database is now: index those that exist, remove the others.

    Returns (indexed, removed, failed: {pk: error}). Call it with the write
    lock held (inside `locked_writer`) so that no other writer can put an
    older state after it.
    """
    indexed, removed, failed = 0, 0, {}
    pks = sorted(set(pks))
    for start in range(0, len(pks), BATCH_SIZE):
        chunk = pks[start : start + BATCH_SIZE]
        articles = index.index_queryset().filter(pk__in=chunk).in_bulk()
        for pk in chunk:
            try:
                article = articles.get(pk)
                document = backend.prepare_document(index, article) if article is not None else None
                # Delete every document of the article, then add one: Whoosh's
                # update_document replaces only the first of any duplicates.
                writer.delete_by_term(ID, identifier(pk))
                if document is None:
                    removed += 1
                else:
                    writer.add_document(**document)
                    indexed += 1
            except Exception as error:  # one bad article must not block the others
                logger.exception("could not index article %s", pk)
                failed[pk] = f"{type(error).__name__}: {error}"
    return indexed, removed, failed


# ---------------------------------------------------------------------------
# Draining


def drain(lock_wait=None, retry_failed=False, using=DEFAULT_DB_ALIAS):
    """Apply every queued operation to the index; returns a DrainResult.

    Raises LockError when the index stays locked (the rows stay queued) and
    whatever Whoosh raises when it cannot write (likewise).
    """
    result = DrainResult()
    after_id = 0
    while True:
        step, after_id = _drain_batch(after_id, lock_wait, retry_failed, using)
        if step is None:
            return result
        result += step


def _drain_batch(after_id, lock_wait, retry_failed, using):
    from articles.models import IndexOperation

    queued = IndexOperation.objects.using(using).filter(id__gt=after_id).order_by("id")
    if not retry_failed:
        queued = queued.filter(attempts__lt=MAX_ATTEMPTS)
    # A cheap look before taking the lock: most drains after a save by
    # another worker find their rows already applied.
    if not queued.exists():
        return None, after_id
    with locked_writer(lock_wait) as (writer, backend, index):
        # Rows first, then the articles: every change a row stands for is
        # committed, so the articles read next are at least that new.
        rows = list(queued.values_list("id", "article_pk")[:BATCH_SIZE])
        if not rows:
            return None, after_id
        indexed, removed, failed = write_current_state(writer, backend, index, {pk for _id, pk in rows})
    # The index has committed; forget the rows (a crash before this line
    # only means they are applied once more).
    done = [row_id for row_id, pk in rows if pk not in failed]
    for start in range(0, len(done), BATCH_SIZE):
        IndexOperation.objects.using(using).filter(id__in=done[start : start + BATCH_SIZE]).delete()
    for pk, error in failed.items():
        IndexOperation.objects.using(using).filter(
            id__in=[row_id for row_id, row_pk in rows if row_pk == pk]
        ).update(attempts=F("attempts") + 1, last_error=error[:2000])
    step = DrainResult(operations=len(done), indexed=indexed, removed=removed, failed=failed)
    return step, rows[-1][0]


def drain_quietly(**kwargs):
    """Drain after a commit: the change is saved whatever happens here, so a
    failure is logged, never raised into the request that made the change."""
    try:
        result = drain(**kwargs)
    except LockError:
        logger.warning(
            "the search index stayed locked for %g s; %d change(s) stay queued for the next writer",
            kwargs.get("lock_wait") or LOCK_WAIT,
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
    "drain_quietly",
    "enqueue",
    "failing_operations",
    "locked_writer",
    "pending_count",
    "write_current_state",
]
