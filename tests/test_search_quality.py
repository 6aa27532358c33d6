"""What a reader means, found: spelling variants of names, inflections,
field weights and word proximity, through the search service on a real
Whoosh index of articles created here."""
import pytest

from articles.search import service
from articles.search.service import SearchRequest

pytestmark = pytest.mark.django_db


def titles(q, **params):
    return [hit.article.title for hit in service.search_articles(SearchRequest(q=q, **params)).hits]


@pytest.fixture
def names(make_article, index_articles):
    """Two spellings of each name, the common one in more articles."""
    articles = {
        "trump_a": make_article(title="ترامب يهدد بفرض رسوم", body="قال الرئيس ترامب إن الرسوم ستفرض قريبا."),
        "trump_b": make_article(title="البيت الأبيض يرد", body="رد البيت الأبيض على منتقدي ترامب وسياسة ترامب التجارية."),
        "trump_exact": make_article(title="ترمب في قمة العشرين", body="وصل ترمب إلى القمة صباح الجمعة."),
        "zel_a": make_article(title="زيلينسكي يطلب السلاح", body="طلب الرئيس زيلينسكي أسلحة جديدة."),
        "zel_exact": make_article(title="زيلنسكي في واشنطن", body="زار زيلنسكي واشنطن."),
        "ank_a": make_article(title="قمة أنكوراج", body="تعقد القمة في مدينة أنكوراج في ولاية ألاسكا."),
        "ank_exact": make_article(title="وصول الوفود إلى أنكوريج", body="وصلت الوفود إلى أنكوريج."),
        "peskov": make_article(title="الكرملين يعلق", body="قال المتحدث باسم الكرملين ديمتري بيسكوف إن الحوار مستمر."),
        "us_a": make_article(title="السياسة الأميركية في المنطقة", body="تتغير السياسة الأميركية كل عام."),
        "us_b": make_article(title="العقوبات الأمريكية على إيران", body="فرضت الإدارة الأمريكية عقوبات جديدة."),
        "other": make_article(title="أسعار القمح", body="تراجعت أسعار القمح في الأسواق."),
    }
    index_articles(*articles.values())
    return {key: article.title for key, article in articles.items()}


def test_trump_in_either_spelling_finds_both_with_the_exact_spelling_first(names):
    found = titles("ترمب")
    assert found[0] == names["trump_exact"]
    assert set(found) == {names["trump_exact"], names["trump_a"], names["trump_b"]}
    found = titles("ترامب")
    assert set(found[:2]) == {names["trump_a"], names["trump_b"]}
    assert found[2] == names["trump_exact"]


def test_zelensky_in_either_spelling_finds_both_with_the_exact_spelling_first(names):
    assert titles("زيلنسكي") == [names["zel_exact"], names["zel_a"]]
    assert titles("زيلينسكي") == [names["zel_a"], names["zel_exact"]]


def test_anchorage_in_either_spelling_finds_both(names):
    assert titles("أنكوريج") == [names["ank_exact"], names["ank_a"]]
    assert titles("انكوراج") == [names["ank_a"], names["ank_exact"]]


def test_peskov_spelled_without_yeh_finds_peskov(names):
    assert titles("بسكوف") == [names["peskov"]]


def test_american_spelled_either_way_or_without_hamza_finds_both(names):
    for q in ("الأمريكية", "الأميركية", "الامريكيه"):
        assert set(titles(q)) == {names["us_a"], names["us_b"]}, q


def test_the_other_spelling_is_highlighted(names):
    page = service.search_articles(SearchRequest(q="ترمب"))
    hit = next(hit for hit in page.hits if hit.article.title == names["trump_a"])
    assert "<mark>ترامب</mark>" in hit.title_html and "<mark>ترامب</mark>" in hit.snippet


