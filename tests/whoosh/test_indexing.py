"""The speed work's caches must never show a reader an archive older than the
database: facet counts and labels, related stories and cached pages all
follow a change as soon as the index has it. (How fast is measured in bench/.)
"""
import datetime
import os

import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory

from articles import caching
from articles.models import Article, Source, Topic
from articles.search import indexing
from articles.search.engines import get_engine
from articles.search.engines.whoosh import doc_bitmaps as bitmaps
from articles.search.engines.whoosh import planner, scoring, segment_files, writing
from articles.search.engines.whoosh import segment_cache as segments
from articles.search.service import SearchRequest, related_articles, search_articles

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def archive(search_index, make_article, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        articles = [
            make_article(
                title=f"أسعار النفط ترتفع في الأسواق {n}",
                body=f"ارتفعت أسعار النفط في الأسواق العالمية اليوم، وقال محللون إن الطلب يزداد. رقم {n}",
                source="سكاي نيوز عربية" if n % 2 else "بي بي سي عربي",
                topics=["اقتصاد"] if n < 3 else ["دولية"],
                published=datetime.date(2018 - n % 2, 3, 1 + n),
            )
            for n in range(5)
        ]
        articles.append(
            make_article(
                title="المنتخب يفوز بالمباراة",
                body="فاز المنتخب الوطني في المباراة النهائية للبطولة.",
                source="فرانس 24",
                topics=["رياضة"],
            )
        )
    return articles


def counts(page, name):
    return {facet.value: facet.count for facet in page.facets[name]}


def test_facet_counts_follow_an_edit_and_a_deletion(archive, django_capture_on_commit_callbacks):
    before = search_articles(SearchRequest(q="النفط"))
    assert before.total == 5
    assert counts(before, "topic") == {"اقتصاد": 3, "دولية": 2}

    with django_capture_on_commit_callbacks(execute=True):
        archive[0].topics.set([Topic.objects.get(name="دولية")])
        archive[1].delete()

    after = search_articles(SearchRequest(q="النفط"))
    assert after.total == 4
    assert counts(after, "topic") == {"اقتصاد": 1, "دولية": 3}
    assert sum(counts(after, "source").values()) == 4


def test_a_filter_that_matches_nothing_finds_nothing(archive, django_capture_on_commit_callbacks):
    sport = Topic.objects.get(name="رياضة")
    assert search_articles(SearchRequest(q="النفط", topic=sport.slug)).total == 0
    with django_capture_on_commit_callbacks(execute=True):
        sport.articles.clear()
    # The topic now has no article at all.
    page = search_articles(SearchRequest(topic=sport.slug))
    assert page.total == 0
    assert page.hits == []


def test_filtered_counts_are_counts_within_the_filter(archive):
    economy = Topic.objects.get(name="اقتصاد")
    page = search_articles(SearchRequest(q="النفط", topic=economy.slug))
    assert page.total == 3
    assert sum(counts(page, "source").values()) == 3
    assert counts(page, "topic") == {"اقتصاد": 3}
    assert {hit.article.pk for hit in page.hits} == {a.pk for a in archive[:3]}


def test_newest_first_counts_the_same_as_relevance(archive):
    relevance = search_articles(SearchRequest(q="النفط"))
    newest = search_articles(SearchRequest(q="النفط", sort="newest"))
    assert newest.total == relevance.total
    assert newest.facets == relevance.facets
    dates = [hit.article.published for hit in newest.hits]
    assert dates == sorted(dates, reverse=True)


def test_facet_labels_follow_a_source_rename(archive, django_capture_on_commit_callbacks):
    page = search_articles(SearchRequest(q="النفط"))
    labels = {facet.value: facet.label for facet in page.facets["source"]}
    slug = Source.objects.get(name="فرانس 24").slug
    sky = Source.objects.get(name="سكاي نيوز عربية")
    assert labels[sky.slug] == "سكاي نيوز عربية"

    with django_capture_on_commit_callbacks(execute=True):
        sky.name = "سكاي نيوز"
        sky.save()

    page = search_articles(SearchRequest(q="النفط"))
    labels = {facet.value: facet.label for facet in page.facets["source"]}
    assert labels[sky.slug] == "سكاي نيوز"
    assert slug not in labels  # not among the hits


def test_related_stories_follow_a_deletion(archive, django_capture_on_commit_callbacks):
    related = related_articles(archive[0])
    assert archive[2] in related
    assert archive[5] not in related

    with django_capture_on_commit_callbacks(execute=True):
        archive[2].delete()

    assert archive[2].pk not in {a.pk for a in related_articles(Article.objects.get(pk=archive[0].pk))}


def test_related_stories_are_kept_on_disk_for_every_worker_until_the_archive_changes(
    archive, django_capture_on_commit_callbacks, monkeypatch
):
    from django.conf import settings
    from django.core.cache import caches

    related = related_articles(archive[0])
    assert related
    searches = []
    engine = get_engine()
    real = engine.related
    monkeypatch.setattr(engine, "related", lambda *args: searches.append(args) or real(*args))
    # What another worker has: nothing in memory, a connection of its own
    # to the shared files on disk.
    caches["default"].clear()
    caches["shared"] = caches.create_connection("shared")
    assert related_articles(Article.objects.get(pk=archive[0].pk)) == related
    assert searches == []
    assert any((settings.VAR_DIR / "cache" / "shared").iterdir())

    with django_capture_on_commit_callbacks(execute=True):
        archive[5].save()
    related_articles(Article.objects.get(pk=archive[0].pk))
    assert len(searches) == 1


def test_an_index_built_again_is_a_new_archive_version_though_its_generation_repeats(archive):
    # Cached entries outlive processes (the shared cache is on disk), and an
    # index made again from scratch numbers its generations from the start.
    first = caching.archive_version()
    generation = writing.get_backend().index.latest_generation()
    indexing.clear()
    while writing.get_backend().index.refresh().latest_generation() < generation:
        indexing.sync_articles([archive[0].pk])
    assert writing.get_backend().index.refresh().latest_generation() == generation
    assert caching.archive_version() not in (None, first)


def test_facet_bitmaps_are_made_once_per_index_version(archive, django_capture_on_commit_callbacks):
    searcher = writing.get_backend().searcher()
    first = bitmaps.facet_index(searcher, ("source", "topics"))
    assert bitmaps.facet_index(writing.get_backend().searcher(), ("source", "topics")) is first

    with django_capture_on_commit_callbacks(execute=True):
        archive[5].delete()

    fresh = bitmaps.facet_index(writing.get_backend().searcher(), ("source", "topics"))
    assert fresh is not first
    assert sum(bits.bit_count() for bits in fresh.values["source"].values()) == 5


# ---------------------------------------------------------------------------
# caching.cached and caching.cache_page_until_change


def test_cached_value_is_computed_again_after_a_change(archive, django_capture_on_commit_callbacks):
    calls = []

    def compute():
        calls.append(1)
        return Article.objects.count()

    assert caching.cached("articles", compute) == 6
    assert caching.cached("articles", compute) == 6
    assert len(calls) == 1

    with django_capture_on_commit_callbacks(execute=True):
        archive[0].delete()

    assert caching.cached("articles", compute) == 5
    assert len(calls) == 2


def test_nothing_is_cached_when_the_index_cannot_be_read(db, monkeypatch):
    def broken(using="default"):
        raise OSError("the index folder is gone")

    monkeypatch.setattr(writing, "get_backend", broken)
    assert caching.archive_version() is None
    calls = []
    for _ in range(2):
        caching.cached("x", lambda: calls.append(1))
    assert len(calls) == 2


def page_view():
    calls = []

    @caching.cache_page_until_change
    def view(request):
        calls.append(request.get_full_path())
        return HttpResponse(f"<p>{Article.objects.count()} articles</p>")

    return view, calls


def test_a_page_is_served_from_the_cache_until_the_archive_changes(archive, django_capture_on_commit_callbacks):
    view, calls = page_view()
    factory = RequestFactory()

    assert view(factory.get("/")).content == b"<p>6 articles</p>"
    assert view(factory.get("/")).content == b"<p>6 articles</p>"
    assert len(calls) == 1
    # Another page of the listing is another entry.
    view(factory.get("/?page=2"))
    assert len(calls) == 2

    with django_capture_on_commit_callbacks(execute=True):
        archive[0].delete()

    assert view(factory.get("/")).content == b"<p>5 articles</p>"
    assert len(calls) == 3


def test_signed_in_readers_and_cookie_setting_pages_bypass_the_cache(archive, settings):
    view, calls = page_view()
    factory = RequestFactory()
    signed_in = factory.get("/")
    signed_in.COOKIES[settings.SESSION_COOKIE_NAME] = "abc"
    view(signed_in)
    view(signed_in)
    assert len(calls) == 2
    assert factory.post("/") and len(calls) == 2

    @caching.cache_page_until_change
    def sets_cookie(request):
        calls.append("cookie")
        response = HttpResponse("hello")
        response.set_cookie("seen", "1")
        return response

    sets_cookie(factory.get("/c"))
    sets_cookie(factory.get("/c"))
    assert calls.count("cookie") == 2

    @caching.cache_page_until_change
    def missing(request):
        calls.append("404")
        return HttpResponse("gone", status=404)

    missing(factory.get("/m"))
    missing(factory.get("/m"))
    assert calls.count("404") == 2


# ---------------------------------------------------------------------------
# Matching and scoring by bitmaps (articles.search.bitmaps)


@pytest.mark.parametrize(
    "text",
    ["النفط", "أسعار النفط", '"أسعار النفط"', "النفط -المنتخب", "+المنتخب النفط", "الأسو*", "الطلب يزداد المباراة"],
)
def test_matches_by_bitmaps_are_the_matches_whoosh_finds(archive, text):
    from articles.search import query
    from articles.search.engines.whoosh import query_builder

    searcher = writing.get_backend().searcher()
    index = bitmaps.facet_index(searcher, ("source",))
    whoosh_query = query_builder.build(query.parse(text))
    expected = set(searcher.docs_for_query(whoosh_query))
    assert set(bitmaps._docnums(bitmaps.query_bitmap(searcher, index, whoosh_query))) == expected
    assert expected  # every query of this list finds something


def test_scoring_fewer_candidates_keeps_the_exact_total_facets_and_best_hit(
    search_index, make_article, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(30):
            make_article(
                title=f"خبر محلي رقم {n}",
                body=f"تقرير عن الطقس ذكر فيه النفط مرة واحدة. رقم {n}",
                source="سكاي نيوز عربية" if n % 3 else "بي بي سي عربي",
            )
        best = make_article(title="أسعار النفط", body="النفط والنفط: أسعار النفط ترتفع، والنفط يقود الأسواق.")
    exact = search_articles(SearchRequest(q="أسعار النفط"))

    monkeypatch.setattr(planner, "CANDIDATES", 7)
    capped = search_articles(SearchRequest(q="أسعار النفط", page_size=10))

    assert capped.total == exact.total == 31
    assert capped.facets == exact.facets
    assert capped.hits[0].article == exact.hits[0].article == best
    # Every page the total promises has its hits, and no article comes twice.
    pages = [search_articles(SearchRequest(q="أسعار النفط", page_size=10, page=n)) for n in (1, 2, 3, 4)]
    assert [len(page.hits) for page in pages] == [10, 10, 10, 1]
    assert len({hit.article.pk for page in pages for hit in page.hits}) == 31


def test_bitmaps_kept_across_index_versions_give_the_counts_of_a_fresh_process(
    archive, make_article, django_capture_on_commit_callbacks
):
    """Each commit below leaves most segments as they were (a new one, some
    deletions, then a merge); what a process carries over from the previous
    version must count exactly what a process starting now counts."""

    def state():
        page = search_articles(SearchRequest(q="النفط"))
        return page.total, counts(page, "topic"), counts(page, "source"), {hit.article.pk for hit in page.hits}

    def fresh_state():
        segments.cache.clear()
        segment_files.clear()
        writing.get_backend()._forget_searcher()
        return state()

    steps = [
        lambda: make_article(title="النفط في الخليج", source="فرانس 24", topics=["رياضة"]),
        lambda: archive[2].topics.set([Topic.objects.get(name="رياضة")]),
        lambda: archive[3].delete(),
        lambda: Article.objects.filter(pk=archive[4].pk).first().save(),
        lambda: writing.get_backend().index.optimize(),
    ]
    seen = [state()]
    for step in steps:
        with django_capture_on_commit_callbacks(execute=True):
            step()
        carried_over = state()
        assert carried_over == fresh_state()
        seen.append(carried_over)
    # The steps did change what the search counts.
    assert seen[1][0] == seen[0][0] + 1
    assert seen[2][1] != seen[1][1]
    assert seen[3][0] == seen[2][0] - 1


@pytest.fixture
def segmented_archive(search_index, make_article, django_capture_on_commit_callbacks):
    """Sixty articles written in three commits (three segments), words
    repeated a varying number of times in texts of varying length, and a
    deletion in the first segment."""
    words = ["النفط", "الأسواق", "أسعار", "المفاوضات", "الطاقة", "الحكومة", "العالمية"]
    made = []
    for commit in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            for n in range(20):
                k = commit * 20 + n
                body = " ".join(words[(k + i) % len(words)] for i in range(3 + k % 11))
                made.append(
                    make_article(
                        title=f"{words[k % len(words)]} {words[(k * 3) % len(words)]} رقم {k} " + "تقرير " * (k % 5),
                        lead=f"{words[(k + 2) % len(words)]} في تقرير اليوم",
                        body=f"{body}. " * (1 + k % 4) + "وقال محللون إن الوضع يتغير.",
                        source="فرانس 24" if k % 2 else "بي بي سي عربي",
                    )
                )
    with django_capture_on_commit_callbacks(execute=True):
        made[3].delete()
    return made


@pytest.mark.parametrize(
    "text",
    [
        "النفط", "أسعار النفط", "أسعار النفط العالمية", "مفاوضات الطاقة الحكومة", '"الأسواق أسعار"',
        '"النفط الأسواق أسعار"', "النفط -الحكومة", "مفاوض*", "الأسو*", "النفط مفاوض*",
    ],
)
@pytest.mark.parametrize("candidate_limit", [None, 7])
def test_terms_scored_from_posting_blocks_score_exactly_as_whoosh(segmented_archive, text, candidate_limit, monkeypatch):
    from articles.search import query
    from articles.search.engines.whoosh import query_builder

    searcher = writing.get_backend().searcher()
    assert len(searcher.reader().leaf_readers()) >= 2 and searcher.reader().has_deletions()
    whoosh_query = query_builder.build(query.parse(text))

    def ranked(fast):
        monkeypatch.setattr(scoring, "ENABLED", fast)
        context = searcher.context(weighting=query_builder.WEIGHTING)
        return planner.top_documents(searcher, whoosh_query, 40, context=context, candidate_limit=candidate_limit)

    by_whoosh = ranked(False)
    assert len(by_whoosh) >= 5
    assert ranked(True) == by_whoosh  # the same documents, order and scores, to the last bit


@pytest.mark.parametrize("limit", [1, 2, 5])
def test_every_match_scored_on_arrays_breaks_ties_as_whoosh(
    search_index, make_article, django_capture_on_commit_callbacks, limit, monkeypatch
):
    """More-like-this scores every match (candidate_limit=None): the same
    articles in three segments tie, and the lower document number goes
    first, also where a segment has more ties than the page has room for."""
    from articles.search import query
    from articles.search.engines.whoosh import query_builder

    for commit in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            for n in range(4):
                make_article(title="النفط اليوم", body=f"ارتفعت أسعار النفط {commit}{n}.", source="فرانس 24")
            make_article(title=f"تقرير رقم {commit}", body="النفط " * (commit + 2) + "في الأسواق.")
    searcher = writing.get_backend().searcher()
    assert len(searcher.reader().leaf_readers()) >= 3
    whoosh_query = query_builder.build(query.parse("النفط"))
    context = searcher.context(weighting=query_builder.WEIGHTING)

    def ranked(fast):
        monkeypatch.setattr(scoring, "ENABLED", fast)
        return planner.top_documents(searcher, whoosh_query, limit, exclude={0}, context=context, candidate_limit=None)

    by_whoosh = ranked(False)
    assert len(by_whoosh) == limit and 0 not in [docnum for docnum, _score in by_whoosh]
    assert ranked(True) == by_whoosh


def test_a_term_whose_documents_in_a_segment_are_all_deleted_is_still_scored_on_arrays(
    search_index, make_article, django_capture_on_commit_callbacks, monkeypatch
):
    """An article saved again leaves its old copy deleted in an editor's
    small segment. Whoosh's deletion filter moves a posting list past
    deleted postings at once, past all of them there: the list must still
    be read whole (deleted documents included, as the bitmaps expect), or
    every more-like-this holding one of its words fell back to Whoosh."""
    from whoosh import query as wq

    with django_capture_on_commit_callbacks(execute=True):
        saved_again = make_article(title="مفاعل نووي جديد", body="بناء المفاعل النووي في الصحراء.")
    with django_capture_on_commit_callbacks(execute=True):
        others = [make_article(title=f"المفاعل رقم {n}", body="تقرير عن المفاعل والطاقة.") for n in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        saved_again.body = "بناء المفاعل النووي في الصحراء بعد سنوات."
        saved_again.save()
    searcher = writing.get_backend().searcher()
    term = scoring.term_bytes_of(searcher.schema, "text", "مفاعل")
    readers = [reader for reader, _offset in searcher.reader().leaf_readers() if (("text", term) in reader)]
    emptied = [reader for reader in readers if reader.has_deletions() and reader.doc_count() == 0]
    assert emptied, "the first save's segment keeps only its deleted copy"
    for reader in emptied:
        ids, _weights = scoring.segment_postings(reader, "text", term)
        assert ids.size == reader.doc_count_all()

    like = wq.Or([wq.Term("text", "مفاعل", boost=1.0), wq.Term("text", "نوو", boost=0.5)])
    context = searcher.context()
    assert scoring.best_documents(searcher, context, like.subqueries, 3) is not None
    fast = planner.top_documents(searcher, like, 3, context=context, candidate_limit=None)
    monkeypatch.setattr(scoring, "ENABLED", False)
    assert fast == planner.top_documents(searcher, like, 3, context=context, candidate_limit=None)
    assert len(fast) == 3 and len(others) == 3


def test_segment_files_stay_readable_for_the_next_version_after_a_reader_closes(
    archive, make_article, django_capture_on_commit_callbacks
):
    """Every version's readers share the files of the segments they have in
    common; a reader closed (as the backend closes its searcher) must not
    close them under the next version's."""
    before = search_articles(SearchRequest(q="النفط")).total
    assert segment_files.shared_count() >= 1
    writing.get_backend()._forget_searcher()  # closes the searcher and its segment readers
    with django_capture_on_commit_callbacks(execute=True):
        make_article(title="النفط في بحر الشمال", topics=["اقتصاد"])

    after = search_articles(SearchRequest(q="النفط"))

    assert after.total == before + 1
    assert counts(after, "topic")["اقتصاد"] == 4


def test_a_process_that_only_writes_lets_go_of_merged_segments(search_index, make_article):
    """An import writes batch after batch and never searches; the files of
    segments that merges deleted must not stay open in it."""
    articles = [make_article(title=f"تقرير رقم {n}") for n in range(12)]
    segment_files.clear()
    for article in articles:
        indexing.sync_articles([article.pk])  # a commit each; the writer opens every segment
    writing.get_backend().index.optimize()  # one segment left; the others' files are deleted
    indexing.sync_articles([articles[0].pk])

    on_disk = {name for name in os.listdir(writing.get_backend().path) if name.endswith(".seg")}
    assert segment_files.shared_count() <= len(on_disk)


@pytest.fixture
def plain_positions_index(tmp_path):
    """A Whoosh index of its own: 1,200 short texts over six words in three
    segments (posting lists of several blocks), with deletions in two."""
    import random

    from whoosh import fields, index

    rng = random.Random(7)
    vocabulary = ["نفط", "سوق", "سعر", "غاز", "طاقة", "بحر"]
    schema = fields.Schema(key=fields.ID(stored=True, unique=True), text=fields.TEXT(phrase=True))
    ix = index.create_in(tmp_path, schema)
    for segment in range(3):
        with ix.writer() as writer:
            for n in range(400):
                words = [rng.choice(vocabulary) for _ in range(rng.randint(1, 12))]
                writer.add_document(key=f"{segment}-{n}", text=" ".join(words))
    with ix.writer() as writer:
        for n in range(0, 400, 9):
            writer.delete_by_term("key", f"0-{n}")
            writer.delete_by_term("key", f"2-{n + 4}")
    return ix, vocabulary


def test_phrases_found_on_arrays_are_the_documents_whoosh_finds(plain_positions_index):
    import itertools

    from whoosh import query as wq

    ix, vocabulary = plain_positions_index
    segments.cache.clear()
    with ix.searcher() as searcher:
        assert len(searcher.reader().leaf_readers()) == 3 and searcher.reader().has_deletions()
        # Posting lists of several blocks, so that blocks without a candidate are skipped.
        assert searcher.doc_frequency("text", "نفط") > 3 * 128
        live = 0
        for docnum in range(searcher.doc_count_all()):
            if not searcher.reader().is_deleted(docnum):
                live |= 1 << docnum
        phrases = [list(pair) for pair in itertools.product(vocabulary[:4], repeat=2)]
        phrases += [["نفط", "سوق", "سعر"], ["سعر", "نفط", "سعر"], ["غاز", "غاز", "غاز"], ["بحر"], ["نفط", "غائب"]]
        some_found = some_missed = False
        for words, slop in itertools.product(phrases, (1, 2, 4)):
            phrase = wq.Phrase("text", words, slop=slop)
            expected = set(searcher.docs_for_query(phrase))
            found = bitmaps._phrase_bitmap(searcher, phrase)
            assert found is not None, words
            assert set(bitmaps._docnums(found & live)) == expected, (words, slop)
            some_found |= bool(expected)
            some_missed |= bool(expected) and len(expected) < searcher.doc_count()
        assert some_found and some_missed
