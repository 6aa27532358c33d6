"""Writing to a collection: batches of adds and deletes, and whole rebuilds.

Adds and deletes go in their order, as one JSON command list per request
(at most BATCH_DOCUMENTS documents or BATCH_BYTES), and a batch ends with a
soft commit that returns once every replica shows the changes. A request
that fails inside `replace` is not blamed on the article that filled the
buffer: the batch remembers the error and raises it when it commits. A
request Solr refuses as malformed (400) is sent again one command at a time, so that one
document Solr cannot take is logged and skipped instead of holding back
every other one of its batch for ever (check_index finds it missing).
"""

import json
import logging

from articles.search.documents import identifier
from articles.search.engines.base import EngineUnavailable, IndexBatch
from articles.search.engines.solr.documents import encoded_size, solr_document
from articles.search.engines.solr.transport import SolrRequestError

logger = logging.getLogger(__name__)

BATCH_DOCUMENTS = 500
BATCH_BYTES = 8 * 1024 * 1024
# Seconds an update request may take (a full buffer on a busy cluster).
UPDATE_TIMEOUT = 120
# Seconds an update is tried again while no node can take it: a shard whose
# leader stopped takes no update until it has elected another (adds and
# deletes by id can be sent twice).
UPDATE_RETRY = 20
# Articles read from the database at a time by a rebuild.
REBUILD_CHUNK = 500

_JSON = {"separators": (",", ":"), "ensure_ascii": False}


class SolrBatch(IndexBatch):
    def __init__(self, nodes, collection, index):
        self.nodes, self.collection, self.index = nodes, collection, index
        self._commands = []
        self._documents = 0
        self._bytes = 0
        self.error = None

    def replace(self, article_id, article):
        document = solr_document(article, self.index) if article is not None else None
        if document is None:
            self._delete(identifier(article_id))
        else:
            self._add(document)

    def remove_identifier(self, ident):
        self._delete(str(ident))

    def remove_everything(self):
        self._commands.append('"delete":{"query":"*:*"}')

    def _add(self, document):
        self._commands.append('"add":' + json.dumps({"doc": document, "overwrite": True}, **_JSON))
        self._documents += 1
        self._bytes += encoded_size(document)
        if self._documents >= BATCH_DOCUMENTS or self._bytes >= BATCH_BYTES:
            self._flush_quietly()

    def _delete(self, ident):
        self._commands.append('"delete":' + json.dumps({"id": ident}, **_JSON))
        self._bytes += len(ident) + 16
        if len(self._commands) >= BATCH_DOCUMENTS:
            self._flush_quietly()

    def _flush_quietly(self):
        try:
            self.flush()
        except Exception as error:  # raised again by commit(), for the whole batch
            self.error = self.error or error
            self._commands, self._documents, self._bytes = [], 0, 0

    def flush(self, **params):
        """Send what is buffered (and `params`, a commit for instance)."""
        if self.error is not None:
            raise self.error
        if not self._commands and not params:
            return
        commands = self._commands
        self._commands, self._documents, self._bytes = [], 0, 0
        try:
            self._send(commands, params)
        except SolrRequestError as error:
            if error.status != 400 or len(commands) < 2:
                raise
            for command in commands:
                try:
                    self._send([command], {})
                except SolrRequestError as error:
                    logger.error("Solr refused %s: %s", command[:120], error)
            if params:
                self._send([], params)

    def _send(self, commands, params):
        try:
            self.nodes.post(
                f"{self.collection}/update",
                params={"wt": "json", **params},
                data=("{" + ",".join(commands) + "}").encode("utf-8"),
                headers={"Content-Type": "application/json; charset=utf-8"},
                timeout=UPDATE_TIMEOUT,
                retry_for=UPDATE_RETRY,
            )
        except SolrRequestError as error:
            if error.status == 404:
                raise missing_collection(self.collection) from None
            raise

    def commit(self, hard=False):
        """Send the rest and make it visible to searches on every replica."""
        commit = {"commit": "true"} if hard else {"softCommit": "true"}
        self.flush(waitSearcher="true", **commit)


def missing_collection(collection):
    return EngineUnavailable(f"The Solr collection {collection!r} does not exist: run manage.py setup_search")


def index_everything(nodes, collection, index, progress=None):
    """Index every article of the index declaration into `collection`, in
    pk order, and commit; returns how many articles were read."""
    queryset = index.index_queryset().order_by("pk")
    writer = SolrBatch(nodes, collection, index)
    total, last_pk = 0, None
    while True:
        chunk = queryset if last_pk is None else queryset.filter(pk__gt=last_pk)
        articles = list(chunk[:REBUILD_CHUNK])
        if not articles:
            break
        for article in articles:
            writer.replace(article.pk, article)
        if writer.error is not None:
            raise writer.error
        total += len(articles)
        last_pk = articles[-1].pk
        if progress:
            progress(total)
    writer.commit(hard=True)
    logger.info("indexed %d articles into the Solr collection %s", total, collection)
    return total
