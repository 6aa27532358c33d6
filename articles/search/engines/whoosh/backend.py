"""Haystack's Whoosh backend with Arabic analysis and a searcher that stays open.

Haystack declares the index (articles/search_indexes.py), rebuilds it and
hears model signals; this backend decides how the fields are analysed and
stored, and gives articles.search.service a long-lived Whoosh searcher.
Stock haystack opens a new searcher (and re-reads every segment) for each
query and analyses text with an English stemmer.
"""
import logging
import threading
import time
from datetime import date, datetime

from haystack.backends.whoosh_backend import WhooshEngine, WhooshSearchBackend
from haystack.constants import DJANGO_CT, DJANGO_ID, ID
from haystack.exceptions import SkipDocument
from haystack.utils import get_identifier
from whoosh import fields as whoosh_fields
from whoosh.query import Term

from articles.search.engines.whoosh import segment_files
from articles.search.engines.whoosh.analysis import ArabicAnalyzer

logger = logging.getLogger(__name__)

# How long a writer waits for Whoosh's single write lock before giving up.
WRITE_LOCK_TIMEOUT = 30.0

# How often a read is tried again when a commit deleted the files it opened.
VANISHED_FILE_TRIES = 8


def reading_latest(read):
    """Call `read()` (which opens the index's newest files) until it finds
    them in place.

    Whoosh lists the folder for the newest table of contents, then opens it;
    a commit in another process may delete it in between (it removes the
    tables it replaced). The newer one is on disk by then, so reading again
    finds a whole index. Whoosh's reader() tries again by itself;
    open_index(), which haystack's setup() calls, does not.
    """
    for attempt in range(VANISHED_FILE_TRIES):
        try:
            return read()
        except FileNotFoundError:
            if attempt == VANISHED_FILE_TRIES - 1:
                raise
            time.sleep(0.005 * (attempt + 1))


class ArabicWhooshSearchBackend(WhooshSearchBackend):
    def __init__(self, connection_alias, **connection_options):
        super().__init__(connection_alias, **connection_options)
        self._searcher = None
        self._searcher_lock = threading.Lock()

    # Schema -----------------------------------------------------------------

    def build_schema(self, fields):
        content_field_name, schema = super().build_schema(fields)
        for _name, field_class in fields.items():
            name = field_class.index_fieldname
            if field_class.field_type == "exact":
                schema.remove(name)
                schema.add(name, whoosh_fields.ID(stored=True, sortable=True))
            elif field_class.field_type == "exact_multi":
                schema.remove(name)
                schema.add(name, whoosh_fields.KEYWORD(stored=True, commas=True, scorable=False))
            elif field_class.field_type == "arabic_text":
                # Rows are read from the database for display and snippets, so
                # the index keeps no copy of the text: smaller and faster.
                # Field weights are query boosts (articles.search.query), not
                # field_boost, which Whoosh folds into term frequencies where
                # BM25 saturates them. Only stems need positions (phrases).
                schema.remove(name)
                schema.add(
                    name,
                    whoosh_fields.TEXT(
                        analyzer=ArabicAnalyzer(field_class.form),
                        stored=False,
                        phrase=field_class.form == "stem",
                    ),
                )
        return content_field_name, schema

    def setup(self):
        """Haystack's setup, tried again when a concurrent commit removed the
        table of contents it was opening (see reading_latest)."""
        if self.use_file_storage:
            segment_files.share_segments_of(self.path)
        reading_latest(super().setup)

    # Reading ----------------------------------------------------------------

    def searcher(self):
        """A Whoosh searcher kept open between queries, reopened only when the
        index on disk has changed (a cheap check of the table of contents)."""
        if not self.setup_complete:
            self.setup()
        with self._searcher_lock:
            if self._searcher is not None and not self._searcher.up_to_date():
                # Not Searcher.refresh(): it reuses segment readers by segment
                # id and so keeps serving documents that a deletion-only
                # commit removed. A fresh reader sees the new deletions. The
                # old one is not closed here: another thread may still be
                # reading from it; it is released with its last reference.
                self._searcher = None
            if self._searcher is None:
                # Whoosh's reader() tries again itself when a commit deleted
                # the files it was opening; opening the index does not.
                self.index = self.index.refresh()
                self._searcher = self.index.searcher()
            return self._searcher

    def _forget_searcher(self):
        with self._searcher_lock:
            if self._searcher is not None:
                self._searcher.close()
            self._searcher = None

    # Writing ----------------------------------------------------------------

    def writer(self, **kwargs):
        """A writer holding Whoosh's lock; waits for it rather than failing or
        deferring to a background thread as haystack's AsyncWriter does."""
        if not self.setup_complete:
            self.setup()
        self.index = self.index.refresh()
        return self.index.writer(timeout=WRITE_LOCK_TIMEOUT, **kwargs)

    def prepare_document(self, index, obj):
        """The Whoosh fields of one object, or None when the index skips it."""
        try:
            doc = index.full_prepare(obj)
        except SkipDocument:
            return None
        prepared = {}
        for key, value in doc.items():
            if value is None or key == "boost":
                continue
            if isinstance(value, date) and not isinstance(value, datetime):
                value = datetime(value.year, value.month, value.day)
            elif isinstance(value, (list, tuple)):
                value = ",".join(str(item) for item in value)
            elif not isinstance(value, (datetime, int, float)):
                value = str(value)
            prepared[key] = value
        return prepared

    def update(self, index, iterable, commit=True):
        """Add or replace documents; errors propagate so callers can retry."""
        writer = self.writer()
        try:
            for obj in iterable:
                doc = self.prepare_document(index, obj)
                if doc is not None:
                    writer.update_document(**doc)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def remove(self, obj_or_string, commit=True):
        self.remove_identifiers([get_identifier(obj_or_string)])

    def remove_identifiers(self, identifiers):
        writer = self.writer()
        try:
            for identifier in identifiers:
                writer.delete_by_term(ID, identifier)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def delete_index(self):
        self._forget_searcher()
        super().delete_index()

    def clear(self, models=None, commit=True):
        self._forget_searcher()
        super().clear(models=models, commit=commit)

    # Helpers for the service -------------------------------------------------

    def document_number(self, identifier):
        return self.searcher().document_number(**{ID: identifier})

    @staticmethod
    def model_term(model_ct):
        return Term(DJANGO_CT, model_ct)


class ArabicWhooshEngine(WhooshEngine):
    backend = ArabicWhooshSearchBackend


__all__ = ["ArabicWhooshEngine", "ArabicWhooshSearchBackend", "DJANGO_ID"]
