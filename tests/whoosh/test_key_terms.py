"""Key terms of an article (what its related stories are found by) are the
ones Whoosh's own more-like-this would pick, on a real index of several
segments, before and after an editor's save."""
import pytest

from articles.search.engines import get_engine
from articles.search.engines.whoosh import key_terms as key_terms_module
from articles.search.engines.whoosh.key_terms import key_terms

pytestmark = pytest.mark.django_db

TEXTS = [
    ("مفاوضات السلام في إسطنبول", "تعثرت مفاوضات السلام بين روسيا وأوكرانيا في إسطنبول، وقال المفاوضون إن الجولة المقبلة ستعقد في إسطنبول أيضا."),
    ("قمة ألاسكا", "التقى الرئيسان في ألاسكا لبحث الحرب في أوكرانيا والمفاوضات المقبلة بين موسكو وكييف."),
    ("الأهلي بطلا للكأس", "فاز الأهلي على الزمالك بهدفين في المباراة النهائية للكأس، وتوج الأهلي باللقب للمرة العاشرة."),
    ("أسعار النفط", "ارتفعت أسعار النفط بعد قرار أوبك خفض الإنتاج، وتوقع محللون أن تواصل الأسعار الصعود."),
]


@pytest.fixture(params=["small segments", "large segments"])
def archive(request, search_index, make_article, index_articles, monkeypatch):
    """Articles indexed one commit at a time, so the index has a segment per
    article. "large segments" makes every segment look large (words looked
    up one by one, the table emptied after two words) to run that path too."""
    if request.param == "large segments":
        monkeypatch.setattr(key_terms_module, "SMALL_SEGMENT", 0)
        monkeypatch.setattr(key_terms_module, "KEPT_WORDS", 2)
    articles = []
    for title, body in TEXTS:
        articles.append(make_article(title=title, body=body))
        index_articles(articles[-1])
    return articles


def text_of(article):
    return "\n".join([article.title, article.title, article.lead, article.body])


def whoosh_key_terms(searcher, text):
    return searcher.key_terms_from_text("text", text, numterms=12)


def test_key_terms_are_whooshs_over_several_segments(archive):
    searcher = get_engine().searcher()
    assert len(searcher.reader().leaf_readers()) >= len(TEXTS)
    for article in archive:
        expected = whoosh_key_terms(searcher, text_of(article))
        assert expected, article.title
        assert key_terms(searcher, "text", text_of(article), 12) == expected
    # Asked again, from the weights kept per segment.
    assert key_terms(searcher, "text", text_of(archive[0]), 12) == whoosh_key_terms(searcher, text_of(archive[0]))


def test_a_saved_article_changes_the_key_terms_as_it_changes_whooshs(archive, make_article, index_articles):
    text = text_of(archive[0])
    before = key_terms(get_engine().searcher(), "text", text, 12)
    index_articles(make_article(title="إسطنبول", body="إسطنبول " * 30))
    searcher = get_engine().searcher()
    after = key_terms(searcher, "text", text, 12)
    assert after == whoosh_key_terms(searcher, text)
    # إسطنبول is no longer rare: it weighs less than before.
    stanbul = next(word for word, _ in before if word.startswith("اسطنب"))
    assert dict(after)[stanbul] < dict(before)[stanbul]


def test_text_without_known_words_has_no_key_terms(archive):
    searcher = get_engine().searcher()
    assert key_terms(searcher, "text", "كلمةمجهولةتماما أخرىمجهولة", 12) == []
    assert key_terms(searcher, "text", "في من على", 12) == []
    assert key_terms(searcher, "text", "", 12) == []
