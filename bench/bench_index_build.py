"""Full index build: articles per second, wall time and peak memory, ours against stock haystack.

    python bench/bench_index_build.py                          # 10k, 50k, 100k of the large corpus
    python bench/bench_index_build.py --sizes real,10000       # the real corpus (39,933) and 10k
    python bench/bench_index_build.py --sizes 100000 --no-stock

For each data set (loaded into its own SQLite database once, see
bench/common.py), in fresh processes:

- ours:  `manage.py build_index` (articles.search.indexing.rebuild: several
  writer processes, one segment each, keyset batches), or haystack's
  rebuild_index through our backend where build_index does not exist yet;
- stock: `manage.py rebuild_index --using stock`: haystack's stock
  WhooshEngine (StemmingAnalyzer, stored fields) on the same rows, with the
  same SearchIndex.

Peak memory is given for the largest single process (getrusage) and for
the command with all its sub-processes (the sum of their resident sizes,
sampled every 100 ms). CPU s is the user and system time of the command
and its sub-processes: on a busy machine, wall time grows, CPU time hardly.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402


def build(ds, command):
    measured = common.measure([common.PYTHON, "manage.py", *command], ds.env())
    return measured


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,50000,100000", help='comma-separated sizes of the large corpus, or "real"')
    parser.add_argument("--no-stock", action="store_true", help="skip the stock haystack baseline")
    parser.add_argument("--procs", type=int, help="build_index --procs (default: one per CPU)")
    args = parser.parse_args()

    common.print_header("Full index build")
    rows = []
    for spec in args.sizes.split(","):
        ds = common.dataset(spec.strip())
        articles = common.ensure_loaded(ds)["articles"]
        ours_command = common.our_build_command()
        if args.procs and ours_command[0] == "build_index":
            ours_command += ["--procs", str(args.procs)]
        runs = [("ours", ours_command)]
        if not args.no_stock:
            runs.append(("stock haystack", common.STOCK_BUILD_COMMAND))
        results = {}
        for name, command in runs:
            load_before = common.loadavg()
            measured = build(ds, command)
            using = "stock" if name != "ours" else "default"
            documents = common.index_doc_count(ds, using)
            results[name] = measured
            rows.append(
                [
                    ds.name,
                    articles,
                    name,
                    " ".join(command[:1] + [c for c in command[1:] if c.startswith("--using") or c.startswith("--procs")]),
                    measured.wall,
                    measured.cpu,
                    articles / measured.wall,
                    measured.peak_rss_mb,
                    measured.peak_tree_mb,
                    documents,
                    f"{load_before:.1f}",
                ]
            )
            print(
                f"{ds.name}: {name}: {measured.wall:.1f} s ({measured.cpu:.0f} CPU s), {articles / measured.wall:.0f} articles/s, "
                f"peak RSS {measured.peak_rss_mb:.0f} MB (with sub-processes {measured.peak_tree_mb:.0f} MB), "
                f"{documents} documents",
                flush=True,
            )
        if "stock haystack" in results:
            speedup = common.ratio(results["stock haystack"].wall, results["ours"].wall)
            rows[-2].append(f"{speedup:.2f}x")
            rows[-1].append("1.00x")
    print()
    headers = ["data set", "articles", "engine", "command", "wall s", "CPU s", "articles/s", "peak RSS MB",
               "peak RSS tree MB", "documents", "load", "speed vs stock"]
    print(common.table([row + [""] * (len(headers) - len(row)) for row in rows], headers))


if __name__ == "__main__":
    main()
