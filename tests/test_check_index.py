"""manage.py check_index: finds documents missing, stale or orphaned, and repairs them."""
import datetime
import io
from contextlib import contextmanager

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError

from articles.models import Article, Topic
from articles.search import consistency
from articles.search import index_queue as queue
from articles.search.documents import identifier
from articles.search.engines import get_engine
from articles.search.service import SearchRequest, search_articles
from tests.engines import on_solr, whoosh_only  # noqa: F401 (on_solr: whoosh_only's condition)

pytestmark = pytest.mark.django_db


def check_index(*args):
    """Run the command; returns (exit status, what it printed)."""
    out = io.StringIO()
    try:
        call_command("check_index", *args, stdout=out, stderr=out)
    except CommandError as error:
        return error.returncode, out.getvalue() + str(error)
    return 0, out.getvalue()


@pytest.fixture
def archive(search_index, make_article, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return [
            make_article(
                title=f"تقرير الميزانية رقم {n}",
                topics=["اقتصاد"],
                published=datetime.date(2015 + n, 1, 1),
            )
            for n in range(4)
        ]


@contextmanager
def signals_off():
    processor = apps.get_app_config("haystack").signal_processor
    processor.teardown()
    try:
        yield
    finally:
        processor.setup()


@contextmanager
def raw_batch():
    """Write to the index behind the queue's back, as a bug or a crash would."""
    engine = get_engine()
    with engine.write_lock(), engine.batch() as batch:
        yield batch


def test_a_clean_index_passes(archive):
    status, output = check_index()
    assert status == 0
    assert "4 article(s) in the database, 4 document(s) in the search index" in output
    assert "matches the database" in output


def test_finds_missing_stale_and_orphaned_documents_and_exits_non_zero(archive):
    missing, stale_date, stale_topics, deleted = archive
    deleted_pk = deleted.pk
    with raw_batch() as batch:
        batch.remove_identifier(identifier(missing.pk))
    # Changes that send no signal: a queryset update, a raw M2M row, a raw delete.
    Article.objects.filter(pk=stale_date.pk).update(published=datetime.date(1999, 9, 9))
    Article.topics.through.objects.create(article=stale_topics, topic=Topic.objects.create(name="طاقة"))
    with signals_off():
        deleted.delete()

    status, output = check_index()
    assert status == 1
    assert f"missing (in the database, not in the index): 1 — {missing.pk}" in output
    assert f"stale (the document disagrees with the article): 2 — {stale_date.pk}, {stale_topics.pk}" in output
    assert f"orphaned (in the index, not in the database): 1 — {identifier(deleted_pk)}" in output
    assert "check_index --repair" in output

    status, output = check_index("--repair")
    assert status == 0, output
    assert "Repaired 4 difference(s)." in output
    assert check_index()[0] == 0
    # What a reader sees follows: the repaired dates and topics are searchable.
    energy = Topic.objects.get(name="طاقة")
    hits = search_articles(SearchRequest(topic=energy.slug)).hits
    assert [hit.article.pk for hit in hits] == [stale_topics.pk]
    assert [hit.article.pk for hit in search_articles(SearchRequest(year=1999)).hits] == [stale_date.pk]


@whoosh_only
def test_duplicate_documents_are_stale_and_repaired_to_one(archive):
    article = archive[0]
    with raw_batch() as batch:
        batch.writer.add_document(**batch.backend.prepare_document(batch.index, article))
    differences = consistency.compare()
    assert differences.stale == [article.pk]
    assert differences.documents == 5
    status, output = check_index("--repair")
    assert status == 0, output
    assert consistency.compare().documents == 4


@whoosh_only
def test_documents_of_unknown_models_are_orphans(archive):
    with raw_batch() as batch:
        batch.writer.add_document(id="other.thing.1", django_ct="other.thing", django_id="1")
    status, output = check_index()
    assert status == 1
    assert "other.thing.1" in output
    assert check_index("--repair")[0] == 0
    assert not consistency.compare()


def test_repair_applies_queued_changes_first(archive, django_capture_on_commit_callbacks):
    article = archive[0]
    with django_capture_on_commit_callbacks(execute=False):
        article.published = datetime.date(2001, 2, 3)
        article.save()
    status, output = check_index()
    assert status == 1
    assert "1 change(s) are queued for the index" in output
    status, output = check_index("--repair")
    assert status == 0
    assert "Applied 1 queued change(s)." in output
    assert queue.pending_count() == 0


def test_an_empty_archive_and_index_agree(search_index):
    status, output = check_index()
    assert status == 0
    assert "0 article(s) in the database, 0 document(s)" in output
