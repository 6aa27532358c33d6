"""manage.py import_articles against a real SQLite database."""
import datetime
import gzip
import json
import os
import shutil
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError

from articles.models import Article, Source, Topic

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "data" / "demo" / "seeds"
DATA = Path(__file__).resolve().parent / "data" / "import"

SEED_TITLES = {
    "الثورة نت": "وصل الرئيس الروسي، فلاديمير بوتين ،فجر اليوم الجمعة،إلى مدينة ماغادان الروسية قبيل قمته مع ترامب في ألاسكا",
    "صحيفة المرصد الليبية": "عقد الرئيس الروسي فلاديمير بوتين، امس السبت، اجتماعًا مع مسؤولين رفيعين لتقييم نتائج لقائه مع نظيره الأمريكي دونالد ترامب…",
}
SOURCELESS_SEED_TITLES = [
    "تقول روسيا إن كلا الجانبين يؤكدون نية لقاء بوتين ترامب في ألاسكا يوم الجمعة ، حيث تم مناقشة حرب أوكرانيا",
    'قمة آلاسكا.. "نتائج مثمرة" دون كشف التفاصيل وترامب وبوتين يؤكدان على عقد اجتماع آخر قريباً',
    "يناقش الرئيسان الروسي فلاديمير بوتين والأميركي دونالد ترمب في قمتهما المرتقبة، الجمعة، في ولاية ألاسكا…",
]


class Run:
    """What a user sees from one import: summary, error lines, success."""

    def __init__(self, stdout, stderr, error=None):
        self.stdout = stdout
        self.stderr = stderr
        self.error = error

    @property
    def errors(self):
        return [line for line in self.stderr.splitlines() if line.strip()]

    @property
    def ok(self):
        return self.error is None


def run_import(*args):
    stdout, stderr = StringIO(), StringIO()
    try:
        call_command("import_articles", *map(str, args), stdout=stdout, stderr=stderr)
    except CommandError as error:
        return Run(stdout.getvalue(), stderr.getvalue(), error)
    return Run(stdout.getvalue(), stderr.getvalue())


def summary(imported=0, updated=0, skipped=0, failed=0):
    return f"Imported: {imported}, updated: {updated}, skipped: {skipped}, failed: {failed} ("


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def corpus_record(n, **fields):
    record = {
        "id": f"SK-economy-{n}-20180301",
        "title": f"عنوان الخبر الاقتصادي رقم {n}",
        "body": f"الفقرة الأولى من الخبر الاقتصادي رقم {n}.\nالفقرة الثانية من الخبر رقم {n}.",
        "source": "Sky News Arabia",
        "published": "2018-03-01",
        "category": "economy",
        "url": f"https://www.example.org/economy/{n}",
    }
    record.update(fields)
    return record


@pytest.mark.django_db
def test_seeds_import_with_their_titles_and_sources():
    run = run_import(SEEDS)

    assert run.ok, run.stderr
    assert summary(imported=5) in run.stdout
    by_source = {a.source.name: a for a in Article.objects.exclude(source=None)}
    assert {name: a.title for name, a in by_source.items()} == SEED_TITLES
    assert sorted(Article.objects.filter(source=None).values_list("title", flat=True)) == sorted(SOURCELESS_SEED_TITLES)
    assert set(Article.objects.values_list("published", flat=True)) == {None}
    for article in Article.objects.all():
        for boilerplate in ("اقرأ أيضاً", "إقرأ أيضاً", "مقالات مشابهة", "تابعونا", "الأكثر قراءة", "Related", "المصدر:"):
            assert boilerplate not in article.body
        assert article.lead == article.paragraphs[0]


@pytest.mark.django_db
def test_source_option_names_the_outlet_of_pages_without_one():
    run = run_import(SEEDS, "--source", "مصدر الأرشيف")

    assert run.ok
    names = Article.objects.values_list("source__name", flat=True)
    # Pages with their own "المصدر:" line keep it.
    assert sorted(names) == sorted(["الثورة نت", "صحيفة المرصد الليبية"] + ["مصدر الأرشيف"] * 3)


@pytest.mark.django_db
def test_reimporting_the_same_files_adds_nothing():
    first = run_import(SEEDS, DATA / "articles.csv")
    count = Article.objects.count()
    second = run_import(SEEDS, DATA / "articles.csv")

    assert first.ok and second.ok
    assert summary(imported=8) in first.stdout
    assert summary(skipped=8) in second.stdout
    assert Article.objects.count() == count == 8


