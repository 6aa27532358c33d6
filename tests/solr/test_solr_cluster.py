"""Writing to a live SolrCloud and keeping it serving: batches visible at
once, a rebuild readers never notice, a stopped node, two shards that score
like one index, the set-up command."""

import io
import threading
import time

import pytest
from django.core.management import call_command

from articles.search import query
from articles.search.engines import EngineQuery, EngineUnavailable
from articles.search.engines.solr import writing
from articles.search.engines.solr.engine import SolrEngine
from tests.engines import on_solr  # noqa: F401  (needs_solr evaluates it here)
from tests.solr.conftest import cluster, needs_solr

pytestmark = [needs_solr, pytest.mark.django_db]


def found(engine, text, **options):
    results = engine.search(EngineQuery(parsed=query.parse(text), **options))
    return [hit.article_id for hit in results.hits]


def engine_like(engine, **changes):
    options = {
        "hosts": engine.nodes.hosts,
        "core_path": engine.nodes.core_path,
        "collection": engine.collection,
    }
    return SolrEngine(**{**options, **changes})


def test_an_edit_is_searchable_as_soon_as_its_batch_ends(solr_engine, solr_index, make_article):
    article = make_article(title="زلزال في تركيا", body="ضرب زلزال جنوب تركيا.")
    started = time.monotonic()
    solr_index.sync_articles([article.pk])
    assert found(solr_engine, "زلزال") == [article.pk]
    assert time.monotonic() - started < 1.0

    type(article).objects.filter(pk=article.pk).update(title="فيضان في تركيا", body="فيضانات جنوب تركيا.")
    solr_index.sync_articles([article.pk])
    assert found(solr_engine, "زلزال") == []
    assert found(solr_engine, "فيضان") == [article.pk]

    type(article).objects.filter(pk=article.pk).delete()
    solr_index.sync_articles([article.pk])
    assert found(solr_engine, "فيضان") == []


def test_documents_sent_without_a_commit_show_within_a_second(solr_engine, solr_index, make_article):
    # The configset's autoSoftCommit: a writer that dies before its commit
    # still leaves what it sent searchable.
    article = make_article(title="بركان في إيسلندا", body="ثار بركان.")
    from articles.search.documents import article_index

    batch = writing.SolrBatch(solr_engine.nodes, solr_engine.collection, article_index())
    batch.replace(article.pk, article)
    batch.flush()
    deadline = time.monotonic() + 1.0
    while not found(solr_engine, "بركان") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert found(solr_engine, "بركان") == [article.pk]


def test_a_rebuild_serves_the_old_collection_until_the_new_one_is_whole(
    solr_engine, solr_index, make_article, monkeypatch
):
    old_articles = [make_article(title=f"انتخابات {n}", body="جرت الانتخابات.") for n in range(4)]
    solr_index.sync_articles([article.pk for article in old_articles])
    unindexed = make_article(title="انتخابات جديدة", body="انتخابات مبكرة.")
    before = solr_engine.admin.alias_targets(solr_engine.collection)

    # One article a chunk, a pause after each: searches run all through it.
    monkeypatch.setattr(writing, "REBUILD_CHUNK", 1)
    seen, errors, stop = [], [], threading.Event()

    def read():
        while not stop.is_set():
            try:
                seen.append(len(found(solr_engine, "انتخابات", limit=50)))
            except Exception as error:  # any error is a failed search
                errors.append(error)
            time.sleep(0.02)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        total = solr_engine.rebuild(progress=lambda done: time.sleep(0.2))
    finally:
        stop.set()
        reader.join()

    assert total == 5
    assert errors == []
    assert seen and set(seen) <= {4, 5}  # never an empty or half-built index
    after = solr_engine.admin.alias_targets(solr_engine.collection)
    assert after != before and len(after) == 1
    assert not set(before) & solr_engine.admin.collections()  # the old one is gone
    assert sorted(found(solr_engine, "انتخابات", limit=50)) == sorted(
        a.pk for a in [*old_articles, unindexed]
    )


