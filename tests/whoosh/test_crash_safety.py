"""Crashes lose nothing: a killed import resumes cleanly, a killed index
writer leaves a usable index, a damaged index is rebuilt from the database,
and dumpdata/loaddata carry the archive over whole."""
import gzip
import io
import itertools
import json
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core import serializers
from django.core.management import call_command
from whoosh import fields as whoosh_fields
from whoosh.filedb.filestore import FileStorage

from articles.models import Article, Source, Topic
from articles.search import consistency
from articles.search.engines.whoosh.writing import get_backend
from articles.search.service import SearchRequest, search_articles

REPO = Path(__file__).resolve().parents[2]
DEMO_CORPUS = REPO / "data" / "demo" / "ant-sample.jsonl.gz"
IMPORT_RECORDS = 200
IMPORT_BATCH = 10
COMMAND_TIMEOUT = 300


# ---------------------------------------------------------------------------
# Processes of their own, on a database and index of their own


def archive_env(var_dir):
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG", "TMPDIR") if name in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="newsroom.settings",
        NEWSROOM_VAR_DIR=str(var_dir),
        SECRET_KEY=secrets.token_urlsafe(40),
        DEBUG="0",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env, *args, check=True):
    done = subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *map(str, args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(map(str, args))} exited {done.returncode}\n{done.stdout}\n{done.stderr}")
    return done


def start_manage(env, *args):
    return subprocess.Popen(
        [sys.executable, str(REPO / "manage.py"), *map(str, args)],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def article_rows(var_dir):
    """Every article with its source and topics, read straight from SQLite."""
    with sqlite3.connect(var_dir / "newsroom.sqlite3", timeout=30) as db:
        rows = db.execute(
            """
            SELECT a.external_id, a.title, a.lead, a.body, a.published, a.url, s.name,
                   (SELECT group_concat(name, '|') FROM (
                        SELECT t.name FROM articles_article_topics at
                        JOIN articles_topic t ON t.id = at.topic_id
                        WHERE at.article_id = a.id ORDER BY t.name))
            FROM articles_article a LEFT JOIN articles_source s ON s.id = a.source_id
            """
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def article_count(var_dir):
    try:
        with sqlite3.connect(var_dir / "newsroom.sqlite3", timeout=30) as db:
            return db.execute("SELECT count(*) FROM articles_article").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def kill_when(process, var_dir, at_least):
    """SIGKILL `process` as soon as the database holds `at_least` articles."""
    deadline = time.monotonic() + COMMAND_TIMEOUT
    while article_count(var_dir) < at_least:
        assert process.poll() is None, f"the import ended before it could be killed:\n{process.stdout.read()}"
        assert time.monotonic() < deadline, "the import made no progress"
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(30)
    process.stdout.close()
    return article_count(var_dir)


@pytest.fixture
def big_file(tmp_path):
    with gzip.open(DEMO_CORPUS, "rt", encoding="utf-8") as corpus:
        lines = list(itertools.islice((line for line in corpus if line.strip()), IMPORT_RECORDS))
    assert len(lines) == IMPORT_RECORDS
    path = tmp_path / "big.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    return path, [json.loads(line) for line in lines]


@pytest.fixture
def empty_archive(tmp_path):
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    env = archive_env(var_dir)
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    return var_dir, env


@pytest.mark.slow
def test_a_killed_import_leaves_no_half_article_and_resumes_cleanly(big_file, empty_archive):
    path, records = big_file
    var_dir, env = empty_archive
    command = ("import_articles", path, "--batch-size", IMPORT_BATCH, "--no-progress")

    snapshots = []
    for fraction in (0.2, 0.55):
        process = start_manage(env, *command)
        count = kill_when(process, var_dir, int(IMPORT_RECORDS * fraction))
        assert count < IMPORT_RECORDS, "the import finished before the kill; use a bigger file"
        snapshots.append(article_rows(var_dir))

    resumed = manage(env, *command)
    assert "failed: 0" in resumed.stdout, resumed.stdout
    final = article_rows(var_dir)

    # Everything imported, each record once.
    assert sorted(final) == sorted(record["id"] for record in records)
    assert article_count(var_dir) == IMPORT_RECORDS
    # No half article: whatever a killed run left is exactly what the
    # finished import holds for that record (title, text, source, topics).
    for snapshot in snapshots:
        assert snapshot, "nothing was committed before the kill"
        for external_id, row in snapshot.items():
            assert row == final[external_id], f"record {external_id} was left half-saved: {row[:1]}"
            assert row[5] and row[6], f"record {external_id} lacks its source or topic"
    # The index caught up with what the killed runs had queued.
    checked = manage(env, "check_index")
    assert "The search index matches the database." in checked.stdout


@pytest.mark.slow
def test_a_writer_killed_while_holding_the_index_lock_leaves_a_usable_index(big_file, empty_archive):
    path, _records = big_file
    var_dir, env = empty_archive
    small = path.with_name("small.jsonl")
    small.write_text("".join(path.read_text(encoding="utf-8").splitlines(keepends=True)[:60]), encoding="utf-8")
    manage(env, "import_articles", small, "--no-progress")
    # A process dies half-way through writing documents, lock held.
    writer = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "manage.py"),
            "shell",
            "--no-imports",
            "-c",
            "import time\n"
            "from articles.models import Article\n"
            "from articles.search.engines import get_engine\n"
            "engine = get_engine()\n"
            "with engine.write_lock(), engine.batch() as batch:\n"
            "    for article in Article.objects.all()[:30]:\n"
            "        batch.replace(article.pk, article)\n"
            "    print('writing', flush=True)\n"
            "    time.sleep(600)\n",
        ],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert writer.stdout.readline().strip() == "writing"
    writer.send_signal(signal.SIGKILL)
    writer.wait(30)
    writer.stdout.close()

    # The kernel released the lock with the process: the next save goes through.
    manage(
        env,
        "shell",
        "--no-imports",
        "-c",
        "from articles.models import Article\n"
        "a = Article.objects.order_by('pk').first(); a.title = 'عنوان بعد الانهيار'; a.save()",
    )
    checked = manage(env, "check_index")
    assert "The search index matches the database." in checked.stdout
    assert "in step with the database" in manage(env, "ensure_index").stdout


