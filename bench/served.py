"""A data set served for real: gunicorn as the README starts it, on loopback.

Reuses tests/servers.py's ServedApp (gunicorn with gunicorn.conf.py and the
production settings, in a process group of its own); only the var dir (a
bench data set) and the worker count (gunicorn.conf.py's default unless
--workers) differ from the test servers.
"""
import json
import urllib.parse

from bench import common


def start(ds, workers=None, name="bench"):
    from tests.servers import ServedApp

    common.ensure_static(ds)
    env = ds.env(settings="newsroom.settings")
    env.pop("LOG_LEVEL", None)
    # A benchmark asks the API far more often than a person would.
    env["API_RATE_LIMIT_REQUESTS"] = "0"
    if workers:
        env["WEB_CONCURRENCY"] = str(workers)
    app = ServedApp(name=name, port=0, var_dir=ds.var_dir, env=env, workers=workers or 0)
    return app.start()


def permalink_paths(ds, count=1000):
    """Permalinks of `count` articles spread evenly over the archive."""
    code = (
        "import json; from articles.models import Article\n"
        "pks = list(Article.objects.order_by('pk').values_list('pk', flat=True))\n"
        f"step = max(1, len(pks) // {count})\n"
        "chosen = pks[::step][:" + str(count) + "]\n"
        "rows = Article.objects.filter(pk__in=chosen).order_by('pk')\n"
        "print(json.dumps([a.get_absolute_url() for a in rows]))\n"
    )
    done = common.manage(ds, "shell", "--no-imports", "-c", code)
    return json.loads(done.stdout.strip().splitlines()[-1])


def search_paths(queries, prefix="/search/?q="):
    return [prefix + urllib.parse.quote(q) for q in queries]


def quote_path(path):
    return urllib.parse.quote(path, safe="/?&=%#+:@!$'()*,;~")
