"""The items of the experiments domain (docs/access-patterns.md 2.6) as PynamoDB models.

An experiment is the item collection ``E#<experimentId>``:

* :class:`ExperimentItem` ``E#<id>`` / ``E``: the record's fields as plain attributes (camelCase names; text
  as ``S``, integers as ``N``, timestamps as ``keys.ts`` text, JSON fields as JSON text or compressed JSON),
  a field that is None is absent. Review counters ``resultCount``, ``needsReview``, ``reviewed``,
  ``complete`` (``N``, 0 at creation, changed by ADD in every result transaction). gsi3 ``EA#<shard>`` and,
  only with a dataset, gsi2 ``ED#<datasetId>``, both sorted by ``<ts(createdAt)>#<id>``.
* :class:`ExperimentResultItem` ``E#<exp>`` / ``ER#<resultId>``: the result's fields as plain attributes,
  ``tagSet`` (string set of the tags, absent without tags), ``linkDatasetId`` (when its item is a dataset
  item), ``_rev`` (1 at creation) and gsi1 ``EX#<exp>`` / ``<ts(startedAt)>#<id>``.
* :class:`ExperimentResultSlotItem` ``E#<exp>`` / ``EK#<item>#<attempt>``: ``resultId`` (the newest result of
  the item's attempt), ``resultIds`` (string set of every result it named), ``itemId``, ``attempt``.
* :class:`ExperimentResultRefItem` ``EI#<resultId>`` / ``EI``: ``experimentId``, ``itemId``, ``attempt``.
* :class:`DatasetItemLinkItem` ``D#<dataset>`` / ``L#<item>#<exp>#<result>`` in the dataset's collection:
  ``datasetId``, ``itemId``, ``experimentId``, ``resultId``; written with every result of a dataset item
  so that a purge of the item finds its results.

Every item also has ``_et``, ``_sv`` and, with retention, ``ttl`` (``TableItem``). Results, slots and
pointers expire with their experiment, links with the dataset item's pointer.

:class:`DatasetItemPointerView` reads the dataset item pointer ``DI#<itemId>`` (written by the datasets
domain) without registering a model for it. The attribute types these models add are in
``models/experiment_attributes.py``; items are serialized and decoded by the models' layouts
(``models/layout.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar, cast

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute
from pynamodb.expressions.condition import Condition

from mastra_dynamo.dynamo.codec import Item, check_item_size
from mastra_dynamo.models.attributes import JsonAttribute, TimestampAttribute
from mastra_dynamo.models.base import TableItem, epoch_datetime
from mastra_dynamo.models.experiment_attributes import (
    CounterAttribute,
    IntegerAttribute,
    SortedStringSetAttribute,
    TextAttribute,
)
from mastra_dynamo.records.experiments import Experiment, ExperimentResult
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.keys import Key

ENTITY_EXPERIMENT = "experiment"
ENTITY_RESULT = "experiment_result"
ENTITY_SLOT = "experiment_result_slot"
ENTITY_RESULT_REF = "experiment_result_ref"
ENTITY_ITEM_LINK = "dataset_item_link"


def epoch_of(expires: datetime | None) -> int | None:
    """A decoded ``ttl`` as epoch seconds (None: kept forever)."""
    return None if expires is None else int(expires.timestamp())


def _present(values: dict[str, Any]) -> dict[str, Any]:
    """The decoded ``values`` that the item has (absent and NULL attributes left out: a record built from them
    takes its defaults)."""
    return {name: value for name, value in values.items() if value is not None}


def _for_model(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` for a model instance: an ``int`` ``ttl`` (epoch seconds) as the datetime TTLAttribute takes."""
    expires = values.get("ttl")
    return values if expires is None else {**values, "ttl": epoch_datetime(expires)}


