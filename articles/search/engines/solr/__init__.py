"""The SolrCloud engine: one collection alias on a cluster of Solr nodes.

    engine.py          SolrEngine, the SearchEngine the rest of Newsroom sees
    transport.py       HTTP to whichever node answers (a stopped node is skipped)
    documents.py       articles as Solr documents, text pre-analysed by our code
    query_compiler.py  a ParsedQuery as a Lucene query string, escaped
    cluster_admin.py   Configset and Collections API: configset, collections, alias

The configset is in solr/configsets/newsroom/conf; `manage.py setup_search`
uploads it and creates the first collection and its alias.
"""
