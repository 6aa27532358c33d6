"""Reading import files: which files, in which format, record by record.

Every reader yields ArticleRecord objects and, for what it cannot read, a
Problem naming the file and line; it never stops at the first bad record.
Bytes are decoded line by line so that an undecodable byte costs only its
own record and is reported with its byte offset.
"""
import csv
import gzip
import json
import zlib
from pathlib import Path

from articles.importing.raw_text import NoArticleText, parse_raw_article
from articles.importing.records import RecordError, record_from_mapping, record_from_raw
from articles.importing.report import Location, Problem

# Bodies of long articles exceed the csv module's default field limit (128 KiB).
csv.field_size_limit(64 * 1024 * 1024)

RAW_TEXT = "raw text"
JSON_LINES = "JSON Lines"
JSON = "JSON"
CSV = "CSV"
FORMATS = {
    ".txt": RAW_TEXT,
    ".jsonl": JSON_LINES,
    ".ndjson": JSON_LINES,
    ".json": JSON,
    ".csv": CSV,
}
SUPPORTED = ".txt, .jsonl, .jsonl.gz, .json, .json.gz, .csv, .csv.gz"
_GZIP_ERRORS = (OSError, EOFError, zlib.error)


def file_format(path):
    """(format, gzipped) for a supported file name, else (None, False)."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    gzipped = bool(suffixes) and suffixes[-1] == ".gz"
    if gzipped:
        suffixes = suffixes[:-1]
    fmt = FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt == RAW_TEXT and gzipped:
        return None, False
    return fmt, gzipped


def discover(paths):
    """The files to import, in a stable order, and a Problem for each path
    that cannot be one. Inside folders, hidden files and files of other
    types (a README next to the data) are passed over in silence."""
    files, problems = [], []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
                if child.is_file() and not hidden and file_format(child)[0]:
                    files.append(child)
        elif path.is_file():
            if file_format(path)[0]:
                files.append(path)
            else:
                problems.append(Problem(Location(str(path)), f"unsupported file type (expected {SUPPORTED})"))
        else:
            problems.append(Problem(Location(str(path)), "no such file or folder"))
    # A file named twice ("data/demo data/demo/seeds") is read once.
    unique = {}
    for file in files:
        unique.setdefault(file.resolve(), file)
    return list(unique.values()), problems


def _undecodable(error, line_bytes, offset, gzipped):
    where = "of the uncompressed data" if gzipped else ""
    byte = line_bytes[error.start]
    return f"not UTF-8: undecodable byte 0x{byte:02x} at byte offset {offset + error.start} {where}".rstrip()


class FileReader:
    """Iterate over one file's records; `position` is how many of the file's
    bytes on disk have been read (for a progress bar)."""

    def __init__(self, path, default_source=None, extra_topics=()):
        self.path = Path(path)
        self.name = str(path)
        self.format, self.gzipped = file_format(path)
        self.size = self.path.stat().st_size
        self.default_source = default_source
        self.extra_topics = tuple(extra_topics)
        self._raw = None

    @property
    def position(self):
        if self._raw is None:
            return 0
        if self._raw.closed:
            return self.size
        return self._raw.tell()

    def __iter__(self):
        with open(self.path, "rb") as raw:
            self._raw = raw
            stream = gzip.GzipFile(fileobj=raw, mode="rb") if self.gzipped else raw
            if self.format == RAW_TEXT:
                yield from self._raw_text(stream)
            elif self.format == CSV:
                yield from self._csv(stream)
            elif self.format == JSON_LINES:
                yield from self._json_lines(stream)
            else:
                # A .json file holds either one array of records or JSON Lines.
                try:
                    array = self._starts_with_bracket(stream)
                except _GZIP_ERRORS as error:
                    yield Problem(self._location(line=1), f"cannot read the gzip data: {error}")
                    return
                yield from self._json_array(stream) if array else self._json_lines(stream)

    def _location(self, line=None, record=None):
        return Location(self.name, line=line, record=record)

    def _record(self, mapping, location):
        try:
            return record_from_mapping(mapping, location, self.default_source, self.extra_topics)
        except RecordError as error:
            return Problem(location, str(error))

    def _lines(self, stream):
        """(line number, byte offset, bytes) of each line; a Problem if the
        gzip data breaks off."""
        offset = 0
        number = 0
        try:
            for number, line in enumerate(stream, 1):
                yield number, offset, line
                offset += len(line)
        except _GZIP_ERRORS as error:
            yield Problem(self._location(line=number + 1), f"cannot read the gzip data: {error}")

    def _raw_text(self, stream):
        try:
            data = stream.read()
        except _GZIP_ERRORS as error:
            yield Problem(self._location(), f"cannot read the file: {error}")
            return
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            yield Problem(self._location(line=line), _undecodable(error, data, 0, self.gzipped))
            return
        location = self._location()
        try:
            raw = parse_raw_article(text)
            yield record_from_raw(raw, location, self.default_source, self.extra_topics)
        except (NoArticleText, RecordError) as error:
            yield Problem(location, str(error))

    def _json_lines(self, stream):
        for item in self._lines(stream):
            if isinstance(item, Problem):
                yield item
                return
            number, offset, line = item
            location = self._location(line=number)
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as error:
                yield Problem(location, _undecodable(error, line, offset, self.gzipped))
                continue
            if number == 1:
                text = text.removeprefix("\ufeff")
            if not text.strip():
                continue
            try:
                value = json.loads(text.rstrip("\r\n"))
            except json.JSONDecodeError as error:
                yield Problem(location, _bad_json(error))
                continue
            if not isinstance(value, dict):
                yield Problem(location, f"expected a JSON object, found {_json_kind(value)}")
                continue
            yield self._record(value, location)

    def _starts_with_bracket(self, stream):
        head = stream.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
        stream.seek(0)
        return head.startswith(b"[")

    def _json_array(self, stream):
        try:
            data = stream.read()
        except _GZIP_ERRORS as error:
            yield Problem(self._location(), f"cannot read the file: {error}")
            return
        try:
            values = json.loads(data.decode("utf-8-sig"))
        except UnicodeDecodeError as error:
            line = data.count(b"\n", 0, error.start) + 1
            yield Problem(self._location(line=line), _undecodable(error, data, 0, self.gzipped))
            return
        except json.JSONDecodeError as error:
            yield Problem(self._location(line=error.lineno), _bad_json(error))
            return
        for number, value in enumerate(values, 1):
            location = self._location(record=number)
            if isinstance(value, dict):
                yield self._record(value, location)
            else:
                yield Problem(location, f"expected a JSON object, found {_json_kind(value)}")

    def _csv(self, stream):
        bad_lines = {}

        def decoded(lines):
            for item in lines:
                if isinstance(item, Problem):
                    bad_lines["gzip"] = item
                    return
                number, offset, line = item
                try:
                    text = line.decode("utf-8")
                except UnicodeDecodeError as error:
                    bad_lines[number] = _undecodable(error, line, offset, self.gzipped)
                    text = line.decode("utf-8", "replace")
                yield text.removeprefix("\ufeff") if number == 1 else text

        lines = decoded(self._lines(stream))
        header_line = next(lines, "")
        if "gzip" in bad_lines:
            yield bad_lines["gzip"]
            return
        if not header_line.strip():
            yield Problem(self._location(line=1), "empty file: expected a header line with title and body columns")
            return
        if 1 in bad_lines:
            yield Problem(self._location(line=1), bad_lines[1])
            return
        delimiter = max(",;\t", key=header_line.count)
        header = [name.strip().lower() for name in next(csv.reader([header_line], delimiter=delimiter))]
        missing = [name for name in ("title", "body") if name not in header]
        if missing:
            yield Problem(
                self._location(line=1),
                f"the header has no {' or '.join(missing)} column (found: {', '.join(header)})",
            )
            return

        reader = csv.reader(lines, delimiter=delimiter)
        while True:
            first_line = reader.line_num + 2  # the header line was read before the reader
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                yield Problem(self._location(line=first_line), f"bad CSV: {error}")
                continue
            last_line = reader.line_num + 1
            location = self._location(line=first_line)
            undecodable = [bad_lines[n] for n in range(first_line, last_line + 1) if n in bad_lines]
            if undecodable:
                yield Problem(location, undecodable[0])
                continue
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                yield Problem(location, f"expected {len(header)} fields as in the header, found {len(row)}")
                continue
            yield self._record(dict(zip(header, row, strict=True)), location)
        if "gzip" in bad_lines:
            yield bad_lines["gzip"]


def _bad_json(error):
    # json's messages end with " at" before the position ("Expecting value at").
    return f"bad JSON: {error.msg.removesuffix(' at')} at column {error.colno}"


def _json_kind(value):
    return {list: "a list", str: "a string", bool: "true/false", type(None): "null"}.get(
        type(value), "a number"
    )
