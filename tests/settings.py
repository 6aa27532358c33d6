"""Cheap, isolated settings for the test suite.

Each test process gets its own temporary var/ (database files, Whoosh index),
so parallel workers never share an index.
"""
import os
import tempfile

# Always a fresh folder, never one inherited through the environment: pytest's
# main process imports these settings too, and xdist workers inherit its
# environment, so a shared NEWSROOM_VAR_DIR would make them share one index.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
os.environ["NEWSROOM_VAR_DIR"] = tempfile.mkdtemp(prefix=f"newsroom-test-{_WORKER}-")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
# The shared caches stay files in that folder on the cluster pass too: a Solr
# SEARCH_URL would make them database caches, which conftest's fresh_cache
# cannot clear in tests without a database. test_archive_state.py tests those.
os.environ["SHARED_CACHE_URL"] = "files"
os.environ.setdefault("DEBUG", "0")

from newsroom.settings import *  # noqa: E402,F401,F403
from newsroom.settings import HAYSTACK_CONNECTIONS, SEARCH_URL, VAR_DIR  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
if SEARCH_URL.startswith("solr://"):
    # The cluster pass (scripts/test after scripts/cluster up): a collection of
    # this test process's own, made by the session fixture in tests/conftest.py.
    SEARCH_URL = f"{SEARCH_URL}_test_{_WORKER}"
else:
    SEARCH_URL = str(VAR_DIR / "whoosh_index")
    HAYSTACK_CONNECTIONS["default"]["PATH"] = SEARCH_URL
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
