"""Arabic text processing: one definition of "the same word".

The search index, the highlighter, the query parser and the import
fingerprint all call these functions, so a word found by search is
highlighted in the snippet and a re-imported article is recognised.

Everything here works on single tokens or plain strings and keeps no state,
so the hot functions are memoised: a news corpus repeats its words a lot.
"""
import re
import unicodedata
from functools import lru_cache

# Tashkeel (harakat, tanween, shadda, sukun), hamza/madda marks above and
# below, superscript alef, Quranic annotation marks.
DIACRITICS = (
    "\u0610-\u061a"
    "\u064b-\u065f"
    "\u0670"
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
        "\u0623": "\u0627",  # أ -> ا
        "\u0625": "\u0627",  # إ -> ا
        "\u0622": "\u0627",  # آ -> ا
        "\u0671": "\u0627",  # ٱ (wasla) -> ا
        "\u0672": "\u0627",  # ٲ wavy hamza above -> ا
        "\u0673": "\u0627",  # ٳ wavy hamza below -> ا
        "\u0649": "\u064a",  # ى -> ي
        "\u06cc": "\u064a",  # ی Farsi yeh -> ي
        "\u06d2": "\u064a",  # ے yeh barree -> ي
        "\u0626": "\u064a",  # ئ -> ي
        "\u0624": "\u0648",  # ؤ -> و
        "\u0629": "\u0647",  # ة -> ه
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

# A word: letters and digits of any script, with the marks and joiners that
# may sit inside an Arabic word (so "مُفَاوَضَات" stays one token).
WORD_RE = re.compile(f"(?:[^\\W_]|[{DIACRITICS}{TATWEEL}\u200c\u200d])+")

ARABIC_LETTER_RE = re.compile("[\u0621-\u064a]")

# Arabic function words, in normalised form (see normalize()).
STOPWORDS = frozenset(
    """
    في من على الي الى عن مع عند عنده عندما لدي لدى حتي حتى منذ خلال بين بعد قبل
    حول ضد دون غير سوي سوى نحو لدي تحت فوق امام وراء خلف عبر اثناء حين حيث
    و او ام ثم ف ب ل ك لا لم لن ما ماذا متي اين كيف لماذا هل اذا اذ ان انه انها
    انهم انما لكن لكنه بل قد لقد سوف كل بعض اي ايضا فقط كما مثل كذلك
    هو هي هم هن هما انا نحن انت انتم انتن انتما
    هذا هذه ذلك تلك هذان هاتان هؤلاء هولاء اولئك هناك هنا هنالك
    الذي التي الذين اللذين اللتين اللاتي اللواتي الذى
    كان كانت كانوا يكون تكون يكن تكن اصبح اصبحت ليس ليست لست
    به بها بهم بهن له لها لهم لهن منه منها منهم عليه عليها عليهم فيه فيها فيهم
    اليه اليها اليهم عنه عنها عنهم معه معها معهم
    وقد وكان وكانت وهو وهي وهذا وهذه وفي ومن وعلي وعلى والي والى وان ولا ولم
    ولن وما فقد فان فلا فهو فهي كانه لذلك لهذا بذلك بهذا
    يا اما الا الّا الاّ ذات ذو ذي غدا امس الان اليوم
    """.split()
)

MIN_STEM = 3

# Conjunction + article combinations first, longest first.
_ARTICLE_PREFIXES = ("وبال", "وكال", "فبال", "وال", "فال", "بال", "كال", "ولل", "فلل", "لل", "ال")
_CONJUNCTIONS = ("و", "ف")
_SUFFIXES = (
    "كما", "تما", "تين", "تان", "يين", "يون",
    "ها", "هم", "هن", "كم", "كن", "نا", "ون", "ين", "ات", "ان", "ية", "يه", "تم", "وا",
    "ه", "ي",
)
_PRONOUN_SUFFIXES = frozenset({"ها", "هم", "هن", "كم", "كن", "نا", "ه"})
_PLURAL_SUFFIXES = ("ات", "ون", "ين", "ان")


@lru_cache(maxsize=500_000)
def normalize_word(word):
    """Normalise one token: presentation forms, marks, letter variants, digits, case."""
    if not word:
        return ""
    # NFKC unfolds presentation forms and the lam-alef ligatures (ﻻ -> لا).
    word = unicodedata.normalize("NFKC", word)
    word = _STRIP_RE.sub("", word)
    return word.translate(_LETTER_MAP).casefold()


def normalize(text):
    """Normalise running text the way the index does, keeping spaces and punctuation."""
    text = unicodedata.normalize("NFKC", text or "")
    text = _STRIP_RE.sub("", text)
    return text.translate(_LETTER_MAP).casefold()


# The list above is written as people spell; the index compares normalised forms.
STOPWORDS = frozenset(normalize(word) for word in STOPWORDS)


def tokenize(text):
    """Yield (word, start, end) for each word of the original, unnormalised text."""
    for match in WORD_RE.finditer(text or ""):
        yield match.group(), match.start(), match.end()


def is_stopword(normalized_word):
    return normalized_word in STOPWORDS


def is_arabic(word):
    return ARABIC_LETTER_RE.search(word) is not None


@lru_cache(maxsize=500_000)
def light_stem(word):
    """Strip clitic prefixes and common suffixes from a normalised word.

    Light stemming in the spirit of Larkey's light10: no roots, just the
    conjunctions, the article with its prepositions, and inflectional or
    pronoun suffixes, never leaving fewer than three letters.
    """
    if len(word) <= MIN_STEM or not is_arabic(word):
        return word
    stem = word
    for prefix in _ARTICLE_PREFIXES:
        if stem.startswith(prefix) and len(stem) - len(prefix) >= MIN_STEM:
            stem = stem[len(prefix):]
            break
    else:
        if stem[0] in _CONJUNCTIONS and len(stem) - 1 > MIN_STEM:
            stem = stem[1:]
    for suffix in _SUFFIXES:
        if stem.endswith(suffix) and len(stem) - len(suffix) >= MIN_STEM:
            stem = stem[: -len(suffix)]
            # A pronoun may follow a plural ending: "مفاوضاتها" -> "مفاوضات" -> "مفاوض".
            if suffix in _PRONOUN_SUFFIXES:
                for plural in _PLURAL_SUFFIXES:
                    if stem.endswith(plural) and len(stem) - len(plural) >= MIN_STEM:
                        stem = stem[: -len(plural)]
                        break
            break
    return stem


def analyze(text, stem=True, drop_stopwords=True):
    """The index terms of a text, in order."""
    terms = []
    for word, _start, _end in tokenize(text):
        term = normalize_word(word)
        if not term or (drop_stopwords and term in STOPWORDS):
            continue
        terms.append(light_stem(term) if stem else term)
    return terms
