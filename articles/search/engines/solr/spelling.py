"""Spelling candidates from Solr's spellcheck component, held to our rule.

Solr's DirectSolrSpellChecker walks a Levenshtein automaton over the exact
word forms (maxEdits 2, minPrefix 1, see solrconfig.xml), but it counts a
swap of two letters as one edit and has no per-request edit limit; Whoosh,
whose answers the did-you-mean of articles.search.service was tuned on,
counts plain edits. So the suggestions are only candidates: `within` keeps
those at most `max_edits` plain edits away that share the first letter.
"""


def edit_distance(a, b, limit):
    """Levenshtein distance of a and b, or limit + 1 once it exceeds limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def within(word, frequencies, max_edits):
    """The {candidate: frequency} at most `max_edits` edits from `word` that
    start with its first letter (the word itself included, as Whoosh
    includes it), found in at least one document."""
    return {
        candidate: frequency
        for candidate, frequency in frequencies.items()
        if frequency > 0
        and candidate[:1] == word[:1]
        and edit_distance(word, candidate, max_edits) <= max_edits
    }


def suggested_frequencies(response, word):
    """{word: document frequency} of the words the spellcheck component
    proposes for `word`, and of `word` itself when the index has it
    (extendedResults, json.nl=map; frequencies summed over the shards)."""
    suggestions = (response.get("spellcheck") or {}).get("suggestions") or {}
    if isinstance(suggestions, list):  # json.nl=flat: [word, {...}, ...]
        suggestions = dict(zip(suggestions[::2], suggestions[1::2], strict=False))
    found = {}
    for entry in suggestions.values():
        if not isinstance(entry, dict):
            continue
        if entry.get("origFreq"):
            found[word] = int(entry["origFreq"])
        for suggestion in entry.get("suggestion", []):
            if isinstance(suggestion, dict):
                found[suggestion["word"]] = int(suggestion.get("freq", 0))
    return found
