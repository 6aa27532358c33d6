"""The archive's version kept in the database, for engines without one.

A Solr collection shared by several app servers has no version that every
server can read cheaply, so each commit of the index moves on a counter in
the one row of articles.models.ArchiveState (`bump`), and caches are keyed
by `current_version()` (articles.caching): a change made on any server
makes every server's cached pages of the old version unreachable at once.

The row is made by the first bump; until then the version is "0".
"""
import logging

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.models import F
from django.utils import timezone

logger = logging.getLogger(__name__)

# The one row's primary key.
ROW_ID = 1


def current_version(using=DEFAULT_DB_ALIAS):
    """The version as a text ("17"), or None when it cannot be read (no
    table yet, the database down): then nothing is cached. Never raises."""
    try:
        if connections[using].in_atomic_block:
            # A failed read must not break the caller's transaction
            # (PostgreSQL refuses every statement after an error in one).
            with transaction.atomic(using=using):
                return _read_version(using)
        return _read_version(using)
    except Exception:
        logger.debug("the archive version cannot be read", exc_info=True)
        return None


def _read_version(using):
    from articles.models import ArchiveState

    version = ArchiveState.objects.using(using).filter(pk=ROW_ID).values_list("version", flat=True).first()
    return str(version or 0)


def bump(using=DEFAULT_DB_ALIAS):
    """Move the version on by one, in one UPDATE ... SET version = version + 1:
    concurrent callers, in any process or on any machine, each count once.
    Makes the row if there is none yet."""
    from articles.models import ArchiveState

    rows = ArchiveState.objects.using(using).filter(pk=ROW_ID)
    for attempt in range(3):
        now = timezone.now()
        if rows.update(version=F("version") + 1, changed=now):
            return
        try:
            # A savepoint, so that losing the race leaves the caller's
            # transaction usable.
            with transaction.atomic(using=using):
                ArchiveState.objects.using(using).create(pk=ROW_ID, version=1, changed=now)
            return
        except IntegrityError:
            # Another caller made the row meanwhile: count this bump on it
            # (the row is never deleted, so the next UPDATE finds it).
            if attempt == 2:
                raise