# ---------------------------------------------------------------------------
# A damaged or missing index, found at start-up and rebuilt from the database


@pytest.fixture
def indexed_archive(search_index, make_article, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        articles = [
            make_article(title=f"انتخابات البلدية في المدينة رقم {n}", topics=["سياسة"]) for n in range(6)
        ]
    assert not consistency.compare()
    return articles


def index_dir():
    return Path(get_backend().path)


def segment_files():
    return sorted(index_dir().glob("*.seg"))


def ensure_index():
    out = io.StringIO()
    call_command("ensure_index", stdout=out)
    return out.getvalue()


def truncate_segment():
    segment = segment_files()[0]
    segment.write_bytes(segment.read_bytes()[:100])


def delete_segment():
    segment_files()[0].unlink()


def garble_table_of_contents():
    for toc in index_dir().glob("_MAIN_*.toc"):
        toc.write_bytes(b"\x00garbage" * 10)


def delete_folder():
    shutil.rmtree(index_dir())


def build_with_other_fields():
    """An index left by an older version with a different schema."""
    shutil.rmtree(index_dir())
    index_dir().mkdir()
    schema = whoosh_fields.Schema(id=whoosh_fields.ID(stored=True, unique=True), body=whoosh_fields.TEXT)
    ix = FileStorage(str(index_dir())).create_index(schema)
    with ix.writer() as writer:
        writer.add_document(id="articles.article.1", body="قديم")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "damage",
    [truncate_segment, delete_segment, garble_table_of_contents, delete_folder, build_with_other_fields],
)
def test_a_damaged_or_missing_index_is_found_at_start_and_rebuilt(indexed_archive, damage):
    damage()
    problem = consistency.index_problem()
    assert problem, f"{damage.__name__} went unnoticed"

    output = ensure_index()
    assert "rebuilding it from the database" in output
    assert f"rebuilt with {len(indexed_archive)} articles" in output
    assert consistency.index_problem() is None
    assert not consistency.compare()
    hits = search_articles(SearchRequest(q="انتخابات"))
    assert sorted(hit.article.pk for hit in hits.hits) == sorted(a.pk for a in indexed_archive)


