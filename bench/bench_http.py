"""End to end through gunicorn: p50, p95 and requests per second under wrk, 1 and 8 connections.

    python bench/bench_http.py                    # the 100,000-article data set
    python bench/bench_http.py --size real --duration 30
    python bench/bench_http.py --engine solr --targets healthz,search-first,permalink-first

--engine solr serves the data set's articles with SEARCH_URL naming the alias
bench_<data set> on the cluster that SEARCH_URL or scripts/cluster names
(built by rebuild_index when missing or partial); the database is still the
data set's SQLite file, and the shared cache is then the database's (the
default for SEARCH_URL=solr://...), as on a cluster.

Serves the data set with gunicorn exactly as the README does (gunicorn.conf.py,
production settings, its default worker count: one per core, at least 2; see
bench/served.py) and loads it with Debian's wrk on 127.0.0.1, through
bench/wrk_paths.lua, which cycles through a list of paths:

- /healthz:     the floor (Django and gunicorn doing no work): the baseline;
- /search/?q=   the query mix (bench/queries.txt or the relevance set),
                over and over: after the warm-up each page comes from the
                cache of pages all workers share until the archive changes;
- search-first  the same mix, each address read once (an extra parameter
                the page ignores, &visit=N, makes it new) with that cache
                emptied before each run: every page is a search made and
                rendered, as on the first reading of a query since the
                archive last changed (the warm-up reads other new
                addresses, so that the workers have met the words);
- permalink     1,000 articles spread over the archive (each page also
                finds its related stories, remembered in a cache all
                workers share until the archive changes; the warm-up
                visits most of them);
- permalink-20  20 of them: the cost of a page read often;
- permalink-first  some 19,000 other articles, with the cache of related
                stories emptied before each run: every page is a first
                visit since the archive last changed (a more-like-this
                search each);
- /             the home page.

Each target gets a warm-up (--warmup seconds of the same load with 8
connections, so that each worker has opened the index and made its
bitmaps), then --duration seconds with 1 connection and with 8. Latency
percentiles are wrk's own (from every request).
"""
import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, served  # noqa: E402

LUA = common.REPO / "bench" / "wrk_paths.lua"


def wrk(base_url, paths_file, connections, duration):
    threads = min(connections, 2)
    done = common.run(
        ["wrk", "-t", threads, "-c", connections, "-d", f"{duration}s", "--timeout", "10s",
         "-s", LUA, base_url, "--", paths_file],
        env=None,
    )
    line = [row for row in done.stdout.splitlines() if row.startswith("{")][-1]
    result = json.loads(line)
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    result["errors"] = sum(result[k] for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts"))
    return result


# permalink-first: articles spread over the archive, more than a run reads.
FIRST_VISITS = 20000
# search-first: rounds of the query mix, more addresses than a run reads.
SEARCH_ROUNDS = 25
FIRST_TARGETS = ("permalink-first", "search-first")


def empty_shared_cache(ds):
    """Empty the cache the workers share (related stories, search pages), as a change to the archive does."""
    common.manage(ds, "shell", "--no-imports", "-c", "from django.core.cache import caches; caches['shared'].clear()")


def check_static(app):
    """whitenoise: compressed, far-future cached static files."""
    manifest = json.loads((app.var_dir / "staticfiles" / "staticfiles.json").read_text())
    name = next((hashed for original, hashed in manifest["paths"].items() if original.endswith(".css")), None)
    if not name:
        return "no CSS file in the manifest"
    answer = app.get(f"/static/{name}", headers={"Accept-Encoding": "gzip, br"})
    return (
        f"/static/{name}: {answer.status}, Content-Encoding: {answer.headers.get('Content-Encoding')}, "
        f"Cache-Control: {answer.headers.get('Cache-Control')}, {len(answer.body)} bytes sent"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="100000", help='articles of the large corpus, or "real"')
    parser.add_argument("--duration", type=int, default=20, help="seconds per measured run")
    parser.add_argument("--connections", default="1,8")
    parser.add_argument(
        "--targets", default="healthz,search,search-first,permalink,permalink-20,permalink-first,home"
    )
    parser.add_argument("--warmup", type=int, default=30, help="seconds of load before each target's figures")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's)")
    parser.add_argument("--engine", default="whoosh", choices=common.ENGINES, help="the search engine the site uses")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")

    common.print_header("End to end through gunicorn (wrk)")
    ds = common.dataset(args.size, args.engine)
    articles = common.ensure_indexes(ds, stock=False)
    _source, queries = common.load_queries()
    scratch = Path(tempfile.mkdtemp(prefix="bench-http-"))
    lists = {
        "healthz": ["/healthz"],
        "search": served.search_paths(queries),
        "permalink": [served.quote_path(p) for p in served.permalink_paths(ds)],
        "home": ["/"],
    }
    lists["permalink-20"] = lists["permalink"][::50]
    lists["search-first"] = [f"{path}&visit={n}" for n in range(SEARCH_ROUNDS) for path in lists["search"]]
    seen = set(lists["permalink"])
    lists["permalink-first"] = [
        path for path in (served.quote_path(p) for p in served.permalink_paths(ds, FIRST_VISITS)) if path not in seen
    ]
    app = served.start(ds, workers=args.workers)
    try:
        workers = app.env.get("WEB_CONCURRENCY") or "gunicorn.conf.py default"
        print(f"data set: {ds.name}, {articles:,} articles; engine {ds.search_url or ds.engine}; "
              f"gunicorn at {app.base_url}, workers: {workers}")
        print(f"static: {check_static(app)}\n", flush=True)
        rows = []
        floor = {}
        for target in args.targets.split(","):
            paths_file = scratch / f"{target}.txt"
            paths_file.write_text("\n".join(lists[target]) + "\n")
            if target in FIRST_TARGETS:
                # Warmed up on other addresses: each measured page is a first visit.
                warm_file = scratch / f"{target}-warm-up.txt"
                warm_list = lists["permalink"] if target == "permalink-first" else [
                    path.replace("&visit=", "&visit=warm-") for path in lists["search-first"]
                ]
                warm_file.write_text("\n".join(warm_list) + "\n")
            else:
                warm_file = paths_file
            wrk(app.base_url, warm_file, 8, args.warmup if target != "healthz" else 5)  # warm-up
            for connections in [int(c) for c in args.connections.split(",")]:
                if target in FIRST_TARGETS:
                    empty_shared_cache(ds)
                result = wrk(app.base_url, paths_file, connections, args.duration)
                if target == "healthz":
                    floor[connections] = result
                base = floor.get(connections)
                rows.append([
                    target, len(lists[target]), connections, result["p50_us"] / 1000, result["p95_us"] / 1000,
                    result["p99_us"] / 1000, result["rps"], result["requests"], result["errors"],
                    f"{result['p50_us'] / base['p50_us']:.1f}x" if base else "",
                    f"{common.loadavg():.1f}",
                ])
                print(
                    f"{target} c={connections}: p50 {result['p50_us'] / 1000:.1f} ms, p95 {result['p95_us'] / 1000:.1f} ms, "
                    f"{result['rps']:.0f} req/s, {result['errors']} errors",
                    flush=True,
                )
        print()
        print(common.table(rows, ["target", "paths", "conns", "p50 ms", "p95 ms", "p99 ms", "req/s", "requests",
                                  "errors", "p50 vs floor", "load"]))
    finally:
        app.stop()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
