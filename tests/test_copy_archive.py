"""manage.py copy_archive: a real SQLite archive, made by the site's own
commands in another process, copied into the test database (SQLite in the
first pass of scripts/test, PostgreSQL in the cluster pass)."""
import datetime
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection

from articles import archive_copy
from articles.models import ArchiveState, Article, IndexOperation, Source, Topic
from tests.factories import make_article

REPO = Path(__file__).resolve().parent.parent
IMPORT_FILE = REPO / "tests" / "data" / "import" / "articles.csv"

# Run in a Django process of the archive's own: what an editor and an
# import would have left in a site's database.
BUILD_SCRIPT = """
import datetime, sys
import django
django.setup()
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.core.management import call_command
from django.utils import timezone
from articles.models import Article, IndexOperation, Source, Topic

call_command("migrate", verbosity=0)
call_command("import_articles", sys.argv[1], verbosity=0)

editors = Group.objects.create(name="المحررون")
editors.permissions.set(Permission.objects.filter(content_type__app_label="articles"))
editor = User.objects.create_user("محررة", "editor@example.org", "كلمة سر طويلة 1", first_name="سلمى")
editor.is_staff = True
editor.last_login = timezone.now()
editor.save()
editor.groups.add(editors)
editor.user_permissions.add(Permission.objects.get(codename="view_logentry"))
User.objects.create_superuser("admin", "admin@example.org", "another long password 2")

source = Source.objects.create(name="وكالة الأنباء", homepage="https://example.org/")
elections = Topic.objects.create(name="الانتخابات")
article = Article.objects.create(
    title="نتائج الانتخابات البلدية: \\"مفاجآت\\" في الجنوب 🗳",
    lead="ملخص قصير",
    body="الفقرة الأولى.\\nالفقرة الثانية، مع أرقام ٢٠٢٤ و2024.\\n\\tوسطر بمسافة.",
    source=source,
    published=datetime.date(2024, 3, 9),
    url="https://example.org/news/elections?id=7&lang=ar",
)
article.topics.add(elections, Topic.objects.first())
Article.objects.create(title="خبر بلا مصدر ولا تاريخ", body="نص قصير.")
LogEntry.objects.log_actions(editor.pk, [article], CHANGE, change_message="تعديل العنوان", single_object=True)
IndexOperation.objects.create(article_pk=article.pk, attempts=2, last_error="IndexBusy: انتظار")
"""


def site_env(var_dir):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "newsroom.settings",
        "NEWSROOM_VAR_DIR": str(var_dir),
        "SECRET_KEY": "test",
        "DEBUG": "1",
    }
    for name in ("DATABASE_URL", "SEARCH_URL", "WHOOSH_INDEX_PATH", "SHARED_CACHE_URL"):
        env.pop(name, None)
    return env


@pytest.fixture(scope="module")
def archive_file(tmp_path_factory):
    """A one-machine site's SQLite archive, made once for the module; tests
    copy it, or a damaged copy of it, and never change it."""
    var_dir = tmp_path_factory.mktemp("sqlite-site")
    subprocess.run(
        [sys.executable, "-c", BUILD_SCRIPT, str(IMPORT_FILE)],
        cwd=REPO, env=site_env(var_dir), check=True, capture_output=True, timeout=300,
    )
    return var_dir / "newsroom.sqlite3"


@pytest.fixture
def archive(archive_file, tmp_path):
    """A copy of the archive that a test may damage."""
    path = tmp_path / "newsroom.sqlite3"
    shutil.copyfile(archive_file, path)
    return path


@pytest.fixture(autouse=True)
def forget_content_types():
    """The copy replaces the content types' rows and the test's rollback
    puts the old ones back: Django's cache of them must follow."""
    yield
    ContentType.objects.clear_cache()


def url(path):
    return f"sqlite:///{path}"


