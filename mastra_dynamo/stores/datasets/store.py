"""DynamoDatasetsStore: the datasets domain (spec 3.6) on the single table.

A dataset is the item collection ``D#<datasetId>``: the dataset item ``D``, the SCD-2 history rows
``I#<item>#<version>``, the current rows ``IC#<item>`` (indexed on gsi1/gsi2 for listings), the version
rows ``V#<version>``, external-id records ``X#<externalId>`` and links ``L#...`` to experiment results. An
item pointer ``DI#<item>`` resolves an item id without its dataset. See ``mutations.py`` for how a call
becomes exactly one version bump, and docs/access-patterns.md for the requests behind each method.

Every entity of the domain is a PynamoDB model of ``mastra_dynamo.models.datasets`` (the item layouts are
described there); the links ``L#...`` are the experiments domain's items, which this domain reads and deletes
by key. Items are serialized and decoded through the models' attributes, conditions, updates and filters are
PynamoDB expressions on them, and requests are built by ``models/requests.py``; the requests every call sends
are built once per process and bound to each call's values (``shapes.py``). Everything is sent through
``self.table`` (TableClient).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from pynamodb.attributes import UnicodeAttribute
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path

from mastra_dynamo.dynamo.codec import check_item_size
from mastra_dynamo.errors import ConflictError, ValidationError
from mastra_dynamo.models import requests
from mastra_dynamo.models.base import TableItem
from mastra_dynamo.models.datasets import (
    EPOCH,
    NOT_DELETED,
    DatasetModel,
    ItemCurrentModel,
    ItemRowModel,
    key_of,
)
from mastra_dynamo.models.layout import layout_of
from mastra_dynamo.records.base import coerce
from mastra_dynamo.records.datasets import (
    UNSET,
    Dataset,
    DatasetListFilters,
    DatasetsPage,
    DatasetTenancyFilters,
    ListPagination,
    Unset,
)
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.keys import Key
from mastra_dynamo.stores import listing
from mastra_dynamo.stores.datasets import items as it
from mastra_dynamo.stores.datasets.item_reads import ItemReads, info, window
from mastra_dynamo.stores.datasets.item_writes import ItemWrites
from mastra_dynamo.stores.datasets.mutations import MAX_MUTATION_ATTEMPTS, tenancy, tenancy_matches, unchanged
from mastra_dynamo.stores.datasets.schema_check import check_schema, schema_errors
from mastra_dynamo.stores.datasets.shapes import (
    FilterShape,
    Shape,
    Slots,
    filter_shape,
    put_shape,
    query_request,
    update_shape,
)
from mastra_dynamo.validate import MAX_ID_BYTES, require_id, resolve_order, utf8_size

_SCHEMAS = (("input_schema", "inputSchema"), ("ground_truth_schema", "groundTruthSchema"),
            ("request_context_schema", "requestContextSchema"))
ENTITIES = (it.ENTITY_DATASET, it.ENTITY_ROW, it.ENTITY_CURRENT, it.ENTITY_VERSION, it.ENTITY_EXTERNAL_ID,
            it.ENTITY_ITEM_REF, it.ENTITY_ITEM_LINK)
D = DatasetModel
IS_DATASET: Condition = D.item_type == D
"""Filter condition: the item is a dataset (``_et = dataset``)."""
_CREATE: Shape = put_shape(lambda s: D.pk.does_not_exist() | (D.ttl <= s("now", EPOCH)))
"""PutItem of a new dataset: no item under the key, or an expired one."""
_UPDATE: Shape = put_shape(unchanged)
"""PutItem of a changed dataset: conditioned on the revision and life read (``mutations.unchanged``)."""
_experiment_dataset = UnicodeAttribute(attr_name="datasetId")
_DETACHED = tuple(UnicodeAttribute(attr_name=name) for name in ("datasetVersion", "gsi2pk", "gsi2sk"))


def _detach(slots: Slots) -> tuple[list[Any], Condition]:
    return ([_experiment_dataset.remove(), *(a.remove() for a in _DETACHED)],
            _experiment_dataset == slots("dataset_id", _experiment_dataset))


_DETACH: Shape = update_shape(_detach)
"""UpdateItem of an experiment (the experiments domain's item) that drops its dataset reference, on condition
that it still names the deleted dataset."""


def _dataset_id(value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or \
            utf8_size(value, field="id", code="DATASET_INVALID_ID") > MAX_ID_BYTES:
        raise ValidationError("Dataset id must be a non-empty string", code="DATASET_INVALID_ID",
                              details={"field": "id"})
    return value


_LIVE_CURRENT = FilterShape(lambda s: NOT_DELETED & ItemCurrentModel.not_expired(s("now", EPOCH)))
"""Filter: current rows of live items (not tombstones, not expired)."""
_TARGET_ID = UnicodeAttribute(attr_name="targetIdSet")
"""One element of ``targetIdSet`` (a value ``contains`` looks for)."""


def _datasets_filter(slots: Slots, equal: tuple[str, ...], targets: int, name: bool) -> Condition:
    """The filter of ``list_datasets``: datasets, not expired, the equality filters ``equal`` (attribute
    names), any of ``targets`` target ids, the name search."""
    cond: Condition = IS_DATASET & D.not_expired(slots("now", EPOCH))
    attributes = D.get_attributes()
    for attr_name in equal:
        attr = attributes[attr_name]
        cond &= attr == slots(attr_name, attr)
    if targets:
        target_ids = Path(D.target_id_set.attr_name)  # untyped path: contains() takes one element, not a set
        any_target: Condition = target_ids.contains(slots("target0", _TARGET_ID))
        for i in range(1, targets):
            any_target |= target_ids.contains(slots(f"target{i}", _TARGET_ID))
        cond &= any_target
    if name:
        cond &= D.name_lower.contains(slots("name", D.name_lower))
    return cond


_ROW_STAMP = layout_of(ItemRowModel).stamp[TableItem.item_type.attr_name]
"""``_et`` of a history row as stored."""


class DynamoDatasetsStore(ItemWrites, ItemReads):
    """Datasets with SCD-2 versioned items. See docs/access-patterns.md for the requests behind each method."""

    # ------------------------------------------------------------------ datasets
    def create_dataset(
        self,
        *,
        name: str,
        id: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        input_schema: Mapping[str, Any] | None = None,
        ground_truth_schema: Mapping[str, Any] | None = None,
        request_context_schema: Mapping[str, Any] | None = None,
        tags: Sequence[str] | None = None,
        target_type: str | None = None,
        target_ids: Sequence[str] | None = None,
        scorer_ids: Sequence[str] | None = None,
        organization_id: str | None = None,
        project_id: str | None = None,
        candidate_key: str | None = None,
        candidate_id: str | None = None,
    ) -> Dataset:
        """Create a dataset at version 0. With a caller ``id`` that exists already, the existing dataset is
        returned when its immutable fields (organization, project, candidate key and id) match, so concurrent
        identical creates converge on one record; otherwise ConflictError DATASET_ID_CONFLICT.

        Raises: ValidationError DATASET_INVALID_ID (blank id), INVALID_SCHEMA, INVALID_INPUT."""
        dataset_id = _dataset_id(id) if id is not None else str(uuid.uuid4())
        now = self.now()
        record = coerce(Dataset, {
            "id": dataset_id, "name": name, "description": description, "metadata": metadata,
            "input_schema": input_schema, "ground_truth_schema": ground_truth_schema,
            "request_context_schema": request_context_schema, "tags": tags, "target_type": target_type,
            "target_ids": target_ids, "scorer_ids": scorer_ids, "organization_id": organization_id,
            "project_id": project_id, "candidate_key": candidate_key, "candidate_id": candidate_id,
            "version": 0, "created_at": now, "updated_at": now}, what="dataset")
        for field_name, attr in _SCHEMAS:
            check_schema(getattr(record, field_name), field=attr)
        item = D.encode_item(D.values(record, item_count=0, version_count=0, rev=1,
                                  expires_at=self.ttl.expires_at("dataset")))
        check_item_size(item, entity="dataset", entity_id=dataset_id)
        for _ in range(MAX_MUTATION_ATTEMPTS):
            try:
                self.table.call("PutItem", **_CREATE.bind(self.table.table_name, item=item,
                                                          now=self.ttl.now_epoch()))
                return record
            except ConflictError:
                pass  # an existing id; with a generated id, this call's own write (a resend after a lost answer)
            existing = self.read_dataset(dataset_id)
            if existing is None:
                continue  # deleted or expired meanwhile: create it
            stored = D.descriptive_from_raw(existing)
            ours = record.model_dump(by_alias=True)
            mismatched = [f for f in it.IMMUTABLE_DATASET_FIELDS if stored.get(f) != ours.get(f)]
            if mismatched:
                raise ConflictError(f"Dataset {dataset_id!r} already exists with different "
                                    f"{', '.join(mismatched)}", code="DATASET_ID_CONFLICT",
                                    details={"dataset_id": dataset_id, "fields": mismatched})
            return D.record_from_raw(existing)
        raise ConflictError(f"create_dataset: too much contention on {dataset_id!r}; retry",
                            details={"dataset_id": dataset_id})

    def get_dataset_by_id(self, *, id: str,
                          filters: DatasetTenancyFilters | Mapping[str, Any] | None = None) -> Dataset | None:
        """The dataset, or None when it is missing, expired or outside the tenancy filters."""
        require_id(id, field="id")
        item = self.read_dataset(id)
        if item is None or not tenancy_matches(item, tenancy(filters)):
            return None
        return D.record_from_raw(item)

    def update_dataset(
        self,
        *,
        id: str,
        name: str | Unset = UNSET,
        description: str | Unset | None = UNSET,
        metadata: Mapping[str, Any] | Unset | None = UNSET,
        input_schema: Mapping[str, Any] | Unset | None = UNSET,
        ground_truth_schema: Mapping[str, Any] | Unset | None = UNSET,
        request_context_schema: Mapping[str, Any] | Unset | None = UNSET,
        tags: Sequence[str] | Unset | None = UNSET,
        target_type: str | Unset | None = UNSET,
        target_ids: Sequence[str] | Unset | None = UNSET,
        scorer_ids: Sequence[str] | Unset | None = UNSET,
        filters: DatasetTenancyFilters | Mapping[str, Any] | None = None,
    ) -> Dataset:
        """Change the given fields (None clears a field; tenancy and candidate identity are immutable). The
        item version does not change. A new schema is checked against every current item first, and the
        write is conditioned on the dataset not having changed since (so no item slips in between).

        Raises: NotFoundError DATASET_NOT_FOUND; ValidationError SCHEMA_UPDATE_VALIDATION_FAILED
        (``details["failing_items"]``), INVALID_SCHEMA, INVALID_INPUT."""
        require_id(id, field="id")
        scope = tenancy(filters)
        changes = {k: v for k, v in {
            "name": name, "description": description, "metadata": metadata, "input_schema": input_schema,
            "ground_truth_schema": ground_truth_schema, "request_context_schema": request_context_schema,
            "tags": tags, "target_type": target_type, "target_ids": target_ids, "scorer_ids": scorer_ids,
        }.items() if v is not UNSET}
        if changes.get("name", "") is None:
            del changes["name"]
        for field_name, attr in _SCHEMAS:
            if field_name in changes:
                check_schema(changes[field_name], field=attr)
        for attempt in range(MAX_MUTATION_ATTEMPTS):
            state, _ = self._ready(id, scope)
            current = D.record_from_raw(state.item)
            data = current.model_dump()
            data.update(changes)
            data["updated_at"] = self.bumped(current.updated_at)
            record = coerce(Dataset, data, what="dataset")
            schema_changed = [attr for field_name, attr in _SCHEMAS
                              if field_name in changes and getattr(record, field_name) != getattr(current, field_name)]
            if schema_changed:
                self._check_items_against(id, record, schema_changed)
            counters = D.decode_attributes(state.item, ("item_count", "version_count"))
            item = D.encode_item(D.values(record, item_count=counters["item_count"] or 0,
                                      version_count=counters["version_count"] or 0, rev=state.rev + 1,
                                      expires_at=state.expires_at))
            check_item_size(item, entity="dataset", entity_id=id)
            try:
                self.table.call("PutItem", **_UPDATE.bind(self.table.table_name, item=item,
                                                          **self.unchanged_values(state)))
                return record
            except ConflictError:
                self._backoff(attempt)
        raise ConflictError(f"update_dataset: too much contention on {id!r}; retry", details={"dataset_id": id})

    def _check_items_against(self, dataset_id: str, record: Dataset, changed: list[str]) -> None:
        schemas = {attr: getattr(record, field_name) for field_name, attr in _SCHEMAS}
        query = listing.PartitionQuery(None, "pk", "sk", keys.dataset_key(dataset_id).pk,
                                       sk_prefix=keys.DATASET_ITEM_CURRENT_PREFIX, consistent=True)

        flt = _LIVE_CURRENT.builder(now=self.ttl.now_epoch)
        failing: list[dict[str, Any]] = []
        fields = {"inputSchema": "input", "groundTruthSchema": "groundTruth",
                  "requestContextSchema": "requestContext"}
        for index, row in enumerate(listing.iterate(self.table, [query], ascending=True, filter_builder=flt)):
            payload = it.row_payload(row)
            for schema_attr in changed:
                schema = schemas[schema_attr]
                name = fields[schema_attr]
                if not schema or (payload.get(name) is None and name != "input"):
                    continue
                errors = schema_errors(payload.get(name), schema, field=name)
                if errors:
                    item_id = ItemCurrentModel.decode_attributes(row, ("id",))["id"]
                    failing.append({"index": index, "item_id": item_id, "field": name, "errors": errors})
            if len(failing) >= 10:
                break
        if failing:
            raise ValidationError(f"Cannot update schema: {len(failing)} existing item(s) would fail validation",
                                  code="SCHEMA_UPDATE_VALIDATION_FAILED",
                                  details={"dataset_id": dataset_id, "failing_items": failing})

    def delete_dataset(self, *, id: str, filters: DatasetTenancyFilters | Mapping[str, Any] | None = None) -> None:
        """Delete the dataset with its items, versions and pointers; experiments that reference it keep
        existing with ``dataset_id``/``dataset_version`` set to None. Missing: no-op. Not atomic: calling
        again completes an interrupted delete."""
        require_id(id, field="id")
        item = self.read_dataset(id)
        table = self.table.table_name
        if item is None:
            stale = self.table.call("GetItem", **requests.get_item(table, keys.dataset_key(id),
                                                                   consistent=True)).get("Item")
            if stale is not None:  # expired: its collection goes with it
                self._delete_collection(id)
            return
        if not tenancy_matches(item, tenancy(filters)):
            return
        self.table.call("DeleteItem", **requests.delete_item(table, keys.dataset_key(id)))
        self._delete_collection(id)
        self._detach_experiments(id)

    def _delete_collection(self, dataset_id: str) -> None:
        params = query_request(keys.dataset_key(dataset_id).pk, sk_prefix="", consistent=True,
                               projection=(TableItem.pk, TableItem.sk, ItemRowModel.id, TableItem.item_type))
        deletes: list[Key] = []
        pointers: set[str] = set()
        for row in self.table.query_items(params):
            deletes.append(key_of(row))
            if row.get(TableItem.item_type.attr_name) != _ROW_STAMP:
                continue
            item_id = ItemRowModel.decode_attributes(row, ("id",))["id"]
            if item_id and item_id not in pointers:
                pointers.add(item_id)  # every item (committed or staged) has history rows
                deletes.append(keys.dataset_item_ref_key(item_id))
            if len(deletes) >= 500:
                self.table.batch_write(deletes=deletes)
                deletes = []
        self.table.batch_write(deletes=deletes)

    def _detach_experiments(self, dataset_id: str) -> None:
        query = listing.PartitionQuery(*requests.index_keys(TableItem.gsi2), keys.experiments_by_dataset_pk(dataset_id))
        for experiment in listing.iterate(self.table, [query], ascending=True, filter_builder=lambda e: None):
            with contextlib.suppress(ConflictError):  # deleted or detached meanwhile
                self.table.call("UpdateItem", **_DETACH.bind(self.table.table_name, key_of(experiment),
                                                             dataset_id=dataset_id))

    def list_datasets(self, *, pagination: ListPagination | Mapping[str, Any] | None = None,
                      filters: DatasetListFilters | Mapping[str, Any] | None = None,
                      order_by: Any = None) -> DatasetsPage:
        """Datasets (newest first by default; ``order_by`` field createdAt | updatedAt | name). Filters:
        tenancy, candidate key/id and target type (equality), target ids (any overlap), name
        (case-insensitive substring)."""
        page = window(pagination)
        flt_in = coerce(DatasetListFilters, filters or {}, what="filters")
        field, direction = resolve_order(order_by, allowed=("createdAt", "updatedAt", "name"),
                                         default_field="createdAt", default_direction="DESC", strict=True)
        index = D.gsi4 if field == "updatedAt" else D.gsi3
        queries = [listing.PartitionQuery(*requests.index_keys(index), keys.datasets_global_pk(s))
                   for s in keys.all_shards(keys.GLOBAL_SHARDS)]
        equal = {name: value for name, value in (
            ("organization_id", flt_in.organization_id), ("project_id", flt_in.project_id),
            ("candidate_key", flt_in.candidate_key), ("candidate_id", flt_in.candidate_id),
            ("target_type", flt_in.target_type)) if value is not None}
        targets = list(flt_in.target_ids or ())
        values: dict[str, Any] = {**equal, **{f"target{i}": t for i, t in enumerate(targets)},
                                  "now": self.ttl.now_epoch}
        if flt_in.name:
            values["name"] = flt_in.name.lower()
        shape = filter_shape(("list_datasets", tuple(equal), len(targets), bool(flt_in.name)),
                             lambda s: _datasets_filter(s, tuple(equal), len(targets), bool(flt_in.name)))
        flt = shape.builder(**values)

        if field == "name":
            rows = listing.collect(self.table, queries, ascending=True, filter_builder=flt, offset=0, limit=None)
            decoded = sorted((D.record_from_raw(r) for r in rows), key=lambda d: d.id)
            decoded.sort(key=lambda d: (d.name.lower(), d.name), reverse=direction == "DESC")
            return DatasetsPage(datasets=decoded[page.offset:page.end], pagination=info(page, len(decoded)))
        items, total = listing.page_with_total(self.table, queries, ascending=direction == "ASC",
                                               filter_builder=flt, offset=page.offset, limit=page.limit)
        total = total or 0
        return DatasetsPage(datasets=[D.record_from_raw(r) for r in items], pagination=info(page, total))

    # ------------------------------------------------------------------ admin
    def dangerously_clear_all(self) -> None:
        """Delete every dataset item of this table. Admin only: reads the whole table with a Scan."""
        from mastra_dynamo.admin import scan_entities  # admin: not a request path

        self.table.batch_write(deletes=list(scan_entities(self.table, ENTITIES)))


__all__ = ["DynamoDatasetsStore"]
