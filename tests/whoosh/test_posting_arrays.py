"""A rebuilt segment's postings are also written as plain arrays beside it
(articles.search.posting_arrays). Searches read them instead of decoding the
segment's blocks, so they must be those postings exactly; and the file is
only ever an optimisation: damaged or gone, searches find the same."""
import logging
import os

import numpy as np
import pytest

from articles.search import indexing
from articles.search.engines.whoosh import posting_arrays, scoring, writing
from articles.search.engines.whoosh import segment_cache as segments
from articles.search.service import SearchRequest, related_articles, search_articles
from tests.whoosh.test_rebuild import _documents, varied_archive  # noqa: F401 (a fixture)

QUERIES = ["الرئيس", "النفط الأسعار", '"الرئيس قال"', "الحكومة -النفط", "2024", "الانتخا*"]


@pytest.fixture(autouse=True)
def forget_opened_arrays():
    posting_arrays.clear()
    segments.cache.clear()
    yield
    posting_arrays.clear()
    segments.cache.clear()


def arrays_files():
    folder = writing.get_backend().index.storage.folder
    return sorted(name for name in os.listdir(folder) if name.endswith("." + posting_arrays.EXTENSION))


def decoded(reader, field_name, term_bytes, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(posting_arrays, "arrays_of", lambda reader: None)
        return scoring._segment_postings(reader, field_name, term_bytes)


def test_posting_arrays_are_the_postings_the_blocks_hold(varied_archive, tmp_path, monkeypatch):
    """Several blocks per term (blocks of 4) and several segments."""
    from whoosh.codec.whoosh3 import W3Codec
    from whoosh.filedb.filestore import FileStorage

    from articles.search.engines.whoosh.rebuild_writer import RebuildWriter

    ix = FileStorage(str(tmp_path)).create_index(writing.get_backend().schema)
    writer = RebuildWriter(ix, codec=W3Codec(blocklimit=4), pool_limit_mb=0.05)
    for document in _documents():
        writer.add_document(**document)
    writer.commit()

    reader = ix.reader()
    leaves = [leaf for leaf, _offset in reader.leaf_readers()]
    assert len(leaves) > 3
    compared, wide, narrow = 0, 0, 0
    for leaf in leaves:
        arrays = posting_arrays.arrays_of(leaf)
        assert arrays is not None
        for field_name, term_bytes in leaf.all_terms():
            expected = decoded(leaf, field_name, term_bytes, monkeypatch)
            if expected is None:
                continue
            found = scoring._from_arrays(arrays, leaf, field_name, term_bytes)
            assert found is not None, (field_name, term_bytes)
            assert found[0].dtype == expected[0].dtype and np.array_equal(found[0], expected[0])
            assert found[1].dtype == expected[1].dtype and np.array_equal(found[1], expected[1])
            compared += 1
            wide += found[1].dtype == np.float64
            narrow += found[1].dtype == np.float32
    assert compared > 1000 and wide and narrow


def search_results():
    pages = [search_articles(SearchRequest(q=q, page_size=50)) for q in QUERIES]
    return [(page.total, [(hit.article.pk, hit.score, hit.snippet) for hit in page.hits]) for page in pages]


def related_results(articles):
    return [[related.pk for related in related_articles(article)] for article in articles[:10]]


def fresh_process_state():
    segments.cache.clear()
    posting_arrays.clear()
    writing.get_backend()._forget_searcher()


@pytest.mark.parametrize("procs", [1, 2])
def test_a_rebuilt_index_searches_alike_with_its_posting_arrays_and_without(varied_archive, procs, monkeypatch):
    indexing.rebuild(procs=procs, batch_size=7)
    assert len(arrays_files()) == len(writing.get_backend().index.refresh()._segments())
    with_arrays = search_results(), related_results(varied_archive)
    assert any(total for total, _hits in with_arrays[0])
    assert any(with_arrays[1])

    fresh_process_state()
    monkeypatch.setattr(posting_arrays, "arrays_of", lambda reader: None)
    assert (search_results(), related_results(varied_archive)) == with_arrays


def test_a_damaged_posting_arrays_file_is_left_aside(varied_archive, caplog):
    indexing.rebuild(procs=1)
    before = search_results()
    (name,) = arrays_files()
    path = os.path.join(writing.get_backend().index.storage.folder, name)
    with open(path, "r+b") as file:
        file.truncate(os.path.getsize(path) - 10)

    fresh_process_state()
    with caplog.at_level(logging.WARNING, logger="articles.search.posting_arrays"):
        assert search_results() == before
    assert "decoded instead" in caplog.text


def test_posting_arrays_go_with_their_segment(varied_archive, make_article, django_capture_on_commit_callbacks):
    """An editor's save adds a segment Whoosh writes (no arrays); a merge of
    them all leaves no arrays file behind."""
    indexing.rebuild(procs=2, batch_size=7)
    assert len(arrays_files()) == len(writing.get_backend().index.refresh()._segments()) >= 1
    with django_capture_on_commit_callbacks(execute=True):
        make_article(title="الرئيس في زيارة", body="قال الرئيس إن الزيارة ناجحة.")
    assert search_results()[0][0] == sum(1 for a in varied_archive if "الرئيس" in a.body) + 1

    writing.get_backend().index.optimize()
    fresh_process_state()

    assert arrays_files() == []
    assert search_results()[0][0] == sum(1 for a in varied_archive if "الرئيس" in a.body) + 1
