"""Turn the text of a saved news web page into an article.

A page copied from a news site holds more than the article: the outlet's
banner, "published / updated" labels, a photo credit, audio-player buttons,
"read also" links in the middle, and after the article: lists of other
stories, share and follow-us bars, sometimes whole other articles. These are
recognised by their shape and their wording (compared after Arabic
normalisation, so أ/ا, ة/ه and tanween do not matter), never by site, so a
page from another outlet is cleaned by the same rules.

The page is read line by line: every non-empty line of the article is one
paragraph. Nothing here touches the database.
"""
import datetime
import re
import unicodedata
from dataclasses import dataclass

from articles.arabic import normalize

# A line longer than this, or one that ends like a sentence, is the article's
# first paragraph rather than its headline.
HEADLINE_MAX_CHARS = 120
# A title made from an opening paragraph is cut at a clause or word boundary
# near this length.
DERIVED_TITLE_MAX_CHARS = 130
# Banners, bylines, labels and credits are short; real paragraphs are not.
SHORT_LINE_CHARS = 80


@dataclass(frozen=True)
class RawArticle:
    title: str
    body: str            # paragraphs separated by "\n"
    lead: str            # the first paragraph
    source: str | None   # from an "المصدر: …" line, else None
    published: datetime.date | None  # only from an explicit date line


class NoArticleText(ValueError):
    """The page has no line that could be an article's text."""


def _key(text):
    """How a line is compared with the phrases below: normalised, lower case,
    single-spaced, without the punctuation around it."""
    text = re.sub(r"\s+", " ", normalize(text))
    return text.strip(" :：.،,;؛-–—_|•*!؟?")


def _keys(*phrases):
    return frozenset(_key(phrase) for phrase in phrases)


_READ_ALSO = ("اقرأ أيضاً", "اقرأ كذلك", "اقرأ المزيد", "شاهد أيضاً", "طالع أيضاً", "read also", "see also")

# A line that is only one of these starts the page's trailing boilerplate:
# everything from it to the end is dropped (after a bare "read also" header
# pages often paste whole other articles).
_BLOCK_HEADERS = _keys(
    *_READ_ALSO,
    "مقالات مشابهة", "مقالات ذات صلة", "مقالات قد تهمك", "أخبار ذات صلة", "أخبار مشابهة",
    "أخبار متعلقة", "مواضيع ذات صلة", "موضوعات ذات صلة", "مواضيع متعلقة", "قصص ذات صلة",
    "ذات صلة", "المزيد من الأخبار", "قد يهمك أيضاً", "قد يعجبك أيضاً", "الأكثر قراءة",
    "الأكثر تداولاً", "الأكثر مشاهدة", "الأكثر شعبية", "الأكثر تعليقاً", "الأكثر مشاركة",
    "آخر الأخبار", "أحدث الأخبار", "شارك هذا المقال", "شارك المقال", "شارك الخبر",
    "التعليقات", "related", "related articles", "related stories", "more stories",
    "most read", "most popular", "share this article", "comments",
)
# Short lines that begin like this do the same ("تابعونا على …").
_BLOCK_PREFIXES = tuple(_keys(
    "تابعونا", "تابعوا", "انتقل إلى اختصارات الوصول", "شارك هذا المقال", "اشترك في النشرة",
    "اشترك في نشرتنا", "حمل تطبيق", "follow us",
))

# Interface words that are never part of an article, wherever they appear.
_CHROME = _keys(
    "Play", "Pause", "استمع للمقال", "استمع إلى المقال", "استمع", "Listen", "إعلان",
    "الإعلانات", "Advertisement", "طباعة", "Print", "حجم الخط", "A A", "A+ A-",
    "شارك", "مشاركة", "نسخ الرابط", "Copy link", "عاجل",
)
# Labels of the page header (before the first paragraph) with their dates.
_PUBLISHED_LABELS = ("نشر في", "نشر", "تاريخ النشر", "بتاريخ", "published", "posted")
_UPDATED_LABELS = ("آخر تحديث", "تم التحديث", "تحديث", "محدث", "updated", "last updated")
_HEADER_LABELS = _keys(*_PUBLISHED_LABELS, *_UPDATED_LABELS, "منذ", "بواسطة")

