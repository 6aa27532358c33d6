"""Haystack field types for values that are matched exactly, never analysed."""
from haystack import indexes


class ExactField(indexes.CharField):
    """One exact value (a slug, a year) for filtering and facet counts."""

    field_type = "exact"


class ExactMultiValueField(indexes.MultiValueField):
    """Several exact values (topic slugs)."""

    field_type = "exact_multi"
