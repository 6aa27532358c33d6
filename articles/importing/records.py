"""One article to import, checked and cleaned the same way whatever file it came from.

JSON Lines, CSV and raw page text all end up as an ArticleRecord, or as a
RecordError whose message tells the user what to fix.
"""
import datetime
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone

from articles.importing.raw_text import RawArticle, clean_line
from articles.importing.report import Location
from articles.models import Article, Source, Topic

# The corpus's section labels (see data/demo/README.md) and the Arabic topic
# names its README gives for them. Other labels become topics as written.
CATEGORY_TOPICS = {
    "culture": "ثقافة",
    "economy": "اقتصاد",
    "internationalNews": "دولية",
    "middleEast": "الشرق الأوسط",
    "sport": "رياضة",
    "technology": "تكنولوجيا",
    "localNews": "وطنية",
    "politic": "سياسة",
    "society": "مجتمع",
    "diverse": "متفرقات",
}
_CATEGORY_TOPICS_FOLDED = {label.casefold(): name for label, name in CATEGORY_TOPICS.items()}

TITLE_MAX = Article._meta.get_field("title").max_length
URL_MAX = Article._meta.get_field("url").max_length
EXTERNAL_ID_MAX = Article._meta.get_field("external_id").max_length
SOURCE_MAX = Source._meta.get_field("name").max_length
TOPIC_MAX = Topic._meta.get_field("name").max_length

_validate_url = URLValidator(schemes=["http", "https"])
_SPACES_RE = re.compile(r"\s+")


class RecordError(ValueError):
    """A record that cannot be imported; the message says why."""


@dataclass(frozen=True)
class ArticleRecord:
    location: Location
    title: str
    body: str
    lead: str
    source: str | None = None
    published: datetime.date | None = None
    url: str | None = None
    external_id: str | None = None
    topics: tuple = ()


def topic_name(label):
    """The topic a corpus category label stands for."""
    label = _SPACES_RE.sub(" ", label).strip()
    return _CATEGORY_TOPICS_FOLDED.get(label.casefold(), label)


def clean_body(text):
    """Paragraphs one per line, each trimmed, empty lines (NBSP-only too) dropped."""
    lines = (clean_line(line) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def url_key(url):
    """The same page whatever its scheme or trailing slash: http://x/a/ == https://x/a."""
    parts = urlsplit(url.strip())
    return urlunsplit(("", parts.netloc.lower(), parts.path.rstrip("/"), parts.query, ""))


def url_spellings(url):
    """Every spelling under which url_key(url) may be stored, for one IN lookup."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    spellings = {url.strip()}
    for netloc in {parts.netloc, parts.netloc.lower()}:
        for scheme in ("http", "https"):
            for tail in (path, path + "/"):
                spellings.add(urlunsplit((scheme, netloc, tail, parts.query, parts.fragment)))
    return spellings


def parse_published(value, field="published"):
    """An ISO date (or date-time, whose own date counts); None when empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise RecordError(f"{field}: expected a date as text (YYYY-MM-DD), found {_kind(value)}")
    text = value.strip()
    try:
        if len(text) == 10:
            date = datetime.date.fromisoformat(text)
        else:
            date = datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        raise RecordError(f"{field}: {text!r} is not a date (expected YYYY-MM-DD)") from None
    if date > timezone.localdate() + datetime.timedelta(days=1):
        raise RecordError(f"{field}: {text!r} is in the future")
    return date


def _kind(value):
    return {
        bool: "true/false", int: "a number", float: "a number", list: "a list", dict: "an object"
    }.get(type(value), type(value).__name__)


def _text(mapping, field, required=False):
    value = mapping.get(field)
    if value is None or value == "":
        if required:
            raise RecordError(f"missing {field}")
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and field == "id":
        value = str(value)
    if not isinstance(value, str):
        raise RecordError(f"{field}: expected text, found {_kind(value)}")
    # No reader wants a NUL, and PostgreSQL cannot store one: dropped, so
    # that an import keeps the same text on SQLite and on PostgreSQL.
    return value.replace("\x00", "")


def _name(value, field, limit):
    name = _SPACES_RE.sub(" ", value).strip()
    if len(name) > limit:
        raise RecordError(f"{field}: longer than {limit} characters")
    return name or None


def _topics(labels, extra_topics):
    names = []
    for label in list(labels) + list(extra_topics):
        name = _name(topic_name(label), "category", TOPIC_MAX)
        if name and name not in names:
            names.append(name)
    return tuple(names)


def _url(value):
    if value is None:
        return None
    url = value.strip()
    if len(url) > URL_MAX:
        raise RecordError(f"url: longer than {URL_MAX} characters")
    try:
        _validate_url(url)
    except ValidationError:
        raise RecordError(f"url: {url!r} is not a valid http(s) address") from None
    return url


def _categories(mapping):
    labels = []
    category = _text(mapping, "category")
    if category:
        labels.append(category)
    topics = mapping.get("topics")
    if isinstance(topics, str):
        topics = [topics]
    if topics is not None:
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            raise RecordError("topics: expected a list of names")
        labels.extend(t for t in topics if t.strip())
    return labels


def record_from_mapping(mapping, location, default_source=None, extra_topics=()):
    """Check one JSON object or CSV row (field names as in the corpus README)."""
    mapping = {str(key).strip().lower(): value for key, value in mapping.items()}
    title = _name(_text(mapping, "title", required=True), "title", TITLE_MAX)
    if not title:
        raise RecordError("missing title")
    body = clean_body(_text(mapping, "body", required=True))
    if not body:
        raise RecordError("missing body (only spaces)")
    lead = clean_body(_text(mapping, "lead") or "") or body.split("\n", 1)[0]

    published = parse_published(mapping.get("published"))
    if published is None and mapping.get("published_at"):
        published = parse_published(mapping.get("published_at"), "published_at")

    external_id = _text(mapping, "id")
    if external_id is not None:
        external_id = external_id.strip()
        if len(external_id) > EXTERNAL_ID_MAX:
            raise RecordError(f"id: longer than {EXTERNAL_ID_MAX} characters")

    source = _text(mapping, "source")
    source = _name(source, "source", SOURCE_MAX) if source else None

    return ArticleRecord(
        location=location,
        title=title,
        body=body,
        lead=lead,
        source=source or default_source,
        published=published,
        url=_url(_text(mapping, "url")),
        external_id=external_id or None,
        topics=_topics(_categories(mapping), extra_topics),
    )


def record_from_raw(raw: RawArticle, location, default_source=None, extra_topics=()):
    """An ArticleRecord from a parsed page (raw_text.parse_raw_article)."""
    title = raw.title
    if len(title) > TITLE_MAX:
        raise RecordError(f"title: longer than {TITLE_MAX} characters")
    source = _name(raw.source, "source", SOURCE_MAX) if raw.source else None
    return ArticleRecord(
        location=location,
        title=title,
        body=raw.body,
        lead=raw.lead,
        source=source or default_source,
        published=raw.published,
        topics=_topics((), extra_topics),
    )
