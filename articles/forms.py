"""Forms of the admin, where editors type and tag stories.

Every rule the database enforces (unique fingerprint, URL, slugs) is checked
here first, so an editor gets an Arabic error next to the field instead of an
IntegrityError page.
"""
from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.db import models
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from articles.arabic import normalize
from articles.fingerprint import article_fingerprint
from articles.models import SLUG_MAX_LENGTH, Article, Source, Topic, unicode_slug


def _same_name_key(name):
    """Names that differ only by hamza, diacritics, ta marbuta or spacing are one name."""
    return " ".join(normalize(name).split())


def find_same_name(model, name, exclude_pk=None):
    """The Topic or Source whose name is `name` as a reader would read it, or None."""
    key = _same_name_key(name)
    exact = model.objects.filter(name=name).exclude(pk=exclude_pk).first()
    if exact:
        return exact
    # Few enough rows (topics, outlets) to compare in Python; the DB has no
    # normalised column and does not need one for this.
    for pk, other_name in model.objects.exclude(pk=exclude_pk).values_list("pk", "name").iterator():
        if _same_name_key(other_name) == key:
            return model.objects.get(pk=pk)
    return None


def unique_slug(model, text, exclude_pk=None):
    """A free Arabic slug for `text`: the slug, or the slug with -2, -3... appended."""
    base = unicode_slug(text)
    taken = set(
        model.objects.filter(slug__startswith=base).exclude(pk=exclude_pk).values_list("slug", flat=True)
    )
    slug, n = base, 1
    while slug in taken:
        n += 1
        suffix = f"-{n}"
        slug = base[: SLUG_MAX_LENGTH - len(suffix)] + suffix
    return slug


def https_formfield(db_field, **kwargs):
    """A form field for a model field; an address typed without a scheme is taken as https."""
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


def _change_link(obj):
    """An escaped link to an object's change page, for error messages."""
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, str(obj))


class NamedSlugAdminForm(forms.ModelForm):
    """Topic and Source: the slug may be left empty (made from the name), and a
    name that reads the same as an existing one is refused rather than split
    the archive in two tags."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = _("Leave empty to make it from the name.")

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        other = find_same_name(self._meta.model, name, exclude_pk=self.instance.pk)
        if other is not None and other.name != name:
            raise forms.ValidationError(
                format_html(
                    "{} {}",
                    _("A %(model)s with nearly the same name already exists:")
                    % {"model": self._meta.model._meta.verbose_name},
                    _change_link(other),
                ),
                code="same_name",
            )
        return name

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("slug") and cleaned.get("name"):
            cleaned["slug"] = unique_slug(self._meta.model, cleaned["name"], exclude_pk=self.instance.pk)
        return cleaned


class TopicAdminForm(NamedSlugAdminForm):
    class Meta:
        formfield_callback = https_formfield
        model = Topic
        fields = ["name", "slug"]


class SourceAdminForm(NamedSlugAdminForm):
    class Meta:
        formfield_callback = https_formfield
        model = Source
        fields = ["name", "slug", "homepage"]


class ArticleAdminForm(forms.ModelForm):
    """An article typed or corrected by an editor.

    The same text (as the import fingerprints it) or the same original URL as
    another article is a duplicate: the form names that article and links to it.
    """

    class Meta:
        formfield_callback = https_formfield
        model = Article
        fields = ["title", "slug", "lead", "body", "source", "published", "topics", "url"]
        widgets = {
            "title": forms.TextInput(attrs={"class": "vLargeTextField", "dir": "auto"}),
            "lead": forms.Textarea(attrs={"rows": 3, "class": "vLargeTextField", "dir": "auto"}),
            "body": forms.Textarea(attrs={"rows": 20, "class": "vLargeTextField", "dir": "auto"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            # Article.save() makes it from the title (Arabic letters kept).
            self.fields["slug"].required = False
            self.fields["slug"].help_text = _("Leave empty to make it from the title.")

    def clean_url(self):
        url = self.cleaned_data.get("url") or None
        if url:
            other = Article.objects.filter(url=url).exclude(pk=self.instance.pk).first()
            if other is not None:
                raise forms.ValidationError(
                    format_html("{} {}", _("Another article already has this original URL:"), _change_link(other)),
                    code="duplicate_url",
                )
        return url

    def clean(self):
        cleaned = super().clean()
        title, body = cleaned.get("title"), cleaned.get("body")
        if title and body:
            fingerprint = article_fingerprint(title, body)
            other = Article.objects.filter(fingerprint=fingerprint).exclude(pk=self.instance.pk).first()
            if other is not None:
                raise forms.ValidationError(
                    format_html(
                        "{} {}",
                        _("An article with the same title and text is already in the archive:"),
                        _change_link(other),
                    ),
                    code="duplicate_text",
                )
        return cleaned


class TopicActionForm(forms.Form):
    """The intermediate page of the bulk actions: which topic to add or remove."""

    topic = forms.ModelChoiceField(
        label=_("Topic"),
        queryset=Topic.objects.all(),
        required=False,
        widget=AutocompleteSelect(Article._meta.get_field("topics"), admin.site),
    )

    def __init__(self, *args, allow_new=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.allow_new = allow_new
        if allow_new:
            self.fields["new_topic_name"] = forms.CharField(
                label=_("Or a new topic"),
                max_length=Topic._meta.get_field("name").max_length,
                required=False,
                help_text=_("Created if no topic has this name; an existing topic of the same name is used."),
            )
        else:
            self.fields["topic"].required = True

    def clean(self):
        cleaned = super().clean()
        topic = cleaned.get("topic")
        new_name = " ".join((cleaned.get("new_topic_name") or "").split())
        if self.errors:
            return cleaned
        if topic and new_name:
            raise forms.ValidationError(_("Choose an existing topic or type a new one, not both."), code="both")
        if not topic and not new_name:
            raise forms.ValidationError(_("Choose a topic."), code="required")
        cleaned["new_topic_name"] = new_name
        return cleaned

    def get_or_create_topic(self):
        """The chosen topic; a typed name becomes a topic unless one reads the same."""
        topic = self.cleaned_data.get("topic")
        if topic is not None:
            return topic, False
        name = self.cleaned_data["new_topic_name"]
        existing = find_same_name(Topic, name)
        if existing is not None:
            return existing, False
        return Topic.objects.create(name=name, slug=unique_slug(Topic, name)), True
