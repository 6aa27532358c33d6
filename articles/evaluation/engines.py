"""The search engines an evaluation compares, all over the articles in the database.

Every engine answers `search(text, limit) -> [docid, ...]`, best first, where
a docid is the article's corpus id (Article.external_id), so runs can be
scored against qrels written for the corpus and beside the peer harness.

- ours: articles.search.service.search_articles, the code path of the
  search page and /api/search, relevance order.
- whoosh-default: haystack's stock WhooshSearchBackend (English
  StemmingAnalyzer) on a temporary index of the same articles, queried the
  way haystack does it: SearchQuerySet().auto_query(text).
- sqlite-fts5 / sqlite-fts5-and: an in-memory FTS5 table (tokenize
  'unicode61 remove_diacritics 2', bm25 with the title weighted 2), each
  whitespace-separated word quoted and joined with OR (or AND).
"""
import shutil
import sqlite3
import tempfile
import time

SQLITE_TOKENIZE = "unicode61 remove_diacritics 2"
SQLITE_TITLE_WEIGHT = 2.0
WHOOSH_DEFAULT_ALIAS = "evaluation-whoosh-default"


def article_docid(external_id, pk):
    """The id an article has in run and qrels files: its corpus id when imported."""
    return external_id or f"article-{pk}"


def _docids_by_pk():
    from articles.models import Article

    return {pk: article_docid(ext, pk) for pk, ext in Article.objects.values_list("pk", "external_id")}


class Engine:
    name = ""
    description = ""
    build_seconds = 0.0

    def search(self, text, limit):
        raise NotImplementedError

    def close(self):
        pass


class OursEngine(Engine):
    name = "ours"
    description = "Newsroom: Arabic analyzer, service.search_articles"

    def search(self, text, limit):
        from articles.search.service import SearchRequest, search_articles

        page = search_articles(SearchRequest(q=text, sort="relevance", page=1, page_size=limit))
        return [article_docid(hit.article.external_id, hit.article.pk) for hit in page.hits]


class WhooshDefaultEngine(Engine):
    name = "whoosh-default"
    description = "haystack's stock WhooshSearchBackend (StemmingAnalyzer), auto_query"

    def __init__(self):
        from haystack import connections

        from articles.models import Article

        self._dir = tempfile.mkdtemp(prefix="newsroom-whoosh-default-")
        connections.connections_info[WHOOSH_DEFAULT_ALIAS] = {
            "ENGINE": "haystack.backends.whoosh_backend.WhooshEngine",
            "PATH": self._dir,
        }
        started = time.perf_counter()
        connection = connections[WHOOSH_DEFAULT_ALIAS]
        index = connection.get_unified_index().get_index(Article)
        queryset = index.index_queryset(using=WHOOSH_DEFAULT_ALIAS)
        connection.get_backend().update(index, list(queryset))
        self.build_seconds = time.perf_counter() - started
        self._docids = _docids_by_pk()

    def search(self, text, limit):
        from haystack.query import SearchQuerySet

        from articles.models import Article

        results = SearchQuerySet(using=WHOOSH_DEFAULT_ALIAS).models(Article).auto_query(text)[:limit]
        return [self._docids[int(result.pk)] for result in results if int(result.pk) in self._docids]

    def close(self):
        from haystack import connections

        # connections_info is settings.HAYSTACK_CONNECTIONS itself: leave it as found.
        connections.connections_info.pop(WHOOSH_DEFAULT_ALIAS, None)
        getattr(connections.thread_local, "connections", {}).pop(WHOOSH_DEFAULT_ALIAS, None)
        shutil.rmtree(self._dir, ignore_errors=True)


class SQLiteFTS5Engine(Engine):
    name = "sqlite-fts5"
    operator = " OR "
    description = f"SQLite FTS5 ({SQLITE_TOKENIZE}), bm25 title x{SQLITE_TITLE_WEIGHT:g}, words ORed"

    def __init__(self):
        from articles.models import Article

        started = time.perf_counter()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(
            f"CREATE VIRTUAL TABLE docs USING fts5(docid UNINDEXED, title, body, tokenize = '{SQLITE_TOKENIZE}')"
        )
        self._db.execute(f"INSERT INTO docs(docs, rank) VALUES('rank', 'bm25(0.0, {SQLITE_TITLE_WEIGHT}, 1.0)')")
        rows = Article.objects.values_list("pk", "external_id", "title", "body").iterator(chunk_size=2000)
        self._db.executemany(
            "INSERT INTO docs(docid, title, body) VALUES (?, ?, ?)",
            ((article_docid(ext, pk), title, body) for pk, ext, title, body in rows),
        )
        self._db.execute("INSERT INTO docs(docs) VALUES('optimize')")
        self.build_seconds = time.perf_counter() - started

    def match_expression(self, text):
        """Each whitespace-separated chunk as one quoted FTS5 string, so no FTS5
        syntax in the text can leak in (the peer harness does the same)."""
        chunks = ['"' + chunk.replace('"', '""') + '"' for chunk in text.split() if any(ch.isalnum() for ch in chunk)]
        return self.operator.join(chunks) or None

    def search(self, text, limit):
        expression = self.match_expression(text)
        if expression is None:
            return []
        rows = self._db.execute(
            "SELECT docid FROM docs WHERE docs MATCH ? ORDER BY rank LIMIT ?", (expression, limit)
        ).fetchall()
        return [docid for (docid,) in rows]

    def close(self):
        self._db.close()


class SQLiteFTS5AndEngine(SQLiteFTS5Engine):
    name = "sqlite-fts5-and"
    operator = " AND "
    description = f"SQLite FTS5 ({SQLITE_TOKENIZE}), bm25 title x{SQLITE_TITLE_WEIGHT:g}, all words"


ENGINES = {engine.name: engine for engine in (OursEngine, WhooshDefaultEngine, SQLiteFTS5Engine, SQLiteFTS5AndEngine)}
DEFAULT_ENGINES = ("ours", "whoosh-default", "sqlite-fts5")
