"""Search latency in the backend: p50/p95 over the fixed query mix, cold and warm, ours against stock haystack.

    python bench/bench_search.py                       # the 100,000-article data set
    python bench/bench_search.py --size real           # the real corpus (39,933 articles)
    python bench/bench_search.py --passes 4 --drop-caches
    python bench/bench_search.py --engine whoosh,solr --engines ours,stock

Each engine runs in a fresh process (bench/search_worker.py) over the whole
mix (bench/relevance/queries.tsv when it has at least 200 queries, else
bench/queries.txt). "cold" is the first pass of that process: the index has
just been opened and no query has run (with --drop-caches, the kernel's page
cache is dropped before, when this machine allows it). "warm" is every
later pass. The engines:

- ours: search_articles(), the one entry point of the page and the API
  (search + facet counts + the page's rows + snippets), on each engine that
  --engine names: whoosh (the data set's index; the default) and/or solr
  (the alias bench_<data set> on the cluster that SEARCH_URL or
  scripts/cluster names; built by rebuild_index when missing or partial);
- ours-exact: the same, every match scored (no cap on the candidates;
  Whoosh only, Solr scores every match);
- ours-reopen: the same with a new Whoosh searcher per query (what
  haystack does), so the bitmaps are made again for every query too
  (Whoosh only);
- stock: haystack's SearchQuerySet().auto_query(q)[:20] on haystack's stock
  Whoosh index of the same articles (no rows, no snippets, no facets);
- before: with --before REV, search_articles() as it was at git revision
  REV (exported to the scratch folder), on the same index: the figures
  before the speed work.

The ratio is stock's figure over ours: how many times faster we are.

On Solr, "cold" is the first pass after the collections behind the alias
were reloaded (new searchers, Solr's caches empty; --no-reload keeps them),
in a fresh process; the OS page cache stays warm, as it does for Whoosh.
Warm passes repeat the same queries, so Solr's query result and filter
caches answer part of them (Whoosh keeps posting lists and bitmaps, not
results). "client CPU ms/q" is the worker process's CPU per query (warm
passes), "Solr CPU ms/q" the Solr JVM's over the same passes (blank
without scripts/cluster's JVM on this machine; anything else it serves
meanwhile counts).
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

ENGINES = ("ours", "ours-exact", "stock")


def export_tree(rev):
    """The repository at `rev`, exported once to the scratch folder."""
    commit = common.run(["git", "rev-parse", "--short", rev], env=None).stdout.strip()
    tree = common.SCRATCH / f"tree-{commit}"
    if not tree.exists():
        tree.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", commit], cwd=common.REPO, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def drop_page_cache():
    try:
        subprocess.run(["sync"], check=False)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="100000", help='articles of the large corpus, or "real"')
    parser.add_argument("--passes", type=int, default=4, help="passes over the mix (the first is cold)")
    parser.add_argument("--engines", default=",".join(ENGINES), help="of: ours, ours-exact, ours-reopen, stock")
    parser.add_argument("--drop-caches", action="store_true", help="drop the OS page cache before each cold pass")
    parser.add_argument("--before", metavar="REV", help="also run search_articles() of this git revision (Whoosh)")
    parser.add_argument("--engine", default="whoosh", help="whoosh, solr, or both (whoosh,solr): where ours searches")
    parser.add_argument("--no-reload", action="store_true", help="Solr: keep its caches before the cold pass")
    args = parser.parse_args()
    search_engines = common.engines_option(args.engine)

    common.print_header("Backend search latency")
    base_ds = common.dataset(args.size)
    variants = [name.strip() for name in args.engines.split(",")]
    articles = common.ensure_loaded(base_ds)["articles"]
    runs = []  # (row name, search_worker engine, tree, data set)
    for search_engine in search_engines:
        ds = base_ds.with_engine(search_engine)
        wanted = [name for name in variants if name != "stock"]
        if search_engine != "whoosh":
            skipped = [name for name in wanted if name != "ours"]
            if skipped:
                print(f"{search_engine}: {', '.join(skipped)} skipped (Whoosh only)")
            wanted = [name for name in wanted if name == "ours"]
        if wanted:
            common.ensure_indexes(ds, stock=False)
            if search_engine == "solr":
                print(f"solr: {ds.search_url}, JVM pid {common.solr_pid() or 'unknown (no server figures)'}")
        label = len(search_engines) > 1 or search_engine != "whoosh"
        runs += [(f"{name} ({search_engine})" if label else name, name, common.REPO, ds) for name in wanted]
    if "stock" in variants:
        common.ensure_indexes(base_ds, stock=True, ours=False)
        runs.append(("stock", "stock", common.REPO, base_ds))
    if args.before:
        runs.append((f"before ({args.before})", "ours", export_tree(args.before), base_ds))
    source, queries = common.load_queries()
    print(f"data set: {base_ds.name}, {articles:,} articles; {len(queries)} queries from {source.relative_to(common.REPO)}")
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        json.dump(queries, handle, ensure_ascii=False)
        queries_file = handle.name

    results = {}
    for name, engine, tree, ds in runs:
        dropped = drop_page_cache() if args.drop_caches else False
        reloaded = ds.engine == "solr" and not args.no_reload and common.solr_reload(ds)
        env = ds.env()
        env["PYTHONPATH"] = str(tree)
        load_before = common.loadavg()
        with common.ServerProbe(common.solr_pid() if ds.engine == "solr" else None) as probe:
            done = common.run(
                [common.PYTHON, str(tree / "bench" / "search_worker.py"), engine, queries_file, args.passes],
                env=env,
                cwd=tree,
            )
        result = json.loads(done.stdout.strip().splitlines()[-1])
        cold = common.summary_ms(result["passes"][0])
        warm = common.summary_ms([t for p in result["passes"][1:] for t in p])
        warm_queries = len(queries) * max(1, len(result["passes"]) - 1)
        cpu = result.get("cpu_s")
        client_cpu = sum(cpu[1:]) * 1000 / warm_queries if cpu and len(cpu) > 1 else ""
        server_cpu = probe.cpu * 1000 / (len(queries) * len(result["passes"])) if probe.cpu is not None else ""
        results[name] = (cold, warm, result, client_cpu, server_cpu, load_before)
        print(
            f"{name}: first query {result['first_query_ms']:.0f} ms; cold p50 {cold['p50']:.1f} p95 {cold['p95']:.1f} ms; "
            f"warm p50 {warm['p50']:.1f} p95 {warm['p95']:.1f} ms (load {load_before:.2f} at start; "
            f"{result.get('engine', engine)})"
            + ("  (page cache dropped)" if dropped else "")
            + ("  (Solr collections reloaded)" if reloaded else ""),
            flush=True,
        )

    print()
    rows = []
    base = results.get("stock")
    for name, (cold, warm, result, client_cpu, server_cpu, load_before) in results.items():
        row = [name, result["first_query_ms"], cold["p50"], cold["p95"], warm["p50"], warm["p95"], warm["mean"],
               client_cpu, server_cpu, f"{load_before:.2f}"]
        if base:
            row += [
                f"{common.ratio(base[1]['p50'], warm['p50']):.1f}x",
                f"{common.ratio(base[1]['p95'], warm['p95']):.1f}x",
                f"{common.ratio(base[0]['p95'], cold['p95']):.1f}x",
            ]
        rows.append(row)
    headers = ["engine", "first query ms", "cold p50 ms", "cold p95 ms", "warm p50 ms", "warm p95 ms", "warm mean ms",
               "client CPU ms/q", "Solr CPU ms/q", "load"]
    if base:
        headers += ["warm p50 vs stock", "warm p95 vs stock", "cold p95 vs stock"]
    print(common.table(rows, headers))
    for name, (_cold, _warm, result, *_rest) in results.items():
        if name == "stock":
            continue
        hits = result["hits"]
        zero = sum(1 for h in hits if not h)
        print(f"{name}: {zero} of {len(queries)} queries found nothing; median hits {sorted(hits)[len(queries) // 2]}")
    Path(queries_file).unlink()


if __name__ == "__main__":
    main()