_READ_ALSO_LINE_RE = re.compile(
    "^(?:" + "|".join(re.escape(_key(p)) for p in _READ_ALSO) + r")\s*[:：\-–—]?\s*\S"
)
_RELATED_LINE_RE = re.compile(r"^related\b")
_SOURCE_LINE_RE = re.compile(r"^\s*(?:المصدر|المصادر|مصدر الخبر)\s*[:：]\s*(?P<name>\S.*?)[\s.]*$")
_BYLINE_RE = re.compile(r"^(?:بقلم|كتب|كتبت|اعداد|تقرير|by)\s*[:：]?\s*\S.{0,40}$")
_READING_TIME_RE = re.compile(r"^(?:\d+\s*(?:دقيقه|دقايق|دقائق)\s*(?:قراءه|للقراءه)?|(?:وقت )?القراءه\s*[:：]?\s*\d+\s*(?:دقيقه|دقايق|دقائق)|\d+\s*min read)$")
_TIME_ONLY_RE = re.compile(r"^(?:منذ\s.{1,20}|\d{1,2}:\d{2}(?::\d{2})?\s*(?:ص|م|am|pm)?)$")

_CREDITS = (
    "afp", "reuters", "ap", "epa", "getty images", "getty", "shutterstock", "anadolu",
    "رويترز", "فرانس برس", "ا ف ب", "ا.ف.ب", "اسوشيتد برس", "الاناضول", "وكالات",
    "ارشيفيه", "ارشيف", "صوره ارشيفيه", "مواقع التواصل", "مواقع التواصل الاجتماعي",
)
_CAPTION_RE = re.compile(
    r"(?:[/|©(\-–—]|عبر)\s*(?:" + "|".join(re.escape(c) for c in _CREDITS) + r")\s*\)?$"
)
_CAPTION_PREFIX_RE = re.compile(r"^(?:صوره|الصوره|©)\s*[:：]?")

# "الثورة نت /..", "الموقع |": a short name followed by a separator.
_BANNER_RE = re.compile(r"(?:/\s*\.*|\|\s*|[»›>]\s*|\.{2,})$")
_BREADCRUMB_SEPARATORS_RE = re.compile(r"\s[»›>/|]\s")
_BULLET_RE = re.compile(r"^[•◦▪●■►▶*·\-–—]\s*\S")
_SENTENCE_END_RE = re.compile(r"(?<!\.)\.[\"'”»)]*$")
_FIRST_SENTENCE_RE = re.compile(r"(?<!\.)\.(?!\.)(?=\s)")
_CLAUSE_BREAK_RE = re.compile(r"\s*(?:[،,؛;:]\s?|\s[–—-]\s)")
_DATELINE_RE = re.compile(
    r"^(?:[^\s\d،,.:()]{2,20}(?:\s[^\s\d،,.:()]{2,20})?\s*(?:\([^)]{1,30}\))?|\([^)]{1,30}\))\s*[–—-]\s+"
)
_SPACES_RE = re.compile(r"\s+")
_ORNAMENT_CATEGORIES = frozenset({"So", "Sk", "Zs", "Cf", "Cc", "Co", "Cs"})

