"""One spec, two consumers: the table the CDK stack defines IS the table the library creates locally.

Three views of the layout are reduced to one canonical form and compared: the synthesized
``AWS::DynamoDB::GlobalTable`` (a ``TableV2``), ``TABLE_SPEC.create_table_request(...)`` (+ its TTL attribute), and what
``DynamoDBStore.create_table()`` actually produces (moto: DescribeTable + DescribeTimeToLive). The library's
own ``init()`` check (``TABLE_SPEC.describe_mismatches``) must also accept the CDK table.
"""

from __future__ import annotations

from typing import Any

import boto3
from moto import mock_aws

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.schema import TABLE_SPEC
from tests.infra.conftest import Synth, single


def canonical(table: dict[str, Any], ttl_attribute: str | None) -> dict[str, Any]:
    """Order-insensitive layout: keys, attribute types, GSIs (keys + projection), TTL attribute."""

    def keys(schema: list[dict[str, str]]) -> tuple[tuple[str, str], ...]:
        return tuple(sorted((k["KeyType"], k["AttributeName"]) for k in schema))

    return {
        "KeySchema": keys(table["KeySchema"]),
        "AttributeDefinitions": sorted((a["AttributeName"], a["AttributeType"]) for a in table["AttributeDefinitions"]),
        "GlobalSecondaryIndexes": sorted(
            (g["IndexName"], keys(g["KeySchema"]), g["Projection"]["ProjectionType"],
             tuple(sorted(g["Projection"].get("NonKeyAttributes") or ())))
            for g in table.get("GlobalSecondaryIndexes") or []
        ),
        "LocalSecondaryIndexes": sorted(i["IndexName"] for i in table.get("LocalSecondaryIndexes") or []),
        "TimeToLive": ttl_attribute,
    }


def cdk_layout(synth: Synth) -> dict[str, Any]:
    props = single(synth.storage, "AWS::DynamoDB::GlobalTable")["Properties"]
    ttl = props.get("TimeToLiveSpecification") or {}
    return canonical(props, ttl.get("AttributeName") if ttl.get("Enabled") else None)


def library_layout_on_moto() -> dict[str, Any]:
    with mock_aws():
        store = DynamoDBStore(id="parity", table_name="mastra-parity", region="us-east-1")
        store.create_table()
        client = boto3.client("dynamodb", region_name="us-east-1")
        table = client.describe_table(TableName="mastra-parity")["Table"]
        ttl = client.describe_time_to_live(TableName="mastra-parity")["TimeToLiveDescription"]
        store.close()
    enabled = ttl.get("TimeToLiveStatus") in {"ENABLED", "ENABLING"}
    return canonical(table, ttl.get("AttributeName") if enabled else None)


def test_cdk_table_equals_spec_request_and_library_created_table(
    default_synth: Synth, variant_synth: Synth, global_synth: Synth
) -> None:
    spec = canonical(TABLE_SPEC.create_table_request("mastra-parity"), TABLE_SPEC.ttl_attribute)
    assert spec["GlobalSecondaryIndexes"] and spec["TimeToLive"] == "ttl"
    assert cdk_layout(default_synth) == spec
    assert cdk_layout(variant_synth) == spec  # billing/encryption options never change the layout
    assert cdk_layout(global_synth) == spec  # nor do replicas, ceilings, insights, alarms or backups
    assert library_layout_on_moto() == spec


def test_library_init_check_accepts_the_cdk_table(default_synth: Synth) -> None:
    props = single(default_synth.storage, "AWS::DynamoDB::GlobalTable")["Properties"]
    ttl = props["TimeToLiveSpecification"]
    described_ttl = {"TimeToLiveStatus": "ENABLED" if ttl["Enabled"] else "DISABLED",
                     "AttributeName": ttl["AttributeName"]}
    assert TABLE_SPEC.describe_mismatches(props, described_ttl) == []
