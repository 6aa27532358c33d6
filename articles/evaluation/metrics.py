"""Ranking metrics with the standard (trec_eval) definitions.

Gains are the graded judgments (0, 1, 2); a document is relevant when its
grade is at least 1; unjudged documents count as not relevant. Means are
taken over the queries that have at least one relevant document, and a
query an engine returned nothing for scores 0.
"""
import math
from dataclasses import dataclass

METRICS = ("nDCG@10", "MRR@10", "Recall@100", "P@10")


def dcg(gains):
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, 1))


def ndcg_at(ranking, grades, k=10):
    """DCG of the top k over the DCG of the ideal order of every judged document."""
    ideal = dcg(sorted((g for g in grades.values() if g > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([max(grades.get(docid, 0), 0) for docid in ranking[:k]]) / ideal


def reciprocal_rank_at(ranking, grades, k=10):
    for rank, docid in enumerate(ranking[:k], 1):
        if grades.get(docid, 0) >= 1:
            return 1.0 / rank
    return 0.0


def recall_at(ranking, grades, k=100):
    relevant = sum(1 for g in grades.values() if g >= 1)
    if not relevant:
        return 0.0
    return sum(1 for docid in ranking[:k] if grades.get(docid, 0) >= 1) / relevant


def precision_at(ranking, grades, k=10):
    """Relevant documents in the top k over k, even when fewer were returned."""
    return sum(1 for docid in ranking[:k] if grades.get(docid, 0) >= 1) / k


def query_metrics(ranking, grades):
    return {
        "nDCG@10": ndcg_at(ranking, grades),
        "MRR@10": reciprocal_rank_at(ranking, grades),
        "Recall@100": recall_at(ranking, grades),
        "P@10": precision_at(ranking, grades),
    }


@dataclass
class Scores:
    means: dict        # metric -> mean over the evaluated queries
    per_query: dict    # qid -> {metric: value}

    @property
    def query_count(self):
        return len(self.per_query)


def evaluate(results, qrels):
    """Score {qid: [docid, ...]} against {qid: {docid: grade}}."""
    per_query = {
        qid: query_metrics(results.get(qid, []), grades)
        for qid, grades in qrels.items()
        if any(g >= 1 for g in grades.values())
    }
    count = len(per_query) or 1
    means = {name: sum(values[name] for values in per_query.values()) / count for name in METRICS}
    return Scores(means=means, per_query=per_query)