_MONTHS = {
    **dict.fromkeys(_keys("يناير", "جانفي", "كانون الثاني", "january", "jan"), 1),
    **dict.fromkeys(_keys("فبراير", "فيفري", "شباط", "february", "feb"), 2),
    **dict.fromkeys(_keys("مارس", "آذار", "march", "mar"), 3),
    **dict.fromkeys(_keys("أبريل", "إبريل", "أفريل", "نيسان", "april", "apr"), 4),
    **dict.fromkeys(_keys("مايو", "ماي", "أيار", "may"), 5),
    **dict.fromkeys(_keys("يونيو", "يونيه", "جوان", "حزيران", "june", "jun"), 6),
    **dict.fromkeys(_keys("يوليو", "يوليه", "جويلية", "تموز", "july", "jul"), 7),
    **dict.fromkeys(_keys("أغسطس", "أوت", "آب", "august", "aug"), 8),
    **dict.fromkeys(_keys("سبتمبر", "أيلول", "september", "sep", "sept"), 9),
    **dict.fromkeys(_keys("أكتوبر", "تشرين الأول", "october", "oct"), 10),
    **dict.fromkeys(_keys("نوفمبر", "تشرين الثاني", "november", "nov"), 11),
    **dict.fromkeys(_keys("ديسمبر", "كانون الأول", "december", "dec"), 12),
}
_WEEKDAYS = _keys(
    "السبت", "الأحد", "الاثنين", "الإثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة",
    "saturday", "sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
)
_MONTH_ALT = "|".join(sorted((re.escape(m) for m in _MONTHS), key=len, reverse=True))
_WEEKDAY_ALT = "|".join(re.escape(w) for w in _WEEKDAYS)
_DATE_RE = re.compile(
    rf"^(?:(?:يوم\s)?(?:{_WEEKDAY_ALT})\s*[،,]?\s*)?"
    rf"(?:(?P<iy>\d{{4}})-(?P<im>\d{{1,2}})-(?P<id>\d{{1,2}})"
    rf"|(?P<nd>\d{{1,2}})[/.\-](?P<nm>\d{{1,2}})[/.\-](?P<ny>\d{{4}})"
    rf"|(?P<wd>\d{{1,2}})\s+(?P<wm>{_MONTH_ALT})(?:\s*/\s*(?:{_MONTH_ALT}))?\s*[،,]?\s+(?P<wy>\d{{4}}))"
    rf"(?:\s*[-–،,|]?\s*(?:الساعه\s*)?\d{{1,2}}:\d{{2}}(?::\d{{2}})?\s*(?:ص|م|am|pm)?(?:\s*(?:بتوقيت|gmt|utc)\b.*)?)?$"
)
_LABEL_RE = re.compile(
    "^(?P<label>"
    + "|".join(sorted((re.escape(_key(p)) for p in _PUBLISHED_LABELS + _UPDATED_LABELS), key=len, reverse=True))
    + r")(?=$|[\s:：\-–])\s*[:：\-–]?\s*(?P<rest>.*)$"
)
_PUBLISHED_KEYS = _keys(*_PUBLISHED_LABELS)


def clean_line(line):
    """One line as a paragraph: every kind of space (NBSP included) made a
    single space, trimmed; a byte-order mark and NULs dropped (PostgreSQL
    cannot store a NUL, and the text must be the same on either database)."""
    return _SPACES_RE.sub(" ", line.replace("\ufeff", "").replace("\x00", "")).strip()


def parse_date(text):
    """A date written the ways news pages write it, or None."""
    match = _DATE_RE.match(_key(text))
    if not match:
        return None
    if match["iy"]:
        year, month, day = int(match["iy"]), int(match["im"]), int(match["id"])
    elif match["ny"]:
        year, month, day = int(match["ny"]), int(match["nm"]), int(match["nd"])
    else:
        year, month, day = int(match["wy"]), _MONTHS[match["wm"]], int(match["wd"])
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def date_line(line):
    """("published" | "updated" | None, date or None) for a line that is only a date label.

    Returns (None, None) for any other line. A bare date counts as the
    publication date; an "updated" date is never taken for it.
    """
    key = _key(line)
    label = _LABEL_RE.match(key)
    if label:
        kind = "published" if label["label"] in _PUBLISHED_KEYS else "updated"
        rest = label["rest"]
        if not rest:
            return kind, None
        found = parse_date(rest)
        return (kind, found) if found else (None, None)
    found = parse_date(key)
    return ("published", found) if found else (None, None)


def _is_decoration(line):
    """Emoji, rules and bullets with no word in them."""
    return not any(ch.isalnum() for ch in line)


def _is_ornament(ch):
    """Emoji (with their joiners and variation selectors), pictographs, spaces."""
    return unicodedata.category(ch) in _ORNAMENT_CATEGORIES or ch in "\u200d\ufe0e\ufe0f"


def _strip_decoration(text):
    """Leading and trailing emoji and symbols off a headline ("🔴 قمة …")."""
    start, end = 0, len(text)
    while start < end and (_is_ornament(text[start]) or text[start] in "•·*#|-–—:"):
        start += 1
    while end > start and _is_ornament(text[end - 1]):
        end -= 1
    return text[start:end].strip()


def _source_from(line):
    match = _SOURCE_LINE_RE.match(line)
    if match and len(line) <= SHORT_LINE_CHARS and len(match["name"].split()) <= 8:
        return match["name"].strip()
    return None


def _is_banner(line):
    """An outlet banner or breadcrumb above the headline."""
    short = len(line) <= 40 and len(line.split()) <= 5
    if short and _BANNER_RE.search(line):
        return True
    return len(line) <= SHORT_LINE_CHARS and len(_BREADCRUMB_SEPARATORS_RE.findall(line)) >= 2


