"""What the search index holds for an article (haystack discovers this module).

Text fields are analysed by the Arabic analyzer (see articles.search.analysis):
title, lead and the whole text by stems, the whole text again by exact word
forms and by consonant skeletons. How much each counts is decided at query
time (articles.search.query.FIELD_WEIGHTS). Source, topics and year are exact
values for filters and facet counts.
"""
from haystack import indexes

from articles.models import Article
from articles.search.fields import ArabicTextField, ExactField, ExactMultiValueField


class ArticleIndex(indexes.SearchIndex, indexes.Indexable):
    text = ArabicTextField(document=True)
    title = ArabicTextField(model_attr="title")
    lead = ArabicTextField(model_attr="lead")
    exact = ArabicTextField(form="exact")
    skeleton = ArabicTextField(form="skeleton")
    source = ExactField(null=True)
    topics = ExactMultiValueField()
    year = ExactField(null=True)
    published = indexes.DateField(model_attr="published", null=True)

    def get_model(self):
        return Article

    def index_queryset(self, using=None):
        return Article.objects.for_listing().order_by("pk")

    def read_queryset(self, using=None):
        return Article.objects.for_listing()

    def prepare_text(self, article):
        # Everything a reader might search for, title and lead included, so
        # that the body field alone finds an article; the title and lead
        # fields add their weight on top.
        parts = [article.title, article.lead, article.body]
        if article.source:
            parts.append(article.source.name)
        parts.extend(topic.name for topic in article.topics.all())
        return "\n".join(part for part in parts if part)

    # The same text, analysed by exact word forms and by skeletons (the
    # analyzer splits it once for the three fields).
    prepare_exact = prepare_text
    prepare_skeleton = prepare_text

    def prepare_source(self, article):
        return article.source.slug if article.source else None

    def prepare_topics(self, article):
        return [topic.slug for topic in article.topics.all()]

    def prepare_year(self, article):
        return str(article.published.year) if article.published else None
