"""Saving imported records: new, updated or already there.

Records are saved in batches. A batch is one transaction and every record
in it is a savepoint of its own, so a record is saved whole (article and
topics) or not at all, while the others go on. Committing once per batch
keeps SQLite fast. Each save queues its article in the same transaction
(articles.signals -> articles.search.index_queue), so the queue rows of a
batch commit with it; the queue is drained by the importer itself, once
INDEX_EVERY articles have been queued since the last drain and at the end,
in index commits of up to INDEX_EVERY articles: a large import writes its
index in a few large commits (for Whoosh, segments written the rebuild's
way) rather than one small one per batch, a small import (fewer than
INDEX_EVERY articles) reaches search as soon as it ends, and a killed import
leaves its committed batches queued for the next drain.

A record is the same article as one already in the archive when it has the
same URL (http/https and a trailing slash aside), else the same external
id, else the same fingerprint of its normalised title and text. The
lookups for a whole batch take one query.
"""
import logging
import time
from dataclasses import dataclass

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Q

from articles.fingerprint import article_fingerprint
from articles.importing.readers import FileReader, discover
from articles.importing.records import SOURCE_MAX, TOPIC_MAX, url_key, url_spellings
from articles.importing.report import ImportReport, Location, NullProgress, Problem
from articles.models import SLUG_MAX_LENGTH, Article, Source, Topic, unicode_slug
from articles.search import index_queue

logger = logging.getLogger(__name__)

IMPORTED, UPDATED, SKIPPED = "imported", "updated", "skipped"
DEFAULT_BATCH_SIZE = 500
LOOKUP_SLICE = 1000
# Articles queued for the search index before the importer drains the
# queue, and the most one index commit takes: large enough for the index to
# be written in bulk, small enough that the index keeps up with a long
# import and other writers (editors' saves) wait at most one such commit.
INDEX_EVERY = 5000


@dataclass(frozen=True)
class ImportOptions:
    default_source: str | None = None   # for records and pages that name none
    topics: tuple = ()                   # added to every imported article
    batch_size: int = DEFAULT_BATCH_SIZE

    def __post_init__(self):
        if self.default_source is not None:
            name = " ".join(self.default_source.split())
            if not name or len(name) > SOURCE_MAX:
                raise ValueError(f"a source name needs 1 to {SOURCE_MAX} characters")
            object.__setattr__(self, "default_source", name)
        topics = tuple(dict.fromkeys(" ".join(t.split()) for t in self.topics))
        if any(not t or len(t) > TOPIC_MAX for t in topics):
            raise ValueError(f"a topic name needs 1 to {TOPIC_MAX} characters")
        object.__setattr__(self, "topics", topics)
        if self.batch_size < 1:
            raise ValueError("the batch size must be at least 1")


def import_paths(paths, options=None, on_problem=None, progress=None):
    """Import the files and folders at `paths`; return an ImportReport.

    `on_problem(Problem)` is called as soon as a file or record fails;
    `progress` follows report.NullProgress's protocol.
    """
    return Importer(options, on_problem, progress).run(paths)


class RecordConflict(Exception):
    """The record matches one article by URL or id and another by its text."""


