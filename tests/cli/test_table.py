"""`mastra-dynamo table create|check|describe`: layout checks with actionable diffs and CI exit codes."""

from __future__ import annotations

import json
import uuid

import boto3
from click.testing import CliRunner

from mastra_dynamo import TABLE_SPEC, DynamoDBStore
from tests.conftest import Backend

from .conftest import populate, run


def client(backend: Backend):  # type: ignore[no-untyped-def]
    return boto3.client("dynamodb", region_name="us-east-1", endpoint_url=backend.endpoint_url)


def fresh_name() -> str:
    return f"cli-{uuid.uuid4().hex[:10]}"


def test_create_then_check(runner: CliRunner, backend: Backend) -> None:
    name = fresh_name()
    extra = [] if backend.endpoint_url else ["--allow-aws"]
    result = run(runner, backend, "table", "create", "--table", name, extra=extra)
    assert result.exit_code == 0, result.output
    assert "Created" in result.output and "gsi4" in result.output
    try:
        store = DynamoDBStore(id="x", table_name=name, region="us-east-1", endpoint_url=backend.endpoint_url)
        store.init()  # the library accepts what the command created
        store.close()
        result = run(runner, backend, "table", "check", "--table", name, extra=["--no-require-pitr"])
        assert result.exit_code == 0, result.output
        assert "matches" in result.output
        result = run(runner, backend, "table", "check", "--table", name)
        if backend.name == "moto":  # DynamoDB Local has no DescribeContinuousBackups: PITR is "unknown" there
            assert result.exit_code == 1
            assert "update-continuous-backups" in result.output
            client(backend).update_continuous_backups(
                TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
            result = run(runner, backend, "table", "check", "--table", name)
        assert result.exit_code == 0, result.output
        # Creating it again leaves it alone and checks it.
        result = run(runner, backend, "table", "create", "--table", name, extra=extra)
        assert result.exit_code == 0, result.output
        assert "already exists" in result.output
    finally:
        client(backend).delete_table(TableName=name)


def test_check_prints_an_actionable_diff(runner: CliRunner, backend: Backend) -> None:
    name = fresh_name()
    request = TABLE_SPEC.create_table_request(name)
    request["GlobalSecondaryIndexes"] = [g for g in request["GlobalSecondaryIndexes"] if g["IndexName"] != "gsi4"]
    request["GlobalSecondaryIndexes"][0]["Projection"] = {"ProjectionType": "KEYS_ONLY"}
    request["AttributeDefinitions"] = [a for a in request["AttributeDefinitions"]
                                       if a["AttributeName"] not in ("gsi4pk", "gsi4sk")]
    client(backend).create_table(**request)  # no TTL either
    try:
        result = run(runner, backend, "table", "check", "--table", name, extra=["--no-require-pitr"])
        assert result.exit_code == 1
        out = " ".join(result.output.split())
        assert "index gsi4" in out and "missing" in out
        assert "update-table" in out and '"IndexName":"gsi4"' in out
        assert "projects" in out or "KEYS_ONLY" in out
        assert "update-time-to-live" in out and "AttributeName=ttl" in out
        result = run(runner, backend, "table", "check", "--table", name, extra=["--no-require-pitr", "--json"])
        assert result.exit_code == 1
        report = json.loads(result.stdout)
        checks = {p["check"] for p in report["problems"]}
        assert {"index gsi1", "index gsi4", "time to live"} <= checks and report["ok"] is False
    finally:
        client(backend).delete_table(TableName=name)


def test_check_of_a_missing_table_says_what_to_do(runner: CliRunner, backend: Backend) -> None:
    result = run(runner, backend, "table", "check", "--table", fresh_name())
    assert result.exit_code == 1
    assert "table create" in result.output


def test_create_refuses_aws_without_the_flag(runner: CliRunner) -> None:
    result = runner.invoke(__import__("mastra_dynamo.cli", fromlist=["cli"]).cli,
                           ["table", "create", "--table", "whatever", "--region", "eu-west-1"],
                           env={"AWS_ENDPOINT_URL_DYNAMODB": None})
    assert result.exit_code == 2
    assert "--allow-aws" in result.output and "infra/" in result.output


def test_describe_prints_layout_and_counts(runner: CliRunner, backend: Backend, store: DynamoDBStore) -> None:
    populate(store)
    result = run(runner, backend, "table", "describe", "--table", store.table_name, extra=["--exact"])
    assert result.exit_code == 0, result.output
    out = result.output
    for gsi in TABLE_SPEC.gsis:
        assert gsi.name in out and gsi.purpose[:20] in out
    assert "Items per entity type" in out
    for entity in ("thread", "message", "workflow_run", "score", "agent_version", "dataset_item_row",
                   "experiment_result"):
        assert entity in out
