"""The Whoosh index's files: can they serve searches, and writing them anew.

`index_problem` says whether the index on disk can be read at all, and
`rebuild` writes it again from the database without ever leaving readers an
empty index (it also takes an index that cannot be opened).
"""
import logging
from pathlib import Path

from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, LockError
from whoosh.util.filelock import try_for

from articles.search.engines.whoosh import segment_files, writing
from articles.search.engines.whoosh.backend import reading_latest

logger = logging.getLogger(__name__)

INDEX_NAME = "MAIN"  # Whoosh's default, as haystack uses it
LOCK_NAME = f"{INDEX_NAME}_WRITELOCK"
REBUILD_LOCK_WAIT = 60.0


# ---------------------------------------------------------------------------
# Health and rebuilding


def index_path():
    return Path(writing.get_backend().path)


def index_problem():
    """Why the index on disk cannot serve searches, or None when it can.

    Opens it the way a worker does and reads every stored document and the
    whole term list of the main field, so a missing or truncated segment
    file is found here rather than by a visitor.
    """
    path = index_path()
    if not path.is_dir():
        return f"the index folder {path} does not exist"
    storage = FileStorage(str(path))
    if TOC._latest_generation(storage, INDEX_NAME) < 0:
        return f"the index folder {path} holds no index"
    backend = writing.get_backend()
    if not backend.setup_complete:
        try:
            backend.setup()
        except Exception as error:
            return f"the index cannot be opened ({type(error).__name__}: {error})"
    try:
        ix = reading_latest(lambda: storage.open_index(INDEX_NAME))
        if not _same_fields(ix.schema, backend.schema):
            return "the index was built with other fields than the code declares"
        with ix.searcher() as searcher:
            for _stored in searcher.all_stored_fields():
                pass
            for _term in searcher.lexicon(backend.content_field_name):
                pass
    except Exception as error:
        return f"the index cannot be read ({type(error).__name__}: {error})"
    return None


def _same_fields(stored, declared):
    return sorted(stored.names()) == sorted(declared.names()) and all(
        type(stored[name]) is type(declared[name]) and stored[name].stored == declared[name].stored
        for name in declared.names()
    )


def rebuild(lock_wait=REBUILD_LOCK_WAIT, procs=None, progress=None, batch_size=writing.BATCH_SIZE):
    """Write the whole index again from the database; returns the count.

    Like writing.rebuild (whose writer it uses: the lock held throughout,
    the old segments replaced in one commit), but it also takes an index
    that cannot be opened at all: the folder is emptied under the same lock
    and restarted at a generation above the old one, so that every worker's
    open searcher notices the change.
    """
    backend = writing.get_backend()
    path = index_path()
    path.mkdir(parents=True, exist_ok=True)
    storage = FileStorage(str(path))
    if not backend.setup_complete:
        try:
            backend.setup()
        except Exception:
            # An unreadable index: build the schema without opening it.
            backend.content_field_name, backend.schema = backend.build_schema(
                _unified_index().all_searchfields()
            )
            backend.storage = storage
    lock = storage.lock(LOCK_NAME)
    if not try_for(lock.acquire, timeout=lock_wait, delay=0.1):
        raise LockError(f"the search index at {path} stayed locked for {lock_wait:.0f} s")
    try:
        try:
            if not _same_fields(storage.open_index(INDEX_NAME).schema, backend.schema):
                raise ValueError("the index was built with other fields")
            ix = storage.open_index(INDEX_NAME, schema=backend.schema)
            ix.searcher().close()
            # The segments this check opened are about to be replaced: don't
            # keep them open (and in memory) for the rest of the rebuild.
            segment_files.clear()
        except Exception as error:
            logger.warning("starting the search index afresh: %s", error)
            ix = _start_afresh(storage, backend.schema)
        total = writing.write_all(ix, procs=procs, batch_size=batch_size, progress=progress)
    finally:
        lock.release()
    backend.index = reading_latest(lambda: storage.open_index(INDEX_NAME, schema=backend.schema))
    backend.setup_complete = True
    forget = getattr(backend, "_forget_searcher", None)
    if forget:
        forget()
    return total


def _unified_index():
    from haystack import connections

    return connections["default"].get_unified_index()


def _start_afresh(storage, schema):
    generation = TOC._latest_generation(storage, INDEX_NAME)
    for name in list(storage.list()):
        if name != LOCK_NAME:
            try:
                storage.delete_file(name)
            except OSError:
                pass
    TOC(schema, [], max(generation, 0) + 1).write(storage, INDEX_NAME)
    return storage.open_index(INDEX_NAME, schema=schema)


__all__ = ["index_problem", "rebuild"]
