"""The Whoosh engine: one index in a folder, for a site on one machine.

Searches run on a long-lived searcher with bitmaps and array scoring
(doc_bitmaps, planner, scoring); writes take Whoosh's single write lock.
Everything here may use Whoosh's internals; nothing outside this package
imports whoosh.
"""
import logging
import os
import random
import threading
import time
from contextlib import contextmanager

from haystack.constants import ID
from whoosh import query as wq
from whoosh.index import TOC, LockError
from whoosh.reading import SegmentReader
from whoosh.writing import MERGE_SMALL

from articles.search.documents import article_index, identifier
from articles.search.engines.base import (
    FACET_FIELDS,
    EngineHit,
    EngineResults,
    IndexBatch,
    IndexBusy,
    IndexedDocument,
    SearchEngine,
)
from articles.search.engines.whoosh import (
    doc_bitmaps,
    index_files,
    planner,
    query_builder,
    writing,
)
from articles.search.engines.whoosh.key_terms import key_terms

logger = logging.getLogger(__name__)

# How often a waiting writer tries the lock again (seconds, with jitter).
LOCK_POLL = 0.03
# A write that holds the lock longer than this (seconds) is logged.
SLOW_WRITE = 2.0
# Small index segments tolerated before they are merged (see merge_when_many).
MERGE_AT = 10
SMALL_SEGMENT = 200
# A batch of this many documents or more is written as a segment of its own
# the rebuild's way (WhooshBatch); at least SMALL_SEGMENT, so that such a
# segment is never one of the small ones merge_when_many merges.
FAST_BATCH = SMALL_SEGMENT
# A batch of this many documents or more is written by several processes
# (one per CPU, as the rebuild does), each writing a segment of its share;
# at least FAST_BATCH times the processes, for the same reason.
PARALLEL_BATCH = 2000
# Words of an article's text that pick its related stories (more-like-this).
KEY_TERMS = 12

# Whoosh's lock is a file lock between processes; this one orders the threads
# of one process as well (a development server, a test, a management command).
_process_lock = threading.Lock()


def merge_when_many(writer, segments):
    """Whoosh merge policy for small, frequent commits.

    Whoosh's default (MERGE_SMALL) re-merges the recent segments on almost
    every commit, so each one-article save rewrites the postings of hundreds
    of documents. This one leaves segments alone until MERGE_AT small ones
    (under SMALL_SEGMENT documents) have piled up and merges just those; the
    large segments of a rebuild or an import are left as they are until
    there are far too many segments, when Whoosh's own policy takes over.
    """
    small = [segment for segment in segments if segment.doc_count_all() < SMALL_SEGMENT]
    if len(small) < MERGE_AT:
        return segments if len(segments) < 3 * MERGE_AT else MERGE_SMALL(writer, segments)
    for segment in small:
        reader = SegmentReader(writer.storage, writer.schema, segment)
        writer.add_reader(reader)
        reader.close()
    return [segment for segment in segments if segment not in small]


def _abandon(writer):
    """Give up a writer, even one whose commit failed half-way (a full disk):
    its lock must not outlive it, or every later drain would wait in vain."""
    if getattr(writer, "is_closed", False):
        return
    try:
        writer.cancel()
    except Exception:
        logger.exception("could not cancel the search index writer")
        lock = getattr(writer, "writelock", None)
        if lock is not None and getattr(lock, "fd", 0) is not None:
            try:
                lock.release()
            except Exception:
                logger.exception("could not release the search index lock")


def keep_segments(writer, segments):
    """Merge policy of a batch written the fast way (RebuildWriter), which
    cannot merge: every segment stays; small ones are merged by the next
    commit of the small-batch path (merge_when_many)."""
    return segments


