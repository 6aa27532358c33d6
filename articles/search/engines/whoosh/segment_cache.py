"""What a process keeps per index segment, across index versions.

A Whoosh segment never changes once written: a commit adds segments, merges
some into a new one, or marks documents of old ones deleted. So what is
read from a segment (the document bitmaps of a term or facet value, a
decoded posting list, a column of field lengths) stays true for as long as
the segment exists, whatever version of the index it is part of. After an
editor's save, the new version's searches read only the new small segment.

Deletions are not in anything kept here: callers mask with the version's
live documents.
"""
import threading
from collections import OrderedDict

from django.conf import settings

# Megabytes kept per process unless settings.NEWSROOM_SEARCH_CACHE_MB says otherwise.
DEFAULT_CACHE_MB = 96

_MISSING = object()


class SegmentCache:
    """Values per (segment, key), least recently used dropped beyond
    `max_bytes` (default: the setting, read on first use)."""

    def __init__(self, max_bytes=None):
        self.max_bytes = max_bytes
        self.size = 0
        self._entries = OrderedDict()
        self._lock = threading.Lock()

    def get(self, reader, key, make):
        """The value for `key` in the segment `reader` reads, made by
        make(reader, *key[1:]) when it is not kept yet (key[0] names the kind)."""
        entry_key = (*segment_key(reader), *key)
        with self._lock:
            found = self._entries.get(entry_key, _MISSING)
            if found is not _MISSING:
                self._entries.move_to_end(entry_key)
                return found[0]
        value = make(reader, *key[1:])
        weight = size_of(value)
        with self._lock:
            if entry_key not in self._entries:
                self._entries[entry_key] = (value, weight)
                self.size += weight
                if self.max_bytes is None:
                    self.max_bytes = max(1, getattr(settings, "NEWSROOM_SEARCH_CACHE_MB", DEFAULT_CACHE_MB)) << 20
                while self.size > self.max_bytes and len(self._entries) > 1:
                    _key, (_value, dropped) = self._entries.popitem(last=False)
                    self.size -= dropped
        return value

    def clear(self):
        with self._lock:
            self._entries.clear()
            self.size = 0


def segment_key(reader):
    segment = reader.segment()
    if segment is None:  # the reader of an empty index
        return ("empty", id(reader))
    # The id is random; with its size and per-field lengths it cannot name
    # two contents, even when a test has seeded `random`.
    lengths = tuple(sorted(getattr(segment, "_fieldlengths", {}).items()))
    return (segment.segment_id(), reader.doc_count_all(), lengths)


def size_of(value):
    """Roughly the bytes a kept value holds."""
    if value is None:
        return 32
    if isinstance(value, int):
        return (value.bit_length() + 7) // 8 + 32
    if hasattr(value, "nbytes"):  # numpy arrays
        return value.nbytes + 96
    if isinstance(value, (bytes, str)):
        return len(value) + 50
    if isinstance(value, float):
        return 24
    if isinstance(value, tuple):
        return sum(size_of(part) for part in value) + 56
    if isinstance(value, dict):
        return sum(size_of(part) + 64 for part in value.values()) + 64
    raise TypeError(f"cannot size {type(value).__name__}")


cache = SegmentCache()
