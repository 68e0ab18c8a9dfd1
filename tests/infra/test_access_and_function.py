"""Least privilege: the grant holds exactly the library's actions; the Lambda is wired by environment."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from aws_cdk.assertions import Match

from infra.app import FUNCTION_STACK, STORAGE_STACK
from infra.components.memory_function import HANDLER, RUNTIME, TABLE_ENV, TIMEOUT_ENV, TTL_ENV
from infra.components.storage_table import STORAGE_ACTIONS
from infra.packaging import DEFAULT_PYTHON
from tests.infra.conftest import ROOT, VARIANT_TTL, Synth, resources, single

POLICY = "AWS::IAM::Policy"


def _statements(synth: Synth) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for stack in (synth.template(name) for name in synth.stacks):
        for policy in resources(stack, POLICY).values():
            out.extend(policy["Properties"]["PolicyDocument"]["Statement"])
        for role in resources(stack, "AWS::IAM::Role").values():
            for inline in role["Properties"].get("Policies", []):
                out.extend(inline["PolicyDocument"]["Statement"])
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_iam_statements_have_no_scan_no_wildcard_resource_no_admin_actions(
    variant_synth: Synth, global_synth: Synth
) -> None:
    for synth in (variant_synth, global_synth):
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


def test_grant_is_exactly_the_library_actions_on_table_and_indexes(global_synth: Synth) -> None:
    global_synth.function.has_resource_properties(POLICY, {
        "PolicyDocument": {"Statement": Match.array_with([{
            "Action": list(STORAGE_ACTIONS),
            "Effect": "Allow",
            "Resource": [{"Ref": "MastraTableArn"}, {"Fn::Join": ["", [{"Ref": "MastraTableArn"}, "/index/*"]]}],
        }])},
    })
    role = single(global_synth.function, "AWS::IAM::Role")["Properties"]
    assert "ManagedPolicyArns" not in role  # no AWSLambdaBasicExecutionRole: logs are granted on the log group only


def test_customer_key_grant_is_scoped_to_that_key(variant_synth: Synth) -> None:
    variant_synth.function.has_resource_properties(POLICY, {
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Action": Match.array_with(["kms:Decrypt", "kms:Encrypt"]),
            "Resource": {"Ref": "MastraTableKeyArn"},
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


def test_function_env_carries_the_table_name_timeout_and_retention(
    variant_synth: Synth, global_synth: Synth
) -> None:
    table_ref = {"Ref": "MastraTableName"}
    global_synth.function.has_resource_properties("AWS::Lambda::Function", {
        "Handler": HANDLER,
        "Runtime": RUNTIME.name,
        "Architectures": ["x86_64"],
        "Timeout": 10,
        "Environment": {"Variables": {TABLE_ENV: table_ref, TIMEOUT_ENV: "10"}},
        "Layers": Match.any_value(),
        "LoggingConfig": {"LogGroup": Match.any_value()},
    })
    variant_synth.function.has_resource_properties("AWS::Lambda::Function", {
        "Timeout": 12,
        "Environment": {"Variables": {TABLE_ENV: table_ref, TIMEOUT_ENV: "12", TTL_ENV: json.dumps(
            VARIANT_TTL, sort_keys=True, separators=(",", ":"))}},
    })


def test_stacks_share_the_table_through_ssm_parameters_not_exports(variant_synth: Synth) -> None:
    function = variant_synth.template_json(FUNCTION_STACK)
    parameters = {name: p["Default"] for name, p in function["Parameters"].items() if name.startswith("Mastra")}
    assert parameters == {"MastraTableName": "/mastra-dynamo/MastraStorage/table-name",
                          "MastraTableArn": "/mastra-dynamo/MastraStorage/table-arn",
                          "MastraTableKeyArn": "/mastra-dynamo/MastraStorage/key-arn"}
    assert all(function["Parameters"][n]["Type"] == "AWS::SSM::Parameter::Value<String>" for n in parameters)
    assert "Fn::ImportValue" not in json.dumps(function)
    for output in variant_synth.template_json(STORAGE_STACK)["Outputs"].values():
        assert "Export" not in output
    manifest = variant_synth.assembly.get_stack_by_name(FUNCTION_STACK).dependencies
    assert STORAGE_STACK in [d.id for d in manifest]  # deployment order only


def test_function_url_requires_iam_auth(variant_synth: Synth) -> None:
    variant_synth.function.has_resource_properties("AWS::Lambda::Url", {"AuthType": "AWS_IAM"})


def test_assets_hold_the_library_handler_and_dependencies(variant_synth: Synth) -> None:
    function = single(variant_synth.function, "AWS::Lambda::Function")
    layer = single(variant_synth.function, "AWS::Lambda::LayerVersion")
    code = _asset_dir(variant_synth, function["Properties"]["Code"]["S3Key"])
    deps = _asset_dir(variant_synth, layer["Properties"]["Content"]["S3Key"])
    assert (code / "memory_api.py").is_file() and (code / "mastra_dynamo" / "store.py").is_file()
    assert not (code / "infra").exists() and not (code / "tests").exists()
    for package in ("pydantic", "pydantic_core", "pynamodb"):
        assert (deps / "python" / package).is_dir(), package
    for package in ("boto3", "botocore", "jsonschema"):  # the runtime's SDK; dataset validation only
        assert not (deps / "python" / package).exists(), package
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
