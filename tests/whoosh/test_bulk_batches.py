"""Large index batches (an import's drains) are written the rebuild's way.

A Whoosh batch of FAST_BATCH documents or more is written as a new segment
by RebuildWriter, one of PARALLEL_BATCH or more by the rebuild's parallel
writer, a smaller one by Whoosh's SegmentWriter (articles.search.engines.
whoosh.engine.WhooshBatch). These tests check that the way a batch was
written never shows: the same documents, the same answers and scores, old
documents replaced, and that a batch failing half-way leaves the index as it
was and its queue rows for the next drain. Speed is measured in bench/.
"""
import multiprocessing
import signal
import subprocess
import sys
import time

import pytest
from whoosh.writing import SegmentWriter

from articles.models import Article
from articles.search import consistency, indexing
from articles.search import index_queue as queue
from articles.search.engines.whoosh import engine as whoosh_engine
from articles.search.engines.whoosh import writing
from articles.search.engines.whoosh.rebuild_writer import RebuildWriter
from articles.search.service import SearchRequest, search_articles
from tests.whoosh.test_crash_safety import REPO, big_file, empty_archive, manage  # noqa: F401 (fixtures)
from tests.whoosh.test_rebuild import WORDS, archive, expected_ids, indexed_ids  # noqa: F401 (fixture)

NEVER = 10**9
# (FAST_BATCH, PARALLEL_BATCH) for each way of writing a batch.
MODES = {"stock": (NEVER, NEVER), "fast": (1, NEVER), "parallel": (1, 2)}


def write_batches(monkeypatch, mode):
    fast, parallel = MODES[mode]
    monkeypatch.setattr(whoosh_engine, "FAST_BATCH", fast)
    monkeypatch.setattr(whoosh_engine, "PARALLEL_BATCH", parallel)
    monkeypatch.setattr(writing, "default_procs", lambda: 2)


def searched():
    """What readers see: for each query its total, hits (ranked by score;
    ties in either order) and facets."""
    answers = []
    for q in [*WORDS, "خبر", '"فقرة ثانية"', "المدي*", "النفط -المدينة"]:
        page = search_articles(SearchRequest(q=q, page_size=50))
        hits = sorted((round(hit.score, 3), hit.article.pk) for hit in page.hits)
        facets = {name: [(f.value, f.count) for f in values] for name, values in page.facets.items()}
        answers.append((q, page.total, hits, facets))
    return answers


def index_the_way(monkeypatch, mode, archive):
    """The archive indexed in two batches: the first (a third of it) written
    the stock way, then, after four of those articles changed in the
    database, the second (all of it, replacing the first's documents)
    written `mode`'s way."""
    renamed = archive[1:5]
    for article in renamed:
        Article.objects.filter(pk=article.pk).update(title=article.title)
    write_batches(monkeypatch, "stock")
    indexing.clear()
    indexing.sync_articles([article.pk for article in archive[:12]])
    for article in renamed:
        Article.objects.filter(pk=article.pk).update(title=article.title + " عن النفط")
    write_batches(monkeypatch, mode)
    indexing.sync_articles([article.pk for article in archive])
    return searched()


@pytest.mark.parametrize("mode", ["fast", "parallel"])
def test_a_large_batch_written_the_fast_way_searches_like_the_stock_way(archive, monkeypatch, mode):
    stock = index_the_way(monkeypatch, "stock", archive)
    fast = index_the_way(monkeypatch, mode, archive)

    assert fast == stock
    assert stock[0][:2] == ("النفط", 6 + 4)  # six articles, and four renamed ones
    assert indexed_ids() == expected_ids()  # no article twice
    assert not consistency.compare()
    assert not multiprocessing.active_children()


@pytest.mark.parametrize("mode", ["stock", "fast", "parallel"])
def test_each_size_of_batch_takes_its_writer(archive, monkeypatch, mode):
    used = []
    for cls in (SegmentWriter, RebuildWriter, writing._ParallelWriter):
        monkeypatch.setattr(cls, "commit", _spy(cls, cls.commit, used))
    write_batches(monkeypatch, mode)
    indexing.sync_articles([article.pk for article in archive])

    expected = {"stock": "SegmentWriter", "fast": "RebuildWriter", "parallel": "_ParallelWriter"}[mode]
    assert [cls.__name__ for cls in used] == [expected]
    assert indexed_ids() == expected_ids()


