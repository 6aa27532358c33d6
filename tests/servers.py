"""Serve the app for real: gunicorn on loopback, production settings, a fresh var/.

Loaded as a pytest plugin from tests/conftest.py. Use these fixtures where a
test is about serving (HTTP headers, static files, several workers, a
browser, a load generator); use Django's test client everywhere else.

Fixtures
--------
``served_app`` (session; alias ``gunicorn_server``)
    The default server: 2 workers, an archive of the raw seed articles in
    data/demo plus an evenly spread sample of DEFAULT_SAMPLE records of the
    demo corpus. Tests must not change its data: others share it.

``serve_app`` (session)
    A factory for other servers; every server it starts is stopped when the
    test session ends. Calling it again with the same arguments returns the
    same running server::

        def test_burst(serve_app):
            app = serve_app(name="burst", workers=4, sample=0)
            app.create_superuser("editor", "a long password")
            ...

    Arguments (all keyword): ``name`` (a label: a new name gives a server of
    its own, with its own var dir, for tests that change data), ``workers``,
    ``paths`` (files or folders for ``manage.py import_articles``; default:
    the seed files of data/demo), ``sample`` (how many records of the demo
    corpus to add; 0 for none), ``env`` (extra environment variables for
    every process of that server).

What a server object (ServedApp) gives
--------------------------------------
``base_url`` ("http://127.0.0.1:PORT"), ``port``, ``var_dir`` (database,
Whoosh index, static files, gunicorn.log), ``env`` (the exact environment
of the server; pass it to any process that should see the same database and
index), ``url(path)``, ``get(path, params=None, headers=None)`` (a plain
HTTP GET that follows no redirect and raises on no status: returns a
Response with ``status``, ``headers``, ``body``, ``text``),
``manage(*args)`` (runs manage.py against the same database and index and
returns the CompletedProcess; raises with its output if it fails),
``shell(code)`` (manage.py shell -c, returns stdout), ``create_superuser``,
``log_tail()``.

Why this shape
--------------
The served process runs ``newsroom.settings`` (production: DEBUG off, the
hashed and compressed static files of whitenoise's manifest storage), not
tests.settings, so what is tested is what people run. The data gets there
the way a user's does: ``migrate``, ``collectstatic``, ``setup_search`` (when
``env`` names a Solr SEARCH_URL), ``import_articles``, then ``ensure_index``
(the start-up check of the search index). gunicorn starts
from this venv with the repository's gunicorn.conf.py in a process group of
its own, which teardown ends (TERM, then KILL after a bounded wait); on
Linux the gunicorn master also dies with the pytest process that started it.
"""

from __future__ import annotations

import ctypes
import gzip
import http.client
import itertools
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

REPO = Path(__file__).resolve().parent.parent
DEMO_DIR = REPO / "data" / "demo"
DEFAULT_WORKERS = 2
DEFAULT_SAMPLE = 150
START_TIMEOUT = 60.0  # seconds for gunicorn to answer /healthz
STOP_TIMEOUT = 10.0  # seconds for a graceful stop before KILL
COMMAND_TIMEOUT = 600.0  # seconds for one manage.py command

# The parent environment is the test process's (tests.settings put its own
# var dir and key there): only these pass through to a served app.
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ", "VIRTUAL_ENV")


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self):
        return self.body.decode("utf-8")


@dataclass
class ServedApp:
    """A running gunicorn serving Newsroom from its own var dir."""

    name: str
    port: int
    var_dir: Path
    env: dict
    workers: int
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self):
        return self.var_dir / "gunicorn.log"

    def url(self, path="/"):
        return self.base_url + _quote_path(path)

    def get(self, path="/", params=None, headers=None, timeout=30.0):
        """GET `path` (non-ASCII allowed); no redirect followed, no raise on 4xx/5xx."""
        target = _quote_path(path) + (("&" if "?" in path else "?") + urlencode(params) if params else "")
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request("GET", target, headers=headers or {})
            answer = connection.getresponse()
            return Response(answer.status, answer.headers, answer.read())
        finally:
            connection.close()

    def manage(self, *args, input=None, check=True, timeout=COMMAND_TIMEOUT, env=None):
        """Run `manage.py *args` against this server's database and index."""
        return _run(
            [sys.executable, str(REPO / "manage.py"), *map(str, args)],
            env={**self.env, **(env or {})},
            input=input,
            check=check,
            timeout=timeout,
        )

    def shell(self, code):
        """Run Python code in `manage.py shell` and return what it printed."""
        return self.manage("shell", "--no-imports", "-c", code).stdout

    def create_superuser(self, username="admin", password="a-long-test-password-1", email=None):
        self.manage(
            "createsuperuser",
            "--noinput",
            "--username",
            username,
            "--email",
            email or f"{username}@example.org",
            env={"DJANGO_SUPERUSER_PASSWORD": password},
        )
        return username, password

    def log_tail(self, lines=40, requests=True):
        """The end of gunicorn's log (access lines left out with requests=False)."""
        if not self.log_path.exists():
            return ""
        kept = self.log_path.read_text(errors="replace").splitlines()
        if not requests:
            kept = [line for line in kept if not line.startswith("127.0.0.1 ")]
        return "\n".join(kept[-lines:])

    # Life cycle ---------------------------------------------------------

    def start(self):
        for _attempt in range(3):
            self.port = _free_port()
            self.env["NEWSROOM_BIND"] = f"127.0.0.1:{self.port}"
            with open(self.log_path, "ab") as log:
                self.process = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "gunicorn",
                        "--config",
                        str(REPO / "gunicorn.conf.py"),
                        "newsroom.wsgi:application",
                    ],
                    cwd=REPO,
                    env=self.env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                    preexec_fn=_die_with_parent,
                )
            if self._wait_until_healthy():
                return self
            # Most likely the port was taken between probing and binding.
            self.stop()
        raise RuntimeError(f"gunicorn did not start ({self.name}); its log:\n{self.log_tail()}")

    def _wait_until_healthy(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if self.get("/healthz", timeout=2.0).status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.1)
        return False

    def stop(self):
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait(STOP_TIMEOUT)
        # Workers left behind by a master killed too early.
        _signal_group(process.pid, signal.SIGKILL)


