"""Template helpers for Newsroom's pages: dates, pagination, the site's name.

Nothing here touches the database or the request, so the error pages (500
included) can use every tag.
"""
import datetime
from functools import lru_cache

from django import template
from django.conf import settings
from django.http import QueryDict
from django.urls import reverse
from django.template.defaultfilters import date as date_filter
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language

register = template.Library()

# How many page numbers the pager shows around the current one, and at each end.
PAGER_AROUND = 2
PAGER_ENDS = 1


@register.simple_tag
def site_name():
    return settings.NEWSROOM_SITE_NAME


@register.simple_tag
def published_time(day, css_class="date"):
    """A <time> element with the day in words of the active language ("5 مارس 2018")."""
    if not day:
        return ""
    return _time_element(day, css_class, get_language())


@lru_cache(maxsize=4096)
def _time_element(day, css_class, language):
    # Kept per day and language: a page of results shows twenty dates, and
    # formatting one in words goes through the translation catalogue.
    return format_html(
        '<time class="{}" datetime="{}">{}</time>',
        css_class,
        day.isoformat(),
        date_filter(day, "j F Y"),
    )


# One search hit, as the results list shows it. Written here, not as an
# included template: a results page has twenty of them, and the template
# engine spent some 100 microseconds on each (lookups, tags, escaping), a
# tenth of a search page's time at 100,000 articles.
_RESULT_ITEM = (
    '<li>\n<article class="result">\n'
    '<h2 class="card-title"><a href="{}">{}</a></h2>\n'
    '<div class="meta">\n{} {}\n</div>\n'
    '<p class="snippet">{}</p>\n'
    "</article>\n</li>"
)


@register.simple_tag
def result_items(hits):
    """The <li> of each search hit: its marked headline linked to the
    article, its source and date, its marked snippet."""
    return format_html_join("\n", _RESULT_ITEM, (_result_item(hit) for hit in hits))


def _result_item(hit):
    article = hit.article
    source = article.source
    source_link = (
        format_html('<a class="meta-source" href="{}"><bdi>{}</bdi></a>', source.get_absolute_url(), source.name)
        if source else ""
    )
    return (article.get_absolute_url(), hit.title_html, source_link, published_time(article.published), hit.snippet)


@register.filter
def month_name(month):
    """The name of month 1-12 in the active language (مارس for 3)."""
    try:
        return date_filter(datetime.date(2000, int(month), 1), "F")
    except (TypeError, ValueError):
        return ""


@register.simple_tag
def page_window(number, num_pages):
    """Page numbers to show in a pager, None where numbers are left out.

    page_window(7, 20) -> [1, None, 5, 6, 7, 8, 9, None, 20]
    """
    shown = set(range(1, min(PAGER_ENDS, num_pages) + 1))
    shown |= set(range(max(1, num_pages - PAGER_ENDS + 1), num_pages + 1))
    shown |= set(range(max(1, number - PAGER_AROUND), min(num_pages, number + PAGER_AROUND) + 1))
    window, previous = [], 0
    for page in sorted(shown):
        if page - previous > 1:
            window.append(None)
        window.append(page)
        previous = page
    return window


@register.filter
def web_url(url):
    """The URL if it is an http(s) address, else "": imported data never becomes a javascript: link."""
    url = (url or "").strip()
    return url if url.lower().startswith(("http://", "https://")) else ""


# The main navigation: each section's own page, then the pages inside it.
NAV_SECTIONS = {
    "home": ("home",),
    "topics": ("topics", "topic"),
    "sources": ("sources", "source"),
    "archive": ("archive", "archive-year", "archive-month"),
    "about": ("about",),
}


@register.simple_tag(takes_context=True)
def nav_current(context, section):
    """aria-current for a main navigation link: "page" on the section's page, "true" inside it."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    name = getattr(match, "url_name", None)
    names = NAV_SECTIONS[section]
    if name not in names:
        return ""
    return format_html(' aria-current="{}"', "page" if name == names[0] else "true")


@register.simple_tag
def search_url(**params):
    """The search page with these parameters: {% search_url topic=topic.slug %}."""
    query = QueryDict(mutable=True)
    for name, value in params.items():
        if value not in (None, ""):
            query[name] = value
    url = reverse("articles:search")
    return f"{url}?{query.urlencode()}" if query else url
