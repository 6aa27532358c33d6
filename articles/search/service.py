"""Search, in one module with one entry point: `search_articles(SearchRequest)`.

The page, the JSON API and the evaluation command all call it, so what a user
sees in the browser is exactly what the API answers and what we measure.
"""
import logging
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

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
    suggestion: str | None = None                # "did you mean" text when nothing matched, or None

    @property
    def has_next(self):
        return self.request.page < self.num_pages

    @property
    def has_previous(self):
        return self.request.page > 1


# ---------------------------------------------------------------------------
# Parameters


def _clean_text(value):
    """Query text as a person meant it: NULs and control characters dropped."""
    value = "".join(ch for ch in (value or "") if ch >= " " or ch in "\t\n")
    return " ".join(value.split())[:MAX_QUERY_LENGTH]


def _positive_int(name, raw, default, maximum):
    if raw in (None, ""):
        return default
    try:
        number = int(str(raw).strip())
    except ValueError:
        raise SearchRequestError(f"{name} must be a whole number, not {str(raw)[:40]!r}") from None
    if number < 1 or number > maximum:
        raise SearchRequestError(f"{name} must be between 1 and {maximum}")
    return number


def _slug(name, raw):
    if raw in (None, ""):
        return None
    raw = str(raw).strip()
    if len(raw) > 200 or any(ch.isspace() or ch in "/?#\x00" for ch in raw):
        raise SearchRequestError(f"{name} is not a valid identifier")
    return raw


def parse_search_request(params, page_size=20):
    """A SearchRequest from query parameters (request.GET), or SearchRequestError."""
    sort = (params.get("sort") or "relevance").strip()
    if sort not in SORTS:
        raise SearchRequestError(f"sort must be one of: {', '.join(SORTS)}")
    year = params.get("year")
    return SearchRequest(
        q=_clean_text(params.get("q")),
        source=_slug("source", params.get("source")),
        topic=_slug("topic", params.get("topic")),
        year=_positive_int("year", year, None, 9999) if year not in (None, "") else None,
        sort=sort,
        page=_positive_int("page", params.get("page"), 1, MAX_PAGE),
        page_size=page_size,
    )


# ---------------------------------------------------------------------------
# Searching

FACET_FIELDS = ("source", "topics", "year")
FACET_LIMIT = 20


def _filters(req):
    """The (field, value) pairs every hit must have."""
    filters = []
    if req.source:
        filters.append(("source", req.source))
    if req.topic:
        filters.append(("topics", req.topic))
    if req.year:
        filters.append(("year", str(req.year)))
    return tuple(filters)


def _facet_labels():
    """Every source's and topic's name by slug: two small tables, read once
    per archive version instead of twice per search (articles.caching)."""
    from articles import caching
    from articles.models import Source, Topic

    def load():
        return dict(Source.objects.values_list("slug", "name")), dict(Topic.objects.values_list("slug", "name"))

    return caching.cached("facet-labels", load)


def _facets(groups_by_field, req):
    counts = {}
    for name in FACET_FIELDS:
        groups = groups_by_field.get(name, {})
        counts[name] = sorted(
            ((value, count) for value, count in groups.items() if value),
            key=lambda item: (-item[1], item[0]),
        )
    source_names, topic_names = _facet_labels()
    return {
        "source": [
            FacetValue(v, source_names.get(v, v), c, v == req.source) for v, c in counts["source"][:FACET_LIMIT]
        ],
        "topic": [
            FacetValue(v, topic_names.get(v, v), c, v == req.topic) for v, c in counts["topics"][:FACET_LIMIT]
        ],
        "year": sorted(
            (FacetValue(v, v, c, v == str(req.year)) for v, c in counts["year"]),
            key=lambda facet: facet.value,
            reverse=True,
        ),
    }


def _load_articles(django_ids):
    """Rows for a page of hits in one query, in the order of the hits. A hit
    shows its source, not its topics: fetching those took longer than the
    rows themselves."""
    from articles.models import Article

    articles = Article.objects.select_related("source").in_bulk([int(pk) for pk in django_ids])
    return [articles.get(int(pk)) for pk in django_ids]


