"""Small helpers to create archive data in tests (names, not ids)."""
import datetime
import itertools

from articles.models import Article, Source, Topic

_counter = itertools.count(1)


def make_article(title=None, body=None, source="مصدر تجريبي", topics=(), published=None, url=None, lead=""):
    """Save an article with the given source and topic names, creating them as needed."""
    n = next(_counter)
    article = Article.objects.create(
        title=title or f"مقال تجريبي رقم {n}",
        body=body or f"نص المقال التجريبي رقم {n} عن الأخبار اليومية.",
        lead=lead,
        source=Source.objects.get_or_create(name=source)[0] if source else None,
        published=published if published is not None else datetime.date(2018, 5, 1),
        url=url,
    )
    for name in topics:
        article.topics.add(Topic.objects.get_or_create(name=name)[0])
    return article
