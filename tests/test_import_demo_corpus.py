"""The demo corpus shipped in data/demo: what it holds, and that it imports."""
import collections
import gzip
import itertools
import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from articles.importing.records import CATEGORY_TOPICS
from articles.models import Article, Topic

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "data" / "demo"
SAMPLE = DEMO / "ant-sample.jsonl.gz"
SHARED = REPO.parent / "shared"
CORPUS_FIELDS = {"id", "title", "body", "source", "published", "category", "url", "published_at", "author"}


@pytest.fixture(scope="module")
def sample():
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_sample_spreads_over_every_outlet_section_and_year(sample):
    sources = collections.Counter(record["source"] for record in sample)
    categories = {record["category"] for record in sample}
    years = collections.Counter(record["published"][:4] for record in sample)

    assert len(sample) == 3000
    assert sources == dict.fromkeys(
        ["Al Arabiya", "BBC Arabic", "CNN Arabic", "France 24 Arabic", "Jawhara FM", "Sky News Arabia"], 500
    )
    assert categories == set(CATEGORY_TOPICS)
    assert set(years) == {"2012", "2013", "2014", "2015", "2016", "2017", "2018"}
    assert all(set(record) == CORPUS_FIELDS for record in sample)
    assert len({record["id"] for record in sample}) == len({record["url"] for record in sample}) == 3000
    assert sum(len(record["body"]) >= 300 for record in sample) >= 2990


def test_seed_pages_are_shipped():
    assert sorted(path.name for path in (DEMO / "seeds").glob("*.txt")) == [
        "000_4c30a97419dbf98e.txt",
        "001_d6b038106e6b6b8b.txt",
        "002_ab1263de56029f80.txt",
        "003_8263b2d1c5dd0958.txt",
        "004_177f63b55d35fb6a.txt",
    ]


@pytest.mark.skipif(not (SHARED / "corpus").is_dir(), reason="the full corpus lives in ../shared on dev machines only")
def test_the_script_makes_exactly_the_shipped_demo():
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "make_demo_corpus.py"), "--check"],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.django_db
def test_a_slice_of_the_sample_imports_with_arabic_topics(tmp_path):
    with gzip.open(SAMPLE, "rt", encoding="utf-8") as handle:
        # Every 10th record: all outlets and most sections.
        lines = list(itertools.islice(handle, 0, None, 10))
    (tmp_path / "slice.jsonl").write_text("".join(lines), encoding="utf-8")
    stdout = StringIO()

    call_command("import_articles", str(tmp_path / "slice.jsonl"), stdout=stdout, stderr=StringIO())

    assert f"Imported: {len(lines)}, updated: 0, skipped: 0, failed: 0" in stdout.getvalue()
    assert set(Topic.objects.values_list("name", flat=True)) <= set(CATEGORY_TOPICS.values())
    first = json.loads(lines[0])
    article = Article.objects.get(external_id=first["id"])
    assert (article.title, article.url, article.source.name) == (first["title"], first["url"], first["source"])
    assert [t.name for t in article.topics.all()] == [CATEGORY_TOPICS[first["category"]]]
