"""The stored forms of the datasets domain (docs/access-patterns.md 2.5): one PynamoDB model per entity.

Every item of a dataset lives in its collection ``D#<datasetId>``, except the item pointer:

* :class:`DatasetModel` ``D`` (``_et = dataset``): the descriptive fields as JSON in ``data`` (``None`` fields
  left out); ``id``; ``version`` (the committed version); ``itemCount`` and ``versionCount``; ``createdAt``
  and ``updatedAt`` (``keys.ts``); ``nameLower`` (name search); copies of ``organizationId``, ``projectId``,
  ``candidateKey``, ``candidateId`` and ``targetType`` (when set); ``targetIdSet`` (a string set, when there
  are target ids); the revision ``_rev``; gsi3 / gsi4 keys ``DA#<shard8>`` / ``<ts>#<id>``. While a staged
  batch runs: ``lock``, ``lockAt`` (epoch ms), ``lockState``, ``lockVersion``; after its commit
  ``projecting`` (the version whose current rows are being rewritten).
* :class:`ItemRowModel` ``I#<item>#<version:010d>`` (``dataset_item_row``): one SCD-2 history row. The
  payload as JSON in ``data``; ``id``, ``datasetId``, ``datasetVersion``, ``createdAt``, ``updatedAt``,
  ``isDeleted`` (BOOL); ``externalId``, ``organizationId``, ``projectId`` when set; ``purged`` (only ever
  ``true``) once purged. Once closed, ``validTo``. Rows of a staged batch carry ``stage`` (and ``stageNew``
  for new items), closes it staged carry ``closedBy``.
* :class:`ItemCurrentModel` ``IC#<item>`` (``dataset_item_current``): a copy of the item's newest committed
  row without the row-only attributes, indexed on gsi1 (``DC#<dataset>`` / ``<createdAt>#<item>``) and gsi2
  (``DC#<dataset>`` / ``<updatedAt>#<item>``) unless it is a tombstone.
* :class:`DatasetVersionModel` ``V#<version:010d>`` (``dataset_version``): ``id``, ``datasetId``, ``version``,
  ``createdAt``.
* :class:`ExternalIdModel` ``X#<externalId>`` (``dataset_external_id``): ``datasetId``, ``externalId``,
  ``itemId`` and ``payloadHash`` (what makes inserts idempotent).
* :class:`ItemPointerModel` ``DI#<item>`` / ``DI`` (``dataset_item_ref``): ``datasetId``, ``itemId`` and, once
  purged, ``purged`` and ``purgedAt``.

Every item carries ``_et``, ``_sv`` and, when retention applies, ``ttl`` (the dataset's, on every item of its
collection). The result links ``L#...`` of the collection belong to the experiments domain, which owns their
model; this domain only reads the link attributes it needs (:data:`LINK_EXPERIMENT_ID`,
:data:`LINK_RESULT_ID`).

Each model's ``values(...)`` classmethod gives the attribute values of a new item: ``Model(**values)`` is the
PynamoDB instance, ``Model.encode_item(values)`` its ``serialize()`` without building the instance (the store's
write path); reads decode the attributes they need with ``Model.decode_attributes`` (models/layout.py).
Whole numbers are :class:`IntegerAttribute` (``N``, converted with ``str``/``int``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from pynamodb.attributes import Attribute, BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.constants import STRING_SET
from pynamodb.expressions.condition import Condition

from mastra_dynamo.clock import to_utc
from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.models.attributes import JsonAttribute, TimestampAttribute
from mastra_dynamo.models.base import TableItem, epoch_datetime
from mastra_dynamo.models.layout import Stored
from mastra_dynamo.records.base import json_data
from mastra_dynamo.records.datasets import Dataset, DatasetItem, DatasetItemRow, DatasetVersion
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.keys import Key

ENTITY_DATASET = "dataset"
ENTITY_ROW = "dataset_item_row"
ENTITY_CURRENT = "dataset_item_current"
ENTITY_VERSION = "dataset_version"
ENTITY_EXTERNAL_ID = "dataset_external_id"
ENTITY_ITEM_REF = "dataset_item_ref"
ENTITY_ITEM_LINK = "dataset_item_link"
"""Written by the experiments domain into the dataset's collection (its model lives there)."""


