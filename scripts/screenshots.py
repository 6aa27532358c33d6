#!/usr/bin/env python3
"""Refresh the README's screenshots (docs/screenshots/*.png) from the browser tests.

The browser tests photograph the main pages as they walk through them (home,
search with facets, an article, the admin; desktop 1280x900 and phone
390x844). With NEWSROOM_SCREENSHOTS set they also write those pictures to
docs/screenshots/, so the README shows what the tests saw, and only when the
tests that took them passed their checks too.

    .venv/bin/python scripts/screenshots.py      (needs /usr/bin/chromium)
"""
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The tests that save "home", "search" (with its facets), "article" and "admin", desktop and phone.
TESTS = [
    "tests/browser/test_search_flow.py::test_search_then_refine_by_source",
    "tests/browser/test_search_flow.py::test_open_a_result_then_a_related_story",
    "tests/browser/test_search_flow.py::test_main_flow_on_a_phone",
    "tests/browser/test_admin_tagging.py::test_bulk_add_a_new_topic_then_find_the_story_by_it",
    "tests/browser/test_admin_tagging.py::test_admin_on_a_phone",
]
# Settings of a real archive must not leak into the tests' own served apps.
LEAKY = ("NEWSROOM_VAR_DIR", "DATABASE_URL", "WHOOSH_INDEX_PATH", "STATIC_ROOT", "SECRET_KEY", "DEBUG",
         "DJANGO_SETTINGS_MODULE")


def main():
    env = {name: value for name, value in os.environ.items() if name not in LEAKY}
    env["NEWSROOM_SCREENSHOTS"] = "1"
    command = [sys.executable, "-m", "pytest", "-n", "0", "-q", "-p", "no:cacheprovider", *TESTS, *sys.argv[1:]]
    done = subprocess.run(command, cwd=REPO, env=env)
    if done.returncode == 0:
        print(f"screenshots written to {REPO / 'docs' / 'screenshots'}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
