"""Which search engine this test run uses: the whole suite runs on Whoosh,
and the cluster pass of scripts/test runs a part of it again on SolrCloud."""
import pytest
from django.conf import settings


def on_solr():
    return settings.SEARCH_URL.startswith("solr://")


whoosh_only = pytest.mark.skipif(
    "on_solr()", reason="about the Whoosh engine itself (tests/whoosh/ has the rest of its kind)"
)