def source_rows(path, table, columns="*"):
    """Rows straight from the SQLite file, not through Django."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute(f"SELECT {columns} FROM {table} ORDER BY id").fetchall()


def copy(path, *args):
    out = StringIO()
    call_command("copy_archive", url(path), *args, stdout=out)
    return out.getvalue()


def target_is_empty():
    return not any(
        model.objects.exists() for model in (Article, Source, Topic, User, Group, LogEntry, IndexOperation, ArchiveState)
    )


# ---------------------------------------------------------------------------


def test_every_row_is_copied_with_its_key_and_proved_equal(archive_file, db):
    result = archive_copy.copy_archive(url(archive_file))

    assert [table.table for table in result.tables] == [model._meta.db_table for model in archive_copy.copied_models()]
    assert all(table.matches for table in result.tables)
    by_table = {table.table: table for table in result.tables}
    for table, model in [
        ("articles_article", Article), ("articles_source", Source), ("articles_topic", Topic),
        ("auth_user", User), ("auth_group", Group), ("django_admin_log", LogEntry),
        ("articles_indexoperation", IndexOperation), ("articles_archivestate", ArchiveState),
    ]:
        ids = [row[0] for row in source_rows(archive_file, table, "id")]
        assert ids, f"the test archive should have rows in {table}"
        assert list(model.objects.order_by("pk").values_list("pk", flat=True)) == ids
        assert by_table[table].source_rows == by_table[table].target_rows == len(ids)
        # The checksum is the target's own, read again here.
        assert archive_copy.table_digest(model, "default").checksum == by_table[table].target_checksum

    # Values that a save() would have changed are kept as they were.
    source_articles = {
        row[0]: row[1:] for row in source_rows(archive_file, "articles_article", "id, title, body, created, updated, fingerprint")
    }
    for article in Article.objects.all():
        title, body, created, updated, fingerprint = source_articles[article.pk]
        assert (article.title, article.body, article.fingerprint) == (title, body, fingerprint)
        assert article.created == datetime.datetime.fromisoformat(created).replace(tzinfo=datetime.UTC)
        assert article.updated == datetime.datetime.fromisoformat(updated).replace(tzinfo=datetime.UTC)
    elections = Article.objects.get(url="https://example.org/news/elections?id=7&lang=ar")
    assert elections.title == 'نتائج الانتخابات البلدية: "مفاجآت" في الجنوب 🗳'
    assert elections.source.name == "وكالة الأنباء"
    assert set(elections.topics.values_list("name", flat=True)) >= {"الانتخابات"}
    assert Article.objects.get(title="خبر بلا مصدر ولا تاريخ").published is None

    editor = User.objects.get(username="محررة")
    # Signing in works as before: the hash is the one the site made (the
    # tests' own hasher is a faster one, so compare the hashes themselves).
    assert (editor.password,) in source_rows(archive_file, "auth_user", "password")
    assert editor.password.startswith("pbkdf2_sha256$") and editor.last_login is not None
    assert editor.has_perm("articles.change_article") and editor.has_perm("admin.view_logentry")
    assert not editor.has_perm("auth.add_user")
    entry = LogEntry.objects.get()
    assert (entry.user, entry.get_edited_object()) == (editor, elections)
    assert entry.change_message == "تعديل العنوان"
    assert IndexOperation.objects.get().last_error == "IndexBusy: انتظار"


def test_the_command_prints_each_table_and_the_next_step(archive_file, db):
    output = copy(archive_file)
    result_line = next(line for line in output.splitlines() if line.strip().startswith("articles_article "))
    count, _target_count, checksum = result_line.split()[1:4]
    assert int(count) == Article.objects.count()
    assert checksum == archive_copy.table_digest(Article, "default").checksum
    assert "every table's row count and checksum match" in output
    assert "manage.py rebuild_index" in output


def test_new_rows_after_the_copy_get_new_keys(archive_file, db):
    copy(archive_file)
    copied = set(Article.objects.values_list("pk", flat=True))
    article = make_article(title="خبر جديد بعد النسخ", source="وكالة الأنباء", topics=["الانتخابات"])
    assert article.pk > max(copied)
    assert Topic.objects.create(name="موضوع جديد").pk > 0
    assert User.objects.create_user("محرر جديد").pk > max(row[0] for row in source_rows(archive_file, "auth_user", "id"))
    assert Group.objects.create(name="مجموعة جديدة").pk


def test_the_source_is_never_written(archive_file, db):
    before = hashlib.sha256(archive_file.read_bytes()).hexdigest()
    copy(archive_file)
    assert hashlib.sha256(archive_file.read_bytes()).hexdigest() == before
    assert not Path(f"{archive_file}-wal").exists() or Path(f"{archive_file}-wal").stat().st_size == 0


def test_a_site_with_an_archive_of_its_own_is_refused_unless_replace(archive_file, db):
    mine = make_article(title="مقال في قاعدة البيانات الهدف")
    with pytest.raises(CommandError, match=r"not empty: .*articles_article \(1\).*--replace"):
        copy(archive_file)
    assert list(Article.objects.all()) == [mine]

    output = copy(archive_file, "--replace")
    assert "every table's row count and checksum match" in output
    titles = set(Article.objects.values_list("title", flat=True))
    assert mine.title not in titles
    assert titles == {row[0] for row in source_rows(archive_file, "articles_article", "title")}


def test_a_replaced_site_never_goes_back_to_an_old_version(archive_file, db):
    """Pages cached under the replaced database's versions must not be served again."""
    copied = source_rows(archive_file, "articles_archivestate", "version")[0][0]
    ArchiveState.objects.create(pk=1, version=copied + 40, changed=datetime.datetime.now(datetime.UTC))
    output = copy(archive_file, "--replace")
    assert ArchiveState.objects.get().version == copied + 41
    assert "moved on" in output


