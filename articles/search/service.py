"""Search, in one module with one entry point: `search_articles(SearchRequest)`.

The page, the JSON API and the evaluation command all call it, so what a user
sees in the browser is exactly what the API answers and what we measure.
"""
from dataclasses import dataclass, field

SORTS = ("relevance", "newest")
MAX_QUERY_LENGTH = 5000
MAX_PAGE = 1000


class SearchRequestError(ValueError):
    """A parameter a user can fix (shown on the page, or a 400 from the API)."""


@dataclass(frozen=True)
class SearchRequest:
    q: str = ""
    source: str | None = None   # Source.slug
    topic: str | None = None    # Topic.slug
    year: int | None = None
    sort: str = "relevance"     # one of SORTS
    page: int = 1
    page_size: int = 20


@dataclass
class Hit:
    article: "object"           # articles.models.Article, source and topics loaded
    score: float
    snippet: str                # safe HTML: escaped text, matches wrapped in <mark>
    title_html: str             # safe HTML title, matches wrapped in <mark>


@dataclass
class FacetValue:
    value: str                  # slug (source, topic) or year as text
    label: str                  # what a person reads
    count: int
    selected: bool = False


@dataclass
class SearchPage:
    request: SearchRequest
    hits: list = field(default_factory=list)
    total: int = 0
    num_pages: int = 0
    facets: dict = field(default_factory=dict)   # "source" | "topic" | "year" -> [FacetValue]
    suggestion: str | None = None                # "did you mean" text, or None

    @property
    def has_next(self):
        return self.request.page < self.num_pages

    @property
    def has_previous(self):
        return self.request.page > 1
