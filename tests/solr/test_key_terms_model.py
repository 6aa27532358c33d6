"""The shared Bo1 key-term pick (articles.search.key_terms_model) is
Whoosh's own arithmetic, so both engines pick the same related-story words
from the same counts."""

import pytest
from whoosh import classify

from articles.search import key_terms_model


def whoosh_pick(text_weights, collection_weights, doc_count, count):
    model = classify.Bo1Model(doc_count, sum(collection_weights.values()))
    total = sum(text_weights.values())
    scored = [
        (model.score(weight, collection_weights[word], total), word)
        for word, weight in text_weights.items()
        if word in collection_weights
    ]
    norm = model.normalizer(max(score for score, _word in scored), total)
    ranked = sorted(((score / norm, word) for score, word in scored), key=lambda pair: (-pair[0], pair[1]))
    return [(word, weight) for weight, word in ranked[:count]]


def test_the_pick_and_weights_are_whooshs():
    text = {"مفاوض": 3.0, "سلام": 2.0, "اسطنبول": 2.5, "قال": 1.0, "جول": 1.0, "نادر": 0.5}
    collection = {"مفاوض": 40.0, "سلام": 120.0, "اسطنبول": 8.0, "قال": 900.0, "جول": 60.0, "نادر": 1.0}
    ours = key_terms_model.key_terms(text, collection, 1000, count=4)
    theirs = whoosh_pick(text, collection, 1000, 4)
    assert [word for word, _ in ours] == [word for word, _ in theirs]
    assert [weight for _, weight in ours] == pytest.approx([weight for _, weight in theirs])


def test_words_the_index_lacks_are_skipped_and_an_empty_index_picks_nothing():
    assert key_terms_model.key_terms({"x": 1.0}, {}, 10) == []
    assert key_terms_model.key_terms({"x": 1.0}, {"x": 2.0}, 0) == []
    assert [word for word, _ in key_terms_model.key_terms({"x": 1.0, "y": 1.0}, {"y": 2.0}, 10)] == ["y"]