@pytest.mark.django_db
def test_duplicates_are_found_across_lookup_slices(tmp_path, monkeypatch):
    from articles.importing import service

    monkeypatch.setattr(service, "LOOKUP_SLICE", 2)
    write_jsonl(tmp_path / "a.jsonl", [corpus_record(n) for n in range(7)])
    run_import(tmp_path / "a.jsonl", SEEDS)

    again = run_import(tmp_path / "a.jsonl", SEEDS)

    assert summary(skipped=12) in again.stdout
    assert Article.objects.count() == 12


@pytest.mark.django_db
def test_changed_record_is_updated_in_place(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [corpus_record(1), corpus_record(2)])
    run_import(tmp_path / "a.jsonl")
    article = Article.objects.get(external_id="SK-economy-1-20180301")

    corrected = corpus_record(1, title="عنوان مصحح للخبر الاقتصادي", body="نص مصحح.")
    write_jsonl(tmp_path / "a.jsonl", [corrected, corpus_record(2)])
    run = run_import(tmp_path / "a.jsonl")

    assert summary(updated=1, skipped=1) in run.stdout
    article.refresh_from_db()
    assert (article.title, article.body) == ("عنوان مصحح للخبر الاقتصادي", "نص مصحح.")
    assert article.slug == "عنوان-مصحح-للخبر-الاقتصادي"
    assert Article.objects.count() == 2


@pytest.mark.django_db
def test_same_url_with_other_scheme_or_trailing_slash_is_the_same_article(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [corpus_record(1, id=None)])
    run_import(tmp_path / "a.jsonl")
    respelled = corpus_record(1, id=None, url="http://www.example.org/economy/1/", body="نص جديد للخبر.")
    write_jsonl(tmp_path / "b.jsonl", [respelled])

    run = run_import(tmp_path / "b.jsonl")

    assert summary(updated=1) in run.stdout
    article = Article.objects.get()
    assert article.body == "نص جديد للخبر."
    assert article.url == "https://www.example.org/economy/1"  # the URL it had is kept


@pytest.mark.django_db
def test_same_text_without_url_or_id_is_recognised_by_its_fingerprint(tmp_path):
    run_import(SEEDS / "001_d6b038106e6b6b8b.txt")
    # The same page saved again with other spacing, tashkeel and a BOM.
    text = (SEEDS / "001_d6b038106e6b6b8b.txt").read_text(encoding="utf-8")
    (tmp_path / "copy.txt").write_text("\ufeff" + text.replace(" ", "  ").replace("روسيا", "رُوسيا"), encoding="utf-8")

    run = run_import(tmp_path / "copy.txt")

    assert summary(updated=1) in run.stdout or summary(skipped=1) in run.stdout
    assert Article.objects.count() == 1


@pytest.mark.django_db
def test_broken_jsonl_line_and_undecodable_file_are_reported_and_the_rest_imports():
    run = run_import(DATA / "mixed")

    records = DATA / "mixed" / "records.jsonl"
    undecodable = DATA / "mixed" / "undecodable.txt"
    assert run.errors == [
        f"{records}:2: bad JSON: Unterminated string starting at column 79",
        f"{records}:4: published: '2018-02-30' is not a date (expected YYYY-MM-DD)",
        f"{records}:5: missing body",
        f"{undecodable}:7: not UTF-8: undecodable byte 0xff at byte offset 310",
    ]
    assert summary(imported=2, failed=4) in run.stdout
    assert "4 records or files failed" in str(run.error)
    assert sorted(Article.objects.values_list("external_id", flat=True)) == [
        "TEST-economy-1-20180301",
        "TEST-middleEast-3-20180305",
    ]


@pytest.mark.django_db
def test_jsonl_fields_become_article_source_date_url_and_topic():
    run_import(DATA / "mixed" / "records.jsonl")

    article = Article.objects.get(external_id="TEST-economy-1-20180301")
    assert article.title == "ارتفاع أسعار النفط في الأسواق العالمية"
    assert article.paragraphs == [
        "ارتفعت أسعار النفط اليوم بعد قرار خفض الإنتاج.",
        "وقال محللون إن الأسعار قد تواصل الصعود.",
    ]
    assert article.lead == "ارتفعت أسعار النفط اليوم بعد قرار خفض الإنتاج."
    assert article.source.name == "Sky News Arabia"
    assert article.published == datetime.date(2018, 3, 1)
    assert article.url == "https://example.org/economy/oil-prices"
    assert [t.name for t in article.topics.all()] == ["اقتصاد"]
    assert [t.name for t in Article.objects.get(external_id="TEST-middleEast-3-20180305").topics.all()] == ["الشرق الأوسط"]


