"""``cdk synth`` through the real CLI (npm ``aws-cdk@2``, installed by ``make test`` into .tools/cdk), offline.

This is what ``make synth`` and ``cdk deploy`` run: cdk.json's app command, the CLI/library cloud-assembly
schema match, and cdk-nag failing the synth on an unsuppressed error. ``make test`` runs the suite inside a
network namespace with loopback only, so passing here means synth needs no network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra.app import STORAGE_STACK
from tests.infra.conftest import ROOT, offline_context

CDK = ROOT / ".tools" / "cdk" / "node_modules" / ".bin" / "cdk"


def test_cdk_synth_with_the_cli_offline(tmp_path: Path, layer_cache: Path) -> None:
    if not CDK.exists():
        if os.environ.get("MASTRA_DYNAMO_REQUIRE_ALL_BACKENDS") == "1":
            pytest.fail(f"{CDK} is missing (make test installs it: `make cdk-cli`)")
        pytest.skip("CDK CLI not installed (`make cdk-cli`)")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "CDK_DISABLE_VERSION_CHECK": "true",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
    for name in ("CDK_DEFAULT_ACCOUNT", "CDK_DEFAULT_REGION", "AWS_PROFILE"):
        env.pop(name, None)
    out = tmp_path / "cdk.out"
    context = [f"{key}={value}" for key, value in {**offline_context(), "mastra:layerCache": layer_cache}.items()]
    result = subprocess.run(
        [str(CDK), "synth", "--no-notices", "--quiet", "--output", str(out),
         *(argument for pair in context for argument in ("--context", pair))],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    stacks = {name for name, a in manifest["artifacts"].items() if a["type"] == "aws:cloudformation:stack"}
    assert stacks == {STORAGE_STACK}  # the example function only with -c mastra:lambda=true
    template = json.loads((out / f"{STORAGE_STACK}.template.json").read_text(encoding="utf-8"))
    kinds = sorted(r["Type"] for r in template["Resources"].values() if r["Type"] != "AWS::CDK::Metadata")
    assert kinds == ["AWS::DynamoDB::GlobalTable", "AWS::SSM::Parameter", "AWS::SSM::Parameter"]
