"""Which search engine this test run uses: the whole suite runs on Whoosh,
and the cluster pass of scripts/test runs a part of it again on SolrCloud."""
import pytest
from django.conf import settings


def on_solr():
    return settings.SEARCH_URL.startswith("solr://")


whoosh_only = pytest.mark.skipif(
    "on_solr()", reason="about the Whoosh engine itself (tests/whoosh/ has the rest of its kind)"
)


def page_queries(captured):
    """The SQL of a request's queries other than the archive version's: on a
    SolrCloud site that version is a row in the database, read once a request
    (articles.caching.archive_version), in a savepoint inside a test's
    transaction. Asserts it is read at most once."""
    statements = [query["sql"] for query in captured]
    version_reads = [sql for sql in statements if "articles_archivestate" in sql]
    assert len(version_reads) <= 1, version_reads
    return [sql for sql in statements if "articles_archivestate" not in sql and "SAVEPOINT" not in sql]
