"""The synthesized templates pass cfn-lint and cdk-nag's AwsSolutions pack; every suppression is justified."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file  # type: ignore[import-untyped]

from tests.infra.conftest import Synth

CFN_LINT_IGNORED = {
    # CDK always adds DependsOn: [role, default policy] to a Function whose Role it also references with
    # Fn::GetAtt; the explicit dependency is redundant (warning only) and guarantees the policy exists first.
    "W3005": "redundant DependsOn emitted by aws-cdk-lib for Lambda functions",
}


@pytest.fixture(params=["default", "variant", "global"])
def synth(request: pytest.FixtureRequest) -> Synth:
    result: Synth = request.getfixturevalue(f"{request.param}_synth")
    return result


def test_cfn_lint_is_clean(synth: Synth) -> None:
    config = ManualArgs(regions=["us-east-1", "eu-west-1"], ignore_checks=sorted(CFN_LINT_IGNORED))
    for stack in synth.stacks:
        path = Path(synth.assembly.get_stack_by_name(stack).template_full_path)
        matches = lint_file(path, config)
        assert not matches, "\n".join(str(m) for m in matches)


def test_cdk_nag_aws_solutions_has_no_unsuppressed_findings(synth: Synth) -> None:
    for stack in synth.stacks:
        artifact = synth.assembly.get_stack_by_name(stack)
        findings = [m.entry.data for m in artifact.messages if "AwsSolutions-" in str(m.entry.data)]
        assert findings == [], findings
        report = synth.outdir / f"AwsSolutions--{stack}-NagReport.csv"
        assert report.is_file(), "the AwsSolutions pack ran"
        rows = list(csv.DictReader(report.open(encoding="utf-8")))
        assert {r["Compliance"] for r in rows} <= {"Compliant", "Suppressed"}, rows


def test_pitr_and_deletion_protection_on_every_replica(synth: Synth) -> None:
    """cdk-nag 2.38 has no rule for ``AWS::DynamoDB::GlobalTable`` (its DDB3, point-in-time recovery, checks
    ``AWS::DynamoDB::Table`` only), so the table stack's report is empty: the same safeguard is checked here."""
    tables = synth.storage.find_resources("AWS::DynamoDB::GlobalTable")
    assert len(tables) == 1
    for table in tables.values():
        assert table["DeletionPolicy"] == "Retain"
        for replica in table["Properties"]["Replicas"]:
            assert replica["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
            assert replica["DeletionProtectionEnabled"] is True


def test_every_suppression_carries_a_justification(synth: Synth) -> None:
    seen = 0
    for stack in synth.stacks:
        for resource in synth.template_json(stack)["Resources"].values():
            rules: list[dict[str, Any]] = (resource.get("Metadata") or {}).get("cdk_nag", {}).get(
                "rules_to_suppress", [])
            for rule in rules:
                seen += 1
                assert rule["id"].startswith("AwsSolutions-")
                assert len(rule["reason"]) >= 60, rule  # a reason, not a shrug
    assert seen > 0 or synth.stacks == ["MastraStorage"]  # the table alone needs no suppression
