"""Arabic text processing: one definition of "the same word".

The search index, the highlighter, the query parser and the import
fingerprint all call these functions, so a word found by search is
highlighted in the snippet and a re-imported article is recognised.

A word has three searchable forms (see `word_forms`):

- the exact form: normalised, with the leading conjunction/preposition +
  article taken off ("والمفاوضات" -> "مفاوضات"), the word otherwise as
  written; names stay whole ("بوتين");
- the stem: the exact form light-stemmed ("مفاوضات" -> "مفاوض"), so that
  inflections meet (the index keeps the exact form beside it, so that
  "فلسطين" and "الفلسطينية" meet on "فلسطين" whatever the stemmer cut);
- the skeleton: the exact form without its long vowels and hamza seats
  ("ترامب" and "ترمب" -> "ترمب", "زيلينسكي" and "زيلنسكي" -> "زلنسك"), so
  that the spellings of a transliterated name meet.

Everything here works on single tokens or plain strings and keeps no state,
so the hot functions are memoised: a news corpus repeats its words a lot.
Their caches hold strings and plain tuples of strings, in plain dicts
(articles.memo), so that the garbage collector skips them.
"""
import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from articles.memo import memoize

# Tashkeel (harakat, tanween, shadda, sukun), hamza/madda marks above and
# below, superscript (dagger) alef, high hamza, Quranic annotation marks.
DIACRITICS = (
    "\u0610-\u061a"
    "\u064b-\u065f"
    "\u0670"
    "\u0674"
    "\u06d6-\u06dc"
    "\u06df-\u06e8"
    "\u06ea-\u06ed"
)
TATWEEL = "\u0640"
# Zero-width joiners and direction marks that editors leave inside words.
INVISIBLE = "\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff"

_STRIP_RE = re.compile(f"[{DIACRITICS}{TATWEEL}{INVISIBLE}]")

# Letters that readers treat as the same when they search.
_LETTER_MAP = str.maketrans(
    {
        "\u0623": "\u0627",  # أ -> ا  hamza on alef
        "\u0625": "\u0627",  # إ -> ا  hamza under alef
        "\u0622": "\u0627",  # آ -> ا  alef maddah
        "\u0671": "\u0627",  # ٱ (wasla) -> ا
        "\u0672": "\u0627",  # ٲ wavy hamza above -> ا
        "\u0673": "\u0627",  # ٳ wavy hamza below -> ا
        "\u0649": "\u064a",  # ى -> ي  alef maqsura
        "\u06cc": "\u064a",  # ی Farsi yeh -> ي
        "\u06d2": "\u064a",  # ے yeh barree -> ي
        "\u0626": "\u064a",  # ئ -> ي  hamza on yeh
        "\u0624": "\u0648",  # ؤ -> و  hamza on waw
        "\u0629": "\u0647",  # ة -> ه  ta marbuta
        "\u06c0": "\u0647",  # ۀ -> ه
        "\u06c1": "\u0647",  # ہ -> ه
        "\u06d5": "\u0647",  # ە -> ه
        "\u06a9": "\u0643",  # ک keheh -> ك
        "\u06af": "\u0643",  # گ gaf -> ك
        "\u067e": "\u0628",  # پ peh -> ب
        "\u0686": "\u062c",  # چ tcheh -> ج
        "\u06a4": "\u0641",  # ڤ veh -> ف
        "\u0698": "\u0632",  # ژ jeh -> ز
        # Arabic-Indic and Persian (extended) digits -> 0-9
        **{chr(0x0660 + d): str(d) for d in range(10)},
        **{chr(0x06F0 + d): str(d) for d in range(10)},
        "\u066b": ".",  # Arabic decimal separator
        "\u066c": ",",  # Arabic thousands separator
    }
)

# Arabic letters as they may appear in text: the letters, marks, tatweel and
# joiners inside a word, the extended letters, and the presentation forms
# (including the lam-alef ligatures) that NFKC later unfolds.
_ARABIC_WORD_CHARS = (
    "\u0621-\u063a\u0641-\u064a\u0671-\u06d3\u06d5\u06ee\u06ef\u06fa-\u06ff"
    "\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufefc"
    f"{DIACRITICS}{TATWEEL}\u200c\u200d"
)
# A word is a run of Arabic letters, or a run of other letters and digits
# (Latin names, numbers in any digits): "لـCNN" is "لـ" + "CNN" and
# "بـ٢٠١٨" is "بـ" + "٢٠١٨", as a reader sees them.
WORD_RE = re.compile(f"[{_ARABIC_WORD_CHARS}]+|(?:(?![{_ARABIC_WORD_CHARS}])[^\\W_])+")

ARABIC_LETTER_RE = re.compile("[\u0621-\u064a]")

