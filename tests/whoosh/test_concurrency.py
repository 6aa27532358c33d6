"""Many writers at once: four gunicorn workers taking admin creates, edits and
deletes from eight editors, while an import and a shell script write too.
Afterwards the search index must hold exactly what the database holds."""
import http.client
import json
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode

import pytest

from tests.servers import REPO, write_demo_sample

pytestmark = [pytest.mark.server, pytest.mark.slow]

WORKERS = 4
EDITORS = 8
OPERATIONS_PER_EDITOR = 15
IMPORTED_RECORDS = 80
SHELL_EDITS = 30
PASSWORD = "a long burst password 1"
REQUEST_TIMEOUT = 60.0

# What each editor does, in order: creations, edits of their own and of
# articles everybody edits, deletions of their own oldest article.
PLAN = ["create", "create", "edit", "edit-shared", "delete"] * 3


# ---------------------------------------------------------------------------
# An editor's browser, reduced to cookies, forms and CSRF tokens


class FormFields(HTMLParser):
    """The fields of one <form> (by id, or the first that posts) as a browser would submit them."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields = []
        self._textarea = None
        self._select = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            if self.form_id is None:
                # The first form that posts (the delete confirmation has no id).
                self.inside = attributes.get("method", "").lower() == "post"
                self.form_id = "" if self.inside else None
            else:
                self.inside = attributes.get("id") == self.form_id
        if not self.inside or not attributes.get("name"):
            if tag == "option" and self._select is not None and "selected" in attributes:
                self.fields.append((self._select, attributes.get("value", "")))
            return
        name = attributes["name"]
        if tag == "input":
            kind = attributes.get("type", "text")
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attributes:
                return
            self.fields.append((name, attributes.get("value", "")))
        elif tag == "textarea":
            self._textarea = [name, ""]
        elif tag == "select":
            self._select = name

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            self.fields.append(tuple(self._textarea))
            self._textarea = None
        elif tag == "select":
            self._select = None
        elif tag == "form":
            self.inside = False


def form_fields(html, form_id):
    parser = FormFields(form_id)
    parser.feed(html)
    return parser.fields


@dataclass
class Answer:
    status: int
    location: str
    text: str


@dataclass
class Editor:
    """One person in the admin: their own session, their own articles."""

    port: int
    number: int
    cookies: dict = field(default_factory=dict)
    mine: list = field(default_factory=list)
    log: list = field(default_factory=list)

    def request(self, method, path, data=None):
        body = urlencode(data, doseq=True).encode() if data is not None else None
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            # Django checks the origin of HTTPS posts only; send it like a browser anyway.
            headers["Origin"] = f"http://127.0.0.1:{self.port}"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    name, _, rest = value.partition("=")
                    self.cookies[name] = rest.split(";", 1)[0]
            answer = Answer(response.status, response.getheader("Location", ""), response.read().decode())
        finally:
            connection.close()
        self.log.append(f"{method} {path} -> {answer.status}")
        return answer

    def submit(self, path, form_id, changes, expect_redirect=True):
        """GET the form, change some fields, POST it back with its CSRF token."""
        page = self.request("GET", path)
        assert page.status == 200, f"editor {self.number}: GET {path} answered {page.status}"
        fields = [(name, value) for name, value in form_fields(page.text, form_id) if name not in changes]
        fields += [(name, value) for name, values in changes.items() for value in _as_list(values)]
        answer = self.request("POST", path, fields)
        if expect_redirect and answer.status != 302:
            errors = re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', answer.text, re.S)
            raise AssertionError(f"editor {self.number}: POST {path} answered {answer.status}: {errors[:3]}")
        return answer

    def post(self, path, data):
        """POST as the form would, with the session's CSRF token (the cookie's secret)."""
        answer = self.request("POST", path, {**data, "csrfmiddlewaretoken": self.cookies["csrftoken"]})
        if answer.status != 302:
            errors = re.findall(r'class="errorlist[^"]*"[^>]*>(.*?)</ul>', answer.text, re.S)
            raise AssertionError(f"editor {self.number}: POST {path} answered {answer.status}: {errors[:3]}")
        return answer

    def log_in(self):
        self.submit("/admin/login/?next=/admin/", "login-form", {"username": "burst", "password": PASSWORD})
        # The burst posts the article form directly: make sure it fills
        # every field the admin's form has.
        form = self.request("GET", "/admin/articles/article/add/")
        names = {name for name, _value in form_fields(form.text, "article_form")} - {"csrfmiddlewaretoken"}
        missing = names - set(self.article_changes("x", 0, 0, []))
        assert not missing, f"the article form has fields the burst does not fill: {missing}"

    def article_changes(self, marker, day, source, topics):
        return {
            "title": f"خبر عاجل {marker}",
            "slug": marker,
            "lead": f"ملخص {marker}",
            "body": f"نص الخبر {marker} عن المفاوضات والاقتصاد.\nفقرة ثانية {marker}.",
            "published": f"2017-{1 + day // 28:02d}-{1 + day % 28:02d}",
            "source": str(source),
            "topics": [str(t) for t in topics],
            "url": "",
            "_continue": "1",
        }


def _as_list(value):
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------------------
# Other writers at the same time: an import and a shell script

SHELL_WRITER = """
import datetime
from articles.models import Article
articles = list(Article.objects.filter(title__startswith='مقال الصدفة').order_by('pk'))
for n in range({edits}):
    article = articles[n % len(articles)]
    article.title = f'مقال الصدفة shellmk{{n}}z'
    article.published = datetime.date(2016, 1, 1) + datetime.timedelta(days=n)
    article.save()
    if n % 10 == 9:
        articles.pop(0).delete()
