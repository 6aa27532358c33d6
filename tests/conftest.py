"""Shared fixtures: a real search index (Whoosh on disk, or the cluster pass's
Solr collection), article factories, servers."""
import pytest

pytest_plugins = ["tests.servers"]


@pytest.fixture(scope="session", autouse=True)
def search_collection():
    """In the cluster pass, this test process's own Solr collection and alias
    (tests/settings.py names them), made before the first test and deleted
    after the last; nothing to do for Whoosh, whose folder is made on write."""
    from tests.engines import on_solr

    if not on_solr():
        yield None
        return
    from articles.search.engines import get_engine
    from tests.solr.conftest import drop_collections

    engine = get_engine()
    drop_collections(engine)  # what a killed earlier run of this worker left
    engine.setup()
    yield engine
    drop_collections(engine)


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test starts with an empty cache: cached pages and facet labels are
    keyed by index generation and ids, which separate tests reuse."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()
    yield


@pytest.fixture
def search_index(settings):
    """An empty Whoosh index in this test process's temporary folder.

    Articles saved inside the test reach it through the real signal
    processor once their transaction commits; with the plain `db` fixture,
    wrap saves in `django_capture_on_commit_callbacks(execute=True)` or call
    `indexing.sync_articles(...)`. Use `indexed_articles` for a ready set.
    """
    from articles.search import indexing

    indexing.clear()
    yield indexing
    indexing.clear()


@pytest.fixture
def make_article(db):
    """Create an article (source and topics by name) and return it."""
    from tests.factories import make_article as factory

    return factory


@pytest.fixture
def index_articles(search_index):
    """Index the given articles now, as the post-commit hook would."""

    def index(*articles):
        search_index.sync_articles([article.pk for article in articles])
        return articles

    return index
