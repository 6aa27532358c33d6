"""From what a reader typed to a Whoosh query, never raising on odd input.

We parse the small syntax people use in search boxes ourselves instead of
Whoosh's QueryParser, whose field:value, ranges and operators turn ordinary
text (a colon, a bracket, "AND") into syntax errors or surprising queries:

    word            any form of the word (normalised, light-stemmed)
    "a phrase"      the words in this order («…» and “…” work too)
    word*           words starting with this (the prefix is normalised)
    -word  -"…"     leave out articles with this word or phrase
    +word           the word must be there
"""
import re
from dataclasses import dataclass, field

from whoosh import query as wq

from articles import arabic

MAX_QUERY_CHARS = 5000
MAX_CLAUSES = 32
MIN_PREFIX = 2

# Fields searched by text, with their weights given by field_boost in the
# index (title above lead above body text).
TEXT_FIELDS = ("title", "lead", "text")

_QUOTES = {"«": "»", "“": "”", '"': '"', "„": "“", "‹": "›"}
_TOKEN_RE = re.compile(
    r'(?P<sign>[+\-])?(?:(?P<open>["«“„‹])(?P<phrase>[^"»”“›]*)(?:["»”“›]|$)|(?P<word>[^\s"«»“”„‹›]+))'
)
_OPERATOR_WORDS = {"and", "or", "not"}


@dataclass
class Clause:
    kind: str            # "word" | "phrase" | "prefix"
    terms: list          # analysed terms (stems), or [prefix] for prefixes
    text: str            # what the reader wrote
    required: bool = False
    excluded: bool = False


@dataclass
class ParsedQuery:
    clauses: list = field(default_factory=list)

    @property
    def positive(self):
        return [clause for clause in self.clauses if not clause.excluded]

    @property
    def is_empty(self):
        return not self.positive

    def highlight_terms(self):
        """Stems to mark in snippets, and prefixes to mark words starting with."""
        stems, prefixes = set(), set()
        for clause in self.positive:
            if clause.kind == "prefix":
                prefixes.update(clause.terms)
            else:
                stems.update(clause.terms)
        return stems, prefixes


def _prefix_term(word):
    """Normalise a prefix and strip its leading clitics, but not its end:
    "المفاوض*" searches stems that start with "مفاوض"."""
    normalized = arabic.normalize_word(word)
    for article_prefix in ("وال", "بال", "كال", "فال", "لل", "ال"):
        if normalized.startswith(article_prefix) and len(normalized) - len(article_prefix) >= MIN_PREFIX:
            return normalized[len(article_prefix):]
    return normalized


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
            terms = arabic.analyze(raw)
            if not terms:
                continue
            kind = "phrase" if len(terms) > 1 else "word"
            parsed.clauses.append(Clause(kind, terms, raw, required, excluded))
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
            for term in arabic.analyze(word):
                parsed.clauses.append(Clause("word", [term], word, required, excluded))
    return parsed


def _clause_query(clause):
    if clause.kind == "prefix":
        return wq.Or([wq.Prefix(name, clause.terms[0]) for name in TEXT_FIELDS])
    if clause.kind == "phrase":
        return wq.Or([wq.Phrase(name, clause.terms) for name in TEXT_FIELDS])
    return wq.Or([wq.Term(name, clause.terms[0]) for name in TEXT_FIELDS])


def build(parsed):
    """The Whoosh query for parsed user text, or None when nothing is left to
    search for (only stop words, only exclusions)."""
    positive = [clause for clause in parsed.clauses if not clause.excluded]
    if not positive:
        return None
    required = [_clause_query(clause) for clause in positive if clause.required or clause.kind == "phrase"]
    optional = [_clause_query(clause) for clause in positive if not (clause.required or clause.kind == "phrase")]
    # Any of the words may match; articles with more of them score higher.
    if required and optional:
        query = wq.AndMaybe(wq.And(required), wq.Or(optional, scale=0.9))
    elif required:
        query = wq.And(required)
    else:
        query = wq.Or(optional, scale=0.9) if len(optional) > 1 else optional[0]
    excluded = [_clause_query(clause) for clause in parsed.clauses if clause.excluded]
    if excluded:
        query = wq.AndNot(query, wq.Or(excluded))
    return query
