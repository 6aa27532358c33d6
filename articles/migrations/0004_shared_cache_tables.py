"""The tables of the database caches (SHARED_CACHE_URL=db, the default of a
SolrCloud site), made wherever migrate runs: on a new site, on each app
server's first start, in the test databases.

createcachetable makes the table of every DatabaseCache in settings.CACHES
that is missing and leaves the others alone; for file or Redis caches it
does nothing. A site that switches to SHARED_CACHE_URL=db later, after this
migration ran, runs `manage.py createcachetable` once.
"""
from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0003_archivestate"),
    ]

    operations = [
        migrations.RunPython(create_cache_tables, migrations.RunPython.noop),
    ]
