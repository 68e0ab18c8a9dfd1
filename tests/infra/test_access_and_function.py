"""Least privilege: the grant holds exactly the library's actions; the Lambda is wired by environment."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from aws_cdk.assertions import Match

from infra.components.memory_function import HANDLER, RUNTIME, TABLE_ENV, TTL_ENV
from infra.components.storage_table import STORAGE_ACTIONS
from infra.packaging import DEFAULT_PYTHON
from tests.infra.conftest import ROOT, VARIANT_TTL, Synth, resources, single

POLICY = "AWS::IAM::Policy"


def _statements(synth: Synth) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for stack in (synth.storage, synth.function):
        for policy in resources(stack, POLICY).values():
            out.extend(policy["Properties"]["PolicyDocument"]["Statement"])
        for role in resources(stack, "AWS::IAM::Role").values():
            for inline in role["Properties"].get("Policies", []):
                out.extend(inline["PolicyDocument"]["Statement"])
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_iam_statements_have_no_scan_no_wildcard_resource_no_admin_actions(
    default_synth: Synth, variant_synth: Synth
) -> None:
    for synth in (default_synth, variant_synth):
        statements = _statements(synth)
        assert statements
        for statement in statements:
            actions = _as_list(statement["Action"])
            assert "dynamodb:Scan" not in actions
            assert not any(a in {"*", "dynamodb:*"} for a in actions), statement
            assert all(r != "*" for r in _as_list(statement["Resource"])), statement
            assert statement["Effect"] == "Allow"
        dynamodb = {a for s in statements for a in _as_list(s["Action"]) if a.startswith("dynamodb:")}
        assert dynamodb == set(STORAGE_ACTIONS)


def test_grant_is_exactly_the_library_actions_on_table_and_indexes(default_synth: Synth) -> None:
    default_synth.function.has_resource_properties(POLICY, {
        "PolicyDocument": {"Statement": Match.array_with([{
            "Action": list(STORAGE_ACTIONS),
            "Effect": "Allow",
            "Resource": [
                {"Fn::ImportValue": Match.string_like_regexp("^MastraStorage:.*Arn")},
                {"Fn::Join": ["", [{"Fn::ImportValue": Match.string_like_regexp("^MastraStorage:.*Arn")},
                                   "/index/*"]]},
            ],
        }])},
    })
    role = single(default_synth.function, "AWS::IAM::Role")["Properties"]
    assert "ManagedPolicyArns" not in role  # no AWSLambdaBasicExecutionRole: logs are granted on the log group only


def test_customer_key_grant_is_scoped_to_that_key(variant_synth: Synth) -> None:
    variant_synth.function.has_resource_properties(POLICY, {
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Action": Match.array_with(["kms:Decrypt", "kms:Encrypt"]),
            "Resource": {"Fn::ImportValue": Match.string_like_regexp("^MastraStorage:.*TableKey.*Arn")},
        })])},
    })


def test_operations_the_library_sends_are_all_granted() -> None:
    """Static guard: every DynamoDB operation named in a request path is in the grant (or explained here)."""
    not_granted = {
        "Scan": "admin clear-all only (mastra_dynamo/admin.py), run with operator credentials",
        "DeleteTable": "DynamoDBStore.delete_table: local use and tests",
        "TransactWriteItems": "authorized per contained action: Put/Update/Delete/ConditionCheckItem",
        "DescribeContinuousBackups": "`mastra-dynamo table check` (PITR status), run with operator credentials",
        "CreateTable": "`mastra-dynamo table create`, local use, operator credentials",
        "UpdateTimeToLive": "`mastra-dynamo table create`, local use, operator credentials",
    }
    granted = {a.removeprefix("dynamodb:") for a in STORAGE_ACTIONS}
    sent: set[str] = set()
    for module in (ROOT / "mastra_dynamo").rglob("*.py"):
        text = module.read_text(encoding="utf-8")
        sent.update(re.findall(r"\.call\(\s*\"([A-Z][A-Za-z]+)\"", text))
    assert sent, "no operations found: did TableClient.call change?"
    assert sent - granted <= set(not_granted), sorted(sent - granted - set(not_granted))
    assert {"ConditionCheckItem", "PutItem", "UpdateItem", "DeleteItem"} <= granted  # TransactWriteItems' parts


def test_function_env_carries_the_table_name_and_retention(default_synth: Synth, variant_synth: Synth) -> None:
    table_ref = {"Fn::ImportValue": Match.string_like_regexp(r"^MastraStorage:ExportsOutputRef")}
    default_synth.function.has_resource_properties("AWS::Lambda::Function", {
        "Handler": HANDLER,
        "Runtime": RUNTIME.name,
        "Architectures": ["x86_64"],
        "Environment": {"Variables": {TABLE_ENV: table_ref}},
        "Layers": Match.any_value(),
        "LoggingConfig": {"LogGroup": Match.any_value()},
    })
    variant_synth.function.has_resource_properties("AWS::Lambda::Function", {
        "Environment": {"Variables": {TABLE_ENV: table_ref, TTL_ENV: json.dumps(VARIANT_TTL, sort_keys=True,
                                                                                  separators=(",", ":"))}},
    })
    default_synth.storage.has_output("*", {"Export": {"Name": Match.string_like_regexp("ExportsOutputRef")}})


def test_assets_hold_the_library_handler_and_dependencies(default_synth: Synth) -> None:
    function = single(default_synth.function, "AWS::Lambda::Function")
    layer = single(default_synth.function, "AWS::Lambda::LayerVersion")
    code = _asset_dir(default_synth, function["Properties"]["Code"]["S3Key"])
    deps = _asset_dir(default_synth, layer["Properties"]["Content"]["S3Key"])
    assert (code / "memory_api.py").is_file() and (code / "mastra_dynamo" / "store.py").is_file()
    assert not (code / "infra").exists() and not (code / "tests").exists()
    for package in ("pydantic", "pydantic_core", "pynamodb", "boto3", "botocore"):
        assert (deps / "python" / package).is_dir(), package
    # Precompiled for cold starts by an interpreter of the runtime's version (make test has one: CI's pyenv 3.13).
    tag = "cpython-" + DEFAULT_PYTHON.replace(".", "")
    assert list((code / "mastra_dynamo").rglob(f"*.{tag}.pyc")), "function bytecode is precompiled"
    assert list((deps / "python" / "pydantic").rglob(f"*.{tag}.pyc")), "layer bytecode is precompiled"
    assert not list(code.rglob("*.cpython-311.pyc")) or DEFAULT_PYTHON == "3.11"


def _asset_dir(synth: Synth, s3_key: str) -> Path:
    """The staged asset directory in the cloud assembly (``asset.<hash>``, uploaded as ``<hash>.zip``)."""
    path = synth.outdir / f"asset.{s3_key.removesuffix('.zip')}"
    assert path.is_dir(), path
    return path
