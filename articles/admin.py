"""The admin, where editors correct and tag stories, in Arabic and right to left.

The language and direction come from Django's i18n (LANGUAGE_CODE "ar"); the
strings here are English msgids translated in articles/locale/ar.

Search must follow every change at once. Saving or deleting an article and
changing its topics go through articles.signals (post_save, post_delete,
m2m_changed), which indexes after commit. Two changes send no such signal and
are handled here: deleting a topic (its rows in the M2M table go by cascade)
and renaming a topic or a source (their slugs and names are in the documents).
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import transaction
from django.db import models
from django.db.models import Count, F
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from articles.forms import ArticleAdminForm, SourceAdminForm, TopicActionForm, TopicAdminForm
from articles.models import Article, Source, Topic

admin.site.site_header = _("Newsroom administration")
admin.site.site_title = _("Newsroom")
admin.site.index_title = _("Archive management")

# Topic changes are written in batches so that no single SQL statement holds
# more ids than SQLite accepts, whatever the size of a "select all" action.
BULK_BATCH_SIZE = 500
# How many titles the confirmation page lists before saying "and N more".
PREVIEW_TITLES = 20


def _batches(items, size=BULK_BATCH_SIZE):
    for start in range(0, len(items), size):
        yield items[start : start + size]


# An address typed without a scheme is taken as https (Django 6's default).
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}


class NulFreeSearch:
    """Search terms (the changelist's, the autocomplete's) lose their NULs:
    PostgreSQL refuses a query holding one, where SQLite finds nothing."""

    def get_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, search_term.replace("\x00", ""))


@admin.register(Topic)
class TopicAdmin(NulFreeSearch, admin.ModelAdmin):
    form = TopicAdminForm
    list_display = ["name", "slug", "article_count"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["name"]
    list_per_page = 100

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(article_count=Count("articles"))

    @admin.display(description=_("Articles"), ordering="article_count")
    def article_count(self, topic):
        url = reverse("admin:articles_article_changelist") + f"?topics__id__exact={topic.pk}"
        return format_html('<a href="{}">{}</a>', url, topic.article_count)


@admin.register(Source)
class SourceAdmin(NulFreeSearch, admin.ModelAdmin):
    form = SourceAdminForm
    formfield_overrides = HTTPS_URLS
    list_display = ["name", "slug", "homepage_link", "article_count"]
    search_fields = ["name", "slug", "homepage"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["name"]
    list_per_page = 100

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(article_count=Count("articles"))

    @admin.display(description=_("homepage"), ordering="homepage")
    def homepage_link(self, source):
        if not source.homepage:
            return "—"
        return format_html('<a href="{}" rel="noopener noreferrer" dir="ltr">{}</a>', source.homepage, source.homepage)

    @admin.display(description=_("Articles"), ordering="article_count")
    def article_count(self, source):
        url = reverse("admin:articles_article_changelist") + f"?source__id__exact={source.pk}"
        return format_html('<a href="{}">{}</a>', url, source.article_count)


@admin.register(Article)
class ArticleAdmin(NulFreeSearch, admin.ModelAdmin):
    form = ArticleAdminForm
    formfield_overrides = HTTPS_URLS
    list_display = ["title", "source", "published", "topic_list", "updated", "permalink"]
    list_display_links = ["title"]
    list_filter = ["source", "topics", "published"]
    date_hierarchy = "published"
    search_fields = ["title", "source__name", "=url", "=external_id"]
    search_help_text = _("Search titles and source names; paste an original URL to find its article.")
    autocomplete_fields = ["source", "topics"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["external_id", "fingerprint", "created", "updated"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "lead", "body"]}),
        (_("Classification"), {"fields": ["source", "published", "topics"]}),
        (_("Origin"), {"fields": ["url", "external_id", "fingerprint", "created", "updated"]}),
    ]
    list_per_page = 50
    ordering = [F("published").desc(nulls_last=True), "-id"]
    actions = ["add_topic", "remove_topic"]
    save_on_top = True

    def get_queryset(self, request):
        # Source and topics of a whole page in two queries, whatever the page size.
        return super().get_queryset(request).for_listing()

    @admin.display(description=_("topics"))
    def topic_list(self, article):
        changelist = reverse("admin:articles_article_changelist")
        return format_html_join(
            "، ",
            '<a href="{}?topics__id__exact={}">{}</a>',
            ((changelist, topic.pk, topic.name) for topic in article.topics.all()),
        ) or "—"

    @admin.display(description=_("On the site"))
    def permalink(self, article):
        return format_html('<a href="{}">{}</a>', article.get_absolute_url(), _("View"))

    # ------------------------------------------------------------------
    # Bulk topic actions, each with a page to choose the topic.

    @admin.action(permissions=["change"], description=_("Add a topic to the selected articles"))
    def add_topic(self, request, queryset):
        return self._topic_action(request, queryset, adding=True)

    @admin.action(permissions=["change"], description=_("Remove a topic from the selected articles"))
    def remove_topic(self, request, queryset):
        return self._topic_action(request, queryset, adding=False)

    def _topic_action(self, request, queryset, adding):
        form = TopicActionForm(request.POST if "apply" in request.POST else None, allow_new=adding)
        if form.is_bound and form.is_valid():
            # ids only: the changelist's queryset prefetches topics we do not need.
            pks = list(queryset.prefetch_related(None).order_by().values_list("pk", flat=True))
            with transaction.atomic():
                if adding:
                    topic, created = form.get_or_create_topic()
                    changed = self._add_topic(topic, pks)
                else:
                    topic, created = form.cleaned_data["topic"], False
                    changed = self._remove_topic(topic, pks)
            self._report(request, topic, created, adding, changed, len(pks) - changed)
            return None  # back to the changelist, filters kept
        count = queryset.count()
        context = {
            **self.admin_site.each_context(request),
            "title": _("Add a topic") if adding else _("Remove a topic"),
            "subtitle": None,
            "opts": self.model._meta,
            "form": form,
            "media": self.media + form.media,
            "adding": adding,
            "action_name": "add_topic" if adding else "remove_topic",
            "selected_pks": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "preview": list(queryset.select_related(None).prefetch_related(None).only("pk", "title")[:PREVIEW_TITLES]),
            "count": count,
            "more": max(count - PREVIEW_TITLES, 0),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/articles/article/topic_action.html", context)

    @staticmethod
    def _add_topic(topic, pks):
        """Tag the articles; m2m_changed (reverse, pk_set) sends them to the index."""
        added = 0
        for batch in _batches(pks):
            tagged = set(topic.articles.filter(pk__in=batch).values_list("pk", flat=True))
            new = [pk for pk in batch if pk not in tagged]
            if new:
                topic.articles.add(*new)
                added += len(new)
        return added

    @staticmethod
    def _remove_topic(topic, pks):
        """Untag only the articles that had the topic, so only they are reindexed."""
        removed = 0
        for batch in _batches(pks):
            tagged = list(topic.articles.filter(pk__in=batch).values_list("pk", flat=True))
            if tagged:
                topic.articles.remove(*tagged)
                removed += len(tagged)
        return removed

    def _report(self, request, topic, created, adding, changed, unchanged):
        params = {"topic": topic.name, "count": changed}
        if created:
            self.message_user(request, _("Created the topic “%(topic)s”.") % params, messages.SUCCESS)
        if adding:
            message = ngettext(
                "Added the topic “%(topic)s” to %(count)d article.",
                "Added the topic “%(topic)s” to %(count)d articles.",
                changed,
            )
            unchanged_message = ngettext(
                "%(count)d of the selected articles already had it.",
                "%(count)d of the selected articles already had it.",
                unchanged,
            )
        else:
            message = ngettext(
                "Removed the topic “%(topic)s” from %(count)d article.",
                "Removed the topic “%(topic)s” from %(count)d articles.",
                changed,
            )
            unchanged_message = ngettext(
                "%(count)d of the selected articles did not have it.",
                "%(count)d of the selected articles did not have it.",
                unchanged,
            )
        self.message_user(request, message % params, messages.SUCCESS if changed else messages.WARNING)
        if unchanged:
            self.message_user(request, unchanged_message % {"count": unchanged}, messages.INFO)
