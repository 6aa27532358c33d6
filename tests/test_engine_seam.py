"""The seam between Newsroom and its search engines holds: only an engine's
own package imports its client library, and SEARCH_URL picks the engine."""
import ast
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from articles.search.engines import parse_search_url

REPO = Path(__file__).resolve().parent.parent
# Client libraries, and the one package allowed to import each.
ENGINE_LIBRARIES = {
    "whoosh": "articles/search/engines/whoosh/",
}
ENGINE_PACKAGES = ("articles.search.engines.whoosh", "articles.search.engines.solr")
# Indexes written before the engines had packages name their analyzer in
# articles.search.analysis; it hands them the Whoosh one (and nothing else).
OLD_INDEX_SHIM = "articles/search/analysis.py"


def imported_modules(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            # "from articles.search.engines import whoosh" names the package too.
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def application_sources():
    for folder in ("articles", "newsroom"):
        yield from sorted((REPO / folder).rglob("*.py"))
    yield REPO / "gunicorn.conf.py"


@pytest.mark.parametrize("library", sorted(ENGINE_LIBRARIES))
def test_only_the_engines_own_package_imports_its_client_library(library):
    allowed = ENGINE_LIBRARIES[library]
    offenders = [
        str(path.relative_to(REPO))
        for path in application_sources()
        if not str(path.relative_to(REPO)).startswith(allowed)
        and any(name == library or name.startswith(f"{library}.") for name in imported_modules(path))
    ]
    assert offenders == [], f"{library} imported outside {allowed}"


def test_outside_the_engines_nothing_reaches_into_an_engines_package():
    offenders = [
        str(path.relative_to(REPO))
        for path in application_sources()
        if not str(path.relative_to(REPO)).startswith("articles/search/engines/")
        and str(path.relative_to(REPO)) != OLD_INDEX_SHIM
        and any(name.startswith(ENGINE_PACKAGES) for name in imported_modules(path))
    ]
    assert offenders == [], "use articles.search.engines.get_engine() and the SearchEngine interface"


def test_the_finder_sees_the_imports_it_guards_against():
    # The test above would pass on any tree if imported_modules saw nothing.
    names = set(imported_modules(REPO / "articles/search/engines/whoosh/engine.py"))
    assert any(name.startswith("whoosh") for name in names)


def test_no_search_module_is_named_like_a_standard_library_module():
    import sys

    modules = {path.stem for path in (REPO / "articles" / "search").rglob("*.py")} - {"__init__"}
    assert modules & set(sys.stdlib_module_names) == set()


@pytest.mark.parametrize(
    ("url", "kind", "detail"),
    [
        ("/var/lib/newsroom/index", "whoosh", "/var/lib/newsroom/index"),
        ("whoosh:///var/lib/newsroom/index", "whoosh", "/var/lib/newsroom/index"),
        ("solr://127.0.0.1:8983/solr/news", "solr", (("127.0.0.1:8983",), "solr", "news")),
        ("solr://a:8983,b:8984/solr/news", "solr", (("a:8983", "b:8984"), "solr", "news")),
    ],
)
def test_search_url_picks_the_engine_and_where_it_is(url, kind, detail):
    location = parse_search_url(url)
    assert location.kind == kind
    if kind == "whoosh":
        assert location.path == detail
    else:
        assert (location.hosts, location.core_path, location.collection) == detail


@pytest.mark.parametrize("url", ["", "elastic://localhost:9200/news", "solr://localhost:8983", "whoosh://"])
def test_a_search_url_that_names_no_engine_or_place_is_refused_with_the_reason(url):
    with pytest.raises(ImproperlyConfigured, match="SEARCH_URL"):
        parse_search_url(url)
