"""Fixtures for the tests that run against a live SolrCloud.

They run in the cluster pass (eval "$(scripts/cluster up)" exports
SEARCH_URL=solr://...); tests/settings.py gives each test process a
collection alias of its own (<alias>_test_<worker>), which the session
fixture creates and deletes with its collections at the end.
"""

import os
import subprocess
from pathlib import Path

import pytest

from tests.engines import on_solr

REPO = Path(__file__).resolve().parent.parent.parent

needs_solr = pytest.mark.skipif(
    "not on_solr()",
    reason='needs a live SolrCloud: eval "$(scripts/cluster up)" exports SEARCH_URL=solr://...',
)


@pytest.fixture(scope="session")
def solr_engine(django_db_setup, django_db_blocker):
    """The SolrEngine of this test process, its collection and alias made."""
    if not on_solr():
        pytest.skip('needs a live SolrCloud: eval "$(scripts/cluster up)" exports SEARCH_URL=solr://...')
    from articles.search.engines import get_engine

    engine = get_engine()
    engine.setup()
    yield engine
    drop_collections(engine)


def drop_collections(engine):
    """Delete the alias and every collection of this test process."""
    admin = engine.admin
    targets = admin.alias_targets(engine.collection)
    if targets:
        admin.delete_alias(engine.collection)
    for name in set(targets) | {c for c in admin.collections() if c.startswith(engine.collection + "_")}:
        admin.delete_collection(name)


@pytest.fixture
def solr_index(solr_engine, search_index):
    """An empty collection for this test (emptied again after it); articles
    are indexed with search_index.sync_articles([...])."""
    return search_index


def cluster(*args):
    """scripts/cluster with these arguments (stop-node N, start-node N), on
    the cluster of `scripts/cluster up`: tests/settings.py points
    NEWSROOM_VAR_DIR at this test process's own folder, so the cluster's is
    named (NEWSROOM_CLUSTER_DIR, or the default var/cluster)."""
    env = dict(os.environ)
    env.setdefault("NEWSROOM_CLUSTER_DIR", str(REPO / "var" / "cluster"))
    return subprocess.run(
        [str(REPO / "scripts" / "cluster"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
