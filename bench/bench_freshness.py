"""From saving an article in the admin to finding it by search, through gunicorn.

    python bench/bench_freshness.py                 # the 100,000-article data set, 20 saves
    python bench/bench_freshness.py --size real --saves 30

Serves the data set as the README does (bench/served.py), signs in to the
admin as a real browser would (login form, CSRF cookie and token), and for
each of --saves articles spread over the archive: opens its change form,
appends a new word to its title, posts the form (the admin's "Save"), then
asks /api/search?q=<word> every 10 ms until the article is among the
results. The figure is the time from sending the POST to the first answer
that finds it. The titles are put back afterwards, through the admin too.

Baseline, in the same run: haystack's stock write path on its stock index
of the same articles (what its RealtimeSignalProcessor does on post_save:
SearchBackend.update with an AsyncWriter and a commit), from the call to a
SearchQuerySet that finds the word.
"""
import argparse
import http.cookiejar
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, served  # noqa: E402

POLL = 0.01
GIVE_UP = 30.0
PASSWORD = "a-long-bench-password-1"


class FormFields(HTMLParser):
    """The fields a browser would post from the page's main form."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields = []
        self._textarea = None
        self._select = None
        self._in_form = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("method", "").lower() == "post":
            self._in_form = True
        if not self._in_form:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text").lower()
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            self.fields.append([name, attrs.get("value", "on" if kind == "checkbox" else "")])
        elif tag == "textarea" and name:
            self._textarea = [name, ""]
            self.fields.append(self._textarea)
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields.append([self._select, attrs.get("value", "")])

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            if self._textarea is not None and self._textarea[1].startswith("\n"):
                self._textarea[1] = self._textarea[1][1:]  # HTML drops the first newline
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self._in_form = False


class Browser:
    def __init__(self, base_url):
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), _NoRedirect()
        )

    def get(self, path):
        with self.opener.open(self.base_url + path, timeout=30) as answer:
            return answer.status, answer.read().decode("utf-8")

    def post(self, path, fields):
        data = urllib.parse.urlencode([tuple(field) for field in fields]).encode()
        request = urllib.request.Request(self.base_url + path, data=data, headers={"Referer": self.base_url + path})
        try:
            with self.opener.open(request, timeout=30) as answer:
                return answer.status, answer.read().decode("utf-8")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")

    def form(self, path):
        status, html = self.get(path)
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}")
        parser = FormFields()
        parser.feed(html)
        return parser.fields


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None

    def http_error_302(self, req, fp, code, msg, headers):
        return fp

    http_error_301 = http_error_303 = http_error_307 = http_error_302


def log_in(browser, username):
    fields = browser.form("/admin/login/?next=/admin/")
    fields = [[k, v] for k, v in fields if k not in ("username", "password")]
    fields += [["username", username], ["password", PASSWORD], ["next", "/admin/"]]
    status, body = browser.post("/admin/login/?next=/admin/", fields)
    if status != 302:
        raise SystemExit(f"admin login failed ({status})")


def save_title(browser, pk, change):
    path = f"/admin/articles/article/{pk}/change/"
    fields = browser.form(path)
    old_title = next(v for k, v in fields if k == "title")
    new_title = change(old_title)
    fields = [[k, new_title if k == "title" else v] for k, v in fields] + [["_save", "Save"]]
    started = time.perf_counter()
    status, body = browser.post(path, fields)
    posted = time.perf_counter()
    if status != 302:
        raise SystemExit(f"saving article {pk} answered {status}: {body[:2000]}")
    return old_title, started, posted


def found(app, word, pk):
    answer = app.get("/api/search", params={"q": word})
    if answer.status != 200:
        return False
    return any(row.get("id") == pk for row in json.loads(answer.body).get("results", []))


def ours(app, pks, run_id):
    app.manage("shell", "--no-imports", "-c",
               "from django.contrib.auth.models import User\n"
               "User.objects.filter(username='bench').delete()\n"
               f"User.objects.create_superuser('bench', 'bench@example.org', {PASSWORD!r})\n")
    browser = Browser(app.base_url)
    log_in(browser, "bench")
    delays, posts = [], []
    for number, pk in enumerate(pks):
        word = f"fresh{run_id}x{number}q"
        old_title, started, posted = save_title(browser, pk, lambda title, w=word: f"{title} {w}")
        while not found(app, word, pk):
            if time.perf_counter() - started > GIVE_UP:
                raise SystemExit(f"article {pk} was not found by search {GIVE_UP:.0f} s after its save")
            time.sleep(POLL)
        delays.append(time.perf_counter() - started)
        posts.append(posted - started)
        save_title(browser, pk, lambda _title, t=old_title: t)
    return delays, posts


STOCK_CODE = """
import json, time
from haystack import connections
from haystack.query import SearchQuerySet
from articles.models import Article
pks = {pks!r}
index = connections["stock"].get_unified_index().get_index(Article)
backend = connections["stock"].get_backend()
delays = []
for number, pk in enumerate(pks):
    word = "stock{run_id}x%dq" % number
    article = Article.objects.get(pk=pk)
    title = article.title
    article.title = title + " " + word
    started = time.perf_counter()
    backend.update(index, [article])
    while not SearchQuerySet(using="stock").auto_query(word).count():
        if time.perf_counter() - started > 60:
            raise SystemExit("stock: not found")
        time.sleep({poll})
    delays.append(time.perf_counter() - started)
    article.title = title
    backend.update(index, [article])
print(json.dumps(delays))
"""


def stock(ds, pks, run_id):
    code = STOCK_CODE.format(pks=pks, run_id=run_id, poll=POLL)
    done = common.manage(ds, "shell", "--no-imports", "-c", code)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="100000", help='articles of the large corpus, or "real"')
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--no-stock", action="store_true")
    args = parser.parse_args()

    common.print_header("From an admin save to a search hit")
    ds = common.dataset(args.size)
    articles = common.ensure_indexes(ds, stock=not args.no_stock)
    run_id = int(time.time()) % 100000
    permalinks = served.permalink_paths(ds, args.saves)
    pks = [int(path.split("/")[2]) for path in permalinks]
    app = served.start(ds)
    try:
        print(f"data set: {ds.name}, {articles:,} articles; gunicorn at {app.base_url}; {len(pks)} saves", flush=True)
        delays, posts = ours(app, pks, run_id)
    finally:
        app.stop()
    rows = []
    ours_summary = common.summary_ms(delays)
    post_summary = common.summary_ms(posts)
    rows.append(["ours: admin POST -> found by /api/search", ours_summary["p50"], ours_summary["p95"], ours_summary["max"], ""])
    rows.append(["ours: the admin POST alone (save + index write)", post_summary["p50"], post_summary["p95"], post_summary["max"], ""])
    if not args.no_stock:
        stock_summary = common.summary_ms(stock(ds, pks, run_id))
        rows.append(["stock haystack: backend.update -> found by SearchQuerySet", stock_summary["p50"],
                     stock_summary["p95"], stock_summary["max"], "1.00x"])
        rows[0][4] = f"{common.ratio(stock_summary['p50'], ours_summary['p50']):.2f}x"
    print()
    print(common.table(rows, ["path", "p50 ms", "p95 ms", "max ms", "p50 speed vs stock"]))


if __name__ == "__main__":
    main()
