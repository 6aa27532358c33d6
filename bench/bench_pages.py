"""Browsing pages in one process: their cost now, and with articles.caching's page cache.

    python bench/bench_pages.py                    # the 100,000-article data set
    python bench/bench_pages.py --size real

Calls each view of the public pages that need no query (home, topics,
sources, archive, the search start page) through Django's RequestFactory,
as a worker would, and reports the median and p95 time of --repeat calls:
as the view is now, and wrapped in articles.caching.cache_page_until_change
(the decorator the views can take: the page is kept until the archive
changes, in every worker). The first call of a cached view fills the cache
and is not counted.
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

WORKER = r"""
import json, time, sys
import django
django.setup()
from django.core.cache import cache
from django.test import RequestFactory
from articles import caching
from articles.views import browse, search
repeat = int(sys.argv[1])
views = [("/", browse.home), ("/topics/", browse.topic_list), ("/sources/", browse.source_list),
         ("/archive/", browse.archive_index), ("/search/", search.search_page)]
factory = RequestFactory()
out = []
for path, view in views:
    for label, callable_ in (("now", view), ("cached", caching.cache_page_until_change(view))):
        cache.clear()
        callable_(factory.get(path))
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = callable_(factory.get(path))
            times.append(time.perf_counter() - started)
        out.append([path, label, response.status_code, times])
print(json.dumps(out))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="100000", help='articles of the large corpus, or "real"')
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    common.print_header("Browsing pages, without and with the page cache")
    ds = common.dataset(args.size)
    articles = common.ensure_indexes(ds, stock=False)
    common.ensure_static(ds)
    done = common.run([common.PYTHON, "-c", WORKER, str(args.repeat)], env=ds.env(settings="newsroom.settings"))
    rows, now = [], {}
    for path, label, status, times in json.loads(done.stdout.strip().splitlines()[-1]):
        figures = common.summary_ms(times)
        if label == "now":
            now[path] = figures
        speedup = f"{common.ratio(now[path]['p50'], figures['p50']):.0f}x" if label == "cached" else ""
        rows.append([path, label, status, figures["p50"], figures["p95"], speedup])
    print(f"data set: {ds.name}, {articles:,} articles; {args.repeat} calls per view\n")
    print(common.table(rows, ["page", "view", "status", "p50 ms", "p95 ms", "p50 speed vs now"]))


if __name__ == "__main__":
    main()
