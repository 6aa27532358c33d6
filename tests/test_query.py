"""The query parser, and phrase, prefix and exclusion searches on a real index."""
import pytest

from articles.search import query, service
from articles.search.service import SearchRequest

# --------------------------------------------------------------- parsing


def kinds(text):
    return [(c.kind, c.terms, c.required, c.excluded) for c in query.parse(text).clauses]


def test_words_are_normalised_and_stemmed():
    assert kinds("المفاوضات الأمريكية") == [("word", ["مفاوض"], False, False), ("word", ["امريك"], False, False)]


def test_stop_words_are_left_out():
    assert kinds("في المفاوضات مع") == [("word", ["مفاوض"], False, False)]
    assert query.parse("في من على").is_empty


@pytest.mark.parametrize("quoted", ['"كأس العالم"', "«كأس العالم»", "“كأس العالم”"])
def test_quotes_make_a_phrase(quoted):
    assert kinds(quoted) == [("phrase", ["كاس", "عالم"], False, False)]


def test_a_quoted_single_word_is_a_word():
    assert kinds('"ترامب"') == [("word", ["ترامب"], False, False)]


def test_prefix_is_normalised_and_loses_its_article():
    assert kinds("المفاوض*") == [("prefix", ["مفاوض"], False, False)]


def test_minus_excludes_and_plus_requires():
    assert kinds("النفط -الذهب +أسعار") == [
        ("word", ["نفط"], False, False),
        ("word", ["ذهب"], False, True),
        ("word", ["اسعار"], True, False),
    ]


def test_only_exclusions_search_nothing():
    assert query.parse("-ترامب").is_empty


@pytest.mark.parametrize(
    "text", ['"', "((", "AND OR NOT", "title:ترامب", "*", "ترامب~2", "🙂" * 50, "x" * 6000, '"غير مغلق', "+-+"]
)
def test_any_text_parses_without_error(text):
    parsed = query.parse(text)
    assert all(clause.kind in ("word", "phrase", "prefix") for clause in parsed.clauses)
    parsed.highlight_terms()


def test_a_very_long_query_is_capped():
    assert len(query.parse("كلمة " * 1000).clauses) == query.MAX_CLAUSES


# --------------------------------------------------------------- on an index



def titles(q):
    return [hit.article.title for hit in service.search_articles(SearchRequest(q=q)).hits]


@pytest.fixture
def archive(make_article, index_articles):
    articles = [
        make_article(title="نهائي كأس العالم في موسكو", body="يقام نهائي كاس العالم لكرة القدم في ملعب لوجنيكي."),
        make_article(title="العالم يترقب قرار الكأس", body="ينتظر العالم قرار الاتحاد بشأن الكأس الجديدة."),
        make_article(title="تأهل تاريخي", body="تأهل المنتخب لكأس العالم للمرة الأولى."),
        make_article(title="جولة جديدة من المفاوضات", body="بدأت جولة المفاوضات بين الطرفين في جنيف."),
        make_article(title="المفاوضون يصلون إلى جنيف", body="وصل المفاوضون إلى جنيف صباح اليوم."),
        make_article(title="التفاوض على الأجور", body="يستمر التفاوض على الأجور بين النقابة والحكومة."),
        make_article(title="أسعار النفط ترتفع", body="ارتفعت أسعار النفط في الأسواق العالمية."),
        make_article(title="أسعار الذهب والنفط", body="تراجعت أسعار الذهب بينما استقر النفط."),
    ]
    index_articles(*articles)
    return articles


@pytest.mark.django_db
def test_phrase_respects_normalisation_and_clitics(archive):
    # "كاس" without hamza, and "لكأس" with a preposition, still make the phrase;
    # "العالم ... الكأس" in another order does not.
    assert set(titles('"كاس العالم"')) == {"نهائي كأس العالم في موسكو", "تأهل تاريخي"}


@pytest.mark.django_db
def test_words_without_quotes_find_both_orders(archive):
    # Articles with both words first; "العالمية" alone comes after.
    found = titles("كأس العالم")
    assert set(found[:3]) == {"نهائي كأس العالم في موسكو", "العالم يترقب قرار الكأس", "تأهل تاريخي"}
    assert found[3:] == ["أسعار النفط ترتفع"]


@pytest.mark.django_db
def test_prefix_finds_every_word_starting_with_it(archive):
    found = titles("مفاوض*")
    assert set(found) == {"جولة جديدة من المفاوضات", "المفاوضون يصلون إلى جنيف"}


@pytest.mark.django_db
def test_a_prefix_in_the_headline_outranks_one_in_the_body_in_every_segment(make_article, index_articles):
    """Each article indexed on its own, as an editor's saves are (a segment
    each, where one word has the prefix): the headline weighs as it does
    for whole words, where Whoosh's own Prefix lost its boost."""
    in_body = make_article(title="جولة جديدة في جنيف", lead="بدأت المفاوضات صباح اليوم.", body="بدأت المفاوضات صباح اليوم بين الوفدين.")
    in_headline = make_article(title="المفاوضات تتعثر", lead="انتهت الجولة دون نتيجة.", body="قال الوزراء إن الجولة انتهت دون نتيجة.")
    index_articles(in_body)
    index_articles(in_headline)

    assert titles("مفاوض*") == [in_headline.title, in_body.title]
    assert titles("المفاوضات") == [in_headline.title, in_body.title]  # as for the whole word


@pytest.mark.django_db
def test_exclusion_leaves_out_articles_with_the_word(archive):
    assert titles("النفط -الذهب") == ["أسعار النفط ترتفع"]


@pytest.mark.django_db
def test_required_word_must_be_there(archive):
    assert titles("+الذهب النفط") == ["أسعار الذهب والنفط"]


@pytest.mark.django_db
def test_a_prefix_longer_than_the_stem_still_finds_the_word(archive):
    # "مفاوضا" is longer than the stem "مفاوض" of المفاوضات: the whole word matches.
    assert titles("مفاوضا*") == ["جولة جديدة من المفاوضات"]


@pytest.mark.django_db
def test_a_leading_waw_is_also_read_as_and(make_article, index_articles):
    # "والنفط" loses و + ال anyway; a bare و before a name ("وترامب") is read
    # both as part of the word and as "and": the article that writes ترامب is found.
    index_articles(
        make_article(title="ترامب يلتقي ماكرون", body="التقى الرئيس ترامب نظيره الفرنسي."),
        make_article(title="طقس بارد", body="انخفضت درجات الحرارة في الشمال."),
    )
    assert titles("وترامب") == ["ترامب يلتقي ماكرون"]


@pytest.mark.django_db
def test_a_quoted_word_is_only_the_word_as_written(make_article, index_articles):
    # Unquoted, "وزير" also reads as و + "زير"; quoted, only the word itself.
    index_articles(
        make_article(title="وزير الخارجية في القاهرة", body="وصل وزير الخارجية إلى القاهرة."),
        make_article(title="زير الماء الفخاري", body="يحفظ الزير الماء باردا في الصيف."),
    )
    assert titles("وزير") == ["وزير الخارجية في القاهرة", "زير الماء الفخاري"]
    assert titles('"وزير"') == ["وزير الخارجية في القاهرة"]
