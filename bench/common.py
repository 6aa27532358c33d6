"""What every benchmark shares: data sets, child processes, statistics, the machine.

Benchmarks never touch the repository's var/: each data set lives in its own
var dir under the scratch folder (NEWSROOM_BENCH_DIR, default
/tmp/newsroom-bench), with its SQLite database and both search indexes:

    <scratch>/large-100000.jsonl       scripts/make_large_corpus.py's output
    <scratch>/var-large-100000/        first 100,000 lines of it, loaded
    <scratch>/var-real/                the real ANT corpus (39,933), loaded

Django runs in child processes (the build, the searches, gunicorn), never in
the process that prints, so a "cold" figure is a really fresh process and
peak memory is the child's own.

Engines: a data set is searched with Whoosh (its index in the var dir, the
default) or with SolrCloud (`engine="solr"`): the cluster that SEARCH_URL
names when it is a solr:// URL, else the one `scripts/cluster up` started
(var/cluster/state.env), and on it the alias `bench_<data set>` (for
instance bench_large_100000), so bench documents never mix with a site's or
a test's. The database stays the data set's SQLite file either way: it does
not take part in ranking or in the engine's work.
"""
from __future__ import annotations

import dataclasses
import gzip
import json
import os
import platform
import re
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SCRATCH = Path(os.environ.get("NEWSROOM_BENCH_DIR", "/tmp/newsroom-bench"))
REAL_CORPUS = REPO.parent / "shared" / "corpus" / "ant-corpus-articles.jsonl.gz"
LARGE_COUNT = 100_000
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "VIRTUAL_ENV")

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


# ---------------------------------------------------------------------------
# Statistics


def percentile(values, p):
    """Linear-interpolated percentile (p in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * p / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(seconds):
    """p50, p95, mean and max of durations given in seconds, in milliseconds."""
    ms = [s * 1000.0 for s in seconds]
    return {
        "n": len(ms),
        "p50": percentile(ms, 50),
        "p95": percentile(ms, 95),
        "mean": statistics.fmean(ms),
        "max": max(ms),
    }


def ratio(baseline, ours):
    """How many times faster (smaller is better for both)."""
    return baseline / ours if ours else float("inf")


def table(rows, headers):
    """A plain text table, columns aligned, numbers right-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths))]
    lines.append("  ".join("-" * w for w in widths))
    for row, raw in zip(cells, rows):
        lines.append(
            "  ".join(
                c.rjust(w) if isinstance(v, (int, float)) else c.ljust(w) for c, v, w in zip(row, raw, widths)
            )
        )
    return "\n".join(lines)


def _cell(value):
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# ---------------------------------------------------------------------------
# The machine


def machine():
    """nproc, CPU model, RAM and the versions that matter, for the README."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), {ram} RAM, Python {platform.python_version()}, {platform.system()}"


def loadavg():
    """The 1-minute load average: above the number of CPUs, figures are noisy."""
    return os.getloadavg()[0]


def print_header(title):
    print(f"# {title}")
    print(f"machine: {machine()}")
    print(f"command: python {' '.join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])}")
    print(f"date:    {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    print(f"load:    {loadavg():.2f} (1-min load average at start; other processes on the machine skew figures)")
    print(flush=True)


# ---------------------------------------------------------------------------
# Data sets


ENGINES = ("whoosh", "solr")


@dataclass(frozen=True)
class DataSet:
    """A var dir holding `count` articles of `corpus` in SQLite (indexes built on demand),
    searched with `engine` (whoosh: the var dir's index; solr: the alias solr_collection)."""

    name: str            # "real" or "large-<count>"
    corpus: Path         # JSON Lines (.gz) file the articles come from
    count: int | None    # first `count` records, or all
    engine: str = "whoosh"

    @property
    def var_dir(self):
        return SCRATCH / f"var-{self.name}"

    @property
    def solr_collection(self):
        """The Solr alias of this data set: bench_real, bench_large_100000."""
        return "bench_" + re.sub(r"\W", "_", self.name)

    def with_engine(self, engine):
        if engine not in ENGINES:
            raise SystemExit(f"unknown engine {engine!r}: one of {', '.join(ENGINES)}")
        return dataclasses.replace(self, engine=engine)

    @property
    def search_url(self):
        """SEARCH_URL of this data set's engine (None: Whoosh in the var dir, the default)."""
        if self.engine == "solr":
            return f"{solr_base_url()}/{self.solr_collection}"
        return None

    @property
    def our_index(self):
        return self.var_dir / "whoosh_index"

    @property
    def stock_index(self):
        return self.var_dir / "whoosh_stock"

    def env(self, settings="bench.settings", **extra):
        """The environment of a process that works on this data set."""
        env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
        env.update(
            DJANGO_SETTINGS_MODULE=settings,
            NEWSROOM_VAR_DIR=str(self.var_dir),
            SECRET_KEY=_secret_key(self.var_dir),
            DEBUG="0",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            PYTHONPATH=str(REPO),
            PYTHONUNBUFFERED="1",
            PYTHONDONTWRITEBYTECODE="1",
            LOG_LEVEL="WARNING",
        )
        if self.search_url:
            env["SEARCH_URL"] = self.search_url
        env.update({key: str(value) for key, value in extra.items()})
        return env


def _secret_key(var_dir):
    var_dir.mkdir(parents=True, exist_ok=True)
    key_file = var_dir / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(40))
    return key_file.read_text().strip()


