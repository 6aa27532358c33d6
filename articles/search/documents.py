"""What every engine indexes for an article, from the haystack declaration.

Haystack's SearchIndex (articles/search_indexes.py) says which fields an
article has and prepares their values from the database row; engines turn
the prepared values into their own documents. Each document is named by
haystack's identifier, "articles.article.<pk>".
"""
from haystack import connections
from haystack.exceptions import SkipDocument

ARTICLE_PREFIX = "articles.article."


def article_index():
    """The haystack SearchIndex of articles."""
    from articles.models import Article

    return connections["default"].get_unified_index().get_index(Article)


def identifier(pk):
    return f"{ARTICLE_PREFIX}{pk}"


def article_pk(ident):
    """The pk an identifier names, or None for a document of something else."""
    ident = str(ident or "")
    if ident.startswith(ARTICLE_PREFIX) and ident[len(ARTICLE_PREFIX) :].isdigit():
        return int(ident[len(ARTICLE_PREFIX) :])
    return None


def prepare(article, index=None):
    """The haystack-prepared fields of an article (values as Python objects),
    or None when the index skips it."""
    index = index or article_index()
    try:
        return index.full_prepare(article)
    except SkipDocument:
        return None
