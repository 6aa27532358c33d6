"""Posting lists of a rebuilt segment, also written as plain arrays beside it.

Whoosh keeps a posting list as pickled, zlib-compressed blocks. Every
process decodes a term's blocks the first time it scores the term
(articles.search.scoring): at 100,000 articles, about 1.5 ms per term over
the segments, most of the time of a first search or of an article's first
related stories, and done again by every worker.

The rebuild writer (articles.search.rebuild_writer) has each term's document
numbers and weights in arrays as it writes the blocks, so it also writes
them, raw, to `<segment id>.arrays` next to the segment. Server processes
memory-map that file: a term's postings are then a slice of it, shared by
all workers through the page cache, decoded by none.

The file is an optimisation only. A segment without one (written by
Whoosh's own writer: an editor's save, a merge), or with one that does not
check out, is decoded from its blocks as before. Whoosh deletes the file
with its segment: it matches Whoosh's pattern for a segment's files.

Layout (native byte order): MAGIC, then the term and posting counts
(uint64 each), then per term, ordered by where its postings start in the
segment's postings file: that start (int64), its first posting here
(int64), its count (uint32) and a flag (uint8: its weights were stored as
64-bit floats); then every posting's document number (uint32) and weight
(float32).
"""
import logging
import mmap
import os
from array import array

import numpy as np

from articles.search.engines.whoosh.segment_files import OpenedFiles

logger = logging.getLogger(__name__)

EXTENSION = "arrays"
MAGIC = b"NRPOSTv1"
_HEADER = len(MAGIC) + 16

_opened = OpenedFiles()  # .arrays files -> _SegmentArrays, or None for a file left aside


class ArraysWriter:
    """Collects the postings of one segment's terms, as they are written:
    a term's blocks go to `ids` and `weights` (extend them), then add_term()."""

    def __init__(self):
        self.starts = array("q")
        self.counts = array("I")
        self.wide = array("B")
        self.ids = array("I")
        self.weights = array("f")

    def add_term(self, postings_start, count, wide):
        """The term whose postings begin at `postings_start` in the postings
        file has the last `count` ids and weights; `wide`: its weights were
        stored as a tuple of floats in some block."""
        self.starts.append(postings_start)
        self.counts.append(count)
        self.wide.append(wide)

    def write(self, folder, segment_id):
        """Write the file for the segment, whole or not at all."""
        final = os.path.join(folder, f"{segment_id}.{EXTENSION}")
        # A name starting with a dot: Whoosh's clean-up leaves it alone.
        temporary = os.path.join(folder, f".{segment_id}.{EXTENSION}.tmp")
        counts = np.frombuffer(self.counts, dtype=np.uint32)
        firsts = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)[:-1]])
        with open(temporary, "wb") as out:
            out.write(MAGIC)
            out.write(np.array([len(self.starts), len(self.ids)], dtype=np.uint64).tobytes())
            for column in (self.starts, firsts, self.counts, self.wide, self.ids, self.weights):
                out.write(memoryview(column).cast("B"))
        os.replace(temporary, final)


class _SegmentArrays:
    def __init__(self, buffer, count, total):
        def column(dtype, length, offset):
            return np.frombuffer(buffer, dtype=dtype, count=length, offset=offset), offset + length * np.dtype(dtype).itemsize

        self.starts, offset = column(np.int64, count, _HEADER)
        self.firsts, offset = column(np.int64, count, offset)
        self.counts, offset = column(np.uint32, count, offset)
        self.wide, offset = column(np.uint8, count, offset)
        self.ids, offset = column(np.uint32, total, offset)
        self.weights, offset = column(np.float32, total, offset)

    # What segments.cache counts: the pages are the page cache's, shared.
    nbytes = 0

    def postings(self, postings_start):
        """(ids, weights) of the term whose postings begin at `postings_start`,
        as scoring decodes them from the blocks; None if the file lacks it."""
        at = int(np.searchsorted(self.starts, postings_start))
        if at == len(self.starts) or self.starts[at] != postings_start:
            return None
        first = int(self.firsts[at])
        end = first + int(self.counts[at])
        weights = self.weights[first:end]
        # Blocks whose weights differ were kept as a tuple of floats, which
        # the decoder turns into float64; blocks of equal weights into float32.
        return self.ids[first:end], weights.astype(np.float64) if self.wide[at] else weights


def arrays_of(reader):
    """The posting arrays of the segment `reader` reads, or None."""
    segment = reader.segment()
    folder = _folder_of(reader)
    if segment is None or folder is None:
        return None
    path = os.path.join(folder, f"{segment.segment_id()}.{EXTENSION}")
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return _opened.get(path, stat, lambda: _open(path, stat.st_size))


def _open(path, size):
    try:
        with open(path, "rb") as file:
            buffer = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        if buffer[: len(MAGIC)] != MAGIC:
            raise ValueError("not a posting arrays file")
        count, total = (int(n) for n in np.frombuffer(buffer, dtype=np.uint64, count=2, offset=len(MAGIC)))
        expected = _HEADER + count * (8 + 8 + 4 + 1) + total * (4 + 4)
        if size != expected:
            raise ValueError(f"{size} bytes, {expected} expected")
        return _SegmentArrays(buffer, count, total)
    except (OSError, ValueError) as error:
        logger.warning("posting arrays %s not used (%s): the segment's postings are decoded instead", path, error)
        return None


def _folder_of(reader):
    """The index folder of a segment reader (its storage overlays the
    compound file on the folder's storage), or None."""
    storage = reader.storage() if hasattr(reader, "storage") else None
    storage = getattr(storage, "b", storage)
    return getattr(storage, "folder", None)


def clear():
    """Forget every opened file (a fresh process's state, for tests)."""
    _opened.clear()
