"""Browsing the archive without a query: home, sources, topics, the archive by date, about.

Every listing is one Article queryset verb plus for_listing() cut by a
Paginator, so a page costs the same few SQL queries whatever its size.
Counting the whole archive still grows with it (the archive index counts
100,000 articles by month in 0.4 s), so these pages are kept until the
archive changes (articles.caching.cache_page_until_change).
"""
import datetime

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count
from django.db.models.functions import ExtractMonth, ExtractYear
from django.http import Http404
from django.shortcuts import get_object_or_404, render

from articles.caching import cache_page_until_change
from articles.models import Article, Source, Topic

HOME_LATEST = 12
MIN_YEAR, MAX_YEAR = 1, 9999  # what datetime.date can hold


def listing_page(request, queryset):
    """The requested page of a listing.

    A page number that is not one (abc, 0, -3) shows the first page and one
    past the end shows the last: a reader following an old link gets a page.
    """
    try:
        number = max(int(request.GET.get("page", 1)), 1)
    except (TypeError, ValueError):
        number = 1
    return Paginator(queryset, settings.NEWSROOM_PAGE_SIZE).get_page(number)


def topics_with_counts():
    return Topic.objects.annotate(article_count=Count("articles")).filter(article_count__gt=0)


def sources_with_counts():
    return Source.objects.annotate(article_count=Count("articles")).filter(article_count__gt=0)


@cache_page_until_change
def home(request):
    return render(
        request,
        "articles/home.html",
        {
            "latest": Article.objects.published().for_listing()[:HOME_LATEST],
            "article_count": Article.objects.count(),
            "topics": topics_with_counts().order_by("-article_count", "name"),
            "sources": sources_with_counts().order_by("-article_count", "name"),
        },
    )


@cache_page_until_change
def source_list(request):
    return render(request, "articles/source_list.html", {"sources": sources_with_counts().order_by("name")})


@cache_page_until_change
def source_detail(request, slug):
    source = _by_slug(Source, slug)
    articles = Article.objects.by_source(source).published().for_listing()
    return render(request, "articles/source_detail.html", {"source": source, "page_obj": listing_page(request, articles)})


@cache_page_until_change
def topic_list(request):
    return render(request, "articles/topic_list.html", {"topics": topics_with_counts().order_by("name")})


@cache_page_until_change
def topic_detail(request, slug):
    topic = _by_slug(Topic, slug)
    articles = Article.objects.in_topic(topic).published().for_listing()
    return render(request, "articles/topic_detail.html", {"topic": topic, "page_obj": listing_page(request, articles)})


def _by_slug(model, slug):
    """The source or topic of this slug, or 404. No slug holds a NUL, and
    PostgreSQL refuses to look one up (an error where SQLite finds nothing)."""
    if "\x00" in slug:
        raise Http404
    return get_object_or_404(model, slug=slug)


def _month_counts(queryset):
    """[(year, month, count)] of the dated articles of `queryset`, newest year first."""
    rows = (
        queryset.filter(published__isnull=False)
        .annotate(year=ExtractYear("published"), month=ExtractMonth("published"))
        .values("year", "month")
        .annotate(count=Count("id"))
        .order_by("-year", "month")
    )
    return [(row["year"], row["month"], row["count"]) for row in rows]


def _years(month_counts):
    """Month counts grouped by year: [{"year", "count", "months": [{"month", "count"}]}]."""
    years = []
    for year, month, count in month_counts:
        if not years or years[-1]["year"] != year:
            years.append({"year": year, "count": 0, "months": []})
        years[-1]["count"] += count
        years[-1]["months"].append({"month": month, "count": count})
    return years


def _check_year(year):
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Http404("no such year")


@cache_page_until_change
def archive_index(request):
    return render(request, "articles/archive_index.html", {"years": _years(_month_counts(Article.objects.all()))})


@cache_page_until_change
def archive_year(request, year):
    _check_year(year)
    months = _years(_month_counts(Article.objects.in_year(year)))
    if not months:
        raise Http404("no articles in this year")
    articles = Article.objects.in_year(year).published().for_listing()
    return render(
        request,
        "articles/archive_year.html",
        {"year": year, "months": months[0]["months"], "page_obj": listing_page(request, articles)},
    )


def _neighbour_months(year, month):
    """The months before and after this one that have articles, as dates (or None)."""
    dated = Article.objects.filter(published__isnull=False)
    before = dated.filter(published__lt=datetime.date(year, month, 1))
    later = dated.filter(published__year__gt=year) | dated.filter(published__year=year, published__month__gt=month)
    return (
        before.order_by("-published").values_list("published", flat=True).first(),
        later.order_by("published").values_list("published", flat=True).first(),
    )


@cache_page_until_change
def archive_month(request, year, month):
    _check_year(year)
    if not 1 <= month <= 12:
        raise Http404("no such month")
    articles = Article.objects.in_month(year, month).published().for_listing()
    page_obj = listing_page(request, articles)
    if not page_obj.paginator.count:
        raise Http404("no articles in this month")
    previous_month, next_month = _neighbour_months(year, month)
    return render(
        request,
        "articles/archive_month.html",
        {
            "year": year,
            "month": month,
            "month_date": datetime.date(year, month, 1),
            "page_obj": page_obj,
            "previous_month": previous_month,
            "next_month": next_month,
        },
    )


@cache_page_until_change
def about(request):
    return render(
        request,
        "articles/about.html",
        {"article_count": Article.objects.count(), "source_count": Source.objects.count()},
    )
