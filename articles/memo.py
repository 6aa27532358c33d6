"""Memoising a one-argument function in a plain dict the garbage collector can skip.

functools.lru_cache links its entries in a list that every full collection
walks, whatever they hold: the word caches of a web worker (some 60,000
words each after the snippets of a few hundred searches) made each full
collection 130 ms longer, and the request that met it waited. A dict of
strings, or of plain tuples of strings, is left out of collections
altogether. The price is the eviction: a full cache is emptied at once,
not one least recently used entry at a time.
"""
import functools


def memoize(maxsize):
    """Decorator: remember up to `maxsize` results of a function of one hashable argument."""

    def decorate(function):
        cache = {}

        @functools.wraps(function)
        def memoized(argument):
            try:
                return cache[argument]
            except KeyError:
                pass
            if len(cache) >= maxsize:
                cache.clear()
            result = cache[argument] = function(argument)
            return result

        memoized.cache = cache
        return memoized

    return decorate
