"""Gunicorn settings for Newsroom, read from the environment.

Used by scripts/serve, the Docker image and the test servers alike:
`gunicorn -c gunicorn.conf.py newsroom.wsgi:application`. Any setting can
still be overridden for one run with GUNICORN_CMD_ARGS, which gunicorn
applies after this file (for example GUNICORN_CMD_ARGS="--workers 4").
"""

import os

MAX_DEFAULT_WORKERS = 8


def _env_int(name, default):
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, not {raw!r}") from None


def default_workers(cores=None):
    """One worker per core (at least two), capped.

    A request is CPU work in Python, and each worker keeps its own search
    caches (decoded posting lists, bitmaps: up to NEWSROOM_SEARCH_CACHE_MB),
    so workers beyond the cores only take turns on the same CPUs and each
    decode the same posting lists again. On a 2-core machine at 100,000
    articles, /search/ with 8 clients served 75.8 requests/s with 2 workers,
    64.8 with 3 and 37.3 with gunicorn's usual 2 x cores + 1 (bench/README.md).
    Two at least, so that one slow request never holds the whole site.
    """
    cores = cores or os.cpu_count() or 1
    return min(max(2, cores), MAX_DEFAULT_WORKERS)


wsgi_app = "newsroom.wsgi:application"

# Loopback unless told otherwise: a public server sits behind a reverse proxy
# (see the README), and the container sets NEWSROOM_BIND=0.0.0.0:8000.
bind = [os.environ.get("NEWSROOM_BIND", "127.0.0.1:8000")]

workers = _env_int("WEB_CONCURRENCY", 0) or default_workers()

# Sync workers: a request is CPU work in Python (Whoosh search, highlighting,
# template rendering), so threads would only take turns on the GIL, while
# separate processes use every core. A sync worker also never shares its
# Whoosh searcher or SQLite connection between threads. The cost is that a
# slow client holds a worker, which is what the buffering reverse proxy in
# front of a public deployment is for; on loopback it does not arise.
worker_class = "sync"

# A search over the whole archive takes well under a second; 30 s only stops
# a stuck worker. Graceful shutdown lets requests in flight finish.
timeout = _env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 20)

# No preloading: each worker imports the app itself after the fork, so no
# database connection, Whoosh file handle or lock is ever inherited and shared
# by several processes, and `kill -HUP` reloads new code.
preload_app = False

# Logs go to the console (stdout for access, stderr for errors), where
# systemd, Docker or the terminal collect them. %(M)s is the time in ms.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'

# The heartbeat file is touched constantly; on a disk-backed /tmp (as in
# many containers) that can stall workers, so use memory when it is there.
if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
    worker_tmp_dir = "/dev/shm"

proc_name = "newsroom"

# gunicorn's control socket defaults to one path per user ($HOME/.gunicorn/),
# so several servers (tests, benchmarks, a second site) would take it from
# each other, and the container's home is read-only. Signals do the same job:
# HUP reloads, TTIN/TTOU add or remove a worker, TERM stops.
control_socket_disable = True


def post_worker_init(worker):
    """Open the search index in each new worker before it takes requests,
    so that the first visitor after a start or a reload does not wait the
    second it takes to open the segments and make the facet bitmaps.

    Then what the worker made to start (Django, Whoosh, the opened index:
    some 70,000 objects that live as long as it does) is frozen out of the
    garbage collector's way: every full collection walked them again, and a
    request waited 80-110 ms for it; 17-39 ms without them."""
    import gc

    from articles.search.service import warm_up

    warm_up()
    gc.collect()
    gc.freeze()