def test_searches_and_edits_carry_on_while_a_node_is_stopped(solr_engine, solr_index, make_article):
    articles = [make_article(title=f"قمة المناخ {n}", body=f"تبدأ قمة المناخ {n}.") for n in range(30)]
    first = sorted(article.pk for article in articles[:6])
    solr_index.sync_articles(first)
    # Node 2 (the second host of SEARCH_URL) asked first: its stop is felt
    # by this client as well as by the node forwarding to its replicas.
    reader_engine = engine_like(solr_engine, hosts=list(reversed(solr_engine.nodes.hosts)))
    answers, errors, stop = [], [], threading.Event()

    def read():
        while not stop.is_set():
            try:
                answers.append((time.monotonic(), set(found(reader_engine, "المناخ", limit=50))))
            except Exception as error:
                errors.append(error)
            time.sleep(0.02)

    # A collection whose one replica lives on node 2 only: it goes with it.
    node_2 = solr_engine.nodes.hosts[1] + "_" + solr_engine.nodes.core_path
    lonely = engine_like(solr_engine, collection=f"{solr_engine.collection}_lonely")
    target = f"{lonely.collection}_1"
    lonely.admin.create_collection(target, lonely.admin.upload_configset(), 1, 1, nodes=[node_2])
    lonely.admin.point_alias(lonely.collection, target)
    stopper = threading.Thread(target=cluster, args=("stop-node", "2"))
    reader = threading.Thread(target=read)
    reader.start()
    try:
        time.sleep(0.5)
        stopping = time.monotonic()
        stopper.start()
        # Edits keep coming while the node goes and its shards elect leaders.
        for article in articles[6:]:
            solr_index.sync_articles([article.pk])
            time.sleep(0.1)
        stopper.join()
        # One node of two is no problem: every shard has a replica left.
        healthy_while_stopped = solr_engine.problem()
        lonely_while_stopped = lonely.problem()
        time.sleep(2)
    finally:
        stop.set()
        reader.join()
        stopper.join()
        cluster("start-node", "2")
        from tests.solr.conftest import drop_collections

        drop_collections(lonely)
    assert errors == []
    assert healthy_while_stopped is None
    assert "has no active replica" in lonely_while_stopped
    during = [found_ids for at, found_ids in answers if at > stopping]
    assert len(during) > 20
    everything = {article.pk for article in articles}
    assert all(set(first) <= found_ids <= everything for _at, found_ids in answers)
    assert set(found(solr_engine, "المناخ", limit=50)) == everything


def test_a_host_that_does_not_answer_is_skipped_and_none_is_a_clear_error(
    solr_engine, solr_index, make_article
):
    article = make_article(title="كأس العالم", body="انطلقت كأس العالم.")
    solr_index.sync_articles([article.pk])
    with_dead = engine_like(solr_engine, hosts=["127.0.0.1:9", *solr_engine.nodes.hosts])
    assert found(with_dead, "كأس") == [article.pk]
    assert found(with_dead, "كأس") == [article.pk]  # the good node first now

    all_dead = engine_like(solr_engine, hosts=["127.0.0.1:9"])
    with pytest.raises(EngineUnavailable, match="No Solr node could answer"):
        found(all_dead, "كأس")
    assert all_dead.problem().startswith("No Solr node answers")


def test_a_missing_alias_is_a_problem_and_a_clear_error(solr_engine):
    missing = engine_like(solr_engine, collection=f"{solr_engine.collection}_missing")
    assert "does not exist" in missing.problem()
    with pytest.raises(EngineUnavailable, match="setup_search"):
        found(missing, "كأس")