class IntegerAttribute(NumberAttribute):
    """A whole number (``N``): versions, counters, revisions, epoch milliseconds. Stored as
    ``NumberAttribute`` stores an ``int`` (its decimal digits), converted with ``str``/``int`` rather than
    ``NumberAttribute``'s JSON round trip (a tenth of the cost; these are written and read on every call)."""

    def serialize(self, value: Any) -> str:
        return str(int(value))

    def deserialize(self, value: str) -> int:
        return int(value)


EPOCH = IntegerAttribute(attr_name="ttl")
"""Epoch seconds typed like the ``ttl`` attribute stores them: the type of a ``now`` compared with ``ttl``."""


class SortedStringSetAttribute(Attribute[set[str]]):
    """A string set (``SS``) serialized in sorted order (deterministic items); an empty set is absent."""

    attr_type = STRING_SET
    null = True

    def serialize(self, value: set[str]) -> list[str] | None:
        return sorted(value) or None

    def deserialize(self, value: list[str]) -> set[str]:
        return set(value)


def _expires(expires_at: int | None) -> dict[str, Any]:
    return {} if expires_at is None else {"ttl": epoch_datetime(expires_at)}


# ---------------------------------------------------------------------------- stored values
def expires_of(raw: Item) -> int | None:
    """The ``ttl`` of a stored item in epoch seconds (None: kept forever)."""
    text = stored_text(TableItem.ttl, raw)
    return None if text is None else int(float(text))


def stored_text(attr: Attribute[Any], raw: Item) -> Any:
    """The stored value of a scalar attribute of ``raw`` as PynamoDB reads it off its type (``get_value``),
    before deserialization: the exact text of a timestamp or id (None when absent or NULL)."""
    value = raw.get(attr.attr_name)
    return attr.get_value(value) if value and "NULL" not in value else None


# ---------------------------------------------------------------------------- dataset
class DatasetModel(TableItem, discriminator=ENTITY_DATASET):
    """The dataset item ``D#<id>`` / ``D``. Build it with :meth:`new`; decode with :meth:`record_from_raw`."""

    id = UnicodeAttribute(attr_name="id")
    data = JsonAttribute(field="dataset")
    name_lower = UnicodeAttribute(attr_name="nameLower")
    version = IntegerAttribute(attr_name="version")
    item_count = IntegerAttribute(attr_name="itemCount")
    version_count = IntegerAttribute(attr_name="versionCount")
    created_at = TimestampAttribute(attr_name="createdAt")
    updated_at = TimestampAttribute(attr_name="updatedAt")
    rev = IntegerAttribute(null=True, attr_name="_rev")

    organization_id = UnicodeAttribute(null=True, attr_name="organizationId")
    project_id = UnicodeAttribute(null=True, attr_name="projectId")
    candidate_key = UnicodeAttribute(null=True, attr_name="candidateKey")
    candidate_id = UnicodeAttribute(null=True, attr_name="candidateId")
    target_type = UnicodeAttribute(null=True, attr_name="targetType")
    target_id_set = SortedStringSetAttribute(null=True, attr_name="targetIdSet")

    # a staged batch's lock, and the version whose projection is pending
    lock = UnicodeAttribute(null=True, attr_name="lock")
    lock_at = IntegerAttribute(null=True, attr_name="lockAt")
    lock_state = UnicodeAttribute(null=True, attr_name="lockState")
    lock_version = IntegerAttribute(null=True, attr_name="lockVersion")
    projecting = IntegerAttribute(null=True, attr_name="projecting")

    # gsi3: all datasets by createdAt, gsi4: by updatedAt (write-sharded DA#<shard>)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    gsi4pk = UnicodeAttribute(null=True)
    gsi4sk = UnicodeAttribute(null=True)

    LOCK: ClassVar[tuple[str, ...]] = ("lock", "lock_at", "lock_state", "lock_version")
    """The lock attributes (Python names): set by a claim, removed together by a commit or a rollback."""

    @classmethod
    def values(cls, record: Dataset, *, item_count: int, version_count: int, rev: int,
               expires_at: int | None = None) -> dict[str, Any]:
        """The attribute values of the item of ``record`` with its counters and revision (no lock, no pending
        projection): ``DatasetModel(**values)``, or ``DatasetModel.encode_item`` for its serialized form."""
        key = keys.dataset_key(record.id)
        data = json_data(record, what="dataset", by_alias=True, include=_DESCRIPTIVE)
        data = {k: v for k, v in data.items() if v is not None}
        created, updated = to_utc(record.created_at), to_utc(record.updated_at)
        cid = keys.component(record.id)
        shard_pk = keys.datasets_global_pk(keys.shard_of(record.id, keys.GLOBAL_SHARDS))
        values: dict[str, Any] = {
            "pk": key.pk, "sk": key.sk, "id": record.id, "data": data, "name_lower": record.name.lower(),
            "version": record.version,
            "item_count": item_count, "version_count": version_count, "created_at": created,
            "updated_at": updated, "rev": rev,
            "gsi3pk": shard_pk, "gsi3sk": f"{keys.ts(created)}#{cid}",
            "gsi4pk": shard_pk, "gsi4sk": f"{keys.ts(updated)}#{cid}",
            **_expires(expires_at),
        }
        for name, field in _DATASET_COPIED:
            value = data.get(field)
            if isinstance(value, str):
                values[name] = value
        if record.target_ids:
            values["target_id_set"] = set(record.target_ids)
        return values

    @classmethod
    def record_from_raw(cls, raw: Item) -> Dataset:
        """The stored dataset as its record (``data`` with the id, version and timestamps)."""
        values = cls.decode_attributes(raw, ("data", "id", "version", "created_at", "updated_at"))
        data = values.pop("data")
        data.update({"id": values["id"], "version": values["version"] or 0, "createdAt": values["created_at"],
                     "updatedAt": values["updated_at"]})
        return Dataset.model_validate(data)

    @classmethod
    def descriptive_from_raw(cls, raw: Item) -> dict[str, Any]:
        """The descriptive fields (``data``: name, schemas, tenancy...) of a stored dataset."""
        data: dict[str, Any] = cls.decode_attributes(raw, ("data",))["data"]
        return data


