"""Which words of a text say most about it: the Bo1 model, as Whoosh's
`key_terms_from_text` applies it, as a pure function of the counts.

Related stories are the articles that share an article's key terms. Each
engine gets the counts its own way (Whoosh from its segments, Solr from
the terms component) and picks with this one function, so both pick the
same words from the same counts.
"""

from math import log

# How many key terms pick an article's related stories.
KEY_TERMS = 12


def bo1_score(weight_in_text, weight_in_collection, doc_count):
    """Bo1 divergence of a word of the text from its use in the collection."""
    f = weight_in_collection / doc_count
    return weight_in_text * log((1.0 + f) / f, 2) + log(1.0 + f, 2)


def _normalizer(highest, doc_count):
    f = highest / doc_count
    return (highest * log((1.0 + f) / f) + log(1.0 + f)) / log(2.0)


def key_terms(text_weights, collection_weights, doc_count, count=KEY_TERMS):
    """The `count` most telling [(word, weight)] of a text, best first (ties
    by word), weights normalised as Whoosh normalises them.

    `text_weights` maps each word (an index term of the "text" field) to its
    weight in the text (the sum of its tokens' weights); `collection_weights`
    to its weight summed over the index; words the index lacks are skipped.
    """
    if not doc_count:
        return []
    scored = []
    highest = 0.0
    for word, weight in text_weights.items():
        in_collection = collection_weights.get(word)
        if not in_collection or in_collection <= 0:
            continue
        score = bo1_score(weight, in_collection, doc_count)
        highest = max(highest, score)
        scored.append((score, word))
    if not scored or highest <= 0:
        return []
    norm = _normalizer(highest, doc_count)
    ranked = sorted(((score / norm, word) for score, word in scored), key=lambda pair: (-pair[0], pair[1]))
    return [(word, weight) for weight, word in ranked[:count]]


def text_weights(tokens):
    """{term: summed weight} of analysis tokens (FieldToken)."""
    weights = {}
    for token in tokens:
        weights[token.term] = weights.get(token.term, 0.0) + token.weight
    return weights
