"""Item mutations of the datasets domain: insert (idempotent on ``external_id``), update, delete, batch
delete and purge. Each call is planned against one read of the dataset and applied by the mutation engine
(``mutations.py``) as exactly one version bump."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from mastra_dynamo.dynamo.client import TransactionCancelled
from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.errors import ConflictError, NotFoundError, ValidationError
from mastra_dynamo.models import requests
from mastra_dynamo.models.datasets import (
    DatasetModel,
    ExternalIdModel,
    ItemCurrentModel,
    ItemPayloadModel,
    ItemPointerModel,
    ItemRowModel,
    key_of,
    link_of,
)
from mastra_dynamo.models.layout import Stored
from mastra_dynamo.records.base import coerce
from mastra_dynamo.records.datasets import (
    UNSET,
    DatasetItem,
    DatasetItemPayload,
    DatasetTenancyFilters,
    Unset,
)
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.keys import Key
from mastra_dynamo.stores import listing
from mastra_dynamo.stores.datasets import items as it
from mastra_dynamo.stores.datasets.mutations import (
    MAX_MUTATION_ATTEMPTS,
    REV_BUMP,
    DatasetMutations,
    DatasetState,
    ItemChange,
    Mutation,
    tenancy,
)
from mastra_dynamo.stores.datasets.schema_check import validate_value
from mastra_dynamo.stores.datasets.shapes import update_shape
from mastra_dynamo.validate import MAX_ID_BYTES, is_list, require_id, utf8_size

_UPDATABLE = {
    "input": "input", "ground_truth": "groundTruth", "expected_trajectory": "expectedTrajectory",
    "tool_mocks": "toolMocks", "unmocked_tool_policy": "unmockedToolPolicy", "scorer_ids": "scorerIds",
    "request_context": "requestContext", "metadata": "metadata", "source": "source",
}


def check_external_id(value: Any, *, index: int | None = None) -> None:
    if value is None:
        return
    if not isinstance(value, str) or not value.strip() or \
            utf8_size(value, field="externalId", code="DATASET_ITEM_EXTERNAL_ID_INVALID") > MAX_ID_BYTES:
        where = f"items[{index}]." if index is not None else ""
        raise ValidationError(f"Dataset item {where}externalId must be a non-empty string (at most "
                              f"{MAX_ID_BYTES} bytes).", code="DATASET_ITEM_EXTERNAL_ID_INVALID",
                              details={} if index is None else {"index": index})


def validate_payload(payload: Mapping[str, Any], schemas: Mapping[str, Any], *, index: int | None,
                     item_id: str | None = None, only: set[str] | None = None) -> None:
    """Validate an item payload against the dataset's schemas (``only``: the fields being changed)."""
    checks = (("input", "inputSchema", True), ("groundTruth", "groundTruthSchema", False),
              ("requestContext", "requestContextSchema", False))
    for name, schema_name, always in checks:
        schema = schemas.get(schema_name)
        if not schema or (only is not None and name not in only):
            continue
        value = payload.get(name)
        if value is None and not always:
            continue
        validate_value(value, schema, field=name, index=index, item_id=item_id)


P = ItemPointerModel
_FLAG_PURGED = update_shape(lambda s: ([P.purged.set(True), P.purged_at.set(s("purged_at", P.purged_at))],
                                       P.dataset_id == s("dataset_id", P.dataset_id)))
_SCRUB = update_shape(lambda s: ([ItemRowModel.data.set(s("data", ItemRowModel.data)), ItemRowModel.purged.set(True)],
                                 ItemRowModel.pk.exists()))
_STORED_ROW = ("data", "external_id", "updated_at", "dataset_version")
"""What a new version of an item takes over from its current row."""


def _pointer(raw: Item) -> dict[str, Any]:
    """(dataset id, purged, purgedAt) of a stored item pointer."""
    return P.decode_attributes(raw, ("dataset_id", "purged", "purged_at"))


def _is_live(current: Item | None) -> bool:
    """A current row that is not a tombstone."""
    return current is not None and not ItemPayloadModel.decode_attributes(current, ("is_deleted",))["is_deleted"]