_DESCRIPTIVE = {
    "name", "description", "metadata", "input_schema", "ground_truth_schema", "request_context_schema", "tags",
    "target_type", "target_ids", "scorer_ids", "organization_id", "project_id", "candidate_key", "candidate_id"}
_DATASET_COPIED = tuple((name, DatasetModel.get_attributes()[name].attr_name)
                        for name in ("organization_id", "project_id", "candidate_key", "candidate_id", "target_type"))


# ---------------------------------------------------------------------------- item rows
class ItemPayloadModel(TableItem):
    """What a history row and a current row share (the record of one dataset item at one version).
    Not an entity of its own: :class:`ItemRowModel` and :class:`ItemCurrentModel` are."""

    id = UnicodeAttribute(attr_name="id")
    dataset_id = UnicodeAttribute(attr_name="datasetId")
    dataset_version = IntegerAttribute(attr_name="datasetVersion")
    data = JsonAttribute(field="item")
    created_at = TimestampAttribute(attr_name="createdAt")
    updated_at = TimestampAttribute(attr_name="updatedAt")
    is_deleted = BooleanAttribute(attr_name="isDeleted")
    external_id = UnicodeAttribute(null=True, attr_name="externalId")
    organization_id = UnicodeAttribute(null=True, attr_name="organizationId")
    project_id = UnicodeAttribute(null=True, attr_name="projectId")
    purged = BooleanAttribute(null=True, attr_name="purged")

    @classmethod
    def record_from_raw(cls, raw: Item) -> DatasetItem:
        """The item record of a stored row (history or current)."""
        values = cls.decode_attributes(raw, _ITEM_RECORD)
        data: dict[str, Any] = values.pop("data")
        data.update({field: values[name] for name, field in _ITEM_FIELDS})
        return DatasetItem.model_validate(data)


_ITEM_FIELDS = (("id", "id"), ("dataset_id", "datasetId"), ("dataset_version", "datasetVersion"),
                ("external_id", "externalId"), ("organization_id", "organizationId"),
                ("project_id", "projectId"), ("created_at", "createdAt"), ("updated_at", "updatedAt"))
