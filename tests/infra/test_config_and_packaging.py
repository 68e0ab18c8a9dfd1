"""Configuration parsing (the app's only entry point for settings) and offline Lambda packaging."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from packaging.utils import canonicalize_name

from infra.app import ConfigError, Settings, build_app
from infra.components.storage_table import ProvisionedCapacity
from infra.packaging import (
    DEFAULT_PYTHON,
    IncompatibleDependencies,
    _runs_on_lambda,
    dependency_closure,
    layer_requirements,
    lock_pins,
    pip_layer_arguments,
    runtime_requirements,
    stage_dependencies,
    stage_function_code,
)
from tests.infra.conftest import ROOT, Synth, cdk_json_context, single


def test_cdk_json_defaults_are_the_secure_defaults() -> None:
    settings = Settings.from_context(cdk_json_context())
    assert settings == Settings()
    assert settings.capacity is None and not settings.customer_managed_key
    assert settings.point_in_time_recovery and settings.deletion_protection
    assert settings.removal_policy == cdk.RemovalPolicy.RETAIN
    assert settings.lambda_python == DEFAULT_PYTHON == "3.13" and settings.lambda_dependencies == "lock"
    assert settings.layer_boto is False  # the layer leaves boto3/botocore to the runtime


def test_context_values_from_the_command_line_are_strings() -> None:
    settings = Settings.from_context({
        "mastra:billing": "provisioned",
        "mastra:capacity": '{"readMin": 1, "readMax": 10, "writeMin": 1, "writeMax": 20}',
        "mastra:kmsKeyArn": "arn:aws:kms:eu-west-1:111122223333:key/abc",
        "mastra:deletionProtection": "false",
        "mastra:lambda": "false",
        "mastra:ttl": '{"thread": {"enabled": true, "defaultTtlSeconds": 60}}',
        "mastra:lambdaPython": "3.11",
        "mastra:layerBoto": "true",
    })
    assert settings.lambda_python == "3.11" and settings.layer_boto is True
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
    ({"mastra:lambdaPython": "3.10"}, "mastra:lambdaPython"),
    ({"mastra:lambdaPython": "3.14"}, "mastra:lambdaPython"),
    ({"mastra:layerBoto": "yes"}, "mastra:layerBoto"),
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


def test_layer_boto_applies_to_the_layers_synth_stages(tmp_path: Path) -> None:
    prepared = tmp_path / "prepared"
    (prepared / "python").mkdir(parents=True)
    context = {"mastra:nag": False, "mastra:lambda": True, "mastra:layerBoto": True,
               "mastra:lambdaDependencies": str(prepared)}
    with pytest.raises(ConfigError, match="mastra:layerBoto"):
        build_app(context=context, outdir=str(tmp_path / "out"), environ={})


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


@pytest.mark.parametrize(("python", "tag", "ok"), [
    ("3.11", "py3-none-any", True),
    ("3.11", "py2-none-any", False),
    ("3.11", "cp311-cp311-manylinux_2_17_x86_64", True),
    ("3.11", "cp311-cp311-manylinux2014_x86_64", True),
    ("3.11", "cp311-abi3-manylinux_2_26_x86_64", True),
    ("3.11", "cp311-cp311-manylinux_2_28_x86_64", False),  # newer glibc than Amazon Linux 2 (python3.11 runtime)
    ("3.11", "cp311-cp311-manylinux_2_17_aarch64", False),
    ("3.11", "cp312-cp312-manylinux_2_17_x86_64", False),
    ("3.11", "cp311-cp311-macosx_11_0_arm64", False),
    ("3.11", "cp311-cp311-musllinux_1_1_x86_64", False),
    ("3.13", "cp313-cp313-manylinux_2_17_x86_64", True),
    ("3.13", "cp313-cp313-manylinux_2_34_x86_64", True),  # Amazon Linux 2023 (python3.12 and 3.13 runtimes)
    ("3.13", "cp313-cp313-manylinux_2_35_x86_64", False),
    ("3.13", "cp39-abi3-manylinux_2_17_x86_64", True),
    ("3.13", "cp311-cp311-manylinux_2_17_x86_64", False),
    ("3.12", "cp313-cp313-manylinux_2_17_x86_64", False),
])
def test_wheel_tags_that_run_on_the_lambda_runtime(python: str, tag: str, ok: bool) -> None:
    assert _runs_on_lambda(tag, python) is ok


def test_the_layer_is_installed_from_the_lock_for_the_runtime_python(tmp_path: Path) -> None:
    arguments = pip_layer_arguments("3.12", tmp_path / "python", wheelhouse=tmp_path / "wheels")
    assert arguments[arguments.index("--python-version") + 1] == "3.12"
    assert arguments[arguments.index("-c") + 1] == str(ROOT / "constraints" / "lock.txt")
    assert "manylinux_2_34_x86_64" in arguments and "manylinux_2_35_x86_64" not in arguments
    assert {"--only-binary=:all:", "--no-index", "--no-compile"} <= set(arguments)
    assert arguments[-len(layer_requirements()):] == [str(r) for r in layer_requirements()]
    assert not {a for a in arguments if a.startswith(("boto3", "botocore", "jsonschema"))}
    with_sdk = pip_layer_arguments("3.12", tmp_path / "python", include_boto=True)
    sdk = [str(r) for r in runtime_requirements() if r.name in {"boto3", "botocore"}]
    assert len(sdk) == 2 and set(sdk) <= set(with_sdk)


def test_the_function_layer_has_the_lock_versions_for_python_3_13(variant_synth: Synth,
                                                                   layer_cache: Path) -> None:
    """The example function (``mastra:lambda``, default Python) gets a layer of the lock's versions."""
    from importlib import metadata

    pins = lock_pins()
    dists = {canonicalize_name(d.metadata["Name"]): d
             for d in metadata.distributions(path=[str(layer_cache / "python")])}
    assert set(dists) >= {"pydantic", "pydantic-core", "pynamodb"}
    assert {name: d.version for name, d in dists.items()} == {name: pins[name] for name in dists}
    core = dists[canonicalize_name("pydantic-core")]
    assert "cp313-cp313" in (core.read_text("WHEEL") or "")
    layer = single(variant_synth.function, "AWS::Lambda::LayerVersion")
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]


def test_vendoring_needs_the_runtime_python(tmp_path: Path) -> None:
    other = "3.12" if DEFAULT_PYTHON != "3.12" and sys.version_info[:2] != (3, 12) else "3.13"
    with pytest.raises(IncompatibleDependencies, match=f"python{other}"):
        stage_dependencies(tmp_path / "deps", python=other, source="vendor")


def test_lock_pins_everything_exactly() -> None:
    pins = lock_pins()
    assert {"boto3", "botocore", "pydantic", "pydantic-core", "pynamodb", "jsonschema", "moto", "pip"} <= set(pins)
