"""The one interface every search engine offers the rest of Newsroom.

The search service, the views, the API, the evaluation command, the index
queue and the management commands talk to a `SearchEngine` and nothing
else: they never import an engine's client library. An engine receives
queries already parsed by the shared Arabic analysis (articles.search.query)
and documents already prepared by the haystack index declaration
(articles.search_indexes), and answers with article ids, scores and counts;
rows, snippets and pages are made by the service from the database.

Engines live in a package each (articles.search.engines.whoosh, ...solr);
their fast paths and quirks stay there. `articles.search.engines.get_engine()`
returns the one chosen by settings.SEARCH_URL.
"""
import logging
from abc import ABC, abstractmethod
from contextlib import contextmanager
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

# Fields an engine can filter and count by: the values are slugs and years.
FACET_FIELDS = ("source", "topics", "year")


class EngineUnavailable(RuntimeError):
    """The engine cannot answer now (index missing or unreadable, cluster
    down): pages answer 503 and say so, nothing is lost."""


class IndexBusy(RuntimeError):
    """Another process holds the index's write lock longer than we waited;
    the queued changes stay queued for the next drain."""


@dataclass(frozen=True)
class EngineQuery:
    """What the service asks of an engine.

    `parsed` is an articles.search.query.ParsedQuery with at least one
    positive clause, or None to list every article that the filters allow.
    `filters` maps a facet field to the one value every hit must have.
    Hits are wanted from `offset` for `limit`; `total` and `facets` count
    every match, not only the page.
    """

    parsed: object = None
    filters: tuple = ()                 # ((field, value), ...), field in FACET_FIELDS
    sort: str = "relevance"             # "relevance" | "newest"
    offset: int = 0
    limit: int = 20
    facet_fields: tuple = FACET_FIELDS


@dataclass
class EngineHit:
    article_id: int
    score: float


@dataclass
class EngineResults:
    hits: list = field(default_factory=list)        # [EngineHit], best first
    total: int = 0
    facets: dict = field(default_factory=dict)      # field -> {value: count}


# Stored fields that articles.search.consistency compares with the database.
COMPARED_FIELDS = ("source", "topics", "year", "published")


@dataclass
class IndexedDocument:
    """A document as the index holds it, for comparing with the database."""

    identifier: str                     # "articles.article.<pk>", or whatever else a stray document has
    fields: dict                        # COMPARED_FIELDS -> the value as the engine keeps it


class IndexBatch(ABC):
    """Documents written and removed in one commit, under the write lock;
    visible to searches once the batch commits (its `with` block ends
    without an exception). A batch that raises is abandoned."""

    @abstractmethod
    def replace(self, article_id, article):
        """Make the index hold `article` (a model instance prepared by the
        haystack index) as the one document of `article_id`; with
        article=None, hold none."""

    @abstractmethod
    def remove_identifier(self, identifier):
        """Remove a document by its identifier (a stray, non-article one)."""


class SearchEngine(ABC):
    """A search engine holding one document per article."""

    #: Short name used in logs, the health report and the benchmarks.
    name = "engine"

    # -- reading ------------------------------------------------------------

    @abstractmethod
    def search(self, query):
        """EngineResults for an EngineQuery."""

    @abstractmethod
    def related(self, article, limit):
        """Ids of up to `limit` other articles most like `article` (a model
        instance with title, lead and body), best first; never its own id."""

    @abstractmethod
    def doc_frequency(self, word):
        """In how many documents the exact word form `word` occurs."""

    @abstractmethod
    def spelling_candidates(self, word, max_edits):
        """{term: doc_frequency} of indexed exact word forms within
        `max_edits` edits of `word` that share its first letter."""

    @abstractmethod
    def document_count(self):
        """How many documents the index holds."""

    def version(self):
        """A text that changes whenever a commit changes what searches see,
        the same in every process that reads this index, or None when the
        index cannot be read. Caches are keyed by it (articles.caching)."""
        from articles.search import archive_state

        return archive_state.current_version()

    def warm_up(self):
        """Open what every search needs before the first visitor asks."""

    # -- writing ------------------------------------------------------------

    @contextmanager
    def write_lock(self, lock_wait=None, still_needed=None):
        """Hold the one write lock of this index, across processes and app
        servers; yields True. While waiting it asks `still_needed()`, if
        given: when that says no (another writer did the work meanwhile) it
        yields None instead. IndexBusy after `lock_wait` seconds.

        The default is a lock in the database (articles.search.locks), which
        every app server shares; an engine with a lock of its own overrides."""
        from articles.search import locks

        with locks.database_lock(f"search-index-{self.name}", lock_wait, still_needed=still_needed) as held:
            yield held

    @abstractmethod
    @contextmanager
    def batch(self):
        """An IndexBatch, committed when the block ends. Call it holding
        write_lock(), so that no other writer puts an older state after it."""

    def committed(self):
        """Called by the writers (articles.search.index_queue, consistency)
        after each commit: the archive's version kept in the database moves
        on, so every app server's cached pages of the old one are dropped.
        The index has committed already: a database that cannot be written
        now costs stale cached pages until their timeout, never the edit."""
        from django.db import transaction

        try:
            from articles.search import archive_state

            # A savepoint of its own: a failure must not break a caller's
            # transaction (a test's, a command's) along with it.
            with transaction.atomic():
                archive_state.bump()
        except Exception:
            logger.exception("the archive version could not be moved on; cached pages may be stale for a while")

    @abstractmethod
    def rebuild(self, progress=None):
        """Index every article anew, with no moment without a searchable
        index: readers see the old index until the new one is whole.
        Returns the number of articles indexed."""

    @abstractmethod
    def indexed_documents(self):
        """Every IndexedDocument, for `check_index` (any order)."""

    @abstractmethod
    def clear(self):
        """Remove every document (tests, and an archive emptied on purpose)."""

    def setup(self, stdout=None, **options):
        """Create what the engine needs before the first document (a Solr
        collection; `options` such as shards and replicas are the engine's);
        nothing for an engine that makes it on first write."""
        if stdout is not None:
            stdout.write(f"{self.describe()}: nothing to set up.")

    @abstractmethod
    def problem(self):
        """Why the index cannot serve searches (missing, unreadable, built
        with other fields), or None when it can."""

    def describe(self):
        """One line for logs: which engine, where."""
        return self.name
