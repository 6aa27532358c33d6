"""Full index build: articles per second, wall time and peak memory, ours against stock haystack.

    python bench/bench_index_build.py                          # 10k, 50k, 100k of the large corpus
    python bench/bench_index_build.py --sizes real,10000       # the real corpus (39,928) and 10k
    python bench/bench_index_build.py --sizes 100000 --no-stock
    python bench/bench_index_build.py --sizes 100000 --no-stock --engine whoosh,solr

For each data set (loaded into its own SQLite database once, see
bench/common.py), in fresh processes:

- ours: `manage.py rebuild_index`, the project's one rebuild, on the engine
  --engine names (whoosh, the default: several writer processes, one segment
  each, then one commit; solr: a new collection of the cluster that
  SEARCH_URL or scripts/cluster names, filled, then the alias
  bench_<data set> moved to it; `setup_search` runs first, unmeasured);
- stock: haystack's own rebuild_index on the "stock" connection: haystack's
  stock WhooshEngine (StemmingAnalyzer, stored fields) on the same rows, with
  the same SearchIndex. Always Whoosh: the same-run baseline of every engine.

Peak memory is given for the largest single process (getrusage) and for
the command with all its sub-processes (the sum of their resident sizes,
sampled every 100 ms). CPU s is the user and system time of the command
and its sub-processes: on a busy machine, wall time grows, CPU time hardly.
For Solr the work is shared with the server: "server CPU s" is the Solr
JVM's CPU time over the build and "server RSS MB" its peak resident size
(scripts/cluster's JVM, both nodes and ZooKeeper in one process; whatever
else it serves meanwhile counts too), blank when the JVM is not on this
machine or not scripts/cluster's.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402


def build(ds, command):
    return common.measure([common.PYTHON, "manage.py", *command], ds.env())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,50000,100000", help='comma-separated sizes of the large corpus, or "real"')
    parser.add_argument("--no-stock", action="store_true", help="skip the stock haystack baseline")
    parser.add_argument("--procs", type=int, help="Whoosh: rebuild_index --procs (default: one per CPU)")
    parser.add_argument("--engine", default="whoosh", help="whoosh, solr, or both (whoosh,solr): the engine(s) ours builds")
    args = parser.parse_args()
    engines = common.engines_option(args.engine)

    common.print_header("Full index build")
    if "solr" in engines:
        pid = common.solr_pid()
        print(f"solr: {common.solr_base_url()}, JVM pid {pid or 'unknown (no server figures)'}", flush=True)
    rows = []
    for spec in args.sizes.split(","):
        base = common.dataset(spec.strip())
        articles = common.ensure_loaded(base)["articles"]
        runs = []
        for engine in engines:
            ds = base.with_engine(engine)
            command = common.our_build_command()
            if args.procs and engine == "whoosh":
                command += ["--procs", str(args.procs)]
            runs.append((f"ours ({engine})" if len(engines) > 1 or engine != "whoosh" else "ours", ds, command))
        if not args.no_stock:
            runs.append(("stock haystack", base, common.STOCK_BUILD_COMMAND))
        first = len(rows)
        results = {}
        for name, ds, command in runs:
            common.setup_engine(ds)
            load_before = common.loadavg()
            with common.ServerProbe(common.solr_pid() if ds.engine == "solr" and name != "stock haystack" else None) as probe:
                measured = build(ds, command)
            using = "stock" if name == "stock haystack" else "default"
            documents = common.index_doc_count(ds, using)
            results[name] = measured
            label = "haystack rebuild_index (stock)" if name == "stock haystack" else " ".join(command)
            rows.append(
                [
                    ds.name,
                    articles,
                    name,
                    label,
                    measured.wall,
                    measured.cpu,
                    articles / measured.wall,
                    measured.peak_rss_mb,
                    measured.peak_tree_mb,
                    probe.cpu if probe.cpu is not None else "",
                    probe.peak_rss_mb if probe.cpu is not None else "",
                    documents,
                    f"{load_before:.1f}",
                ]
            )
            server = (
                f"; Solr JVM {probe.cpu:.0f} CPU s, RSS {probe.rss_before_mb:.0f} -> peak {probe.peak_rss_mb:.0f} MB"
                if probe.cpu is not None else ""
            )
            print(
                f"{ds.name}: {name}: {measured.wall:.1f} s ({measured.cpu:.0f} CPU s), {articles / measured.wall:.0f} articles/s, "
                f"peak RSS {measured.peak_rss_mb:.0f} MB (with sub-processes {measured.peak_tree_mb:.0f} MB), "
                f"{documents} documents{server} (load {load_before:.1f} at start)",
                flush=True,
            )
        if "stock haystack" in results:
            stock = results["stock haystack"]
            for row in rows[first:]:
                row.append(f"{common.ratio(stock.wall, results[row[2]].wall):.2f}x")
    print()
    headers = ["data set", "articles", "engine", "command", "wall s", "CPU s", "articles/s", "peak RSS MB",
               "peak RSS tree MB", "server CPU s", "server RSS MB", "documents", "load", "speed vs stock"]
    print(common.table([row + [""] * (len(headers) - len(row)) for row in rows], headers))


if __name__ == "__main__":
    main()
