"""A segment's files opened once per process, shared by every index version
that holds the segment.

Whoosh opens every segment afresh for each new version of the index: after
an editor's save, the writer (to find the document it replaces) and then
each server process (to search the new version) open all the segments
again. Opening a compound segment copies each of its files out of the
memory map into a BytesIO (whoosh.filedb.structfile.BufferFile): at
100,000 articles about half a second per process and version, for files
that never change once written.

Here the compound file of a segment of our index is opened once and its
files are handed to every reader of every version; closing them is left to
the process (opening a new segment lets go of those whose file a merge or a
fresh index has deleted).
Readers of the same segment then share the files' read positions, as
Whoosh's matchers of one reader already do: each read seeks first.
Other indexes (the benchmarks' stock haystack baseline) are left alone.
"""
import os
import threading

from whoosh.codec.base import Segment

_lock = threading.Lock()
_folders = set()
_shared = {}  # (folder, file name, inode, size, mtime) -> shared CompoundStorage
_original_open_compound_file = Segment.open_compound_file


def share_segments_of(folder):
    """Share the segment files of the index in `folder` from now on."""
    with _lock:
        _folders.add(os.path.realpath(folder))
        if Segment.open_compound_file is _original_open_compound_file:
            Segment.open_compound_file = _open_compound_file


def clear():
    """Let go of every shared file (a fresh process's state, for tests)."""
    with _lock:
        _shared.clear()


def shared_count():
    return len(_shared)


def _open_compound_file(segment, storage):
    folder = getattr(storage, "folder", None)
    folder = os.path.realpath(folder) if folder else None
    if folder not in _folders:
        return _original_open_compound_file(segment, storage)
    name = segment.make_filename(Segment.COMPOUND_EXT)
    try:
        stat = os.stat(os.path.join(folder, name))
    except OSError:
        return _original_open_compound_file(segment, storage)  # raises as Whoosh would
    key = (folder, name, stat.st_ino, stat.st_size, stat.st_mtime_ns)
    with _lock:
        found = _shared.get(key)
    if found is None:
        found = _shareable(_original_open_compound_file(segment, storage))
        with _lock:
            found = _shared.setdefault(key, found)
            # A new segment comes with every commit that deletes others (a
            # merge, an optimize, a fresh index): let go of those here.
            for gone in [k for k in _shared if not os.path.exists(os.path.join(k[0], k[1]))]:
                del _shared[gone]
    return found


def _shareable(compound):
    """The compound storage, with open_file() remembering each file it
    opens and close() leaving them open for the next version's readers."""
    files = {}
    open_file = compound.open_file

    def open_shared(name, *args, **kwargs):
        found = files.get(name)
        if found is None:
            found = open_file(name, *args, **kwargs)
            found.close = _keep_open
            files[name] = found
        return found

    compound.open_file = open_shared
    compound.close = _keep_open
    return compound


def _keep_open():
    pass