def real_dataset(engine="whoosh"):
    return DataSet("real", REAL_CORPUS, None, engine)


def large_dataset(count, engine="whoosh"):
    return DataSet(f"large-{count}", large_corpus_path(), count, engine)


def large_corpus_path(count=LARGE_COUNT):
    """scripts/make_large_corpus.py's output, made on first use."""
    path = SCRATCH / f"large-{count}.jsonl"
    if not path.exists():
        print(f"making the {count:,}-article corpus at {path} ...", flush=True)
        run([PYTHON, str(REPO / "scripts" / "make_large_corpus.py"), "--count", count, "--out", path], env=None)
    return path


def dataset(spec, engine="whoosh"):
    """"real", or a number of articles of the large corpus."""
    return real_dataset(engine) if spec == "real" else large_dataset(int(spec), engine)


def engines_option(value):
    """--engine: "whoosh", "solr" or both ("whoosh,solr"), in the order given."""
    engines = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in engines if name not in ENGINES]
    if unknown or not engines:
        raise SystemExit(f"--engine: {', '.join(unknown) or '(none)'}? one or more of {', '.join(ENGINES)}")
    return engines


def ensure_loaded(ds, quiet=False):
    """Migrate the data set's database and bulk-load its articles once."""
    marker = ds.var_dir / "loaded.json"
    if marker.exists():
        return json.loads(marker.read_text())
    ds.var_dir.mkdir(parents=True, exist_ok=True)
    if not quiet:
        print(f"loading {ds.name} into {ds.var_dir} ...", flush=True)
    manage(ds, "migrate", "--noinput", "--verbosity", "0")
    command = [PYTHON, str(REPO / "bench" / "load_articles.py"), str(ds.corpus)]
    if ds.count:
        command += ["--limit", str(ds.count)]
    done = run(command, env=ds.env())
    info = json.loads(done.stdout.strip().splitlines()[-1])
    marker.write_text(json.dumps(info))
    return info


def ensure_static(ds):
    """collectstatic once, for the served benchmarks (production settings)."""
    marker = ds.var_dir / "staticfiles" / "staticfiles.json"
    if not marker.exists():
        manage(ds, "collectstatic", "--noinput", "--verbosity", "0", settings="newsroom.settings")


def index_doc_count(ds, using="default"):
    """Documents in an index of the data set (-1 when there is none): ours
    through the engine seam, the stock baseline through Whoosh itself."""
    if using == "default":
        code = (
            "from articles.search.engines import get_engine\n"
            "engine = get_engine()\n"
            "print(-1 if engine.problem() else engine.document_count())\n"
        )
    else:
        code = (
            "from haystack import connections\n"
            "from whoosh import index\n"
            f"path = connections[{using!r}].get_backend().path\n"
            "print(index.open_dir(path).doc_count() if index.exists_in(path) else -1)\n"
        )
    return int(manage(ds, "shell", "--no-imports", "-c", code).stdout.strip().splitlines()[-1] or -1)


def our_build_command():
    """The project's one rebuild."""
    return ["rebuild_index"]


# Haystack's own rebuild_index, for the stock baseline: its clear_index then
# its update_index. Newsroom's commands of those names take their place in
# manage.py (and haystack's rebuild_index calls them by name, so it cannot be
# used), so call haystack's classes.
STOCK_BUILD_COMMAND = [
    "shell", "--no-imports", "-c",
    "from django.core.management import call_command\n"
    "from haystack.management.commands import clear_index, update_index\n"
    "call_command(clear_index.Command(), using=['stock'], interactive=False, verbosity=0)\n"
    "call_command(update_index.Command(), using=['stock'], verbosity=0)\n",
]


