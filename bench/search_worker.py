"""One engine's searches over the query mix, in a fresh process (run by bench_search.py).

    python bench/search_worker.py ENGINE QUERIES_FILE PASSES

ENGINE is one of:
  ours           articles.search.service.search_articles: what the page and
                 the API call (the engine SEARCH_URL names: Whoosh or Solr;
                 search with facet counts, the page's rows in two queries,
                 highlighted snippets and titles);
  ours-reopen    the same, but with a new Whoosh searcher for every query
                 (as haystack does), to measure what the long-lived one saves
                 (Whoosh only);
  ours-exact     the same, scoring every match (no cap on the candidates,
                 articles.search.engines.whoosh.planner.CANDIDATES = None;
                 Whoosh only: Solr always scores every match);
  stock          haystack's SearchQuerySet(using="stock").auto_query(q), first
                 page of 20 results, on haystack's stock Whoosh index.

Prints one JSON object: {"first_query_ms": ..., "passes": [[ms per query], ...],
"cpu_s": [this process's CPU seconds per pass], "hits": [total hits per query],
"engine": the engine's description}. Pass 1 runs in a process that has not
searched yet: that is the "cold" figure.
"""
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402


def engine(name):
    if name in ("ours", "ours-reopen", "ours-exact"):
        from articles.search.engines import get_engine
        from articles.search.service import SearchRequest, search_articles

        engine = get_engine()
        if name != "ours" and engine.name != "whoosh":
            raise SystemExit(f"{name} is for Whoosh only; this engine is {engine.describe()}")
        if name == "ours-exact":
            from articles.search.engines.whoosh import planner

            planner.CANDIDATES = None

        def run(q):
            if name == "ours-reopen":
                engine.backend._searcher = None  # the next searcher() opens a new one
            return search_articles(SearchRequest(q=q)).total

        run.description = engine.describe()
        return run
    if name == "stock":
        from haystack.query import SearchQuerySet

        def run(q):
            sqs = SearchQuerySet(using="stock").auto_query(q)
            page = list(sqs[:20])
            return sqs.count() if page else 0

        run.description = "haystack stock Whoosh (using='stock')"
        return run
    raise SystemExit(f"unknown engine {name!r}")


def main():
    name, queries_file, passes = sys.argv[1], sys.argv[2], int(sys.argv[3])
    queries = json.loads(Path(queries_file).read_text(encoding="utf-8"))
    django.setup()
    run = engine(name)
    timings, hits, cpu = [], [], []
    first = None
    for number in range(passes):
        this_pass = []
        cpu_before = time.process_time()
        for q in queries:
            started = time.perf_counter()
            total = run(q)
            elapsed = time.perf_counter() - started
            if first is None:
                first = elapsed
            this_pass.append(elapsed)
            if number == 0:
                hits.append(total)
        cpu.append(time.process_time() - cpu_before)
        timings.append(this_pass)
    print(json.dumps({"first_query_ms": first * 1000, "passes": timings, "cpu_s": cpu, "hits": hits,
                      "engine": getattr(run, "description", name)}))


if __name__ == "__main__":
    main()