# ---------------------------------------------------------------------------- experiment
class ExperimentItem(TableItem, discriminator=ENTITY_EXPERIMENT):
    """One experiment. Build it with :meth:`new`; read a stored one with :meth:`record_from_raw`."""

    id = TextAttribute(field="experiment.id")
    name = TextAttribute(null=True, field="experiment.name")
    description = TextAttribute(null=True, field="experiment.description")
    metadata = JsonAttribute(null=True, field="experiment.metadata")
    provenance = JsonAttribute(null=True, field="experiment.provenance")
    runner_attestation = JsonAttribute(null=True, field="experiment.runnerAttestation", attr_name="runnerAttestation")
    experiment_set_id = TextAttribute(null=True, field="experiment.experimentSetId", attr_name="experimentSetId")
    comparison_id = TextAttribute(null=True, field="experiment.comparisonId", attr_name="comparisonId")
    variant_id = TextAttribute(null=True, field="experiment.variantId", attr_name="variantId")
    trial_index = IntegerAttribute(null=True, field="experiment.trialIndex", attr_name="trialIndex")
    dataset_id = TextAttribute(null=True, field="experiment.datasetId", attr_name="datasetId")
    dataset_version = IntegerAttribute(null=True, field="experiment.datasetVersion", attr_name="datasetVersion")
    target_type = TextAttribute(null=True, field="experiment.targetType", attr_name="targetType")
    target_id = TextAttribute(null=True, field="experiment.targetId", attr_name="targetId")
    scorer_ids = JsonAttribute(null=True, field="experiment.scorerIds", attr_name="scorerIds")
    status = TextAttribute(field="experiment.status")
    total_items = IntegerAttribute(field="experiment.totalItems", attr_name="totalItems")
    succeeded_count = IntegerAttribute(field="experiment.succeededCount", attr_name="succeededCount")
    failed_count = IntegerAttribute(field="experiment.failedCount", attr_name="failedCount")
    skipped_count = IntegerAttribute(field="experiment.skippedCount", attr_name="skippedCount")
    agent_version = TextAttribute(null=True, field="experiment.agentVersion", attr_name="agentVersion")
    organization_id = TextAttribute(null=True, field="experiment.organizationId", attr_name="organizationId")
    project_id = TextAttribute(null=True, field="experiment.projectId", attr_name="projectId")
    started_at = TimestampAttribute(null=True, attr_name="startedAt")
    completed_at = TimestampAttribute(null=True, attr_name="completedAt")
    created_at = TimestampAttribute(attr_name="createdAt")
    updated_at = TimestampAttribute(attr_name="updatedAt")

    # review counters, changed in the same transaction as every result write
    result_count = CounterAttribute(null=True, attr_name="resultCount")
    needs_review = CounterAttribute(null=True, attr_name="needsReview")
    reviewed = CounterAttribute(null=True, attr_name="reviewed")
    complete = CounterAttribute(null=True, attr_name="complete")

    # index keys: gsi2 by dataset (only with a dataset), gsi3 all experiments (write-sharded)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)

    FIELDS: ClassVar[tuple[str, ...]] = (
        "id", "name", "description", "metadata", "provenance", "runner_attestation", "experiment_set_id",
        "comparison_id", "variant_id", "trial_index", "dataset_id", "dataset_version", "target_type", "target_id",
        "scorer_ids", "status", "total_items", "succeeded_count", "failed_count", "skipped_count", "agent_version",
        "organization_id", "project_id", "started_at", "completed_at", "created_at", "updated_at")
    """The record's fields (Python names of the model and of ``Experiment`` alike)."""
    COUNTERS: ClassVar[tuple[str, ...]] = ("result_count", "needs_review", "reviewed", "complete")

    @classmethod
    def new(cls, record: Experiment, *, expires_at: int | None) -> ExperimentItem:
        """The item of a new experiment: its fields, counters at 0, index keys, retention."""
        key, values = cls._values(record, expires_at)
        return cls.build(key, _for_model(values))

    @classmethod
    def serialized(cls, record: Experiment, *, expires_at: int | None) -> Item:
        """``new(record, expires_at=...).serialize()``, serialized attribute by attribute: what the store writes
        for a new experiment and ``mastra-dynamo import`` restores.

        Raises: ItemTooLargeError when the item does not fit in a DynamoDB item."""
        key, values = cls._values(record, expires_at)
        item = cls.encode_item({"pk": key.pk, "sk": key.sk, **values})
        check_item_size(item, entity="experiment", entity_id=record.id)
        return item

    @classmethod
    def _values(cls, record: Experiment, expires_at: int | None) -> tuple[Key, dict[str, Any]]:
        data = record.model_dump(by_alias=False, mode="python", exclude_none=True)
        values: dict[str, Any] = {name: data[name] for name in cls.FIELDS if name in data}
        values.update(dict.fromkeys(cls.COUNTERS, 0))
        sk = keys.time_sk(record.created_at, record.id)
        values["gsi3pk"] = keys.experiments_global_pk(keys.shard_of(record.id, keys.GLOBAL_SHARDS))
        values["gsi3sk"] = sk
        if record.dataset_id is not None:
            values["gsi2pk"] = keys.experiments_by_dataset_pk(record.dataset_id)
            values["gsi2sk"] = sk
        if expires_at is not None:
            values["ttl"] = expires_at
        return keys.experiment_key(record.id), values

    @classmethod
    def record_from_raw(cls, raw: Item) -> Experiment:
        """The stored experiment as its record (absent attributes take the record's defaults)."""
        return Experiment.model_validate(_present(cls.decode_attributes(raw, cls.FIELDS)))


IS_EXPERIMENT: Condition = ExperimentItem.item_type == ExperimentItem
"""Filter condition: the item is an experiment (``_et = experiment``)."""


