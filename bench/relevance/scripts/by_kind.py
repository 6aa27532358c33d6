"""Score TREC run files per query kind (the qid prefix: kw, in, sp, nm, ph, tp, dg, px, qs).

    python bench/relevance/scripts/by_kind.py --qrels bench/relevance/qrels.txt RUN [RUN ...]

Prints, for each metric, one row per run and one column per kind, so that
it shows where an engine wins or loses (names, spellings, phrases...), not
only its overall mean. Same metric definitions as `manage.py evaluate_search`.
"""
import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from articles.evaluation import metrics, trec  # noqa: E402

KINDS = {
    "kw": "keyword",
    "in": "inflected",
    "sp": "spelling",
    "nm": "name",
    "ph": "phrase",
    "tp": "topical",
    "dg": "digits",
    "px": "prefix",
    "qs": "question",
}


def kind_of(qid):
    return re.sub(r"\d+$", "", qid)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--qrels", required=True)
    parser.add_argument("--metrics", default="nDCG@10,Recall@100")
    parser.add_argument("runs", nargs="+")
    args = parser.parse_args()

    qrels = trec.read_qrels(args.qrels)
    scores = {Path(path).stem: metrics.evaluate(trec.read_run(path), qrels) for path in args.runs}
    kinds = [kind for kind in KINDS if any(kind_of(qid) == kind for qid in qrels)]
    counts = defaultdict(int)
    for qid in next(iter(scores.values())).per_query:
        counts[kind_of(qid)] += 1
    width = max(len(name) for name in scores) + 2
    for metric in args.metrics.split(","):
        print(f"\n{metric}")
        print(" " * width + "".join(f"{KINDS[k][:9]:>10}" for k in kinds) + f"{'all':>10}")
        print(" " * width + "".join(f"{'(' + str(counts[k]) + ')':>10}" for k in kinds))
        for name, score in scores.items():
            cells = []
            for kind in kinds:
                values = [m[metric] for qid, m in score.per_query.items() if kind_of(qid) == kind]
                cells.append(sum(values) / len(values) if values else float("nan"))
            print(f"{name:<{width}}" + "".join(f"{value:>10.3f}" for value in cells) + f"{score.means[metric]:>10.3f}")


if __name__ == "__main__":
    main()
