#!/usr/bin/env python3
"""Build data/demo/: the seed pages and a stratified sample of the ANT corpus.

The demo archive must show every outlet, every section and the years the
corpus covers, so a plain "first N lines" (sorted by outlet) or "every n-th
line" (dominated by Sky News and Jawhara FM) will not do. The sample is:

1. split evenly between the six outlets;
2. within an outlet, split between its categories in proportion to the
   square root of their sizes (small sections still show, big ones lead);
3. within a category, split between years in proportion to their sizes,
   with at least one article for every year while the quota allows;
4. within a year, the articles with a body of at least --min-body characters
   come first, in the order of a keyed hash of their ids (deterministic for a
   given --seed, whatever the Python version or the file's order).

Records are written unchanged, in the corpus's own order, to a gzip file
with a fixed header (mtime 0, no file name), so running the script again
with the same arguments gives the same bytes.

Runs with the standard library only:

    python scripts/make_demo_corpus.py            # defaults below
    python scripts/make_demo_corpus.py --size 3000 --seed 2018 --check
"""
import argparse
import collections
import gzip
import hashlib
import io
import json
import math
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DEFAULT_CORPUS = SHARED / "corpus" / "ant-corpus-articles.jsonl.gz"
DEFAULT_SEEDS = SHARED / "seeds"
DEFAULT_OUT = REPO / "data" / "demo"
SAMPLE_NAME = "ant-sample.jsonl.gz"
DEFAULT_SIZE = 3000
DEFAULT_SEED = 2018
DEFAULT_MIN_BODY = 300


def read_corpus(path):
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def apportion(total, weights, capacities, minimum=None):
    """Split `total` into integer shares by weight (largest remainder),
    never above a key's capacity, and at least `minimum[key]` where possible.

    Keys are processed in sorted order, so ties always break the same way.
    """
    keys = sorted(weights)
    total = min(total, sum(capacities[k] for k in keys))
    shares = {k: min(capacities[k], (minimum or {}).get(k, 0)) for k in keys}
    if sum(shares.values()) > total:
        # Not enough room for every minimum: the largest keys keep theirs.
        shares = dict.fromkeys(keys, 0)
        for k in sorted(keys, key=lambda k: (-weights[k], k))[:total]:
            shares[k] = 1
        return shares
    while sum(shares.values()) < total:
        open_keys = [k for k in keys if shares[k] < capacities[k]]
        left = total - sum(shares.values())
        weight_sum = sum(weights[k] for k in open_keys)
        ideal = {k: left * weights[k] / weight_sum for k in open_keys}
        extra = {k: min(int(ideal[k]), capacities[k] - shares[k]) for k in open_keys}
        if sum(extra.values()) == 0:
            # Hand out the remaining units by largest fractional part.
            order = sorted(open_keys, key=lambda k: (-(ideal[k] - int(ideal[k])), -weights[k], k))
            for k in order[:left]:
                extra[k] = 1
        for k in open_keys:
            shares[k] += extra[k]
    return shares


def sample_key(seed, record_id):
    return hashlib.sha256(f"{seed}:{record_id}".encode()).hexdigest()


def stratified_sample(records, size, seed, min_body):
    """Return the indexes (in corpus order) of the sampled records."""
    # Articles whose title and body repeat another's would be one article in
    # the archive (same fingerprint): keep the first of them only.
    seen_texts = set()
    strata = collections.defaultdict(list)  # (source, category, year) -> [index]
    for i, record in enumerate(records):
        text_key = (record["title"].strip(), record["body"].strip())
        if text_key in seen_texts:
            continue
        seen_texts.add(text_key)
        strata[(record["source"], record["category"], record["published"][:4])].append(i)

    by_source = collections.defaultdict(int)
    by_category = collections.defaultdict(lambda: collections.defaultdict(int))
    for (source, category, _year), members in strata.items():
        by_source[source] += len(members)
        by_category[source][category] += len(members)

    source_quota = apportion(size, dict.fromkeys(by_source, 1), by_source)
    chosen = []
    for source in sorted(by_source):
        counts = by_category[source]
        category_quota = apportion(
            source_quota[source],
            {c: math.sqrt(n) for c, n in counts.items()},
            counts,
            minimum=dict.fromkeys(counts, 1),
        )
        for category in sorted(counts):
            years = {y: len(m) for (s, c, y), m in strata.items() if s == source and c == category}
            year_quota = apportion(
                category_quota[category], years, years, minimum=dict.fromkeys(years, 1)
            )
            for year in sorted(years):
                members = strata[(source, category, year)]
                ranked = sorted(
                    members,
                    key=lambda i: (
                        len(records[i]["body"]) < min_body,
                        sample_key(seed, records[i]["id"]),
                    ),
                )
                chosen.extend(ranked[: year_quota[year]])
    return sorted(chosen)


