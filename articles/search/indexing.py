"""Writing to the search index from outside the queue: tests, commands, tools.

The database is the source of truth. `sync_articles` makes the index agree
with it for the given ids, whatever happened to them (created, edited,
deleted), so callers never need to say which. `rebuild` is the one rebuild
(articles.search.consistency.rebuild). Works with any engine.
"""
import logging

from articles.search import consistency, index_queue
from articles.search.engines import get_engine

logger = logging.getLogger(__name__)


def sync_articles(pks, lock_wait=None):
    """Index the articles that exist among `pks`, remove the others, now."""
    pks = set(pks)
    if not pks:
        return
    engine = get_engine()
    with engine.write_lock(lock_wait), engine.batch() as batch:
        indexed, removed, failed = index_queue.write_current_state(batch, pks)
    engine.committed()
    if failed:
        raise RuntimeError(f"could not index articles {sorted(failed)}: {failed}")
    logger.debug("indexed %d, removed %d articles", indexed, removed)


def rebuild(progress=None, **options):
    return consistency.rebuild(progress=progress, **options)


def clear():
    engine = get_engine()
    engine.clear()
    engine.committed()


def indexed_count():
    return get_engine().document_count()
