"""The production settings plus a second search connection, "stock": haystack's
own Whoosh engine (English StemmingAnalyzer, stored text, a new searcher per
query) with the SearchIndex a haystack user would declare
(bench/search_indexes.py), the baseline every benchmark measures us against
in the same run.

Its index lives next to ours in the data set's var dir; our signal processor
and service only ever use "default", which does not see the stock index.
"""
from newsroom.settings import *  # noqa: F401,F403
from newsroom.settings import HAYSTACK_CONNECTIONS, INSTALLED_APPS, VAR_DIR

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]

HAYSTACK_CONNECTIONS = {
    **HAYSTACK_CONNECTIONS,
    "default": {
        **HAYSTACK_CONNECTIONS["default"],
        "EXCLUDED_INDEXES": ["bench.search_indexes.StockArticleIndex"],
    },
    "stock": {
        "ENGINE": "haystack.backends.whoosh_backend.WhooshEngine",
        "PATH": str(VAR_DIR / "whoosh_stock"),
        "EXCLUDED_INDEXES": ["articles.search_indexes.ArticleIndex"],
    },
}
