"""Caches that empty themselves when the archive changes, in every process.

Every change to an article, to its topics or to a source or topic it shows
ends in a commit of the search index (articles.signals queue the articles,
articles.search.index_queue writes them after the database commit),
whichever process or app server made it. The engine's version of the index
(Whoosh: its generation, one directory listing; otherwise a counter in the
database that every commit moves on) is therefore a version of the whole
archive that each gunicorn worker reads on its own. Entries are keyed by
it, so a change makes every worker's old entries unreachable at once, with
no message between processes: Django's default cache here is each process's
memory.

The index commits after the database does, so an entry computed in between
is filed under the old version and is never served once the new one shows.
"""
import functools
import hashlib
import logging
import threading
import zlib

from diskcache import DjangoCache
from django.core.cache import caches
from django.core.signals import request_finished, request_started
from django.http import HttpResponse

logger = logging.getLogger(__name__)

# Entries of an old version are never read again; they leave the cache when
# it is full (LocMemCache culls) or after this long.
TIMEOUT = 3600
_MISSING = object()


class SharedFileCache(DjangoCache):
    """diskcache's Django backend (the "shared" cache), left open for the
    life of the process.

    Django closes every cache when a request finishes. For diskcache that
    closes its SQLite connection, which checkpoints the write-ahead log, and
    the next request opens it again: 2.1 ms for a read and a write against
    0.2 ms kept open, on every search page and article page. diskcache's
    author advises leaving it open; each thread has a connection of its own.
    """

    def close(self, **kwargs):
        pass


# One request reads the version once: a page asks for it for every entry it
# caches (the page, facet labels, related stories), and on a SolrCloud site
# each reading is a database query. Outside requests (commands, the shell)
# every call reads it.
_this_request = threading.local()


def _start_request(**_kwargs):
    _this_request.memo = {}


def _end_request(**_kwargs):
    _this_request.memo = None


request_started.connect(_start_request, dispatch_uid="newsroom-archive-version-start")
request_finished.connect(_end_request, dispatch_uid="newsroom-archive-version-end")


def archive_version():
    """The archive's version as the search engine tells it (a text that every
    process reading the same index agrees on), or None when the index cannot
    be read (then nothing is cached: better slow than stale)."""
    memo = getattr(_this_request, "memo", None)
    if memo is not None and "version" in memo:
        return memo["version"]
    from articles.search.engines import get_engine

    try:
        version = get_engine().version()
    except Exception:  # a missing or damaged index: the pages say so themselves
        logger.debug("no archive version: the search index cannot be read", exc_info=True)
        version = None
    if memo is not None:
        memo["version"] = version
    return version


def _read(store, key):
    """The entry, or _MISSING when there is none or the cache cannot be read
    (a full disk, a damaged file under var/cache): the value or page is then
    made again, never answered with an error."""
    try:
        return caches[store].get(key, _MISSING)
    except Exception as error:
        logger.warning("the %s cache could not be read, going without: %r", store, error)
        return _MISSING


def _write(store, key, value, timeout):
    try:
        caches[store].set(key, value, timeout)
    except Exception as error:
        logger.warning("the %s cache could not be written, going without: %r", store, error)


def cached(key, compute, version=_MISSING, timeout=TIMEOUT, store="default"):
    """compute(), remembered under `key` until the archive changes: in this
    process's memory, or with store="shared" in a file cache every worker
    reads (for what takes a search to make)."""
    if version is _MISSING:
        version = archive_version()
    if version is None:
        return compute()
    full_key = f"newsroom:{version}:{key}"
    value = _read(store, full_key)
    if value is _MISSING:
        value = compute()
        _write(store, full_key, value, timeout)
    return value


def _cacheable_request(request):
    from django.conf import settings

    # Pages are the same for every reader; a signed-in editor gets them
    # fresh anyway, in case a template ever shows something of theirs.
    return request.method in ("GET", "HEAD") and settings.SESSION_COOKIE_NAME not in request.COOKIES


def _cacheable_response(response):
    if response.status_code != 200 or response.streaming or response.cookies:
        return False
    vary = {name.strip().lower() for name in response.get("Vary", "").split(",") if name.strip()}
    # A page that varies on the cookie (the session was read) is someone's own.
    return vary <= {"accept-language", "accept-encoding"}


def cache_page_until_change(view=None, *, store="default"):
    """Serve a public page from the cache until the archive changes.

    The key is the full path with its query string and the language, so
    every page of a listing is an entry of its own. Only anonymous GET and
    HEAD requests are served from or stored in the cache, and only plain 200
    answers that set no cookie are stored. store="shared" keeps pages in the
    file cache every worker reads, for pages that take a search to make:
    a page made by one worker is then served by all.
    """
    if view is None:
        return functools.partial(cache_page_until_change, store=store)

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _cacheable_request(request):
            return view(request, *args, **kwargs)
        version = archive_version()
        if version is None:
            return view(request, *args, **kwargs)
        language = getattr(request, "LANGUAGE_CODE", "")
        # Hashed: a path can be any length and any bytes, a key cannot.
        path = hashlib.sha256(request.get_full_path().encode()).hexdigest()
        key = f"newsroom:{version}:page:{language}:{path}"
        stored = _read(store, key)
        if stored is not _MISSING:
            try:
                content, content_type, vary = stored
                content = zlib.decompress(content)
            except (TypeError, ValueError, zlib.error) as error:
                logger.warning("a damaged page in the %s cache, made again: %r", store, error)
            else:
                response = HttpResponse(content, content_type=content_type)
                if vary:
                    response["Vary"] = vary
                return response
        response = view(request, *args, **kwargs)
        if hasattr(response, "render") and callable(response.render) and not response.is_rendered:
            response.render()
        if _cacheable_response(response):
            # Compressed (a fifth of the size, 0.2 ms for a page of results):
            # more pages fit, and the file cache keeps them inline, not as files.
            content = zlib.compress(response.content, 1)
            _write(store, key, (content, response["Content-Type"], response.get("Vary")), TIMEOUT)
        return response

    return wrapper
