"""Result writes: add, upsert and review updates of results (each one transaction with the experiment's
counters and, for dataset items, the purge check and link row), and the delete of an experiment's results.
"""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path
from pynamodb.expressions.update import Action

from mastra_dynamo.dynamo.bridge import pause
from mastra_dynamo.dynamo.client import TransactionCancelled
from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.errors import ConflictError, NotFoundError, ValidationError
from mastra_dynamo.models import requests
from mastra_dynamo.models.experiment_attributes import EPOCH_SECONDS
from mastra_dynamo.models.experiments import (
    DatasetItemLinkItem,
    DatasetItemPointerView,
    ExperimentItem,
    ExperimentResultItem,
    ExperimentResultRefItem,
    ExperimentResultSlotItem,
    epoch_of,
    not_purged,
)
from mastra_dynamo.records.base import coerce
from mastra_dynamo.records.datasets import UNSET, DatasetTenancyFilters, Unset
from mastra_dynamo.records.experiments import ExperimentResult, ExperimentResultInput
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.table import TABLE_SPEC
from mastra_dynamo.stores.base import MAX_CONFLICT_RETRIES
from mastra_dynamo.stores.experiments import items as it
from mastra_dynamo.stores.experiments.collection import ExperimentCollection, absent_or_expired, live
from mastra_dynamo.stores.experiments.shapes import KEY_MARK, UNBOUND, Marks, Shape, key_values, put_shape, shape
from mastra_dynamo.validate import optional_id, require_id

_OWNER = ("organization_id", "project_id", "ttl")
_POINTER = ("dataset_id", "purged", "purged_at", "ttl")
_EXISTING = ("id", "created_at", "comment", "status", "rev")
_SLOT_RESULT = ("result_id",)
_REF_OWNER = ("experiment_id",)
_REV = ("rev",)


