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


class OpenedFiles:
    """Files opened once per process, each as it is on disk (path, inode,
    size, modification time). Those deleted since (by a merge, an
    optimize, a fresh index) are let go whenever another is opened."""

    def __init__(self):
        self._lock = threading.Lock()
        self._files = {}  # (path, inode, size, mtime) -> what open_file() gave

    def get(self, path, stat, open_file):
        """What open_file() gives for the file at `path` (`stat` its
        os.stat()), made on the first call for this file."""
        key = (path, stat.st_ino, stat.st_size, stat.st_mtime_ns)
        with self._lock:
            if key in self._files:
                return self._files[key]
        found = open_file()
        with self._lock:
            found = self._files.setdefault(key, found)
            for gone in [k for k in self._files if not os.path.exists(k[0])]:
                del self._files[gone]
        return found

    def clear(self):
        with self._lock:
            self._files.clear()

    def __len__(self):
        return len(self._files)


_lock = threading.Lock()
_folders = set()
_shared = OpenedFiles()  # compound files -> shared CompoundStorage
_original_open_compound_file = Segment.open_compound_file


def share_segments_of(folder):
    """Share the segment files of the index in `folder` from now on."""
    with _lock:
        _folders.add(os.path.realpath(folder))
        if Segment.open_compound_file is _original_open_compound_file:
            Segment.open_compound_file = _open_compound_file


def clear():
    """Let go of every shared file (a fresh process's state, for tests)."""
    _shared.clear()


def shared_count():
    return len(_shared)


def _open_compound_file(segment, storage):
    folder = getattr(storage, "folder", None)
    folder = os.path.realpath(folder) if folder else None
    if folder not in _folders:
        return _original_open_compound_file(segment, storage)
    path = os.path.join(folder, segment.make_filename(Segment.COMPOUND_EXT))
    try:
        stat = os.stat(path)
    except OSError:
        return _original_open_compound_file(segment, storage)  # raises as Whoosh would
    # A new segment comes with every commit that deletes others: opening it
    # lets go of theirs.
    return _shared.get(path, stat, lambda: _shareable(_original_open_compound_file(segment, storage)))


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
