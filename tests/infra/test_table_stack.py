"""The table stack: layout from TABLE_SPEC, secure defaults, billing and encryption options, outputs."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Match

from mastra_dynamo.schema import TABLE_SPEC
from tests.infra.conftest import Synth, resources, single

TABLE = "AWS::DynamoDB::Table"


def _key_schema(hash_key: str, range_key: str) -> list[dict[str, str]]:
    return [{"AttributeName": hash_key, "KeyType": "HASH"}, {"AttributeName": range_key, "KeyType": "RANGE"}]


def _expected_gsis(**extra: Any) -> list[dict[str, Any]]:
    return [
        {"IndexName": g.name, "KeySchema": _key_schema(g.partition_key, g.sort_key),
         "Projection": g.projection_request(), **extra}
        for g in TABLE_SPEC.gsis
    ]


def test_keys_gsis_and_ttl_equal_the_table_spec(default_synth: Synth) -> None:
    default_synth.storage.has_resource_properties(TABLE, {
        "KeySchema": _key_schema(TABLE_SPEC.partition_key, TABLE_SPEC.sort_key),
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"} for n in TABLE_SPEC.key_attributes],
        "GlobalSecondaryIndexes": _expected_gsis(),
        "TimeToLiveSpecification": {"AttributeName": TABLE_SPEC.ttl_attribute, "Enabled": True},
    })
    assert "LocalSecondaryIndexes" not in single(default_synth.storage, TABLE)["Properties"]


def test_defaults_on_demand_pitr_sse_deletion_protection_retain(default_synth: Synth) -> None:
    template = default_synth.storage
    template.resource_count_is(TABLE, 1)
    template.has_resource(TABLE, {
        "Properties": Match.object_like({
            "BillingMode": "PAY_PER_REQUEST",
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "SSESpecification": {"SSEEnabled": True},  # AWS-managed KMS key (aws/dynamodb)
            "DeletionProtectionEnabled": True,
        }),
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
    })
    props = single(template, TABLE)["Properties"]
    assert "ProvisionedThroughput" not in props and "TableName" not in props
    template.resource_count_is("AWS::KMS::Key", 0)
    template.resource_count_is("AWS::ApplicationAutoScaling::ScalableTarget", 0)


def test_outputs_table_name_and_arn(default_synth: Synth) -> None:
    template = default_synth.storage
    table_id = next(iter(resources(template, TABLE)))
    template.has_output("TableName", {"Value": {"Ref": table_id}})
    template.has_output("TableArn", {"Value": {"Fn::GetAtt": [table_id, "Arn"]}})


def test_provisioned_option_autoscales_table_and_every_gsi(variant_synth: Synth) -> None:
    template = variant_synth.storage
    template.has_resource_properties(TABLE, {
        "BillingMode": Match.absent(),  # CloudFormation's default is PROVISIONED
        "ProvisionedThroughput": {"ReadCapacityUnits": 2, "WriteCapacityUnits": 3},
        "GlobalSecondaryIndexes": _expected_gsis(
            ProvisionedThroughput={"ReadCapacityUnits": 2, "WriteCapacityUnits": 3}
        ),
    })
    targets = [r["Properties"] for r in resources(template, "AWS::ApplicationAutoScaling::ScalableTarget").values()]
    dimensions = sorted(t["ScalableDimension"] for t in targets)
    expected_units = 1 + len(TABLE_SPEC.gsis)  # table + each GSI, for reads and for writes
    assert dimensions == sorted(
        ["dynamodb:table:ReadCapacityUnits", "dynamodb:table:WriteCapacityUnits"]
        + ["dynamodb:index:ReadCapacityUnits", "dynamodb:index:WriteCapacityUnits"] * (expected_units - 1)
    )
    bounds = {(t["ScalableDimension"].endswith("ReadCapacityUnits"), t["MinCapacity"], t["MaxCapacity"])
              for t in targets}
    assert bounds == {(True, 2, 40), (False, 3, 50)}
    index_targets = [json.dumps(t["ResourceId"]) for t in targets if "index" in t["ScalableDimension"]]
    for gsi in TABLE_SPEC.gsis:
        assert sum(f"/index/{gsi.name}" in rid for rid in index_targets) == 2
    policies = resources(template, "AWS::ApplicationAutoScaling::ScalingPolicy").values()
    assert len(policies) == 2 * expected_units
    assert {p["Properties"]["TargetTrackingScalingPolicyConfiguration"]["TargetValue"] for p in policies} == {65}


def test_customer_managed_key_option(variant_synth: Synth) -> None:
    template = variant_synth.storage
    key_id = next(iter(resources(template, "AWS::KMS::Key")))
    template.has_resource("AWS::KMS::Key", {
        "Properties": Match.object_like({"EnableKeyRotation": True}),
        "DeletionPolicy": "Retain",
    })
    template.has_resource_properties(TABLE, {
        "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}},
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "DeletionProtectionEnabled": True,
    })