class Importer:
    def __init__(self, options=None, on_problem=None, progress=None):
        self.options = options or ImportOptions()
        self.on_problem = on_problem or (lambda problem: None)
        self.progress = progress or NullProgress()
        self.report = ImportReport()
        self._sources = {}
        self._topics = {}
        self._created = []   # (cache, name) made by the record being saved
        self._touched = None  # (article, its attributes) before the record changed it

    def run(self, paths):
        started = time.monotonic()
        files, problems = discover(paths)
        for problem in problems:
            self._fail(problem)
        readers = [
            FileReader(path, self.options.default_source, self.options.topics) for path in files
        ]
        self.progress.start(sum(reader.size for reader in readers))
        done_bytes = 0
        records_read = 0
        batch = []
        self._queued = 0
        try:
            # Saves queue their articles but do not drain on commit; the
            # importer drains (_drain_index) every INDEX_EVERY articles.
            with index_queue.deferred():
                for reader in readers:
                    self.report.files += 1
                    for item in reader:
                        if isinstance(item, Problem):
                            self._fail(item)
                        else:
                            batch.append(item)
                            if len(batch) >= self.options.batch_size:
                                self._save_batch(batch)
                                batch = []
                        records_read += 1
                        self.progress.update(done_bytes + reader.position, records_read)
                    done_bytes += reader.size
                if batch:
                    self._save_batch(batch)
                if self._queued:
                    self._drain_index()
            self.progress.update(done_bytes, records_read)
            self.report.index_backlog = _index_backlog()
        finally:
            self.progress.close()
            self.report.seconds = time.monotonic() - started
        return self.report

    def _fail(self, problem):
        self.report.failed += 1
        self.report.problems.append(problem)
        self.on_problem(problem)

    # -- one batch: one transaction, one savepoint per record ------------------

    def _save_batch(self, records):
        fingerprints = [article_fingerprint(r.title, r.body) for r in records]
        known = KnownArticles.for_records(records, fingerprints)
        outcomes = []
        committed = []
        try:
            with transaction.atomic():
                # Runs first among the commit callbacks: tells a failed commit
                # from a search index update that failed after it.
                transaction.on_commit(lambda: committed.append(True))
                for record, fingerprint in zip(records, fingerprints, strict=True):
                    outcome = self._save_in_savepoint(record, fingerprint, known)
                    if outcome:
                        outcomes.append((record, outcome))
        except Exception as error:  # reported; the import goes on
            if not committed:
                # Nothing of the batch is saved; the records that failed on
                # their own were reported already.
                self._sources.clear()
                self._topics.clear()
                for record, _outcome in outcomes:
                    self._fail(Problem(record.location, f"not saved: the batch could not be committed ({error})"))
                return
            self._after_commit_failed(error)
        for _record, outcome in outcomes:
            setattr(self.report, outcome, getattr(self.report, outcome) + 1)
        self._queued += sum(1 for _record, outcome in outcomes if outcome != SKIPPED)
        if self._queued >= INDEX_EVERY:
            self._drain_index()

    def _drain_index(self):
        """Apply the queue to the search index in commits of up to
        INDEX_EVERY articles (rows are deleted only after each commit)."""
        self._queued = 0
        if transaction.get_connection().in_atomic_block:
            # The caller's transaction has not committed the rows yet; its
            # commit drains them (index_queue.deferred).
            return
        try:
            index_queue.drain_deferred(chunk=INDEX_EVERY)
        except Exception as error:  # reported; the import goes on
            self._after_commit_failed(error)

    def _after_commit_failed(self, error):
        message = f"saved, but a step after the commit failed: {error} (run manage.py check_index)"
        logger.debug(message, exc_info=True)
        self.report.index_errors.append(message)
        self.on_problem(Problem(Location("search index"), message))

    def _save_in_savepoint(self, record, fingerprint, known):
        self._created = []
        self._touched = None
        try:
            with transaction.atomic():
                outcome, article, topic_ids = self._save_record(record, fingerprint, known)
        except (RecordConflict, DatabaseError, ValueError) as error:
            message = _explain(error)
        except Exception as error:  # one record must not stop the import
            logger.debug("record %s failed", record.location, exc_info=True)
            message = f"unexpected error: {type(error).__name__}: {error}"
        else:
            known.remember(article, fingerprint, topic_ids)
            return outcome
        # The savepoint is rolled back: forget what it created or changed.
        for cache, name in self._created:
            cache.pop(name, None)
        if self._touched:
            article, state = self._touched
            article.__dict__.clear()
            article.__dict__.update(state)
        self._fail(Problem(record.location, message))
        return None

    def _save_record(self, record, fingerprint, known):
        by_url = known.by_url.get(url_key(record.url)) if record.url else None
        by_id = known.by_id.get(record.external_id) if record.external_id else None
        by_text = known.by_fingerprint.get(fingerprint)
        article = by_url or by_id or by_text

        if article is None:
            article = Article(
                title=record.title,
                body=record.body,
                lead=record.lead,
                source=self._source(record.source),
                published=record.published,
                url=record.url,
                external_id=record.external_id,
            )
            article.save()
            topics = self._topic_objects(record.topics)
            if topics:
                # A new article has no links yet: inserted in one query,
                # without m2m signals (its save queued it already).
                links = Article.topics.through
                links.objects.bulk_create([links(article_id=article.pk, topic_id=t.pk) for t in topics])
            return IMPORTED, article, {t.pk for t in topics}

        if by_text is not None and by_text.pk != article.pk:
            key = "URL" if by_url else "id"
            raise RecordConflict(
                f"its text is already in article #{by_text.pk}, "
                f"but its {key} belongs to article #{article.pk}"
            )
        wanted = {"title": record.title, "body": record.body, "lead": record.lead}
        if record.source:
            wanted["source_id"] = self._source(record.source).pk
        if record.published:
            wanted["published"] = record.published
        # An article keeps the URL and id it has; a record only fills them in.
        if record.url and not article.url and by_url is None:
            wanted["url"] = record.url
        if record.external_id and not article.external_id and by_id is None:
            wanted["external_id"] = record.external_id
        changed = {name: value for name, value in wanted.items() if getattr(article, name) != value}
        topic_ids = known.topic_ids.get(article.pk, set())
        # Import adds topics and never removes one: editors tag in the admin.
        new_topics = [t for t in self._topic_objects(record.topics) if t.pk not in topic_ids]
        if not changed and not new_topics:
            return SKIPPED, article, topic_ids
        self._touched = (article, dict(article.__dict__))
        for name, value in changed.items():
            setattr(article, name, value)
        if "title" in changed:
            article.slug = ""  # save() makes it again from the new title
        if changed:
            article.save()
        if new_topics:
            article.topics.add(*new_topics)
        return UPDATED, article, topic_ids | {t.pk for t in new_topics}

    # -- sources and topics, created once and cached ---------------------------

    def _source(self, name):
        if not name:
            return None
        source = self._sources.get(name)
        if source is None:
            source = Source.objects.filter(name__iexact=name).first()
            if source is None:
                source = Source.objects.create(name=name, slug=_free_slug(Source, name))
                self._created.append((self._sources, name))
            self._sources[name] = source
        return source

    def _topic_objects(self, names):
        topics = []
        for name in names:
            topic = self._topics.get(name)
            if topic is None:
                topic = Topic.objects.filter(name__iexact=name).first()
                if topic is None:
                    topic = Topic.objects.create(name=name, slug=_free_slug(Topic, name))
                    self._created.append((self._topics, name))
                self._topics[name] = topic
            topics.append(topic)
        return topics