def search_articles(req):
    """Run a search request: hits with snippets, facet counts, a suggestion."""
    from articles.search import highlight, query
    from articles.search.engines import EngineQuery, get_engine

    page = SearchPage(request=req)
    parsed = query.parse(req.q)
    if parsed.is_empty and (req.q or not (req.source or req.topic or req.year)):
        # Only stop words or only exclusions, or nothing at all to list.
        return page

    engine = get_engine()
    found = engine.search(
        EngineQuery(
            parsed=None if parsed.is_empty else parsed,
            filters=_filters(req),
            sort=req.sort,
            offset=(req.page - 1) * req.page_size,
            limit=req.page_size,
            facet_fields=FACET_FIELDS,
        )
    )
    page.total = found.total
    page.num_pages = (page.total + req.page_size - 1) // req.page_size
    page.facets = _facets(found.facets, req)

    marks = parsed.highlight_terms()
    articles = _load_articles([hit.article_id for hit in found.hits])
    for hit, article in zip(found.hits, articles):
        if article is None:  # deleted since it was indexed; the index catches up
            continue
        page.hits.append(
            Hit(
                article=article,
                score=hit.score,
                snippet=highlight.snippet(article.body, marks),
                title_html=highlight.highlight(article.title, marks),
            )
        )
    if req.q and not page.total:
        # Offered where nothing matched (the page shows it there); looking
        # through the term dictionary for a rare word costs tens of milliseconds.
        page.suggestion = suggest(req.q, engine)
    return page


def warm_up():
    """Open the index and make what every search needs now rather than in a
    visitor's request. Never raises: a missing or broken index is reported
    by the first search instead."""
    import time

    from articles.search.engines import get_engine

    started = time.monotonic()
    try:
        engine = get_engine()
        engine.warm_up()
        total = engine.document_count()
    except Exception as error:
        logger.warning("could not open the search index ahead of the first request: %s", error)
        return
    logger.info("opened the search index ahead of the first request: %d articles, %.2f s", total, time.monotonic() - started)


# "Did you mean": a word at most this rare in the index may be misspelled, and
# is replaced by a word one or two edits away that is at least this much more
# common (and found in at least SUGGEST_MIN_DOCS articles).
SUGGEST_MAX_DOCS = 2
SUGGEST_MIN_DOCS = 1
SUGGEST_RATIO = 10


def _better_spelling(engine, word, known):
    """The most common indexed word within one (short words) or two edits of
    `word`, sharing its first letter."""
    floor = max(SUGGEST_MIN_DOCS, known * SUGGEST_RATIO)
    for maxdist in (1, 2) if len(word) > 4 else (1,):
        candidates = engine.spelling_candidates(word, maxdist)
        candidates.pop(word, None)
        scored = [(frequency, candidate) for candidate, frequency in candidates.items() if frequency >= floor]
        if scored:
            return max(scored)[1]
    return None


SUGGEST_MAX_WORDS = 6
SUGGEST_MAX_WORD_LENGTH = 24


def suggest(text, engine=None):
    """A better-spelled query when words of `text` are (almost) unknown to the
    index, or None. Other spellings of names are not corrected: the search
    finds them already (ترمب finds ترامب)."""
    from articles import arabic
    from articles.search.engines import get_engine

    engine = engine or get_engine()
    changed, words, looked_up = False, [], set()
    for word, _start, _end in arabic.tokenize(text):
        normalized = arabic.normalize_word(word)
        # The corrector walks an automaton per word: a pasted page of text
        # must not cost a minute, so only a few short, distinct words are
        # looked up and the rest are kept as written.
        if (
            not normalized
            or arabic.is_stopword(normalized)
            or not 3 <= len(normalized) <= SUGGEST_MAX_WORD_LENGTH
            or len(looked_up) >= SUGGEST_MAX_WORDS
            or normalized in looked_up
        ):
            words.append(word)
            continue
        looked_up.add(normalized)
        exact = arabic.strip_proclitics(normalized)
        known = engine.doc_frequency(exact)
        better = _better_spelling(engine, exact, known) if known <= SUGGEST_MAX_DOCS else None
        if better:
            words.append(better)
            changed = True
        else:
            words.append(word)
    return " ".join(words) if changed else None


def related_articles(article, limit=5):
    """Up to `limit` other articles most like this one (the engine's
    more-like-this over the article's analysed text).

    The ids are remembered until the archive changes, in the cache every
    worker shares (articles.caching): a more-like-this query reads the
    posting lists of a dozen terms, most of them rare."""
    from articles import caching
    from articles.search.engines import get_engine

    ids = caching.cached(f"related:{article.pk}:{limit}", lambda: get_engine().related(article, limit), store="shared")
    return [related for related in _load_articles(ids) if related is not None]
