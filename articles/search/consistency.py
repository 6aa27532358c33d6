"""Does the search index agree with the database? Find, repair, rebuild.

The database is the source of truth; the index is a copy that a crash, a
disk fault or a bug can damage. `compare` lists the differences (missing,
stale, orphaned documents), `repair` rewrites just those, `index_problem`
says whether the index on disk can be read at all, and `rebuild` writes it
again from the database without ever leaving readers an empty index.
`ensure_index` strings them together for start-up (manage.py ensure_index).
"""
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from haystack.constants import DJANGO_CT, DJANGO_ID, ID
from whoosh import fields as whoosh_fields
from whoosh.filedb.filestore import FileStorage
from whoosh.index import TOC, LockError
from whoosh.util.filelock import try_for

from articles.search import indexing, queue
from articles.search.backend import reading_latest
from articles.search.indexing import get_article_index, get_backend, identifier

logger = logging.getLogger(__name__)

ARTICLE_PREFIX = identifier("")
# Above this share of the archive, rebuilding is faster than repairing one
# document at a time.
REBUILD_SHARE = 0.5
INDEX_NAME = "MAIN"  # Whoosh's default, as haystack uses it
LOCK_NAME = f"{INDEX_NAME}_WRITELOCK"
REBUILD_LOCK_WAIT = 60.0


@dataclass
class IndexDifferences:
    articles: int = 0                               # articles in the database
    documents: int = 0                              # article documents in the index
    missing: list = field(default_factory=list)     # pks in the database, not in the index
    stale: list = field(default_factory=list)       # pks whose document disagrees with the row
    orphaned: list = field(default_factory=list)    # identifiers in the index, not in the database

    @property
    def total(self):
        return len(self.missing) + len(self.stale) + len(self.orphaned)

    def __bool__(self):
        return self.total > 0

    def pks_to_rewrite(self):
        pks = set(self.missing) | set(self.stale)
        for ident in self.orphaned:
            pk = _article_pk(ident)
            if pk is not None:
                pks.add(pk)
        return pks


def _article_pk(ident):
    if ident and ident.startswith(ARTICLE_PREFIX) and ident[len(ARTICLE_PREFIX) :].isdigit():
        return int(ident[len(ARTICLE_PREFIX) :])
    return None


# ---------------------------------------------------------------------------
# Comparing


def compare():
    """Compare every article with its document, field by stored field."""
    backend = get_backend()
    index = get_article_index()
    if not backend.setup_complete:
        backend.setup()
    schema = backend.schema
    compared = [
        name
        for name, schema_field in schema.items()
        if schema_field.stored and name not in (ID, DJANGO_CT, DJANGO_ID)
    ]
    documents = {}
    searcher = backend.index.refresh().searcher()
    try:
        for stored in searcher.all_stored_fields():
            documents.setdefault(stored.get(ID), []).append(stored)
    finally:
        searcher.close()

    differences = IndexDifferences(documents=sum(len(docs) for docs in documents.values()))
    for article in index.index_queryset().iterator(chunk_size=queue.BATCH_SIZE):
        differences.articles += 1
        docs = documents.pop(identifier(article.pk), [])
        expected = backend.prepare_document(index, article)
        if expected is None:
            if docs:
                differences.orphaned.append(identifier(article.pk))
        elif not docs:
            differences.missing.append(article.pk)
        elif len(docs) > 1 or any(
            _normalized(schema[name], expected.get(name)) != _normalized(schema[name], docs[0].get(name))
            for name in compared
        ):
            differences.stale.append(article.pk)
    differences.orphaned.extend(sorted(str(ident) for ident in documents))
    return differences


def _normalized(schema_field, value):
    """A stored value and a prepared one in a form that compares equal."""
    if isinstance(schema_field, whoosh_fields.KEYWORD):
        return frozenset(part for part in str(value or "").split(",") if part)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value
    if value in (None, ""):
        return None
    return str(value)


# ---------------------------------------------------------------------------
# Repairing


def repair(differences, lock_wait=None):
    """Rewrite the documents of these differences from the database as it is now.

    Returns the pks that could not be indexed ({pk: error})."""
    pks = differences.pks_to_rewrite()
    foreign = [ident for ident in differences.orphaned if _article_pk(ident) is None]
    with queue.locked_writer(lock_wait) as (writer, backend, index):
        _indexed, _removed, failed = queue.write_current_state(writer, backend, index, pks)
        for ident in foreign:
            writer.delete_by_term(ID, ident)
    return failed


# ---------------------------------------------------------------------------
# Health and rebuilding


def index_path():
    return Path(get_backend().path)


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
    backend = get_backend()
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


def rebuild(lock_wait=REBUILD_LOCK_WAIT, procs=None):
    """Write the whole index again from the database; returns the count.

    Like indexing.rebuild (whose writer it uses: the lock held throughout,
    the old segments replaced in one commit), but it also takes an index
    that cannot be opened at all: the folder is emptied under the same lock
    and restarted at a generation above the old one, so that every worker's
    open searcher notices the change.
    """
    backend = get_backend()
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
        except Exception as error:
            logger.warning("starting the search index afresh: %s", error)
            ix = _start_afresh(storage, backend.schema)
        total = indexing.write_all(ix, procs=procs)
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


# ---------------------------------------------------------------------------
# Start-up


@dataclass
class EnsureReport:
    problem: str | None = None        # what was wrong with the index on disk
    rebuilt: int | None = None        # articles indexed by a rebuild
    drained: int = 0                  # queued operations applied
    differences: IndexDifferences | None = None  # found after draining
    failed: dict = field(default_factory=dict)   # pks that could not be indexed
    lines: list = field(default_factory=list)

    def say(self, text):
        self.lines.append(text)


def ensure_index(lock_wait=REBUILD_LOCK_WAIT):
    """Make the index serve the database's articles before a server starts:
    rebuild it when it is missing, unreadable or built with other fields,
    apply what is queued, then repair whatever still differs."""
    report = EnsureReport()
    report.problem = index_problem()
    if report.problem:
        report.say(f"search index: {report.problem}; rebuilding it from the database")
        report.rebuilt = rebuild(lock_wait=lock_wait)
        report.say(f"search index: rebuilt with {report.rebuilt} articles")
    result = queue.drain(lock_wait=lock_wait)
    report.drained = result.operations
    report.failed.update(result.failed)
    if result.operations:
        report.say(f"search index: applied {result.operations} queued change(s)")
    report.differences = compare()
    differences = report.differences
    if differences:
        report.say(
            f"search index: {len(differences.missing)} missing, {len(differences.stale)} stale, "
            f"{len(differences.orphaned)} orphaned document(s)"
        )
        if differences.total > REBUILD_SHARE * max(differences.articles, 1):
            report.rebuilt = rebuild(lock_wait=lock_wait)
            report.say(f"search index: rebuilt with {report.rebuilt} articles")
        else:
            report.failed.update(repair(differences, lock_wait=lock_wait))
            report.say("search index: repaired")
    else:
        report.say(f"search index: {differences.documents} documents, in step with the database")
    return report


__all__ = [
    "EnsureReport",
    "IndexDifferences",
    "compare",
    "ensure_index",
    "index_problem",
    "rebuild",
    "repair",
]