# Arabic function words (STOPWORDS holds them normalised): particles,
# pronouns, demonstratives and relatives, auxiliary verbs, the reporting
# verbs that open every other sentence of a news story ("قال", "أضاف"), and
# their forms with a conjunction. None of them tells stories apart.
_STOPWORDS_AS_WRITTEN = (
    """
    في من على الي الى عن مع عند عنده عندما لدي لدى حتي حتى منذ خلال بين بعد قبل
    حول ضد دون غير سوي سوى نحو تحت فوق امام وراء خلف عبر اثناء حين حيث
    و او ام ثم ف ب ل ك لا لم لن ما ماذا متي اين كيف لماذا هل اذا اذ ان انه انها
    انهم انما لكن لكنه لكنها بل قد لقد سوف كل بعض اي ايضا فقط كما مثل كذلك
    هو هي هم هن هما انا نحن انت انتم انتن انتما
    هذا هذه ذلك تلك هذان هاتان هذين هاتين هولاء اولئك هناك هنا هنالك
    الذي التي الذين اللذين اللتين اللذان اللتان اللاتي اللواتي الذى
    كان كانت كانوا يكون تكون يكن تكن اصبح اصبحت ليس ليست لست
    به بها بهم بهن بهما له لها لهم لهن لهما منه منها منهم منهما عليه عليها عليهم
    فيه فيها فيهم اليه اليها اليهم عنه عنها عنهم معه معها معهم لدينا لديه لديها لديهم
    وقد وكان وكانت وهو وهي وهم وهذا وهذه وفي ومن وعلي وعلى والي والى وان ولا ولم
    ولن وما فقد فان فلا فهو فهي كانه لذلك لهذا بذلك بهذا وذلك ولكن فيما بينما مما
    يا اما الا الّا الاّ غدا امس الان
    قال قالت وقال وقالت يقول تقول واضاف واضافت اضاف اضافت اكد اكدت واكد واكدت
    اوضح اوضحت واوضح واوضحت اشار اشارت واشار واشارت مضيفا موضحا مشيرا
    وفق وفقا حسب بحسب ويذكر يذكر ان
    """.split()
)

MIN_STEM = 3

# Conjunction + preposition + article combinations, longest first.
_ARTICLE_PREFIXES = ("وبال", "وكال", "فبال", "وال", "فال", "بال", "كال", "ولل", "فلل", "لل", "ال")
_CONJUNCTIONS = ("و", "ف")
_SUFFIXES = (
    "كما", "تما", "تين", "تان", "يين", "يون", "يات",
    "ها", "هم", "هن", "كم", "كن", "نا", "ون", "ين", "ات", "ان", "ية", "يه", "تم", "وا",
    "ه", "ي",
)
_PRONOUN_SUFFIXES = frozenset({"ها", "هم", "هن", "كم", "كن", "نا", "ه"})
_PLURAL_SUFFIXES = ("ات", "ون", "ين", "ان")
# Dual and plural endings leave at least four letters: five-letter words in
# -ان/-ين/-ون are far more often whole nouns and names (ايران, لبنان, بوتين,
# طيران, عشرين) than a three-letter stem with an ending.
_LONG_STEM_SUFFIXES = frozenset({"ان", "ين", "ون"})

# What the skeleton drops: long vowels and the seats a hamza may sit on, and
# the lone hamza, all of which transliterations add or leave out at will.
_SKELETON_DROP = str.maketrans("", "", "اويء")
# غ and ج both write the foreign "g" (غوغل / جوجل, سامسونغ / سامسونج).
_SKELETON_FOLD = str.maketrans({"غ": "ج"})
MIN_SKELETON = 3


class WordForms(NamedTuple):
    exact: str      # normalised, leading clitics off
    stem: str       # light stem of the exact form
    skeleton: str   # consonant skeleton of the exact form ("" when too short)


@memoize(500_000)
def normalize_word(word):
    """Normalise one token: presentation forms, marks, letter variants, digits, case."""
    if not word:
        return ""
    # NFKC unfolds presentation forms and the lam-alef ligatures (ﻻ -> لا).
    word = unicodedata.normalize("NFKC", word)
    word = _STRIP_RE.sub("", word)
    return word.translate(_LETTER_MAP).casefold()


STOPWORDS = frozenset(normalize_word(word) for word in _STOPWORDS_AS_WRITTEN)


