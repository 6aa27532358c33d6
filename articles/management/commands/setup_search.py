"""Create what the search engine needs before the first document.

For SolrCloud: upload our configset (solr/configsets/newsroom/conf) and
create the first collection and the alias that SEARCH_URL names, if they
are missing. Safe to run on every deploy. For Whoosh there is nothing to
set up: its index folder is made on the first write.
"""

from django.core.management.base import BaseCommand, CommandError

from articles.search.engines import EngineUnavailable, get_engine


class Command(BaseCommand):
    help = (
        "Set up the search engine named by SEARCH_URL (a Solr configset, collection and alias); idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--shards", type=int, default=None, help="shards of a new Solr collection (default 2)"
        )
        parser.add_argument(
            "--replicas",
            type=int,
            default=None,
            help="replicas of each shard of a new Solr collection (default 2)",
        )

    def handle(self, *args, **options):
        engine = get_engine()
        for name in ("shards", "replicas"):
            if options[name] is not None and options[name] < 1:
                raise CommandError(f"--{name} must be at least 1")
        try:
            engine.setup(stdout=self.stdout, shards=options["shards"], replicas=options["replicas"])
        except EngineUnavailable as error:
            raise CommandError(str(error)) from None
