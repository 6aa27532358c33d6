"""Articles as Solr documents, from the haystack index declaration.

Solr never analyses Arabic: every text field is a `solr.PreAnalyzedField`
and receives the tokens of articles.search.analysis.field_tokens as JSON
("v": "1", "tokens": [{"t": term, "i": position increment}, ...]). A word's
several readings share its position (increment 0), so a phrase of stems
matches whichever reading is right, as it does in Whoosh.

Token weights: Whoosh adds a token's weight to its term frequency (a
secondary reading such as the ترامب of "لترامب" counts 0.5). Lucene's
frequencies are whole numbers, so every token is sent TF_SCALE times
(weight 1 -> 2 copies, 0.5 -> 1 copy, at the same position) and the schema's
BM25 k1 is TF_SCALE times ours: BM25's tf / (tf + k1 * norm) is unchanged
when both tf and k1 are doubled. Collection frequencies divide back
(`collection_weight`), for the key terms of related stories.
"""

import datetime
import json

from articles.search.analysis import field_tokens
from articles.search.documents import prepare
from articles.search.fields import ArabicTextField
from articles.search.query import MAX_QUERY_CHARS

# Longer terms are left out: no query can hold them (articles.search.query
# keeps MAX_QUERY_CHARS of what a reader types), and Lucene refuses a term
# of more than 32766 bytes, with the whole request that carries it.
MAX_TERM_CHARS = MAX_QUERY_CHARS
# Copies of a weight-1 token; see the module docstring. The schema's k1 is
# BM25_K1 * TF_SCALE (tests/solr/test_configset.py holds them together).
TF_SCALE = 2

_JSON = {"separators": (",", ":"), "ensure_ascii": False}


def token_copies(weight):
    """How many times a token of this weight is indexed (at least once)."""
    return max(1, round(weight * TF_SCALE))


def collection_weight(total_term_frequency):
    """A term's weight summed over the index, from Lucene's total frequency."""
    return total_term_frequency / TF_SCALE


def pre_analysed(text, form):
    """The PreAnalyzedField JSON of `text` analysed in this form, or None
    when it has no token (Solr then leaves the field out)."""
    tokens = []
    previous = -1
    for token in field_tokens(text, form):
        if len(token.term) > MAX_TERM_CHARS:
            continue  # the next token's increment keeps the gap
        for _copy in range(token_copies(token.weight)):
            tokens.append({"t": token.term, "i": token.position - previous})
            previous = token.position
    if not tokens:
        return None
    return json.dumps({"v": "1", "tokens": tokens}, **_JSON)


def solr_value(field, value):
    """A prepared haystack value as Solr takes it for this field, or None."""
    if value in (None, "", []):
        return None
    if isinstance(field, ArabicTextField):
        return pre_analysed(value, field.form)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, datetime.date):
        return value.strftime("%Y-%m-%dT00:00:00Z")
    if isinstance(value, (list, tuple, set)):
        return [str(part) for part in value if part not in (None, "")] or None
    return str(value)


def solr_document(article, index):
    """The Solr document of an article (id, django_ct, django_id and every
    field of the index declaration), or None when the index skips it."""
    prepared = prepare(article, index)
    if prepared is None:
        return None
    document = {name: str(prepared[name]) for name in ("id", "django_ct", "django_id")}
    for field in index.fields.values():
        value = solr_value(field, prepared.get(field.index_fieldname))
        if value is not None:
            document[field.index_fieldname] = value
    return document


def encoded_size(document):
    """Roughly how many bytes the document adds to an update request."""
    return sum(len(value) if isinstance(value, str) else 64 for value in document.values()) * 2
