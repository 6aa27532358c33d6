"""The reading page of one article, at its permalink /articles/<id>/<slug>/."""
import logging

from django.http import HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, render

from articles.models import Article
from articles.search.service import related_articles

logger = logging.getLogger(__name__)

RELATED_LIMIT = 5


def _related(article):
    """Related stories from the index; the article is still worth reading without them."""
    try:
        return related_articles(article, RELATED_LIMIT)
    except Exception:  # a broken or missing index must not hide the article
        logger.exception("related stories of article %s could not be found", article.pk)
        return []


def _standfirst_and_paragraphs(article):
    """The lead to show above the body, and the body's paragraphs without a repeat of it.

    Imported articles take their lead from the body's first paragraph; an
    editor may also write a lead of its own in the admin.
    """
    paragraphs = article.paragraphs
    lead = " ".join(article.lead.split())
    if paragraphs and lead == " ".join(paragraphs[0].split()):
        return paragraphs[0], paragraphs[1:]
    return lead, paragraphs


def article_detail(request, pk, slug=None):
    article = get_object_or_404(Article.objects.for_listing(), pk=pk)
    # Django hands the slug over already unquoted, so an Arabic slug compares
    # as text; the redirect target is the percent-encoded canonical path.
    if slug != article.slug:
        return HttpResponsePermanentRedirect(article.get_absolute_url())
    standfirst, paragraphs = _standfirst_and_paragraphs(article)
    description = standfirst or (paragraphs[0] if paragraphs else "")
    return render(
        request,
        "articles/article_detail.html",
        {
            "article": article,
            "standfirst": standfirst,
            "paragraphs": paragraphs,
            "description": description,
            "topics": list(article.topics.all()),
            "related": _related(article),
            "canonical_url": request.build_absolute_uri(article.get_absolute_url()),
        },
    )
