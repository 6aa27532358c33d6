"""Pool the top results of several engines' runs and judge every pooled article.

    python build_qrels.py --corpus CORPUS.jsonl.gz --depth 100 --out ../qrels.txt RUN [RUN ...]

Each run is a TREC run file (`qid Q0 docid rank score tag`); the pool of a
query is the union of every run's top DEPTH documents, so each engine's top
ten and top hundred are judged in full. Every pooled article is graded by
judgelib.grade for the query's topic (topics.py) and written to the qrels,
grade 0 included (judged, not relevant). Prints pool sizes and grade counts.
"""
import argparse
import gzip
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from judgelib import grade  # noqa: E402
from topics import TOPICS  # noqa: E402


def read_run(path):
    ranked = {}
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 6:
            ranked.setdefault(parts[0], []).append((-float(parts[4]), parts[2]))
    return {qid: [docid for _s, docid in sorted(rows)] for qid, rows in ranked.items()}


def read_corpus(path, wanted):
    opener = gzip.open if str(path).endswith(".gz") else open
    docs = {}
    with opener(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record["id"] in wanted:
                docs[record["id"]] = (record.get("title") or "", record.get("body") or "")
    return docs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--depth", type=int, default=100)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    runs = [read_run(path) for path in args.runs]
    pools = {}
    for topic in TOPICS:
        pool = set()
        for run in runs:
            pool.update(run.get(topic.qid, [])[: args.depth])
        pools[topic.qid] = pool
    docs = read_corpus(args.corpus, set().union(*pools.values()))

    totals = Counter()
    with open(args.out, "w", encoding="utf-8") as out:
        for topic in TOPICS:
            grades = Counter()
            for docid in sorted(pools[topic.qid]):
                title, body = docs[docid]
                g = grade(topic, title, body)
                grades[g] += 1
                out.write(f"{topic.qid} 0 {docid} {g}\n")
            totals.update(grades)
            print(f"{topic.qid}\t{topic.query}\tpool {len(pools[topic.qid])}\t2:{grades[2]} 1:{grades[1]} 0:{grades[0]}")
    print(f"judged {sum(totals.values())}: grade 2 {totals[2]}, grade 1 {totals[1]}, grade 0 {totals[0]}")


if __name__ == "__main__":
    main()
