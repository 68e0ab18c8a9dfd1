"""Constants and helpers of the experiments domain: entity types, counters, pagination and tenancy helpers,
and the scrub of a result whose dataset item was purged. The items themselves are the PynamoDB models of
``mastra_dynamo.models.experiments``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from pynamodb.attributes import Attribute

from mastra_dynamo.dynamo.client import TableClient
from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.errors import ConflictError
from mastra_dynamo.models import requests
from mastra_dynamo.models.experiments import (
    ENTITY_EXPERIMENT,
    ENTITY_ITEM_LINK,
    ENTITY_RESULT,
    ENTITY_RESULT_REF,
    ENTITY_SLOT,
    ExperimentItem,
    ExperimentResultItem,
)
from mastra_dynamo.pagination import Pagination, paginate
from mastra_dynamo.records.base import coerce
from mastra_dynamo.records.datasets import DatasetTenancyFilters, ListPagination
from mastra_dynamo.records.scores import PaginationInfo
from mastra_dynamo.schema import keys

__all__ = [
    "DEFAULT_PER_PAGE", "ENTITY_EXPERIMENT", "ENTITY_ITEM_LINK", "ENTITY_RESULT", "ENTITY_RESULT_REF", "ENTITY_SLOT",
    "MAX_WRITE_ATTEMPTS", "PURGED_RESULT_FIELDS", "REVIEW_COUNTERS", "STATUS_COUNTERS", "counter", "in_scope", "info",
    "scope", "scrub_result", "window",
]

DEFAULT_PER_PAGE = 100
MAX_WRITE_ATTEMPTS = 50

_ATTRIBUTES = ExperimentResultItem.get_attributes()
PURGED_RESULT_FIELDS = tuple(_ATTRIBUTES[name].attr_name for name in ExperimentResultItem.PURGED
                             if name != "tag_set")
"""Result attributes a purge of the dataset item removes (``metadata`` becomes the purge marker)."""
STATUS_COUNTERS = {"needs-review": "needsReview", "reviewed": "reviewed", "complete": "complete"}
"""The experiment's review counter of each result status."""
REVIEW_COUNTERS = ("resultCount", "needsReview", "reviewed", "complete")
_COUNTERS: dict[str, Attribute[int]] = {attribute.attr_name: attribute for attribute in (
    ExperimentItem.get_attributes()[name] for name in ExperimentItem.COUNTERS)}


def counter(name: str) -> Attribute[int]:
    """The experiment model's attribute of review counter ``name`` (one of :data:`REVIEW_COUNTERS`)."""
    return _COUNTERS[name]


def scrub_result(table: TableClient, experiment_id: str, result_id: str, marker: Mapping[str, Any]) -> None:
    """Remove a result's payload (its dataset item was purged); ``metadata`` becomes ``marker``."""
    result = ExperimentResultItem
    actions = [result.metadata.set(dict(marker)), result.rev.set((result.rev | 0) + 1),
               *(_ATTRIBUTES[name].remove() for name in result.PURGED)]
    request = requests.update_key(table.table_name, keys.experiment_result_key(experiment_id, result_id), actions,
                                  condition=result.pk.exists())
    with contextlib.suppress(ConflictError):  # the result is gone
        table.call("UpdateItem", **request)


def window(pagination: ListPagination | Mapping[str, Any] | None) -> Pagination:
    pg = coerce(ListPagination, pagination or {}, what="pagination")
    return paginate(pg.page, pg.per_page, default=DEFAULT_PER_PAGE)


def info(pagination: Pagination, total: int) -> PaginationInfo:
    return PaginationInfo(total=total, page=pagination.page, per_page=pagination.per_page,
                          has_more=pagination.has_more(total))


def scope(filters: DatasetTenancyFilters | Mapping[str, Any] | None) -> DatasetTenancyFilters:
    return coerce(DatasetTenancyFilters, filters or {}, what="filters")


_TENANCY = ("organization_id", "project_id")
"""Tenancy of a stored experiment or result (both models store it under the same attribute names)."""


def in_scope(item: Item, scope: DatasetTenancyFilters) -> bool:
    """Whether a stored experiment or result (both have the tenancy attributes) lies within ``scope``."""
    if scope.organization_id is None and scope.project_id is None:
        return True
    tenancy = ExperimentItem.decode_attributes(item, _TENANCY)
    if scope.organization_id is not None and tenancy.get("organization_id") != scope.organization_id:
        return False
    return scope.project_id is None or tenancy.get("project_id") == scope.project_id