_ITEM_RECORD = ("data", *(name for name, _ in _ITEM_FIELDS))


class ItemRowModel(ItemPayloadModel, discriminator=ENTITY_ROW):
    """One SCD-2 history row ``I#<item>#<version:010d>`` (open while it has no ``validTo``)."""

    valid_to = IntegerAttribute(null=True, attr_name="validTo")
    closed_by = UnicodeAttribute(null=True, attr_name="closedBy")
    stage = UnicodeAttribute(null=True, attr_name="stage")
    stage_new = BooleanAttribute(null=True, attr_name="stageNew")

    @classmethod
    def values(cls, *, dataset_id: str, item_id: str, version: int, payload: Mapping[str, Any],
               external_id: str | None, organization_id: str | None, project_id: str | None,
               created_at: datetime | Stored, updated_at: datetime | Stored, is_deleted: bool,
               purged: bool = False, valid_to: int | None = None,
               expires_at: int | None = None) -> dict[str, Any]:
        """The attribute values of the row of ``item_id`` valid from ``version`` (``valid_to``: closed at that
        version). A timestamp may be given already serialized (:class:`Stored`, for ``encode_item`` only)."""
        key = keys.dataset_item_row_key(dataset_id, item_id, version)
        return {
            "pk": key.pk, "sk": key.sk, "id": item_id, "dataset_id": dataset_id, "dataset_version": version,
            "data": dict(payload),
            "created_at": created_at, "updated_at": updated_at, "is_deleted": is_deleted,
            "external_id": external_id, "organization_id": organization_id, "project_id": project_id,
            "purged": True if purged else None, "valid_to": valid_to, **_expires(expires_at)}

    @classmethod
    def row_from_raw(cls, raw: Item, *, committed: int) -> DatasetItemRow:
        """A history row as the caller sees it at the committed version (a close staged by an uncommitted
        batch is not visible yet)."""
        base = cls.record_from_raw(raw).model_dump(by_alias=False)
        values = cls.decode_attributes(raw, ("valid_to", "is_deleted"))
        valid_to = values["valid_to"]
        if valid_to is not None and valid_to > committed:
            valid_to = None
        return DatasetItemRow.model_validate({**base, "valid_to": valid_to, "is_deleted": bool(values["is_deleted"])})


class ItemCurrentModel(ItemPayloadModel, discriminator=ENTITY_CURRENT):
    """The current row ``IC#<item>``: the newest committed history row, indexed unless a tombstone."""

    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)

    @classmethod
    def from_row(cls, row: Item) -> Item:
        """The current row (serialized) for a stored or new history row ``row``: its attributes without the
        row-only ones (``validTo``, ``closedBy``, ``stage``, ``stageNew``), the current key and ``_et``, and the
        index keys of a live item."""
        item_id, dataset_id = stored_text(_PAYLOAD["id"], row), stored_text(_PAYLOAD["dataset_id"], row)
        key = keys.dataset_item_current_key(dataset_id, item_id)
        current: dict[str, Any] = {"pk": key.pk, "sk": key.sk, "item_type": cls}
        if not stored_text(_PAYLOAD["is_deleted"], row):
            cid = keys.component(item_id)
            pk = keys.dataset_items_pk(dataset_id)  # the index sort keys start with the stored timestamps
            current.update(gsi1pk=pk, gsi1sk=f"{stored_text(_PAYLOAD['created_at'], row)}#{cid}",
                           gsi2pk=pk, gsi2sk=f"{stored_text(_PAYLOAD['updated_at'], row)}#{cid}")
        out = {name: value for name, value in row.items() if name not in _ROW_ONLY}
        out.update(cls.encode_values(current))
        return out


_PAYLOAD = ItemPayloadModel.get_attributes()
_ROW_ONLY = frozenset(ItemRowModel.get_attributes()[name].attr_name
                      for name in ("valid_to", "closed_by", "stage", "stage_new"))
NOT_DELETED: Condition = ItemPayloadModel.is_deleted == False  # noqa: E712  (a PynamoDB condition)
"""Filter condition: the row is not a tombstone (``isDeleted = false``)."""


