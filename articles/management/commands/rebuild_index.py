"""manage.py rebuild_index: the one way to write the whole search index again."""
import time

from django.core.management.base import BaseCommand, CommandError

from articles.search import consistency
from articles.search.engines import EngineUnavailable, IndexBusy, get_engine


class Command(BaseCommand):
    help = (
        "Write the whole search index again from the database. Searches are served by the "
        "old index until the new one is complete (Whoosh: one commit replacing every segment; "
        "Solr: a new collection, then the alias moves to it). Replaces haystack's rebuild_index, "
        "which deletes the live index first."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--procs", type=int, default=None, metavar="N",
            help="Whoosh: index writer processes (default: one per CPU, at most 4)",
        )
        # Accepted for scripts written for haystack's command; there is nothing to confirm.
        parser.add_argument(
            "--noinput", "--no-input", action="store_true",
            help="accepted and ignored: the rebuild never leaves readers without an index",
        )

    def handle(self, *args, procs=None, **options):
        if procs is not None and procs < 1:
            raise CommandError("--procs must be at least 1")
        engine = get_engine()
        verbose = options["verbosity"] >= 2

        def progress(done):
            if verbose and done % 10000 < 1000:
                self.stderr.write(f"  {done} articles read")

        extra = {"procs": procs} if procs is not None else {}
        started = time.perf_counter()
        try:
            count = consistency.rebuild(progress=progress, engine=engine, **extra)
        except (IndexBusy, EngineUnavailable) as error:
            raise CommandError(str(error)) from error
        seconds = time.perf_counter() - started
        if options["verbosity"] >= 1:
            rate = count / seconds if seconds else 0
            self.stdout.write(
                f"Indexed {count} articles in {seconds:.1f} s ({rate:.0f} articles/s): {engine.describe()}."
            )

