"""Spelling candidates held to our rule: plain edits (a swap is two), the
same first letter, words found in a document. No cluster needed."""

from articles.search.engines.solr import spelling


def test_edit_distance_counts_plain_edits_and_stops_past_the_limit():
    assert spelling.edit_distance("مفاوضات", "مفاوضات", 2) == 0
    assert spelling.edit_distance("مفاوضات", "مفاوظات", 2) == 1
    assert spelling.edit_distance("ab", "ba", 2) == 2  # a swap is two edits here
    assert spelling.edit_distance("a", "abcdef", 2) == 3


def test_within_keeps_close_words_with_the_same_first_letter():
    frequencies = {"مفاوضات": 3, "نفاوضات": 9, "مفاوضين": 1, "مفاوظات": 0, "مفاوضتن": 2}
    assert spelling.within("مفاوضتن", frequencies, 1) == {"مفاوضين": 1, "مفاوضتن": 2}
    assert spelling.within("مفاوضتن", frequencies, 2) == {"مفاوضات": 3, "مفاوضين": 1, "مفاوضتن": 2}


def test_the_spellcheck_answer_read_in_either_layout():
    entry = {"numFound": 1, "origFreq": 2, "suggestion": [{"word": "مفاوضات", "freq": 6}]}
    mapped = {"spellcheck": {"suggestions": {"مفاوظات": entry}}}
    flat = {"spellcheck": {"suggestions": ["مفاوظات", entry]}}
    for answer in (mapped, flat):
        assert spelling.suggested_frequencies(answer, "مفاوظات") == {"مفاوظات": 2, "مفاوضات": 6}
    assert spelling.suggested_frequencies({}, "x") == {}