class ItemWrites(DatasetMutations):
    # ------------------------------------------------------------------ helpers
    def _row(self, state: DatasetState, *, item_id: str, payload: Mapping[str, Any], external_id: str | None,
             created_at: datetime | Stored, updated_at: datetime | Stored, is_deleted: bool,
             purged: bool = False) -> Item:
        """The serialized history row of ``item_id`` at the state's next version (timestamps as datetimes, or
        already serialized)."""
        return ItemRowModel.encode_item(ItemRowModel.values(
            dataset_id=state.dataset_id, item_id=item_id, version=state.next_version, payload=payload,
            external_id=external_id, organization_id=state.organization_id, project_id=state.project_id,
            created_at=created_at, updated_at=updated_at, is_deleted=is_deleted, purged=purged,
            expires_at=state.expires_at))

    # ------------------------------------------------------------------ insert
    def add_item(
        self,
        *,
        dataset_id: str,
        input: Any,
        ground_truth: Any = None,
        expected_trajectory: Any = None,
        tool_mocks: Sequence[Mapping[str, Any]] | None = None,
        unmocked_tool_policy: str | None = None,
        scorer_ids: Sequence[str] | None = None,
        request_context: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        source: Mapping[str, Any] | None = None,
        external_id: str | None = None,
        filters: DatasetTenancyFilters | Mapping[str, Any] | None = None,
    ) -> DatasetItem:
        """Add one item (a batch insert of one): a new version, or the existing item when ``external_id``
        was accepted before with an equal payload."""
        item = {"input": input, "ground_truth": ground_truth, "expected_trajectory": expected_trajectory,
                "tool_mocks": tool_mocks, "unmocked_tool_policy": unmocked_tool_policy, "scorer_ids": scorer_ids,
                "request_context": request_context, "metadata": metadata, "source": source,
                "external_id": external_id}
        return self.batch_insert_items(dataset_id=dataset_id, items=[item], filters=filters)[0]

    def batch_insert_items(self, *, dataset_id: str, items: Sequence[DatasetItemPayload | Mapping[str, Any]],
                           filters: DatasetTenancyFilters | Mapping[str, Any] | None = None) -> list[DatasetItem]:
        """Insert items with ONE version bump, atomically; returns the items in input order.

        Idempotent on ``external_id``: an id accepted before with an equal payload resolves to the existing
        item (no write); a different payload, or an item deleted since, raises ConflictError
        DATASET_ITEM_IDENTITY_CONFLICT (``details["conflicts"]``) before anything is written. When every item
        resolves to an existing one, nothing is written and the version does not change.

        Raises: NotFoundError DATASET_NOT_FOUND; ValidationError (SCHEMA_VALIDATION_FAILED, INVALID_JSON,
        DATASET_ITEM_EXTERNAL_ID_INVALID, INVALID_INPUT)."""
        require_id(dataset_id, field="dataset_id")
        scope = tenancy(filters)
        if not is_list(items):
            raise ValidationError("items must be a list", code="INVALID_INPUT")
        records = [coerce(DatasetItemPayload, raw, what=f"items[{i}]") for i, raw in enumerate(items)]
        for index, record in enumerate(records):
            check_external_id(record.external_id, index=index)
        payloads = [it.payload_of(r) for r in records]
        hashes = [it.payload_hash(p) for p in payloads]
        externals = list(dict.fromkeys(r.external_id for r in records if r.external_id is not None))

        def extra() -> list[Key]:
            return [keys.dataset_external_id_key(dataset_id, e) for e in externals]

        def plan(state: DatasetState, found: dict[tuple[str, str], Item]) -> tuple[list[DatasetItem],
                                                                                    Mutation | None]:
            schemas = DatasetModel.descriptive_from_raw(state.item)
            for index, payload in enumerate(payloads):
                validate_payload(payload, schemas, index=index)
            accepted: dict[str, Item] = {}
            for external in externals:
                key = keys.dataset_external_id_key(dataset_id, external)
                ext_record = found.get((key.pk, key.sk))
                if ext_record is not None:
                    accepted[external] = ext_record
            currents: dict[str, Item] = {}
            stored_ids = {external: ExternalIdModel.decode_attributes(record, ("item_id", "payload_hash"))
                          for external, record in accepted.items()}
            if accepted:
                ids = [v["item_id"] for v in stored_ids.values()]
                rows = self.table.batch_get([keys.dataset_item_current_key(dataset_id, i) for i in ids])
                for item_id in ids:
                    key = keys.dataset_item_current_key(dataset_id, item_id)
                    current = self.alive(rows.get((key.pk, key.sk)))
                    if current is not None and _is_live(current):
                        currents[item_id] = current
            conflicts: list[dict[str, Any]] = []
            resolved: list[str] = []
            local: dict[str, tuple[str, str]] = {}
            inserts: list[tuple[str, int]] = []
            for index, payload_record in enumerate(records):
                wanted = payload_record.external_id
                if wanted is None:
                    new_id = str(uuid.uuid4())
                    inserts.append((new_id, index))
                    resolved.append(new_id)
                    continue
                stored = stored_ids.get(wanted)
                if stored is not None:
                    existing_id = stored["item_id"]
                    if existing_id not in currents:
                        conflicts.append({"index": index, "externalId": wanted, "existingItemId": existing_id,
                                          "reason": "deleted"})
                    elif stored["payload_hash"] != hashes[index]:
                        conflicts.append({"index": index, "externalId": wanted, "existingItemId": existing_id,
                                          "reason": "payload_mismatch"})
                    resolved.append(existing_id)
                    continue
                if wanted in local:
                    first_id, first_hash = local[wanted]
                    if first_hash != hashes[index]:
                        conflicts.append({"index": index, "externalId": wanted, "existingItemId": first_id,
                                          "reason": "payload_mismatch"})
                    resolved.append(first_id)
                    continue
                new_id = str(uuid.uuid4())
                local[wanted] = (new_id, hashes[index])
                inserts.append((new_id, index))
                resolved.append(new_id)
            if conflicts:
                raise ConflictError("One or more dataset item identities conflict with previously accepted items.",
                                    code="DATASET_ITEM_IDENTITY_CONFLICT",
                                    details={"dataset_id": dataset_id, "conflicts": conflicts})
            out: dict[str, DatasetItem] = {i: ItemCurrentModel.record_from_raw(row) for i, row in currents.items()}
            if not inserts:
                return [out[i] for i in resolved], None
            now = Stored.of(ItemRowModel.created_at, self.now())  # one timestamp for every new row
            mutation = Mutation(state=state)
            for new_id, index in inserts:
                ext_id = records[index].external_id
                row = self._row(state, item_id=new_id, payload=payloads[index], external_id=ext_id,
                                created_at=now, updated_at=now, is_deleted=False)
                pointer = P.encode_item(P.values(dataset_id, new_id, expires_at=state.expires_at))
                ext_item = None if ext_id is None else ExternalIdModel.encode_item(ExternalIdModel.values(
                    dataset_id, ext_id, new_id, hashes[index], expires_at=state.expires_at))
                mutation.changes.append(ItemChange(item_id=new_id, row=row, pointer=pointer, external=ext_item,
                                                   delta=1))
                out[new_id] = ItemRowModel.record_from_raw(row)
            return [out[i] for i in resolved], mutation

        return self.mutate(dataset_id, scope, extra, plan, what="batch_insert_items")

    # ------------------------------------------------------------------ update / delete
    def _locate(self, found: dict[tuple[str, str], Item], dataset_id: str, item_id: str
                ) -> tuple[Item | None, Item | None]:
        """(pointer, current row) of an item as read with the dataset."""
        ref_key = keys.dataset_item_ref_key(item_id)
        cur_key = keys.dataset_item_current_key(dataset_id, item_id)
        return found.get((ref_key.pk, ref_key.sk)), found.get((cur_key.pk, cur_key.sk))

    def update_item(
        self,
        *,
        id: str,
        dataset_id: str,
        input: Any | Unset = UNSET,
        ground_truth: Any | Unset = UNSET,
        expected_trajectory: Any | Unset = UNSET,
        tool_mocks: Sequence[Mapping[str, Any]] | Unset | None = UNSET,
        unmocked_tool_policy: str | Unset | None = UNSET,
        scorer_ids: Sequence[str] | Unset | None = UNSET,
        request_context: Mapping[str, Any] | Unset | None = UNSET,
        metadata: Mapping[str, Any] | Unset | None = UNSET,
        source: Mapping[str, Any] | Unset | None = UNSET,
        filters: DatasetTenancyFilters | Mapping[str, Any] | None = None,
    ) -> DatasetItem:
        """Write a new version of an item: given fields replace (None clears), the others carry over,
        ``created_at`` and ``external_id`` are kept. Raises NotFoundError (dataset or item missing, item of
        another dataset), ConflictError DATASET_ITEM_PURGED, ValidationError (schemas, JSON)."""
        require_id(id, field="id")
        require_id(dataset_id, field="dataset_id")
        scope = tenancy(filters)
        given = {name: value for name, value in {
            "input": input, "ground_truth": ground_truth, "expected_trajectory": expected_trajectory,
            "tool_mocks": tool_mocks, "unmocked_tool_policy": unmocked_tool_policy, "scorer_ids": scorer_ids,
            "request_context": request_context, "metadata": metadata, "source": source,
        }.items() if value is not UNSET}
        patch_record = coerce(DatasetItemPayload, given, what="item")
        patch = it.payload_of(patch_record)
        changed = {_UPDATABLE[name] for name in given}

        def extra() -> list[Key]:
            return [keys.dataset_item_ref_key(id), keys.dataset_item_current_key(dataset_id, id)]

        def plan(state: DatasetState, found: dict[tuple[str, str], Item]) -> tuple[DatasetItem, Mutation]:
            pointer, current = self._locate(found, dataset_id, id)
            ref = None if pointer is None else _pointer(pointer)
            if ref is None or ref["dataset_id"] != dataset_id or current is None or not _is_live(current):
                raise NotFoundError(f"Item not found: {id} (dataset {dataset_id})", code="DATASET_ITEM_NOT_FOUND",
                                    details={"item_id": id, "dataset_id": dataset_id})
            if ref["purged"]:
                raise ConflictError(f"Item {id} was purged and cannot be updated", code="DATASET_ITEM_PURGED",
                                    details={"item_id": id, "dataset_id": dataset_id})
            stored = ItemPayloadModel.decode_attributes(current, _STORED_ROW)
            payload: dict[str, Any] = stored["data"]
            for name in changed:
                if name in patch:
                    payload[name] = patch[name]
                else:
                    payload.pop(name, None)
            validate_payload(payload, DatasetModel.descriptive_from_raw(state.item), index=None, item_id=id,
                             only=changed)
            row = self._row(state, item_id=id, payload=payload, external_id=stored["external_id"],
                            created_at=Stored.read(ItemRowModel.created_at, current),
                            updated_at=self.bumped(stored["updated_at"]),
                            is_deleted=False)
            close = keys.dataset_item_row_key(dataset_id, id, stored["dataset_version"])
            return ItemRowModel.record_from_raw(row), Mutation(state=state, changes=[
                ItemChange(item_id=id, row=row, close=close)])

        return self.mutate(dataset_id, scope, extra, plan, what="update_item")

    def _tombstone(self, state: DatasetState, item_id: str, pointer: Item, current: Item) -> ItemChange:
        stored = ItemPayloadModel.decode_attributes(current, _STORED_ROW)
        payload: dict[str, Any] = stored["data"]
        ref = _pointer(pointer)
        purged = bool(ref["purged"])
        if purged:
            payload = it.scrub_payload(payload, ref["purged_at"] or it.iso_ms(self.now()))
        row = self._row(state, item_id=item_id, payload=payload, external_id=stored["external_id"],
                        created_at=Stored.read(ItemRowModel.created_at, current),
                        updated_at=self.bumped(stored["updated_at"]),
                        is_deleted=True, purged=purged)
        close = keys.dataset_item_row_key(state.dataset_id, item_id, stored["dataset_version"])
        return ItemChange(item_id=item_id, row=row, close=close, delta=-1)

    def delete_item(self, *, id: str, dataset_id: str,
                    filters: DatasetTenancyFilters | Mapping[str, Any] | None = None) -> None:
        """Soft-delete an item: a new version with a tombstone row. A missing item (or dataset) is a no-op;
        an item of another dataset raises NotFoundError."""
        require_id(id, field="id")
        require_id(dataset_id, field="dataset_id")
        scope = tenancy(filters)

        def extra() -> list[Key]:
            return [keys.dataset_item_ref_key(id), keys.dataset_item_current_key(dataset_id, id)]

        def plan(state: DatasetState, found: dict[tuple[str, str], Item]) -> tuple[None, Mutation | None]:
            pointer, current = self._locate(found, dataset_id, id)
            if pointer is not None and _pointer(pointer)["dataset_id"] != dataset_id:
                raise NotFoundError(f"Item {id} does not belong to dataset {dataset_id}",
                                    code="DATASET_ITEM_NOT_FOUND", details={"item_id": id, "dataset_id": dataset_id})
            if pointer is None or current is None or not _is_live(current):
                return None, None
            return None, Mutation(state=state, changes=[self._tombstone(state, id, pointer, current)])

        try:
            self.mutate(dataset_id, scope, extra, plan, what="delete_item")
        except NotFoundError as exc:
            if exc.code != "DATASET_NOT_FOUND":
                raise

    def batch_delete_items(self, *, dataset_id: str, item_ids: Sequence[str],
                           filters: DatasetTenancyFilters | Mapping[str, Any] | None = None) -> None:
        """Soft-delete many items with ONE version bump, atomically. Unknown ids, ids of other datasets and
        items already deleted are skipped; when nothing is left, nothing is written.
        Raises NotFoundError DATASET_NOT_FOUND."""
        require_id(dataset_id, field="dataset_id")
        if not is_list(item_ids):
            raise ValidationError("item_ids must be a list of ids", code="INVALID_INPUT")
        for item_id in item_ids:
            require_id(item_id, field="item_ids[]")
        scope = tenancy(filters)
        ids = list(dict.fromkeys(item_ids))

        def extra() -> list[Key]:
            out: list[Key] = []
            for item_id in ids:
                out += [keys.dataset_item_ref_key(item_id), keys.dataset_item_current_key(dataset_id, item_id)]
            return out

        def plan(state: DatasetState, found: dict[tuple[str, str], Item]) -> tuple[None, Mutation | None]:
            mutation = Mutation(state=state)
            for item_id in ids:
                pointer, current = self._locate(found, dataset_id, item_id)
                if pointer is None or _pointer(pointer)["dataset_id"] != dataset_id or current is None \
                        or not _is_live(current):
                    continue
                mutation.changes.append(self._tombstone(state, item_id, pointer, current))
            return None, (mutation if mutation.changes else None)

        self.mutate(dataset_id, scope, extra, plan, what="batch_delete_items")

    # ------------------------------------------------------------------ purge
    def purge_item(self, *, id: str, dataset_id: str,
                   filters: DatasetTenancyFilters | Mapping[str, Any] | None = None) -> None:
        """Scrub an item's payload from every history row, its current row and every experiment result
        that references it (``metadata`` becomes ``{"__purged": true, "purgedAt": ...}``). The item stays
        listed; later updates raise DATASET_ITEM_PURGED. Idempotent: calling again finishes an interrupted
        purge. A missing item (or dataset) is a no-op; an item of another dataset raises NotFoundError."""
        require_id(id, field="id")
        require_id(dataset_id, field="dataset_id")
        scope = tenancy(filters)
        ref_key = keys.dataset_item_ref_key(id)
        purged_at: str | None = None
        for attempt in range(MAX_MUTATION_ATTEMPTS):
            try:
                state, found = self._ready(dataset_id, scope, [ref_key])
            except NotFoundError:
                return
            pointer = found.get((ref_key.pk, ref_key.sk))
            if pointer is None:
                return
            ref = _pointer(pointer)
            if ref["dataset_id"] != dataset_id:
                raise NotFoundError(f"Item {id} does not belong to dataset {dataset_id}",
                                    code="DATASET_ITEM_NOT_FOUND", details={"item_id": id, "dataset_id": dataset_id})
            if ref["purged"]:
                purged_at = ref["purged_at"] or it.iso_ms(self.now())
                break
            purged_at = it.iso_ms(self.now())
            if self._flag_purged(state, id, purged_at):
                break
            self._backoff(attempt)
        else:
            raise ConflictError(f"purge_item: too much contention on dataset {dataset_id!r}; retry",
                                details={"dataset_id": dataset_id})
        assert purged_at is not None
        self._scrub_rows(dataset_id, id, purged_at)
        self._scrub_results(dataset_id, id, purged_at)

    def _flag_purged(self, state: DatasetState, item_id: str, purged_at: str) -> bool:
        """Set the pointer's purge flag in one transaction with a revision bump of the dataset: every
        mutation planned before the flag fails its condition and re-plans (seeing the flag)."""
        table = self.table.table_name
        bump = requests.transact("Update", REV_BUMP.bind(table, keys.dataset_key(state.dataset_id),
                                                         next_rev=state.rev + 1, **self.unchanged_values(state)))
        flag = requests.transact("Update", _FLAG_PURGED.bind(table, keys.dataset_item_ref_key(item_id),
                                                             purged_at=purged_at, dataset_id=state.dataset_id))
        try:
            self.table.transact_write([bump, flag])
        except TransactionCancelled as exc:
            if any(r in ("ConditionalCheckFailed", "TransactionConflict") for r in exc.reasons if r):
                return False
            raise
        return True

    def _scrub_rows(self, dataset_id: str, item_id: str, purged_at: str) -> None:
        pk = keys.dataset_key(dataset_id).pk
        query = listing.PartitionQuery(None, "pk", "sk", pk, sk_prefix=keys.dataset_item_rows_prefix(item_id),
                                       consistent=True)
        rows = listing.collect(self.table, [query], ascending=True, filter_builder=lambda e: None, offset=0,
                               limit=None)
        table = self.table.table_name
        current = self.table.call("GetItem", **requests.get_item(
            table, keys.dataset_item_current_key(dataset_id, item_id), consistent=True)).get("Item")
        if current is not None:
            rows.append(current)
        updates = [_SCRUB.bind(table, key_of(row), data=it.scrub_payload(it.row_payload(row), purged_at))
                   for row in rows]
        for start in range(0, len(updates), self.max_transaction_actions):
            chunk = updates[start:start + self.max_transaction_actions]
            try:
                self.table.transact_write([requests.transact("Update", u) for u in chunk])
            except TransactionCancelled:
                for update in chunk:  # a row vanished meanwhile (dataset deleted): scrub the others
                    with contextlib.suppress(ConflictError):
                        self.table.call("UpdateItem", **update)

    def _scrub_results(self, dataset_id: str, item_id: str, purged_at: str) -> None:
        from mastra_dynamo.stores.experiments import scrub_result  # the experiments domain owns the layout

        pk = keys.dataset_key(dataset_id).pk
        query = listing.PartitionQuery(None, "pk", "sk", pk, sk_prefix=keys.dataset_item_links_prefix(item_id),
                                       consistent=True)
        links = listing.collect(self.table, [query], ascending=True, filter_builder=lambda e: None, offset=0,
                                limit=None)
        marker = it.purge_marker(purged_at)
        for link in links:  # result links are the experiments domain's items: only their ids are read
            experiment_id, result_id = link_of(link)
            if experiment_id is not None and result_id is not None:
                scrub_result(self.table, experiment_id, result_id, marker)
