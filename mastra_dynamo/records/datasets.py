"""Datasets domain records (spec 3.6): datasets, SCD-2 item rows, dataset versions, list arguments/results."""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import Field

from mastra_dynamo.records.base import PerPage, Record, UtcDatetime
from mastra_dynamo.records.scores import PaginationInfo

TargetType = Literal["agent", "workflow", "scorer", "processor"]
SourceType = Literal["csv", "json", "trace", "llm", "experiment-result", "candidate-screener"]
UnmockedToolPolicy = Literal["allow", "deny"]


class Unset(Enum):
    """Type of :data:`UNSET`: the default of update arguments, meaning "leave this field as it is"."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET = Unset.UNSET
"""Default of every update argument: the field is not changed. ``None`` clears a nullable field."""


class ToolMock(Record):
    """One mocked tool call of a dataset item (``{toolName, args, output, matchArgs?}``)."""

    model_config = Record.model_config | {"extra": "allow"}

    tool_name: str
    args: Any = None
    output: Any = None
    match_args: Any = None


class ItemSource(Record):
    """Where a dataset item came from (``{type, referenceId?}``)."""

    model_config = Record.model_config | {"extra": "allow"}

    type: SourceType
    reference_id: str | None = None


class DatasetItemPayload(Record):
    """What ``add_item`` / ``batch_insert_items`` accept for one item."""

    input: Any = None
    ground_truth: Any = None
    expected_trajectory: Any = None
    tool_mocks: list[ToolMock] | None = None
    unmocked_tool_policy: UnmockedToolPolicy | None = None
    scorer_ids: list[str] | None = None
    request_context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    source: ItemSource | None = None
    external_id: str | None = None


class Dataset(Record):
    """A dataset (``DatasetRecord``). ``version`` counts item mutations (0 when created)."""

    id: str
    name: str
    description: str | None = None
    metadata: dict[str, Any] | None = None
    input_schema: dict[str, Any] | None = None
    ground_truth_schema: dict[str, Any] | None = None
    request_context_schema: dict[str, Any] | None = None
    tags: list[str] | None = None
    target_type: TargetType | None = None
    target_ids: list[str] | None = None
    scorer_ids: list[str] | None = None
    organization_id: str | None = None
    project_id: str | None = None
    candidate_key: str | None = None
    candidate_id: str | None = None
    version: int = 0
    created_at: UtcDatetime
    updated_at: UtcDatetime


class DatasetItem(Record):
    """The state of one item at one dataset version (``DatasetItem``)."""

    id: str
    dataset_id: str
    dataset_version: int
    external_id: str | None = None
    organization_id: str | None = None
    project_id: str | None = None
    input: Any = None
    ground_truth: Any = None
    expected_trajectory: Any = None
    tool_mocks: list[ToolMock] | None = None
    unmocked_tool_policy: UnmockedToolPolicy | None = None
    scorer_ids: list[str] | None = None
    request_context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    source: ItemSource | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class DatasetItemRow(DatasetItem):
    """One SCD-2 history row: visible at version V when ``dataset_version <= V``, ``valid_to`` is None or
    greater than V, and the row is not a tombstone."""

    valid_to: int | None = None
    is_deleted: bool = False


class DatasetVersion(Record):
    id: str
    dataset_id: str
    version: int
    created_at: UtcDatetime


class DatasetTenancyFilters(Record):
    """Tenancy scope of a call: a record of another organization/project looks like a missing one."""

    organization_id: str | None = None
    project_id: str | None = None


class DatasetListFilters(Record):
    organization_id: str | None = None
    project_id: str | None = None
    candidate_key: str | None = None
    candidate_id: str | None = None
    target_type: TargetType | None = None
    target_ids: list[str] | None = None
    """Any overlap with the dataset's ``target_ids``."""
    name: str | None = None
    """Case-insensitive substring of the name."""


class ListPagination(Record):
    page: int = Field(default=0)
    per_page: PerPage | None = None


class DatasetsPage(Record):
    datasets: list[Dataset]
    pagination: PaginationInfo


class DatasetItemsPage(Record):
    items: list[DatasetItem]
    pagination: PaginationInfo


class DatasetVersionsPage(Record):
    versions: list[DatasetVersion]
    pagination: PaginationInfo


__all__ = [
    "UNSET",
    "Dataset",
    "DatasetItem",
    "DatasetItemPayload",
    "DatasetItemRow",
    "DatasetItemsPage",
    "DatasetListFilters",
    "DatasetTenancyFilters",
    "DatasetVersion",
    "DatasetVersionsPage",
    "DatasetsPage",
    "ItemSource",
    "ListPagination",
    "PaginationInfo",
    "SourceType",
    "TargetType",
    "ToolMock",
    "UnmockedToolPolicy",
    "Unset",
]
