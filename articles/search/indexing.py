"""Writing to the search index: the one place that turns database rows into documents.

The database is the source of truth. `sync_articles` makes the index agree
with it for the given ids, whatever happened to them (created, edited,
deleted), so callers never need to say which.
"""
import logging

from haystack import connections

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000


def get_backend(using="default"):
    return connections[using].get_backend()


def get_article_index(using="default"):
    from articles.models import Article

    return connections[using].get_unified_index().get_index(Article)


def identifier(pk):
    return f"articles.article.{pk}"


def sync_articles(pks, using="default"):
    """Index the articles that exist among `pks`, remove the others."""
    pks = set(pks)
    if not pks:
        return
    index = get_article_index(using)
    backend = get_backend(using)
    present = list(index.index_queryset().filter(pk__in=pks))
    missing = pks - {article.pk for article in present}
    if present:
        backend.update(index, present)
    if missing:
        backend.remove_identifiers([identifier(pk) for pk in missing])
    logger.debug("indexed %d, removed %d articles", len(present), len(missing))


def rebuild(using="default", batch_size=BATCH_SIZE, progress=None):
    """Empty the index and index every article again; returns the count."""
    index = get_article_index(using)
    backend = get_backend(using)
    backend.clear()
    queryset = index.index_queryset()
    total = 0
    writer = backend.writer(limitmb=256)
    try:
        for start in range(0, queryset.count(), batch_size):
            batch = list(queryset[start : start + batch_size])
            for article in batch:
                doc = backend.prepare_document(index, article)
                if doc is not None:
                    writer.add_document(**doc)
            total += len(batch)
            if progress:
                progress(total)
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    return total


def clear(using="default"):
    get_backend(using).clear()


def indexed_count(using="default"):
    return get_backend(using).searcher().doc_count()


__all__ = ["sync_articles", "rebuild", "clear", "indexed_count"]
