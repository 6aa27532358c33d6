"""Error pages and the health check.

The 500 page is rendered without the request's context processors and
without the database: whatever broke the page may have broken those too.
"""
import logging

from django.db import DatabaseError
from django.http import HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils import translation

from articles.models import Article

logger = logging.getLogger(__name__)

# Shown only if even the 500 template cannot be rendered.
BARE_SERVER_ERROR = (
    '<!doctype html><html lang="ar" dir="rtl"><meta charset="utf-8"><title>خطأ في الخادم</title>'
    "<h1>عذرًا، حدث خطأ في الخادم</h1><p>حاول مرة أخرى بعد قليل.</p></html>"
)


def page_not_found(request, exception=None):
    # A program calling the API gets JSON, like every other API answer.
    if request.path.startswith("/api/"):
        from articles.api import not_found

        return not_found(request.path)
    return render(request, "404.html", status=404)


def server_error(request):
    try:
        html = loader.get_template("500.html").render(
            {"LANGUAGE_CODE": translation.get_language(), "LANGUAGE_BIDI": translation.get_language_bidi()}
        )
    except Exception:
        logger.exception("the 500 page could not be rendered")
        html = BARE_SERVER_ERROR
    return HttpResponseServerError(html)


def healthz(request):
    """"ok" while the database answers (the Docker healthcheck asks every few seconds)."""
    try:
        Article.objects.exists()
    except DatabaseError:
        logger.exception("health check: the database does not answer")
        return HttpResponse("database unavailable", status=503, content_type="text/plain; charset=utf-8")
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")
