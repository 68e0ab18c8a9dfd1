"""Shared, synthesized-once CDK apps for the infra tests.

``import aws_cdk`` costs ~2 s and a synthesis ~3-5 s (much more on a busy machine), so each configuration is
built ONCE per session: the defaults from ``cdk.json`` (the table alone), a variant (provisioned + autoscaling,
customer-managed key, retention config, the example function) and a global one (replicas, on-demand ceiling,
Contributor Insights, alarms, backup plan, the example function).
Both go through ``infra.app.build_app``, the same composition root ``cdk synth`` runs, with cdk-nag's
AwsSolutions aspect on. Everything is offline: environment-agnostic stacks, assets staged without Docker, the
dependency layer (Python 3.13, the default runtime) installed from the lock out of the wheelhouse that
``make wheelhouse`` fills (.tools/wheelhouse).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from aws_cdk import cx_api  # (imported after the jsii banner switch above)
from aws_cdk.assertions import Template

from infra.app import FUNCTION_STACK, STORAGE_STACK, build_app

ROOT = Path(__file__).resolve().parents[2]
WHEELHOUSE = Path(os.environ.get("MASTRA_DYNAMO_WHEELHOUSE") or ROOT / ".tools" / "wheelhouse")
"""Filled by ``make wheelhouse``; MASTRA_DYNAMO_WHEELHOUSE names another one."""
VARIANT_TTL = {"message": {"enabled": True, "defaultTtlSeconds": 30 * 86400}}
VARIANT_CONTEXT = {
    "mastra:billing": "provisioned",
    "mastra:capacity": {"readMin": 2, "readMax": 40, "writeMin": 3, "writeMax": 50, "targetUtilizationPercent": 65},
    "mastra:encryption": "customer-managed",
    "mastra:region": "eu-west-1",  # a customer-managed key needs a concrete Region
    "mastra:ttl": VARIANT_TTL,
    "mastra:lambda": True,
    "mastra:lambdaTimeoutSeconds": 12,
}

GLOBAL_REGION = "eu-west-1"
GLOBAL_CONTEXT = {
    "mastra:region": GLOBAL_REGION,
    "mastra:replicaRegions": ["us-east-1", "eu-west-2"],
    "mastra:maxThroughput": {"readRequestUnits": 2000, "writeRequestUnits": 500},
    "mastra:contributorInsights": True,
    "mastra:alarms": {"readUnitsPerSecond": 100, "writeUnitsPerSecond": 50},
    "mastra:backupPlan": {"dailyRetentionDays": 35, "weeklyRetentionWeeks": 12},
    "mastra:lambda": True,
}


@dataclass(frozen=True)
class Synth:
    """One synthesized app: templates per stack, the cloud assembly and its directory."""

    assembly: cx_api.CloudAssembly
    outdir: Path

    def template(self, stack: str) -> Template:
        return Template.from_json(self.assembly.get_stack_by_name(stack).template)

    def template_json(self, stack: str) -> dict[str, Any]:
        data: dict[str, Any] = self.assembly.get_stack_by_name(stack).template
        return data

    @property
    def storage(self) -> Template:
        return self.template(STORAGE_STACK)

    @property
    def function(self) -> Template:
        return self.template(FUNCTION_STACK)

    @property
    def stacks(self) -> list[str]:
        return [stack.stack_name for stack in self.assembly.stacks]


def cdk_json_context() -> dict[str, Any]:
    """The context ``cdk synth`` would read from cdk.json."""
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]
    return context


def offline_context() -> dict[str, Any]:
    """``mastra:wheelhouse`` for the layer build (pytest runs without network under ``make test``)."""
    if not WHEELHOUSE.is_dir():
        if os.environ.get("MASTRA_DYNAMO_REQUIRE_ALL_BACKENDS") == "1":
            pytest.fail(f"{WHEELHOUSE} is missing (make test fills it: `make wheelhouse`)")
        return {}  # pip reaches the package index instead
    return {"mastra:wheelhouse": str(WHEELHOUSE)}


def synthesize(tmp: Path, layer_cache: Path, overrides: Mapping[str, Any] | None = None) -> Synth:
    context = {**cdk_json_context(), **offline_context(), "mastra:layerCache": str(layer_cache), **(overrides or {})}
    app, _, _ = build_app(context=context, outdir=str(tmp), environ={})
    return Synth(assembly=app.synth(), outdir=tmp)


@pytest.fixture(scope="session")
def layer_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One staged dependency layer for every app of the session (staging it costs a few seconds)."""
    return tmp_path_factory.mktemp("lambda-layer") / "dependencies"


@pytest.fixture(scope="session")
def default_synth(tmp_path_factory: pytest.TempPathFactory, layer_cache: Path) -> Iterator[Synth]:
    yield synthesize(tmp_path_factory.mktemp("cdk-default"), layer_cache)


@pytest.fixture(scope="session")
def variant_synth(tmp_path_factory: pytest.TempPathFactory, layer_cache: Path) -> Iterator[Synth]:
    yield synthesize(tmp_path_factory.mktemp("cdk-variant"), layer_cache, VARIANT_CONTEXT)


@pytest.fixture(scope="session")
def global_synth(tmp_path_factory: pytest.TempPathFactory, layer_cache: Path) -> Iterator[Synth]:
    yield synthesize(tmp_path_factory.mktemp("cdk-global"), layer_cache, GLOBAL_CONTEXT)


def resources(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    return {logical_id: dict(resource) for logical_id, resource in template.find_resources(kind).items()}


def single(template: Template, kind: str) -> dict[str, Any]:
    """The one resource of ``kind`` (its logical id is irrelevant)."""
    found = list(resources(template, kind).values())
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]
