"""Reading and writing the TREC files that search evaluation has used for decades.

queries: `qid<TAB>query text`; qrels: `qid 0 docid relevance`; runs:
`qid Q0 docid rank score tag`. The formats are those of the peer harness in
../shared/tools/peers/, so its scorer reads our runs and we read its qrels.
"""
from pathlib import Path


class TrecFormatError(ValueError):
    """A line that is not in the expected format; the message names file and line."""


def read_queries(path):
    """[(qid, text)] in file order; blank lines and lines starting with # are skipped."""
    queries, seen = [], set()
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8-sig").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        if "\t" not in line:
            raise TrecFormatError(f"{path}:{lineno}: expected qid<TAB>query")
        qid, text = line.split("\t", 1)
        qid = qid.strip()
        if not qid or any(ch.isspace() for ch in qid):
            raise TrecFormatError(f"{path}:{lineno}: bad query id {qid!r}")
        if qid in seen:
            raise TrecFormatError(f"{path}:{lineno}: query id {qid} appears twice")
        seen.add(qid)
        queries.append((qid, text.strip()))
    return queries


def read_qrels(path):
    """{qid: {docid: grade}}; grades are integers, 0 meaning judged not relevant."""
    qrels = {}
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8-sig").splitlines(), 1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if len(parts) != 4:
            raise TrecFormatError(f"{path}:{lineno}: expected `qid 0 docid relevance`")
        qid, _iteration, docid, grade = parts
        try:
            qrels.setdefault(qid, {})[docid] = int(grade)
        except ValueError:
            raise TrecFormatError(f"{path}:{lineno}: relevance {grade!r} is not a whole number") from None
    return qrels


def write_qrels(path, qrels):
    with open(path, "w", encoding="utf-8") as out:
        for qid, grades in qrels.items():
            for docid, grade in sorted(grades.items()):
                out.write(f"{qid} 0 {docid} {grade}\n")


def write_run(path, results, tag):
    """One line per hit. Scores fall strictly with the rank, so that scorers
    which re-sort by score (trec_eval does) keep the engine's own order."""
    with open(path, "w", encoding="utf-8") as out:
        for qid, docids in results.items():
            for rank, docid in enumerate(docids, 1):
                out.write(f"{qid} Q0 {docid} {rank} {len(docids) - rank + 1} {tag}\n")


def read_run(path):
    """{qid: [docid, ...]} in rank order."""
    ranked = {}
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 6:
            raise TrecFormatError(f"{path}:{lineno}: expected `qid Q0 docid rank score tag`")
        ranked.setdefault(parts[0], []).append((-float(parts[4]), int(parts[3]), parts[2]))
    return {qid: [docid for _s, _r, docid in sorted(rows)] for qid, rows in ranked.items()}
