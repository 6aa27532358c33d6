"""The rebuild's parallel writer, for large index batches (an import's drains).

writing._ParallelWriter's sub-writers are forked while the parent holds
Whoosh's write lock, an flock() that they share through the inherited file
descriptor; if the parent dies (kill -9, the OOM killer) they would wait for
jobs for ever and keep the index locked. A rebuild is run by hand; a drain
runs on every large import, so here each sub-writer ends itself as soon as
its parent is gone, and with it the last hold on the lock.
"""
import os
import threading
import time

from articles.search.engines.whoosh import writing

# How often a sub-writer checks that its parent is alive (seconds).
PARENT_CHECK = 0.5


def _exit_with_parent(parent):
    while True:
        time.sleep(PARENT_CHECK)
        if os.getppid() != parent:
            os._exit(1)


class _WatchfulTask(writing._RebuildTask):
    def run(self):
        parent = os.getppid()
        threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
        super().run()


class ParallelBatchWriter(writing._ParallelWriter):
    def _new_task(self):
        task = _WatchfulTask(
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


def parallel_writer(ix, procs):
    """A writer for an index whose lock the caller holds: `procs` sub-processes
    each write a segment of their share of the documents (writing._writer)."""
    return ParallelBatchWriter(
        ix,
        procs=procs,
        batchsize=writing.JOB_SIZE,
        multisegment=True,
        subargs={"pool_limit_mb": writing.REBUILD_POOL_LIMIT_MB},
        limitmb=writing.WRITER_LIMIT_MB,
        _lk=False,
    )