class KnownArticles:
    """The archive's articles that a batch of records may match."""

    def __init__(self):
        self.by_url = {}
        self.by_id = {}
        self.by_fingerprint = {}
        self.topic_ids = {}

    @classmethod
    def for_records(cls, records, fingerprints):
        known = cls()
        articles = {}
        # In slices, so that the query stays under SQLite's limit on
        # parameters (32,766 in most builds) whatever the batch size.
        for start in range(0, len(records), LOOKUP_SLICE):
            chunk = records[start : start + LOOKUP_SLICE]
            spellings = set()
            for record in chunk:
                if record.url:
                    spellings |= url_spellings(record.url)
            ids = {record.external_id for record in chunk if record.external_id}
            query = Q(fingerprint__in=set(fingerprints[start : start + LOOKUP_SLICE]))
            if spellings:
                query |= Q(url__in=spellings)
            if ids:
                query |= Q(external_id__in=ids)
            articles.update((a.pk, a) for a in Article.objects.filter(query).order_by())
        topic_ids = {}
        pks = sorted(articles)
        for start in range(0, len(pks), LOOKUP_SLICE):
            links = Article.topics.through.objects.filter(article_id__in=pks[start : start + LOOKUP_SLICE])
            for article_id, topic_id in links.values_list("article_id", "topic_id"):
                topic_ids.setdefault(article_id, set()).add(topic_id)
        for article in articles.values():
            known.remember(article, article.fingerprint, topic_ids.get(article.pk, set()))
        return known

    def remember(self, article, fingerprint, topic_ids):
        if article.url:
            self.by_url[url_key(article.url)] = article
        if article.external_id:
            self.by_id[article.external_id] = article
        # An updated article's old fingerprint stays mapped to it: harmless,
        # and a later record with the old text still finds its article.
        self.by_fingerprint[fingerprint] = article
        self.topic_ids[article.pk] = set(topic_ids)


def _index_backlog():
    """Articles still waiting for the search index after the import's drains
    (the index was locked or failed); 0 inside a caller's transaction, whose
    commit has not drained yet."""
    from articles.models import IndexOperation

    if transaction.get_connection().in_atomic_block:
        return 0
    return IndexOperation.objects.values("article_pk").distinct().count()


def _free_slug(model, name):
    """The name's slug, numbered if another row has it ("bbc", "bbc-2")."""
    base = unicode_slug(name)
    slug, n = base, 2
    while model.objects.filter(slug=slug).exists():
        suffix = f"-{n}"
        slug = base[: SLUG_MAX_LENGTH - len(suffix)] + suffix
        n += 1
    return slug


def _explain(error):
    """A database error in words a user can act on."""
    if isinstance(error, IntegrityError):
        text = str(error)
        for field in ("url", "external_id", "fingerprint"):
            # SQLite: "UNIQUE constraint failed: articles_article.url";
            # PostgreSQL: "... DETAIL:  Key (url)=(...) already exists."
            if f"article.{field}" in text or f"Key ({field})=" in text:
                what = {"url": "URL", "external_id": "id", "fingerprint": "title and text"}[field]
                return f"another article already has the same {what}"
        return f"not saved: {text}"
    if isinstance(error, DatabaseError):
        return f"not saved: database error: {error}"
    return str(error)
