"""Rebuilding the whole index fast (articles.search.indexing.rebuild, manage.py build_index).

The rebuild runs several writer processes; these tests check what a user
relies on: afterwards the index holds exactly the database's articles and
finds them, searches keep working while it runs, and a failed or blocked
rebuild leaves the old index as it was. Speed is measured in bench/, never here.
"""
import multiprocessing

import pytest
from django.core.management import call_command
from haystack.constants import ID
from whoosh.index import LockError

from articles.models import Article
from articles.search import indexing
from articles.search.service import SearchRequest, search_articles

WORDS = ["النفط", "الانتخابات", "المنتخب", "الزلزال", "الجامعة", "المستشفى"]


def indexed_ids():
    searcher = indexing.get_backend().index.refresh().searcher()
    try:
        return sorted(fields[ID] for fields in searcher.all_stored_fields())
    finally:
        searcher.close()


def expected_ids():
    return sorted(indexing.identifier(pk) for pk in Article.objects.values_list("pk", flat=True))


@pytest.fixture
def archive(make_article, search_index):
    """36 articles over three sources and two topics, not yet indexed."""
    articles = []
    for number in range(36):
        word = WORDS[number % len(WORDS)]
        articles.append(
            make_article(
                title=f"خبر {number} عن {word}",
                body=f"تفاصيل الخبر رقم {number} حول {word} في المدينة.\nفقرة ثانية عن {word}.",
                source=["سكاي نيوز عربية", "بي بي سي عربي", "فرانس 24"][number % 3],
                topics=["اقتصاد"] if number % 2 else ["رياضة"],
            )
        )
    return articles


@pytest.mark.parametrize("procs", [1, 2])
def test_rebuild_indexes_exactly_the_articles_of_the_database(archive, procs):
    # The index starts out wrong: one deleted article still in it, the others missing.
    gone = archive.pop()
    indexing.sync_articles([gone.pk])
    gone.delete()

    count = indexing.rebuild(procs=procs, batch_size=7)

    assert count == len(archive)
    assert indexed_ids() == expected_ids()
    assert indexing.indexed_count() == len(archive)
    assert not multiprocessing.active_children()


def test_a_parallel_rebuild_finds_what_a_single_writer_finds(archive):
    def searched():
        page = search_articles(SearchRequest(q="الانتخابات", page_size=50))
        return page.total, sorted(hit.article.pk for hit in page.hits), {
            name: [(f.value, f.count) for f in values] for name, values in page.facets.items()
        }

    indexing.rebuild(procs=1)
    single = searched()
    indexing.rebuild(procs=2)
    parallel = searched()

    assert single[0] == 6
    assert parallel == single


def test_searches_see_the_old_index_until_the_rebuild_commits(archive, index_articles):
    first = archive[0]
    index_articles(first)
    seen_during_build = []

    def progress(done):
        seen_during_build.append(search_articles(SearchRequest(q=WORDS[0])).total)

    indexing.rebuild(procs=2, batch_size=10, progress=progress)

    assert seen_during_build == [1, 1, 1, 1]
    assert search_articles(SearchRequest(q=WORDS[0])).total == 6


def test_a_failed_rebuild_leaves_the_old_index_and_no_process_behind(archive, index_articles, monkeypatch):
    index_articles(*archive[:5])
    before = indexed_ids()
    backend = indexing.get_backend()
    prepare = backend.prepare_document
    calls = []

    def failing(index, article):
        calls.append(article.pk)
        if len(calls) == 20:
            raise RuntimeError("disk full")
        return prepare(index, article)

    monkeypatch.setattr(backend, "prepare_document", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        indexing.rebuild(procs=2, batch_size=5)
    monkeypatch.undo()

    assert not multiprocessing.active_children()
    assert indexed_ids() == before
    # The write lock was released: the next rebuild runs.
    assert indexing.rebuild(procs=2) == len(archive)


def test_a_rebuild_waits_for_another_writer_then_says_why_it_gave_up(archive, index_articles):
    index_articles(archive[0])
    lock = indexing.get_backend().storage.lock(f"{indexing.INDEX_NAME}_WRITELOCK")
    assert lock.acquire()
    try:
        with pytest.raises(LockError, match="stayed locked"):
            indexing.rebuild(procs=2, lock_wait=0.3)
    finally:
        lock.release()
    assert indexed_ids() == [indexing.identifier(archive[0].pk)]


def test_build_index_command_rebuilds_and_reports(archive, capsys):
    call_command("build_index", procs=2)

    out = capsys.readouterr().out
    assert f"Indexed {len(archive)} articles" in out
    assert indexed_ids() == expected_ids()


def test_build_index_command_refuses_nonsense(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--procs"):
        call_command("build_index", procs=0)


def test_remembered_column_answers_agree_with_the_files(archive, index_articles):
    """Whoosh's per-posting "is there a length column?" check is answered from
    memory (indexing._remember_missing_columns); the answers must be Whoosh's."""
    index_articles(*archive)
    reader = indexing.get_backend().index.refresh().reader()
    try:
        leaf = reader.leaf_readers()[0][0] if hasattr(reader, "leaf_readers") else reader
        per_doc = leaf._perdoc
        for field in ("_text_len", "_title_len", "_source_len", "_no_such_field_len"):
            remembered = per_doc.has_column(field)
            again = per_doc.has_column(field)
            from_disk = per_doc._storage.file_exists(per_doc._segment.make_filename(f".{field}.col"))
            assert remembered == again == from_disk
        assert per_doc.has_column("_text_len")
        assert not per_doc.has_column("_no_such_field_len")
        assert not per_doc.has_column("_source_len")  # exact values keep no lengths
    finally:
        reader.close()