@pytest.mark.django_db
def test_csv_import():
    run = run_import(DATA / "articles.csv")

    assert run.ok, run.stderr
    assert summary(imported=3) in run.stdout
    phone = Article.objects.get(external_id="TEST-technology-1-20180410")
    assert phone.paragraphs == [
        "كشفت الشركة عن هاتف جديد بشاشة قابلة للطي.",
        'وقالت الشركة إن الهاتف سيطرح في الأسواق الشهر المقبل، بسعر "مرتفع" نسبياً.',
    ]
    assert phone.source.name == "CNN Arabic"
    assert phone.published == datetime.date(2018, 4, 10)
    assert [t.name for t in phone.topics.all()] == ["تكنولوجيا"]
    undated = Article.objects.get(external_id="TEST-diverse-3-20180412")
    assert undated.published is None and undated.url is None
    # A label the corpus does not know becomes a topic as written.
    assert [t.name for t in undated.topics.all()] == ["weather"]


@pytest.mark.django_db
def test_csv_problems_name_their_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(
        "title,body,published,url\n"
        "خبر أول,نص الخبر الأول.,2018-01-01,https://example.org/1\n"
        '"خبر ثان","نص على\nسطرين.",2018-13-01,\n'.encode()
        + "خبر ثالث,نص ".encode() + b"\xff,,\n"
        + "خبر رابع,نص الخبر الرابع.,,ftp://example.org/4\n"
        "خبر خامس,نص الخبر الخامس.,,\n".encode()
    )

    run = run_import(path)

    offset = path.read_bytes().index(b"\xff")
    assert run.errors == [
        f"{path}:3: published: '2018-13-01' is not a date (expected YYYY-MM-DD)",
        f"{path}:5: not UTF-8: undecodable byte 0xff at byte offset {offset}",
        f"{path}:6: url: 'ftp://example.org/4' is not a valid http(s) address",
    ]
    assert sorted(Article.objects.values_list("title", flat=True)) == ["خبر أول", "خبر خامس"]


