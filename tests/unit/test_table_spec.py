"""One table definition: the PynamoDB item model and its CreateTable request derive from TABLE_SPEC."""

from __future__ import annotations

from typing import Any

from mastra_dynamo.models import create_table_request, model_schema
from mastra_dynamo.models.base import TableItem
from mastra_dynamo.schema.table import TABLE_SPEC


def test_pynamodb_model_matches_the_table_spec() -> None:
    schema = model_schema(TableItem)
    assert schema["partition_key"] == TABLE_SPEC.partition_key
    assert schema["sort_key"] == TABLE_SPEC.sort_key
    assert schema["ttl_attribute"] == TABLE_SPEC.ttl_attribute
    assert schema["gsis"] == {g.name: (g.partition_key, g.sort_key, g.projection, g.non_key_attributes)
                              for g in TABLE_SPEC.gsis}
    assert set(schema["attribute_types"]) == set(TABLE_SPEC.key_attributes)
    assert set(schema["attribute_types"].values()) == {"S"}


def test_the_models_create_table_request_is_the_specs() -> None:
    """What DynamoDBStore.create_table sends (from the item model) equals the spec's own request, index by index."""
    ours, spec = create_table_request("t"), TABLE_SPEC.create_table_request("t")

    def by_name(items: list[dict[str, Any]], key: str) -> dict[str, Any]:
        return {i[key]: i for i in items}

    assert ours["TableName"] == "t" and ours["BillingMode"] == "PAY_PER_REQUEST"
    assert by_name(ours["AttributeDefinitions"], "AttributeName") == by_name(spec["AttributeDefinitions"],
                                                                             "AttributeName")
    assert sorted(ours["KeySchema"], key=str) == sorted(spec["KeySchema"], key=str)
    ours_gsis, spec_gsis = by_name(ours["GlobalSecondaryIndexes"], "IndexName"), by_name(
        spec["GlobalSecondaryIndexes"], "IndexName")
    assert ours_gsis.keys() == spec_gsis.keys()
    for name, gsi in ours_gsis.items():
        assert sorted(gsi["KeySchema"], key=str) == sorted(spec_gsis[name]["KeySchema"], key=str)
        assert gsi["Projection"] == spec_gsis[name]["Projection"]


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
