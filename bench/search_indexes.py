"""The stock baseline's SearchIndex: what a haystack user would declare for
articles with nothing but haystack's stock Whoosh backend.

One document field with everything a reader searches (title, lead, body,
source, topics) analysed by haystack's default (English StemmingAnalyzer,
stored), the title beside it, and the filter fields. Used only by the
"stock" connection of bench/settings.py; our own connection excludes it,
and the stock connection excludes ours (whose extra exact and skeleton
fields exist for our analyzer, and would only triple the stock build).
"""
from haystack import indexes

from articles.models import Article


class StockArticleIndex(indexes.SearchIndex, indexes.Indexable):
    text = indexes.CharField(document=True)
    title = indexes.CharField(model_attr="title")
    source = indexes.CharField(null=True, faceted=True)
    topics = indexes.MultiValueField(faceted=True)
    year = indexes.IntegerField(null=True, faceted=True)
    published = indexes.DateField(model_attr="published", null=True)

    def get_model(self):
        return Article

    def index_queryset(self, using=None):
        return Article.objects.for_listing().order_by("pk")

    def prepare_text(self, article):
        parts = [article.title, article.lead, article.body]
        if article.source:
            parts.append(article.source.name)
        parts.extend(topic.name for topic in article.topics.all())
        return "\n".join(part for part in parts if part)

    def prepare_source(self, article):
        return article.source.slug if article.source else None

    def prepare_topics(self, article):
        return [topic.slug for topic in article.topics.all()]

    def prepare_year(self, article):
        return article.published.year if article.published else None
