"""Measuring search quality: relevance metrics, TREC files, and the engines compared.

`python manage.py evaluate_search` runs one query file through several
engines (ours, haystack's stock Whoosh, SQLite FTS5) on the same articles and
scores them against graded judgments; see bench/relevance/README.md.
"""
