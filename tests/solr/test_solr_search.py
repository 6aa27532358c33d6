"""Searching a live SolrCloud collection as a reader would: Arabic found by
its normalised forms, filters and facet counts, sorting, pages, phrases,
exclusions, prefixes, hostile text, related stories and spelling."""

import datetime

import pytest

from articles.search import key_terms_model, query
from articles.search.analysis import field_tokens
from articles.search.documents import prepare
from articles.search.engines import EngineQuery
from tests.engines import on_solr  # noqa: F401  (needs_solr evaluates it here)
from tests.solr.conftest import needs_solr
from tests.solr.test_query_compiler import HOSTILE

pytestmark = [needs_solr, pytest.mark.django_db]


def search(engine, text=None, **options):
    return engine.search(EngineQuery(parsed=query.parse(text) if text is not None else None, **options))


def ids(results):
    return [hit.article_id for hit in results.hits]


@pytest.fixture
def index(solr_index):
    def index(*articles):
        solr_index.sync_articles([article.pk for article in articles])
        return articles

    return index


def test_words_are_found_by_their_normalised_forms_and_other_spellings(solr_engine, index, make_article):
    talks = make_article(title="المفاوضات تتعثر", body="تعثرت المفاوضات بين الطرفين في إسطنبول.")
    trump = make_article(title="ترامب يزور الخليج", body="وصل الرئيس ترامب إلى الرياض.")
    trumb = make_article(title="ترمب في البيت الأبيض", body="قال ترمب إن الاتفاق قريب.")
    other = make_article(title="أسعار النفط", body="ارتفعت أسعار النفط اليوم.")
    index(talks, trump, trumb, other)

    assert ids(search(solr_engine, "مفاوضات")) == [talks.pk]
    assert ids(search(solr_engine, "والمفاوضات")) == [talks.pk]
    # Both spellings of the name are found; the one spelled as typed first.
    assert ids(search(solr_engine, "ترمب")) == [trumb.pk, trump.pk]
    assert ids(search(solr_engine, "ترامب")) == [trump.pk, trumb.pk]


def test_filters_narrow_the_hits_and_facets_count_every_match(solr_engine, index, make_article):
    a = make_article(
        title="غزة اليوم", source="الجزيرة", topics=["سياسة"], published=datetime.date(2023, 1, 2)
    )
    b = make_article(
        title="غزة غدا", source="الجزيرة", topics=["سياسة", "حرب"], published=datetime.date(2024, 1, 2)
    )
    c = make_article(title="غزة أمس", source="العربية", topics=["حرب"], published=datetime.date(2024, 3, 4))
    index(a, b, c)
    jazeera, arabiya = a.source.slug, c.source.slug
    politics = a.topics.get().slug
    war = c.topics.get().slug

    everything = search(solr_engine, "غزة")
    assert everything.total == 3
    assert everything.facets["source"] == {jazeera: 2, arabiya: 1}
    assert everything.facets["topics"] == {politics: 2, war: 2}
    assert everything.facets["year"] == {"2024": 2, "2023": 1}

    narrowed = search(solr_engine, "غزة", filters=(("source", jazeera), ("year", "2024")))
    assert ids(narrowed) == [b.pk]
    assert narrowed.facets["topics"] == {politics: 1, war: 1}
    assert search(solr_engine, "غزة", filters=(("topics", war),)).total == 2
    assert search(solr_engine, "غزة", filters=(("source", "no-such-source"),)).total == 0


def test_newest_first_with_undated_articles_last_and_pages(solr_engine, index, make_article):
    dates = [datetime.date(2020, 1, 1), datetime.date(2022, 6, 1), None, datetime.date(2021, 3, 1)]
    articles = []
    for n, published in enumerate(dates):
        article = make_article(title=f"خبر عن الاقتصاد {n}", body="الاقتصاد ينمو.")
        if published is None:
            type(article).objects.filter(pk=article.pk).update(published=None)
        else:
            type(article).objects.filter(pk=article.pk).update(published=published)
        articles.append(article)
    index(*articles)
    newest = [articles[1].pk, articles[3].pk, articles[0].pk, articles[2].pk]

    assert ids(search(solr_engine, "الاقتصاد", sort="newest")) == newest
    assert ids(search(solr_engine)) == newest  # no query: everything, newest first
    first = search(solr_engine, "الاقتصاد", sort="newest", offset=0, limit=3)
    second = search(solr_engine, "الاقتصاد", sort="newest", offset=3, limit=3)
    assert (first.total, second.total) == (4, 4)
    assert ids(first) + ids(second) == newest


