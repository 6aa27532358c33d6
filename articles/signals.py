"""Keep the search index in step with the database.

Each change to an article (admin, import, API, shell, loaddata) queues the
article in the same transaction (articles.search.index_queue), and the queue is
drained once the transaction commits, when the article and its topics are
all in the database. Haystack's stock RealtimeSignalProcessor instead writes
on post_save, before the admin has saved the topics, ignores m2m changes,
and loses the write when another worker holds Whoosh's lock.

Topics and sources are part of each article's document (names in the text,
slugs for filters), so renaming one re-queues its articles, and deleting a
topic (whose links go by cascade, without m2m_changed) does too.
"""
from django.db.models import signals
from haystack.signals import BaseSignalProcessor

from articles.search import index_queue as queue

# What a topic or a source contributes to its articles' documents.
INDEXED_FIELDS = ("name", "slug")


class ArticleSignalProcessor(BaseSignalProcessor):
    def _connections(self):
        from articles.models import Article, Source, Topic

        return [
            (signals.post_save, self.handle_article_save, Article),
            (signals.post_delete, self.handle_article_delete, Article),
            (signals.m2m_changed, self.handle_topics_change, Article.topics.through),
            (signals.pre_save, self.remember_indexed_fields, Topic),
            (signals.pre_save, self.remember_indexed_fields, Source),
            (signals.post_save, self.handle_label_save, Topic),
            (signals.post_save, self.handle_label_save, Source),
            (signals.pre_delete, self.handle_topic_delete, Topic),
        ]

    def setup(self):
        for signal, receiver, sender in self._connections():
            signal.connect(receiver, sender=sender)

    def teardown(self):
        for signal, receiver, sender in self._connections():
            signal.disconnect(receiver, sender=sender)

    # Articles ---------------------------------------------------------------

    def handle_article_save(self, sender, instance, using, **kwargs):
        queue.enqueue([instance.pk], using=using)

    def handle_article_delete(self, sender, instance, using, **kwargs):
        queue.enqueue([instance.pk], using=using)

    def handle_topics_change(self, sender, instance, action, reverse, pk_set, using, **kwargs):
        if not reverse:
            # article.topics.add/remove/set/clear
            if action.startswith("post_"):
                queue.enqueue([instance.pk], using=using)
        elif action == "pre_clear":
            # topic.articles.clear(): the articles are unknown afterwards.
            queue.enqueue(instance.articles.using(using).values_list("pk", flat=True), using=using)
        elif action in ("post_add", "post_remove"):
            queue.enqueue(pk_set or (), using=using)

    # Topics and sources ------------------------------------------------------

    def remember_indexed_fields(self, sender, instance, raw, using, **kwargs):
        previous = None
        if instance.pk is not None and not raw:
            previous = sender._default_manager.using(using).filter(pk=instance.pk).values(*INDEXED_FIELDS).first()
        instance._indexed_fields_before = previous

    def handle_label_save(self, sender, instance, created, raw, using, **kwargs):
        if created:
            return
        previous = getattr(instance, "_indexed_fields_before", None)
        current = {name: getattr(instance, name) for name in INDEXED_FIELDS}
        if raw or previous != current:
            queue.enqueue(instance.articles.using(using).values_list("pk", flat=True), using=using)

    def handle_topic_delete(self, sender, instance, using, **kwargs):
        queue.enqueue(instance.articles.using(using).values_list("pk", flat=True), using=using)
