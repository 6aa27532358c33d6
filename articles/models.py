"""The archive's domain: outlets (sources), topics and articles."""
from django.db import models, router, transaction
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from articles import links

SLUG_MAX_LENGTH = 200


def unicode_slug(text, max_length=SLUG_MAX_LENGTH):
    """A readable Arabic slug: Django's slugify keeps Arabic letters with allow_unicode."""
    slug = slugify(text, allow_unicode=True)[:max_length].strip("-")
    return slug or "article"


def free_slug(instance, text):
    """A slug for `instance` made from `text` that no other row of its model
    has yet: "bbc", then "bbc-2", "bbc-3"… (names that differ only in
    punctuation or case slugify alike)."""
    base = unicode_slug(text, SLUG_MAX_LENGTH - 8)
    others = type(instance)._default_manager.exclude(pk=instance.pk)
    slug, n = base, 1
    while others.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


class Source(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    slug = models.SlugField(_("slug"), max_length=SLUG_MAX_LENGTH, unique=True, allow_unicode=True)
    homepage = models.URLField(_("homepage"), max_length=500, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = free_slug(self, self.name)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return links.slug_url("articles:source", self.slug)


class Topic(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    slug = models.SlugField(_("slug"), max_length=SLUG_MAX_LENGTH, unique=True, allow_unicode=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = free_slug(self, self.name)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return links.slug_url("articles:topic", self.slug)


class ArticleQuerySet(models.QuerySet):
    """The archive's words for choosing articles, shared by views, feeds and the index."""

    def published(self):
        """Every article in the archive is public; newest first, undated last."""
        return self.order_by(models.F("published").desc(nulls_last=True), "-id")

    def by_source(self, source):
        return self.filter(source=source)

    def in_topic(self, topic):
        return self.filter(topics=topic)

    def in_year(self, year):
        return self.filter(published__year=year)

    def in_month(self, year, month):
        return self.filter(published__year=year, published__month=month)

    def for_listing(self):
        """What a list of article cards needs, in two queries whatever the page size."""
        return self.select_related("source").prefetch_related("topics")


class Article(models.Model):
    title = models.CharField(_("title"), max_length=500)
    slug = models.SlugField(_("slug"), max_length=SLUG_MAX_LENGTH, allow_unicode=True)
    lead = models.TextField(_("lead"), blank=True)
    body = models.TextField(_("body"))
    source = models.ForeignKey(
        Source,
        verbose_name=_("source"),
        related_name="articles",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    published = models.DateField(_("publication date"), null=True, blank=True, db_index=True)
    url = models.URLField(_("original URL"), max_length=1000, unique=True, null=True, blank=True)
    external_id = models.CharField(
        _("identifier in the imported collection"),
        max_length=200,
        unique=True,
        null=True,
        blank=True,
    )
    topics = models.ManyToManyField(Topic, verbose_name=_("topics"), related_name="articles", blank=True)
    fingerprint = models.CharField(_("fingerprint"), max_length=64, unique=True, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = [models.F("published").desc(nulls_last=True), "-id"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        # Imported on the command line or typed in the admin, the slug and the
        # fingerprint follow the text so that duplicates are caught either way.
        from articles.fingerprint import article_fingerprint

        if not self.slug:
            self.slug = unicode_slug(self.title)
        if not self.url:
            self.url = None
        if not self.external_id:
            self.external_id = None
        self.fingerprint = article_fingerprint(self.title, self.body)
        # The row and its search-queue entry (articles.signals) commit
        # together even when the caller (a shell, a script) has no transaction.
        with transaction.atomic(using=kwargs.get("using") or router.db_for_write(type(self), instance=self)):
            super().save(*args, **kwargs)

    def get_absolute_url(self):
        return links.article_url(self.pk, self.slug)

    @property
    def paragraphs(self):
        return [line.strip() for line in self.body.splitlines() if line.strip()]


class IndexOperation(models.Model):
    """An article whose search document must be brought up to date.

    Written by articles.signals in the same transaction as the change, so a
    committed change always leaves one behind and a rolled-back change never
    does. articles.search.index_queue deletes it only once the index holds the
    article's state as read after the change: a crash or a busy index in
    between leaves it for the next drain instead of losing the edit.
    """

    # A plain number, not a foreign key: deletions are queued too.
    article_pk = models.BigIntegerField(_("article id"))
    queued = models.DateTimeField(_("queued"), auto_now_add=True)
    attempts = models.PositiveIntegerField(_("failed attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("pending index operation")
        verbose_name_plural = _("pending index operations")

    def __str__(self):
        return f"article {self.article_pk}"


class ArchiveState(models.Model):
    """The archive's version: one row, moved on after every commit of the
    search index (articles.search.archive_state.bump).

    Caches are keyed by it (articles.caching), so when app servers on
    several machines share one database and one search cluster, a change
    made on any of them makes every server's cached pages of the old
    version unreachable at once. Whoosh, on one machine, keys them by its
    index's generation instead.
    """

    version = models.PositiveBigIntegerField(_("version"), default=0)
    changed = models.DateTimeField(_("changed"))

    class Meta:
        verbose_name = _("archive state")
        verbose_name_plural = _("archive state")

    def __str__(self):
        return f"version {self.version}"