# ---------------------------------------------------------------------------- result
class ExperimentResultItem(TableItem, discriminator=ENTITY_RESULT):
    """One result of an experiment. Build it with :meth:`new`; read it with :meth:`record_from_raw`."""

    id = TextAttribute(field="result.id")
    experiment_id = TextAttribute(field="result.experimentId", attr_name="experimentId")
    item_id = TextAttribute(field="result.itemId", attr_name="itemId")
    item_dataset_version = IntegerAttribute(null=True, field="result.itemDatasetVersion",
                                            attr_name="itemDatasetVersion")
    input = JsonAttribute(null=True, field="result.input")
    output = JsonAttribute(null=True, field="result.output")
    ground_truth = JsonAttribute(null=True, field="result.groundTruth", attr_name="groundTruth")
    metadata = JsonAttribute(null=True, field="result.metadata")
    error = JsonAttribute(null=True, field="result.error")
    started_at = TimestampAttribute(attr_name="startedAt")
    completed_at = TimestampAttribute(attr_name="completedAt")
    retry_count = IntegerAttribute(field="result.retryCount", attr_name="retryCount")
    attempt = IntegerAttribute(field="result.attempt")
    trace_id = TextAttribute(null=True, field="result.traceId", attr_name="traceId")
    status = TextAttribute(null=True, field="result.status")
    tags = JsonAttribute(null=True, field="result.tags")
    comment = TextAttribute(null=True, field="result.comment")
    tool_mock_report = JsonAttribute(null=True, field="result.toolMockReport", attr_name="toolMockReport")
    organization_id = TextAttribute(null=True, field="result.organizationId", attr_name="organizationId")
    project_id = TextAttribute(null=True, field="result.projectId", attr_name="projectId")
    created_at = TimestampAttribute(attr_name="createdAt")

    tag_set = SortedStringSetAttribute(null=True, attr_name="tagSet")
    """The tags as a string set: ``contains(tagSet, :tag)`` filters."""
    link_dataset_id = UnicodeAttribute(null=True, attr_name="linkDatasetId")
    """The dataset of the result's item (a link row in that dataset's collection names the result)."""
    rev = IntegerAttribute(null=True, field="result._rev", attr_name="_rev")

    # index keys: gsi1 results of the experiment by startedAt
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)

    FIELDS: ClassVar[tuple[str, ...]] = (
        "id", "experiment_id", "item_id", "item_dataset_version", "input", "output", "ground_truth", "metadata",
        "error", "started_at", "completed_at", "retry_count", "attempt", "trace_id", "status", "tags", "comment",
        "tool_mock_report", "organization_id", "project_id", "created_at")
    """The record's fields (Python names of the model and of ``ExperimentResult`` alike)."""
    PURGED: ClassVar[tuple[str, ...]] = ("input", "output", "ground_truth", "error", "tags", "tool_mock_report",
                                         "tag_set")
    """What a purge of the result's dataset item removes (``metadata`` becomes the purge marker)."""

    @classmethod
    def new(cls, record: ExperimentResult, *, rev: int, link_dataset_id: str | None,
            expires_at: int | None) -> ExperimentResultItem:
        """The item of ``record`` at revision ``rev``."""
        key, values = cls._values(record, rev, link_dataset_id, expires_at)
        return cls.build(key, _for_model(values))

    @classmethod
    def serialized(cls, record: ExperimentResult, *, rev: int, link_dataset_id: str | None,
                   expires_at: int | None) -> Item:
        """``new(...).serialize()``, serialized attribute by attribute: what the store writes for a result and
        ``mastra-dynamo import`` restores.

        Raises: ItemTooLargeError when the item does not fit in a DynamoDB item."""
        key, values = cls._values(record, rev, link_dataset_id, expires_at)
        item = cls.encode_item({"pk": key.pk, "sk": key.sk, **values})
        check_item_size(item, entity="experiment result", entity_id=record.id)
        return item

    @classmethod
    def _values(cls, record: ExperimentResult, rev: int, link_dataset_id: str | None,
                expires_at: int | None) -> tuple[Key, dict[str, Any]]:
        data = record.model_dump(by_alias=False, mode="python", exclude_none=True)
        values: dict[str, Any] = {name: data[name] for name in cls.FIELDS if name in data}
        if record.tags:
            values["tag_set"] = record.tags
        if link_dataset_id is not None:
            values["link_dataset_id"] = link_dataset_id
        values["rev"] = rev
        values["gsi1pk"] = keys.experiment_results_pk(record.experiment_id)
        values["gsi1sk"] = keys.time_sk(record.started_at, record.id)
        if expires_at is not None:
            values["ttl"] = expires_at
        return keys.experiment_result_key(record.experiment_id, record.id), values

    @classmethod
    def record_from_raw(cls, raw: Item) -> ExperimentResult:
        """The stored result as its record."""
        return ExperimentResult.model_validate(_present(cls.decode_attributes(raw, cls.FIELDS)))


