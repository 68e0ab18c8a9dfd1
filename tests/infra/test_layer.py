"""The dependency layer is small and still enough.

Small: by default it holds what the handler imports (pydantic, pynamodb and theirs), not the AWS SDK the runtime
ships nor jsonschema, and stays under ``LAYER_SIZE_GOAL`` unzipped. Enough: the handler imports and serves
requests from the staged function code and layer with the runtime's SDK after them on ``sys.path``, as on Lambda
(this environment's boto3/botocore stand in for the runtime's), and a runtime botocore outside the library's
range fails the import with a message that says what to do.
"""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.utils import canonicalize_name

from infra.packaging import (
    DEFAULT_PYTHON,
    LAYER_SIZE_GOAL,
    SUPPORTED_PYTHONS,
    dependency_closure,
    host_python,
    layer_requirements,
    layer_size,
    lock_pins,
    runtime_provided,
    runtime_requirements,
    stage_dependencies,
    stage_function_code,
    stage_runtime_sdk,
)
from mastra_dynamo import DynamoDBStore
from tests.infra.conftest import Synth, offline_context, single

SDK = {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"}
"""The AWS SDK for Python and its requirements: what the runtime ships."""
UNUSED = {"jsonschema", "attrs", "referencing", "rpds-py", "jsonschema-specifications"}
"""jsonschema and what only it requires: dataset schema validation, never imported by the handler."""
HANDLER_DEPENDENCIES = {"pydantic", "pydantic-core", "annotated-types", "typing-extensions", "typing-inspection",
                        "pynamodb"}
"""What the default layer holds."""
ALICE = "arn:aws:sts::111122223333:assumed-role/app/alice"


def distributions(layer: Path) -> dict[str, metadata.Distribution]:
    return {canonicalize_name(d.metadata["Name"]): d for d in metadata.distributions(path=[str(layer / "python")])}


def owned_entries(dists: dict[str, metadata.Distribution]) -> set[str]:
    """Top-level names (packages, modules, dist-info directories) the distributions' RECORDs list."""
    return {str(file).split("/")[0] for d in dists.values() for file in d.files or []
            if not str(file).startswith("..")}


def test_the_default_layer_holds_what_the_handler_imports_and_no_sdk(variant_synth: Synth,
                                                                     layer_cache: Path) -> None:
    dists = distributions(layer_cache)
    assert set(dists) == HANDLER_DEPENDENCIES
    assert not set(dists) & (SDK | UNUSED)
    pins = lock_pins()
    assert {name: d.version for name, d in dists.items()} == {name: pins[name] for name in dists}
    # Nothing pip installed for the SDK is left behind: every entry belongs to a distribution of the layer.
    entries = {p.name for p in (layer_cache / "python").iterdir()} - {"__pycache__"}
    assert entries <= owned_entries(dists), entries - owned_entries(dists)
    assert not [d for d in (layer_cache / "python").rglob("tests") if d.is_dir()]
    pycs = {re.sub(r"^.*\.(cpython-\d+)\.pyc$", r"\1", p.name) for p in (layer_cache / "python").rglob("*.pyc")}
    assert pycs <= {"cpython-" + DEFAULT_PYTHON.replace(".", "")}  # bytecode for the runtime's Python only
    layer = single(variant_synth.function, "AWS::Lambda::LayerVersion")
    assert "boto3/botocore from the runtime" in layer["Properties"]["Description"]


def test_the_default_layer_is_under_the_size_goal(variant_synth: Synth, layer_cache: Path) -> None:
    size = layer_size(layer_cache)
    assert size.unzipped <= LAYER_SIZE_GOAL, f"{size.unzipped / 1e6:.1f} MB unzipped ({size.files} files)"


def test_the_layer_requirements_leave_the_sdk_to_the_runtime_unless_asked() -> None:
    names = {canonicalize_name(r.name) for r in runtime_requirements()}
    assert {canonicalize_name(r.name) for r in layer_requirements()} == names - {"boto3", "botocore", "jsonschema"}
    assert {canonicalize_name(r.name) for r in layer_requirements(include_boto=True)} == names - {"jsonschema"}
    # In this environment (the lock's versions): the closure stops at the SDK, whose requirements go with it.
    closure = {canonicalize_name(d.metadata["Name"])
               for d in dependency_closure(layer_requirements(), python=host_python(), provided=runtime_provided())}
    assert closure == HANDLER_DEPENDENCIES


@dataclass(frozen=True)
class HostAssets:
    """The assets staged for this interpreter's Python, so it can import them (the tests' Python is 3.11)."""

    code: Path
    layer: Path
    layer_with_sdk: Path
    runtime: Path
    """Stand-in for the runtime's SDK (``/var/lang/lib/python3.x/site-packages``): this environment's."""


@pytest.fixture(scope="session")
def host_assets(tmp_path_factory: pytest.TempPathFactory) -> HostAssets:
    python = host_python()
    if python not in SUPPORTED_PYTHONS or (sys.platform, platform.machine()) != ("linux", "x86_64"):
        pytest.skip(f"the layer is built for Linux x86_64 Python {', '.join(SUPPORTED_PYTHONS)}")
    wheelhouse = offline_context().get("mastra:wheelhouse")
    root = tmp_path_factory.mktemp("host-assets")

    def layer(name: str, include_boto: bool) -> Path:
        return stage_dependencies(root / name, python=python, wheelhouse=Path(wheelhouse) if wheelhouse else None,
                                  include_boto=include_boto) / "python"

    return HostAssets(code=stage_function_code(root / "function", python=python), layer=layer("layer", False),
                      layer_with_sdk=layer("layer-sdk", True), runtime=stage_runtime_sdk(root / "runtime"))


_CONTAINER = """
import json, os, sys
sys.path[:0] = json.loads(sys.argv[1])
try:
    import memory_api
except Exception as exc:
    print(json.dumps({"import_error": type(exc).__name__, "code": getattr(exc, "code", None), "message": str(exc)}))
    raise SystemExit(0)

def call(body):
    event = {"requestContext": {"authorizer": {"iam": {"userArn": sys.argv[2]}}}, "body": json.dumps(body)}
    response = memory_api.handler(event)
    return response["statusCode"], json.loads(response["body"])

status, created = call({"op": "append", "message": {"role": "user", "content": "Hello"}})
listed = call({"op": "history", "threadId": created["threadId"]})
stdlib = os.path.dirname(os.__file__)
files = {name: getattr(module, "__file__", None) for name, module in list(sys.modules.items())}
print(json.dumps({
    "append": status, "history": listed[0], "messages": [m["content"]["content"] for m in listed[1]["messages"]],
    "from": {name: files[name] for name in ("memory_api", "mastra_dynamo", "pydantic", "pynamodb", "botocore")},
    "elsewhere": sorted(n for n, f in files.items() if f and not f.startswith(stdlib)
                        and not any(f.startswith(p) for p in json.loads(sys.argv[1]))),
}))
"""


@pytest.fixture(scope="module")
def dynamodb_endpoint(moto_server: str) -> str:
    """A moto server (tests/conftest.py): the child processes reach it through ``AWS_ENDPOINT_URL_DYNAMODB``."""
    return moto_server


def run_container(path: list[Path], endpoint: str) -> dict[str, Any]:
    """A new Lambda container: a fresh interpreter without site-packages (``-S``) or bytecode writes (``-B``),
    ``sys.path`` = ``path``, importing the handler and serving an append and a history request."""
    table = f"mastra-layer-{uuid.uuid4().hex[:8]}"
    setup = DynamoDBStore(id="setup", table_name=table, region="us-east-1", endpoint_url=endpoint)
    setup.create_table()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "AWS_"))}
    env |= {"MASTRA_TABLE_NAME": table, "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    try:
        done = subprocess.run([sys.executable, "-S", "-B", "-c", _CONTAINER, json.dumps([str(p) for p in path]),
                               ALICE], env=env, capture_output=True, text=True, timeout=120)
    finally:
        setup.delete_table()
        setup.close()
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_handler_runs_from_the_layer_with_the_runtime_sdk(host_assets: HostAssets,
                                                              dynamodb_endpoint: str) -> None:
    assets = host_assets
    result = run_container([assets.code, assets.layer, assets.runtime], dynamodb_endpoint)
    assert (result["append"], result["history"], result["messages"]) == (200, 200, ["Hello"])
    origin = result["from"]
    assert origin["memory_api"].startswith(str(assets.code)) and origin["mastra_dynamo"].startswith(str(assets.code))
    assert origin["pydantic"].startswith(str(assets.layer)) and origin["pynamodb"].startswith(str(assets.layer))
    assert origin["botocore"].startswith(str(assets.runtime))  # the runtime's SDK, not the layer's
    assert result["elsewhere"] == []


def test_with_layer_boto_the_handler_uses_the_lock_sdk_from_the_layer(host_assets: HostAssets,
                                                                       dynamodb_endpoint: str) -> None:
    assets = host_assets
    dists = {canonicalize_name(d.metadata["Name"]): d
             for d in metadata.distributions(path=[str(assets.layer_with_sdk)])}
    assert set(dists) == HANDLER_DEPENDENCIES | SDK
    pins = lock_pins()
    assert {name: d.version for name, d in dists.items()} == {name: pins[name] for name in dists}
    result = run_container([assets.code, assets.layer_with_sdk, assets.runtime], dynamodb_endpoint)
    assert (result["append"], result["history"]) == (200, 200)
    assert result["from"]["botocore"].startswith(str(assets.layer_with_sdk))


def test_an_old_runtime_botocore_fails_the_import_with_what_to_do(host_assets: HostAssets, tmp_path: Path,
                                                                  dynamodb_endpoint: str) -> None:
    old = stage_runtime_sdk(tmp_path / "old-runtime")
    init = old / "botocore" / "__init__.py"
    source, count = re.subn(r"(?m)^__version__ = .*$", "__version__ = '1.30.1'", init.read_text(encoding="utf-8"))
    assert count == 1
    init.write_text(source, encoding="utf-8")
    result = run_container([host_assets.code, host_assets.layer, old], dynamodb_endpoint)
    assert (result["import_error"], result["code"]) == ("ConfigurationError", "UNSUPPORTED_BOTOCORE")
    assert "botocore 1.30.1" in result["message"] and "mastra:layerBoto=true" in result["message"]
