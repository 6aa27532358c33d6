"""Bulk-load a JSON Lines corpus into the database, for benchmarks only.

The importer (manage.py import_articles) checks duplicates record by record
and indexes every batch as it commits, which is what users need and too slow
to set up 100,000 articles before each benchmark. This loader reads the same
records with the importer's own checks (articles.importing.records), then
writes them with bulk_create and no index at all; the benchmark builds the
index itself. Records whose URL, id or fingerprint is already there are
skipped, so the database always satisfies the model's unique constraints.

    DJANGO_SETTINGS_MODULE=bench.settings NEWSROOM_VAR_DIR=... \
        python bench/load_articles.py corpus.jsonl --limit 10000

Prints one JSON line: {"articles": N, "skipped": S, "seconds": T}.
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import django  # noqa: E402

BATCH = 2000


def load(path, limit=None):
    from django.db import connection, transaction

    from articles.fingerprint import article_fingerprint
    from articles.importing.records import RecordError, record_from_mapping
    from articles.importing.report import Location
    from articles.models import Article, Source, Topic, unicode_slug
    from bench.common import read_jsonl

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")
    sources = {s.name: s for s in Source.objects.all()}
    topics = {t.name: t for t in Topic.objects.all()}
    seen_urls = set(Article.objects.exclude(url=None).values_list("url", flat=True))
    seen_ids = set(Article.objects.exclude(external_id=None).values_list("external_id", flat=True))
    seen_prints = set(Article.objects.values_list("fingerprint", flat=True))
    through = Article.topics.through
    started = time.perf_counter()
    loaded = skipped = 0
    batch = []

    def flush():
        nonlocal loaded
        if not batch:
            return
        with transaction.atomic():
            created = Article.objects.bulk_create([article for article, _names in batch])
            through.objects.bulk_create(
                through(article_id=article.pk, topic_id=topics[name].pk)
                for article, (_a, names) in zip(created, batch)
                for name in names
            )
        loaded += len(created)
        batch.clear()

    for number, mapping in enumerate(read_jsonl(path, limit), start=1):
        try:
            record = record_from_mapping(mapping, Location(str(path), number))
        except RecordError:
            skipped += 1
            continue
        fingerprint = article_fingerprint(record.title, record.body)
        if (record.url and record.url in seen_urls) or (
            record.external_id and record.external_id in seen_ids
        ) or fingerprint in seen_prints:
            skipped += 1
            continue
        seen_urls.add(record.url)
        seen_ids.add(record.external_id)
        seen_prints.add(fingerprint)
        source = None
        if record.source:
            source = sources.get(record.source)
            if source is None:
                source = sources[record.source] = Source.objects.create(
                    name=record.source, slug=unicode_slug(record.source)
                )
        for name in record.topics:
            if name not in topics:
                topics[name] = Topic.objects.create(name=name, slug=unicode_slug(name))
        article = Article(
            title=record.title,
            slug=unicode_slug(record.title),
            lead=record.lead,
            body=record.body,
            source=source,
            published=record.published,
            url=record.url,
            external_id=record.external_id,
            fingerprint=fingerprint,
        )
        batch.append((article, record.topics))
        if len(batch) >= BATCH:
            flush()
    flush()
    return {"articles": Article.objects.count(), "loaded": loaded, "skipped": skipped,
            "seconds": round(time.perf_counter() - started, 1)}


def main():
    parser = argparse.ArgumentParser(description="Bulk-load a JSONL corpus (benchmarks only).")
    parser.add_argument("path", type=Path)
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    django.setup()
    print(json.dumps(load(args.path, args.limit)))


if __name__ == "__main__":
    main()
