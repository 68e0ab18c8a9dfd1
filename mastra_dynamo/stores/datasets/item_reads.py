"""Item reads of the datasets domain: current and time-travel listings, lookups by id, history, versions.

Visibility follows SCD-2 at the dataset's *committed* version ``c`` (the ``version`` attribute): a row is
visible at ``V <= c`` when ``datasetVersion <= V``, ``validTo`` is absent or ``> V``, and it is not a
tombstone. Requests for a version above ``c`` are answered at ``c``, so rows staged by a batch that has not
committed (``datasetVersion = c + 1``) are never visible. Current reads use the ``IC#`` rows (gsi1/gsi2 for
listings), except while a committed batch's projection is pending: then they are answered from the history.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from pynamodb.expressions.condition import Condition

from mastra_dynamo.dynamo.client import TransactionCancelled
from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.errors import ConflictError, NotFoundError, ValidationError
from mastra_dynamo.models import requests
from mastra_dynamo.models.base import TableItem
from mastra_dynamo.models.datasets import (
    EPOCH,
    NOT_DELETED,
    DatasetModel,
    DatasetVersionModel,
    ItemCurrentModel,
    ItemPointerModel,
    ItemRowModel,
    expires_of,
    stored_text,
)
from mastra_dynamo.pagination import Pagination, paginate
from mastra_dynamo.records.base import coerce
from mastra_dynamo.records.datasets import (
    DatasetItem,
    DatasetItemRow,
    DatasetItemsPage,
    DatasetTenancyFilters,
    DatasetVersion,
    DatasetVersionsPage,
    ListPagination,
    PaginationInfo,
)
from mastra_dynamo.schema import keys
from mastra_dynamo.stores import listing
from mastra_dynamo.stores.datasets import items as it
from mastra_dynamo.stores.datasets.mutations import CREATE, DatasetMutations, tenancy, tenancy_matches
from mastra_dynamo.stores.datasets.shapes import FilterShape, get_request, update_shape
from mastra_dynamo.validate import require_id, resolve_order

DEFAULT_PER_PAGE = 100
D = DatasetModel
R = ItemRowModel
IS_CURRENT: Condition = ItemCurrentModel.item_type == ItemCurrentModel
"""Filter condition: the item is a current row (``_et = dataset_item_current``)."""
_VISIBLE = FilterShape(lambda s: (R.dataset_version <= s("version", R.dataset_version))
                       & (R.valid_to.does_not_exist() | (R.valid_to > s("version", R.valid_to)))
                       & NOT_DELETED & R.not_expired(s("now", EPOCH)))
"""Filter: a history row visible at a version (valid then, not a tombstone, not expired)."""
ALIVE = FilterShape(lambda s: TableItem.not_expired(s("now", EPOCH)))
"""Filter: the item has not expired."""
_LISTED = FilterShape(lambda s: IS_CURRENT & ItemCurrentModel.not_expired(s("now", EPOCH)))
"""Filter of the item listings on gsi1/gsi2: current rows that have not expired."""
_VERSION_ADDED = update_shape(lambda s: ([D.rev.set(D.rev + 1), D.version_count.add(1)],
                                         D.pk.exists() & D.not_expired(s("now", EPOCH))))


def window(pagination: ListPagination | Mapping[str, Any] | None) -> Pagination:
    pg = coerce(ListPagination, pagination or {}, what="pagination")
    return paginate(pg.page, pg.per_page, default=DEFAULT_PER_PAGE)


def info(pagination: Pagination, total: int) -> PaginationInfo:
    return PaginationInfo(total=total, page=pagination.page, per_page=pagination.per_page,
                          has_more=pagination.has_more(total))


def check_version(version: Any, *, field: str) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ValidationError(f"{field} must be a non-negative integer", code="INVALID_INPUT",
                              details={"field": field})
    return version


class ItemReads(DatasetMutations):
    # ------------------------------------------------------------------ history views
    def visible_rows(self, dataset_id: str, version: int) -> list[Item]:
        """Rows visible at ``version`` (a committed version), strongly consistent, in no particular order."""
        query = listing.PartitionQuery(None, "pk", "sk", keys.dataset_key(dataset_id).pk,
                                       sk_prefix=keys.DATASET_ITEM_ROW_PREFIX, consistent=True)
        return listing.collect(self.table, [query], ascending=True, offset=0, limit=None,
                               filter_builder=_VISIBLE.builder(version=version, now=self.ttl.now_epoch))

    def _alive_filter(self) -> listing.FilterBuilder:
        """Filter: the item has not expired (at the time each Query is built)."""
        return ALIVE.builder(now=self.ttl.now_epoch)

    def row_at(self, dataset_id: str, item_id: str, version: int) -> Item | None:
        """The row of an item visible at ``version``, or None."""
        prefix = keys.dataset_item_rows_prefix(item_id)
        query = listing.PartitionQuery(None, "pk", "sk", keys.dataset_key(dataset_id).pk,
                                       sk_between=(f"{prefix}{0:010d}", f"{prefix}{version:010d}"), consistent=True)
        rows = listing.collect(self.table, [query], ascending=False, filter_builder=self._alive_filter(), offset=0,
                               limit=1)
        if not rows:
            return None
        row = rows[0]
        values = R.decode_attributes(row, ("is_deleted", "valid_to"))
        if values["is_deleted"]:
            return None
        if values["valid_to"] is not None and values["valid_to"] <= version:
            return None
        return row

    @staticmethod
    def _order(rows: list[Item], field: str, direction: str) -> list[Item]:
        """Rows in listing order: ``field`` (createdAt or updatedAt), then escaped id (the index sort key)."""
        attr = R.created_at if field == "createdAt" else R.updated_at

        def sort_key(row: Item) -> str:
            return f"{stored_text(attr, row)}#{keys.component(stored_text(R.id, row))}"

        return sorted(rows, key=sort_key, reverse=direction == "DESC")

    # ------------------------------------------------------------------ listings
    def list_items(self, *, dataset_id: str, version: int | None = None, search: str | None = None,
                   pagination: ListPagination | Mapping[str, Any] | None = None,
                   filters: DatasetTenancyFilters | Mapping[str, Any] | None = None,
                   order_by: Any = None) -> DatasetItemsPage:
        """Current items (or the snapshot at ``version``), newest first by default; ``search`` is a
        case-insensitive substring of the input or ground-truth JSON. A missing dataset or one outside the
        tenancy filters gives an empty page."""
        require_id(dataset_id, field="dataset_id")
        scope = tenancy(filters)
        page = window(pagination)
        field, direction = resolve_order(order_by, allowed=("createdAt", "updatedAt"), default_field="createdAt",
                                         default_direction="DESC", strict=True)
        if version is not None:
            check_version(version, field="version")
        if search is not None and not isinstance(search, str):
            raise ValidationError("search must be a string", code="INVALID_INPUT")
        needle = search.lower() if search else None
        dataset = self.read_dataset(dataset_id)
        if dataset is None or not tenancy_matches(dataset, scope):
            return DatasetItemsPage(items=[], pagination=info(page, 0))
        counters = D.decode_attributes(dataset, ("version", "item_count", "projecting"))
        committed = counters["version"] or 0

        def matches(row: Item) -> bool:
            if needle is None:
                return True
            first, second = it.search_text(row)
            return needle in first or needle in second

        if version is not None or counters["projecting"] is not None:
            at = committed if version is None else min(version, committed)
            rows = [r for r in self._order(self.visible_rows(dataset_id, at), field, direction) if matches(r)]
            chosen = rows[page.offset:page.end]
            return DatasetItemsPage(items=[R.record_from_raw(r) for r in chosen], pagination=info(page, len(rows)))
        index = ItemCurrentModel.gsi1 if field == "createdAt" else ItemCurrentModel.gsi2
        queries = [listing.PartitionQuery(*requests.index_keys(index), keys.dataset_items_pk(dataset_id))]
        flt = _LISTED.builder(now=self.ttl.now_epoch)

        if needle is not None:
            items, total = listing.page_with_total(self.table, queries, ascending=direction == "ASC",
                                                   filter_builder=flt, offset=page.offset, limit=page.limit,
                                                   predicate=matches)
            count = total or 0
        else:
            items = listing.collect(self.table, queries, ascending=direction == "ASC", filter_builder=flt,
                                    offset=page.offset, limit=page.limit)
            count = counters["item_count"] or 0
        return DatasetItemsPage(items=[ItemCurrentModel.record_from_raw(r) for r in items],
                                pagination=info(page, count))

    def get_items_by_version(self, *, dataset_id: str, version: int,
                             filters: DatasetTenancyFilters | Mapping[str, Any] | None = None) -> list[DatasetItem]:
        """Every item visible at ``version`` (createdAt DESC)."""
        require_id(dataset_id, field="dataset_id")
        check_version(version, field="version")
        dataset = self.read_dataset(dataset_id)
        if dataset is None or not tenancy_matches(dataset, tenancy(filters)):
            return []
        at = min(version, D.decode_attributes(dataset, ("version",))["version"] or 0)
        return [R.record_from_raw(r) for r in self._order(self.visible_rows(dataset_id, at), "createdAt", "DESC")]

    def _pointed_dataset(self, item_id: str) -> str | None:
        """The dataset of an item, from its pointer (None: no live pointer)."""
        request = get_request(self.table.table_name, keys.dataset_item_ref_key(item_id), consistent=True)
        pointer = self.alive(self.table.call("GetItem", **request).get("Item"))
        if pointer is None:
            return None
        dataset_id: str | None = ItemPointerModel.decode_attributes(pointer, ("dataset_id",))["dataset_id"]
        return dataset_id

    # ------------------------------------------------------------------ by id
    def get_item_by_id(self, *, id: str, dataset_version: int | None = None,
                       filters: DatasetTenancyFilters | Mapping[str, Any] | None = None) -> DatasetItem | None:
        """The current item, or the item as it was at ``dataset_version``; None when it is missing, deleted
        (at that version) or outside the tenancy filters."""
        require_id(id, field="id")
        if dataset_version is not None:
            check_version(dataset_version, field="dataset_version")
        scope = tenancy(filters)
        dataset_id = self._pointed_dataset(id)
        if dataset_id is None:
            return None
        dataset_key = keys.dataset_key(dataset_id)
        current_key = keys.dataset_item_current_key(dataset_id, id)
        found = self.table.batch_get([dataset_key] if dataset_version is not None else [dataset_key, current_key])
        dataset = self.alive(found.get((dataset_key.pk, dataset_key.sk)))
        if dataset is None or not tenancy_matches(dataset, scope):
            return None
        counters = D.decode_attributes(dataset, ("version", "projecting"))
        committed = counters["version"] or 0
        if dataset_version is None and counters["projecting"] is None:
            current = self.alive(found.get((current_key.pk, current_key.sk)))
            if current is None or ItemCurrentModel.decode_attributes(current, ("is_deleted",))["is_deleted"]:
                return None
            return ItemCurrentModel.record_from_raw(current)
        at = committed if dataset_version is None else min(dataset_version, committed)
        row = self.row_at(dataset_id, id, at)
        return None if row is None else R.record_from_raw(row)

    def get_item_history(self, item_id: str) -> list[DatasetItemRow]:
        """Every committed row of an item, tombstones included, ``dataset_version`` DESC."""
        require_id(item_id, field="item_id")
        dataset_id = self._pointed_dataset(item_id)
        if dataset_id is None:
            return []
        dataset = self.read_dataset(dataset_id)
        if dataset is None:
            return []
        committed = D.decode_attributes(dataset, ("version",))["version"] or 0
        query = listing.PartitionQuery(None, "pk", "sk", keys.dataset_key(dataset_id).pk,
                                       sk_between=(f"{keys.dataset_item_rows_prefix(item_id)}{0:010d}",
                                                   f"{keys.dataset_item_rows_prefix(item_id)}{committed:010d}"),
                                       consistent=True)
        rows = listing.collect(self.table, [query], ascending=False, filter_builder=self._alive_filter(), offset=0,
                               limit=None)
        return [R.row_from_raw(r, committed=committed) for r in rows]

    # ------------------------------------------------------------------ dataset versions
    def create_dataset_version(self, dataset_id: str, version: int) -> DatasetVersion:
        """Record a dataset version row (normally written by the item mutations themselves).
        Raises NotFoundError DATASET_NOT_FOUND, ConflictError DATASET_VERSION_CONFLICT."""
        require_id(dataset_id, field="dataset_id")
        check_version(version, field="version")
        dataset = self.read_dataset(dataset_id)
        if dataset is None:
            raise NotFoundError(f"Dataset not found: {dataset_id}", code="DATASET_NOT_FOUND",
                                details={"dataset_id": dataset_id})
        row = DatasetVersionModel.encode_item(DatasetVersionModel.values(
            dataset_id, version, str(uuid.uuid4()), self.now(), expires_at=expires_of(dataset)))
        table, now = self.table.table_name, self.ttl.now_epoch()
        put = requests.transact("Put", CREATE.bind(table, item=row, now=now))
        bump = requests.transact("Update", _VERSION_ADDED.bind(table, keys.dataset_key(dataset_id), now=now))
        try:
            self.table.transact_write([put, bump])
        except TransactionCancelled as exc:
            if exc.reasons and exc.reasons[0] == "ConditionalCheckFailed":
                raise ConflictError(f"dataset {dataset_id!r} already has version {version}",
                                    code="DATASET_VERSION_CONFLICT",
                                    details={"dataset_id": dataset_id, "version": version}) from None
            if len(exc.reasons) > 1 and exc.reasons[1] == "ConditionalCheckFailed":
                raise NotFoundError(f"Dataset not found: {dataset_id}", code="DATASET_NOT_FOUND",
                                    details={"dataset_id": dataset_id}) from None
            raise
        return DatasetVersionModel.record_from_raw(row)

    def list_dataset_versions(self, *, dataset_id: str, pagination: ListPagination | Mapping[str, Any] | None = None,
                              filters: DatasetTenancyFilters | Mapping[str, Any] | None = None) -> DatasetVersionsPage:
        """Versions of a dataset, newest first (``total`` from the dataset's version counter)."""
        require_id(dataset_id, field="dataset_id")
        page = window(pagination)
        dataset = self.read_dataset(dataset_id)
        if dataset is None or not tenancy_matches(dataset, tenancy(filters)):
            return DatasetVersionsPage(versions=[], pagination=info(page, 0))
        query = listing.PartitionQuery(None, "pk", "sk", keys.dataset_key(dataset_id).pk,
                                       sk_prefix=keys.DATASET_VERSION_PREFIX, consistent=True)
        rows = listing.collect(self.table, [query], ascending=False, filter_builder=self._alive_filter(),
                               offset=page.offset, limit=page.limit)
        total = D.decode_attributes(dataset, ("version_count",))["version_count"] or 0
        if page.limit is None or (page.offset == 0 and len(rows) < page.limit):
            total = len(rows)
        return DatasetVersionsPage(versions=[DatasetVersionModel.record_from_raw(r) for r in rows],
                                   pagination=info(page, total))
