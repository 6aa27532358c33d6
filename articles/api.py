"""The JSON API: search, and one article with its related stories.

GET /api/search?q=&source=&topic=&year=&sort=&page=
    {"count": total hits, "page": p, "num_pages": n,   (no q and no filter: count 0)
     "results": [{"id", "title", "url" (permalink path), "source" (name or null),
                  "published" (ISO date or null), "snippet", "score"}]}
    "snippet" is HTML: the article's text escaped, with the matched words
    wrapped in <mark>…</mark> and nothing else, ready to insert as HTML;
    strip the two tags for plain text.
GET /api/articles/<id>
    {"id", "title", "url", "source", "published", "lead", "body",
     "topics": [names], "related": [{"id", "title", "url"}]}

A bad parameter answers 400 and an unknown article 404, both as
{"error": "..."}; the text is UTF-8 JSON with Arabic left readable.
"""
import logging

from django.conf import settings
from django.http import JsonResponse

from articles.models import Article
from articles.search.service import SearchRequestError, parse_search_request, related_articles, search_articles

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/json; charset=utf-8"
RELATED_LIMIT = 5


def _json(data, status=200):
    return JsonResponse(data, status=status, content_type=CONTENT_TYPE, json_dumps_params={"ensure_ascii": False})


def _error(message, status):
    return _json({"error": message}, status=status)


def not_found(path):
    """The answer to an /api/ path that names nothing."""
    return _error(f"no such API endpoint: {path}", 404)


def _summary(article):
    return {"id": article.pk, "title": article.title, "url": article.get_absolute_url()}


def _published(article):
    return article.published.isoformat() if article.published else None


def search(request):
    try:
        search_request = parse_search_request(request.GET, page_size=settings.NEWSROOM_PAGE_SIZE)
    except SearchRequestError as error:
        return _error(str(error), 400)
    try:
        page = search_articles(search_request)
    except Exception:  # a broken index: an answer the client can retry, not a 500
        logger.exception("API search failed for %r", search_request.q[:200])
        return _error("search is unavailable, try again later", 503)
    return _json(
        {
            "count": page.total,
            "page": search_request.page,
            "num_pages": page.num_pages,
            "results": [
                {
                    **_summary(hit.article),
                    "source": hit.article.source.name if hit.article.source else None,
                    "published": _published(hit.article),
                    "snippet": str(hit.snippet),
                    "score": hit.score,
                }
                for hit in page.hits
            ],
        }
    )


def _related(article):
    try:
        return related_articles(article, RELATED_LIMIT)
    except Exception:  # the article is still worth answering without its related stories
        logger.exception("related stories of article %s could not be found", article.pk)
        return []


def article(request, pk):
    found = Article.objects.for_listing().filter(pk=pk).first()
    if found is None:
        return _error(f"no article {pk}", 404)
    return _json(
        {
            **_summary(found),
            "source": found.source.name if found.source else None,
            "published": _published(found),
            "lead": found.lead,
            "body": found.body,
            "topics": [topic.name for topic in found.topics.all()],
            "related": [_summary(related) for related in _related(found)],
        }
    )
