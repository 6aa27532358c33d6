"""Haystack field types whose Whoosh form articles.search.backend.build_schema decides."""
from haystack import indexes


class ExactField(indexes.CharField):
    """One exact value (a slug, a year) for filtering and facet counts."""

    field_type = "exact"


class ExactMultiValueField(indexes.MultiValueField):
    """Several exact values (topic slugs)."""

    field_type = "exact_multi"


class ArabicTextField(indexes.CharField):
    """Text analysed by the Arabic analyzer of one form: "stem" (words and
    phrases, the default), "exact" (the word as written) or "skeleton"
    (transliteration variants). See articles.search.analysis."""

    field_type = "arabic_text"

    def __init__(self, form="stem", **kwargs):
        self.form = form
        super().__init__(**kwargs)
