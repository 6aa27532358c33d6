"""Writing a whole Whoosh index fast: the rebuild, in several processes.

`rebuild` indexes the whole archive in several processes, each writing
segments of its own with RebuildWriter (bench/README.md has the figures).
"""
import logging
import os
import queue as queue_module
import threading
import time

from haystack import connections
from whoosh.codec import whoosh3
from whoosh.index import LockError
from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.util.filelock import try_for
from whoosh.writing import CLEAR, SegmentWriter

from articles.search.documents import article_index
from articles.search.engines.whoosh.backend import reading_latest
from articles.search.engines.whoosh.rebuild_writer import RebuildWriter

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
# Memory for each writer's posting pool before it spills a sorted run to disk.
WRITER_LIMIT_MB = 128
# Memory (estimated) for each rebuild writer's in-memory postings before it
# writes them out as a segment and starts another.
REBUILD_POOL_LIMIT_MB = 512
# Documents per job file handed to a sub-writer process.
JOB_SIZE = 250
MAX_DEFAULT_PROCS = 4
INDEX_NAME = "MAIN"  # Whoosh's default name, as haystack uses it
REBUILD_LOCK_WAIT = 60.0


def _remember_missing_columns():
    """Whoosh asks, for every posting it writes, whether the new segment has a
    length column for the posting's field, and answers with a stat() of the
    file system each time. Fields without lengths (ids, keywords, the spelling
    field) thus cost one system call per posting: a quarter of the time of a
    commit. A segment's columns never change once written, so remember the
    answer per reader."""
    original = whoosh3.W3PerDocReader.has_column
    if getattr(original, "remembers", False):
        return

    def has_column(self, fieldname):
        known = self.__dict__.setdefault("_known_columns", {})
        if fieldname not in known:
            known[fieldname] = original(self, fieldname)
        return known[fieldname]

    has_column.remembers = True
    whoosh3.W3PerDocReader.has_column = has_column


_remember_missing_columns()


def get_backend(using="default"):
    return connections[using].get_backend()


def get_article_index(using="default"):
    return article_index()