# ---------------------------------------------------------------------------- versions, ids, pointers
class DatasetVersionModel(TableItem, discriminator=ENTITY_VERSION):
    """A dataset version row ``V#<version:010d>``."""

    id = UnicodeAttribute(attr_name="id")
    dataset_id = UnicodeAttribute(attr_name="datasetId")
    version = IntegerAttribute(attr_name="version")
    created_at = TimestampAttribute(attr_name="createdAt")

    @classmethod
    def values(cls, dataset_id: str, version: int, version_id: str, created_at: datetime,
               expires_at: int | None = None) -> dict[str, Any]:
        key = keys.dataset_version_key(dataset_id, version)
        return {"pk": key.pk, "sk": key.sk, "id": version_id, "dataset_id": dataset_id, "version": version,
                "created_at": created_at, **_expires(expires_at)}

    @classmethod
    def record_from_raw(cls, raw: Item) -> DatasetVersion:
        values = cls.decode_attributes(raw, ("id", "dataset_id", "version", "created_at"))
        return DatasetVersion(id=values["id"], dataset_id=values["dataset_id"], version=values["version"] or 0,
                              created_at=values["created_at"])



class ExternalIdModel(TableItem, discriminator=ENTITY_EXTERNAL_ID):
    """The idempotency record ``X#<externalId>`` of an accepted external id."""

    dataset_id = UnicodeAttribute(attr_name="datasetId")
    external_id = UnicodeAttribute(attr_name="externalId")
    item_id = UnicodeAttribute(attr_name="itemId")
    payload_hash = UnicodeAttribute(attr_name="payloadHash")

    @classmethod
    def values(cls, dataset_id: str, external_id: str, item_id: str, digest: str,
               expires_at: int | None = None) -> dict[str, Any]:
        key = keys.dataset_external_id_key(dataset_id, external_id)
        return {"pk": key.pk, "sk": key.sk, "dataset_id": dataset_id, "external_id": external_id,
                "item_id": item_id, "payload_hash": digest, **_expires(expires_at)}


class ItemPointerModel(TableItem, discriminator=ENTITY_ITEM_REF):
    """The item pointer ``DI#<item>`` / ``DI``: resolves an item id to its dataset."""

    dataset_id = UnicodeAttribute(attr_name="datasetId")
    item_id = UnicodeAttribute(attr_name="itemId")
    purged = BooleanAttribute(null=True, attr_name="purged")
    purged_at = UnicodeAttribute(null=True, attr_name="purgedAt")

    @classmethod
    def values(cls, dataset_id: str, item_id: str, *, purged_at: str | None = None,
               expires_at: int | None = None) -> dict[str, Any]:
        """The attribute values of the pointer of ``item_id`` (``purged_at``: the item was purged then)."""
        key = keys.dataset_item_ref_key(item_id)
        purge: dict[str, Any] = {} if purged_at is None else {"purged": True, "purged_at": purged_at}
        return {"pk": key.pk, "sk": key.sk, "dataset_id": dataset_id, "item_id": item_id, **purge,
                **_expires(expires_at)}


# ---------------------------------------------------------------------------- result links (experiments')
LINK_EXPERIMENT_ID = UnicodeAttribute(attr_name="experimentId")
LINK_RESULT_ID = UnicodeAttribute(attr_name="resultId")
"""Attributes of a result link (``dataset_item_link``, modelled by the experiments domain) that a purge
reads to find the results of an item."""


def key_of(raw: Item) -> Key:
    """The key of a stored item (any entity), decoded by ``TableItem``'s key attributes."""
    values = TableItem.decode_attributes(raw, ("pk", "sk"))
    return Key(values["pk"], values["sk"])


def link_of(raw: Item) -> tuple[str | None, str | None]:
    """(experiment id, result id) of a stored result link (None when absent)."""
    out: list[str | None] = []
    for attr in (LINK_EXPERIMENT_ID, LINK_RESULT_ID):
        value = raw.get(attr.attr_name)
        out.append(attr.deserialize(attr.get_value(value)) if value and "NULL" not in value else None)
    return out[0], out[1]
