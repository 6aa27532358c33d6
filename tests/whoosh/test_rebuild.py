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

from articles.models import Article
from articles.search import indexing
from articles.search.documents import article_index, identifier
from articles.search.engines import IndexBusy
from articles.search.engines.whoosh import writing
from articles.search.service import SearchRequest, search_articles

WORDS = ["النفط", "الانتخابات", "المنتخب", "الزلزال", "الجامعة", "المستشفى"]


def indexed_ids():
    searcher = writing.get_backend().index.refresh().searcher()
    try:
        return sorted(fields[ID] for fields in searcher.all_stored_fields())
    finally:
        searcher.close()


def expected_ids():
    return sorted(identifier(pk) for pk in Article.objects.values_list("pk", flat=True))


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
    backend = writing.get_backend()
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
    lock = writing.get_backend().storage.lock(f"{writing.INDEX_NAME}_WRITELOCK")
    assert lock.acquire()
    try:
        with pytest.raises(IndexBusy, match="stayed locked"):
            indexing.rebuild(procs=2, lock_wait=0.3)
    finally:
        lock.release()
    assert indexed_ids() == [identifier(archive[0].pk)]


def test_build_index_command_rebuilds_and_reports(archive, capsys):
    call_command("rebuild_index", procs=2)

    out = capsys.readouterr().out
    assert f"Indexed {len(archive)} articles" in out
    assert indexed_ids() == expected_ids()