@pytest.mark.django_db
def test_gzipped_files_and_json_arrays(tmp_path):
    with gzip.open(tmp_path / "a.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write(json.dumps(corpus_record(1), ensure_ascii=False) + "\n")
    (tmp_path / "b.json").write_text(json.dumps([corpus_record(2), "not an object"], ensure_ascii=False), encoding="utf-8")
    (tmp_path / "c.csv.gz").write_bytes(b"\x1f\x8b broken")

    run = run_import(tmp_path)

    assert run.errors[0] == f"{tmp_path / 'b.json'}: record 2: expected a JSON object, found a string"
    assert run.errors[1].startswith(f"{tmp_path / 'c.csv.gz'}:1: cannot read the gzip data")
    assert Article.objects.count() == 2


@pytest.mark.django_db
def test_missing_and_unsupported_paths_are_errors_and_other_files_still_import(tmp_path):
    (tmp_path / "notes.md").write_text("ملاحظات", encoding="utf-8")
    run = run_import(tmp_path / "nothing-here.jsonl", tmp_path / "notes.md", SEEDS / "002_ab1263de56029f80.txt")

    assert run.errors == [
        f"{tmp_path / 'nothing-here.jsonl'}: no such file or folder",
        f"{tmp_path / 'notes.md'}: unsupported file type (expected .txt, .jsonl, .jsonl.gz, .json, .json.gz, .csv, .csv.gz)",
    ]
    assert summary(imported=1, failed=2) in run.stdout
    assert not run.ok


@pytest.mark.django_db
def test_a_folder_skips_files_of_other_types(tmp_path):
    shutil.copytree(SEEDS, tmp_path / "seeds")
    (tmp_path / "README.md").write_text("# demo", encoding="utf-8")
    (tmp_path / ".hidden.jsonl").write_text("not json", encoding="utf-8")

    run = run_import(tmp_path)

    assert run.ok and run.errors == []
    assert summary(imported=5) in run.stdout
    # A folder and a file in it, named together, are read once.
    again = run_import(tmp_path, tmp_path / "seeds" / "000_4c30a97419dbf98e.txt")
    assert summary(skipped=5) in again.stdout


@pytest.mark.django_db
def test_topic_option_and_editor_topics_survive_reimport(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [corpus_record(1)])
    run_import(tmp_path / "a.jsonl", "--topic", "قمة ألاسكا", "--topic", "ملف خاص")
    article = Article.objects.get()
    assert sorted(t.name for t in article.topics.all()) == ["اقتصاد", "قمة ألاسكا", "ملف خاص"]

    # An editor tags the story in the admin, then the same file comes again.
    article.topics.add(Topic.objects.create(name="تحقيق"))
    run = run_import(tmp_path / "a.jsonl")

    assert summary(skipped=1) in run.stdout
    assert sorted(t.name for t in article.topics.all()) == ["اقتصاد", "تحقيق", "قمة ألاسكا", "ملف خاص"]


@pytest.mark.django_db
def test_a_record_failing_half_way_leaves_nothing_behind(tmp_path, monkeypatch):
    """The article is saved before its topics: a topic that cannot be saved
    takes the article (and the new source) back with it."""
    original_save = Topic.save

    def save(topic, *args, **kwargs):
        if topic.name == "قسم معطوب":
            raise IntegrityError("disk full while saving the topic")
        return original_save(topic, *args, **kwargs)

    monkeypatch.setattr(Topic, "save", save)
    doomed = corpus_record(2, category="قسم معطوب", source="مصدر جديد")
    write_jsonl(tmp_path / "a.jsonl", [corpus_record(1), doomed, corpus_record(3)])

    run = run_import(tmp_path / "a.jsonl")

    assert run.errors == [f"{tmp_path / 'a.jsonl'}:2: not saved: disk full while saving the topic"]
    assert summary(imported=2, failed=1) in run.stdout
    assert not Article.objects.filter(external_id=doomed["id"]).exists()
    assert not Source.objects.filter(name="مصدر جديد").exists()
    assert sorted(Article.objects.values_list("external_id", flat=True)) == [
        "SK-economy-1-20180301", "SK-economy-3-20180301",
    ]

    # Fixed, the same file imports the missing record only.
    monkeypatch.setattr(Topic, "save", original_save)
    again = run_import(tmp_path / "a.jsonl")
    assert summary(imported=1, skipped=2) in again.stdout
    assert Article.objects.get(external_id=doomed["id"]).source.name == "مصدر جديد"


@pytest.mark.django_db
def test_text_already_in_another_article_is_a_conflict(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", [corpus_record(1), corpus_record(2)])
    run_import(tmp_path / "a.jsonl")
    # Record 2's URL, record 1's text.
    clash = corpus_record(1, id="SK-economy-2-20180301", url="https://www.example.org/economy/2")
    write_jsonl(tmp_path / "b.jsonl", [clash])

    run = run_import(tmp_path / "b.jsonl")

    first = Article.objects.get(external_id="SK-economy-1-20180301")
    second = Article.objects.get(external_id="SK-economy-2-20180301")
    assert run.errors == [
        f"{tmp_path / 'b.jsonl'}:1: its text is already in article #{first.pk}, "
        f"but its URL belongs to article #{second.pk}"
    ]
    assert second.title == "عنوان الخبر الاقتصادي رقم 2"


@pytest.mark.django_db
def test_progress_bar_on_request():
    stderr = StringIO()
    call_command("import_articles", str(SEEDS), "--progress", stdout=StringIO(), stderr=stderr)

    bar = stderr.getvalue().replace("\r", "\n").splitlines()
    assert any(line.startswith("Importing: 100%") and "5 records" in line for line in bar)


@pytest.mark.django_db
def test_no_progress_bar_when_not_asked():
    run = run_import(SEEDS, "--no-progress")
    assert run.stderr == ""


@pytest.mark.django_db(transaction=True)
def test_the_index_is_written_once_per_batch(search_index, monkeypatch):
    """Saved batches reach the search index as they commit, one drain each,
    when every batch queues INDEX_EVERY articles or more."""
    from articles.importing import service
    from articles.search import index_queue as queue

    drains = []
    drain = queue.drain_quietly
    monkeypatch.setattr(queue, "drain_quietly", lambda **kw: drains.append(drain(**kw)))
    monkeypatch.setattr(service, "INDEX_EVERY", 2)

    run = run_import(SEEDS, "--batch-size", "2")

    assert run.ok and run.stderr == ""
    assert [result.indexed for result in drains] == [2, 2, 1]
    assert search_index.indexed_count() == 5
    assert queue.pending_count() == 0


@pytest.mark.django_db(transaction=True)
def test_the_index_is_written_in_commits_of_index_every_articles(search_index, monkeypatch):
    """A large import drains every INDEX_EVERY articles (rounded up to whole
    batches), in index commits of at most INDEX_EVERY articles, and once
    more at the end; a small import (fewer) once, when it ends."""
    from articles.importing import service
    from articles.search import index_queue as queue

    commits = []
    write = queue.write_current_state
    monkeypatch.setattr(queue, "write_current_state", lambda batch, pks: commits.append(len(pks)) or write(batch, pks))
    monkeypatch.setattr(service, "INDEX_EVERY", 3)

    run = run_import(SEEDS, "--batch-size", "2")

    assert run.ok and run.stderr == ""
    # Drains after 4 articles (2 commits: 3 + 1) and at the end (1).
    assert commits == [3, 1, 1]
    assert search_index.indexed_count() == 5
    assert queue.pending_count() == 0


@pytest.mark.django_db(transaction=True)
def test_changes_the_index_could_not_take_are_reported(search_index, monkeypatch):
    """A busy index does not fail the import (the articles are saved), but the
    user is told that the index is behind and what to run."""
    from articles.search import index_queue as queue

    monkeypatch.setattr(queue, "drain_quietly", lambda **kw: None)  # as if the index stayed locked

    run = run_import(SEEDS / "002_ab1263de56029f80.txt", DATA / "articles.csv")

    assert run.ok
    assert run.errors == [
        "4 article(s) still wait for the search index (it was busy or failed; see the log): "
        "run manage.py process_index_queue"
    ]
    assert Article.objects.count() == 4


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_cannot_commit_is_reported_record_by_record(tmp_path, monkeypatch):
    from django.db import OperationalError, connection

    write_jsonl(tmp_path / "a.jsonl", [corpus_record(1), corpus_record(2, body=""), corpus_record(3)])

    def commit():
        raise OperationalError("disk I/O error")

    monkeypatch.setattr(connection, "commit", commit)
    run = run_import(tmp_path / "a.jsonl")
    monkeypatch.undo()

    assert run.errors == [
        f"{tmp_path / 'a.jsonl'}:2: missing body",
        f"{tmp_path / 'a.jsonl'}:1: not saved: the batch could not be committed (disk I/O error)",
        f"{tmp_path / 'a.jsonl'}:3: not saved: the batch could not be committed (disk I/O error)",
    ]
    assert summary(failed=3) in run.stdout
    assert Article.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_failure_after_the_commit_keeps_the_articles_and_fails_the_run(monkeypatch):
    from articles.search import index_queue as queue

    def broken_drain(**kwargs):
        raise RuntimeError("index folder is read-only")

    monkeypatch.setattr(queue, "drain_quietly", broken_drain)

    run = run_import(SEEDS / "000_4c30a97419dbf98e.txt")

    assert run.errors[0] == (
        "search index: saved, but a step after the commit failed: index folder is read-only "
        "(run manage.py check_index)"
    )
    assert summary(imported=1) in run.stdout
    assert "a step after saving failed" in str(run.error)
    assert Article.objects.count() == 1


def test_exit_status_and_messages_of_a_real_run(tmp_path):
    """As a shell user sees it: error lines on stderr, the summary on stdout,
    status 1, and no traceback."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        "NEWSROOM_VAR_DIR": str(tmp_path / "var"),
        "DEBUG": "1",
    }
    # An archive of its own under tmp_path, never the cluster pass's database
    # and collection, which the exported settings would name.
    for name in ("DATABASE_URL", "SEARCH_URL"):
        env.pop(name, None)
    manage = [sys.executable, str(REPO / "manage.py")]
    subprocess.run([*manage, "migrate", "--verbosity", "0"], env=env, check=True, timeout=120)

    failed = subprocess.run(
        [*manage, "import_articles", str(DATA / "mixed" / "records.jsonl")],
        env=env, capture_output=True, text=True, timeout=120,
    )
    clean = subprocess.run(
        [*manage, "import_articles", str(SEEDS / "000_4c30a97419dbf98e.txt")],
        env=env, capture_output=True, text=True, timeout=120,
    )

    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr
    assert f"{DATA / 'mixed' / 'records.jsonl'}:2: bad JSON" in failed.stderr
    assert failed.stderr.rstrip().endswith("CommandError: 3 records or files failed to import (see the lines above)")
    assert summary(imported=2, failed=3) in failed.stdout
    assert clean.returncode == 0, clean.stderr
    assert summary(imported=1) in clean.stdout
