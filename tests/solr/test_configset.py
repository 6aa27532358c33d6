"""Our Solr configset agrees with the code that writes and queries it: the
fields of the index declaration, BM25's parameters scaled as documents.py
scales frequencies, distributed IDF. No cluster needed."""

import io
import xml.etree.ElementTree as ET
import zipfile

import pytest

from articles.search import query
from articles.search.documents import article_index
from articles.search.engines.solr import cluster_admin, documents
from articles.search.fields import ArabicTextField

CONF = cluster_admin.CONFIGSET_DIR


@pytest.fixture(scope="module")
def schema():
    return ET.parse(CONF / "schema.xml").getroot()


def field_types(schema):
    return {node.get("name"): node for node in schema.findall("fieldType")}


def bm25(field_type):
    similarity = field_type.find("similarity")
    assert similarity is not None and similarity.get("class") == "solr.BM25SimilarityFactory"
    return {node.get("name"): node.text for node in similarity}


def test_every_declared_field_is_in_the_schema_with_its_analysis(schema):
    fields = {node.get("name"): node for node in schema.findall("field")}
    types = field_types(schema)
    for field in article_index().fields.values():
        node = fields[field.index_fieldname]
        field_type = types[node.get("type")]
        if isinstance(field, ArabicTextField):
            assert field_type.get("class") == "solr.PreAnalyzedField"
            assert node.get("stored") == "false"
            # Stems are searched by phrases: they need positions.
            assert (field_type.get("omitPositions") == "true") == (field.form != "stem")
    assert schema.findtext("uniqueKey") == "id"
    assert fields["topics"].get("multiValued") == "true"
    assert types[fields["published"].get("type")].get("sortMissingLast") == "true"


def test_bm25_parameters_are_ours_with_k1_scaled_like_the_frequencies(schema):
    types = field_types(schema)
    fields = {node.get("name"): node.get("type") for node in schema.findall("field")}
    for name in (*query.TEXT_FIELDS, "exact", "skeleton"):
        parameters = bm25(types[fields[name]])
        assert float(parameters["k1"]) == pytest.approx(query.BM25_K1 * documents.TF_SCALE)
        assert float(parameters["b"]) == pytest.approx(query.BM25_FIELD_B.get(name, query.BM25_B))
        assert parameters["discountOverlaps"] == "false"
    assert schema.find("similarity").get("class") == "solr.SchemaSimilarityFactory"


def test_text_fields_are_split_on_spaces_at_query_time(schema):
    for field_type in field_types(schema).values():
        if field_type.get("class") == "solr.PreAnalyzedField":
            (analyzer,) = field_type.findall("analyzer")
            assert analyzer.get("type") == "query"
            assert analyzer.find("tokenizer").get("class") == "solr.WhitespaceTokenizerFactory"


def test_shards_share_their_statistics_and_changes_show_within_a_second():
    config = ET.parse(CONF / "solrconfig.xml").getroot()
    assert config.find("statsCache").get("class") == "org.apache.solr.search.stats.ExactStatsCache"
    soft = config.findtext("updateHandler/autoSoftCommit/maxTime")
    assert int(soft.split(":")[-1].rstrip("}")) <= 1000


def test_the_uploaded_zip_holds_the_configset_and_its_name_follows_its_content():
    files = cluster_admin.configset_files()
    names = zipfile.ZipFile(io.BytesIO(cluster_admin.configset_zip(files))).namelist()
    assert sorted(names) == sorted(files) and "schema.xml" in names and "solrconfig.xml" in names
    assert cluster_admin.configset_name(files) == cluster_admin.configset_name(dict(files))
    changed = dict(files, **{"schema.xml": files["schema.xml"] + b" "})
    assert cluster_admin.configset_name(changed) != cluster_admin.configset_name(files)
