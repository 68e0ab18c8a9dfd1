"""One table definition: the PynamoDB model and CreateTable request derive from TABLE_SPEC."""

from __future__ import annotations

from mastra_dynamo.models import BoundSettings, bind, model_schema
from mastra_dynamo.schema.table import TABLE_SPEC


def test_pynamodb_model_matches_the_table_spec() -> None:
    schema = model_schema(bind(BoundSettings("t", "us-east-1")))
    assert schema["partition_key"] == TABLE_SPEC.partition_key
    assert schema["sort_key"] == TABLE_SPEC.sort_key
    assert schema["ttl_attribute"] == TABLE_SPEC.ttl_attribute
    assert schema["gsis"] == {g.name: (g.partition_key, g.sort_key, g.projection, g.non_key_attributes)
                              for g in TABLE_SPEC.gsis}
    assert set(schema["attribute_types"]) == set(TABLE_SPEC.key_attributes)
    assert set(schema["attribute_types"].values()) == {"S"}


def test_each_binding_gets_its_own_model_class() -> None:
    a = bind(BoundSettings("table-a", "us-east-1"))
    b = bind(BoundSettings("table-b", "eu-west-1", "http://127.0.0.1:8000"))
    assert a is not b
    assert a.Meta.table_name == "table-a" and b.Meta.table_name == "table-b"
    assert b.Meta.host == "http://127.0.0.1:8000"


def test_create_table_request_matches_spec_and_has_no_lsi() -> None:
    request = TABLE_SPEC.create_table_request("x")
    assert "LocalSecondaryIndexes" not in request
    assert [g["IndexName"] for g in request["GlobalSecondaryIndexes"]] == [g.name for g in TABLE_SPEC.gsis]
    described = {**request, "GlobalSecondaryIndexes": request["GlobalSecondaryIndexes"]}
    ttl = {"TimeToLiveStatus": "ENABLED", "AttributeName": TABLE_SPEC.ttl_attribute}
    assert TABLE_SPEC.describe_mismatches(described, ttl) == []


def test_mismatches_are_reported_with_actionable_text() -> None:
    request = TABLE_SPEC.create_table_request("x")
    request["GlobalSecondaryIndexes"] = request["GlobalSecondaryIndexes"][:2]
    problems = TABLE_SPEC.describe_mismatches(request, {"TimeToLiveStatus": "DISABLED"})
    assert any("gsi3" in p and "missing" in p for p in problems)
    assert any("time to live" in p for p in problems)
