"""Two run files of the development set compared query by query (Whoosh against Solr, say).

    python bench/rank_diff.py /tmp/runs-whoosh/ours.run /tmp/runs-solr/ours.run [--all]

Run files are what `manage.py evaluate_search --run-dir` writes. Prints the
four metrics of both runs, how many queries keep the same top ten (in order,
as a set), nDCG@10 differences by kind of query (the qid prefix: kw, nm,
ph, ...), and every query whose nDCG@10 differs, worst first for the second
run, with the grades of both top tens (--all: also the queries whose top
ten differs at equal nDCG@10).
"""
import argparse
import collections
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from articles.evaluation.metrics import METRICS, evaluate
from articles.evaluation.trec import read_qrels, read_queries

RELEVANCE = Path(__file__).resolve().parent / "relevance"


def read_run(path):
    ranked = collections.defaultdict(list)
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            qid, _q0, docid, rank, *_rest = line.split()
            ranked[qid].append((int(rank), docid))
    return {qid: [docid for _rank, docid in sorted(pairs)] for qid, pairs in ranked.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a")
    parser.add_argument("b")
    parser.add_argument("--qrels", default=str(RELEVANCE / "qrels.txt"))
    parser.add_argument("--queries", default=str(RELEVANCE / "queries.tsv"))
    parser.add_argument("--all", action="store_true", help="also list queries whose top ten differs at equal nDCG@10")
    args = parser.parse_args()

    qrels = read_qrels(args.qrels)
    texts = dict(read_queries(args.queries))
    a, b = read_run(args.a), read_run(args.b)
    scores_a, scores_b = evaluate(a, qrels), evaluate(b, qrels)
    print(f"A = {args.a}\nB = {args.b}")
    for name in METRICS:
        print(f"{name:10}  A {scores_a.means[name]:.4f}  B {scores_b.means[name]:.4f}  B-A {scores_b.means[name] - scores_a.means[name]:+.4f}")
    qids = sorted(scores_a.per_query)
    same_order = sum(1 for q in qids if a.get(q, [])[:10] == b.get(q, [])[:10])
    same_set = sum(1 for q in qids if set(a.get(q, [])[:10]) == set(b.get(q, [])[:10]))
    print(f"top ten: the same order in {same_order} of {len(qids)} queries, the same articles in {same_set}")
    kinds, counts = collections.defaultdict(float), collections.Counter()
    rows = []
    for q in qids:
        delta = scores_b.per_query[q]["nDCG@10"] - scores_a.per_query[q]["nDCG@10"]
        kinds[q[:2]] += delta
        counts[q[:2]] += 1
        if abs(delta) > 1e-9 or (args.all and a.get(q, [])[:10] != b.get(q, [])[:10]):
            rows.append((delta, q))
    print("nDCG@10 B-A by kind (mean over the kind's queries): " + ", ".join(
        f"{kind} {kinds[kind] / counts[kind]:+.4f} ({counts[kind]})" for kind in sorted(counts)))
    print(f"{sum(1 for d, _q in rows if abs(d) > 1e-9)} queries differ in nDCG@10:")
    for delta, q in sorted(rows):
        grades = qrels.get(q, {})
        print(
            f"  {q} {texts.get(q, '')!r}: A {scores_a.per_query[q]['nDCG@10']:.3f} B {scores_b.per_query[q]['nDCG@10']:.3f} "
            f"({delta:+.3f}); grades A {[grades.get(d, 0) for d in a.get(q, [])[:10]]} "
            f"B {[grades.get(d, 0) for d in b.get(q, [])[:10]]}"
        )


if __name__ == "__main__":
    main()