class ResultWrites(ExperimentCollection):
    """Result writes, serialised with the experiment's counters (see the module docstring)."""

    def _sleep(self, seconds: float) -> None:
        pause(seconds)

    def _backoff(self, attempt: int) -> None:
        """Jittered pause after a lost race (every result write also updates its experiment's counters)."""
        self._sleep(random.uniform(0, min(0.2, 0.003 * (2 ** min(attempt, 8)))))

    def add_experiment_result(
        self,
        *,
        experiment_id: str,
        item_id: str,
        input: Any = None,
        output: Any = None,
        ground_truth: Any = None,
        metadata: Mapping[str, Any] | None = None,
        error: Mapping[str, Any] | None = None,
        started_at: datetime | str | None = None,
        completed_at: datetime | str | None = None,
        retry_count: int = 0,
        attempt: int = 0,
        trace_id: str | None = None,
        status: str | None = None,
        tags: Sequence[str] | None = None,
        tool_mock_report: Any = None,
        item_dataset_version: int | None = None,
        organization_id: str | None = None,
        project_id: str | None = None,
        id: str | None = None,
    ) -> ExperimentResult:
        """Add a result (``id`` optional; ``started_at``/``completed_at`` default to now; tenancy defaults to
        the experiment's). When the item is a purged dataset item, the payload fields (input, output, ground
        truth, error, tags, tool mock report) are stored as None and ``metadata`` is the purge marker.

        Raises: NotFoundError EXPERIMENT_NOT_FOUND; ConflictError EXPERIMENT_RESULT_ID_CONFLICT;
        ValidationError (INVALID_INPUT, INVALID_JSON, EXPERIMENT_TENANCY_MISMATCH)."""
        data = coerce(ExperimentResultInput, {
            "id": id, "experiment_id": experiment_id, "item_id": item_id, "input": input, "output": output,
            "ground_truth": ground_truth, "metadata": metadata, "error": error, "started_at": started_at,
            "completed_at": completed_at, "retry_count": retry_count, "attempt": attempt, "trace_id": trace_id,
            "status": status, "tags": tags, "tool_mock_report": tool_mock_report,
            "item_dataset_version": item_dataset_version, "organization_id": organization_id,
            "project_id": project_id}, what="result")
        return self._write_result(data, upsert=False)

    def upsert_experiment_result(
        self,
        *,
        experiment_id: str,
        item_id: str,
        input: Any = None,
        output: Any = None,
        ground_truth: Any = None,
        metadata: Mapping[str, Any] | None = None,
        error: Mapping[str, Any] | None = None,
        started_at: datetime | str | None = None,
        completed_at: datetime | str | None = None,
        retry_count: int = 0,
        attempt: int = 0,
        trace_id: str | None = None,
        status: str | None = None,
        tags: Sequence[str] | None = None,
        tool_mock_report: Any = None,
        item_dataset_version: int | None = None,
        organization_id: str | None = None,
        project_id: str | None = None,
        id: str | None = None,
    ) -> ExperimentResult:
        """Insert, or replace the result keyed by ``(experiment_id, item_id, attempt)``: a replacement keeps
        the stored ``id``, ``created_at`` and ``comment`` (``id`` is used only for an insert). Same purge rule
        and errors as ``add_experiment_result``; concurrent upserts of one key converge on one result."""
        data = coerce(ExperimentResultInput, {
            "id": id, "experiment_id": experiment_id, "item_id": item_id, "input": input, "output": output,
            "ground_truth": ground_truth, "metadata": metadata, "error": error, "started_at": started_at,
            "completed_at": completed_at, "retry_count": retry_count, "attempt": attempt, "trace_id": trace_id,
            "status": status, "tags": tags, "tool_mock_report": tool_mock_report,
            "item_dataset_version": item_dataset_version, "organization_id": organization_id,
            "project_id": project_id}, what="result")
        return self._write_result(data, upsert=True)

    def _write_result(self, data: ExperimentResultInput, *, upsert: bool) -> ExperimentResult:
        require_id(data.experiment_id, field="experiment_id")
        require_id(data.item_id, field="item_id")
        if data.id is not None:
            require_id(data.id, field="id")
        for name in ("trace_id", "organization_id", "project_id"):
            optional_id(getattr(data, name), field=name)
        if data.attempt < 0 or data.retry_count < 0:
            raise ValidationError("attempt and retry_count must be >= 0", code="INVALID_INPUT")
        exp_key = keys.experiment_key(data.experiment_id)
        ref_key = keys.dataset_item_ref_key(data.item_id)
        slot_key = keys.experiment_result_slot_key(data.experiment_id, data.item_id, data.attempt)
        for attempt in range(it.MAX_WRITE_ATTEMPTS):
            if attempt:
                self._backoff(attempt)
            found = self.table.batch_get([exp_key, ref_key, slot_key])
            experiment = self.alive(found.get((exp_key.pk, exp_key.sk)))
            if experiment is None:
                raise NotFoundError(f"Experiment not found: {data.experiment_id}", code="EXPERIMENT_NOT_FOUND",
                                    details={"experiment_id": data.experiment_id})
            pointer = self.alive(found.get((ref_key.pk, ref_key.sk)))
            slot = self.alive(found.get((slot_key.pk, slot_key.sk)))
            existing: Item | None = None
            if upsert and slot is not None:
                named = ExperimentResultSlotItem.decode_attributes(slot, _SLOT_RESULT)["result_id"]
                existing = self.alive(self._get(keys.experiment_result_key(data.experiment_id, named)))
            try:
                return self._try_write(data, experiment, pointer, slot, existing, upsert=upsert)
            except _Again:
                continue
        raise ConflictError("experiment result: too much contention; retry",
                            details={"experiment_id": data.experiment_id, "item_id": data.item_id})

    def _try_write(self, data: ExperimentResultInput, experiment: Item, pointer: Item | None, slot: Item | None,
                   existing: Item | None, *, upsert: bool) -> ExperimentResult:
        now = self.now()
        owner = ExperimentItem.decode_attributes(experiment, _OWNER)
        organization_id = data.organization_id or owner.get("organization_id")
        project_id = data.project_id or owner.get("project_id")
        for given, owned, label in ((data.organization_id, owner.get("organization_id"), "organization_id"),
                                    (data.project_id, owner.get("project_id"), "project_id")):
            if given is not None and owned is not None and given != owned:
                raise ValidationError(f"result {label} differs from the experiment's",
                                      code="EXPERIMENT_TENANCY_MISMATCH",
                                      details={"experiment_id": data.experiment_id, "field": label})
        values = data.model_dump(exclude={"id"})
        values.update(organization_id=organization_id, project_id=project_id,
                      started_at=data.started_at or now, completed_at=data.completed_at or now)
        item_pointer = DatasetItemPointerView.decode_attributes(pointer, _POINTER) if pointer is not None else {}
        purged = bool(item_pointer.get("purged"))
        if purged:
            values.update(input=None, output=None, ground_truth=None, error=None, tags=None, tool_mock_report=None,
                          metadata={"__purged": True, "purgedAt": item_pointer.get("purged_at")})
        stored = ExperimentResultItem.decode_attributes(existing, _EXISTING) if existing is not None else None
        if stored is not None:
            values.update(id=stored["id"], created_at=stored["created_at"], comment=stored.get("comment"))
        else:
            values.update(id=data.id or str(uuid.uuid4()), created_at=now, comment=None)
        record = coerce(ExperimentResult, values, what="result")
        link_dataset: str | None = item_pointer.get("dataset_id")
        expires_at = epoch_of(owner.get("ttl"))
        rev = (stored.get("rev") or 0) + 1 if stored is not None else 1
        serialized = ExperimentResultItem.serialized(record, rev=rev, link_dataset_id=link_dataset,
                                                     expires_at=expires_at)
        table = self.table.table_name
        at_now = {"now": self._now()}
        actions: list[dict[str, Any]] = []
        roles: list[str] = []

        def add(role: str, kind: requests.TransactKind, request: dict[str, Any]) -> None:
            roles.append(role)
            actions.append(requests.transact(kind, request))

        if stored is not None:
            if stored.get("rev") is None:
                add("result", "Put", put_shape("no revision", _no_revision).bind(table, {}, Item=serialized))
            else:
                add("result", "Put", put_shape("revision", _same_revision).bind(table, {"rev": stored["rev"]},
                                                                                Item=serialized))
        else:
            create = put_shape("create", absent_or_expired)
            add("result", "Put", create.bind(table, at_now, Item=serialized))
            add("ref", "Put", create.bind(table, at_now, Item=ExperimentResultRefItem.serialized(
                record, expires_at=expires_at)))
            add("slot", "Update", self._slot_update(record, slot, expires_at, upsert=upsert))
        if pointer is not None and link_dataset is not None and not purged:
            add("item", "ConditionCheck", shape("item not purged", _item_not_purged).bind(
                table, key_values(keys.dataset_item_ref_key(record.item_id))))
            link = DatasetItemLinkItem.serialized(link_dataset, record, expires_at=epoch_of(item_pointer.get("ttl")))
            add("link", "Put", put_shape("link").bind(table, {}, Item=link))
        old_status = stored.get("status") if stored is not None else None
        deltas: dict[str, int] = {} if stored is not None else {"resultCount": 1}
        if old_status in it.STATUS_COUNTERS:
            deltas[it.STATUS_COUNTERS[old_status]] = deltas.get(it.STATUS_COUNTERS[old_status], 0) - 1
        if record.status in it.STATUS_COUNTERS:
            deltas[it.STATUS_COUNTERS[record.status]] = deltas.get(it.STATUS_COUNTERS[record.status], 0) + 1
        roles.append("experiment")
        actions.append(self._counters(record.experiment_id, deltas))
        try:
            self.table.transact_write(actions)
        except TransactionCancelled as exc:
            failed = {roles[i] for i, r in enumerate(exc.reasons) if r == "ConditionalCheckFailed" and i < len(roles)}
            if stored is None and data.id is not None and failed & {"result", "ref"}:
                raise ConflictError(f"experiment result {data.id!r} already exists",
                                    code="EXPERIMENT_RESULT_ID_CONFLICT", details={"result_id": data.id}) from None
            if not any(r in ("ConditionalCheckFailed", "TransactionConflict") for r in exc.reasons if r):
                raise
            raise _Again() from None
        return record

    def _slot_update(self, record: ExperimentResult, slot: Item | None, expires_at: int | None, *,
                     upsert: bool) -> dict[str, Any]:
        """The slot of (experiment, item, attempt) names the newest result; an upsert creates it only if it is
        still the way it was read (absent, or pointing at a result that no longer exists)."""
        key = keys.experiment_result_slot_key(record.experiment_id, record.item_id, record.attempt)
        values: dict[str, Any] = {**key_values(key), "result_id": record.id, "item_id": record.item_id,
                                  "attempt": record.attempt, "result_ids": {record.id}}
        guard = "none"
        if upsert and slot is None:
            guard = "absent"
            values["now"] = self._now()
        elif upsert and slot is not None:
            guard = "same"
            values["read_result_id"] = ExperimentResultSlotItem.decode_attributes(slot, _SLOT_RESULT)["result_id"]
        if expires_at is not None:
            values["ttl"] = expires_at
        return _slot_shape(expires_at is not None, guard).bind(self.table.table_name, values)

    def _counters(self, experiment_id: str, deltas: Mapping[str, int]) -> dict[str, Any]:
        """The experiment's part of a result transaction: ADD the counter ``deltas`` (or only check the
        experiment when none changes); either way the experiment must exist and be alive."""
        changed = tuple(name for name, delta in deltas.items() if delta)
        values = {**key_values(keys.experiment_key(experiment_id)), "now": self._now(),
                  **{name: deltas[name] for name in changed}}
        if not changed:
            return requests.transact("ConditionCheck", shape("experiment alive", _experiment_alive).bind(
                self.table.table_name, values))
        return requests.transact("Update", _counters_shape(changed).bind(self.table.table_name, values))

    def update_experiment_result(
        self,
        *,
        id: str,
        experiment_id: str | None = None,
        status: str | Unset | None = UNSET,
        tags: Sequence[str] | Unset | None = UNSET,
        comment: str | Unset | None = UNSET,
    ) -> ExperimentResult:
        """Change a result's review fields (None clears; ``comment=None`` removes the comment).
        Raises NotFoundError EXPERIMENT_RESULT_NOT_FOUND (missing, or of another experiment)."""
        require_id(id, field="id")
        if experiment_id is not None:
            require_id(experiment_id, field="experiment_id")
        ref = self.alive(self._get(keys.experiment_result_ref_key(id)))
        owner = None if ref is None else ExperimentResultRefItem.decode_attributes(ref, _REF_OWNER)["experiment_id"]
        if owner is None or (experiment_id is not None and owner != experiment_id):
            raise NotFoundError(f"Experiment result not found: {id}", code="EXPERIMENT_RESULT_NOT_FOUND",
                                details={"result_id": id})
        model = ExperimentResultItem
        for attempt in range(MAX_CONFLICT_RETRIES * 4):
            if attempt:
                self._backoff(attempt)
            stored = self.alive(self._get(keys.experiment_result_key(owner, id)))
            if stored is None:
                raise NotFoundError(f"Experiment result not found: {id}", code="EXPERIMENT_RESULT_NOT_FOUND",
                                    details={"result_id": id})
            current = model.record_from_raw(stored)
            given = {name: value for name, value in (("status", status), ("tags", tags), ("comment", comment))
                     if value is not UNSET}
            data = current.model_dump()
            data.update({k: (list(v) if k == "tags" and v is not None else v) for k, v in given.items()})
            record = coerce(ExperimentResult, data, what="result")
            values: dict[str, Any] = {**key_values(keys.experiment_result_key(owner, id))}
            changes: list[tuple[str, bool]] = []
            for name in given:
                value = getattr(record, name)
                changes.append((name, value is None))
                values[name] = value
            if "tags" in given:
                changes.append(("tag_set", not record.tags))
                values["tag_set"] = set(record.tags or ())
            old_rev = ExperimentResultItem.decode_attributes(stored, _REV)["rev"]
            values["rev"] = old_rev
            transaction: list[dict[str, Any]] = [requests.transact("Update", _review_shape(
                tuple(changes), old_rev is not None).bind(self.table.table_name, values))]
            deltas: dict[str, int] = {}
            if current.status != record.status:
                if current.status in it.STATUS_COUNTERS:
                    deltas[it.STATUS_COUNTERS[current.status]] = -1
                if record.status in it.STATUS_COUNTERS:
                    deltas[it.STATUS_COUNTERS[record.status]] = 1
            if deltas:
                transaction.append(self._counters(owner, deltas))
            try:
                self.table.transact_write(transaction)
            except TransactionCancelled as exc:
                if not any(r in ("ConditionalCheckFailed", "TransactionConflict") for r in exc.reasons if r):
                    raise
                if len(exc.reasons) > 1 and exc.reasons[1] == "ConditionalCheckFailed":
                    raise NotFoundError(f"Experiment not found: {owner}", code="EXPERIMENT_NOT_FOUND",
                                        details={"experiment_id": owner}) from None
                continue
            return record
        raise ConflictError(f"update_experiment_result: too much contention on {id!r}; retry",
                            details={"result_id": id})

    def delete_experiment_results(self, *, experiment_id: str,
                                  filters: DatasetTenancyFilters | Mapping[str, Any] | None = None) -> None:
        """Delete every result of an experiment and reset its review counters. With tenancy filters, an
        experiment that is missing or outside them is left alone. Not atomic; idempotent."""
        require_id(experiment_id, field="experiment_id")
        scope = it.scope(filters)
        if scope.organization_id is not None or scope.project_id is not None:
            parent = self.alive(self._get(keys.experiment_key(experiment_id)))
            if parent is None or not it.in_scope(parent, scope):
                return
        self._delete_children(experiment_id)
        request = shape("reset counters", _reset_counters).bind(self.table.table_name,
                                                                 key_values(keys.experiment_key(experiment_id)))
        with contextlib.suppress(ConflictError):  # the experiment itself is gone
            self.table.call("UpdateItem", **request)


