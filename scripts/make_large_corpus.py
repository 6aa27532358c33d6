#!/usr/bin/env python3
"""Build a large corpus (100,000 articles by default) from the ANT corpus, for benchmarks.

The archive we must stay fast for is several times the 39,933 real articles,
so this script grows the real corpus with *variants* that look like more news
of the same outlets and sections:

- every real article is kept as it is;
- a variant takes a real article (its "base") and another article of the same
  outlet and category (its "donor"), and mixes their paragraphs position by
  position, so bodies keep the outlet's vocabulary, lengths and style;
- its title is the first half of the base's title and the second half of the
  donor's; its date is the base's, moved by up to 45 days (never past the
  corpus's last day); its id and URL are the base's with a variant suffix,
  so ids and URLs stay unique.

Records are written in the order of a keyed hash of their ids, so any prefix
of the file (the first 10,000 or 50,000 lines) is a fair sample of the whole.
The same arguments give the same bytes (a seeded RNG per variant, a gzip
header with mtime 0 when the output ends in .gz).

Standard library only:

    python scripts/make_large_corpus.py                       # 100,000 -> /tmp/newsroom-bench/large-100000.jsonl
    python scripts/make_large_corpus.py --count 100000 --out /tmp/large.jsonl.gz
"""
import argparse
import collections
import datetime
import gzip
import hashlib
import io
import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "ant-corpus-articles.jsonl.gz"
DEFAULT_COUNT = 100_000
DEFAULT_SEED = 2018
MAX_SHIFT_DAYS = 45


def read_corpus(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def order_key(seed, record_id):
    """Where a record goes in the output: a keyed hash, stable across Python versions."""
    return hashlib.blake2b(f"{seed}:{record_id}".encode(), digest_size=8).hexdigest()


def text_key(title, body):
    return hashlib.blake2b(f"{title}\n{body}".encode(), digest_size=16).digest()


def mixed_title(base, donor):
    base_words, donor_words = base.split(), donor.split()
    head = base_words[: max(1, (len(base_words) + 1) // 2)]
    tail = donor_words[len(donor_words) // 2 :]
    return " ".join(head + tail)


def mixed_body(rng, base, donor):
    base_paras = base.split("\n")
    donor_paras = donor.split("\n")
    paras = []
    for position, paragraph in enumerate(base_paras):
        if position < len(donor_paras) and rng.random() < 0.5:
            paras.append(donor_paras[position])
        else:
            paras.append(paragraph)
    if len(base_paras) == 1 and len(donor_paras) > 1:
        # A one-paragraph brief gets one more from its donor, so it differs.
        paras.append(donor_paras[rng.randrange(1, len(donor_paras))])
    return "\n".join(paras)


def shifted_date(rng, published, last_day):
    if not published:
        return published
    day = datetime.date.fromisoformat(published[:10])
    day += datetime.timedelta(days=rng.randint(-MAX_SHIFT_DAYS, MAX_SHIFT_DAYS))
    return min(day, last_day).isoformat()


def variant_url(url, number):
    if not url:
        return url
    return f"{url}{'&' if '?' in url else '?'}variant={number}"


def make_variants(records, count, seed):
    """`count - len(records)` variants of `records`, deterministic for `seed`."""
    groups = collections.defaultdict(list)
    for record in records:
        groups[(record.get("source"), record.get("category"))].append(record)
    last_day = max(datetime.date.fromisoformat(r["published"][:10]) for r in records if r.get("published"))
    seen = {text_key(r["title"], r["body"]) for r in records}
    used = collections.Counter()
    variants = []
    number = 0
    while len(records) + len(variants) < count:
        number += 1
        rng = random.Random(f"{seed}:variant:{number}")
        base = records[rng.randrange(len(records))]
        group = groups[(base.get("source"), base.get("category"))]
        donor = group[rng.randrange(len(group))]
        if donor is base and len(group) > 1:
            donor = group[(group.index(base) + 1) % len(group)]
        title = mixed_title(base["title"], donor["title"])
        body = mixed_body(rng, base["body"], donor["body"])
        key = text_key(title, body)
        if key in seen:
            continue
        seen.add(key)
        used[base["id"]] += 1
        suffix = used[base["id"]]
        variant = dict(base)
        variant.update(
            id=f"{base['id']}-v{suffix}",
            title=title,
            body=body,
            url=variant_url(base.get("url"), suffix),
            published=shifted_date(rng, base.get("published"), last_day),
            published_at=None,
        )
        variants.append(variant)
    return variants


def build(corpus_path, count, seed):
    records = read_corpus(corpus_path)
    if count < len(records):
        records = sorted(records, key=lambda r: order_key(seed, r["id"]))[:count]
        variants = []
    else:
        variants = make_variants(records, count, seed)
    return sorted(records + variants, key=lambda r: order_key(seed, r["id"]))


def write(records, out):
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records).encode()
    if out.suffix == ".gz":
        buffer = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0) as handle:
            handle.write(payload)
        payload = buffer.getvalue()
    out.write_bytes(payload)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the ANT corpus JSONL(.gz)")
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help="articles to write")
    parser.add_argument("--seed", default=str(DEFAULT_SEED))
    parser.add_argument("--out", type=Path, help="output .jsonl or .jsonl.gz")
    args = parser.parse_args(argv)
    if not args.corpus.exists():
        parser.error(f"{args.corpus} not found (the ANT corpus lives in ../shared/corpus on dev machines)")
    out = args.out or Path("/tmp/newsroom-bench") / f"large-{args.count}.jsonl"
    records = build(args.corpus, args.count, args.seed)
    write(records, out)
    real = sum(1 for r in records if not r["id"].rsplit("-", 1)[-1].startswith("v"))
    print(f"wrote {len(records):,} articles ({real:,} real, {len(records) - real:,} variants) to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
