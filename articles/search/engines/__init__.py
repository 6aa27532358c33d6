"""The search engine this site uses, chosen by one setting: SEARCH_URL.

    /var/lib/newsroom/index            the Whoosh engine, index in that folder
    whoosh:///var/lib/newsroom/index   the same, spelled as a URL
    solr://h1:8983,h2:8983/solr/news   SolrCloud: any of these nodes, the
                                       collection (an alias) named last

Everything else in Newsroom calls `get_engine()` and the methods of
articles.search.engines.base.SearchEngine; only an engine's own package
imports its client library (whoosh; Solr's HTTP API).
"""
import threading
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from articles.search.engines.base import (  # noqa: F401  (the seam's names, for callers)
    FACET_FIELDS,
    EngineHit,
    EngineQuery,
    EngineResults,
    EngineUnavailable,
    IndexBusy,
    IndexedDocument,
    SearchEngine,
)


@dataclass(frozen=True)
class SearchLocation:
    kind: str                 # "whoosh" | "solr"
    path: str = ""            # whoosh: the index folder
    hosts: tuple = ()         # solr: ("host:port", ...)
    core_path: str = "solr"   # solr: the path Solr is served under
    collection: str = ""      # solr: the collection or alias


def parse_search_url(url):
    """A SearchLocation from SEARCH_URL, or ImproperlyConfigured saying why."""
    url = (url or "").strip()
    if not url:
        raise ImproperlyConfigured("SEARCH_URL is empty: give a folder for Whoosh or solr://host:port/solr/collection")
    if "://" not in url:
        return SearchLocation("whoosh", path=url)
    parts = urlsplit(url)
    if parts.scheme == "whoosh":
        path = unquote(parts.path)
        if not path:
            raise ImproperlyConfigured(f"SEARCH_URL {url!r} names no folder (whoosh:///path/to/index)")
        return SearchLocation("whoosh", path=path)
    if parts.scheme == "solr":
        hosts = tuple(host.strip() for host in parts.netloc.split(",") if host.strip())
        segments = [segment for segment in parts.path.split("/") if segment]
        if not hosts or len(segments) < 2:
            raise ImproperlyConfigured(
                f"SEARCH_URL {url!r} should look like solr://host:8983[,host2:8983]/solr/<collection>"
            )
        return SearchLocation("solr", hosts=hosts, core_path="/".join(segments[:-1]), collection=segments[-1])
    raise ImproperlyConfigured(f"SEARCH_URL {url!r}: the engine {parts.scheme!r} is not one of whoosh, solr")


_engines = {}
_engines_lock = threading.Lock()


def _make_engine(location):
    if location.kind == "whoosh":
        from articles.search.engines.whoosh.engine import WhooshEngine

        return WhooshEngine(location.path)
    from articles.search.engines.solr.engine import SolrEngine

    return SolrEngine(
        hosts=list(location.hosts),
        core_path=location.core_path,
        collection=location.collection,
        timeout=getattr(settings, "SOLR_TIMEOUT", 10),
    )


def get_engine():
    """This process's engine for settings.SEARCH_URL (one per URL, kept: it
    holds open searchers and connections)."""
    url = settings.SEARCH_URL
    engine = _engines.get(url)
    if engine is None:
        with _engines_lock:
            engine = _engines.get(url)
            if engine is None:
                engine = _engines[url] = _make_engine(parse_search_url(url))
    return engine