def test_two_shards_score_like_one_index(solr_engine, make_article):
    texts = [
        ("مفاوضات السلام في إسطنبول", "تعثرت مفاوضات السلام بين روسيا وأوكرانيا في إسطنبول."),
        ("جولة جديدة من المفاوضات", "تستأنف المفاوضات الأسبوع المقبل في إسطنبول."),
        ("الأهلي بطلا للكأس", "فاز الأهلي على الزمالك بهدفين في المباراة النهائية للكأس."),
        ("أسعار النفط", "ارتفعت أسعار النفط بعد قرار أوبك خفض الإنتاج."),
        ("روسيا وأوكرانيا", "قالت روسيا إن المفاوضات مع أوكرانيا مستمرة."),
        ("ترامب في الخليج", "وصل ترامب إلى الرياض في جولة خليجية."),
    ]
    articles = [make_article(title=title, body=body) for title, body in texts]
    # Two fresh collections: deleted documents of earlier tests still count
    # in Lucene's statistics until merged, and would differ between them.
    two = engine_like(solr_engine, collection=f"{solr_engine.collection}_two")
    one = engine_like(solr_engine, collection=f"{solr_engine.collection}_one")
    try:
        for engine, shards in ((two, 2), (one, 1)):
            engine.setup(shards=shards, replicas=1)
            with engine.batch() as batch:
                for article in articles:
                    batch.replace(article.pk, article)
        for text in ("مفاوضات إسطنبول", "روسيا", '"مفاوضات السلام"', "المفاوضات -إسطنبول", "ترمب"):
            sharded = two.search(EngineQuery(parsed=query.parse(text)))
            single = one.search(EngineQuery(parsed=query.parse(text)))
            assert [(h.article_id, h.score) for h in sharded.hits] == [
                (h.article_id, h.score) for h in single.hits
            ]
            assert sharded.hits
    finally:
        from tests.solr.conftest import drop_collections

        drop_collections(one)
        drop_collections(two)


def test_setup_search_creates_once_and_then_has_nothing_to_do(solr_engine, monkeypatch):
    fresh = engine_like(solr_engine, collection=f"{solr_engine.collection}_setup")
    monkeypatch.setattr("articles.management.commands.setup_search.get_engine", lambda: fresh)
    try:
        first, second = io.StringIO(), io.StringIO()
        call_command("setup_search", "--shards", "1", "--replicas", "1", stdout=first)
        call_command("setup_search", stdout=second)
        assert "Created collection" in first.getvalue()
        assert "nothing to create" in second.getvalue()
        (target,) = fresh.admin.alias_targets(fresh.collection)
        assert fresh.admin.layout(target) == (1, 1)
        assert fresh.problem() is None
    finally:
        from tests.solr.conftest import drop_collections

        drop_collections(fresh)


def test_writing_to_a_missing_collection_fails_the_batch_and_loses_nothing_quietly(solr_engine, make_article):
    # A 404 is no bad document to skip: the whole batch fails, so the index
    # queue keeps its rows for the next drain.
    missing = engine_like(solr_engine, collection=f"{solr_engine.collection}_missing")
    article = make_article(title="خبر", body="نص")

    def write():
        with missing.batch() as batch:
            for _ in range(writing.BATCH_DOCUMENTS + 1):  # one full request inside the batch
                batch.replace(article.pk, article)

    with pytest.raises(EngineUnavailable, match="setup_search"):
        write()
    with pytest.raises(EngineUnavailable, match="setup_search"):
        missing.clear()


def test_a_rebuild_with_no_alias_yet_makes_one(solr_engine, solr_index, make_article):
    # ensure_index rebuilds an index that is missing: on a new cluster that is
    # the first collection and its alias, configset included.
    article = make_article(title="انتخابات", body="جرت الانتخابات.")
    fresh = engine_like(solr_engine, collection=f"{solr_engine.collection}_fresh")
    try:
        assert "does not exist" in fresh.problem()
        assert fresh.rebuild() >= 1
        assert fresh.problem() is None
        assert article.pk in found(fresh, "انتخابات")
    finally:
        from tests.solr.conftest import drop_collections

        drop_collections(fresh)
