"""Loading articles: the importer (manage.py import_articles) against the benchmarks' bulk loader.

    python bench/bench_import.py                 # 5,000 records of the large corpus
    python bench/bench_import.py --count 20000

Each run starts from an empty database in a scratch var dir. The importer
checks every record for duplicates, saves it in its own savepoint and keeps
the search index in step (one index write per batch); the bulk loader
(bench/load_articles.py, for benchmarks only) writes rows with bulk_create
and no index. The importer's figure includes indexing.
"""
import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402


def fresh(name):
    var_dir = Path(tempfile.mkdtemp(prefix=f"bench-import-{name}-", dir=common.SCRATCH))
    ds = common.DataSet(name, common.large_corpus_path(), None)
    env = ds.env()
    env["NEWSROOM_VAR_DIR"] = str(var_dir)
    common.run([common.PYTHON, "manage.py", "migrate", "--noinput", "--verbosity", "0"], env=env)
    return var_dir, env


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=5000)
    args = parser.parse_args()
    common.print_header("Loading articles")
    common.SCRATCH.mkdir(parents=True, exist_ok=True)
    sample = common.SCRATCH / f"import-sample-{args.count}.jsonl"
    if not sample.exists():
        with open(common.large_corpus_path(), encoding="utf-8") as source:
            sample.write_text("".join(line for _n, line in zip(range(args.count), source)), encoding="utf-8")
    rows = []
    for name, command in [
        ("import_articles (with indexing)", ["manage.py", "import_articles", str(sample), "--no-progress"]),
        ("bench/load_articles.py (no index)", ["bench/load_articles.py", str(sample)]),
    ]:
        var_dir, env = fresh("importer" if "import_" in name else "loader")
        try:
            measured = common.measure([common.PYTHON, *command], env)
            rows.append([name, args.count, measured.wall, args.count / measured.wall, measured.peak_rss_mb])
            print(f"{name}: {measured.wall:.1f} s, {args.count / measured.wall:.0f} articles/s", flush=True)
        finally:
            shutil.rmtree(var_dir, ignore_errors=True)
    print()
    print(common.table(rows, ["loader", "records", "wall s", "articles/s", "peak RSS MB"]))


if __name__ == "__main__":
    main()