def _same_revision(marks: Marks) -> Condition:
    """Optimistic concurrency: the result still has the revision ``rev`` that was read."""
    return cast(Condition, ExperimentResultItem.rev == marks("rev", ExperimentResultItem.rev))


def _no_revision(marks: Marks) -> Condition:
    """Optimistic concurrency for a result read without a revision: it still has none."""
    return ExperimentResultItem.rev.does_not_exist()


def _item_not_purged(marks: Marks) -> dict[str, Any]:
    return requests.condition_check(UNBOUND, KEY_MARK, not_purged())


def _experiment_alive(marks: Marks) -> dict[str, Any]:
    return requests.condition_check(UNBOUND, KEY_MARK, live(marks))


def _counters_shape(changed: tuple[str, ...]) -> Shape:
    """ADD each ``changed`` review counter's delta (marked by the counter's name) to a live experiment."""

    def build(marks: Marks) -> dict[str, Any]:
        adds = [it.counter(name).add(marks(name, it.counter(name))) for name in changed]
        return requests.update_key(UNBOUND, KEY_MARK, adds, condition=live(marks))

    return shape(("counters", changed), build)


def _reset_counters(marks: Marks) -> dict[str, Any]:
    """``delete_experiment_results``: every review counter back to 0, when the experiment exists."""
    reset = [it.counter(name).set(0) for name in it.REVIEW_COUNTERS]
    return requests.update_key(UNBOUND, KEY_MARK, reset, condition=ExperimentItem.pk.exists())


