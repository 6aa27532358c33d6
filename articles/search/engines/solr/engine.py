"""The SolrCloud engine: searches, related stories, spelling and writes on
a collection alias, through any live node.

SEARCH_URL=solr://host1:8983,host2:8983/solr/<alias>. The alias names one
collection (2 shards x 2 replicas by default, our configset); `rebuild`
builds a new one beside it and moves the alias. Queries are compiled from
the shared parse (query_compiler), documents from the haystack declaration
(documents); Solr only stores, counts and scores.
"""

import logging
from contextlib import contextmanager

from articles.search import key_terms_model
from articles.search.analysis import field_tokens
from articles.search.documents import article_index, identifier
from articles.search.engines.base import (
    FACET_FIELDS,
    EngineHit,
    EngineResults,
    EngineUnavailable,
    IndexedDocument,
    SearchEngine,
)
from articles.search.engines.solr import documents, query_compiler, spelling
from articles.search.engines.solr.cluster_admin import (
    DEFAULT_REPLICAS,
    DEFAULT_SHARDS,
    ClusterAdmin,
    new_collection_name,
)
from articles.search.engines.solr.query_compiler import NOTHING
from articles.search.engines.solr.transport import SolrNodes, SolrRequestError
from articles.search.engines.solr.writing import SolrBatch, index_everything, missing_collection

logger = logging.getLogger(__name__)

ARTICLE_CT = "articles.article"
# ExactStatsCache gathers a field's length statistics only from the shards
# where the query's terms of that field build a scorer: a phrase none of
# whose words a shard holds leaves that shard's documents out of the
# field's average length and document count, and two shards would score
# unlike one index. Naming the scored fields (StatsCache.FIELDS_KEY, "!"
# between them as StatsUtil reads it) makes every shard send them.
STATS_FIELDS = ("solr.stats.fields", "!".join((*query_compiler.PREFIX_FIELDS, "skeleton")))
# Seconds a search is tried again while no node can answer it (a node
# that stopped mid-request, before the cluster noticed).
READ_RETRY = 1.0
# How long a rebuild waits for the write lock (seconds).
REBUILD_LOCK_WAIT = 600
# Spelling suggestions asked of Solr per word (then held to our rule): all
# there are within two edits, as Whoosh lists them.
SPELLING_SUGGESTIONS = 1000
# Documents a page of indexed_documents() reads.
CURSOR_ROWS = 1000
COMPARED = ("source", "topics", "year", "published")


