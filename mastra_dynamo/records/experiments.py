"""Experiments domain records (spec 3.7): experiments, per-item results, review counts, list results."""

from __future__ import annotations

from typing import Any, Literal

from mastra_dynamo.records.base import Record, UtcDatetime
from mastra_dynamo.records.datasets import TargetType
from mastra_dynamo.records.scores import PaginationInfo

ExperimentStatus = Literal["pending", "running", "completed", "failed"]
ResultStatus = Literal["needs-review", "reviewed", "complete"]


class ExperimentProvenance(Record):
    model_config = Record.model_config | {"extra": "allow"}

    source: str | None = None
    source_id: str | None = None
    source_version: str | None = None
    metadata: dict[str, Any] | None = None


class RunnerAttestation(Record):
    model_config = Record.model_config | {"extra": "allow"}

    runner_id: str
    invocation_id: str
    runner_version: str | None = None


class ResultError(Record):
    model_config = Record.model_config | {"extra": "allow"}

    message: str
    stack: str | None = None
    code: str | None = None


class Experiment(Record):
    id: str
    name: str | None = None
    description: str | None = None
    metadata: dict[str, Any] | None = None
    provenance: ExperimentProvenance | None = None
    runner_attestation: RunnerAttestation | None = None
    experiment_set_id: str | None = None
    comparison_id: str | None = None
    variant_id: str | None = None
    trial_index: int | None = None
    dataset_id: str | None = None
    dataset_version: int | None = None
    target_type: TargetType | None = None
    target_id: str | None = None
    scorer_ids: list[str] | None = None
    status: ExperimentStatus = "pending"
    total_items: int = 0
    succeeded_count: int = 0
    failed_count: int = 0
    skipped_count: int = 0
    agent_version: str | None = None
    organization_id: str | None = None
    project_id: str | None = None
    started_at: UtcDatetime | None = None
    completed_at: UtcDatetime | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class ExperimentResult(Record):
    id: str
    experiment_id: str
    item_id: str
    item_dataset_version: int | None = None
    input: Any = None
    output: Any = None
    ground_truth: Any = None
    metadata: dict[str, Any] | None = None
    error: ResultError | None = None
    started_at: UtcDatetime
    completed_at: UtcDatetime
    retry_count: int = 0
    attempt: int = 0
    trace_id: str | None = None
    status: ResultStatus | None = None
    tags: list[str] | None = None
    comment: str | None = None
    tool_mock_report: Any = None
    organization_id: str | None = None
    project_id: str | None = None
    created_at: UtcDatetime


class ExperimentResultInput(Record):
    """What ``add_experiment_result`` / ``upsert_experiment_result`` accept (``id`` optional)."""

    id: str | None = None
    experiment_id: str
    item_id: str
    item_dataset_version: int | None = None
    input: Any = None
    output: Any = None
    ground_truth: Any = None
    metadata: dict[str, Any] | None = None
    error: ResultError | None = None
    started_at: UtcDatetime | None = None
    completed_at: UtcDatetime | None = None
    retry_count: int = 0
    attempt: int = 0
    trace_id: str | None = None
    status: ResultStatus | None = None
    tags: list[str] | None = None
    tool_mock_report: Any = None
    organization_id: str | None = None
    project_id: str | None = None


class ExperimentReviewCounts(Record):
    experiment_id: str
    total: int
    needs_review: int
    reviewed: int
    complete: int


class ExperimentsPage(Record):
    experiments: list[Experiment]
    pagination: PaginationInfo


class ExperimentResultsPage(Record):
    results: list[ExperimentResult]
    pagination: PaginationInfo


__all__ = [
    "Experiment",
    "ExperimentProvenance",
    "ExperimentResult",
    "ExperimentResultInput",
    "ExperimentResultsPage",
    "ExperimentReviewCounts",
    "ExperimentStatus",
    "ExperimentsPage",
    "ResultError",
    "ResultStatus",
    "RunnerAttestation",
]
