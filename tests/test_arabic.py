"""Arabic text processing on real words: one test per normalisation rule, the
stop list, stemming that keeps names whole, and the skeletons that join the
spellings of a transliterated name."""
import pytest

from articles import arabic


def norm(word):
    return arabic.normalize_word(word)


# --------------------------------------------------------------- normalisation


def test_hamza_above_alef_is_plain_alef():
    assert norm("أزمة") == norm("ازمة") == "ازمه"


def test_hamza_below_alef_is_plain_alef():
    assert norm("إدلب") == "ادلب"


def test_alef_maddah_is_plain_alef():
    assert norm("آلاسكا") == norm("ألاسكا") == "الاسكا"


def test_alef_wasla_is_plain_alef():
    assert norm("ٱلله") == "الله"


def test_hamza_on_waw_is_waw():
    assert norm("مؤتمر") == norm("موتمر") == "موتمر"


def test_hamza_on_yeh_is_yeh():
    assert norm("لاجئين") == "لاجيين"
    assert norm("هيئة") == "هييه"


def test_alef_maqsura_is_yeh():
    assert norm("مستشفى") == norm("مستشفي")
    assert norm("على") == "علي"


def test_ta_marbuta_is_heh():
    assert norm("الأمريكية") == norm("الامريكيه") == "الامريكيه"


def test_tashkeel_is_dropped():
    assert norm("مُفَاوَضَاتٌ") == "مفاوضات"
    assert norm("الحُوثِيِّين") == "الحوثيين"


def test_superscript_alef_is_dropped():
    assert norm("هٰذا") == "هذا"
    assert norm("الرحمٰن") == "الرحمن"


def test_tatweel_is_dropped():
    assert norm("ترامـــب") == "ترامب"


def test_presentation_forms_are_unfolded():
    # Isolated/initial/medial/final glyph forms, as copied out of some PDFs.
    assert norm("ﺗﺮﺍﻣﺐ") == "ترامب"


def test_lam_alef_ligatures_are_unfolded():
    assert norm("ﻻجئين") == norm("لاجئين")
    assert norm("ﻷن") == "لان"
    assert norm("ﻹيران") == "لايران"
    assert norm("ﻵلاف") == "لالاف"


def test_arabic_indic_digits_are_ascii():
    assert norm("٢٠١٨") == "2018"


def test_persian_digits_are_ascii():
    assert norm("۲۰۱۸") == "2018"


def test_persian_letters_are_arabic():
    assert norm("ایران") == "ايران"   # Farsi yeh
    assert norm("کابل") == "كابل"     # keheh


def test_invisible_joiners_and_marks_are_dropped():
    assert norm("ترا\u200cمب\u200f") == "ترامب"


def test_latin_is_case_folded():
    assert norm("CNN") == "cnn"


# --------------------------------------------------------------- words


def words(text):
    return [word for word, _start, _end in arabic.tokenize(text)]


def test_a_word_keeps_its_marks_and_tatweel_together():
    assert words("مُفَاوَضَات ترامـــب") == ["مُفَاوَضَات", "ترامـــب"]


def test_a_clitic_before_latin_or_digits_is_a_word_of_its_own():
    assert words("قال لـCNN إن الميزانية بـ٢٠١٨") == ["قال", "لـ", "CNN", "إن", "الميزانية", "بـ", "٢٠١٨"]


def test_offsets_point_into_the_original_text():
    text = "قمة «ألاسكا» اليوم"
    assert [text[start:end] for _w, start, end in arabic.tokenize(text)] == ["قمة", "ألاسكا", "اليوم"]


# --------------------------------------------------------------- stop words


@pytest.mark.parametrize("word", ["في", "على", "إلى", "الذي", "هذه", "وقال", "وأضاف"])
def test_function_words_are_stop_words(word):
    assert arabic.is_stopword(norm(word))


def test_a_stop_word_after_a_conjunction_is_still_one():
    assert arabic.is_stopword(norm("والتي"))
    assert arabic.is_stopword(norm("فهو"))


@pytest.mark.parametrize("word", ["ترامب", "النفط", "الأزمة", "مفاوضات", "2018"])
def test_content_words_are_not_stop_words(word):
    assert not arabic.is_stopword(norm(word))


