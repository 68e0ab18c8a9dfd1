"""Experiment operations: create, get, update, list and delete experiments."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from pynamodb.constants import ALL_NEW
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from mastra_dynamo.errors import ConflictError, NotFoundError, ValidationError
from mastra_dynamo.models import requests
from mastra_dynamo.models.base import TableItem
from mastra_dynamo.models.experiment_attributes import EPOCH_SECONDS
from mastra_dynamo.models.experiments import IS_EXPERIMENT, ExperimentItem
from mastra_dynamo.records.base import coerce
from mastra_dynamo.records.datasets import UNSET, DatasetTenancyFilters, ListPagination, Unset
from mastra_dynamo.records.experiments import Experiment, ExperimentsPage
from mastra_dynamo.schema import keys
from mastra_dynamo.stores import listing
from mastra_dynamo.stores.experiments import items as it
from mastra_dynamo.stores.experiments.collection import ExperimentCollection, live
from mastra_dynamo.stores.experiments.shapes import (
    KEY_MARK,
    UNBOUND,
    FilterShape,
    Marks,
    Shape,
    filter_shape,
    key_values,
    put_shape,
    shape,
)
from mastra_dynamo.validate import optional_id, require_id, resolve_order

_UPDATABLE_EXPERIMENT = ("status", "total_items", "succeeded_count", "failed_count", "skipped_count",
                         "started_at", "completed_at", "name", "description", "metadata")
_BY_DATASET = requests.index_keys(ExperimentItem.gsi2)
_ALL = requests.index_keys(ExperimentItem.gsi3)
_ORDER = ("id", "status")


class ExperimentRuns(ExperimentCollection):
    """Experiments: create, get, update, list, delete."""

    def create_experiment(
        self,
        *,
        id: str | None = None,
        name: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        provenance: Mapping[str, Any] | None = None,
        runner_attestation: Mapping[str, Any] | None = None,
        experiment_set_id: str | None = None,
        comparison_id: str | None = None,
        variant_id: str | None = None,
        trial_index: int | None = None,
        dataset_id: str | None = None,
        dataset_version: int | None = None,
        target_type: str | None = None,
        target_id: str | None = None,
        scorer_ids: Sequence[str] | None = None,
        total_items: int = 0,
        agent_version: str | None = None,
        organization_id: str | None = None,
        project_id: str | None = None,
    ) -> Experiment:
        """Create an experiment: status ``pending``, counters 0, ``started_at``/``completed_at`` None.
        Raises ValidationError, ConflictError EXPERIMENT_ID_CONFLICT (the id exists)."""
        experiment_id = require_id(id, field="id") if id is not None else str(uuid.uuid4())
        optional_id(dataset_id, field="dataset_id")
        now = self.now()
        record = coerce(Experiment, {
            "id": experiment_id, "name": name, "description": description, "metadata": metadata,
            "provenance": provenance, "runner_attestation": runner_attestation,
            "experiment_set_id": experiment_set_id, "comparison_id": comparison_id, "variant_id": variant_id,
            "trial_index": trial_index, "dataset_id": dataset_id, "dataset_version": dataset_version,
            "target_type": target_type, "target_id": target_id, "scorer_ids": scorer_ids, "status": "pending",
            "total_items": total_items, "agent_version": agent_version, "organization_id": organization_id,
            "project_id": project_id, "created_at": now, "updated_at": now}, what="experiment")
        serialized = ExperimentItem.serialized(record, expires_at=self.ttl.expires_at("experiment"))
        request = put_shape("experiment", _absent_or_expired_experiment).bind(
            self.table.table_name, {"now": self._now()}, Item=serialized)
        try:
            self.table.call("PutItem", **request)
        except ConflictError:
            if self._get(keys.experiment_key(experiment_id)) == serialized:
                return record  # a resend of this very request (its answer was lost) found its own write
            raise ConflictError(f"experiment {experiment_id!r} already exists", code="EXPERIMENT_ID_CONFLICT",
                                details={"experiment_id": experiment_id}) from None
        return record

    def get_experiment_by_id(self, *, id: str,
                             filters: DatasetTenancyFilters | Mapping[str, Any] | None = None) -> Experiment | None:
        """The experiment, or None when missing, expired or outside the tenancy filters."""
        require_id(id, field="id")
        item = self.alive(self._get(keys.experiment_key(id)))
        if item is None or not it.in_scope(item, it.scope(filters)):
            return None
        return ExperimentItem.record_from_raw(item)

    def update_experiment(
        self,
        *,
        id: str,
        status: str | Unset = UNSET,
        total_items: int | Unset = UNSET,
        succeeded_count: int | Unset = UNSET,
        failed_count: int | Unset = UNSET,
        skipped_count: int | Unset = UNSET,
        started_at: datetime | str | Unset | None = UNSET,
        completed_at: datetime | str | Unset | None = UNSET,
        name: str | Unset | None = UNSET,
        description: str | Unset | None = UNSET,
        metadata: Mapping[str, Any] | Unset | None = UNSET,
        filters: DatasetTenancyFilters | Mapping[str, Any] | None = None,
    ) -> Experiment:
        """Set the given fields (None clears a nullable one) with one conditional UpdateItem.
        Raises NotFoundError EXPERIMENT_NOT_FOUND (missing, expired or outside the tenancy filters)."""
        require_id(id, field="id")
        scope = it.scope(filters)
        given = {k: v for k, v in {
            "status": status, "total_items": total_items, "succeeded_count": succeeded_count,
            "failed_count": failed_count, "skipped_count": skipped_count, "started_at": started_at,
            "completed_at": completed_at, "name": name, "description": description, "metadata": metadata,
        }.items() if v is not UNSET}
        for name_ in ("status", "total_items", "succeeded_count", "failed_count", "skipped_count"):
            if name_ in given and given[name_] is None:
                del given[name_]
        probe = coerce(Experiment, {"id": id, "created_at": self.now(), "updated_at": self.now(), **given},
                       what="experiment")
        changes: list[tuple[str, bool]] = []
        values: dict[str, Any] = {**key_values(keys.experiment_key(id)), "updated_at": self.now(), "now": self._now()}
        for field_name in given:
            value = getattr(probe, field_name)
            changes.append((field_name, value is None))
            if hasattr(value, "model_dump"):
                value = value.model_dump(by_alias=True, exclude_unset=True)
            values[field_name] = value
        tenancy = (("organization_id", scope.organization_id), ("project_id", scope.project_id))
        values.update((name, value) for name, value in tenancy if value is not None)
        scoped = tuple(name for name, value in tenancy if value is not None)
        request = _update_shape(tuple(changes), scoped).bind(self.table.table_name, values)
        try:
            result = self.table.call("UpdateItem", **request)
        except ConflictError:
            raise NotFoundError(f"Experiment not found: {id}", code="EXPERIMENT_NOT_FOUND",
                                details={"experiment_id": id}) from None
        return ExperimentItem.record_from_raw(result["Attributes"])

    def list_experiments(
        self,
        *,
        dataset_id: str | None = None,
        target_type: str | None = None,
        target_id: str | None = None,
        agent_version: str | None = None,
        status: str | None = None,
        experiment_set_id: str | None = None,
        comparison_id: str | None = None,
        variant_id: str | None = None,
        trial_index: int | None = None,
        filters: DatasetTenancyFilters | Mapping[str, Any] | None = None,
        pagination: ListPagination | Mapping[str, Any] | None = None,
        order_by: Any = None,
    ) -> ExperimentsPage:
        """Experiments matching every given filter, newest first by default (``order_by`` field createdAt
        or status; ties by id)."""
        optional_id(dataset_id, field="dataset_id")
        if trial_index is not None and (isinstance(trial_index, bool) or not isinstance(trial_index, int)):
            raise ValidationError("trial_index must be an integer", code="INVALID_INPUT")
        scope = it.scope(filters)
        page = it.window(pagination)
        field, direction = resolve_order(order_by, allowed=("createdAt", "status"), default_field="createdAt",
                                         default_direction="DESC", strict=True)
        if dataset_id is not None:
            queries = [listing.PartitionQuery(*_BY_DATASET, keys.experiments_by_dataset_pk(dataset_id))]
        else:
            queries = [listing.PartitionQuery(*_ALL, keys.experiments_global_pk(s))
                       for s in keys.all_shards(keys.GLOBAL_SHARDS)]
        model = ExperimentItem
        equal = {"dataset_id": dataset_id, "target_type": target_type, "target_id": target_id,
                 "agent_version": agent_version, "status": status, "experiment_set_id": experiment_set_id,
                 "comparison_id": comparison_id, "variant_id": variant_id,
                 "organization_id": scope.organization_id, "project_id": scope.project_id,
                 "trial_index": trial_index}
        given = {name: value for name, value in equal.items() if value is not None}
        bound = _list_filter(tuple(given)).bind({**given, "now": self._now()})
        flt = requests.condition_filter(lambda: bound)
        if field == "status":
            rows = listing.collect(self.table, queries, ascending=True, filter_builder=flt, offset=0, limit=None)
            ordered = [(ExperimentItem.decode_attributes(r, _ORDER), r) for r in rows]
            ordered.sort(key=lambda o: o[0]["id"])
            ordered.sort(key=lambda o: o[0].get("status") or "", reverse=direction == "DESC")
            chosen = [r for _, r in ordered[page.offset:page.end]]
            return ExperimentsPage(experiments=[model.record_from_raw(r) for r in chosen],
                                   pagination=it.info(page, len(rows)))
        items, total = listing.page_with_total(self.table, queries, ascending=direction == "ASC",
                                               filter_builder=flt, offset=page.offset, limit=page.limit)
        return ExperimentsPage(experiments=[model.record_from_raw(r) for r in items],
                               pagination=it.info(page, total or 0))

    def delete_experiment(self, *, id: str, filters: DatasetTenancyFilters | Mapping[str, Any] | None = None) -> None:
        """Delete the experiment and all its results (idempotent; not atomic: calling again finishes an
        interrupted delete). Missing or outside the tenancy filters: no-op."""
        require_id(id, field="id")
        item = self._get(keys.experiment_key(id))
        if item is not None:
            if self.alive(item) is not None and not it.in_scope(item, it.scope(filters)):
                return
            self.table.call("DeleteItem", **requests.delete_item(self.table.table_name, keys.experiment_key(id)))
        self._delete_children(id)


def _absent_or_expired_experiment(marks: Marks) -> Condition:
    """``create_experiment``: no experiment under the id, or an expired one (its ``ttl`` at or before now)."""
    return cast(Condition, TableItem.pk.does_not_exist() | (TableItem.ttl <= marks("now", EPOCH_SECONDS)))


def _update_shape(changes: tuple[tuple[str, bool], ...], scoped: tuple[str, ...]) -> Shape:
    """``update_experiment``: SET (or REMOVE, when the flag is set) each changed field and ``updatedAt``;
    condition: the experiment is alive and has the ``scoped`` tenancy values."""

    def build(marks: Marks) -> dict[str, Any]:
        attributes = ExperimentItem.get_attributes()
        actions: list[Action] = []
        for name, remove in changes:
            attribute = attributes[name]
            actions.append(attribute.remove() if remove else marks.set(name, attribute))
        actions.append(marks.set("updated_at", ExperimentItem.updated_at))
        condition = live(marks)
        for name in scoped:
            condition &= attributes[name] == marks(name, attributes[name])
        return requests.update_key(UNBOUND, KEY_MARK, actions, condition=condition, return_values=ALL_NEW)

    return shape(("update_experiment", changes, scoped), build)


def _list_filter(given: tuple[str, ...]) -> FilterShape:
    """``list_experiments``: experiments, alive, equal to each ``given`` filter."""

    def build(marks: Marks) -> Condition:
        attributes = ExperimentItem.get_attributes()
        match: Condition = IS_EXPERIMENT & ExperimentItem.not_expired(marks("now", EPOCH_SECONDS))
        for name in given:
            match &= attributes[name] == marks(name, attributes[name])
        return match

    return filter_shape(("list_experiments", given), build)