def test_a_phrase_needs_its_words_together_and_in_order(solr_engine, index, make_article):
    together = make_article(title="بيان", body="أصدرت وزارة الخارجية بيانا.")
    apart = make_article(title="بيان", body="قالت الخارجية إن الوزارة أصدرت بيانا.")
    index(together, apart)

    assert ids(search(solr_engine, '"وزارة الخارجية"')) == [together.pk]
    words = search(solr_engine, "وزارة الخارجية")
    assert set(ids(words)) == {together.pk, apart.pk}
    assert ids(words)[0] == together.pk  # close together ranks first


def test_excluded_words_and_required_words(solr_engine, index, make_article):
    truce = make_article(title="هدنة في غزة", body="اتفاق على هدنة.")
    hamas = make_article(title="حماس توافق على الهدنة", body="وافقت حماس على هدنة في غزة.")
    other = make_article(title="هدنة في السودان", body="هدنة بين الجيش والدعم السريع.")
    index(truce, hamas, other)

    assert set(ids(search(solr_engine, "هدنة -حماس"))) == {truce.pk, other.pk}
    assert set(ids(search(solr_engine, "هدنة +غزة"))) == {truce.pk, hamas.pk}
    # Only an exclusion leaves nothing to search for: every article, as Whoosh.
    assert ids(search(solr_engine, "-حماس")) == ids(search(solr_engine))


def test_a_prefix_finds_the_words_it_starts(solr_engine, index, make_article):
    talks = make_article(title="المفاوضات", body="بدأت المفاوضات.")
    negotiators = make_article(title="المفاوضون يصلون", body="وصل المفاوضون.")
    other = make_article(title="الاقتصاد", body="نما الاقتصاد.")
    index(talks, negotiators, other)

    assert set(ids(search(solr_engine, "المفاوض*"))) == {talks.pk, negotiators.pk}
    assert ids(search(solr_engine, "+مفاوضزز* الاقتصاد")) == []  # a required prefix no word starts


# Five prefixes that start hundreds of words each: more terms than Lucene
# takes in one query, unless the compiler cuts it to fit.
PREFIX_WORDS = " ".join(f"{prefix}{n}" for prefix in ("ab", "ac", "ad", "ae", "af", "ag") for n in range(100))
PREFIXES = "ab* ac* ad* ae* af* ag*"


@pytest.mark.parametrize(
    "text", [*HOSTILE, "ترامب" + '"\\' * 20, "id:articles.article.1", "published:[* TO NOW]", PREFIXES]
)
def test_hostile_text_is_searched_as_text_never_an_error(solr_engine, index, make_article, text):
    article = make_article(
        title="ترامب يقول AND OR", lead=PREFIX_WORDS, body="id title published x a b " + PREFIX_WORDS
    )
    index(article)
    results = search(solr_engine, text)
    assert results.total >= 0 and all(hit.article_id == article.pk for hit in results.hits)


def test_related_stories_share_key_terms_and_never_include_the_article(solr_engine, index, make_article):
    story = make_article(
        title="مفاوضات السلام في إسطنبول", body="تعثرت مفاوضات السلام بين روسيا وأوكرانيا في إسطنبول."
    )
    close = make_article(
        title="جولة جديدة من مفاوضات إسطنبول", body="تستأنف مفاوضات السلام في إسطنبول الأسبوع المقبل."
    )
    far = make_article(title="الأهلي بطلا للكأس", body="فاز الأهلي على الزمالك.")
    index(story, close, far)

    related = solr_engine.related(story, 5)
    assert related[0] == close.pk
    assert story.pk not in related and far.pk not in related
    unindexed = make_article(title="مفاوضات السلام", body="مفاوضات إسطنبول")
    assert solr_engine.related(unindexed, 5) == []


