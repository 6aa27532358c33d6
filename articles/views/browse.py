"""Browsing pages (home, sources, topics, archive, about). Filled in by the web work."""
from django.http import HttpResponse


def _todo(request, **kwargs):
    return HttpResponse("TODO", content_type="text/plain")


home = source_list = source_detail = topic_list = topic_detail = _todo
archive_index = archive_year = archive_month = about = _todo
