"""Snippets mark the words a query matched, through the same analysis as the
index: inflected forms, spelling variants and other spellings of names."""
from articles.search import highlight, query


def marked(text, q):
    return str(highlight.highlight(text, query.parse(q).highlight_terms()))


def test_inflected_form_is_marked():
    assert marked("تعثرت مفاوضات السلام", "المفاوضات") == "تعثرت <mark>مفاوضات</mark> السلام"


def test_form_with_clitics_is_marked():
    html = marked("وقال والمفاوضون إن الجولة انتهت", "مفاوضين")
    assert "<mark>والمفاوضون</mark>" in html


def test_alef_maddah_query_marks_hamza_spelling():
    assert marked("قمة ألاسكا", "آلاسكا") == "قمة <mark>ألاسكا</mark>"


def test_other_spelling_of_a_name_is_marked():
    assert marked("قال ترامب إن", "ترمب") == "قال <mark>ترامب</mark> إن"
    assert marked("التقى زيلينسكي", "زيلنسكي") == "التقى <mark>زيلينسكي</mark>"


def test_name_after_a_conjunction_is_marked():
    assert marked("بين بوتين وترامب", "ترامب") == "بين بوتين <mark>وترامب</mark>"


def test_prefix_marks_words_that_start_with_it():
    html = marked("المفاوضات والمفاوضون والتفاوض", "مفاوض*")
    assert html.count("<mark>") == 2 and "التفاوض" in html and "<mark>والتفاوض" not in html


def test_phrase_words_are_marked():
    assert marked("في نهائي كأس العالم", '"كاس العالم"') == "في نهائي <mark>كأس</mark> <mark>العالم</mark>"


def test_excluded_words_are_not_marked():
    assert "<mark>" not in marked("أسعار النفط", "الذهب -النفط")


def test_stop_words_are_never_marked():
    assert marked("في الدوحة", "في") == "في الدوحة"


def test_article_text_is_escaped_before_marking():
    html = marked('<script>alert("ترامب")</script> ترامب', "ترامب")
    assert "<script>" not in html
    assert html.startswith("&lt;script&gt;alert(&quot;<mark>ترامب</mark>&quot;)")


def test_snippet_is_the_window_with_the_most_matches():
    filler = " ".join(["كلمة"] * 80)
    text = f"{filler} بدأت المفاوضات اليوم واستمرت المفاوضات حتى المساء {filler}"
    html = str(highlight.snippet(text, query.parse("مفاوضات").highlight_terms()))
    assert html.count("<mark>المفاوضات</mark>") == 2
    assert html.startswith("… ") and html.endswith(" …")


def test_snippet_without_matches_is_the_opening():
    html = str(highlight.snippet("السطر الأول من المقال.", query.parse("ترامب").highlight_terms()))
    assert html == "السطر الأول من المقال."


def test_snippet_window_starts_a_few_words_before_the_first_match_and_keeps_punctuation():
    words = ["كلمة"] * 100
    words[55:60] = ["خامسة", "أولى", "ثانية", "ثالثة", "رابعة"]
    words[60] = "«المفاوضات»،"
    words[61:67] = ["واحد", "اثنان", "ثلاثة", "أربعة", "خمسة", "ستة"]
    html = str(highlight.snippet(" ".join(words), query.parse("مفاوضات").highlight_terms(), length=10))
    # Four words of context before the match, ten words in all, cut at word ends.
    assert html == "… أولى ثانية ثالثة رابعة «<mark>المفاوضات</mark>»، واحد اثنان ثلاثة أربعة خمسة …"


def test_the_word_caches_of_snippets_are_left_out_of_garbage_collections():
    """A web worker remembers the forms of every word its snippets showed
    (tens of thousands). Kept as strings and plain tuples in plain dicts,
    the collector stops tracking them; a cache it tracks is walked by every
    full collection, and the request that meets one waits for it."""
    import gc

    from articles import arabic

    text = "قالت الحكومة إن المفاوضات مع وفد الحكومة والمعارضة ستستأنف لترامب وبوتين غدا في فيينا"
    marked = highlight.snippet(text, query.parse("الحكومة ترمب").highlight_terms())
    assert "<mark>الحكومة</mark>" in marked and "<mark>لترامب</mark>" in marked
    gc.collect()
    gc.collect()  # a tuple of tuples is let go in two steps: the inner ones first
    caches = [highlight._forms, arabic.normalize_word, arabic.is_stopword, arabic.reading_words,
              arabic.word_form_strings, arabic.strip_proclitics, arabic.light_stem, arabic.skeleton]
    for cached in caches:
        assert cached.cache, cached.__name__  # the snippet filled it
        assert not gc.is_tracked(cached.cache), cached.__name__