def test_build_index_command_refuses_nonsense(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--procs"):
        call_command("rebuild_index", procs=0)


def test_remembered_column_answers_agree_with_the_files(archive, index_articles):
    """Whoosh's per-posting "is there a length column?" check is answered from
    memory (indexing._remember_missing_columns); the answers must be Whoosh's."""
    index_articles(*archive)
    reader = writing.get_backend().index.refresh().reader()
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


# The index a rebuild writes is the index stock Whoosh writes ------------------

VARIED_WORDS = [
    "النفط", "والنفط", "بالنفط", "الانتخابات", "انتخابات", "المنتخب", "ترامب", "ترمب",
    "بوتين", "الزلزال", "الجامعة", "المستشفى", "مستشفيات", "فلسطين", "والفلسطينيون",
    "الأمم", "المتحدة", "إيران", "أسعار", "الذهب", "كرة", "القدم", "وزير", "الخارجية",
    "مدرسة", "المدارس", "في", "من", "على", "ماكرون", "ميركل", "كورونا", "اللقاح",
]


def _varied_text(number, words):
    """Texts of very different lengths with repeated words and punctuation."""
    count = 3 + (number * 37) % (40 if number % 5 else 400)
    picked = [VARIED_WORDS[(number * 7 + i * (number % 4 + 1)) % len(VARIED_WORDS)] for i in range(count)]
    sentences = [" ".join(picked[i : i + 9]) + "." for i in range(0, len(picked), 9)]
    return "\n".join(sentences) + (" " + words if words else "")


@pytest.fixture
def varied_archive(make_article, search_index):
    """30 articles: long and short, with and without lead, source, topics or date."""
    import datetime

    articles = []
    for number in range(30):
        articles.append(
            make_article(
                title=f"{VARIED_WORDS[number % len(VARIED_WORDS)]} {VARIED_WORDS[(number * 5) % len(VARIED_WORDS)]} {number}",
                lead=_varied_text(number + 100, "") if number % 3 else "",
                body=_varied_text(number, "«الرئيس» قال: 2024!"),
                source=None if number % 7 == 0 else ["سكاي نيوز عربية", "بي بي سي عربي", "فرانس 24"][number % 3],
                topics=[["اقتصاد"], ["رياضة", "سياسة"], []][number % 3],
                published=datetime.date(2000 + number % 20, 1 + number % 12, 1 + number % 28),
            )
        )
    return articles


def _index_contents(ix):
    """Everything a search can read from `ix`, keyed by the stored id rather
    than by docnum: every term's postings (weight, value bytes: positions or
    frequency), its statistics, field lengths and stored fields."""
    reader = ix.reader()
    try:
        ids = {docnum: fields[ID] for docnum, fields in reader.iter_docs()}
        schema = ix.schema
        postings = {}
        for fieldname, btext in reader.all_terms():
            fieldobj = schema[fieldname]
            matcher = reader.postings(fieldname, btext)
            rows = []
            while matcher.is_active():
                value = matcher.value()
                decoded = None
                if fieldobj.format.supports("positions"):
                    decoded = matcher.value_as("positions")
                elif fieldobj.format.supports("frequency"):
                    decoded = matcher.value_as("frequency")
                rows.append((ids[matcher.id()], matcher.weight(), value, decoded))
                matcher.next()
            info = reader.term_info(fieldname, btext)
            postings[(fieldname, btext)] = (
                sorted(rows),
                info.weight(),
                info.doc_frequency(),
                info.min_length(),
                info.max_length(),
                info.max_weight(),
            )
        # A document without a field's words has no length: Whoosh answers
        # None where its segment has the field's length column, 0 where not.
        lengths = {
            (ids[docnum], fieldname): reader.doc_field_length(docnum, fieldname) or 0
            for docnum in ids
            for fieldname in schema.scorable_names()
        }
        totals = {fieldname: reader.field_length(fieldname) for fieldname in schema.scorable_names()}
        stored = {ids[docnum]: fields for docnum, fields in reader.iter_docs()}
        return postings, lengths, totals, stored, reader.doc_count()
    finally:
        reader.close()


def _stock_index(tmp_path, documents, codec=None):
    from whoosh.filedb.filestore import FileStorage
    from whoosh.writing import SegmentWriter

    tmp_path.mkdir()
    ix = FileStorage(str(tmp_path)).create_index(writing.get_backend().schema)
    writer = SegmentWriter(ix, limitmb=1, codec=codec)  # small: spills sorted runs
    for document in documents:
        writer.add_document(**document)
    writer.commit()
    return ix


def _documents():
    backend = writing.get_backend()
    index = article_index()
    return [backend.prepare_document(index, article) for article in index.index_queryset()]


@pytest.mark.parametrize("procs", [1, 2])
def test_a_rebuild_writes_the_index_stock_whoosh_writes(varied_archive, tmp_path, procs):
    stock = _index_contents(_stock_index(tmp_path / "stock", _documents()))

    indexing.rebuild(procs=procs, batch_size=7)
    rebuilt = _index_contents(writing.get_backend().index.refresh())

    assert stock[4] == len(varied_archive)
    assert any(len(rows) > 1 for rows, *_ in stock[0].values())
    assert rebuilt[0] == stock[0]
    assert rebuilt[1:] == stock[1:]


def test_the_rebuild_writer_agrees_across_blocks_and_segments(varied_archive, tmp_path):
    """Small posting blocks (several per term) and a pool so small that the
    writer starts a new segment every few documents."""
    from whoosh.codec.whoosh3 import W3Codec
    from whoosh.filedb.filestore import FileStorage

    from articles.search.engines.whoosh.rebuild_writer import RebuildWriter

    documents = _documents()
    stock_ix = _stock_index(tmp_path / "stock", documents, codec=W3Codec(blocklimit=4))
    (tmp_path / "new").mkdir()
    ix = FileStorage(str(tmp_path / "new")).create_index(writing.get_backend().schema)
    writer = RebuildWriter(ix, codec=W3Codec(blocklimit=4), pool_limit_mb=0.05)
    for document in documents:
        writer.add_document(**document)
    writer.commit()

    assert len(ix.refresh()._segments()) > 3
    assert _index_contents(ix) == _index_contents(stock_ix)

    # Within one segment the files are the very bytes stock Whoosh writes.
    (tmp_path / "one").mkdir()
    one_ix = FileStorage(str(tmp_path / "one")).create_index(writing.get_backend().schema)
    writer = RebuildWriter(one_ix, codec=W3Codec(blocklimit=4))
    for document in documents:
        writer.add_document(**document)
    writer.commit()
    files = _segment_files(one_ix)
    assert {".trm", ".pst", "._stored.col", "._text_len.col"} <= set(files)
    assert files == _segment_files(stock_ix)


def _segment_files(ix):
    (segment,) = ix._segments()
    storage = segment.open_compound_file(ix.storage) if segment.is_compound() else ix.storage
    return {
        name[name.index("."):]: storage.open_file(name).read()
        for name in storage.list()
    }