print('shell done')
"""

VERIFY = """
import json, time
from articles.models import Article
from articles.search import consistency
from articles.search import index_queue as queue
from articles.search.engines.whoosh.writing import get_backend
from whoosh.query import And, Term

markers = json.loads({markers!r})
# The workers write the index in a thread after answering: give them the
# time a reader would (the queue must empty by itself, or rows were stranded).
waited = 0.0
while queue.pending_count() and waited < 120:
    time.sleep(0.5)
    waited += 0.5
backend = get_backend()
if not backend.setup_complete:
    backend.setup()
ix = backend.index.refresh()
title_field = ix.schema["title"]
truth = {{marker: set() for marker in markers}}
for pk, title in Article.objects.values_list("pk", "title"):
    for word in title.split():
        if word in truth:
            truth[word].add(pk)
mismatches = []
with ix.searcher() as searcher:
    for marker in markers:
        query = And([Term("title", text) for text in title_field.process_text(marker, mode="query")])
        found = {{int(hit["django_id"]) for hit in searcher.search(query, limit=None)}}
        if found != truth[marker]:
            mismatches.append([marker, sorted(found), sorted(truth[marker])])
differences = consistency.compare()
print(json.dumps({{
    "articles": Article.objects.count(),
    "documents": differences.documents,
    "differences": differences.total,
    "pending": queue.pending_count(),
    "waited": waited,
    "mismatches": mismatches,
}}))
"""


def seed(app):
    """Sources, topics, articles everybody edits and articles the shell edits."""
    out = app.shell(
        "import json\n"
        "from articles.models import Article, Source, Topic\n"
        "sources = [Source.objects.create(name=n) for n in ('مصدر أول', 'مصدر ثان')]\n"
        "topics = [Topic.objects.create(name=n) for n in ('سياسة', 'اقتصاد', 'رياضة')]\n"
        "shared = [Article.objects.create(title=f'مقال مشترك {n}', body=f'نص مشترك {n}', source=sources[0]).pk\n"
        "          for n in range(4)]\n"
        "for n in range(8):\n"
        "    Article.objects.create(title=f'مقال الصدفة {n}', body=f'نص الصدفة {n}', source=sources[1])\n"
        "print(json.dumps({'sources': [s.pk for s in sources], 'topics': [t.pk for t in topics], 'shared': shared}))\n"
    )
    return json.loads(out.strip().splitlines()[-1])


def run_editor(editor, seeded, markers, failures, start):
    try:
        editor.log_in()
        start.wait()
        for step, action in enumerate(PLAN):
            marker = f"mk{editor.number}s{step}z"
            markers.append(marker)
            day = editor.number * len(PLAN) + step
            source = seeded["sources"][step % 2]
            topics = seeded["topics"][: 1 + step % 3]
            changes = editor.article_changes(marker, day, source, topics)
            if action == "create":
                answer = editor.post("/admin/articles/article/add/", changes)
                editor.mine.append(int(re.search(r"/article/(\d+)/change/", answer.location).group(1)))
            elif action == "edit":
                editor.post(f"/admin/articles/article/{editor.mine[-1]}/change/", changes)
            elif action == "edit-shared":
                pk = seeded["shared"][(editor.number + step) % len(seeded["shared"])]
                editor.post(f"/admin/articles/article/{pk}/change/", {**changes, "slug": f"shared-{pk}"})
            elif action == "delete":
                # Through the confirmation page, as an editor does.
                pk = editor.mine.pop(0)
                editor.submit(f"/admin/articles/article/{pk}/delete/", None, {"post": "yes"})
    except Exception as error:  # collected for the assertion, with the editor's requests
        failures.append(f"editor {editor.number}: {error}\n  " + "\n  ".join(editor.log[-6:]))


@pytest.fixture
def busy_app(serve_app):
    return serve_app(name="concurrency", workers=WORKERS, paths=(), sample=0)


def test_concurrent_admin_import_and_shell_writes_leave_the_index_equal_to_the_database(busy_app, tmp_path):
    app = busy_app
    app.create_superuser("burst", PASSWORD)
    seeded = seed(app)
    records = write_demo_sample(tmp_path / "import.jsonl", IMPORTED_RECORDS)

    editors = [Editor(port=app.port, number=n) for n in range(EDITORS)]
    markers, failures = [], []
    start = threading.Barrier(EDITORS + 1)
    threads = [
        threading.Thread(target=run_editor, args=(editor, seeded, markers, failures, start)) for editor in editors
    ]
    for thread in threads:
        thread.start()
    start.wait()
    # The other writers start with the editors' burst.
    importer = subprocess.Popen(
        [sys.executable, str(REPO / "manage.py"), "import_articles", str(records), "--batch-size", "10",
         "--no-progress"],
        cwd=REPO, env=app.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    shell = subprocess.Popen(
        [sys.executable, str(REPO / "manage.py"), "shell", "--no-imports", "-c", SHELL_WRITER.format(edits=SHELL_EDITS)],
        cwd=REPO, env=app.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    for thread in threads:
        thread.join()
    import_output, _ = importer.communicate(timeout=600)
    shell_output, _ = shell.communicate(timeout=600)

    assert failures == [], "\n".join(failures)
    assert importer.returncode == 0, import_output
    assert f"Imported: {IMPORTED_RECORDS}" in import_output, import_output
    assert shell.returncode == 0 and "shell done" in shell_output, shell_output
    assert len(markers) == EDITORS * len(PLAN)

    shell_markers = [f"shellmk{n}z" for n in range(SHELL_EDITS)]
    verdict = json.loads(app.shell(VERIFY.format(markers=json.dumps(markers + shell_markers))).strip().splitlines()[-1])
    assert verdict["pending"] == 0
    assert verdict["mismatches"] == []
    assert verdict["differences"] == 0
    assert verdict["documents"] == verdict["articles"]

    checked = app.manage("check_index", check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "The search index matches the database." in checked.stdout

    log = app.log_path.read_text(errors="replace")
    assert "Traceback" not in log, app.log_tail(80)
    assert not re.search(r'" 5\d\d ', log), "a request answered 5xx:\n" + app.log_tail(80)