def setup_engine(ds):
    """For Solr: the configset, and the data set's alias with a collection
    behind it (manage.py setup_search, idempotent). Nothing for Whoosh."""
    if ds.engine == "solr":
        manage(ds, "setup_search")


def ensure_indexes(ds, stock=True, ours=True):
    """Both indexes of the data set (ours in its engine, the stock baseline in
    Whoosh), built (unmeasured) when missing or partial."""
    articles = ensure_loaded(ds)["articles"]
    if ours:
        setup_engine(ds)
    if ours and index_doc_count(ds) != articles:
        print(f"building our index for {ds.name} ({ds.engine}) ...", flush=True)
        manage(ds, *our_build_command())
    if stock and index_doc_count(ds, "stock") != articles:
        print(f"building the stock haystack index for {ds.name} (slow) ...", flush=True)
        manage(ds, *STOCK_BUILD_COMMAND)
    return articles


# ---------------------------------------------------------------------------
# SolrCloud


def cluster_state(path=None):
    """scripts/cluster's state.env as a dict ({} when there is none)."""
    if path is None:
        folder = os.environ.get("NEWSROOM_CLUSTER_DIR") or str(REPO / "var" / "cluster")
        path = Path(folder) / "state.env"
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return {}
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def solr_base_url():
    """solr://host:port,.../solr (without a collection) of the cluster the
    environment names: SEARCH_URL if it is a solr:// URL, else scripts/cluster's."""
    url = os.environ.get("SEARCH_URL", "")
    if not url.startswith("solr://"):
        url = cluster_state().get("SEARCH_URL", "")
    if not url.startswith("solr://"):
        raise SystemExit(
            "no SolrCloud: export SEARCH_URL=solr://host:port[,host:port]/solr/<any collection>, "
            'or start one with eval "$(scripts/cluster up)"'
        )
    return url.rstrip("/").rsplit("/", 1)[0]


def solr_hosts():
    parts = urllib.parse.urlsplit(solr_base_url())
    return [host for host in parts.netloc.split(",") if host], parts.path.strip("/") or "solr"


def solr_admin(action, **params):
    """A Collections API call on the first node that answers (JSON)."""
    hosts, path = solr_hosts()
    query = urllib.parse.urlencode({"action": action, "wt": "json", **params})
    error = None
    for host in hosts:
        try:
            with urllib.request.urlopen(f"http://{host}/{path}/admin/collections?{query}", timeout=300) as answer:
                return json.loads(answer.read())
        except OSError as failure:
            error = failure
    raise SystemExit(f"no Solr node answered {action}: {error}")


def solr_reload(ds):
    """Reload the collections behind the data set's alias: new searchers, empty
    Solr caches (the OS page cache stays, as it does for Whoosh's cold pass)."""
    targets = solr_admin("LISTALIASES").get("aliases", {}).get(ds.solr_collection, "")
    for name in [name for name in targets.split(",") if name]:
        solr_admin("RELOAD", name=name)
    return bool(targets)


def solr_pid():
    """The PID of the Solr JVM of scripts/cluster when that is the cluster in
    use and it runs on this machine, else None (then no server figures)."""
    state = cluster_state()
    url = state.get("SEARCH_URL", "")
    if not url.startswith("solr://") or url.rstrip("/").rsplit("/", 1)[0] != solr_base_url():
        return None
    try:
        pid = int(state.get("SOLR_PID", ""))
        os.kill(pid, 0)
    except (ValueError, OSError):
        return None
    return pid


def process_cpu(pid):
    """User + system CPU seconds of a process so far (None when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_rss_mb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


class ServerProbe:
    """CPU seconds and peak resident memory of a server process (the Solr JVM)
    while a measured command runs: `with ServerProbe(pid) as probe: ...`, then
    probe.cpu, probe.peak_rss_mb, probe.rss_before_mb. Everything the server
    does meanwhile counts, other clients' requests included."""

    def __init__(self, pid):
        self.pid = pid
        self.cpu = self.peak_rss_mb = self.rss_before_mb = None
        self._done = threading.Event()
        self._thread = None

    def __enter__(self):
        if self.pid:
            self._cpu_before = process_cpu(self.pid)
            self.rss_before_mb = self.peak_rss_mb = process_rss_mb(self.pid)
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self):
        while not self._done.wait(0.2):
            self.peak_rss_mb = max(self.peak_rss_mb, process_rss_mb(self.pid))

    def __exit__(self, *_exc):
        if self.pid:
            self._done.set()
            self._thread.join()
            after = process_cpu(self.pid)
            if after is not None and self._cpu_before is not None:
                self.cpu = after - self._cpu_before
        return False