def default_procs():
    """Index writers to run: one per CPU this process may use, at most a few
    (past that they wait on the one process that reads the database)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_DEFAULT_PROCS))


def _batches(queryset, size):
    """The rows of `queryset` (ordered by pk) in batches, by key rather than
    OFFSET, so that the last batch costs what the first does."""
    last = None
    while True:
        page = queryset if last is None else queryset.filter(pk__gt=last)
        batch = list(page[:size])
        if not batch:
            return
        yield batch
        last = batch[-1].pk


# How often a sub-writer checks that its parent is alive (seconds).
PARENT_CHECK = 0.5


def _exit_with_parent(parent):
    while True:
        time.sleep(PARENT_CHECK)
        if os.getppid() != parent:
            os._exit(1)


class _RebuildTask(SubWriterTask):
    """A sub-writer process that writes its documents with a RebuildWriter
    (postings in memory, one or more segments) and reports the segments."""

    def __init__(self, schema, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.schema = schema

    def run(self):
        # Forked while the parent holds Whoosh's write lock (an flock the
        # inherited descriptor shares): if the parent dies (kill -9, the OOM
        # killer), this sub-writer would wait for jobs for ever and keep the
        # index locked, so it ends itself as soon as its parent is gone.
        threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
        # The schema the parent writes with (the code's), not the old TOC's.
        ix = self.storage.open_index(self.indexname, schema=self.schema)
        writer = self.writer = RebuildWriter(ix, **self.kwargs)
        while True:
            jobinfo = self.jobqueue.get()
            if jobinfo is None:
                break
            self._process_file(*jobinfo)
        self.resultqueue.put((None, None, writer.finish()), timeout=5)


class _ParallelWriter(MpWriter):
    """Whoosh's multiprocessing writer, made safe to fail.

    Stock MpWriter blocks for ever handing a job to sub-writers that have
    died (a full disk, a bug), and its cancel() cannot reach them (it sets a
    flag in the parent's copy of each process object). Here handing a job
    fails as soon as a sub-writer has failed, and cancel() terminates them.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        put = self.jobqueue.put

        def patient_put(item):
            while True:
                try:
                    return put(item, timeout=1.0)
                except queue_module.Full:
                    self._check_tasks()

        self.jobqueue.put = patient_put

    def _check_tasks(self):
        failed = [task.exitcode for task in self.tasks if task.exitcode not in (None, 0)]
        if failed:
            raise RuntimeError(f"a search index sub-writer failed (exit codes {failed})")

    def _new_task(self):
        task = _RebuildTask(
            self.schema,
            self.storage,
            self.indexname,
            self.jobqueue,
            self.resultqueue,
            self.subargs,
            True,
        )
        self.tasks.append(task)
        task.start()
        return task

    def _commit(self, mergetype, optimize, merge):
        if self.docbuffer:
            self._enqueue()
        for _task in self.tasks:
            self.jobqueue.put(None)
        finalsegments = self._merge_segments(mergetype, optimize, merge)
        results = []
        for task in self.tasks:
            # A sub-writer reports before it exits (the result queue's feeder
            # must be drained for it to end).
            while True:
                try:
                    results.append(self.resultqueue.get(timeout=1.0))
                    break
                except queue_module.Empty:
                    self._check_tasks()
                    if all(not t.is_alive() for t in self.tasks) and self.resultqueue.empty():
                        raise RuntimeError("a search index sub-writer ended without reporting")
        for task in self.tasks:
            task.join()
        for _runname, _fieldnames, segments in results:
            finalsegments.extend(segments)
        if self._added:
            finalsegments.append(self._finalize_segment())
        else:
            self._close_segment()
        self._commit_toc(finalsegments)
        self._finish()

    def cancel(self):
        for task in self.tasks:
            if task.is_alive():
                task.terminate()
        for task in self.tasks:
            task.join(5)
        SegmentWriter.cancel(self)


def rebuild_writer_for(ix, procs):
    """A writer for an index whose lock the caller holds: with procs > 1,
    `procs` sub-processes each write a segment of their own (multisegment:
    nothing is merged at the end, so committing costs one sub-writer's share
    rather than the whole index's)."""
    if procs > 1:
        return _ParallelWriter(
            ix,
            procs=procs,
            batchsize=JOB_SIZE,
            multisegment=True,
            subargs={"pool_limit_mb": REBUILD_POOL_LIMIT_MB},
            limitmb=WRITER_LIMIT_MB,
            _lk=False,
        )
    return RebuildWriter(ix, pool_limit_mb=REBUILD_POOL_LIMIT_MB, _lk=False)


def rebuild(using="default", procs=None, batch_size=BATCH_SIZE, progress=None, lock_wait=REBUILD_LOCK_WAIT):
    """Write the whole index again from the database; returns the count.

    Holds Whoosh's write lock throughout, so no queued change is written in
    between (it waits and is applied after), and replaces the old segments
    in one commit (CLEAR): searches see the old index until the new one is
    complete, never an empty one. The index is opened with the schema the
    code declares now, so a rebuild also moves the index to new fields.

    This process reads the articles (a batch in two queries: rows with their
    source, then their topics) and prepares their documents; with procs > 1
    (default: one per CPU), sub-processes analyse and write them.
    """
    backend = get_backend(using)
    if not backend.setup_complete:
        backend.setup()
    storage = backend.storage
    lock = storage.lock(f"{INDEX_NAME}_WRITELOCK")
    if not try_for(lock.acquire, timeout=lock_wait, delay=0.1):
        raise LockError(f"the search index at {backend.path} stayed locked for {lock_wait:.0f} s")
    try:
        ix = storage.open_index(INDEX_NAME, schema=backend.schema)
        total = write_all(ix, using=using, procs=procs, batch_size=batch_size, progress=progress)
    finally:
        lock.release()
    backend.index = reading_latest(lambda: storage.open_index(INDEX_NAME, schema=backend.schema))
    forget = getattr(backend, "_forget_searcher", None)
    if forget:
        forget()
    return total


def write_all(ix, using="default", procs=None, batch_size=BATCH_SIZE, progress=None):
    """Write every article into the Whoosh index `ix`, whose write lock the
    caller holds, replacing all its segments in one commit; returns the count."""
    backend = get_backend(using)
    index = get_article_index(using)
    procs = default_procs() if procs is None else max(1, procs)
    writer = rebuild_writer_for(ix, procs)
    total = added = 0
    try:
        for batch in _batches(index.index_queryset(using=using), batch_size):
            for article in batch:
                document = backend.prepare_document(index, article)
                if document is not None:
                    writer.add_document(**document)
                    added += 1
            total += len(batch)
            if progress:
                progress(total)
        writer.commit(mergetype=CLEAR)
    except BaseException:
        writer.cancel()
        raise
    # MpWriter drops the segment of a sub-writer that does not report back
    # in time; never let that pass as a complete index.
    written = ix.refresh().doc_count()
    if written != added:
        raise RuntimeError(f"the rebuilt index holds {written} documents, {added} were written")
    return total


__all__ = ["rebuild", "write_all", "default_procs"]
