"""Score our search against baselines on a query set with graded judgments."""
from django.core.management.base import BaseCommand, CommandError

from articles.evaluation import engines, runner, trec


class Command(BaseCommand):
    help = (
        "Run each query of QUERIES (qid<TAB>text) through several engines over the articles in the "
        "database and print nDCG@10, MRR@10, Recall@100 and P@10 against QRELS (qid 0 docid grade), "
        "with query latency."
    )

    def add_arguments(self, parser):
        parser.add_argument("--queries", help="TSV file: qid<TAB>query text")
        parser.add_argument("--qrels", help="TREC qrels: qid 0 docid relevance (0, 1, 2)")
        parser.add_argument(
            "--engines",
            default=",".join(engines.DEFAULT_ENGINES),
            help=f"comma-separated, from: {', '.join(engines.ENGINES)} (default: %(default)s)",
        )
        parser.add_argument("--run-dir", help="write a TREC run file per engine here (ENGINE.run)")
        parser.add_argument("--no-warmup", action="store_true", help="time the first pass over the queries")
        parser.add_argument(
            "--export-corpus",
            metavar="PATH",
            help="write the database's articles as corpus JSON Lines (for the peer harness) and stop",
        )

    def handle(self, *args, **options):
        if options["export_corpus"]:
            count = runner.export_corpus(options["export_corpus"])
            self.stdout.write(f"{count} articles written to {options['export_corpus']}")
            return
        if not options["queries"] or not options["qrels"]:
            raise CommandError("--queries and --qrels are required")
        names = [name.strip() for name in options["engines"].split(",") if name.strip()]
        unknown = [name for name in names if name not in engines.ENGINES]
        if unknown or not names:
            raise CommandError(f"unknown engine(s) {', '.join(unknown) or '(none)'}; choose from {', '.join(engines.ENGINES)}")
        try:
            queries = trec.read_queries(options["queries"])
            qrels = trec.read_qrels(options["qrels"])
        except (OSError, trec.TrecFormatError) as error:
            raise CommandError(str(error)) from None
        if not queries:
            raise CommandError(f"{options['queries']} holds no queries")

        reports = runner.evaluate_engines(
            names,
            queries,
            qrels,
            run_dir=options["run_dir"],
            warmup=not options["no_warmup"],
            log=lambda message: self.stderr.write(message),
        )
        self.stdout.write(runner.format_table(reports))
        for report in reports:
            line = f"{report.name}: {report.description}"
            if report.build_seconds:
                line += f"; index built in {report.build_seconds:.1f} s"
            if report.run_path:
                line += f"; run {report.run_path}"
            self.stdout.write(line)
