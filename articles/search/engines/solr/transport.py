"""HTTP to a SolrCloud cluster through whichever of its nodes answers.

Any node serves any collection (it forwards to the replicas that hold it),
so a request goes to the node that answered last, and on a connection
error, a time-out or a 5xx to the next one: a stopped node costs one refused
connection, not a failed search. A node that failed is tried last for a few
seconds. A 4xx is the request's own fault and is raised at once.

Plain `requests` rather than pysolr: failing over needs the status code
(pysolr folds it into a message), and updates are sent as JSON command
lists, whose order pysolr's XML documents cannot mix.
"""

import logging
import threading
import time

import requests

from articles.search.engines.base import EngineUnavailable

logger = logging.getLogger(__name__)

# Seconds to wait for a TCP connection: a node that is down refuses at once,
# one that is unreachable should not hold a search for the whole time-out.
CONNECT_TIMEOUT = 2.0
# Seconds a node that failed is put behind the others.
FAILED_NODE_PAUSE = 5.0
# Pauses between rounds of a request that no node could answer (seconds).
FIRST_RETRY_PAUSE = 0.1
LAST_RETRY_PAUSE = 1.0


class SolrRequestError(RuntimeError):
    """Solr refused the request itself (4xx): retrying elsewhere won't help."""

    def __init__(self, status, message):
        super().__init__(f"Solr answered {status}: {message}")
        self.status = status
        self.message = message


class SolrNodes:
    """The cluster's nodes ("host:port"), under one path ("solr")."""

    def __init__(self, hosts, core_path="solr", timeout=10.0):
        if not hosts:
            raise ValueError("a Solr cluster needs at least one host:port")
        self.hosts = list(hosts)
        self.core_path = core_path.strip("/")
        self.timeout = timeout
        self._local = threading.local()  # a requests.Session per thread
        self._lock = threading.Lock()
        self._preferred = 0
        self._failed_until = {}

    def describe(self):
        return ",".join(self.hosts)

    @property
    def _session(self):
        """This thread's session: its pooled connections are reused, and no
        two threads share one (requests does not promise that is safe)."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _order(self):
        """Hosts to try: the last good one first, recently failed ones last."""
        now = time.monotonic()
        with self._lock:
            start = self._preferred
        rotated = self.hosts[start:] + self.hosts[:start]
        return sorted(rotated, key=lambda host: self._failed_until.get(host, 0) > now)

    def _remember(self, host, ok):
        with self._lock:
            if ok:
                self._preferred = self.hosts.index(host)
                self._failed_until.pop(host, None)
            else:
                self._failed_until[host] = time.monotonic() + FAILED_NODE_PAUSE

    def request(
        self, method, path, params=None, data=None, json_body=None, headers=None, timeout=None, retry_for=0.0
    ):
        """The decoded JSON answer of `path` (below /solr/) from the first node
        that answers; EngineUnavailable when none does, after trying them all
        again for `retry_for` seconds (a shard electing a new leader after a
        node stopped refuses updates for a few seconds)."""
        deadline = time.monotonic() + retry_for
        pause = FIRST_RETRY_PAUSE
        while True:
            answered, answer = self._ask_each_node(method, path, params, data, json_body, headers, timeout)
            if answered:
                return answer
            if time.monotonic() + pause > deadline:
                break
            time.sleep(pause)
            pause = min(pause * 2, LAST_RETRY_PAUSE)
        logger.warning("no Solr node could answer %s %s: %s", method, path, "; ".join(answer))
        raise EngineUnavailable(f"No Solr node could answer ({'; '.join(answer)})")

    def _ask_each_node(self, method, path, params, data, json_body, headers, timeout):
        """(True, the answer) from the first node that answers, or (False,
        what each node said)."""
        failures = []
        for host in self._order():
            url = f"http://{host}/{self.core_path}/{path.lstrip('/')}"
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    json=json_body,
                    headers=headers,
                    timeout=(CONNECT_TIMEOUT, timeout or self.timeout),
                )
            except requests.RequestException as error:
                failures.append(f"{host}: {type(error).__name__}")
                self._remember(host, ok=False)
                continue
            if response.status_code >= 500:
                failures.append(f"{host}: HTTP {response.status_code} {_error_message(response)}")
                self._remember(host, ok=False)
                continue
            self._remember(host, ok=True)
            if response.status_code >= 400:
                raise SolrRequestError(response.status_code, _error_message(response))
            try:
                return True, response.json()
            except ValueError:
                raise SolrRequestError(response.status_code, "the answer is not JSON") from None
        return False, failures

    def get(self, path, params=None, **kwargs):
        return self.request("GET", path, params=params, **kwargs)

    def post(self, path, params=None, **kwargs):
        return self.request("POST", path, params=params, **kwargs)


def _error_message(response):
    """Solr's own words about a failed request, short."""
    try:
        error = response.json().get("error", {})
        message = error.get("msg") or error.get("trace") or ""
    except ValueError:
        message = response.text
    return " ".join(str(message).split())[:300]
