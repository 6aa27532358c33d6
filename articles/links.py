"""Permalinks without a reverse() per link.

A results page links twenty articles and their sources, a reading page its
related stories. Django's reverse() walks the URL resolver and checks the
result against the route's pattern each time, some 30 microseconds a link.
Here the route is reversed once (per script prefix) with marker values, and
each link fills in the article's number and its slug, quoted as reverse()
quotes it. A slug the route could not take (empty, or with a slash) goes
through reverse() itself, which says so.
"""
from functools import lru_cache
from urllib.parse import quote

from django.urls import get_script_prefix, reverse

# What reverse() leaves unquoted in a path (django.urls.resolvers).
_SAFE = "!$&'()*+,;=/~:@"
_PK_MARK = 918273645
_SLUG_MARK = "slug-mark"


@lru_cache(maxsize=16)
def _route(name, prefix):
    """(before the pk, between pk and slug, after the slug) of a reversed route."""
    path = reverse(name, kwargs={"pk": _PK_MARK, "slug": _SLUG_MARK})
    before, rest = path.split(str(_PK_MARK), 1)
    between, after = rest.split(_SLUG_MARK, 1)
    return before, between, after


def article_url(pk, slug):
    """The path of an article's reading page, as reverse("articles:detail") gives it."""
    if not slug or "/" in slug or not isinstance(pk, int) or pk < 0:
        return reverse("articles:detail", kwargs={"pk": pk, "slug": slug})
    before, between, after = _route("articles:detail", get_script_prefix())
    return f"{before}{pk}{between}{quote(slug, safe=_SAFE)}{after}"


@lru_cache(maxsize=1024)
def _slug_url(name, prefix, slug):
    return reverse(name, kwargs={"slug": slug})


def slug_url(name, slug):
    """reverse(name, slug=slug), kept: sources and topics are few and linked on every page."""
    return _slug_url(name, get_script_prefix(), slug)
