"""Failing over between Solr nodes (articles.search.engines.solr.transport),
against small HTTP servers on loopback that answer as a sick node would.
No cluster needed."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from articles.search.engines.base import EngineUnavailable
from articles.search.engines.solr.transport import SolrNodes, SolrRequestError


class Node:
    """A fake node answering each request with the next (status, body) of
    its script, the last one for ever; it counts the requests it got."""

    def __init__(self, *script):
        self.script = list(script)
        self.requests = 0
        node = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                node.requests += 1
                status, body = node.script[0] if len(node.script) == 1 else node.script.pop(0)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def nodes():
    started = []

    def start(*script):
        started.append(Node(*script))
        return started[-1]

    yield start
    for node in started:
        node.close()


def closed_port():
    """A loopback address where nothing listens (a stopped node)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


OK = (200, {"response": {"numFound": 1}})
DOWN = (503, {"error": {"msg": "no servers hosting shard"}})


def test_a_stopped_node_is_passed_over_and_then_asked_last(nodes):
    live = nodes(OK)
    cluster = SolrNodes([closed_port(), live.host])
    assert cluster.get("c/select") == OK[1]
    assert cluster.get("c/select") == OK[1]
    assert live.requests == 2


def test_a_node_answering_5xx_is_passed_over(nodes):
    sick, live = nodes(DOWN), nodes(OK)
    cluster = SolrNodes([sick.host, live.host])
    assert cluster.get("c/select") == OK[1]
    assert (sick.requests, live.requests) == (1, 1)


def test_a_4xx_is_the_requests_fault_and_no_other_node_is_asked(nodes):
    refusing, live = nodes((400, {"error": {"msg": "undefined field x"}})), nodes(OK)
    cluster = SolrNodes([refusing.host, live.host])
    with pytest.raises(SolrRequestError, match="undefined field x") as raised:
        cluster.get("c/select")
    assert raised.value.status == 400
    assert live.requests == 0


def test_no_node_answering_is_engine_unavailable_naming_each(nodes):
    sick = nodes(DOWN)
    cluster = SolrNodes([sick.host, closed_port()])
    with pytest.raises(EngineUnavailable, match="no servers hosting shard"):
        cluster.get("c/select")


def test_a_request_is_asked_again_while_the_cluster_recovers(nodes):
    # A shard electing a leader refuses updates for a moment.
    electing = nodes(DOWN, DOWN, OK)
    cluster = SolrNodes([electing.host])
    assert cluster.post("c/update", retry_for=5) == OK[1]
    assert electing.requests == 3
    again = nodes(DOWN, OK)
    with pytest.raises(EngineUnavailable):
        SolrNodes([again.host]).post("c/update")  # no retry asked: one round