@pytest.mark.django_db
def test_ensure_index_leaves_a_healthy_index_alone_and_repairs_small_differences(indexed_archive):
    before = {path.name for path in index_dir().iterdir()}
    output = ensure_index()
    assert "6 documents, in step with the database" in output
    assert {path.name for path in index_dir().iterdir()} == before

    from articles.search.documents import identifier
    from articles.search.engines import get_engine

    engine = get_engine()
    with engine.write_lock(), engine.batch() as batch:
        batch.remove_identifier(identifier(indexed_archive[0].pk))
    output = ensure_index()
    assert "1 missing, 0 stale, 0 orphaned" in output
    assert "repaired" in output
    assert not consistency.compare()


@pytest.mark.django_db
def test_a_rebuild_keeps_serving_the_old_index_until_it_is_complete(indexed_archive):
    """A searcher opened before the rebuild still answers, and a new one
    sees the rebuilt index (the generation moves on, never back to 0)."""
    backend = get_backend()
    old = backend.index.refresh().searcher()
    try:
        consistency.rebuild()
        assert old.doc_count() == len(indexed_archive)
        assert not old.up_to_date()
    finally:
        old.close()
    assert search_articles(SearchRequest(q="انتخابات")).total == len(indexed_archive)


# ---------------------------------------------------------------------------
# dumpdata / loaddata


ARCHIVE_MODELS = ("articles.source", "articles.topic", "articles.article")


def archive_as_json():
    return json.loads(
        serializers.serialize(
            "json",
            [*Source.objects.order_by("pk"), *Topic.objects.order_by("pk"), *Article.objects.order_by("pk")],
        )
    )


@pytest.mark.django_db
def test_dumpdata_and_loaddata_round_trip_the_archive(
    tmp_path, search_index, make_article, django_capture_on_commit_callbacks
):
    import datetime

    with django_capture_on_commit_callbacks(execute=True):
        make_article(
            title="«قمة» الرياض: بيان ختامي",
            body="فقرة أولى.\nفقرة ثانية فيها رموز <b> & \"اقتباس\" 😀",
            lead="ملخص الخبر",
            topics=["سياسة", "دولية"],
            url="https://example.org/news/1",
            published=datetime.date(2018, 2, 3),
        )
        make_article(title="خبر بلا مصدر ولا تاريخ", source=None, published=None)
        make_article(title="خبر رياضي", source="بي بي سي عربي", topics=["رياضة"])
    Source.objects.create(name="مصدر بلا مقالات", homepage="https://example.org/")
    Topic.objects.create(name="موضوع بلا مقالات")
    before = archive_as_json()

    dump = tmp_path / "archive.json"
    call_command("dumpdata", *ARCHIVE_MODELS, output=str(dump), indent=2)
    with django_capture_on_commit_callbacks(execute=True):
        Article.objects.all().delete()
        Topic.objects.all().delete()
        Source.objects.all().delete()
    assert consistency.compare().documents == 0

    with django_capture_on_commit_callbacks(execute=True):
        call_command("loaddata", str(dump), stdout=io.StringIO())
    assert archive_as_json() == before
    # Loaded rows reach the index like any other change.
    assert not consistency.compare()
    assert [hit.article.title for hit in search_articles(SearchRequest(q="بيان")).hits] == [
        "«قمة» الرياض: بيان ختامي"
    ]
