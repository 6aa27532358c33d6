"""manage.py import_articles PATH... : files and folders of articles into the archive."""
import sys

from django.core.management.base import BaseCommand, CommandError

from articles.importing.readers import SUPPORTED
from articles.importing.service import DEFAULT_BATCH_SIZE, Importer, ImportOptions


class Command(BaseCommand):
    help = (
        "Import articles from raw page text (.txt), JSON Lines (.jsonl, .jsonl.gz, .json) "
        "and CSV (.csv, .csv.gz) with the fields id, title, body, source, published, "
        "category, url. Folders are searched for such files. Importing the same files "
        "again adds no duplicates."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH", help=f"files ({SUPPORTED}) or folders")
        parser.add_argument("--source", metavar="NAME", help="source (outlet) of articles that name none")
        parser.add_argument(
            "--topic", metavar="NAME", action="append", default=[], dest="topics",
            help="add this topic to every imported article (repeatable)",
        )
        parser.add_argument(
            "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, metavar="N",
            help=f"records per transaction and per search index update (default {DEFAULT_BATCH_SIZE})",
        )
        bar = parser.add_mutually_exclusive_group()
        bar.add_argument(
            "--progress", action="store_true", default=None,
            help="show a progress bar (the default when stderr is a terminal)",
        )
        bar.add_argument("--no-progress", action="store_false", dest="progress", help="no progress bar")

    def handle(self, *args, **options):
        try:
            import_options = ImportOptions(
                default_source=options["source"],
                topics=tuple(options["topics"]),
                batch_size=options["batch_size"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from None

        show_bar = options["progress"]
        if show_bar is None:
            show_bar = self.stderr.isatty()
        progress = ProgressBar(self._raw_stderr()) if show_bar else None
        write_problem = progress.write if progress else self.stderr.write

        importer = Importer(import_options, on_problem=lambda p: write_problem(str(p)), progress=progress)
        try:
            report = importer.run(options["paths"])
        except KeyboardInterrupt:
            self.stdout.write(importer.report.summary())
            raise CommandError("interrupted: the batch being saved was rolled back", returncode=130) from None

        self.stdout.write(report.summary())
        if report.index_backlog:
            self.stderr.write(
                f"{report.index_backlog} article(s) still wait for the search index (it was busy or "
                "failed; see the log): run manage.py process_index_queue"
            )
        if report.failed:
            noun = "record or file" if report.failed == 1 else "records or files"
            raise CommandError(f"{report.failed} {noun} failed to import (see the lines above)")
        if report.index_errors:
            raise CommandError("the articles were saved but a step after saving failed (see above)")

    def _raw_stderr(self):
        # tqdm redraws its line with "\r"; Django's OutputWrapper would add a
        # newline to every write, so the bar gets the stream underneath.
        return getattr(self.stderr, "_out", sys.stderr)


class ProgressBar:
    """The import service's progress protocol drawn by tqdm (bytes of input read)."""

    def __init__(self, stream):
        self.stream = stream
        self.bar = None

    def start(self, total_bytes):
        from tqdm import tqdm

        self.bar = tqdm(
            total=total_bytes, unit="B", unit_scale=True, unit_divisor=1024,
            desc="Importing", file=self.stream, dynamic_ncols=True, mininterval=0.2,
        )

    def update(self, done_bytes, records):
        self.bar.set_postfix_str(f"{records} records", refresh=False)
        step = min(done_bytes, self.bar.total) - self.bar.n
        if step > 0:
            self.bar.update(step)

    def write(self, message):
        if self.bar is None:
            print(message, file=self.stream)
        else:
            self.bar.write(message, file=self.stream)

    def close(self):
        if self.bar is not None:
            self.bar.close()
