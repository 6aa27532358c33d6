"""The durable queue of index updates: every change reaches the index, even
when the index is locked, failing or the process dies before cleaning up."""
import datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import SegmentWriter

from articles.models import Article, IndexOperation, Topic
from articles.search import consistency, indexing
from articles.search import index_queue as queue
from articles.search.engines.whoosh import index_files
from articles.search.engines.whoosh.backend import ArabicWhooshSearchBackend
from articles.search.engines.whoosh.writing import get_backend
from articles.search.service import SearchRequest, search_articles

pytestmark = pytest.mark.django_db


def documents():
    """The index's stored fields by article pk, read by a fresh searcher."""
    backend = get_backend()
    with backend.index.refresh().searcher() as searcher:
        return {int(doc["django_id"]): doc for doc in searcher.all_stored_fields()}


def found(q, **filters):
    return [hit.article.pk for hit in search_articles(SearchRequest(q=q, **filters)).hits]


@pytest.fixture
def held_index_lock(search_index):
    """Hold Whoosh's write lock as another gunicorn worker would."""
    lock = FileStorage(get_backend().path).lock(index_files.LOCK_NAME)
    assert lock.acquire()
    yield lock
    if lock.fd is not None:
        lock.release()


def test_saving_queues_in_the_same_transaction_and_drains_after_commit(
    search_index, make_article, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        article = make_article(title="مفاوضات الطاقة في فيينا", topics=["اقتصاد"])
        # Before the commit: queued in the database, nothing in the index yet.
        assert set(IndexOperation.objects.values_list("article_pk", flat=True)) == {article.pk}
        assert documents() == {}
    for callback in callbacks:
        callback()
    assert IndexOperation.objects.count() == 0
    assert found("فيينا") == [article.pk]
    assert documents()[article.pk]["topics"] == Topic.objects.get().slug


def test_a_rolled_back_change_leaves_nothing_queued_or_indexed(search_index, make_article):
    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        with transaction.atomic():
            make_article(title="خبر لن يحفظ أبدا")
            raise Abort
    assert IndexOperation.objects.count() == 0
    assert Article.objects.count() == 0
    queue.drain()
    assert documents() == {}


def test_edits_and_deletions_reach_the_index(search_index, make_article, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        kept = make_article(title="قمة المناخ في القاهرة", published=datetime.date(2019, 1, 2))
        dropped = make_article(title="قمة المناخ في دبي")
    with django_capture_on_commit_callbacks(execute=True):
        kept.title = "قمة المياه في القاهرة"
        kept.published = datetime.date(2020, 3, 4)
        kept.save()
        dropped.delete()
    assert set(documents()) == {kept.pk}
    assert found("المياه") == [kept.pk]
    assert found("المناخ") == []
    assert documents()[kept.pk]["published"] == datetime.datetime(2020, 3, 4)


def test_a_locked_index_keeps_the_change_queued_and_the_save_succeeds(
    held_index_lock, make_article, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    monkeypatch.setattr(queue, "LOCK_WAIT", 0.3)
    with django_capture_on_commit_callbacks(execute=True):
        article = make_article(title="تعديل أثناء إعادة البناء")
    # The save went through; the index could not be written.
    assert Article.objects.filter(pk=article.pk).exists()
    assert IndexOperation.objects.filter(article_pk=article.pk).exists()
    assert "stay queued" in caplog.text
    assert documents() == {}

    held_index_lock.release()
    held_index_lock.fd = None
    # The next save anywhere drains everything pending, this one included.
    with django_capture_on_commit_callbacks(execute=True):
        other = make_article(title="خبر لاحق")
    assert set(documents()) == {article.pk, other.pk}
    assert IndexOperation.objects.count() == 0


def test_a_failed_index_commit_loses_nothing(
    search_index, make_article, django_capture_on_commit_callbacks, monkeypatch
):
    def disk_full(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(SegmentWriter, "commit", disk_full)
        with django_capture_on_commit_callbacks(execute=True):
            article = make_article(title="خبر كتب والقرص ممتلئ")
        assert IndexOperation.objects.filter(article_pk=article.pk).exists()
    assert documents() == {}
    result = queue.drain()
    assert result.operations == 1 and result.indexed == 1
    assert set(documents()) == {article.pk}


def test_one_article_that_cannot_be_indexed_does_not_block_the_others(
    search_index, make_article, django_capture_on_commit_callbacks, monkeypatch
):
    backend = get_backend()
    original = type(backend).prepare_document
    poisoned = set()

    def prepare(self, index, obj):
        if obj.pk in poisoned:
            raise ValueError("cannot analyse this text")
        return original(self, index, obj)

    monkeypatch.setattr(type(backend), "prepare_document", prepare)
    with django_capture_on_commit_callbacks(execute=True):
        bad = make_article(title="مقال معطوب")
    poisoned.add(bad.pk)
    for _attempt in range(queue.MAX_ATTEMPTS):
        with django_capture_on_commit_callbacks(execute=True):
            bad.save()
            good = make_article()
        assert good.pk in documents()

    rows = IndexOperation.objects.filter(article_pk=bad.pk)
    assert rows.count() == queue.MAX_ATTEMPTS  # one per save, none lost
    assert all("cannot analyse this text" in row.last_error for row in rows)
    # The oldest has failed MAX_ATTEMPTS times: the automatic drains leave it
    # alone from now on, but it is not forgotten.
    assert max(row.attempts for row in rows) == queue.MAX_ATTEMPTS
    assert list(queue.failing_operations().values_list("article_pk", flat=True)) == [bad.pk]
    assert queue.drain().operations == 0

    poisoned.clear()
    call_command("process_index_queue", "--retry-failed", stdout=open("/dev/null", "w"))
    assert IndexOperation.objects.count() == 0
    assert bad.pk in documents()


def test_process_index_queue_reports_articles_it_cannot_index(
    search_index, make_article, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=False):
        article = make_article()
    backend = get_backend()

    def broken(self, index, obj):
        raise ValueError("broken analyser")

    monkeypatch.setattr(type(backend), "prepare_document", broken)
    with pytest.raises(CommandError, match="1 article"):
        call_command("process_index_queue", stdout=open("/dev/null", "w"), stderr=open("/dev/null", "w"))
    assert IndexOperation.objects.filter(article_pk=article.pk).exists()


def test_applying_the_same_operations_twice_gives_the_same_index(
    search_index, make_article, django_capture_on_commit_callbacks
):
    """What a crash between the index commit and the row deletion amounts to."""
    with django_capture_on_commit_callbacks(execute=True):
        articles = [make_article() for _ in range(3)]
        articles[0].delete()
    IndexOperation.objects.bulk_create(IndexOperation(article_pk=a.pk or 999_999) for a in articles)
    before = documents()
    result = queue.drain()
    assert result.operations == 3
    assert documents() == before
    assert not consistency.compare()


def test_deferred_draining_indexes_a_loop_of_transactions_once_at_the_end(
    search_index, make_article, django_capture_on_commit_callbacks, monkeypatch
):
    drains = []
    real_drain = queue.drain
    monkeypatch.setattr(queue, "drain", lambda **kw: drains.append(1) or real_drain(**kw))
    with django_capture_on_commit_callbacks(execute=True):
        with queue.deferred():
            created = []
            for n in range(5):
                with transaction.atomic():
                    created.append(make_article(title=f"خبر دفعة {n}"))
            # Saved and queued, not indexed yet.
            assert IndexOperation.objects.count() >= 5
            assert documents() == {}
    assert len(drains) == 1
    assert set(documents()) == {a.pk for a in created}


def test_topic_rename_clear_and_delete_reach_the_articles_documents(
    search_index, make_article, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = make_article(topics=["رياضة"])
        second = make_article(topics=["رياضة", "دولية"])
    sport = Topic.objects.get(name="رياضة")
    with django_capture_on_commit_callbacks(execute=True):
        sport.slug = "sport"
        sport.save()
    assert sorted(found("", topic="sport")) == sorted([first.pk, second.pk])

    with django_capture_on_commit_callbacks(execute=True):
        sport.articles.clear()
    assert found("", topic="sport") == []

    international = Topic.objects.get(name="دولية")
    with django_capture_on_commit_callbacks(execute=True):
        international.delete()
    assert documents()[second.pk].get("topics", "") == ""
    assert not consistency.compare()


def test_queryset_deletes_reach_the_index(search_index, make_article, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        articles = [make_article() for _ in range(4)]
    with django_capture_on_commit_callbacks(execute=True):
        Article.objects.filter(pk__in=[a.pk for a in articles[:3]]).delete()
    assert set(documents()) == {articles[3].pk}


@pytest.mark.django_db(transaction=True)
def test_under_gunicorn_the_drain_runs_after_the_answer_in_a_thread(search_index, settings, monkeypatch):
    from tests.factories import make_article

    monkeypatch.setenv("SERVER_SOFTWARE", "gunicorn/27.0.1")
    assert queue.drains_in_background()
    settings.NEWSROOM_INDEX_DRAIN = "inline"
    assert not queue.drains_in_background()
    settings.NEWSROOM_INDEX_DRAIN = "auto"

    article = make_article(title="خبر يكتب في الخلفية")
    queue._background.wait_idle(timeout=60)
    assert IndexOperation.objects.count() == 0
    assert set(documents()) == {article.pk}



@pytest.fixture
def commit_while_opening(monkeypatch):
    """Have another writer commit just before the newest table of contents
    is opened: what happens between two processes when the table one lists
    as newest is deleted by the commit that replaces it."""

    def arrange(article):
        original = FileStorage.open_file
        pending = [article]

        def open_file(storage, name, *args, **kwargs):
            if pending and name.endswith(".toc"):
                indexing.sync_articles([pending.pop().pk])
            return original(storage, name, *args, **kwargs)

        monkeypatch.setattr(FileStorage, "open_file", open_file)
        return pending

    return arrange


def test_a_process_opening_the_index_during_a_commit_reads_the_new_index(
    search_index, make_article, commit_while_opening, settings
):
    first, second = make_article(title="قمة المناخ"), make_article(title="قمة المناخ الثانية")
    indexing.sync_articles([first.pk])
    # A process that has not read the index yet, as a new gunicorn worker.
    backend = ArabicWhooshSearchBackend("default", **settings.HAYSTACK_CONNECTIONS["default"])
    unfinished = commit_while_opening(second)

    backend.setup()

    assert unfinished == []
    with backend.searcher() as searcher:
        assert {int(doc["django_id"]) for doc in searcher.all_stored_fields()} == {first.pk, second.pk}


def test_a_searcher_reopened_during_a_commit_reads_the_new_index(
    search_index, make_article, commit_while_opening
):
    first, second, third = (make_article(title=f"قمة المناخ {n}") for n in range(3))
    indexing.sync_articles([first.pk])
    assert get_backend().searcher().doc_count() == 1
    indexing.sync_articles([second.pk])  # the searcher is now out of date
    unfinished = commit_while_opening(third)

    searcher = get_backend().searcher()

    assert unfinished == []
    assert {int(doc["django_id"]) for doc in searcher.all_stored_fields()} == {first.pk, second.pk, third.pk}
    assert sorted(found("المناخ")) == sorted([first.pk, second.pk, third.pk])
