"""Copying a whole archive from one database into another, proven whole.

A site that outgrows one machine moves its SQLite archive into PostgreSQL
(`manage.py copy_archive sqlite:///var/newsroom.sqlite3`). Every table
Newsroom owns goes across, with Django's users, groups, permissions and
admin log (and the content types they point at), primary keys kept:

- read from the source in one read transaction (a snapshot, even of a live
  site), pk-ordered batches, never written to (SQLite is opened read-only);
- written to the target in one transaction with plain INSERTs, so that no
  save(), signal or auto_now field changes a value on the way;
- then each table is read back from the target and compared with the
  source: the row count and a sha256 over the pk-ordered rows, each
  serialised the same way on both sides (`row_text`). Any difference, or
  any error, rolls the target back whole: it is left as it was.

PostgreSQL's sequences are moved past the copied keys (Django's
sqlsequencereset), so the next article gets a new pk. The search index is
not copied: `manage.py rebuild_index` writes it from the copied rows.
"""
import copy
import datetime
import hashlib
import json
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import dj_database_url
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.utils import load_backend

SOURCE_ALIAS = "archive_copy_source"
BATCH_SIZE = 1000
# Apps whose migrations must have been applied alike on both sides: the
# copied tables then have the same columns.
SCHEMA_APPS = ("contenttypes", "auth", "admin", "articles")


class CopyFailed(Exception):
    """The copy was refused or did not match; the target is as it was."""

    def __init__(self, message, tables=()):
        super().__init__(message)
        self.tables = list(tables)


@dataclass
class TableCopy:
    """One table's figures on both sides."""

    table: str
    source_rows: int = 0
    source_checksum: str = ""
    target_rows: int = -1
    target_checksum: str = ""

    @property
    def matches(self):
        return (self.source_rows, self.source_checksum) == (self.target_rows, self.target_checksum)


@dataclass
class CopyResult:
    tables: list
    version_note: str = ""

    @property
    def rows(self):
        return sum(table.source_rows for table in self.tables)


def copied_models():
    """Every model whose rows are copied, each after those it points at."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.auth.models import Group, Permission, User
    from django.contrib.contenttypes.models import ContentType

    from articles.models import ArchiveState, Article, IndexOperation, Source, Topic

    return [
        ContentType,
        Permission,
        Group,
        Group.permissions.through,
        User,
        User.groups.through,
        User.user_permissions.through,
        Source,
        Topic,
        Article,
        Article.topics.through,
        IndexOperation,
        ArchiveState,
        LogEntry,
    ]


def _made_by_migrate(model):
    """Rows that `migrate` writes into every new database (and the archive's
    version): replaced without asking, not counted as a target's content."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    from articles.models import ArchiveState

    return model in (ContentType, Permission, ArchiveState)


# ---------------------------------------------------------------------------
# Rows, the same text on both sides


def canonical(value):
    """A value as JSON can hold it, the same whichever database it came
    from: datetimes in UTC, dates and times in ISO form, bytes in hex."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC)
        return value.isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    return str(value)  # Decimal, UUID


def row_text(row):
    return json.dumps([canonical(value) for value in row], ensure_ascii=False, separators=(",", ":"))


def _fields(model):
    return list(model._meta.concrete_fields)


def batches(model, using, batch_size=BATCH_SIZE):
    """The table's rows as tuples of field values, in pk order, a batch at a
    time (keyset paging: each batch starts after the last pk seen)."""
    names = [field.attname for field in _fields(model)]
    pk_name = model._meta.pk.attname
    pk_index = names.index(pk_name)
    rows = model._base_manager.using(using).order_by(pk_name).values_list(*names)
    last = None
    while True:
        page = rows if last is None else rows.filter(**{f"{pk_name}__gt": last})
        batch = list(page[:batch_size])
        if not batch:
            return
        yield batch
        last = batch[-1][pk_index]


class TableDigest:
    """Row count and sha256 of a table's rows, fed in pk order."""

    def __init__(self):
        self.rows = 0
        self._hash = hashlib.sha256()

    def add(self, batch):
        for row in batch:
            self._hash.update(row_text(row).encode("utf-8"))
            self._hash.update(b"\n")
        self.rows += len(batch)

    @property
    def checksum(self):
        return self._hash.hexdigest()


def table_digest(model, using, batch_size=BATCH_SIZE):
    digest = TableDigest()
    for batch in batches(model, using, batch_size):
        digest.add(batch)
    return digest


# ---------------------------------------------------------------------------
# The source database