def normalize(text):
    """Normalise running text the way the index does, keeping spaces and punctuation."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _STRIP_RE.sub("", text)
    return text.translate(_LETTER_MAP).casefold()


def tokenize(text):
    """Yield (word, start, end) for each word of the original, unnormalised text."""
    for match in WORD_RE.finditer(text or ""):
        yield match.group(), match.start(), match.end()


@memoize(100_000)
def is_stopword(normalized_word):
    """A function word, alone or after و/ف ("وفي", "فهو", "والتي")."""
    if normalized_word in STOPWORDS:
        return True
    return normalized_word[:1] in _CONJUNCTIONS and normalized_word[1:] in STOPWORDS


def is_arabic(word):
    return ARABIC_LETTER_RE.search(word) is not None


@memoize(500_000)
def strip_proclitics(word):
    """The normalised word without its leading conjunction/preposition + article."""
    if len(word) <= MIN_STEM or not is_arabic(word):
        return word
    for prefix in _ARTICLE_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= MIN_STEM:
            return word[len(prefix):]
    return word


@memoize(500_000)
def light_stem(word):
    """Strip clitic prefixes and common suffixes from a normalised word.

    Light stemming in the spirit of Larkey's light10: no roots, just the
    article with its conjunctions and prepositions, and inflectional or
    pronoun suffixes, never leaving fewer than three letters. A bare و or ف
    is left on: in "وزارة" or "فرنسا" it is the word's own first letter;
    `index_forms` adds the other reading ("وحكومة" = و + "حكومة").
    """
    if len(word) <= MIN_STEM or not is_arabic(word):
        return word
    stem = strip_proclitics(word)
    for suffix in _SUFFIXES:
        keep = MIN_STEM + 1 if suffix in _LONG_STEM_SUFFIXES else MIN_STEM
        if stem.endswith(suffix) and len(stem) - len(suffix) >= keep:
            stem = stem[: -len(suffix)]
            if suffix in _PRONOUN_SUFFIXES:
                # A pronoun may follow a plural ending: "مفاوضاتها" -> "مفاوضات" -> "مفاوض",
                # or a ta marbuta written ت: "حكومتها" -> "حكومت" -> "حكوم" (as "حكومه").
                for plural in _PLURAL_SUFFIXES:
                    if stem.endswith(plural) and len(stem) - len(plural) >= MIN_STEM:
                        stem = stem[: -len(plural)]
                        break
                else:
                    if stem.endswith("ت") and len(stem) - 1 >= MIN_STEM + 1:
                        stem = stem[:-1]
            break
    return stem


@memoize(500_000)
def skeleton(word):
    """Consonant skeleton of a normalised word for matching spelling variants
    of foreign names: long vowels, hamza seats and doubled letters dropped
    after the first letter, a final ه dropped, غ written ج. "" when fewer
    than three letters are left (too many words would share it)."""
    if not is_arabic(word):
        return ""
    # Letters doubled in the spelling count once ("موللر" = "مولر"); letters
    # that only meet once the vowels are gone stay ("جوجل" -> "ججل").
    word = "".join(ch for i, ch in enumerate(word) if i == 0 or ch != word[i - 1])
    rest = word[1:]
    if rest.endswith("ه"):
        rest = rest[:-1]
    letters = (word[0] + rest.translate(_SKELETON_DROP)).translate(_SKELETON_FOLD)
    return letters if len(letters) >= MIN_SKELETON else ""


@memoize(500_000)
def word_form_strings(normalized_word):
    """(exact, stem, skeleton) of a normalised word, as a plain tuple of
    strings: the garbage collector stops tracking those, so a big cache of
    them costs no collection time (a named tuple stays tracked for good)."""
    exact = strip_proclitics(normalized_word)
    return exact, light_stem(normalized_word), skeleton(exact)


def word_forms(normalized_word):
    """The exact form, stem and skeleton of a normalised word as a reader typed it."""
    return WordForms(*word_form_strings(normalized_word))


class Reading(NamedTuple):
    forms: WordForms
    weight: float   # how much an occurrence counts in the index (1 = fully)


# A bare و/ف before a word is nearly always the conjunction when the rest is a
# word too; a bare ب/ل is a preposition ("لترامب", "بكأس") or the word's own
# first letter ("كامل", "بعيد" hold no "أمل" or "عيد"), so that reading counts
# half.
CONJUNCTION_READING_WEIGHT = 1.0
PREPOSITION_READING_WEIGHT = 0.5
_PREPOSITIONS = ("ب", "ل")


@memoize(500_000)
def reading_words(normalized_word):
    """Every reading of a word in a text, with its weight: the word as it
    stands, and, when it starts with a bare و/ف and/or ب/ل (no article), the
    rest of it. The index keeps all readings, so a query's one reading finds
    the word whichever is right ("وحكومة" holds "حكومة", "لترامب" "ترامب").
    (word, weight) pairs, plain tuples the garbage collector leaves alone."""
    readings = [(normalized_word, 1.0)]
    if is_arabic(normalized_word) and strip_proclitics(normalized_word) == normalized_word:
        if normalized_word[0] in _CONJUNCTIONS and len(normalized_word) > MIN_STEM:
            readings.append((normalized_word[1:], CONJUNCTION_READING_WEIGHT))
        for word, weight in list(readings):
            if word[0] in _PREPOSITIONS and len(word) > MIN_STEM:
                readings.append((word[1:], weight * PREPOSITION_READING_WEIGHT))
    return tuple(readings)


@lru_cache(maxsize=500_000)
def index_forms(normalized_word):
    """The readings of a word (reading_words) with their forms, as the index
    keeps them. Named tuples, tracked by the garbage collector whatever
    caches them: for the index's analysis, not for a web worker's snippets."""
    return tuple(Reading(word_forms(word), weight) for word, weight in reading_words(normalized_word))


def analyze(text, stem=True, drop_stopwords=True):
    """The index terms of a text, in order."""
    terms = []
    for word, _start, _end in tokenize(text):
        term = normalize_word(word)
        if not term or (drop_stopwords and is_stopword(term)):
            continue
        terms.append(light_stem(term) if stem else term)
    return terms
