"""The relevance metrics, the TREC files, and `manage.py evaluate_search` on a
small fixture archive (tests/data/evaluation/) whose figures are worked out
by hand below."""
import datetime
import io
import json
import math
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from articles.evaluation import metrics, trec

DATA = Path(__file__).parent / "data" / "evaluation"
L2 = math.log2


# --------------------------------------------------------------- metrics


GRADES = {"a": 2, "b": 1, "c": 0, "d": 2}


def test_ndcg_uses_graded_gains_and_the_ideal_order_of_all_judged_documents():
    # Ranked: b (1), x (unjudged), a (2); ideal: a, d (2, 2), b (1).
    dcg = 1 / L2(2) + 0 + 2 / L2(4)
    ideal = 2 / L2(2) + 2 / L2(3) + 1 / L2(4)
    assert metrics.ndcg_at(["b", "x", "a"], GRADES) == pytest.approx(dcg / ideal)


def test_ndcg_counts_only_the_top_ten():
    ranking = [f"x{i}" for i in range(10)] + ["a"]
    assert metrics.ndcg_at(ranking, GRADES) == 0


def test_reciprocal_rank_of_the_first_relevant_document_in_the_top_ten():
    assert metrics.reciprocal_rank_at(["c", "x", "b"], GRADES) == pytest.approx(1 / 3)
    assert metrics.reciprocal_rank_at([f"x{i}" for i in range(10)] + ["a"], GRADES) == 0


def test_precision_divides_by_ten_even_for_short_lists():
    assert metrics.precision_at(["a", "c", "d"], GRADES) == pytest.approx(0.2)


def test_recall_at_100_over_every_relevant_document():
    assert metrics.recall_at(["a", "c"], GRADES) == pytest.approx(1 / 3)
    assert metrics.recall_at([f"x{i}" for i in range(100)] + ["a"], GRADES) == 0


def test_means_skip_queries_without_relevant_documents_and_count_missing_runs_as_zero():
    qrels = {"q1": {"a": 1}, "q2": {"b": 0}, "q3": {"c": 2}}
    scores = metrics.evaluate({"q1": ["a"]}, qrels)
    assert set(scores.per_query) == {"q1", "q3"}
    assert scores.means["MRR@10"] == pytest.approx(0.5)


# --------------------------------------------------------------- TREC files


def test_queries_and_qrels_are_read(tmp_path):
    assert trec.read_queries(DATA / "queries.tsv")[1] == ("q2", "المفاوضات")
    assert trec.read_qrels(DATA / "qrels.txt")["q1"] == {"E1": 2, "E2": 2, "E3": 1}


@pytest.mark.parametrize(
    "name, content, reader",
    [
        ("q.tsv", "q1 no tab here\n", trec.read_queries),
        ("q.tsv", "q1\ta\nq1\tb\n", trec.read_queries),
        ("r.txt", "q1 0 E1\n", trec.read_qrels),
        ("r.txt", "q1 0 E1 high\n", trec.read_qrels),
    ],
)
def test_a_bad_line_is_named_by_file_and_line(tmp_path, name, content, reader):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(trec.TrecFormatError, match=rf"{name}:\d"):
        reader(path)


def test_a_run_file_keeps_the_engine_order_when_sorted_by_score(tmp_path):
    path = tmp_path / "x.run"
    trec.write_run(path, {"q1": ["E3", "E1", "E2"]}, tag="t")
    assert trec.read_run(path) == {"q1": ["E3", "E1", "E2"]}
    assert path.read_text().splitlines()[0] == "q1 Q0 E3 1 3 t"


# --------------------------------------------------------------- the command


@pytest.fixture
def fixture_archive(db, make_article, index_articles):
    articles = []
    for line in (DATA / "articles.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        article = make_article(
            title=record["title"],
            body=record["body"],
            source=record["source"],
            published=datetime.date.fromisoformat(record["published"]),
        )
        article.external_id = record["id"]
        article.save()
        articles.append(article)
    index_articles(*articles)
    return articles


def run_command(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("evaluate_search", *args, stdout=out, stderr=err)
    return out.getvalue()


def table_rows(output):
    rows = {}
    for line in output.splitlines():
        cells = line.split()
        if len(cells) == 8 and cells[0] in ("ours", "whoosh-default", "sqlite-fts5"):
            rows[cells[0]] = [float(cell) for cell in cells[1:5]] + [int(cells[7])]
    return rows


# Hand-worked figures (nDCG@10, MRR@10, Recall@100, P@10), means over q1-q3
# (q4 has no relevant article):
# ours: q1 ترمب -> E1 (ترمب), E2 (ترامب twice), E3 (ترامب once): the ideal
#   order, nDCG 1, RR 1, P@10 .3; q2 المفاوضات -> E5 (مفاوضات, المفاوضون);
#   q3 -> E4. Means: 1, 1, 1, (.3 + .1 + .1) / 3.
IDEAL_Q1 = 2 / L2(2) + 2 / L2(3) + 1 / L2(4)
# sqlite-fts5 (words as written, ORed): q1 -> E1 only: nDCG 2 / IDEAL_Q1,
#   recall 1/3; q2 -> nothing (no article writes المفاوضات); q3 -> E4
#   ("الأهلي"; no article writes "والزمالك").
# whoosh-default (all words as written): q1 -> E1; q2 and q3 -> nothing.
EXPECTED = {
    "ours": [1.0, 1.0, 1.0, 0.5 / 3, 3],
    "sqlite-fts5": [(2 / IDEAL_Q1 + 1) / 3, 2 / 3, (1 / 3 + 1) / 3, 0.2 / 3, 3],
    "whoosh-default": [(2 / IDEAL_Q1) / 3, 1 / 3, (1 / 3) / 3, 0.1 / 3, 3],
}


@pytest.mark.django_db
def test_evaluate_search_prints_the_hand_worked_figures(fixture_archive, tmp_path):
    output = run_command(
        "--queries", str(DATA / "queries.tsv"), "--qrels", str(DATA / "qrels.txt"), "--run-dir", str(tmp_path)
    )
    header = output.splitlines()[0].split()
    assert header[:5] == ["engine", "nDCG@10", "MRR@10", "Recall@100", "P@10"]
    rows = table_rows(output)
    assert set(rows) == set(EXPECTED)
    for engine, expected in EXPECTED.items():
        assert rows[engine][:4] == pytest.approx(expected[:4], abs=5e-5), engine
        assert rows[engine][4] == expected[4]
    assert trec.read_run(tmp_path / "ours.run")["q1"] == ["E1", "E2", "E3"]
    assert trec.read_run(tmp_path / "sqlite-fts5.run")["q1"] == ["E1"]


@pytest.mark.django_db
def test_evaluate_search_exports_the_archive_for_the_peer_harness(fixture_archive, tmp_path):
    path = tmp_path / "corpus.jsonl"
    run_command("--export-corpus", str(path))
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert sorted(record["id"] for record in records) == ["E1", "E2", "E3", "E4", "E5", "E6"]
    assert {"title", "body"} <= set(records[0])


@pytest.mark.django_db
@pytest.mark.parametrize(
    "args, message",
    [
        ([], "--queries and --qrels are required"),
        (["--queries", "nowhere.tsv", "--qrels", str(DATA / "qrels.txt")], "nowhere.tsv"),
        (["--queries", str(DATA / "queries.tsv"), "--qrels", str(DATA / "qrels.txt"), "--engines", "bing"], "bing"),
    ],
)
def test_evaluate_search_explains_bad_arguments(args, message):
    with pytest.raises(CommandError, match=message):
        run_command(*args)