class WhooshBatch(IndexBatch):
    """The changes of one commit.

    They are gathered first and written when the batch ends, so that the
    size of the batch picks the writer: a batch of FAST_BATCH documents or
    more (an import's) is written as a new segment by RebuildWriter (postings
    in memory, the Arabic analyzer's cached terms: the rebuild's fast path),
    a smaller one (an editor's save) by Whoosh's SegmentWriter with our merge
    policy. Both delete the articles' old documents from the existing
    segments and commit once: readers see the whole batch or none of it.
    `writer` hands out the stock writer at once, with the changes so far.
    """

    def __init__(self, backend, index, open_writer):
        self.backend, self.index = backend, index
        # open_writer(documents): the writer for a batch of that many documents.
        self._open_writer = open_writer
        self._writer = None
        self.fast = False
        # identifier -> its document, or None to remove it; the last change wins.
        self._changes = {}

    @property
    def writer(self):
        if self._writer is None:
            self._start(0)
        return self._writer

    def replace(self, article_id, article):
        document = self.backend.prepare_document(self.index, article) if article is not None else None
        self._change(identifier(article_id), document)

    def remove_identifier(self, ident):
        self._change(ident, None)

    def _change(self, ident, document):
        if self._writer is not None:
            self._write(self._writer, {ident: document})
        else:
            self._changes.pop(ident, None)
            self._changes[ident] = document

    @staticmethod
    def _write(writer, changes):
        # Delete every document of the article, then add one: Whoosh's
        # update_document replaces only the first of any duplicates. Deletes
        # reach only the committed segments, never the documents added here.
        for ident in changes:
            writer.delete_by_term(ID, ident)
        for document in changes.values():
            if document is not None:
                writer.add_document(**document)

    def _start(self, documents):
        self.fast = documents >= FAST_BATCH
        self._writer = self._open_writer(documents)
        changes, self._changes = self._changes, {}
        self._write(self._writer, changes)

    def commit(self):
        if self._writer is None:
            documents = sum(1 for document in self._changes.values() if document is not None)
            self._start(documents)
        writer = self._writer
        if not writer.is_closed:
            writer.commit(mergetype=keep_segments if self.fast else merge_when_many)

    def abandon(self):
        if self._writer is not None:
            _abandon(self._writer)


