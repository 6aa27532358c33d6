"""Fingerprints that recognise the same article however it was spelled or marked up."""
import hashlib

from articles.arabic import WORD_RE, normalize_word


def article_fingerprint(title, body):
    """SHA-256 of the normalised words of title and body.

    Diacritics, tatweel, letter variants, digits, punctuation and spacing do
    not change it, so a re-import of the same text with cosmetic differences
    is recognised as the same article.
    """
    words = [normalize_word(word) for word in WORD_RE.findall(f"{title}\n{body}")]
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()