def _spy(cls, commit, used):
    def spied(self, *args, **kwargs):
        if type(self) is cls:
            used.append(cls)
        return commit(self, *args, **kwargs)

    return spied


@pytest.mark.parametrize("mode", ["fast", "parallel"])
def test_a_large_batch_failing_half_way_leaves_the_index_and_the_queue_as_they_were(archive, monkeypatch, mode):
    """A crash while a large batch is written (here: the commit of its table
    of contents fails) changes nothing readers see, keeps every queue row,
    and the next drain makes the index equal to the database."""
    write_batches(monkeypatch, "stock")
    indexing.sync_articles([article.pk for article in archive[:5]])
    before = searched()
    Article.objects.filter(pk__in=[a.pk for a in archive[:5]]).update(title="عنوان جديد")
    queue.enqueue([article.pk for article in archive])
    pending = queue.pending_count()

    write_batches(monkeypatch, mode)

    def broken(self, segments):
        raise OSError("No space left on device")

    with monkeypatch.context() as failing:
        failing.setattr(SegmentWriter, "_commit_toc", broken)
        with pytest.raises(OSError, match="No space left"):
            queue.drain(chunk=1000)

    assert queue.pending_count() == pending
    assert searched() == before
    assert not multiprocessing.active_children()
    # The next drain (of a save, process_index_queue, ensure_index) catches up.
    result = queue.drain(chunk=1000)
    assert result.indexed == len(archive) and not result.failed
    assert queue.pending_count() == 0
    assert indexed_ids() == expected_ids()
    assert not consistency.compare()
    assert search_articles(SearchRequest(q="عنوان جديد")).total == 5


@pytest.mark.slow
def test_a_large_batch_whose_process_is_killed_leaves_no_lock_and_is_applied_by_the_next_drain(
    big_file, empty_archive
):
    """kill -9 of a process writing a large batch with sub-writers (here they
    are stuck finishing their segments) takes the sub-writers with it: the
    write lock they share is free, and the queue rows left behind reach the
    index with the next drain."""
    path, _records = big_file
    _var_dir, env = empty_archive
    small = path.with_name("small.jsonl")
    small.write_text("".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:60]), encoding="utf-8")
    manage(env, "import_articles", small, "--no-progress")
    writer = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "manage.py"),
            "shell",
            "--no-imports",
            "-c",
            "import time\n"
            "from articles.models import Article, IndexOperation\n"
            "from articles.search import index_queue\n"
            "from articles.search.engines.whoosh import engine, rebuild_writer, writing\n"
            "engine.FAST_BATCH, engine.PARALLEL_BATCH = 1, 2\n"
            "writing.default_procs = lambda: 2\n"
            "rebuild_writer.RebuildWriter.finish = lambda self: time.sleep(600)\n"
            "merge = writing._ParallelWriter._merge_segments\n"
            "def announce(self, *args):\n"
            "    print('writing', flush=True)\n"
            "    return merge(self, *args)\n"
            "writing._ParallelWriter._merge_segments = announce\n"
            "Article.objects.update(title='عنوان بعد الانهيار')\n"
            "IndexOperation.objects.bulk_create(IndexOperation(article_pk=pk) for pk in Article.objects.values_list('pk', flat=True))\n"
            "index_queue.drain(chunk=1000)\n",
        ],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "writing"
        time.sleep(0.5)  # the sub-writers are stuck in finish()
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait(30)
        writer.stdout.close()

    # The next drain takes the lock (freed within a second) and applies the rows.
    manage(env, "process_index_queue")
    checked = manage(env, "check_index")
    assert "The search index matches the database." in checked.stdout
    searched = manage(
        env,
        "shell",
        "--no-imports",
        "-c",
        "from articles.search.service import SearchRequest, search_articles\n"
        "print(search_articles(SearchRequest(q='الانهيار')).total)",
    )
    assert searched.stdout.strip() == "60"