class WhooshEngine(SearchEngine):
    name = "whoosh"

    def __init__(self, path):
        self.path = path

    def describe(self):
        return f"whoosh index in {self.backend.path}"

    @property
    def backend(self):
        """Haystack's Whoosh backend (ours: articles.search.engines.whoosh.backend),
        which builds the schema from the index declaration and keeps the
        searcher open."""
        return writing.get_backend()

    def searcher(self):
        return self.backend.searcher()

    # -- reading ------------------------------------------------------------

    def search(self, query):
        text_query = query_builder.build(query.parsed) if query.parsed is not None else None
        if text_query is None:
            text_query = wq.Every()
        searcher = self.searcher()
        sort_kwargs = {}
        if query.sort == "newest" or isinstance(text_query, wq.Every):
            sort_kwargs = {"sortedby": "published", "reverse": True}
        # The total and the facet counts come from document bitmaps kept per
        # index version, and a query matching very many articles has only its
        # most promising ones scored (planner).
        index_bitmaps = doc_bitmaps.facet_index(searcher, FACET_FIELDS + ("django_ct",))
        terms = [("django_ct", "articles.article"), *query.filters]
        plan = planner.plan(searcher, index_bitmaps, text_query, query.offset + query.limit, terms, **sort_kwargs)
        # Our BM25F parameters, without touching the shared searcher.
        searcher.search_with_collector(
            plan.query, plan.collector, context=searcher.context(weighting=query_builder.WEIGHTING)
        )
        page = list(plan.collector.results())[query.offset : query.offset + query.limit]
        return EngineResults(
            hits=[EngineHit(int(hit["django_id"]), round(float(hit.score or 0.0), 4)) for hit in page],
            total=plan.matched.bit_count(),
            facets=doc_bitmaps.counts(index_bitmaps, plan.matched, query.facet_fields),
        )

    def related(self, article, limit):
        # Whoosh's more_like(): the text's key terms (picked as Whoosh picks
        # them, with fewer look-ups: key_terms), or-ed, every document
        # holding one of them scored (on arrays: scoring.best_documents).
        searcher = self.searcher()
        docnum = searcher.document_number(id=identifier(article.pk))
        if docnum is None:
            return []
        text = "\n".join([article.title, article.title, article.lead, article.body])
        terms = key_terms(searcher, "text", text, KEY_TERMS)
        if not terms:
            return []
        like = wq.Or([wq.Term("text", word, boost=weight) for word, weight in terms])
        hits = planner.top_documents(searcher, like, limit, exclude={docnum}, candidate_limit=None)
        return [int(searcher.stored_fields(number)["django_id"]) for number, _score in hits]

    def doc_frequency(self, word):
        return self.searcher().doc_frequency("exact", word)

    def spelling_candidates(self, word, max_edits):
        # Whoosh's Levenshtein automaton over each segment's term dictionary.
        searcher = self.searcher()
        found = set()
        for leaf, _offset in searcher.reader().leaf_readers():
            found.update(leaf.terms_within("exact", word, max_edits, prefix=1))
        return {candidate: searcher.doc_frequency("exact", candidate) for candidate in found}

    def document_count(self):
        return self.searcher().doc_count()

    def version(self):
        """The index's generation and when it was written: the table of
        contents' name and time, one directory listing. The time tells apart
        the same generation number of an index built again (generations
        start over), since cache entries outlive processes."""
        backend = self.backend
        if not backend.setup_complete:
            backend.setup()
        index = backend.index
        for _attempt in range(3):
            generation = index.latest_generation()
            toc = os.path.join(index.storage.folder, TOC._filename(index.indexname, generation))
            try:
                return f"{generation}.{os.stat(toc).st_mtime_ns}"
            except FileNotFoundError:  # a commit replaced it between the two reads
                continue
        return None

    def warm_up(self):
        searcher = self.searcher()
        doc_bitmaps.facet_index(searcher, FACET_FIELDS + ("django_ct",))
        return searcher.doc_count()

    # -- writing ------------------------------------------------------------

    @contextmanager
    def write_lock(self, lock_wait=None, still_needed=None):
        """Whoosh's write lock (a file in the index folder) and this process's."""
        lock_wait = 10.0 if lock_wait is None else lock_wait
        deadline = time.monotonic() + lock_wait
        backend = self.backend
        if not backend.setup_complete:
            backend.setup()
        file_lock = backend.index.lock("WRITELOCK")
        while True:
            if _process_lock.acquire(blocking=False):
                try:
                    if file_lock.acquire(blocking=False):
                        break
                except BaseException:
                    _process_lock.release()
                    raise
                _process_lock.release()
            # Whoosh's own wait sleeps between tries and cannot notice that
            # the work was done meanwhile; this one asks before each try.
            if still_needed is not None and not still_needed():
                yield None
                return
            if time.monotonic() >= deadline:
                raise IndexBusy(f"the search index stayed locked for {lock_wait:g} s")
            time.sleep(LOCK_POLL * (0.5 + random.random()))
        locked_at = time.monotonic()
        try:
            yield True
        finally:
            file_lock.release()
            _process_lock.release()
            held = time.monotonic() - locked_at
            if held > SLOW_WRITE:
                # Normal for an import's batch; a sign of trouble only when
                # editors' saves are slow to show, hence not a warning.
                logger.info("the search index was locked for %.1f s by one writer", held)

    @contextmanager
    def batch(self):
        """One Whoosh commit, under a lock already held (write_lock)."""
        backend = self.backend
        backend.index = backend.index.refresh()
        ix = backend.index

        def open_writer(documents):
            if documents >= PARALLEL_BATCH:
                # The rebuild's writer: with several CPUs, sub-processes
                # analyse and write a segment each (multisegment), never merging.
                return writing.rebuild_writer_for(ix, writing.default_procs())
            if documents >= FAST_BATCH:
                return writing.rebuild_writer_for(ix, 1)
            return ix.writer(_lk=False)

        batch = WhooshBatch(backend, article_index(), open_writer)
        try:
            yield batch
            batch.commit()
        except BaseException:
            batch.abandon()
            raise

    def rebuild(self, progress=None, procs=None, batch_size=writing.BATCH_SIZE, lock_wait=index_files.REBUILD_LOCK_WAIT):
        try:
            return index_files.rebuild(lock_wait=lock_wait, procs=procs, progress=progress, batch_size=batch_size)
        except LockError as error:
            raise IndexBusy(str(error)) from None

    def indexed_documents(self):
        backend = self.backend
        if not backend.setup_complete:
            backend.setup()
        searcher = backend.index.refresh().searcher()
        try:
            for stored in searcher.all_stored_fields():
                yield IndexedDocument(
                    identifier=str(stored.get(ID)),
                    fields={
                        "source": stored.get("source"),
                        "topics": [part for part in str(stored.get("topics") or "").split(",") if part],
                        "year": stored.get("year"),
                        "published": stored.get("published"),
                    },
                )
        finally:
            searcher.close()

    def clear(self):
        self.backend.clear()

    def problem(self):
        return index_files.index_problem()
