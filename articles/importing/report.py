"""What an import tells its user: one line per problem, and a summary."""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Location:
    """Where a record came from, as a person would look for it."""

    path: str
    line: int | None = None      # line of a text file (1-based)
    record: int | None = None    # position in a JSON array (1-based)

    def __str__(self):
        if self.line is not None:
            return f"{self.path}:{self.line}"
        if self.record is not None:
            return f"{self.path}: record {self.record}"
        return self.path


@dataclass(frozen=True)
class Problem:
    """A file or record that was not imported, and why."""

    location: Location
    message: str

    def __str__(self):
        return f"{self.location}: {self.message}"


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    files: int = 0
    seconds: float = 0.0
    problems: list = field(default_factory=list)       # [Problem]
    index_errors: list = field(default_factory=list)   # [str]
    index_backlog: int = 0   # articles still queued for the search index

    @property
    def ok(self):
        return not self.failed and not self.index_errors

    def summary(self):
        files = "1 file" if self.files == 1 else f"{self.files} files"
        return (
            f"Imported: {self.imported}, updated: {self.updated}, skipped: {self.skipped}, "
            f"failed: {self.failed} ({files} in {self.seconds:.1f} s)"
        )


class NullProgress:
    """The service's progress protocol, doing nothing (tests, quiet runs)."""

    def start(self, total_bytes):
        pass

    def update(self, done_bytes, records):
        pass

    def close(self):
        pass
