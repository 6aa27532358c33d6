"""Compare the search index with the database; with --repair, fix what differs."""
from django.core.management.base import BaseCommand, CommandError

from articles.search import consistency
from articles.search import index_queue as queue

SHOWN_IDS = 20


class Command(BaseCommand):
    help = (
        "Compare the search index with the database: articles missing from the index, "
        "documents that disagree with their article (stale), documents of deleted "
        "articles (orphaned). Exits with status 1 when it finds any, unless --repair "
        "fixes them all."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair",
            action="store_true",
            help="Apply queued changes, then rewrite every differing document from the database.",
        )

    def handle(self, *args, repair=False, **options):
        verbose = options["verbosity"] >= 2
        if repair:
            drained = queue.drain(retry_failed=True)
            if drained.operations:
                self.stdout.write(f"Applied {drained.operations} queued change(s).")
        differences = consistency.compare()
        self._print(differences, verbose)
        pending = queue.pending_count()
        if pending:
            self.stdout.write(f"{pending} change(s) are queued for the index (manage.py process_index_queue).")
        if not differences:
            return
        if not repair:
            raise CommandError(
                f"the search index differs from the database in {differences.total} article(s); "
                "run 'python manage.py check_index --repair'",
                returncode=1,
            )
        failed = consistency.repair(differences)
        after = consistency.compare()
        if after or failed:
            self._print(after, verbose)
            for pk, error in sorted(failed.items()):
                self.stderr.write(f"article {pk}: {error}")
            raise CommandError(f"{after.total} difference(s) remain after the repair", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"Repaired {differences.total} difference(s)."))

    def _print(self, differences, verbose):
        self.stdout.write(
            f"{differences.articles} article(s) in the database, "
            f"{differences.documents} document(s) in the search index."
        )
        for label, items in (
            ("missing (in the database, not in the index)", differences.missing),
            ("stale (the document disagrees with the article)", differences.stale),
            ("orphaned (in the index, not in the database)", differences.orphaned),
        ):
            self.stdout.write(f"{label}: {len(items)}{_listing(items, verbose)}")
        if not differences:
            self.stdout.write(self.style.SUCCESS("The search index matches the database."))


def _listing(items, verbose):
    if not items:
        return ""
    shown = items if verbose else items[:SHOWN_IDS]
    more = len(items) - len(shown)
    return " — " + ", ".join(map(str, shown)) + (f" … and {more} more" if more else "")
