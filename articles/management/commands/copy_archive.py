"""manage.py copy_archive SOURCE_DATABASE_URL: move an archive into this
site's database (SQLite to PostgreSQL, typically), checked table by table.
The work is done by articles.archive_copy."""
from django.core.management.base import BaseCommand, CommandError

from articles import archive_copy


class Command(BaseCommand):
    help = (
        "Copy every article, source, topic, queued index update, user, group, permission and "
        "admin log entry from SOURCE_DATABASE_URL (e.g. sqlite:///var/newsroom.sqlite3) into "
        "this site's database (DATABASE_URL), keeping their ids, in one transaction. Each table "
        "is then compared with the source (row count and sha256 of its rows); any difference "
        "and nothing is kept. Run `manage.py rebuild_index` afterwards."
    )

    def add_arguments(self, parser):
        parser.add_argument("source_url", metavar="SOURCE_DATABASE_URL")
        parser.add_argument(
            "--replace", action="store_true",
            help="delete what this site's database holds first (refused otherwise when it is not empty)",
        )
        parser.add_argument(
            "--batch-size", type=int, default=archive_copy.BATCH_SIZE, metavar="N",
            help=f"rows read and written at a time (default {archive_copy.BATCH_SIZE})",
        )

    def handle(self, *args, source_url, replace, batch_size, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        shown = archive_copy.describe_url(source_url)
        self.stdout.write(f"Copying {shown} into this site's database ({self._target()})")
        log = self.stdout.write if options["verbosity"] >= 1 else None
        try:
            result = archive_copy.copy_archive(source_url, replace=replace, batch_size=batch_size, log=log)
        except archive_copy.CopyFailed as error:
            if error.tables:
                self._table(error.tables)
            raise CommandError(str(error)) from error
        self._table(result.tables)
        self.stdout.write(
            self.style.SUCCESS(
                f"Copied and verified {len(result.tables)} tables, {result.rows} rows: "
                "every table's row count and checksum match the source's."
            )
        )
        if result.version_note:
            self.stdout.write(result.version_note)
        self.stdout.write(
            "The search index is not copied: run `python manage.py rebuild_index` now to index the copied articles."
        )

    def _target(self):
        from django.db import connection

        settings = connection.settings_dict
        if connection.vendor == "sqlite":
            return f"sqlite {settings['NAME']}"
        host = settings.get("HOST") or "localhost"
        port = f":{settings['PORT']}" if settings.get("PORT") else ""
        return f"{connection.vendor} {host}{port}/{settings['NAME']}"

    def _table(self, tables):
        width = max(len(table.table) for table in tables)
        self.stdout.write(f"  {'table':<{width}}  {'source rows':>11}  {'target rows':>11}  sha256 of the rows")
        for table in tables:
            same = table.matches
            mark = "" if same else "  DIFFERS, target: " + (table.target_checksum or "not read")
            line = f"  {table.table:<{width}}  {table.source_rows:>11}  {table.target_rows:>11}  {table.source_checksum}{mark}"
            self.stdout.write(line if same else self.style.ERROR(line))
