"""The Configset and Collections APIs: our configset, collections, the alias.

The collection named in SEARCH_URL is always an alias. Its collections are
named `<alias>_<UTC time>`, so a rebuild writes a new one beside the live
one and moves the alias in one step (CREATEALIAS), and readers never see a
half-built index.

The configset is uploaded under a name that carries a digest of its files
(`newsroom-3f2a9c1b7d`): a new collection uses the configset of the code
that built it, while the live collection keeps the one it was built with
until the alias moves (an overwritten configset would be read by a live
collection at its next reload, against an index built for the old one).
"""

import datetime
import hashlib
import io
import logging
import zipfile
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

CONFIGSET_DIR = Path(settings.BASE_DIR) / "solr" / "configsets" / "newsroom" / "conf"
CONFIGSET_PREFIX = "newsroom-"
DEFAULT_SHARDS = 2
DEFAULT_REPLICAS = 2
# Seconds a Collections API call may take (creating 4 cores on 2 nodes).
ADMIN_TIMEOUT = 180


def configset_files(folder=CONFIGSET_DIR):
    """{relative path: bytes} of the configset's files, sorted."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.startswith(".")
    }


def configset_name(files=None):
    files = configset_files() if files is None else files
    digest = hashlib.sha1()
    for name, content in files.items():
        digest.update(name.encode() + b"\0" + content + b"\0")
    return CONFIGSET_PREFIX + digest.hexdigest()[:10]


def configset_zip(files=None):
    """The configset as the zip file the Configset API's UPLOAD takes."""
    files = configset_files() if files is None else files
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def new_collection_name(alias, now=None):
    now = now or datetime.datetime.now(datetime.UTC)
    return f"{alias}_{now:%Y%m%d%H%M%S%f}"


class ClusterAdmin:
    """Admin calls through any live node (transport.SolrNodes)."""

    def __init__(self, nodes):
        self.nodes = nodes

    def _collections_api(self, action, **params):
        return self.nodes.get(
            "admin/collections", params={"action": action, "wt": "json", **params}, timeout=ADMIN_TIMEOUT
        )

    # -- configsets ---------------------------------------------------------

    def configsets(self):
        return set(
            self.nodes.get("admin/configs", params={"action": "LIST", "wt": "json"}).get("configSets", [])
        )

    def upload_configset(self):
        """Upload our configset unless it is there already; returns its name."""
        files = configset_files()
        name = configset_name(files)
        if name not in self.configsets():
            self.nodes.post(
                "admin/configs",
                params={
                    "action": "UPLOAD",
                    "name": name,
                    "overwrite": "true",
                    "cleanup": "true",
                    "wt": "json",
                },
                data=configset_zip(files),
                headers={"Content-Type": "application/octet-stream"},
                timeout=ADMIN_TIMEOUT,
            )
            logger.info("uploaded the Solr configset %s", name)
        return name

    def delete_unused_configsets(self, keep):
        """Delete our older configsets that no collection uses any more."""
        used = {
            collection.get("configName")
            for collection in self.cluster_status().get("collections", {}).values()
        }
        for name in self.configsets():
            if name.startswith(CONFIGSET_PREFIX) and name != keep and name not in used:
                self.nodes.get("admin/configs", params={"action": "DELETE", "name": name, "wt": "json"})
                logger.info("deleted the unused Solr configset %s", name)

    # -- collections and aliases ---------------------------------------------

    def cluster_status(self, collection=None):
        params = {"collection": collection} if collection else {}
        return self._collections_api("CLUSTERSTATUS", **params).get("cluster", {})

    def collections(self):
        return set(self._collections_api("LIST").get("collections", []))

    def aliases(self):
        """{alias: [collection, ...]}"""
        found = self._collections_api("LISTALIASES").get("aliases", {})
        return {alias: [name for name in targets.split(",") if name] for alias, targets in found.items()}

    def alias_targets(self, alias):
        return self.aliases().get(alias, [])

    def create_collection(
        self, name, configset, shards=DEFAULT_SHARDS, replicas=DEFAULT_REPLICAS, nodes=None
    ):
        """A new collection; `nodes` ("host:port_solr" node names) pins its
        replicas to those nodes, otherwise Solr spreads them."""
        placement = {"createNodeSet": ",".join(nodes)} if nodes else {}
        self._collections_api(
            "CREATE",
            name=name,
            numShards=shards,
            replicationFactor=replicas,
            **{"collection.configName": configset, "waitForFinalState": "true"},
            **placement,
        )
        logger.info("created the Solr collection %s (%d shards x %d replicas)", name, shards, replicas)

    def point_alias(self, alias, collection):
        self._collections_api("CREATEALIAS", name=alias, collections=collection)
        logger.info("the Solr alias %s now names %s", alias, collection)

    def delete_collection(self, name):
        self._collections_api("DELETE", name=name)
        logger.info("deleted the Solr collection %s", name)

    def delete_alias(self, alias):
        self._collections_api("DELETEALIAS", name=alias)

    def layout(self, collection):
        """(shards, replicas per shard) of an existing collection."""
        state = self.cluster_status(collection).get("collections", {}).get(collection, {})
        shards = state.get("shards", {})
        replicas = max((len(shard.get("replicas", {})) for shard in shards.values()), default=0)
        return len(shards) or DEFAULT_SHARDS, replicas or DEFAULT_REPLICAS
