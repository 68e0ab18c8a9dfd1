"""The table stack: layout from TABLE_SPEC, secure defaults, billing and encryption options, global tables,
alarms, backups, parameters and outputs."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Match

from infra.app import ConfigError, Settings
from infra.components.storage_table import MastraStorageTable
from mastra_dynamo.global_table import MRSC_SOURCE
from mastra_dynamo.schema import TABLE_SPEC
from tests.infra.conftest import GLOBAL_REGION, Synth, resources, single

TABLE = "AWS::DynamoDB::GlobalTable"


def _key_schema(hash_key: str, range_key: str) -> list[dict[str, str]]:
    return [{"AttributeName": hash_key, "KeyType": "HASH"}, {"AttributeName": range_key, "KeyType": "RANGE"}]


def _expected_gsis(**extra: Any) -> list[dict[str, Any]]:
    return [
        {"IndexName": g.name, "KeySchema": _key_schema(g.partition_key, g.sort_key),
         "Projection": g.projection_request(), **extra}
        for g in TABLE_SPEC.gsis
    ]


def _replicas(synth: Synth) -> list[dict[str, Any]]:
    replicas: list[dict[str, Any]] = single(synth.storage, TABLE)["Properties"]["Replicas"]
    return replicas


def test_keys_gsis_and_ttl_equal_the_table_spec(default_synth: Synth, global_synth: Synth) -> None:
    for synth in (default_synth, global_synth):
        synth.storage.has_resource_properties(TABLE, {
            "KeySchema": _key_schema(TABLE_SPEC.partition_key, TABLE_SPEC.sort_key),
            "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"} for n in TABLE_SPEC.key_attributes],
            "GlobalSecondaryIndexes": _expected_gsis(
                **({"WriteOnDemandThroughputSettings": {"MaxWriteRequestUnits": 500}}
                   if synth is global_synth else {})),
            "TimeToLiveSpecification": {"AttributeName": TABLE_SPEC.ttl_attribute, "Enabled": True},
        })
        assert "LocalSecondaryIndexes" not in single(synth.storage, TABLE)["Properties"]


def test_defaults_single_region_on_demand_pitr_sse_deletion_protection_retain(default_synth: Synth) -> None:
    template = default_synth.storage
    template.resource_count_is(TABLE, 1)
    template.has_resource(TABLE, {
        "Properties": Match.object_like({
            "BillingMode": "PAY_PER_REQUEST",
            "SSESpecification": {"SSEEnabled": True},  # AWS-managed KMS key (aws/dynamodb)
        }),
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
    })
    props = single(template, TABLE)["Properties"]
    assert "TableName" not in props and "MultiRegionConsistency" not in props
    assert props["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}  # no key named: aws/dynamodb
    (replica,) = props["Replicas"]  # one replica, in the stack's Region: a single-Region table
    assert replica["Region"] == {"Ref": "AWS::Region"}
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert replica["DeletionProtectionEnabled"] is True
    assert replica["ContributorInsightsSpecification"] == {"Enabled": False}
    assert "ReadOnDemandThroughputSettings" not in replica and "WriteOnDemandThroughputSettings" not in props
    for kind in ("AWS::KMS::Key", "AWS::CloudWatch::Alarm", "AWS::SNS::Topic", "AWS::Backup::BackupPlan",
                 "AWS::ApplicationAutoScaling::ScalableTarget"):
        template.resource_count_is(kind, 0)
    assert default_synth.stacks == ["MastraStorage"]  # `cdk deploy --all` deploys the table alone


def test_outputs_and_ssm_parameters_name_the_table(default_synth: Synth) -> None:
    template = default_synth.storage
    table_id = next(iter(resources(template, TABLE)))
    template.has_output("TableName", {"Value": {"Ref": table_id}})
    template.has_output("TableArn", {"Value": {"Fn::GetAtt": [table_id, "Arn"]}})
    parameters = {p["Properties"]["Name"]: p["Properties"]["Value"]
                  for p in resources(template, "AWS::SSM::Parameter").values()}
    assert parameters == {"/mastra-dynamo/MastraStorage/table-name": {"Ref": table_id},
                          "/mastra-dynamo/MastraStorage/table-arn": {"Fn::GetAtt": [table_id, "Arn"]}}
    for output in default_synth.template_json("MastraStorage")["Outputs"].values():
        assert "Export" not in output  # nothing another stack could lock


def test_provisioned_option_autoscales_table_and_every_gsi(variant_synth: Synth) -> None:
    props = single(variant_synth.storage, TABLE)["Properties"]
    autoscaled = {"MinCapacity": 3, "MaxCapacity": 50, "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 65}}
    reads = {"MinCapacity": 2, "MaxCapacity": 40, "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 65}}
    assert props["BillingMode"] == "PROVISIONED"
    assert props["WriteProvisionedThroughputSettings"] == {"WriteCapacityAutoScalingSettings": autoscaled}
    assert props["GlobalSecondaryIndexes"] == _expected_gsis(
        WriteProvisionedThroughputSettings={"WriteCapacityAutoScalingSettings": autoscaled})
    (replica,) = props["Replicas"]
    assert replica["ReadProvisionedThroughputSettings"] == {"ReadCapacityAutoScalingSettings": reads}
    assert sorted(g["IndexName"] for g in replica["GlobalSecondaryIndexes"]) == [g.name for g in TABLE_SPEC.gsis]
    for gsi in replica["GlobalSecondaryIndexes"]:
        assert gsi["ReadProvisionedThroughputSettings"] == {"ReadCapacityAutoScalingSettings": reads}


def test_customer_managed_key_option(variant_synth: Synth) -> None:
    template = variant_synth.storage
    key_id = next(iter(resources(template, "AWS::KMS::Key")))
    template.has_resource("AWS::KMS::Key", {
        "Properties": Match.object_like({"EnableKeyRotation": True}),
        "DeletionPolicy": "Retain",
    })
    props = single(template, TABLE)["Properties"]
    assert props["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    (replica,) = props["Replicas"]
    assert replica["SSESpecification"] == {"KMSMasterKeyId": {"Fn::GetAtt": [key_id, "Arn"]}}
    assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    parameters = {p["Properties"]["Name"] for p in resources(template, "AWS::SSM::Parameter").values()}
    assert "/mastra-dynamo/MastraStorage/key-arn" in parameters


def test_global_table_replicas_each_with_the_safeguards(global_synth: Synth) -> None:
    props = single(global_synth.storage, TABLE)["Properties"]
    assert props["MultiRegionConsistency"] == "EVENTUAL"
    replicas = _replicas(global_synth)
    assert sorted(r["Region"] for r in replicas) == sorted([GLOBAL_REGION, "us-east-1", "eu-west-2"])
    for replica in replicas:
        assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert replica["DeletionProtectionEnabled"] is True
        assert replica["ContributorInsightsSpecification"] == {"Enabled": True}
        assert replica["ReadOnDemandThroughputSettings"] == {"MaxReadRequestUnits": 2000}
        assert {g["IndexName"] for g in replica["GlobalSecondaryIndexes"]} == {g.name for g in TABLE_SPEC.gsis}
    assert props["WriteOnDemandThroughputSettings"] == {"MaxWriteRequestUnits": 500}


def test_strong_consistency_is_refused_with_the_reasons() -> None:
    with pytest.raises(ConfigError, match="MRSC") as caught:
        Settings.from_context({"mastra:globalTableConsistency": "strong", "mastra:replicaRegions": ["us-east-1"]})
    assert "TransactWriteItems" in str(caught.value) and "Time to Live" in str(caught.value)
    assert MRSC_SOURCE in str(caught.value)
    stack = Stack(App(), "Strong", env={"region": "eu-west-1"})
    with pytest.raises(ValueError, match="multi-Region strong consistency"):
        MastraStorageTable(stack, "Storage", replica_regions=["us-east-1"], consistency="strong")


@pytest.mark.parametrize(("options", "message"), [
    ({"replica_regions": ["us-east-1"]}, "concrete Region"),
    ({"replica_regions": ["eu-west-1"], "env": "eu-west-1"}, "own Region"),
    ({"capacity_and_ceiling": True}, "max_throughput applies to on-demand"),
])
def test_invalid_table_options_are_refused(options: dict[str, Any], message: str) -> None:
    from infra.components.storage_table import MaxThroughput, ProvisionedCapacity

    env = options.pop("env", None)
    stack = Stack(App(), "Options", env={"region": env} if env else None)
    if options.pop("capacity_and_ceiling", False):
        options = {"capacity": ProvisionedCapacity(read_min=1, read_max=2, write_min=1, write_max=2),
                   "max_throughput": MaxThroughput(read_request_units=10)}
    with pytest.raises(ValueError, match=message):
        MastraStorageTable(stack, "Storage", **options)


def test_alarms_publish_to_one_topic(global_synth: Synth) -> None:
    template = global_synth.storage
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    names = {logical_id.removeprefix("Alarms")[:-8] for logical_id in alarms}  # without CDK's hash suffix
    assert names == {"ThrottledRequests", "SystemErrors", "UserErrors", "ConditionalCheckFailures",
                     "ReadCapacityBudget", "WriteCapacityBudget", "ReplicationLatencyuseast1",
                     "ReplicationLatencyeuwest2"}
    latency = next(a["Properties"] for i, a in alarms.items() if "useast1" in i)
    assert latency["MetricName"] == "ReplicationLatency" and latency["Threshold"] == 60_000
    assert {"Name": "ReceivingRegion", "Value": "us-east-1"} in latency["Dimensions"]
    topic_id = next(iter(resources(template, "AWS::SNS::Topic")))
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching"
    budget = next(a["Properties"] for i, a in alarms.items() if i.startswith("AlarmsReadCapacityBudget"))
    assert budget["Threshold"] == 100
    expressions = [m.get("Expression") for m in budget["Metrics"] if m.get("Expression")]
    assert expressions == ["rcu / 300"]  # consumed units per second over a 5-minute period
    template.has_resource_properties("AWS::SNS::TopicPolicy", {"PolicyDocument": {"Statement": Match.array_with([
        Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})])}})
    function_alarms = resources(global_synth.function, "AWS::CloudWatch::Alarm")
    assert len(function_alarms) == 2
    duration = next(a["Properties"] for i, a in function_alarms.items() if "Duration" in i)
    assert duration["ExtendedStatistic"] == "p99" and duration["Threshold"] == 8000  # 80% of 10 s
    for alarm in function_alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "MastraAlarmTopicArn"}]  # from SSM, no export


def test_backup_plan_next_to_pitr(global_synth: Synth) -> None:
    template = global_synth.storage
    plan = single(template, "AWS::Backup::BackupPlan")["Properties"]["BackupPlan"]
    rules = {r["RuleName"]: r for r in plan["BackupPlanRule"]}
    assert rules["Daily"]["Lifecycle"] == {"DeleteAfterDays": 35}
    assert rules["Weekly"]["Lifecycle"] == {"DeleteAfterDays": 84}
    assert "SUN" in rules["Weekly"]["ScheduleExpression"]
    template.has_resource("AWS::Backup::BackupVault", {"DeletionPolicy": "Retain"})
    table_id = next(iter(resources(template, TABLE)))
    selection = single(template, "AWS::Backup::BackupSelection")["Properties"]["BackupSelection"]
    assert selection["Resources"] == [{"Fn::GetAtt": [table_id, "Arn"]}]


def test_context_for_the_new_options() -> None:
    settings = Settings.from_context({
        "mastra:replicaRegions": "us-east-1, eu-west-2",
        "mastra:maxThroughput": '{"readRequestUnits": 100}',
        "mastra:alarms": "true",
        "mastra:backupPlan": '{"weeklyRetentionWeeks": 4}',
        "mastra:contributorInsights": "true",
        "mastra:lambdaTimeoutSeconds": "20",
    })
    assert settings.replica_regions == ("us-east-1", "eu-west-2")
    assert settings.max_throughput is not None and settings.max_throughput.read_request_units == 100
    assert settings.alarms is not None and settings.alarms.throttled_requests == 1
    assert (settings.backup_daily_days, settings.backup_weekly_weeks) == (None, 4)
    assert settings.contributor_insights and settings.lambda_timeout_seconds == 20
    assert not settings.with_lambda  # the example function only when asked for


@pytest.mark.parametrize(("context", "key"), [
    ({"mastra:replicaRegions": "[\"us-east-1\", \"us-east-1\"]"}, "mastra:replicaRegions"),
    ({"mastra:replicaRegions": "Mars"}, "mastra:replicaRegions"),
    ({"mastra:globalTableConsistency": "sometimes"}, "mastra:globalTableConsistency"),
    ({"mastra:maxThroughput": '{"readRequestUnits": 0}'}, "mastra:maxThroughput"),
    ({"mastra:maxThroughput": '{"reads": 10}'}, "mastra:maxThroughput"),
    ({"mastra:alarms": '{"throttled": 1}'}, "mastra:alarms"),
    ({"mastra:alarms": '{"functionDurationShare": 2}'}, "mastra:alarms"),
    ({"mastra:backupPlan": "[35]"}, "mastra:backupPlan"),
    ({"mastra:backupPlan": '{"dailyRetentionDays": "often"}'}, "mastra:backupPlan"),
    ({"mastra:lambdaTimeoutSeconds": "1"}, "mastra:lambdaTimeoutSeconds"),
])
def test_invalid_new_context_is_rejected_with_the_key_named(context: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError, match=key):
        Settings.from_context(context)
