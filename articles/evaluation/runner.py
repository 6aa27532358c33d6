"""Run a query set through several engines, score the runs, print one table."""
import gzip
import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from articles.evaluation import engines as engine_registry
from articles.evaluation.metrics import METRICS, evaluate
from articles.evaluation.trec import write_run

RESULTS_PER_QUERY = 100   # Recall@100 needs a hundred hits per query


@dataclass
class EngineReport:
    name: str
    description: str
    scores: object                       # metrics.Scores
    latencies_ms: list = field(default_factory=list)
    build_seconds: float = 0.0
    results: dict = field(default_factory=dict)
    run_path: str | None = None

    def latency(self, percent):
        return percentile(sorted(self.latencies_ms), percent)


def percentile(sorted_values, percent):
    """Linear interpolation between closest ranks (numpy's default, as the peers use)."""
    if not sorted_values:
        return 0.0
    position = percent / 100 * (len(sorted_values) - 1)
    low, high = math.floor(position), math.ceil(position)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def run_queries(engine, queries, limit=RESULTS_PER_QUERY, warmup=True):
    """({qid: [docid]}, [latency ms]); one untimed pass first warms caches."""
    if warmup:
        for _qid, text in queries:
            engine.search(text, limit)
    results, latencies = {}, []
    for qid, text in queries:
        started = time.perf_counter()
        docids = engine.search(text, limit)
        latencies.append((time.perf_counter() - started) * 1000)
        results[qid] = list(dict.fromkeys(docids))[:limit]
    return results, latencies


def evaluate_engines(names, queries, qrels, run_dir=None, limit=RESULTS_PER_QUERY, warmup=True, log=None):
    """An EngineReport per engine name, in the given order; run files go to run_dir."""
    reports = []
    if run_dir:
        Path(run_dir).mkdir(parents=True, exist_ok=True)
    for name in names:
        if log:
            log(f"{name}: preparing")
        engine = engine_registry.ENGINES[name]()
        try:
            if log and engine.build_seconds:
                log(f"{name}: index built in {engine.build_seconds:.1f} s")
            results, latencies = run_queries(engine, queries, limit=limit, warmup=warmup)
        finally:
            engine.close()
        report = EngineReport(
            name=name,
            description=engine.description,
            scores=evaluate(results, qrels),
            latencies_ms=latencies,
            build_seconds=engine.build_seconds,
            results=results,
        )
        if run_dir:
            report.run_path = str(Path(run_dir) / f"{name}.run")
            write_run(report.run_path, results, tag=f"newsroom-{name}")
        reports.append(report)
        if log:
            log(f"{name}: {len(queries)} queries, p50 {report.latency(50):.1f} ms")
    return reports


def format_table(reports):
    """One row per engine: the four metrics, then query latency."""
    header = ["engine", *METRICS, "p50 ms", "p95 ms", "queries"]
    rows = [
        [
            report.name,
            *(f"{report.scores.means[name]:.4f}" for name in METRICS),
            f"{report.latency(50):.1f}",
            f"{report.latency(95):.1f}",
            str(report.scores.query_count),
        ]
        for report in reports
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row))
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def export_corpus(path):
    """The articles of the database as corpus JSON Lines (gzipped for *.gz), so
    the peer harness indexes exactly the articles our engines search."""
    from articles.models import Article

    opener = gzip.open if str(path).endswith(".gz") else open
    count = 0
    with opener(path, "wt", encoding="utf-8") as out:
        rows = Article.objects.order_by("pk").values_list(
            "pk", "external_id", "title", "body", "source__name", "published", "url"
        )
        for pk, external_id, title, body, source, published, url in rows.iterator(chunk_size=2000):
            record = {
                "id": engine_registry.article_docid(external_id, pk),
                "title": title,
                "body": body,
                "source": source,
                "published": published.isoformat() if published else None,
                "url": url,
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
