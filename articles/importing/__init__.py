"""Importing articles: files in, articles saved, problems reported.

- raw_text: a saved news page's text -> RawArticle (title, body, lead, source, date)
- records: one record checked and cleaned -> ArticleRecord, or RecordError
- readers: which files, in which format, record by record (Problems for the bad ones)
- service: import_paths(paths, ImportOptions(...)) -> ImportReport; the one entry point
- report: Location, Problem, ImportReport and the progress protocol

`manage.py import_articles` only parses its arguments and calls service.import_paths.
"""
