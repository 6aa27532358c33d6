"""manage.py build_index: write the whole search index again from the database, fast."""
import time

from django.core.management.base import BaseCommand, CommandError
from whoosh.index import LockError

from articles.search import indexing


class Command(BaseCommand):
    help = (
        "Rebuild the search index from the database in several processes. Searches keep "
        "the old index until the new one is complete. Faster than haystack's rebuild_index, "
        "which writes one batch and one commit at a time."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--procs", type=int, default=None, metavar="N",
            help=f"index writer processes (default: one per CPU, here {indexing.default_procs()})",
        )
        parser.add_argument(
            "--batch-size", type=int, default=indexing.BATCH_SIZE, metavar="N",
            help=f"articles read from the database at a time (default {indexing.BATCH_SIZE})",
        )

    def handle(self, *args, procs=None, batch_size=indexing.BATCH_SIZE, **options):
        if procs is not None and procs < 1:
            raise CommandError("--procs must be at least 1")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        verbose = options["verbosity"] >= 2

        def progress(done):
            if verbose and done % 10000 < batch_size:
                self.stderr.write(f"  {done} articles read")

        started = time.perf_counter()
        try:
            count = indexing.rebuild(procs=procs, batch_size=batch_size, progress=progress)
        except LockError as error:
            raise CommandError(str(error)) from error
        seconds = time.perf_counter() - started
        if options["verbosity"] >= 1:
            rate = count / seconds if seconds else 0
            self.stdout.write(f"Indexed {count} articles in {seconds:.1f} s ({rate:.0f} articles/s).")
