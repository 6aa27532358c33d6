"""A rule-based relevance judge: reads a document's title and body for a topic's concepts.

Used to grade the pooled results of every engine (see ../README.md). It is
deliberately independent of Newsroom's analyzer: it has its own small
normaliser (the spelling folds a reader makes without noticing: hamza seats,
alef maddah, alef maqsura, ta marbuta, diacritics, tatweel, Arabic-Indic
digits) and matches hand-written patterns per topic, which name every
spelling, inflection and synonym a reader would accept for the concept.

Grades (applied by `grade`):
  2  the article is mainly about the topic: every concept occurs in the title
     or the first paragraph, and the first (main) concept occurs at least
     twice in the article (once is enough when the body is under 80 words);
  1  the article deals with the topic substantively: every concept occurs,
     the main concept at least twice or once in the title/first paragraph,
     and, for topics of several concepts, they occur together in one
     paragraph (or all in the title/first paragraph);
  0  otherwise (absent, or a single passing mention deep in the body).
"""
import re
from dataclasses import dataclass, field

_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640\u200b-\u200f\ufeff]")
_FOLD = str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي",
    **{chr(0x660 + i): str(i) for i in range(10)}, **{chr(0x6F0 + i): str(i) for i in range(10)},
})


def fold(text):
    import unicodedata
    text = unicodedata.normalize("NFKC", text or "")
    return _MARKS.sub("", text).translate(_FOLD).lower()


# Proclitics a reader attaches without changing the word: conjunction,
# preposition, article (و ف، ب ل ك، ال / لل).
PRE = r"(?:[وف])?(?:[بلك])?(?:ال|ل)?"


def W(*stems, suf=4):
    """Any of the given words (normalised), with proclitics and up to `suf` suffix letters."""
    alts = "|".join(fold(s) for s in stems)
    tail = r"\w{0,%d}" % suf if suf else ""
    return r"(?<!\w)%s(?:%s)%s(?!\w)" % (PRE, alts, tail)


def PH(*words, suf=4):
    """Consecutive words (each allowed its clitics), as a phrase."""
    return r"\W{1,4}".join(W(w, suf=suf) if not w.startswith("(?") else w for w in words)


def NEAR(a, b, n=8):
    """Two patterns within n words of each other, either order."""
    gap = r"(?:\W+\w+){0,%d}\W+" % n
    return "(?:%s%s%s|%s%s%s)" % (a, gap, b, b, gap, a)


def RAW(regex):
    return regex


@dataclass
class Topic:
    qid: str
    query: str
    kind: str
    concepts: list            # each concept: list of regex alternatives (any may match)
    note: str = ""
    compiled: list = field(default_factory=list, repr=False)

    def __post_init__(self):
        self.compiled = [re.compile("|".join("(?:%s)" % alt for alt in concept)) for concept in self.concepts]


def T(qid, query, kind, *concepts, note=""):
    return Topic(qid, query, kind, [c if isinstance(c, list) else [c] for c in concepts], note)


SHORT_BODY_WORDS = 80


def grade(topic, title, body):
    """0, 1 or 2 by the rules in the module docstring."""
    title_f = fold(title)
    paragraphs = [fold(p) for p in (body or "").split("\n") if p.strip()]
    first = paragraphs[0] if paragraphs else ""
    top = title_f + "\n" + first
    whole = "\n".join([title_f] + paragraphs)
    counts = [len(rx.findall(whole)) for rx in topic.compiled]
    if not all(counts):
        return 0
    in_top = [bool(rx.search(top)) for rx in topic.compiled]
    short = len(whole.split()) < SHORT_BODY_WORDS
    main_ok = counts[0] >= 2 or short
    if all(in_top) and main_ok:
        return 2
    if not (counts[0] >= 2 or in_top[0]):
        return 0
    if len(topic.compiled) > 1 and not all(in_top):
        together = any(all(rx.search(p) for rx in topic.compiled) for p in [title_f] + paragraphs)
        if not together:
            return 0
    return 1