def prepare_var_dir(var_dir, paths, sample, extra_env=None):
    """Make a var dir with migrated database, static files, articles and index.

    Returns the environment that points every process at it.
    """
    var_dir.mkdir(parents=True, exist_ok=True)
    env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    env.update(
        DJANGO_SETTINGS_MODULE="newsroom.settings",
        NEWSROOM_VAR_DIR=str(var_dir),
        SECRET_KEY=secrets.token_urlsafe(40),
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        WEB_CONCURRENCY=str(DEFAULT_WORKERS),
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra_env or {})

    def manage(*args):
        return _run([sys.executable, str(REPO / "manage.py"), *map(str, args)], env=env)

    # collectstatic needs no database: it runs while the data goes in.
    static = subprocess.Popen(
        [sys.executable, str(REPO / "manage.py"), "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        manage("migrate", "--noinput", "--verbosity", "0")
        if env.get("SEARCH_URL", "").startswith("solr://"):
            # As scripts/setup does: the configset, collection and alias exist
            # before the import's first write (idempotent for a second server).
            manage("setup_search", "--verbosity", "0")
        sources = [Path(p) for p in paths]
        if sample:
            sources.append(write_demo_sample(var_dir / "demo-sample.jsonl", sample))
        if sources:
            manage("import_articles", *sources)
        # The import indexes what it saves; this checks the index against the
        # database and builds or repairs it if needed, as scripts/setup does.
        manage("ensure_index", "--verbosity", "0")
    finally:
        output, _ = static.communicate(timeout=COMMAND_TIMEOUT)
    if static.returncode != 0:
        raise AssertionError(f"collectstatic exited {static.returncode}\n{output[-4000:]}")
    return env


def demo_seed_files():
    """The raw seed articles of data/demo (the corpus sample is sampled apart)."""
    seeds = DEMO_DIR / "seeds"
    return [seeds] if seeds.is_dir() else []


def demo_corpus_files():
    if not DEMO_DIR.is_dir():
        return []
    return sorted(
        path for path in DEMO_DIR.rglob("*") if path.is_file() and path.name.endswith((".jsonl", ".jsonl.gz"))
    )


def write_demo_sample(target, count):
    """Write `count` records spread evenly over the demo corpus to `target`.

    Every n-th line rather than the first ones, so that the sample holds
    several sources, topics and years, as the facets need.
    """
    lines = []
    for path in demo_corpus_files():
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as handle:
            lines.extend(line for line in handle if line.strip())
    if not lines:
        raise RuntimeError(f"no JSON Lines corpus found under {DEMO_DIR} to sample from")
    step = max(1, len(lines) // count)
    target.write_text("".join(itertools.islice(lines[::step], count)), encoding="utf-8")
    return target


def _run(command, env, input=None, check=True, timeout=COMMAND_TIMEOUT):
    done = subprocess.run(
        command,
        cwd=REPO,
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=None if input is not None else subprocess.DEVNULL,
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"{' '.join(command[1:])} exited {done.returncode}\n"
            f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
        )
    return done


def _quote_path(path):
    return quote(path, safe="/?&=%#+:@!$'()*,;~")


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _signal_group(pid, signum):
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _die_with_parent():
    """In the child before exec: get SIGTERM if the test process dies (Linux)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        except OSError:
            pass


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test that used a served app shows the end of its server's log."""
    report = yield
    if report.failed:
        for value in getattr(item, "funcargs", {}).values():
            if isinstance(value, ServedApp):
                report.sections.append((f"gunicorn log ({value.name})", value.log_tail(60, requests=False)))
    return report


@pytest.fixture(scope="session")
def serve_app(tmp_path_factory):
    """Factory of real gunicorn servers; see this module's docstring."""
    servers = {}

    def serve(name="default", workers=DEFAULT_WORKERS, paths=None, sample=DEFAULT_SAMPLE, env=None):
        paths = tuple(demo_seed_files() if paths is None else paths)
        key = (name, workers, tuple(map(str, paths)), sample, tuple(sorted((env or {}).items())))
        if key not in servers:
            var_dir = tmp_path_factory.mktemp(f"served-{name}")
            app_env = prepare_var_dir(var_dir, paths, sample, extra_env=env)
            app_env["WEB_CONCURRENCY"] = str(workers)
            app = ServedApp(name=name, port=0, var_dir=var_dir, env=app_env, workers=workers)
            servers[key] = app.start()
        return servers[key]

    yield serve
    for app in servers.values():
        app.stop()


@pytest.fixture(scope="session")
def served_app(serve_app):
    """The shared default server (2 workers, seeds + a sample of the demo corpus)."""
    return serve_app()


@pytest.fixture(scope="session")
def gunicorn_server(served_app):
    return served_app
