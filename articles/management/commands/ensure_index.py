"""Before serving: make sure the search index can be read and matches the database."""
from django.core.management.base import BaseCommand, CommandError

from articles.search import consistency


class Command(BaseCommand):
    help = (
        "Check the search index at start-up: rebuild it from the database when it is "
        "missing, unreadable or built with other fields; apply queued changes; repair "
        "documents that differ from the database."
    )

    def handle(self, *args, **options):
        report = consistency.ensure_index()
        if options["verbosity"] >= 1:
            for line in report.lines:
                self.stdout.write(line)
        if report.failed:
            for pk, error in sorted(report.failed.items()):
                self.stderr.write(f"article {pk}: {error}")
            raise CommandError(f"{len(report.failed)} article(s) could not be indexed", returncode=1)
