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

from articles import search_indexes as ours  # a module, so haystack does not collect ArticleIndex here twice
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

    # The same rows, text and filter values as our index: only the analysis differs.
    index_queryset = ours.ArticleIndex.index_queryset
    prepare_text = ours.ArticleIndex.prepare_text
    prepare_source = ours.ArticleIndex.prepare_source
    prepare_topics = ours.ArticleIndex.prepare_topics

    def prepare_year(self, article):
        return article.published.year if article.published else None
