"""Result writes: add, upsert and review updates of results (each one transaction with the experiment's
counters and, for dataset items, the purge check and link row), and the delete of an experiment's results.
"""

from __future__ import annotations

import contextlib
import random
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from mastra_dynamo.dynamo.client import TransactionCancelled, key_attr
from mastra_dynamo.dynamo.codec import Item, decode_value, encode_value
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.errors import ConflictError, NotFoundError, ValidationError
from mastra_dynamo.records.base import coerce
from mastra_dynamo.records.datasets import UNSET, DatasetTenancyFilters, Unset
from mastra_dynamo.records.experiments import ExperimentResult, ExperimentResultInput
from mastra_dynamo.schema import keys
from mastra_dynamo.stores.base import MAX_CONFLICT_RETRIES
from mastra_dynamo.stores.experiments import items as it
from mastra_dynamo.stores.experiments.collection import ExperimentCollection
from mastra_dynamo.validate import optional_id, require_id


class ResultWrites(ExperimentCollection):
    """Result writes, serialised with the experiment's counters (see the module docstring)."""

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds)

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
                existing = self.alive(self.table.get_item(
                    keys.experiment_result_key(data.experiment_id, slot["resultId"]["S"])))
            try:
                return self._try_write(data, experiment, pointer, slot, existing, upsert=upsert)
            except _Again:
                continue
        raise ConflictError("experiment result: too much contention; retry",
                            details={"experiment_id": data.experiment_id, "item_id": data.item_id})

    def _try_write(self, data: ExperimentResultInput, experiment: Item, pointer: Item | None, slot: Item | None,
                   existing: Item | None, *, upsert: bool) -> ExperimentResult:
        now = self.now()
        organization_id = data.organization_id or it.s(experiment, "organizationId")
        project_id = data.project_id or it.s(experiment, "projectId")
        for given, owned, label in ((data.organization_id, it.s(experiment, "organizationId"), "organization_id"),
                                    (data.project_id, it.s(experiment, "projectId"), "project_id")):
            if given is not None and owned is not None and given != owned:
                raise ValidationError(f"result {label} differs from the experiment's",
                                      code="EXPERIMENT_TENANCY_MISMATCH",
                                      details={"experiment_id": data.experiment_id, "field": label})
        values = data.model_dump(exclude={"id"})
        values.update(organization_id=organization_id, project_id=project_id,
                      started_at=data.started_at or now, completed_at=data.completed_at or now)
        purged = pointer is not None and pointer.get("purged", {}).get("BOOL", False)
        if purged:
            purged_at = it.s(pointer, "purgedAt") if pointer is not None else None
            values.update(input=None, output=None, ground_truth=None, error=None, tags=None, tool_mock_report=None,
                          metadata={"__purged": True, "purgedAt": purged_at})
        if existing is not None:
            values.update(id=existing["id"]["S"], created_at=decode_value(existing["createdAt"], "datetime"),
                          comment=it.s(existing, "comment"))
        else:
            values.update(id=data.id or str(uuid.uuid4()), created_at=now, comment=None)
        record = coerce(ExperimentResult, values, what="result")
        link_dataset = it.s(pointer, "datasetId") if pointer is not None else None
        expires_at = it.ttl_of(experiment, self.spec.ttl_attribute)
        rev = (it.n(existing, self.spec.revision_attribute) + 1) if existing is not None else 1
        item = self._result_item(record, rev=rev, link_dataset_id=link_dataset, expires_at=expires_at)
        actions: list[dict[str, Any]] = []
        roles: list[str] = []

        def add(role: str, action: dict[str, Any]) -> None:
            roles.append(role)
            actions.append(action)

        if existing is not None:
            expr = Expr()
            old_rev = existing.get(self.spec.revision_attribute)
            rev_name = expr.name(self.spec.revision_attribute)
            cond = f"{rev_name} = {expr.value(old_rev)}" if old_rev else f"attribute_not_exists({rev_name})"
            add("result", {"Put": expr.apply({"Item": item, "ConditionExpression": cond})})
        else:
            add("result", {"Put": self._create(item)})
            ref = self.stamp({**key_attr(keys.experiment_result_ref_key(record.id)),
                              "experimentId": {"S": record.experiment_id}, "itemId": {"S": record.item_id},
                              "attempt": {"N": str(record.attempt)}}, it.ENTITY_RESULT_REF, expires_at=expires_at)
            add("ref", {"Put": self._create(ref)})
            add("slot", self._slot_action(record, slot, expires_at, upsert=upsert))
        if pointer is not None and link_dataset is not None and not purged:
            expr = Expr()
            add("item", {"ConditionCheck": expr.apply({
                "Key": key_attr(keys.dataset_item_ref_key(record.item_id)),
                "ConditionExpression": (f"attribute_exists({expr.name('pk')}) AND "
                                        f"attribute_not_exists({expr.name('purged')})")})})
            link = self.stamp({**key_attr(keys.dataset_item_link_key(link_dataset, record.item_id,
                                                                     record.experiment_id, record.id)),
                               "datasetId": {"S": link_dataset}, "itemId": {"S": record.item_id},
                               "experimentId": {"S": record.experiment_id}, "resultId": {"S": record.id}},
                              it.ENTITY_ITEM_LINK, expires_at=it.ttl_of(pointer, self.spec.ttl_attribute))
            add("link", {"Put": {"Item": link}})
        old_status = it.s(existing, "status") if existing is not None else None
        deltas: dict[str, int] = {} if existing is not None else {"resultCount": 1}
        if old_status in it.STATUS_COUNTERS:
            deltas[it.STATUS_COUNTERS[old_status]] = deltas.get(it.STATUS_COUNTERS[old_status], 0) - 1
        if record.status in it.STATUS_COUNTERS:
            deltas[it.STATUS_COUNTERS[record.status]] = deltas.get(it.STATUS_COUNTERS[record.status], 0) + 1
        add("experiment", self._counters(record.experiment_id, deltas))
        try:
            self.table.transact_write(actions)
        except TransactionCancelled as exc:
            failed = {roles[i] for i, r in enumerate(exc.reasons) if r == "ConditionalCheckFailed" and i < len(roles)}
            if existing is None and data.id is not None and failed & {"result", "ref"}:
                raise ConflictError(f"experiment result {data.id!r} already exists",
                                    code="EXPERIMENT_RESULT_ID_CONFLICT", details={"result_id": data.id}) from None
            if not any(r in ("ConditionalCheckFailed", "TransactionConflict") for r in exc.reasons if r):
                raise
            raise _Again() from None
        return record

    def _create(self, item: Item) -> dict[str, Any]:
        expr = Expr()
        return expr.apply({"Item": item, "ConditionExpression":
                           f"attribute_not_exists({expr.name('pk')}) OR NOT {self.not_expired(expr)}"})

    def _slot_action(self, record: ExperimentResult, slot: Item | None, expires_at: int | None, *,
                     upsert: bool) -> dict[str, Any]:
        """The slot of (experiment, item, attempt) names the newest result; an upsert creates it only if it is
        still the way it was read (absent, or pointing at a result that no longer exists)."""
        key = keys.experiment_result_slot_key(record.experiment_id, record.item_id, record.attempt)
        expr = Expr()
        sets = [f"{expr.name('resultId')} = {expr.s(record.id)}", f"{expr.name('itemId')} = {expr.s(record.item_id)}",
                f"{expr.name('attempt')} = {expr.n(record.attempt)}",
                f"{expr.name(self.spec.entity_attribute)} = {expr.s(it.ENTITY_SLOT)}",
                f"{expr.name(self.spec.schema_version_attribute)} = {expr.n(self.spec.schema_version)}"]
        if expires_at is not None:
            sets.append(f"{expr.name(self.spec.ttl_attribute)} = {expr.n(expires_at)}")
        update = "SET " + ", ".join(sets) + f" ADD {expr.name('resultIds')} {expr.value({'SS': [record.id]})}"
        params: dict[str, Any] = {"Key": key_attr(key), "UpdateExpression": update}
        if upsert:
            if slot is None:
                params["ConditionExpression"] = (f"attribute_not_exists({expr.name('pk')}) OR "
                                                 f"NOT {self.not_expired(expr)}")
            else:
                params["ConditionExpression"] = f"{expr.name('resultId')} = {expr.value(slot['resultId'])}"
        return {"Update": expr.apply(params)}

    def _counters(self, experiment_id: str, deltas: Mapping[str, int]) -> dict[str, Any]:
        expr = Expr()
        condition = f"attribute_exists({expr.name('pk')}) AND {self.not_expired(expr)}"
        adds = [f"{expr.name(attr)} {expr.n(delta)}" for attr, delta in deltas.items() if delta]
        key = key_attr(keys.experiment_key(experiment_id))
        if not adds:
            return {"ConditionCheck": expr.apply({"Key": key, "ConditionExpression": condition})}
        return {"Update": expr.apply({"Key": key, "UpdateExpression": "ADD " + ", ".join(adds),
                                      "ConditionExpression": condition})}

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
        ref = self.alive(self.table.get_item(keys.experiment_result_ref_key(id)))
        owner = it.s(ref, "experimentId") if ref is not None else None
        if owner is None or (experiment_id is not None and owner != experiment_id):
            raise NotFoundError(f"Experiment result not found: {id}", code="EXPERIMENT_RESULT_NOT_FOUND",
                                details={"result_id": id})
        for attempt in range(MAX_CONFLICT_RETRIES * 4):
            if attempt:
                self._backoff(attempt)
            stored = self.alive(self.table.get_item(keys.experiment_result_key(owner, id)))
            if stored is None:
                raise NotFoundError(f"Experiment result not found: {id}", code="EXPERIMENT_RESULT_NOT_FOUND",
                                    details={"result_id": id})
            current = self._decode_result(stored)
            given = {name: value for name, value in (("status", status), ("tags", tags), ("comment", comment))
                     if value is not UNSET}
            data = current.model_dump()
            data.update({k: (list(v) if k == "tags" and v is not None else v) for k, v in given.items()})
            record = coerce(ExperimentResult, data, what="result")
            expr = Expr()
            sets: list[str] = []
            removes: list[str] = []
            for name in given:
                value = getattr(record, name)
                if value is None:
                    removes.append(expr.name(name))
                else:
                    kind = it.RESULT_FIELDS[name][1]
                    sets.append(f"{expr.name(name)} = {expr.value(encode_value(value, kind, field=name))}")
            if "tags" in given:
                if record.tags:
                    sets.append(f"{expr.name('tagSet')} = {expr.value({'SS': sorted(set(record.tags))})}")
                else:
                    removes.append(expr.name("tagSet"))
            rev = expr.name(self.spec.revision_attribute)
            old_rev = stored.get(self.spec.revision_attribute)
            sets.append(f"{rev} = if_not_exists({rev}, {expr.n(0)}) + {expr.n(1)}")
            update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
            cond = f"{rev} = {expr.value(old_rev)}" if old_rev else f"attribute_not_exists({rev})"
            actions: list[dict[str, Any]] = [{"Update": expr.apply({
                "Key": key_attr(keys.experiment_result_key(owner, id)), "UpdateExpression": update,
                "ConditionExpression": cond})}]
            deltas: dict[str, int] = {}
            if current.status != record.status:
                if current.status in it.STATUS_COUNTERS:
                    deltas[it.STATUS_COUNTERS[current.status]] = -1
                if record.status in it.STATUS_COUNTERS:
                    deltas[it.STATUS_COUNTERS[record.status]] = 1
            if deltas:
                actions.append(self._counters(owner, deltas))
            try:
                self.table.transact_write(actions)
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
            parent = self.alive(self.table.get_item(keys.experiment_key(experiment_id)))
            if parent is None or not it.in_scope(parent, scope):
                return
        self._delete_children(experiment_id)
        expr = Expr()
        sets = ", ".join(f"{expr.name(c)} = {expr.n(0)}" for c in it.REVIEW_COUNTERS)
        with contextlib.suppress(ConflictError):  # the experiment itself is gone
            self.table.call("UpdateItem", **expr.apply({
                "TableName": self.table.table_name, "Key": key_attr(keys.experiment_key(experiment_id)),
                "UpdateExpression": f"SET {sets}", "ConditionExpression": f"attribute_exists({expr.name('pk')})"}))



class _Again(Exception):
    """Internal: a result write lost a race; read again."""