def _is_header_chrome(line, key):
    """Labels, bylines, credits and buttons between the headline and the text."""
    if key in _HEADER_LABELS or key in _CHROME:
        return True
    if len(line) > SHORT_LINE_CHARS + 40:
        return False
    return bool(
        _CAPTION_RE.search(key)
        or _CAPTION_PREFIX_RE.match(key)
        or _BYLINE_RE.match(key)
        or _READING_TIME_RE.match(key)
        or _TIME_ONLY_RE.match(key)
    )


def _starts_trailing_block(line, key):
    if key in _BLOCK_HEADERS:
        return True
    return len(line) <= SHORT_LINE_CHARS and key.startswith(_BLOCK_PREFIXES)


def _is_inline_link(line, key):
    """A single "read also: <headline>" or "Related …" line inside the text."""
    if len(line) > 200:
        return False
    return bool(_READ_ALSO_LINE_RE.match(key) or _RELATED_LINE_RE.match(key))


def _ends_sentence(line):
    return bool(_SENTENCE_END_RE.search(line))


def is_headline(line):
    """A headline is short and does not end with a full stop; a longer line
    or a sentence is the article's opening paragraph (or standfirst)."""
    return len(line) <= HEADLINE_MAX_CHARS and not _ends_sentence(line)


def headline_from_paragraph(paragraph, max_chars=DERIVED_TITLE_MAX_CHARS):
    """A title for a page whose headline was not kept: the opening sentence
    without its dateline ("موسكو – "), cut at a clause or word boundary."""
    text = _DATELINE_RE.sub("", paragraph, count=1) or paragraph
    first = _FIRST_SENTENCE_RE.search(text)
    if first and first.start() >= 30:
        text = text[: first.start()]
    text = text.rstrip(" .")
    if len(text) <= max_chars:
        return text
    window = text[: max_chars + 1]
    breaks = [m.start() for m in _CLAUSE_BREAK_RE.finditer(window) if m.start() >= max_chars // 2]
    cut = breaks[-1] if breaks else window.rstrip().rfind(" ")
    if cut <= 0:
        cut = max_chars
    return text[:cut].rstrip(" ،,؛;:-–—") + "…"


def _drop_trailing_headline_list(paragraphs):
    """Three or more bullet lines closing the page, none a sentence, are a
    list of other stories; a bulleted list inside the article is kept."""
    end = len(paragraphs)
    start = end
    while start > 0 and _BULLET_RE.match(paragraphs[start - 1]):
        start -= 1
    run = paragraphs[start:end]
    if len(run) >= 3 and not any(_ends_sentence(item) or len(item) > 150 for item in run):
        return paragraphs[:start]
    return paragraphs


def parse_raw_article(text):
    """Parse a page's text into a RawArticle; raise NoArticleText if it has none."""
    title = None
    paragraphs = []
    source = None
    published = None
    in_box = False

    for raw in text.splitlines():
        line = clean_line(raw)
        if not line or _is_decoration(line):
            continue
        # Compared without the emoji or bullet in front ("📌 عاجل", "• اقرأ أيضاً: …").
        key = _key(_strip_decoration(line))

        name = _source_from(line)
        if name:
            source = source or name
            continue
        kind, when = date_line(line)
        if kind:
            if kind == "published" and when and published is None:
                published = when
            continue

        if title is None:
            if key in _CHROME or key in _HEADER_LABELS or _is_banner(line):
                continue
            headline = _strip_decoration(line)
            if is_headline(headline):
                title = headline
            else:
                title = headline_from_paragraph(headline)
                paragraphs.append(line)
            continue

        if not paragraphs:
            # Between the headline and the text: labels, credits, buttons,
            # and share or "most read" boxes (header and their list of
            # headlines) that come before the article.
            if _is_header_chrome(line, key):
                continue
            if _starts_trailing_block(line, key):
                in_box = True
                continue
            if in_box and (_BULLET_RE.match(line) or is_headline(line)):
                continue
            in_box = False
        elif _starts_trailing_block(line, key):
            break
        if key in _CHROME or _is_inline_link(line, key):
            continue
        paragraphs.append(line)

    if title is None:
        raise NoArticleText("no article text found")
    paragraphs = _drop_trailing_headline_list(paragraphs)
    if not paragraphs:
        raise NoArticleText("no article text after the headline")
    return RawArticle(
        title=title,
        body="\n".join(paragraphs),
        lead=paragraphs[0],
        source=source,
        published=published,
    )
