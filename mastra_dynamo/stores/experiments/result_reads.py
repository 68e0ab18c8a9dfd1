"""Result reads: a result by id, the results of an experiment, and the review summary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path

from mastra_dynamo.errors import ValidationError
from mastra_dynamo.models import requests
from mastra_dynamo.models.base import TableItem
from mastra_dynamo.models.experiment_attributes import EPOCH_SECONDS
from mastra_dynamo.models.experiments import (
    IS_EXPERIMENT,
    IS_RESULT,
    ExperimentItem,
    ExperimentResultItem,
    ExperimentResultRefItem,
)
from mastra_dynamo.records.datasets import DatasetTenancyFilters, ListPagination
from mastra_dynamo.records.experiments import ExperimentResult, ExperimentResultsPage, ExperimentReviewCounts
from mastra_dynamo.schema import keys
from mastra_dynamo.stores import listing
from mastra_dynamo.stores.experiments import items as it
from mastra_dynamo.stores.experiments.collection import ExperimentCollection
from mastra_dynamo.stores.experiments.shapes import FilterShape, Marks, filter_shape
from mastra_dynamo.validate import is_list, require_id, resolve_order

_OWNER = ("experiment_id",)
_CREATED = ("created_at", "id")
_SUMMARY = ("id", *ExperimentItem.COUNTERS)
_BY_EXPERIMENT = requests.index_keys(ExperimentResultItem.gsi1)
_ONE_TAG = UnicodeAttribute(attr_name=ExperimentResultItem.tag_set.attr_name)
"""One element of ``tagSet`` (a ``contains`` operand is a string, not a set)."""
_ALL = requests.index_keys(ExperimentItem.gsi3)


class ResultReads(ExperimentCollection):
    """Result reads and the review summary."""

    def get_experiment_result_by_id(self, *, id: str, filters: DatasetTenancyFilters | Mapping[str, Any] | None = None
                                    ) -> ExperimentResult | None:
        """The result, or None when missing, expired or outside the tenancy filters."""
        require_id(id, field="id")
        scope = it.scope(filters)
        ref = self.alive(self._get(keys.experiment_result_ref_key(id)))
        owner = None if ref is None else ExperimentResultRefItem.decode_attributes(ref, _OWNER)["experiment_id"]
        if owner is None:
            return None
        stored = self.alive(self._get(keys.experiment_result_key(owner, id)))
        if stored is None or not it.in_scope(stored, scope):
            return None
        return ExperimentResultItem.record_from_raw(stored)

    def list_experiment_results(
        self,
        *,
        experiment_id: str,
        trace_id: str | None = None,
        status: str | None = None,
        tags: Sequence[str] | None = None,
        filters: DatasetTenancyFilters | Mapping[str, Any] | None = None,
        pagination: ListPagination | Mapping[str, Any] | None = None,
        order_by: Any = None,
    ) -> ExperimentResultsPage:
        """Results of an experiment (by ``startedAt`` ascending by default; ``order_by`` field startedAt or
        createdAt). ``tags``: results carrying all of them."""
        require_id(experiment_id, field="experiment_id")
        if tags is not None and not is_list(tags):
            raise ValidationError("tags must be a list", code="INVALID_INPUT")
        scope = it.scope(filters)
        page = it.window(pagination)
        field, direction = resolve_order(order_by, allowed=("startedAt", "createdAt"), default_field="startedAt",
                                         default_direction="ASC", strict=True)
        model = ExperimentResultItem
        equal = {"trace_id": trace_id, "status": status, "organization_id": scope.organization_id,
                 "project_id": scope.project_id}
        given = {name: value for name, value in equal.items() if value is not None}
        tag_values = {f"tag{i}": tag for i, tag in enumerate(tags or [])}
        bound = _results_filter(tuple(given), len(tag_values)).bind({**given, **tag_values, "now": self._now()})
        flt = requests.condition_filter(lambda: bound)
        if field == "createdAt":
            query = listing.PartitionQuery(None, "pk", "sk", keys.experiment_key(experiment_id).pk,
                                           sk_prefix=keys.EXPERIMENT_RESULT_PREFIX, consistent=True)
            rows = listing.collect(self.table, [query], ascending=True, filter_builder=flt, offset=0, limit=None)
            ordered = [(ExperimentResultItem.decode_attributes(r, _CREATED), r) for r in rows]
            ordered.sort(key=lambda o: (o[0]["created_at"], keys.component(o[0]["id"])), reverse=direction == "DESC")
            return ExperimentResultsPage(
                results=[model.record_from_raw(r) for _, r in ordered[page.offset:page.end]],
                pagination=it.info(page, len(rows)))
        queries = [listing.PartitionQuery(*_BY_EXPERIMENT, keys.experiment_results_pk(experiment_id))]
        items, total = listing.page_with_total(self.table, queries, ascending=direction == "ASC", filter_builder=flt,
                                               offset=page.offset, limit=page.limit)
        return ExperimentResultsPage(results=[model.record_from_raw(r) for r in items],
                                     pagination=it.info(page, total or 0))

    def get_review_summary(self, *, filters: DatasetTenancyFilters | Mapping[str, Any] | None = None
                           ) -> list[ExperimentReviewCounts]:
        """Per experiment with results: ``{experiment_id, total, needs_review, reviewed, complete}`` (from
        counters kept in the same transactions as the results)."""
        scope = it.scope(filters)
        queries = [listing.PartitionQuery(*_ALL, keys.experiments_global_pk(s))
                   for s in keys.all_shards(keys.GLOBAL_SHARDS)]
        tenancy = {"organization_id": scope.organization_id, "project_id": scope.project_id}
        given = {name: value for name, value in tenancy.items() if value is not None}
        bound = _summary_filter(tuple(given)).bind({**given, "now": self._now()})
        rows = listing.collect(self.table, queries, ascending=True, filter_builder=requests.condition_filter(
            lambda: bound), offset=0, limit=None)
        summary: list[ExperimentReviewCounts] = []
        for row in rows:
            counts = ExperimentItem.decode_attributes(row, _SUMMARY)
            summary.append(ExperimentReviewCounts(
                experiment_id=counts["id"], total=counts["result_count"] or 0,
                needs_review=counts["needs_review"] or 0, reviewed=counts["reviewed"] or 0,
                complete=counts["complete"] or 0))
        return summary


def _results_filter(given: tuple[str, ...], tags: int) -> FilterShape:
    """``list_experiment_results``: results, alive, equal to each ``given`` filter, carrying ``tags`` tags
    (marked ``tag0``, ``tag1``...)."""

    def build(marks: Marks) -> Condition:
        attributes = ExperimentResultItem.get_attributes()
        match: Condition = IS_RESULT & TableItem.not_expired(marks("now", EPOCH_SECONDS))
        for name in given:
            match &= attributes[name] == marks(name, attributes[name])
        for i in range(tags):
            match &= Path(_ONE_TAG).contains(marks(f"tag{i}", _ONE_TAG))
        return match

    return filter_shape(("list_experiment_results", given, tags), build)


def _summary_filter(given: tuple[str, ...]) -> FilterShape:
    """``get_review_summary``: experiments, alive, with results, in the ``given`` tenancy."""

    def build(marks: Marks) -> Condition:
        attributes = ExperimentItem.get_attributes()
        match: Condition = (IS_EXPERIMENT & TableItem.not_expired(marks("now", EPOCH_SECONDS))
                            & (ExperimentItem.result_count > 0))
        for name in given:
            match &= attributes[name] == marks(name, attributes[name])
        return match

    return filter_shape(("get_review_summary", given), build)
