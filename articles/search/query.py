"""From what a reader typed to parsed clauses, never raising on odd input.

We parse the small syntax people use in search boxes ourselves instead of
an engine's own query parser, whose field:value, ranges and operators turn ordinary
text (a colon, a bracket, "AND") into syntax errors or surprising queries:

    word            any form of the word (normalised, light-stemmed), and
                    the other spellings of a name, ranked below
    "a phrase"      the words in this order («…» and “…” work too)
    word*           words starting with this (the prefix is normalised)
    -word  -"…"     leave out articles with this word or phrase
    +word           the word must be there

How a word is matched (each route adds to the score, see ROUTE_WEIGHTS):
its stem in the title, the lead and the whole text (title above lead above
text); the exact word form in the whole text (so "بوتين" ranks articles
about Putin above those with other words that stem alike); its consonant
skeleton (so "ترمب" finds "ترامب", below the articles that spell it as the
reader did). Words are ORed: an article with more of them, and with them
close together, ranks higher.

Engines turn a ParsedQuery into their own query with these routes and
weights: articles.search.engines.whoosh.query_builder and
articles.search.engines.solr.query_compiler.
"""
import re
from dataclasses import dataclass, field

from articles import arabic

MAX_QUERY_CHARS = 5000
MAX_CLAUSES = 32
MIN_PREFIX = 2

# Stem fields, searched by words, phrases and prefixes.
TEXT_FIELDS = ("title", "lead", "text")

# Query-time weight of each route (Term boosts multiply BM25 scores).
ROUTE_WEIGHTS = {
    "title": 3.0,       # the word's stem in the headline
    "lead": 1.5,        # ... in the first paragraph
    "text": 1.0,        # ... anywhere
    "exact": 1.0,       # the word as written, anywhere (on top of its stem)
    "skeleton": 0.35,   # another spelling of the word (transliterations)
}
# BM25 per field (k1, b); headlines are short and all alike in length, so
# their length matters less. Every engine scores with these.
BM25_K1 = 1.2
BM25_B = 0.75
BM25_FIELD_B = {"title": 0.5}

# Bonus for articles that hold every word of a multi-word query, and for
# those that hold them within a few words of each other.
ALL_WORDS_WEIGHT = 0.5
PROXIMITY_WEIGHT = 1.0
PROXIMITY_SLOP = 3

_QUOTES = {"«": "»", "“": "”", '"': '"', "„": "“", "‹": "›"}
_TOKEN_RE = re.compile(
    r'(?P<sign>[+\-])?(?:(?P<open>["«“„‹])(?P<phrase>[^"»”“›]*)(?:["»”“›]|$)|(?P<word>[^\s"«»“”„‹›]+))'
)
_OPERATOR_WORDS = {"and", "or", "not"}


@dataclass
class Clause:
    kind: str            # "word" | "phrase" | "prefix"
    terms: list          # stems (words, phrases), or [prefix] for prefixes
    text: str            # what the reader wrote
    required: bool = False
    excluded: bool = False
    forms: list = field(default_factory=list)   # arabic.WordForms per word
    readings: tuple = ()                          # arabic.index_forms of a word clause


@dataclass(frozen=True)
class HighlightTerms:
    """What marks a word in a snippet: any of its forms among these."""

    stems: frozenset = frozenset()
    exacts: frozenset = frozenset()
    skeletons: frozenset = frozenset()
    prefixes: frozenset = frozenset()

    def __bool__(self):
        return bool(self.stems or self.exacts or self.skeletons or self.prefixes)


@dataclass
class ParsedQuery:
    clauses: list = field(default_factory=list)

    @property
    def positive(self):
        return [clause for clause in self.clauses if not clause.excluded]

    @property
    def is_empty(self):
        return not self.positive

    # How every engine combines the clauses: the required ones (+word, and
    # every phrase) must match, the optional ones only add to the score, and
    # the excluded ones leave an article out.

    @property
    def required(self):
        return [clause for clause in self.positive if clause.required or clause.kind == "phrase"]

    @property
    def optional(self):
        return [clause for clause in self.positive if not (clause.required or clause.kind == "phrase")]

    @property
    def excluded(self):
        return [clause for clause in self.clauses if clause.excluded]

    def bonus_stems(self):
        """The stems of the optional words, when there are two or more: an
        article holding all of them, and holding them close, scores extra
        (ALL_WORDS_WEIGHT, PROXIMITY_WEIGHT)."""
        words = [clause for clause in self.optional if clause.kind == "word"]
        return [clause.forms[0].stem for clause in words] if len(words) >= 2 else []

    def highlight_terms(self):
        """The stems, exact forms, skeletons and prefixes to mark in snippets."""
        stems, exacts, skeletons, prefixes = set(), set(), set(), set()
        for clause in self.positive:
            if clause.kind == "prefix":
                prefixes.update(clause.terms)
                continue
            for forms in clause.forms + [forms for forms, _weight in clause.readings[1:]]:
                stems.add(forms.stem)
                exacts.add(forms.exact)
                if forms.skeleton and clause.kind == "word":
                    skeletons.add(forms.skeleton)
        return HighlightTerms(frozenset(stems), frozenset(exacts), frozenset(skeletons), frozenset(prefixes))


