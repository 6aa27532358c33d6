"""Write ../queries.tsv from topics.py (qid<TAB>query, in topic order)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from topics import TOPICS  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "queries.tsv"

if __name__ == "__main__":
    with open(OUT, "w", encoding="utf-8") as out:
        for topic in TOPICS:
            out.write(f"{topic.qid}\t{topic.query}\n")
    print(f"{len(TOPICS)} queries written to {OUT}")