def _slot_shape(with_ttl: bool, guard: str) -> Shape:
    """The slot Update: SET ``resultId``, ``itemId``, ``attempt``, ``_et``, ``_sv`` (and ``ttl``), ADD the
    result to ``resultIds``; ``guard`` none, absent (absent or expired) or same (names the result read)."""

    def build(marks: Marks) -> dict[str, Any]:
        model = ExperimentResultSlotItem
        actions: list[Action] = [marks.set("result_id", model.result_id), marks.set("item_id", model.item_id),
                                 marks.set("attempt", model.attempt), model.item_type.set(model),
                                 model.schema_version.set(TABLE_SPEC.schema_version)]
        if with_ttl:
            actions.append(Path(model.ttl).set(marks("ttl", EPOCH_SECONDS)))
        actions.append(model.result_ids.add(marks("result_ids", model.result_ids)))
        condition: Condition | None = None
        if guard == "absent":
            condition = absent_or_expired(marks)
        elif guard == "same":
            condition = model.result_id == marks("read_result_id", model.result_id)
        return requests.update_key(UNBOUND, KEY_MARK, actions, condition=condition)

    return shape(("slot", with_ttl, guard), build)


def _review_shape(changes: tuple[tuple[str, bool], ...], has_rev: bool) -> Shape:
    """``update_experiment_result``: SET (or REMOVE, when the flag is set) each changed review field, raise
    ``_rev``; condition: ``_rev`` as read (``has_rev``) or still absent."""

    def build(marks: Marks) -> dict[str, Any]:
        model = ExperimentResultItem
        attributes = model.get_attributes()
        actions: list[Action] = []
        for name, remove in changes:
            attribute = attributes[name]
            actions.append(attribute.remove() if remove else marks.set(name, attribute))
        actions.append(model.rev.set((model.rev | 0) + 1))
        condition = _same_revision(marks) if has_rev else _no_revision(marks)
        return requests.update_key(UNBOUND, KEY_MARK, actions, condition=condition)

    return shape(("review", changes, has_rev), build)


class _Again(Exception):
    """Internal: a result write lost a race; read again."""