def write_jsonl_gz(path, records):
    """gzip with a fixed header: same records, same bytes."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        for record in records:
            gz.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
    path.write_bytes(buffer.getvalue())


def copy_seeds(seeds_dir, out_dir):
    target = out_dir / "seeds"
    target.mkdir(parents=True, exist_ok=True)
    copied = []
    for seed in sorted(seeds_dir.glob("*.txt")):
        shutil.copyfile(seed, target / seed.name)
        copied.append(seed.name)
    return copied


def describe(records):
    """Counts to paste into data/demo/README.md."""
    lines = []
    by_pair = collections.Counter((r["source"], r["category"]) for r in records)
    sources = sorted({r["source"] for r in records})
    categories = sorted({r["category"] for r in records})
    lines.append("| category | " + " | ".join(sources) + " | total |")
    lines.append("|---" * (len(sources) + 2) + "|")
    for category in categories:
        row = [by_pair.get((s, category), 0) for s in sources]
        cells = [str(n) if n else "-" for n in row]
        lines.append(f"| {category} | " + " | ".join(cells) + f" | {sum(row)} |")
    totals = [sum(by_pair.get((s, c), 0) for c in categories) for s in sources]
    lines.append("| **total** | " + " | ".join(map(str, totals)) + f" | **{sum(totals)}** |")
    years = collections.Counter(r["published"][:4] for r in records)
    lines.append("")
    lines.append("Years: " + ", ".join(f"{y}: {n}" for y, n in sorted(years.items())))
    short = sum(1 for r in records if len(r["body"]) < DEFAULT_MIN_BODY)
    lines.append(f"Bodies shorter than {DEFAULT_MIN_BODY} characters: {short}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--size", type=int, default=DEFAULT_SIZE)
    parser.add_argument("--seed", default=str(DEFAULT_SEED), help="key of the sampling hash")
    parser.add_argument("--min-body", type=int, default=DEFAULT_MIN_BODY)
    parser.add_argument(
        "--check", action="store_true", help="only verify that the files in --out are what this would write"
    )
    args = parser.parse_args(argv)

    for required in (args.corpus, args.seeds):
        if not required.exists():
            parser.error(f"{required} does not exist (the corpus and seeds live in ../shared on dev machines)")

    records = read_corpus(args.corpus)
    picked = [records[i] for i in stratified_sample(records, args.size, args.seed, args.min_body)]
    sample_path = args.out / SAMPLE_NAME

    if args.check:
        with gzip.open(sample_path, "rt", encoding="utf-8") as handle:
            shipped = [json.loads(line) for line in handle]
        same_seeds = all(
            (args.out / "seeds" / seed.name).read_bytes() == seed.read_bytes()
            for seed in args.seeds.glob("*.txt")
        )
        if shipped != picked or not same_seeds:
            print("data/demo differs from what the script makes", file=sys.stderr)
            return 1
        print(f"{sample_path}: {len(shipped)} records, as the script makes them; seeds identical")
        return 0

    args.out.mkdir(parents=True, exist_ok=True)
    write_jsonl_gz(sample_path, picked)
    copied = copy_seeds(args.seeds, args.out)
    print(f"wrote {len(picked)} records to {sample_path} and {len(copied)} seeds to {args.out / 'seeds'}")
    print(describe(picked))
    return 0


if __name__ == "__main__":
    sys.exit(main())
