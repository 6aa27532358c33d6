"""Keep the search index in step with the database.

Haystack's stock RealtimeSignalProcessor indexes on post_save, before the
admin has saved the article's topics, and ignores m2m changes. We collect
the touched articles and index them once the transaction commits, when the
article and its topics are all in the database.
"""
import logging
import threading

from django.db import transaction
from django.db.models import signals
from haystack.signals import BaseSignalProcessor

logger = logging.getLogger(__name__)


class ArticleSignalProcessor(BaseSignalProcessor):
    def setup(self):
        from articles.models import Article

        signals.post_save.connect(self.handle_article_save, sender=Article)
        signals.post_delete.connect(self.handle_article_delete, sender=Article)
        signals.m2m_changed.connect(self.handle_topics_change, sender=Article.topics.through)

    def teardown(self):
        from articles.models import Article

        signals.post_save.disconnect(self.handle_article_save, sender=Article)
        signals.post_delete.disconnect(self.handle_article_delete, sender=Article)
        signals.m2m_changed.disconnect(self.handle_topics_change, sender=Article.topics.through)

    def handle_article_save(self, sender, instance, **kwargs):
        self._after_commit(instance.pk)

    def handle_article_delete(self, sender, instance, **kwargs):
        self._after_commit(instance.pk)

    def handle_topics_change(self, sender, instance, action, reverse, pk_set, **kwargs):
        if not action.startswith("post_"):
            return
        if reverse:
            # A topic's article set changed (topic.articles.add(...)).
            for pk in pk_set or ():
                self._after_commit(pk)
        else:
            self._after_commit(instance.pk)

    def _after_commit(self, pk):
        # One index write per transaction, whatever the number of signals:
        # the first callback to run takes the whole set, the others find it
        # empty. A rolled-back transaction drops its callbacks; its pks then
        # go with the next flush, which re-reads them from the database.
        _pending.__dict__.setdefault("pks", set()).add(pk)
        transaction.on_commit(_flush)


_pending = threading.local()


def _flush():
    from articles.search import indexing

    pks = _pending.__dict__.pop("pks", set())
    if pks:
        indexing.sync_articles(pks)