def test_a_corrupted_source_fails_clearly_and_keeps_nothing(tmp_path, db):
    garbage = tmp_path / "newsroom.sqlite3"
    garbage.write_bytes(b"not a database at all\n" * 200)
    with pytest.raises(CommandError, match="file is not a database"):
        copy(garbage)
    assert target_is_empty()


def test_a_damaged_source_fails_mid_copy_and_keeps_nothing(archive, db):
    """The articles' pages of the file overwritten: the tables before them
    are copied, then reading fails, and all of it is rolled back."""
    content_types = list(ContentType.objects.order_by("pk").values_list("pk", "app_label", "model"))
    with sqlite3.connect(archive) as db_file:
        db_file.execute("PRAGMA journal_mode=DELETE")
        page_size = db_file.execute("PRAGMA page_size").fetchone()[0]
        (root,) = db_file.execute("SELECT rootpage FROM sqlite_master WHERE name = 'articles_article'").fetchone()
    with open(archive, "r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(b"\xff" * page_size)
    copied = []
    with pytest.raises(archive_copy.CopyFailed, match=r"articles_article failed, nothing was kept: .*malformed"):
        archive_copy.copy_archive(url(archive), log=copied.append)
    assert any("auth_user:" in line for line in copied)
    assert target_is_empty()
    assert list(ContentType.objects.order_by("pk").values_list("pk", "app_label", "model")) == content_types


def test_a_missing_or_unreachable_source_says_so(tmp_path, db):
    with pytest.raises(CommandError, match=r"there is no SQLite database at .*absent\.sqlite3"):
        copy(tmp_path / "absent.sqlite3")
    assert not (tmp_path / "absent.sqlite3").exists()
    with pytest.raises(CommandError, match="failed, nothing was kept"):
        call_command("copy_archive", "postgres://newsroom@127.0.0.1:1/newsroom", stdout=StringIO())
    assert target_is_empty()


def test_a_copy_that_differs_keeps_nothing(archive_file, db, monkeypatch):
    real_insert = archive_copy._insert

    def lose_a_link(model, batch, target):
        if model is Article.topics.through:
            batch = batch[:-1]
        real_insert(model, batch, target)

    monkeypatch.setattr(archive_copy, "_insert", lose_a_link)
    out = StringIO()
    with pytest.raises(CommandError, match="differs from the source in articles_article_topics; nothing was kept"):
        call_command("copy_archive", url(archive_file), stdout=out)
    assert "DIFFERS" in out.getvalue()
    assert target_is_empty()


def test_an_older_source_is_asked_to_migrate_first(archive, db):
    with sqlite3.connect(archive) as db_file:
        db_file.execute("DROP TABLE articles_archivestate")
        db_file.execute("DELETE FROM django_migrations WHERE app = 'articles' AND name >= '0003'")
    with pytest.raises(CommandError, match=r"lacks articles\.0003_archivestate.*manage.py migrate. on the source"):
        copy(archive)
    assert target_is_empty()


def test_a_database_that_is_not_newsroom_is_refused(tmp_path, db):
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as db_file:
        db_file.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    with pytest.raises(CommandError, match="not a Newsroom database"):
        copy(other)


@pytest.mark.skipif(
    "connection.vendor == 'sqlite'",
    reason="SQLite holds text of any length; PostgreSQL (DATABASE_URL=postgres://..., the cluster pass) does not",
)
def test_rows_postgresql_cannot_hold_are_named_before_anything_is_kept(archive, db):
    with sqlite3.connect(archive) as db_file:
        pk = db_file.execute("SELECT min(id) FROM articles_article").fetchone()[0]
        db_file.execute("UPDATE articles_article SET title = ? WHERE id = ?", ("عنوان " * 120, pk))
    with pytest.raises(CommandError, match=f"articles_article #{pk}: title has 720 characters, at most 500 fit"):
        copy(archive)
    assert target_is_empty()


def test_the_site_cannot_copy_itself(db):
    if connection.vendor == "sqlite":
        pytest.skip("the SQLite test database is in memory: there is no file to name")
    config = connection.settings_dict
    own = f"postgres://{config['USER']}@{config['HOST'] or 'localhost'}:{config['PORT'] or 5432}/{config['NAME']}"
    with pytest.raises(CommandError, match="this site's own database"):
        call_command("copy_archive", own, stdout=StringIO())