class SolrEngine(SearchEngine):
    name = "solr"

    def __init__(
        self, hosts, core_path="solr", collection="newsroom", timeout=10.0, shards=None, replicas=None
    ):
        self.nodes = SolrNodes(hosts, core_path, timeout=timeout)
        self.collection = collection  # an alias, normally
        self.admin = ClusterAdmin(self.nodes)
        self.shards = shards or DEFAULT_SHARDS
        self.replicas = replicas or DEFAULT_REPLICAS

    def describe(self):
        return f"solr collection {self.collection} on {self.nodes.describe()}"

    # -- requests -------------------------------------------------------------

    def select(self, params, collection=None):
        """The answer of /select on the alias (params: a list of pairs)."""
        collection = collection or self.collection
        try:
            return self.nodes.post(
                f"{collection}/select", data=[*list(params), ("wt", "json")], retry_for=READ_RETRY
            )
        except SolrRequestError as error:
            if error.status == 404:
                raise missing_collection(collection) from None
            raise

    def _count(self, query):
        return int(self.select([("q", query), ("rows", "0")])["response"]["numFound"])

    # -- reading --------------------------------------------------------------

    def search(self, query):
        facet_fields = [name for name in query.facet_fields if name in FACET_FIELDS]
        compiled = self._compile(query.parsed) if query.parsed is not None else None
        if compiled is NOTHING:
            return EngineResults(hits=[], total=0, facets={name: {} for name in facet_fields})
        newest = compiled is None or query.sort == "newest"
        params = [
            ("q", query_compiler.to_lucene(compiled) if compiled is not None else "*:*"),
            ("fq", "{!term f=django_ct}" + ARTICLE_CT),
            ("sort", "published desc,pk desc" if newest else "score desc,pk asc"),
            ("start", str(max(0, query.offset))),
            ("rows", str(max(0, query.limit))),
            ("fl", "django_id,score"),
            STATS_FIELDS,
        ]
        for name, value in query.filters:
            if name not in FACET_FIELDS:
                raise ValueError(f"cannot filter by {name!r}")
            params.append(("fq", f"{{!term f={name}}}{value}"))
        if facet_fields:
            params += [("facet", "true"), ("facet.mincount", "1"), ("facet.limit", "-1")]
            params += [("facet.field", name) for name in facet_fields]
        answer = self.select(params)
        counts = (answer.get("facet_counts") or {}).get("facet_fields") or {}
        return EngineResults(
            hits=[
                EngineHit(int(doc["django_id"]), round(float(doc.get("score") or 0.0), 4))
                for doc in answer["response"]["docs"]
            ],
            total=int(answer["response"]["numFound"]),
            facets={name: _pairs(counts.get(name, [])) for name in facet_fields},
        )

    def _compile(self, parsed):
        if parsed.is_empty:
            return None  # only exclusions, or stop words: nothing to expand
        expansions = {}
        for prefix in query_compiler.prefixes(parsed):
            expansions.update(self._expand_prefix(prefix))
        return query_compiler.build(parsed, expansions)

    def _expand_prefix(self, prefix):
        """{(field, prefix): (the commonest words starting with it, more?)}
        for the fields a prefix searches, from the terms component."""
        limit = query_compiler.PREFIX_TERMS
        params = [("q", "*:*"), ("rows", "0"), ("terms", "true"), ("terms.prefix", prefix)]
        params += [("terms.limit", str(limit + 1)), ("terms.sort", "count"), ("terms.mincount", "1")]
        params += [("terms.fl", name) for name in query_compiler.PREFIX_FIELDS]
        found = self.select(params).get("terms") or {}
        expansions = {}
        for name in query_compiler.PREFIX_FIELDS:
            words = list(_pairs(found.get(name, [])))
            expansions[(name, prefix)] = (words[:limit], len(words) > limit)
        return expansions

    def related(self, article, limit):
        # As Whoosh's more_like(): the article's key terms, or-ed with their
        # weights, every document holding one of them scored.
        if limit <= 0:
            return []
        key_terms = self.key_terms(article)
        like = query_compiler.related_query(key_terms or [], identifier(article.pk))
        if like is NOTHING:
            return []
        answer = self.select(
            [
                ("q", query_compiler.to_lucene(like)),
                ("fq", "{!term f=django_ct}" + ARTICLE_CT),
                ("sort", "score desc,pk asc"),
                ("rows", str(limit)),
                ("fl", "django_id"),
                STATS_FIELDS,
            ]
        )
        return [int(doc["django_id"]) for doc in answer["response"]["docs"]]

    def key_terms(self, article):
        """The article's key terms [(stem, weight)] as Whoosh picks them: Bo1
        over the stems of title, title, lead and body, with the collection's
        counts from the terms component (one request); None when the article
        is not indexed (as Whoosh, no related stories then)."""
        ident = identifier(article.pk)
        text = "\n".join([article.title, article.title, article.lead or "", article.body or ""])
        in_text = key_terms_model.text_weights(field_tokens(text, "stem"))
        # The terms component takes a comma-separated list.
        words = [word for word in in_text if "," not in word]
        if not words:
            return []
        stats = self.select(
            [
                ("q", "*:*"),
                ("rows", "0"),
                ("facet", "true"),
                ("facet.query", "{!term f=id}" + ident),
                ("terms", "true"),
                ("terms.fl", "text"),
                ("terms.list", ",".join(words)),
                ("terms.ttf", "true"),
                ("terms.limit", "-1"),  # else 10 of the list, whatever their counts
            ]
        )
        if not (stats.get("facet_counts") or {}).get("facet_queries", {}).get("{!term f=id}" + ident):
            return None
        in_collection = {
            word: documents.collection_weight(counts["ttf"])
            for word, counts in _term_stats(stats.get("terms", {}).get("text", [])).items()
        }
        return key_terms_model.key_terms(
            {word: in_text[word] for word in words}, in_collection, stats["response"]["numFound"]
        )

    def doc_frequency(self, word):
        if not word:
            return 0
        return self._count("{!term f=exact}" + word)

    def spelling_candidates(self, word, max_edits):
        # The spellcheck component finds the words (a Levenshtein automaton
        # over the exact forms); its frequencies add up only the shards that
        # listed a word, so the documents are counted here, as doc_frequency
        # counts them.
        if not word:
            return {}
        answer = self.select(
            [
                ("q", "*:*"),
                ("rows", "0"),
                ("spellcheck", "true"),
                ("spellcheck.dictionary", "exact"),
                ("spellcheck.q", word),
                ("spellcheck.count", str(SPELLING_SUGGESTIONS)),
                ("spellcheck.alternativeTermCount", str(SPELLING_SUGGESTIONS)),
                ("spellcheck.extendedResults", "true"),
                ("spellcheck.collate", "false"),
                ("json.nl", "map"),
            ]
        )
        found = spelling.suggested_frequencies(answer, word)
        close = spelling.within(word, dict.fromkeys([word, *found], 1), max_edits)
        counts = self.doc_frequencies(close)
        return {candidate: count for candidate, count in counts.items() if count > 0}

    def doc_frequencies(self, words):
        """{word: documents holding the exact form}, in one request."""
        queries = {"{!term f=exact}" + word: word for word in words if word}
        if not queries:
            return {}
        answer = self.select(
            [("q", "*:*"), ("rows", "0"), ("facet", "true")] + [("facet.query", query) for query in queries]
        )
        counts = (answer.get("facet_counts") or {}).get("facet_queries") or {}
        return {word: int(counts.get(query, 0)) for query, word in queries.items()}

    def document_count(self):
        return self._count("*:*")

    def warm_up(self):
        return self.document_count()

    # -- writing --------------------------------------------------------------

    @contextmanager
    def write_lock(self, lock_wait=None, still_needed=None):
        """The database lock of this alias (test sessions and sites sharing a
        database server each write their own collection)."""
        from articles.search import locks

        with locks.database_lock(
            f"search-index-solr-{self.collection}", lock_wait, still_needed=still_needed
        ) as held:
            yield held

    @contextmanager
    def batch(self):
        writer = SolrBatch(self.nodes, self.collection, article_index())
        yield writer
        writer.commit()

    def clear(self):
        writer = SolrBatch(self.nodes, self.collection, article_index())
        writer.remove_everything()
        writer.commit()

    def rebuild(self, progress=None, lock_wait=None, **_options):
        """Index every article into a new collection beside the live one, then
        move the alias to it and delete the old one."""
        lock_wait = REBUILD_LOCK_WAIT if lock_wait is None else lock_wait
        with self.write_lock(lock_wait):
            configset = self.admin.upload_configset()
            old = self._live_collections()
            shards, replicas = self.admin.layout(old[0]) if old else (self.shards, self.replicas)
            new = new_collection_name(self.collection)
            try:
                self.admin.create_collection(new, configset, shards, replicas)
                total = index_everything(self.nodes, new, article_index(), progress)
                self.admin.point_alias(self.collection, new)
            except BaseException:
                self._delete_quietly(new)
                raise
            for name in old:
                if name != new:
                    self._delete_quietly(name)
            try:
                self.admin.delete_unused_configsets(keep=configset)
            except Exception:
                logger.exception("could not delete unused Solr configsets")
        return total

    def _delete_quietly(self, collection):
        try:
            self.admin.delete_collection(collection)
        except Exception:
            logger.exception("could not delete the Solr collection %s", collection)

    def _live_collections(self):
        """The collections the alias names ([] if none)."""
        targets = self.admin.alias_targets(self.collection)
        if not targets and self.collection in self.admin.collections():
            raise EngineUnavailable(
                f"{self.collection!r} is a Solr collection, not an alias: a rebuild cannot replace it in one step"
            )
        return targets

    def indexed_documents(self):
        cursor = "*"
        while True:
            answer = self.select(
                [
                    ("q", "*:*"),
                    ("sort", "id asc"),
                    ("rows", str(CURSOR_ROWS)),
                    ("fl", ",".join(("id", *COMPARED))),
                    ("cursorMark", cursor),
                ]
            )
            for doc in answer["response"]["docs"]:
                yield IndexedDocument(
                    identifier=str(doc["id"]),
                    fields={name: doc.get(name, [] if name == "topics" else None) for name in COMPARED},
                )
            following = answer.get("nextCursorMark")
            if not following or following == cursor:
                return
            cursor = following

    def setup(self, stdout=None, shards=None, replicas=None):
        """Upload the configset and create the first collection and its alias
        if they are missing; says what it did. Idempotent."""

        def say(line):
            if stdout is not None:
                stdout.write(line)

        configset = self.admin.upload_configset()
        say(f"Solr configset {configset} is uploaded.")
        targets = self.admin.alias_targets(self.collection)
        if targets:
            say(f"Alias {self.collection} names {', '.join(targets)}: nothing to create.")
            return
        if self.collection in self.admin.collections():
            say(f"{self.collection} is a collection, not an alias: left as it is (rebuilds need an alias).")
            return
        name = new_collection_name(self.collection)
        shards, replicas = shards or self.shards, replicas or self.replicas
        self.admin.create_collection(name, configset, shards, replicas)
        self.admin.point_alias(self.collection, name)
        say(f"Created collection {name} ({shards} shards x {replicas} replicas) and alias {self.collection}.")

    # -- health ---------------------------------------------------------------

    def problem(self):
        try:
            targets = self.admin.alias_targets(self.collection)
            status = self.admin.cluster_status()
        except EngineUnavailable:
            return f"No Solr node answers at {self.nodes.describe()}."
        collections = status.get("collections", {})
        if not targets:
            if self.collection not in collections:
                return f"The Solr alias {self.collection!r} does not exist: run manage.py setup_search."
            targets = [self.collection]
        live = set(status.get("live_nodes", []))
        for name in targets:
            state = collections.get(name)
            if state is None:
                return f"The Solr alias {self.collection!r} names {name!r}, which does not exist."
            for shard_name, shard in sorted(state.get("shards", {}).items()):
                replicas = shard.get("replicas", {}).values()
                if not any(r.get("state") == "active" and r.get("node_name") in live for r in replicas):
                    return f"Shard {shard_name} of the Solr collection {name} has no active replica (nodes down?)."
        missing = self._missing_fields(targets[0])
        if missing:
            return (
                f"The Solr collection {targets[0]} lacks the fields {', '.join(missing)}: rebuild the index."
            )
        return None

    def _missing_fields(self, collection):
        declared = {"id", "django_ct", "django_id"}
        declared.update(field.index_fieldname for field in article_index().fields.values())
        answer = self.nodes.get(f"{collection}/schema/fields", params={"wt": "json"})
        present = {field["name"] for field in answer.get("fields", [])}
        return sorted(declared - present)


def _pairs(flat):
    """{value: count} from Solr's flat [value, count, value, count, ...]."""
    if isinstance(flat, dict):
        return {str(key): int(value) for key, value in flat.items()}
    return {str(flat[i]): int(flat[i + 1]) for i in range(0, len(flat) - 1, 2)}


def _term_stats(flat):
    """{term: {"df": n, "ttf": n}} from the terms component's list answer."""
    if isinstance(flat, dict):
        return flat
    return {str(flat[i]): flat[i + 1] for i in range(0, len(flat) - 1, 2)}
