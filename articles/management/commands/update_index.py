"""manage.py update_index: haystack's command, which writes around the index
queue's lock, replaced by a pointer to the commands that don't."""
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Not used by Newsroom: see manage.py rebuild_index and manage.py check_index --repair."

    def add_arguments(self, parser):
        parser.add_argument("args", nargs="*")
        parser.add_argument("--noinput", "--no-input", action="store_true")

    def handle(self, *args, **options):
        raise CommandError(
            "Newsroom keeps the search index in step by itself. To write it again from the "
            "database: manage.py rebuild_index (searches keep the old index until the new one is "
            "whole). To find and repair differences: manage.py check_index --repair."
        )