def describe_url(url):
    """The URL without its password, for messages."""
    try:
        config = dj_database_url.parse(url)
    except Exception:
        return "the given URL"
    if config["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{config['NAME']}"
    host = config.get("HOST") or "localhost"
    port = f":{config['PORT']}" if config.get("PORT") else ""
    user = f"{config['USER']}@" if config.get("USER") else ""
    return f"{url.split(':', 1)[0]}://{user}{host}{port}/{config.get('NAME', '')}"


def _identity(config):
    """What tells two databases apart: a file's full path, or server and name."""
    name = str(config.get("NAME") or "")
    if config["ENGINE"] == "django.db.backends.sqlite3":
        if not name or name == ":memory:" or name.startswith("file:"):
            return ("sqlite", name)
        return ("sqlite", str(Path(name).expanduser().resolve()))
    return (config["ENGINE"], config.get("HOST") or "", str(config.get("PORT") or ""), name)


def _source_settings(url):
    """Django's settings for the source database, and its identity."""
    try:
        config = dj_database_url.parse(url)
    except Exception as error:
        raise CopyFailed(f"cannot understand the source URL ({error})") from None
    identity = _identity(config)
    config["CONN_MAX_AGE"] = 0
    if config["ENGINE"] == "django.db.backends.sqlite3":
        name = config["NAME"]
        if not name or name == ":memory:":
            raise CopyFailed("the source must be a SQLite file, not an in-memory database")
        path = Path(name).expanduser().resolve()
        if not path.is_file():
            raise CopyFailed(f"there is no SQLite database at {path}")
        # Read-only: copying must never change the archive it copies.
        config["NAME"] = f"file:{quote(str(path))}?mode=ro"
        config["OPTIONS"] = {"timeout": 30}
    elif config["ENGINE"] == "django.db.backends.postgresql":
        import psycopg

        # One snapshot for every table, even while the source site runs.
        config["OPTIONS"] = {**config.get("OPTIONS", {}), "isolation_level": psycopg.IsolationLevel.REPEATABLE_READ}
    return config, identity


@contextmanager
def source_database(url, target=DEFAULT_DB_ALIAS):
    """The source as a Django database alias, for the `with` block only."""
    config, identity = _source_settings(url)
    if identity == _identity(connections[target].settings_dict):
        raise CopyFailed("the source is this site's own database: there is nothing to copy")
    with extra_connection(SOURCE_ALIAS, config) as alias:
        yield alias


@contextmanager
def extra_connection(alias, config):
    """This thread's connection to another database (Django settings as
    dj_database_url makes them) under `alias`, closed when the block ends.

    It is left out of settings.DATABASES: no other thread or part of Django
    knows of it, and it lasts no longer than the copy that needs it."""
    # Django fills in the defaults (ATOMIC_REQUESTS, TIME_ZONE...) only for
    # a whole set of databases, which must name a default.
    default = copy.deepcopy(connections.settings[DEFAULT_DB_ALIAS])
    config = connections.configure_settings({DEFAULT_DB_ALIAS: default, alias: config})[alias]
    connections[alias] = load_backend(config["ENGINE"]).DatabaseWrapper(config, alias)
    try:
        yield alias
    finally:
        try:
            connections[alias].close()
        finally:
            del connections[alias]


def _applied_migrations(using):
    from django.db.migrations.recorder import MigrationRecorder

    recorder = MigrationRecorder(connections[using])
    if not recorder.has_table():
        return None
    return {(app, name) for app, name in recorder.applied_migrations() if app in SCHEMA_APPS}


def _check_schemas(source, target):
    source_migrations = _applied_migrations(source)
    if not source_migrations or not any(app == "articles" for app, _name in source_migrations):
        raise CopyFailed("the source is not a Newsroom database (it has no articles migrations)")
    target_migrations = _applied_migrations(target) or set()
    missing_in_source = sorted(target_migrations - source_migrations)
    missing_in_target = sorted(source_migrations - target_migrations)
    if missing_in_source:
        names = ", ".join(f"{app}.{name}" for app, name in missing_in_source)
        raise CopyFailed(
            f"the source's tables are older than this version of Newsroom (it lacks {names}): "
            "run `python manage.py migrate` on the source first (DATABASE_URL=<source URL>)"
        )
    if missing_in_target:
        names = ", ".join(f"{app}.{name}" for app, name in missing_in_target)
        raise CopyFailed(f"this site's database lacks migrations the source has ({names}): run `python manage.py migrate` first")


# ---------------------------------------------------------------------------
# The target database


def _quote(connection, name):
    return connection.ops.quote_name(name)


def _insert(model, batch, connection):
    fields = _fields(model)
    columns = ", ".join(_quote(connection, field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {_quote(connection, model._meta.db_table)} ({columns}) VALUES ({placeholders})"
    params = [[field.get_db_prep_save(value, connection) for field, value in zip(fields, row, strict=True)] for row in batch]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _unfit_values(model, batch, vendor):
    """Values the target would refuse or cut (SQLite keeps any length of
    text; PostgreSQL holds no NUL character): found here, named by row."""
    if vendor == "sqlite":
        return []
    problems = []
    fields = _fields(model)
    pk_index = fields.index(model._meta.pk)
    for row in batch:
        for field, value in zip(fields, row, strict=True):
            if not isinstance(value, str):
                continue
            limit = getattr(field, "max_length", None)
            if limit and len(value) > limit:
                problems.append(f"{model._meta.db_table} #{row[pk_index]}: {field.name} has {len(value)} characters, at most {limit} fit")
            if "\x00" in value:
                problems.append(f"{model._meta.db_table} #{row[pk_index]}: {field.name} holds a NUL character")
    return problems


def _target_content(models, using):
    """{table: rows} of the target's tables that hold something of a site's own."""
    counts = {}
    for model in models:
        if _made_by_migrate(model):
            continue
        count = model._base_manager.using(using).count()
        if count:
            counts[model._meta.db_table] = count
    return counts


def _empty_tables(models, connection):
    with connection.cursor() as cursor:
        for model in reversed(models):
            cursor.execute(f"DELETE FROM {_quote(connection, model._meta.db_table)}")


def _reset_sequences(models, connection):
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _archive_version(using):
    from articles.models import ArchiveState
    from articles.search.archive_state import ROW_ID

    return ArchiveState.objects.using(using).filter(pk=ROW_ID).values_list("version", flat=True).first()


def _move_version_past(before, using):
    """After a --replace: the copied version must not be one the target's
    caches already hold pages of."""
    from django.utils import timezone

    from articles.models import ArchiveState
    from articles.search.archive_state import ROW_ID

    copied = _archive_version(using)
    if before is None or (copied is not None and copied > before):
        return ""
    ArchiveState.objects.using(using).update_or_create(
        pk=ROW_ID, defaults={"version": before + 1, "changed": timezone.now()}
    )
    return (
        f"The archive's version was moved on from the copied {copied or 0} to {before + 1}, "
        f"past the replaced database's {before}, so that no page cached before the copy is served."
    )


# ---------------------------------------------------------------------------
# The copy


def copy_archive(source_url, replace=False, batch_size=BATCH_SIZE, using=DEFAULT_DB_ALIAS, log=None):
    """Copy the archive at `source_url` into the database `using`; returns a
    CopyResult. CopyFailed says why nothing was copied: the target is then
    exactly as it was."""
    from django.contrib.contenttypes.models import ContentType

    log = log or (lambda line: None)
    models = copied_models()
    target = connections[using]
    shown = describe_url(source_url)
    with source_database(source_url, using) as source:
        try:
            _check_schemas(source, using)
            with transaction.atomic(using=using), transaction.atomic(using=source):
                content = _target_content(models, using)
                if content and not replace:
                    listed = ", ".join(f"{table} ({rows})" for table, rows in content.items())
                    raise CopyFailed(
                        f"this site's database is not empty: {listed}. "
                        "Copy into a new database, or pass --replace to delete its rows first."
                    )
                version_before = _archive_version(using)
                _empty_tables(models, target)
                tables = [_copy_table(model, source, target, batch_size, log) for model in models]
                _reset_sequences(models, target)
                for table, model in zip(tables, models, strict=True):
                    digest = table_digest(model, using, batch_size)
                    table.target_rows, table.target_checksum = digest.rows, digest.checksum
                wrong = [table for table in tables if not table.matches]
                if wrong:
                    names = ", ".join(table.table for table in wrong)
                    raise CopyFailed(f"the copy differs from the source in {names}; nothing was kept", tables)
                note = _move_version_past(version_before, using)
        except DatabaseError as error:
            raise CopyFailed(f"copying from {shown} failed, nothing was kept: {error}") from error
        finally:
            ContentType.objects.clear_cache()
    return CopyResult(tables, note)


def _copy_table(model, source, target, batch_size, log):
    table = TableCopy(model._meta.db_table)
    digest = TableDigest()
    try:
        for batch in batches(model, source, batch_size):
            problems = _unfit_values(model, batch, target.vendor)
            if problems:
                more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
                raise CopyFailed("rows the target cannot hold as they are: " + "; ".join(problems[:5]) + more)
            digest.add(batch)
            _insert(model, batch, target)
    except DatabaseError as error:
        raise CopyFailed(f"copying {table.table} failed, nothing was kept: {error}") from error
    table.source_rows, table.source_checksum = digest.rows, digest.checksum
    log(f"  {table.table}: {table.source_rows} rows copied")
    return table
