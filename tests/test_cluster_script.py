"""scripts/cluster: its commands, its stdout contract and its state folder.

The quick tests start nothing. The whole life of a cluster (up, the exports,
a node stopped and started, down) takes a JVM and a PostgreSQL of its own, so
it runs only when NEWSROOM_TEST_CLUSTER_SCRIPT=1 (the cluster pass of
scripts/test already goes through up, stop-node, start-node and down)."""
import os
import subprocess
import urllib.request

import pytest

from tests.servers import REPO

SCRIPT = REPO / "scripts" / "cluster"


def cluster(cluster_dir, *args, timeout=60):
    env = {**os.environ, "NEWSROOM_CLUSTER_DIR": str(cluster_dir)}
    return subprocess.run(
        [str(SCRIPT), *args], cwd="/", env=env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=timeout,
    )


def test_help_names_every_command(tmp_path):
    done = cluster(tmp_path, "--help")
    assert done.returncode == 0
    assert done.stdout == ""
    for command in ("up", "down", "status", "stop-node N", "start-node N"):
        assert f"scripts/cluster {command}" in done.stderr


def test_an_unknown_command_is_refused(tmp_path):
    done = cluster(tmp_path, "start")
    assert done.returncode == 2
    assert "unknown command start" in done.stderr


def test_status_of_a_cluster_never_started_says_so_and_fails(tmp_path):
    done = cluster(tmp_path, "status")
    assert done.returncode == 1
    assert "not running" in done.stdout


def test_down_with_nothing_running_succeeds_and_prints_nothing_on_stdout(tmp_path):
    (tmp_path / "leftover.log").write_text("from an earlier run")
    done = cluster(tmp_path, "down")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert sorted(path.name for path in tmp_path.iterdir()) == [".lock"]


@pytest.mark.parametrize("args", [("stop-node",), ("stop-node", "3"), ("start-node", "0")])
def test_a_node_is_named_by_its_number(tmp_path, args):
    done = cluster(tmp_path, *args)
    assert done.returncode == 1
    assert "1 or 2" in done.stderr


def test_stopping_a_node_of_a_cluster_that_does_not_run_fails_clearly(tmp_path):
    done = cluster(tmp_path, "stop-node", "2")
    assert done.returncode == 1
    assert "not running" in done.stderr


def searches_answer(port):
    url = f"http://127.0.0.1:{port}/solr/admin/info/system?wt=json"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("NEWSROOM_TEST_CLUSTER_SCRIPT") != "1",
    reason="starts a PostgreSQL and a SolrCloud of its own: NEWSROOM_TEST_CLUSTER_SCRIPT=1",
)
def test_the_life_of_a_cluster(tmp_path):
    state_dir = tmp_path / "c"  # short: PostgreSQL's socket path is limited
    try:
        up = cluster(state_dir, "up", timeout=900)
        assert up.returncode == 0, up.stderr[-3000:]
        lines = up.stdout.splitlines()
        assert len(lines) == 2, up.stdout
        assert lines[0].startswith("export DATABASE_URL=postgres://newsroom:")
        assert lines[0].endswith("/newsroom")
        assert lines[1].startswith("export SEARCH_URL=solr://127.0.0.1:")
        assert lines[1].endswith("/solr/newsroom")

        state = dict(
            line.split("=", 1) for line in (state_dir / "state.env").read_text().splitlines()
        )
        assert (state_dir / "state.env").stat().st_mode & 0o077 == 0
        assert lines[1] == f"export SEARCH_URL={state['SEARCH_URL']}"
        assert f"127.0.0.1:{state['SOLR_PORT_1']},127.0.0.1:{state['SOLR_PORT_2']}" in lines[1]

        again = cluster(state_dir, "up")
        assert again.returncode == 0 and again.stdout == up.stdout

        stopped = cluster(state_dir, "stop-node", "2", timeout=300)
        assert stopped.returncode == 0, stopped.stderr
        assert not searches_answer(state["SOLR_PORT_2"])
        assert searches_answer(state["SOLR_PORT_1"])
        assert cluster(state_dir, "status").returncode == 1

        started = cluster(state_dir, "start-node", "2", timeout=300)
        assert started.returncode == 0, started.stderr
        assert searches_answer(state["SOLR_PORT_2"])
        assert cluster(state_dir, "status").returncode == 0
    finally:
        down = cluster(state_dir, "down", timeout=300)
    assert down.returncode == 0, down.stderr
    assert [path.name for path in state_dir.iterdir()] == [".lock"]