def _forms(text):
    """WordForms of each non-stop word of `text`."""
    forms = []
    for word, _start, _end in arabic.tokenize(text):
        normalized = arabic.normalize_word(word)
        if normalized and not arabic.is_stopword(normalized):
            forms.append(arabic.word_forms(normalized))
    return forms


def _prefix_term(word):
    """Normalise a prefix and strip its leading clitics, but not its end:
    "المفاوض*" searches words that start with "مفاوض"."""
    normalized = arabic.normalize_word(word)
    stripped = arabic.strip_proclitics(normalized)
    return stripped if len(stripped) >= MIN_PREFIX else normalized


def parse(text):
    """Parse user text into clauses; anything unparseable becomes plain words."""
    text = (text or "")[:MAX_QUERY_CHARS].replace("\x00", " ")
    parsed = ParsedQuery()
    negate_next = False
    for match in _TOKEN_RE.finditer(text):
        if len(parsed.clauses) >= MAX_CLAUSES:
            break
        sign = match.group("sign")
        required, excluded = sign == "+", sign == "-" or negate_next
        negate_next = False
        if match.group("open") is not None:
            raw = match.group("phrase")
            forms = _forms(raw)
            if not forms:
                continue
            kind = "phrase" if len(forms) > 1 else "word"
            # A quoted word means the word as written: no other readings.
            readings = (arabic.Reading(forms[0], 1.0),) if kind == "word" else ()
            parsed.clauses.append(Clause(kind, [f.stem for f in forms], raw, required, excluded, forms, readings))
            continue
        raw = match.group("word")
        if raw.lower() in _OPERATOR_WORDS and not sign:
            negate_next = raw.lower() == "not"
            continue
        if raw.endswith("*") and len(raw.rstrip("*")) >= MIN_PREFIX:
            words = [word for word, _s, _e in arabic.tokenize(raw.rstrip("*"))]
            if len(words) == 1:
                prefix = _prefix_term(words[0])
                if len(prefix) >= MIN_PREFIX:
                    parsed.clauses.append(Clause("prefix", [prefix], raw, required, excluded))
                continue
        # Punctuation inside a token ("COVID-19", "ترامب:") separates words.
        for word, _s, _e in arabic.tokenize(raw):
            normalized = arabic.normalize_word(word)
            if normalized and not arabic.is_stopword(normalized):
                readings = arabic.index_forms(normalized)
                forms = readings[0].forms
                parsed.clauses.append(Clause("word", [forms.stem], word, required, excluded, [forms], readings))
    return parsed


def word_routes(readings, weights=ROUTE_WEIGHTS):
    """{(field, term): weight}: every route by which one word may match.

    `readings` are the word's readings (articles.arabic.index_forms): the
    word as typed, and, for a leading bare و/ف/ب/ل, the rest of it, which
    counts as much as the index counts it. A route two readings share keeps
    the larger weight. Each engine turns these into its own term queries."""
    routes = {}

    def add(field_name, text, boost):
        key = (field_name, text)
        routes[key] = max(boost, routes.get(key, 0.0))

    for (exact, stem, skeleton), reading_weight in readings:
        for name in TEXT_FIELDS:
            add(name, stem, weights[name] * reading_weight)
            if exact != stem:
                # The stem fields hold stems: "فلسطين" (its stem cut to
                # "فلسط") meets the "فلسطين" of "الفلسطينية" here.
                add(name, exact, weights[name] * reading_weight)
        add("exact", exact, weights["exact"] * reading_weight)
        if skeleton:
            add("skeleton", skeleton, weights["skeleton"] * reading_weight)
    return routes
