"""Does the search index agree with the database? Find, repair, rebuild.

The database is the source of truth; the index is a copy that a crash, a
disk fault or a bug can damage. `compare` lists the differences (missing,
stale, orphaned documents), `repair` rewrites just those, and
`ensure_index` strings them together with the engine's health check and its
rebuild for start-up (manage.py ensure_index). Works with any engine.
"""
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from articles.search import documents, index_queue
from articles.search.engines import get_engine
from articles.search.engines.base import COMPARED_FIELDS

logger = logging.getLogger(__name__)

# Above this share of the archive, rebuilding is faster than repairing one
# document at a time.
REBUILD_SHARE = 0.5


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
            pk = documents.article_pk(ident)
            if pk is not None:
                pks.add(pk)
        return pks


def _canonical(name, value):
    """A stored value and a prepared one in a form that compares equal,
    whichever engine kept it (a list or "a,b"; a datetime or ISO text)."""
    if name == "topics":
        if isinstance(value, str):
            value = value.split(",")
        return frozenset(str(part) for part in (value or ()) if part)
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if name == "published":
        return str(value)[:10]
    return str(value)


def compare(engine=None):
    """Compare every article with its document, field by stored field."""
    engine = engine or get_engine()
    index = documents.article_index()
    stored = {}
    for document in engine.indexed_documents():
        stored.setdefault(document.identifier, []).append(document.fields)

    differences = IndexDifferences(documents=sum(len(docs) for docs in stored.values()))
    for article in index.index_queryset().iterator(chunk_size=index_queue.BATCH_SIZE):
        differences.articles += 1
        docs = stored.pop(documents.identifier(article.pk), [])
        expected = documents.prepare(article, index)
        if expected is None:
            if docs:
                differences.orphaned.append(documents.identifier(article.pk))
        elif not docs:
            differences.missing.append(article.pk)
        elif len(docs) > 1 or any(
            _canonical(name, expected.get(name)) != _canonical(name, docs[0].get(name)) for name in COMPARED_FIELDS
        ):
            differences.stale.append(article.pk)
    differences.orphaned.extend(sorted(str(ident) for ident in stored))
    return differences


def repair(differences, lock_wait=None, engine=None):
    """Rewrite the documents of these differences from the database as it is now.

    Returns the pks that could not be indexed ({pk: error})."""
    engine = engine or get_engine()
    pks = differences.pks_to_rewrite()
    foreign = [ident for ident in differences.orphaned if documents.article_pk(ident) is None]
    with engine.write_lock(lock_wait), engine.batch() as batch:
        _indexed, _removed, failed = index_queue.write_current_state(batch, pks)
        for ident in foreign:
            batch.remove_identifier(ident)
    engine.committed()
    return failed


def index_problem(engine=None):
    """Why the index cannot serve searches, or None when it can."""
    return (engine or get_engine()).problem()


def rebuild(progress=None, engine=None, **options):
    """The one rebuild: the whole index written again from the database,
    searches served by the old index until the new one is whole."""
    engine = engine or get_engine()
    total = engine.rebuild(progress=progress, **options)
    engine.committed()
    return total


@dataclass
class EnsureReport:
    problem: str | None = None        # what was wrong with the index
    rebuilt: int | None = None        # articles indexed by a rebuild
    drained: int = 0                  # queued operations applied
    differences: IndexDifferences | None = None  # found after draining
    failed: dict = field(default_factory=dict)   # pks that could not be indexed
    lines: list = field(default_factory=list)

    def say(self, text):
        self.lines.append(text)


def ensure_index(lock_wait=None):
    """Make the index serve the database's articles before a server starts:
    rebuild it when it is missing, unreadable or built with other fields,
    apply what is queued, then repair whatever still differs."""
    engine = get_engine()
    report = EnsureReport()
    report.problem = engine.problem()
    if report.problem:
        report.say(f"search index: {report.problem}; rebuilding it from the database")
        report.rebuilt = rebuild(engine=engine)
        report.say(f"search index: rebuilt with {report.rebuilt} articles")
    result = index_queue.drain(lock_wait=lock_wait)
    report.drained = result.operations
    report.failed.update(result.failed)
    if result.operations:
        report.say(f"search index: applied {result.operations} queued change(s)")
    report.differences = compare(engine)
    differences = report.differences
    if differences:
        report.say(
            f"search index: {len(differences.missing)} missing, {len(differences.stale)} stale, "
            f"{len(differences.orphaned)} orphaned document(s)"
        )
        if differences.total > REBUILD_SHARE * max(differences.articles, 1):
            report.rebuilt = rebuild(engine=engine)
            report.say(f"search index: rebuilt with {report.rebuilt} articles")
        else:
            report.failed.update(repair(differences, lock_wait=lock_wait, engine=engine))
            report.say("search index: repaired")
    else:
        report.say(f"search index: {differences.documents} documents, in step with the database")
    return report


__all__ = ["EnsureReport", "IndexDifferences", "compare", "ensure_index", "index_problem", "rebuild", "repair"]