# ---------------------------------------------------------------------------
# Child processes


def run(command, env, check=True, timeout=None, input=None, cwd=REPO):
    done = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
    )
    if check and done.returncode != 0:
        raise SystemExit(
            f"{' '.join(map(str, command))} exited {done.returncode}\n"
            f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
        )
    return done


def manage(ds, *args, settings="bench.settings", **kwargs):
    return run([PYTHON, str(REPO / "manage.py"), *args], env=ds.env(settings), **kwargs)


@dataclass
class Measured:
    wall: float           # seconds
    peak_rss_mb: float    # the largest single process's peak (getrusage of the child and what it reaped)
    peak_tree_mb: float   # the sum over it and its descendants, sampled every 100 ms
    stdout: str
    stderr: str
    cpu: float = 0.0      # user + system seconds of the command and its sub-processes


def measure(command, env):
    """Run `command`, returning its wall time and peak memory (own and whole tree)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(part) for part in command],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _group_rss_kb(process.pid))
            done.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output = {}
    readers = [
        threading.Thread(target=lambda name=name, stream=stream: output.__setitem__(name, stream.read()))
        for name, stream in (("out", process.stdout), ("err", process.stderr))
    ]
    for reader in readers:
        reader.start()
    _pid, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    done.set()
    for reader in readers:
        reader.join()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(
            f"{' '.join(map(str, command))} exited {process.returncode}\n{output.get('err', '')[-3000:]}"
        )
    return Measured(
        wall, usage.ru_maxrss / 1024.0, peak[0] / 1024.0, output["out"], output["err"], usage.ru_utime + usage.ru_stime
    )


def _group_rss_kb(pid):
    """Resident memory of a process and all its descendants, in kB."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    break
            for task in os.scandir(f"/proc/{current}/task"):
                todo.extend(int(child) for child in Path(task.path, "children").read_text().split())
        except (OSError, ValueError):
            continue
    return total


def stop_group(process, timeout=10.0):
    """TERM then KILL a child started with start_new_session=True."""
    if process.poll() is not None:
        return
    for signum in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, signum)
        except (ProcessLookupError, PermissionError):
            return
        try:
            process.wait(timeout)
            return
        except subprocess.TimeoutExpired:
            continue


def read_jsonl(path, limit=None):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle):
            if limit is not None and number >= limit:
                return
            if line.strip():
                yield json.loads(line)


# ---------------------------------------------------------------------------
# Queries

RELEVANCE_QUERIES = REPO / "bench" / "relevance" / "queries.tsv"
OUR_QUERIES = REPO / "bench" / "queries.txt"


def load_queries(minimum=200):
    """The fixed query mix: the relevance set's queries when there are enough
    of them, else bench/queries.txt (bench/make_queries.py). Returns
    (path, [query text])."""
    if RELEVANCE_QUERIES.exists():
        queries = _tsv_queries(RELEVANCE_QUERIES)
        if len(queries) >= minimum:
            return RELEVANCE_QUERIES, queries
    queries = [
        line.split("\t", 1)[1].strip()
        for line in OUR_QUERIES.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#") and "\t" in line
    ]
    return OUR_QUERIES, queries


def _tsv_queries(path):
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]
    if not lines:
        return []
    header = [name.strip().lower() for name in lines[0].split("\t")]
    column = next((header.index(name) for name in ("query", "q", "text") if name in header), None)
    rows = lines[1:] if column is not None else lines
    column = column if column is not None else min(1, len(header) - 1)
    return [row.split("\t")[column].strip() for row in rows if len(row.split("\t")) > column]


def main():
    """`python -m bench.common env [--size real|N] [--engine whoosh|solr]`: the
    export lines that point manage.py at a data set and its engine (for
    evaluate_search, shell, ...)."""
    import argparse
    import shlex

    parser = argparse.ArgumentParser(description=main.__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["env"])
    parser.add_argument("--size", default="real", help='"real" or a number of articles of the large corpus')
    parser.add_argument("--engine", default="whoosh", choices=ENGINES)
    args = parser.parse_args()
    ds = dataset(args.size, args.engine)
    env = ds.env(settings="newsroom.settings")
    for name in ("DJANGO_SETTINGS_MODULE", "NEWSROOM_VAR_DIR", "SECRET_KEY", "SEARCH_URL"):
        if name in env:
            print(f"export {name}={shlex.quote(env[name])}")
    if "SEARCH_URL" not in env:
        print("unset SEARCH_URL DATABASE_URL")
    else:
        print("unset DATABASE_URL")


if __name__ == "__main__":
    main()
