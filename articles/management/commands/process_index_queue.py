"""Apply the queued search-index changes (those a busy or failing index left behind)."""
from django.core.management.base import BaseCommand, CommandError

from articles.search import index_queue as queue
from articles.search.engines import IndexBusy


class Command(BaseCommand):
    help = (
        "Apply every queued search-index change now. Saves drain the queue themselves; "
        "this catches up after a crash or a long-locked index, and can run from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help=f"Also retry changes that failed {queue.MAX_ATTEMPTS} times already.",
        )
        parser.add_argument(
            "--lock-wait",
            type=float,
            default=60.0,
            help="Seconds to wait for another process writing to the index (default 60).",
        )

    def handle(self, *args, retry_failed=False, lock_wait=60.0, **options):
        try:
            result = queue.drain(lock_wait=lock_wait, retry_failed=retry_failed)
        except IndexBusy as error:
            raise CommandError(f"the search index stayed locked: {error}") from error
        self.stdout.write(
            f"Applied {result.operations} queued change(s): "
            f"{result.indexed} document(s) written, {result.removed} removed."
        )
        for pk, error in sorted(result.failed.items()):
            self.stderr.write(f"article {pk}: {error}")
        given_up = queue.failing_operations().count()
        if given_up and not retry_failed:
            self.stderr.write(f"{given_up} change(s) failed too often; retry them with --retry-failed.")
        if result.failed:
            raise CommandError(f"{len(result.failed)} article(s) could not be indexed", returncode=1)
