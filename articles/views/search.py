"""The search page: it reads the parameters, calls the search service, renders.

A parameter a reader cannot have meant (page=abc, year=zz) is dropped and
named on the page, which answers 400 with the results of what is left; any
query text at all gets a page.

Pages are kept until the archive changes, in the cache every worker reads
(articles.caching): a query many readers ask costs one search per change.
"""
import logging

from django.conf import settings
from django.http import QueryDict
from django.shortcuts import render

from articles.caching import cache_page_until_change
from articles.models import Source, Topic
from articles.search.service import SearchRequestError, parse_search_request, search_articles
from articles.views.browse import sources_with_counts, topics_with_counts

logger = logging.getLogger(__name__)

PARAMETERS = ("q", "source", "topic", "year", "sort", "page")


def _usable(name, value):
    try:
        parse_search_request({name: value})
    except SearchRequestError:
        return False
    return True


def clean_parameters(query):
    """The search parameters of a request, and the ones left out as problems.

    Only the known parameters, one value each, are kept: the page's links
    (facets, sort, pages) are built from these, never from raw request.GET,
    so a bad value is not carried from link to link.
    """
    params = QueryDict(mutable=True)
    problems = []
    for name in PARAMETERS:
        value = query.get(name, "")
        if not value.strip():
            continue
        if name != "q" and not _usable(name, value):
            problems.append({"parameter": name, "value": value[:40]})
            continue
        params[name] = value
    return params, problems


def _chosen_label(results, name, value):
    """How a chosen filter reads: its facet's label, or the value itself when no hit has it."""
    if not value:
        return ""
    for facet in results.facets.get(name, ()):
        if facet.value == value:
            return facet.label
    model = {"source": Source, "topic": Topic}[name]
    return model.objects.filter(slug=value).values_list("name", flat=True).first() or value


@cache_page_until_change(store="shared")
def search_page(request):
    params, problems = clean_parameters(request.GET)
    status = 400 if problems else 200
    try:
        search_request = parse_search_request(params, page_size=settings.NEWSROOM_PAGE_SIZE)
    except SearchRequestError:  # each value passed alone; kept for safety against combinations
        params, search_request = QueryDict(mutable=True), parse_search_request({})
        problems.append({"parameter": "combination", "value": ""})
        status = 400

    context = {"params": params, "problems": problems, "query": search_request.q, "search_request": search_request}
    searching = search_request.q or search_request.source or search_request.topic or search_request.year
    if not searching:
        context.update(
            topics=topics_with_counts().order_by("-article_count", "name"),
            sources=sources_with_counts().order_by("-article_count", "name"),
        )
        return render(request, "articles/search_start.html", context, status=status)

    try:
        results = search_articles(search_request)
    except Exception:  # a broken index: say so instead of a server error
        logger.exception("search failed for %r", search_request.q[:200])
        return render(request, "articles/search_unavailable.html", context, status=503)

    context["results"] = results
    context["has_facets"] = any(results.facets.get(name) for name in ("source", "topic", "year"))
    context["chosen_source"] = _chosen_label(results, "source", search_request.source)
    context["chosen_topic"] = _chosen_label(results, "topic", search_request.topic)
    # An old link to page 9 of what is now two pages: say so and link back.
    context["past_the_end"] = results.total > 0 and search_request.page > results.num_pages
    return render(request, "articles/search_results.html", context, status=status)
