"""The production settings plus a second search connection, "stock": haystack's
own Whoosh engine (English StemmingAnalyzer, stored text, a new searcher per
query), the baseline every benchmark measures us against in the same run.

Its index lives next to ours in the data set's var dir; our signal processor
and service only ever use "default".
"""
from newsroom.settings import *  # noqa: F401,F403
from newsroom.settings import HAYSTACK_CONNECTIONS, VAR_DIR

HAYSTACK_CONNECTIONS = {
    **HAYSTACK_CONNECTIONS,
    "stock": {
        "ENGINE": "haystack.backends.whoosh_backend.WhooshEngine",
        "PATH": str(VAR_DIR / "whoosh_stock"),
    },
}
