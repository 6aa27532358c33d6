"""The tables of the database caches (SHARED_CACHE_URL=db, the default of a
SolrCloud site), made wherever migrate runs: on a new site, on each app
server's first start, in the test databases.

The default tables (newsroom_cache, newsroom_cache_security) are made
whatever the settings say now, so that a site which moves to SolrCloud
after migrating (DATABASE_URL first, SEARCH_URL later) finds them there;
createcachetable also makes those of any other DatabaseCache in
settings.CACHES (SHARED_CACHE_URL=db://<table>). It leaves existing tables
alone. A site that names a table of its own after this migration ran runs
`manage.py createcachetable` once.
"""
from django.core.management import call_command
from django.db import migrations

DEFAULT_TABLES = ("newsroom_cache", "newsroom_cache_security")


def create_cache_tables(apps, schema_editor):
    database = schema_editor.connection.alias
    call_command("createcachetable", *DEFAULT_TABLES, database=database, verbosity=0)
    call_command("createcachetable", database=database, verbosity=0)


class Migration(migrations.Migration):

    dependencies = [
        ("articles", "0003_archivestate"),
    ]

    operations = [
        migrations.RunPython(create_cache_tables, migrations.RunPython.noop),
    ]
