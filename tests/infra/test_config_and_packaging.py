"""Configuration parsing (the app's only entry point for settings) and offline Lambda packaging."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from infra.app import ConfigError, Settings, build_app
from infra.components.storage_table import ProvisionedCapacity
from infra.packaging import _runs_on_lambda, dependency_closure, runtime_requirements, stage_function_code
from tests.infra.conftest import ROOT, cdk_json_context


def test_cdk_json_defaults_are_the_secure_defaults() -> None:
    settings = Settings.from_context(cdk_json_context())
    assert settings == Settings()
    assert settings.capacity is None and not settings.customer_managed_key
    assert settings.point_in_time_recovery and settings.deletion_protection
    assert settings.removal_policy == cdk.RemovalPolicy.RETAIN


def test_context_values_from_the_command_line_are_strings() -> None:
    settings = Settings.from_context({
        "mastra:billing": "provisioned",
        "mastra:capacity": '{"readMin": 1, "readMax": 10, "writeMin": 1, "writeMax": 20}',
        "mastra:kmsKeyArn": "arn:aws:kms:eu-west-1:111122223333:key/abc",
        "mastra:deletionProtection": "false",
        "mastra:lambda": "false",
        "mastra:ttl": '{"thread": {"enabled": true, "defaultTtlSeconds": 60}}',
    })
    assert settings.capacity == ProvisionedCapacity(read_min=1, read_max=10, write_min=1, write_max=20)
    assert settings.customer_managed_key and settings.kms_key_arn
    assert settings.deletion_protection is False and settings.with_lambda is False
    assert settings.ttl == {"thread": {"enabled": True, "defaultTtlSeconds": 60}}


@pytest.mark.parametrize(("context", "message"), [
    ({"mastra:billing": "free"}, "mastra:billing"),
    ({"mastra:encryption": "none"}, "mastra:encryption"),
    ({"mastra:removalPolicy": "snapshot"}, "mastra:removalPolicy"),
    ({"mastra:pointInTimeRecovery": "maybe"}, "mastra:pointInTimeRecovery"),
    ({"mastra:billing": "provisioned", "mastra:capacity": '{"readMin": 9, "readMax": 1}'}, "mastra:capacity"),
    ({"mastra:ttl": "[1]"}, "mastra:ttl"),
    ({"mastra:ttl": "{oops"}, "mastra:ttl"),
])
def test_invalid_context_is_rejected_with_the_key_named(context: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Settings.from_context(context)


@pytest.mark.parametrize(("context", "message"), [
    ({"mastra:replicaRegions": ["us-east-1"]}, "mastra:replicaRegions: needs the stacks' Region"),
    ({"mastra:encryption": "customer-managed"}, "customer-managed: needs the stacks' Region"),
    ({"mastra:region": "eu-west-1", "mastra:replicaKmsKeyArns": {"us-east-1": "arn:aws:kms:us-east-1:1:key/k"}},
     "only with mastra:encryption=customer-managed"),
    ({"mastra:region": "eu-west-1", "mastra:encryption": "customer-managed", "mastra:replicaRegions": ["us-east-1"]},
     "replica_key_arns"),
    ({"mastra:region": "eu-west-1", "mastra:replicaRegions": ["eu-west-1"]}, "own Region"),
])
def test_app_level_combinations_are_refused(tmp_path: Path, context: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_app(context={"mastra:nag": False, **context}, outdir=str(tmp_path), environ={})


def test_table_only_app_has_no_lambda_stack(tmp_path: Path) -> None:
    app, storage, function = build_app(context={"mastra:lambda": False, "mastra:nag": False},
                                       outdir=str(tmp_path), environ={})
    assert function is None
    assert [s.stack_name for s in app.synth().stacks] == [storage.stack_name]


def test_function_code_is_the_library_package_plus_handlers(tmp_path: Path) -> None:
    staged = stage_function_code(tmp_path / "fn")
    assert {p.name for p in staged.iterdir()} == {"mastra_dynamo", "memory_api.py", "__pycache__"}
    sources = {p.relative_to(staged / "mastra_dynamo") for p in (staged / "mastra_dynamo").rglob("*.py")}
    expected = {p.relative_to(ROOT / "mastra_dynamo") for p in (ROOT / "mastra_dynamo").rglob("*.py")}
    assert sources == expected


def test_layer_closure_covers_the_runtime_requirements() -> None:
    names = {d.metadata["Name"].lower().replace("_", "-") for d in dependency_closure(runtime_requirements())}
    assert {"pydantic", "pydantic-core", "pynamodb", "boto3", "botocore"} <= names
    assert not names & {"moto", "pytest", "aws-cdk-lib", "mastra-dynamo"}


@pytest.mark.parametrize(("tag", "ok"), [
    ("py3-none-any", True),
    ("py2-none-any", False),
    ("cp311-cp311-manylinux_2_17_x86_64", True),
    ("cp311-cp311-manylinux2014_x86_64", True),
    ("cp311-abi3-manylinux_2_26_x86_64", True),
    ("cp311-cp311-manylinux_2_28_x86_64", False),  # newer glibc than Amazon Linux 2 (python3.11 runtime)
    ("cp311-cp311-manylinux_2_17_aarch64", False),
    ("cp312-cp312-manylinux_2_17_x86_64", False),
    ("cp311-cp311-macosx_11_0_arm64", False),
    ("cp311-cp311-musllinux_1_1_x86_64", False),
])
def test_wheel_tags_that_run_on_the_lambda_runtime(tag: str, ok: bool) -> None:
    assert _runs_on_lambda(tag) is ok