def test_analyze_drops_stop_words_and_stems_the_rest():
    assert arabic.analyze("المفاوضات في الدوحة") == ["مفاوض", "دوح"]


# --------------------------------------------------------------- stemming


def stem(word):
    return arabic.light_stem(norm(word))


def test_inflections_of_a_noun_share_a_stem():
    assert stem("المفاوضات") == stem("مفاوضات") == stem("والمفاوضين") == stem("مفاوضاتها") == "مفاوض"


def test_plural_endings_meet_the_singular():
    assert stem("المتظاهرين") == stem("متظاهرون") == stem("المتظاهر") == "متظاهر"


def test_ta_marbuta_before_a_pronoun_meets_the_bare_noun():
    assert stem("حكومتها") == stem("الحكومة") == "حكوم"


def test_nisba_plural_meets_the_nisba_noun():
    assert stem("العمليات") == stem("عملية") == "عمل"


@pytest.mark.parametrize("name", ["بوتين", "إيران", "لبنان", "سلمان", "طهران", "ترامب"])
def test_names_are_not_cut_down_to_three_letters(name):
    assert stem(name) == norm(name)


def test_a_stem_keeps_at_least_three_letters():
    assert stem("بيتها") == "بيت"
    assert len(stem("والدها")) >= 3


def test_the_article_with_its_prepositions_comes_off():
    assert stem("بالانتخابات") == stem("للانتخابات") == stem("والانتخابات") == "انتخاب"


def test_a_bare_waw_stays_in_the_stem_where_it_may_be_the_first_letter():
    assert stem("وزارة") == stem("الوزارة") == "وزار"


def test_the_index_also_reads_a_bare_waw_as_a_conjunction():
    readings = arabic.index_forms(norm("وحكومة"))
    assert {r.forms.stem for r in readings} == {"وحكوم", "حكوم"}
    assert arabic.index_forms(norm("الحكومة"))[0].forms.stem == "حكوم"


def test_exact_form_drops_only_the_leading_clitics():
    assert arabic.word_forms(norm("والمفاوضات")).exact == "مفاوضات"
    assert arabic.word_forms(norm("بوتين")).exact == "بوتين"


def test_latin_words_and_numbers_are_not_stemmed():
    assert stem("Skripal") == "skripal"
    assert stem("٢٠١٨") == "2018"


# --------------------------------------------------------------- skeletons


def skeleton(word):
    return arabic.word_forms(norm(word)).skeleton


@pytest.mark.parametrize(
    "spellings",
    [
        ("ترامب", "ترمب"),
        ("زيلينسكي", "زيلنسكي"),
        ("أنكوراج", "أنكوريج"),
        ("الأمريكية", "الأميركية", "الامريكيه"),
        ("بيسكوف", "بسكوف"),
        ("بوتين", "بوتن"),
        ("نتنياهو", "نتانياهو"),
        ("سكريبال", "سكريبل"),
        ("هلسنكي", "هلسينكي"),
        ("فيسبوك", "فايسبوك"),
    ],
)
def test_spellings_of_a_transliterated_name_share_a_skeleton(spellings):
    assert len({skeleton(word) for word in spellings}) == 1
    assert skeleton(spellings[0])


def test_g_written_with_ghain_or_jeem_shares_a_skeleton():
    assert skeleton("سامسونغ") == skeleton("سامسونج")
    assert skeleton("غريزمان") == skeleton("جريزمان")


def test_final_ta_marbuta_or_alef_share_a_skeleton():
    assert skeleton("بنزيمة") == skeleton("بنزيما")


def test_doubled_letters_share_a_skeleton():
    assert skeleton("موللر") == skeleton("مولر")


def test_hamza_seats_share_a_skeleton():
    assert skeleton("مسؤول") == skeleton("مسئول")


def test_different_names_keep_different_skeletons():
    assert skeleton("ترامب") != skeleton("تيريزا")
    assert skeleton("بوتين") != skeleton("بيتكوين")


def test_words_too_short_for_a_useful_skeleton_have_none():
    assert skeleton("ميسي") == ""
    assert skeleton("علم") == "علم"