def test_key_terms_are_whooshs_bo1_pick_from_the_whole_collections_counts(solr_engine, index, make_article):
    bodies = [
        "تعثرت مفاوضات السلام بين روسيا وأوكرانيا في إسطنبول وقال الوسطاء إن الجولة المقبلة ستعقد قريبا",
        "فاز الأهلي على الزمالك بهدفين في المباراة النهائية للكأس وتوج باللقب للمرة العاشرة في تاريخه",
        "ارتفعت أسعار النفط بعد قرار أوبك خفض الإنتاج وتوقع محللون أن تواصل الأسعار الصعود حتى الشتاء",
        "عقدت جولة جديدة من مفاوضات إسطنبول بحضور وفود روسيا وأوكرانيا وتركيا والأمم المتحدة",
    ]
    articles = [make_article(title=body.split()[1], body=body) for body in bodies]
    index(*articles)
    # What Whoosh counts: each stem's weight summed over the indexed texts.
    in_collection = {}
    for article in articles:
        for token in field_tokens(prepare(article)["text"], "stem"):
            in_collection[token.term] = in_collection.get(token.term, 0.0) + token.weight
    story = articles[0]
    text = "\n".join([story.title, story.title, story.lead, story.body])
    expected = key_terms_model.key_terms(
        key_terms_model.text_weights(field_tokens(text, "stem")), in_collection, len(articles)
    )
    picked = solr_engine.key_terms(story)
    assert len(expected) == key_terms_model.KEY_TERMS
    assert [word for word, _ in picked] == [word for word, _ in expected]
    assert [weight for _, weight in picked] == pytest.approx([weight for _, weight in expected])


def test_spelling_candidates_are_indexed_words_a_few_edits_away(solr_engine, index, make_article):
    # Enough articles that both shards hold some of each word's.
    articles = [make_article(title="المفاوضات", body=f"المفاوضات مستمرة {n}") for n in range(12)]
    articles += [make_article(title="المفاوضين", body=f"المفاوضين {n}") for n in range(5)]
    index(*articles)

    assert solr_engine.doc_frequency("مفاوضات") == 12
    assert solr_engine.doc_frequency("مفاوظات") == 0
    assert solr_engine.spelling_candidates("مفاوظات", 1) == {"مفاوضات": 12}
    # "مفاوضتن" is one edit from مفاوضين, two from مفاوضات.
    assert solr_engine.spelling_candidates("مفاوضتن", 1) == {"مفاوضين": 5}
    assert solr_engine.spelling_candidates("مفاوضتن", 2) == {"مفاوضين": 5, "مفاوضات": 12}
    assert solr_engine.spelling_candidates("مفاوضات", 1) == {"مفاوضات": 12}  # itself, as Whoosh
    # The same first letter only.
    assert "مفاوضات" not in solr_engine.spelling_candidates("نفاوضات", 2)


def test_counts_and_stored_fields_for_the_consistency_check(solr_engine, index, make_article):
    a = make_article(
        title="خبر", source="الجزيرة", topics=["سياسة", "حرب"], published=datetime.date(2019, 2, 3)
    )
    b = make_article(title="خبر آخر", source=None)
    index(a, b)

    assert solr_engine.document_count() == 2
    stored = {document.identifier: document.fields for document in solr_engine.indexed_documents()}
    assert stored[f"articles.article.{a.pk}"]["source"] == a.source.slug
    assert sorted(stored[f"articles.article.{a.pk}"]["topics"]) == sorted(t.slug for t in a.topics.all())
    assert stored[f"articles.article.{a.pk}"]["year"] == "2019"
    assert str(stored[f"articles.article.{a.pk}"]["published"]).startswith("2019-02-03")
    assert stored[f"articles.article.{b.pk}"]["source"] is None
    assert solr_engine.problem() is None


def test_every_document_is_listed_page_after_page(solr_engine, index, make_article, monkeypatch):
    from articles.search.engines.solr import engine as solr_engine_module

    monkeypatch.setattr(solr_engine_module, "CURSOR_ROWS", 2)
    articles = index(*[make_article(title=f"خبر {n}") for n in range(5)])
    listed = [document.identifier for document in solr_engine.indexed_documents()]
    assert sorted(listed) == sorted(f"articles.article.{article.pk}" for article in articles)
