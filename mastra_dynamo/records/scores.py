"""Scores domain records (``ScoreRowData`` / ``SaveScorePayload``)."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, field_validator

from mastra_dynamo.records.base import PerPage, Record, UtcDatetime


class ScorePayload(Record):
    """What ``save_score`` accepts: a score without timestamps, ``id`` optional. Unknown fields are kept."""

    model_config = Record.model_config | {"extra": "allow"}

    id: str | None = None
    scorer_id: str
    entity_id: str
    run_id: str
    score: float
    scorer: dict[str, Any]
    source: Literal["LIVE", "TEST"]
    entity: dict[str, Any]
    output: Any = None
    input: Any = None
    additional_context: Any = None
    request_context: Any = None
    extract_step_result: Any = None
    extract_prompt: str | None = None
    analyze_step_result: Any = None
    analyze_prompt: str | None = None
    preprocess_step_result: Any = None
    preprocess_prompt: str | None = None
    generate_score_prompt: str | None = None
    generate_reason_prompt: str | None = None
    reason: str | None = None
    reason_prompt: str | None = None
    metadata: dict[str, Any] | None = None
    entity_type: str | None = None
    structured_output: bool | None = None
    trace_id: str | None = None
    span_id: str | None = None
    resource_id: str | None = None
    thread_id: str | None = None
    organization_id: str | None = None
    project_id: str | None = None
    batch_id: str | None = None
    dataset_id: str | None = None
    dataset_item_id: str | None = None

    @field_validator("score")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("score must be a finite number")
        return value


class Score(ScorePayload):
    """A stored score."""

    id: str
    created_at: UtcDatetime
    updated_at: UtcDatetime | None = None


class PaginationInfo(Record):
    total: int
    page: int
    per_page: PerPage
    has_more: bool


class ScoresPage(Record):
    scores: list[Score]
    pagination: PaginationInfo


class SaveScoreResult(Record):
    score: Score


class ScorePagination(Record):
    page: int = Field(default=0)
    per_page: PerPage | None = None


class TenancyFilters(Record):
    organization_id: str | None = None
    project_id: str | None = None