@pytest.fixture
def newsroom(make_article, index_articles):
    articles = {
        "talks_title": make_article(title="استئناف المفاوضات في جنيف", body="استؤنفت الجولة صباح اليوم بحضور الوفدين."),
        "talks_body": make_article(title="جنيف تستضيف الوفدين", body="تبدأ المفاوضات غدا، وقال المفاوضون إنهم متفائلون."),
        "negotiators": make_article(title="وصول الوفد", body="وصل والمفاوضين الأمريكيين إلى جنيف مساء أمس."),
        "putin": make_article(title="بوتين يستقبل ضيوفه", body="استقبل الرئيس بوتين ضيوفه في الكرملين."),
        "boot": make_article(title="معرض الأحذية", body="يعرض المعرض أحذية وبوتات شتوية جديدة."),
        "iran": make_article(title="إيران تعلن", body="أعلنت إيران عن برنامج جديد."),
        "iranian": make_article(title="الخارجية الإيرانية", body="قالت الخارجية الإيرانية إن الوفد سيسافر."),
        "oil_near": make_article(title="تقرير السوق", body="ارتفعت أسعار النفط أمس بنسبة كبيرة."),
        "oil_far": make_article(
            title="تقرير الأسبوع",
            body="ارتفعت أسعار القمح والسكر والذرة والأرز والشاي في أسواق آسيا الأسبوع الماضي، وبقي النفط مستقرا.",
        ),
        "oil_one": make_article(title="قطاع الطاقة", body="قطاع الطاقة يشمل النفط والغاز."),
    }
    index_articles(*articles.values())
    return {key: article.title for key, article in articles.items()}


def test_inflected_forms_find_each_other(newsroom):
    expected = {newsroom["talks_title"], newsroom["talks_body"], newsroom["negotiators"]}
    for q in ("المفاوضات", "مفاوضات", "والمفاوضين", "مُفَاوَضَات"):
        assert set(titles(q)) == expected, q


def test_a_match_in_the_title_ranks_above_one_in_the_body(newsroom):
    assert titles("المفاوضات")[0] == newsroom["talks_title"]


def test_a_name_is_not_matched_as_a_shorter_stem(newsroom):
    assert titles("بوتين") == [newsroom["putin"]]


def test_a_country_meets_its_adjective(newsroom):
    assert set(titles("إيران")) == {newsroom["iran"], newsroom["iranian"]}
    assert titles("إيران")[0] == newsroom["iran"]


def test_words_close_together_rank_above_words_far_apart_and_single_words(newsroom):
    found = titles("أسعار النفط")
    assert found[0] == newsroom["oil_near"]
    assert found.index(newsroom["oil_far"]) < found.index(newsroom["oil_one"])


def test_arabic_indic_digits_find_western_digits(make_article, index_articles):
    article = make_article(title="موازنة 2018", body="أقر البرلمان موازنة عام 2018.")
    index_articles(article)
    assert titles("٢٠١٨") == [article.title]


def test_a_misspelled_word_gets_a_suggestion_that_finds_the_article(newsroom):
    page = service.search_articles(SearchRequest(q="المفاوظات"))
    assert page.total == 0
    assert page.suggestion == "مفاوضات"
    assert newsroom["talks_title"] in titles(page.suggestion)


def test_no_suggestion_for_a_well_known_word(newsroom):
    assert service.search_articles(SearchRequest(q="المفاوضات")).suggestion is None


def test_facets_count_the_matches_of_the_new_analyzer(newsroom):
    page = service.search_articles(SearchRequest(q="ترمب"))
    assert page.total == 0
    page = service.search_articles(SearchRequest(q="مفاوضات"))
    assert sum(facet.count for facet in page.facets["source"]) == 3


def test_related_stories_still_share_the_subject(newsroom, make_article):
    from articles.models import Article

    talks = Article.objects.get(title=newsroom["talks_title"])
    related = [article.title for article in service.related_articles(talks)]
    assert newsroom["talks_body"] in related
    assert newsroom["boot"] not in related