IS_RESULT: Condition = ExperimentResultItem.item_type == ExperimentResultItem
"""Filter condition: the item is an experiment result (``_et = experiment_result``)."""


# ---------------------------------------------------------------------------- slot, pointer, link
class ExperimentResultSlotItem(TableItem, discriminator=ENTITY_SLOT):
    """The slot of (experiment, item, attempt): the result that upserts of that key replace. Written by an
    UpdateItem (SET the names, ADD the result to ``resultIds``), or whole by :meth:`new` (transfers)."""

    result_id = UnicodeAttribute(attr_name="resultId")
    result_ids = SortedStringSetAttribute(null=True, attr_name="resultIds")
    item_id = UnicodeAttribute(attr_name="itemId")
    attempt = IntegerAttribute(field="slot.attempt")

    @classmethod
    def new(cls, experiment_id: str, item_id: str, attempt: int, *, result_id: str, result_ids: Iterable[str],
            expires_at: int | None) -> ExperimentResultSlotItem:
        key = keys.experiment_result_slot_key(experiment_id, item_id, attempt)
        values: dict[str, Any] = {"result_id": result_id, "result_ids": set(result_ids), "item_id": item_id,
                                  "attempt": attempt}
        if expires_at is not None:
            values["ttl"] = epoch_datetime(expires_at)
        return cls.build(key, values)


class ExperimentResultRefItem(TableItem, discriminator=ENTITY_RESULT_REF):
    """The pointer ``EI#<resultId>``: resolves a result id to its experiment."""

    experiment_id = UnicodeAttribute(attr_name="experimentId")
    item_id = UnicodeAttribute(attr_name="itemId")
    attempt = IntegerAttribute(field="ref.attempt")

    @classmethod
    def new(cls, record: ExperimentResult, *, expires_at: int | None) -> ExperimentResultRefItem:
        key = keys.experiment_result_ref_key(record.id)
        return cls.build(key, _for_model(cls._values(record, expires_at)))

    @classmethod
    def serialized(cls, record: ExperimentResult, *, expires_at: int | None) -> Item:
        """``new(...).serialize()``, serialized attribute by attribute."""
        key = keys.experiment_result_ref_key(record.id)
        return cls.encode_item({"pk": key.pk, "sk": key.sk, **cls._values(record, expires_at)})

    @staticmethod
    def _values(record: ExperimentResult, expires_at: int | None) -> dict[str, Any]:
        return {"experiment_id": record.experiment_id, "item_id": record.item_id, "attempt": record.attempt,
                "ttl": expires_at}


class DatasetItemLinkItem(TableItem, discriminator=ENTITY_ITEM_LINK):
    """The link of a result to its dataset item, in the dataset's collection (found by a purge)."""

    dataset_id = UnicodeAttribute(attr_name="datasetId")
    item_id = UnicodeAttribute(attr_name="itemId")
    experiment_id = UnicodeAttribute(attr_name="experimentId")
    result_id = UnicodeAttribute(attr_name="resultId")

    @classmethod
    def new(cls, dataset_id: str, record: ExperimentResult, *, expires_at: int | None) -> DatasetItemLinkItem:
        key = keys.dataset_item_link_key(dataset_id, record.item_id, record.experiment_id, record.id)
        return cls.build(key, _for_model(cls._values(dataset_id, record, expires_at)))

    @classmethod
    def serialized(cls, dataset_id: str, record: ExperimentResult, *, expires_at: int | None) -> Item:
        """``new(...).serialize()``, serialized attribute by attribute."""
        key = keys.dataset_item_link_key(dataset_id, record.item_id, record.experiment_id, record.id)
        return cls.encode_item({"pk": key.pk, "sk": key.sk, **cls._values(dataset_id, record, expires_at)})

    @staticmethod
    def _values(dataset_id: str, record: ExperimentResult, expires_at: int | None) -> dict[str, Any]:
        return {"dataset_id": dataset_id, "item_id": record.item_id, "experiment_id": record.experiment_id,
                "result_id": record.id, "ttl": expires_at}


class DatasetItemPointerView(TableItem):
    """The attributes of the dataset item pointer ``DI#<itemId>`` that result writes read and check. No
    discriminator: the datasets domain owns that entity; this class only decodes it and names its
    attributes in conditions."""

    dataset_id = UnicodeAttribute(null=True, attr_name="datasetId")
    purged = BooleanAttribute(null=True)
    purged_at = UnicodeAttribute(null=True, attr_name="purgedAt")


def not_purged() -> Condition:
    """The dataset item pointer exists and its item is not purged."""
    return cast(Condition, DatasetItemPointerView.pk.exists() & DatasetItemPointerView.purged.does_not_exist())

