"""Observational memory items (docs/access-patterns.md, observational memory).

Every generation of one key (``thread:<threadId>`` or ``resource:<resourceId>``) lives in one item collection
``OM#<key>``, ordered by generation, creation time and id:

* ``ObservationalMemoryItem`` (``<prefix>R``): one record, every scalar field its own attribute (counters,
  flags and the cursor change with single UpdateItems), the texts as JSON strings (compressed when large).
* ``ObservationChunkItem`` (``<prefix>B#<cycleId>``): one buffered chunk of the record, keyed by its cycle id,
  so concurrent appends never overwrite one another and a retried cycle is a no-op.
* ``ObservationTextPartItem`` (``<prefix>T#<generation>#<n>``): a slice of an observation text too large for
  the record item (more than 256 KB once compressed); texts of any length are stored this way.
* ``ObservationalMemoryRefItem`` (``OMR#<id>`` / ``OMR``): where a record lives, for the operations that
  address a record by id alone.

``<prefix>`` is ``keys.om_record_prefix`` (``G#<generation>#<createdAt>#<id>#``): a Query of the collection in
descending order reads the newest record's text parts, the record, then its chunks.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pynamodb.attributes import BinaryAttribute, BooleanAttribute, NumberAttribute, UnicodeAttribute

from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.models.attributes import JsonAttribute, TimestampAttribute
from mastra_dynamo.models.base import TableItem
from mastra_dynamo.records.observational_memory import BufferedChunk, ObservationalMemoryRecord
from mastra_dynamo.schema.keys import Key

ENTITY_RECORD = "observational_memory"
ENTITY_CHUNK = "observation_chunk"
ENTITY_REF = "observational_memory_ref"
ENTITY_TEXT_PART = "observation_text_part"


class ObservationalMemoryItem(TableItem, discriminator=ENTITY_RECORD):
    record_id = UnicodeAttribute(attr_name="id")
    scope = UnicodeAttribute()
    thread_id = UnicodeAttribute(null=True, attr_name="threadId")
    resource_id = UnicodeAttribute(attr_name="resourceId")
    created_at = TimestampAttribute(attr_name="createdAt")
    updated_at = TimestampAttribute(attr_name="updatedAt")
    last_observed_at = TimestampAttribute(null=True, attr_name="lastObservedAt")
    origin_type = UnicodeAttribute(attr_name="originType")
    generation_count = NumberAttribute(attr_name="generationCount")
    active_observations = JsonAttribute(field="activeObservations", null=True, attr_name="activeObservations")
    """The observations, when they fit in the item; otherwise absent and ``text_parts`` names their parts."""
    text_parts = UnicodeAttribute(null=True, attr_name="_tx")
    """``<generation>:<count>`` of the ``ObservationTextPartItem``s holding a large observation text."""
    buffered_reflection = JsonAttribute(field="bufferedReflection", null=True, attr_name="bufferedReflection")
    buffered_reflection_tokens = NumberAttribute(null=True, attr_name="bufferedReflectionTokens")
    buffered_reflection_input_tokens = NumberAttribute(null=True, attr_name="bufferedReflectionInputTokens")
    reflected_observation_line_count = NumberAttribute(null=True, attr_name="reflectedObservationLineCount")
    observed_message_ids = JsonAttribute(field="observedMessageIds", null=True, attr_name="observedMessageIds")
    observed_timezone = UnicodeAttribute(null=True, attr_name="observedTimezone")
    buffered_observations = JsonAttribute(field="bufferedObservations", null=True,
                                          attr_name="bufferedObservations")
    buffered_observation_tokens = NumberAttribute(null=True, attr_name="bufferedObservationTokens")
    buffered_message_ids = JsonAttribute(field="bufferedMessageIds", null=True, attr_name="bufferedMessageIds")
    total_tokens_observed = NumberAttribute(attr_name="totalTokensObserved")
    observation_token_count = NumberAttribute(attr_name="observationTokenCount")
    pending_message_tokens = NumberAttribute(attr_name="pendingMessageTokens")
    is_reflecting = BooleanAttribute(attr_name="isReflecting")
    is_observing = BooleanAttribute(attr_name="isObserving")
    is_buffering_observation = BooleanAttribute(attr_name="isBufferingObservation")
    is_buffering_reflection = BooleanAttribute(attr_name="isBufferingReflection")
    last_buffered_at_tokens = NumberAttribute(attr_name="lastBufferedAtTokens")
    last_buffered_at_time = TimestampAttribute(null=True, attr_name="lastBufferedAtTime")
    config = JsonAttribute(field="config", attr_name="config")
    metadata = JsonAttribute(field="metadata", null=True, attr_name="metadata")
    revision = NumberAttribute(null=True, attr_name="_rev")
    """Bumped by the writes that read the record first (buffered reflection, config merge, swaps)."""

    FIELDS: ClassVar[tuple[str, ...]] = (
        "record_id", "scope", "thread_id", "resource_id", "created_at", "updated_at", "last_observed_at",
        "origin_type", "generation_count", "active_observations", "buffered_reflection",
        "buffered_reflection_tokens", "buffered_reflection_input_tokens", "reflected_observation_line_count",
        "observed_message_ids", "observed_timezone", "buffered_observations", "buffered_observation_tokens",
        "buffered_message_ids", "total_tokens_observed", "observation_token_count", "pending_message_tokens",
        "is_reflecting", "is_observing", "is_buffering_observation", "is_buffering_reflection",
        "last_buffered_at_tokens", "last_buffered_at_time", "config", "metadata")
    """Attributes holding the record's fields (the record field of each is its name, ``id`` for
    ``record_id``); ``bufferedObservationChunks`` are the chunk items."""

    @classmethod
    def new(cls, record: ObservationalMemoryRecord, pk: str, sk: str) -> ObservationalMemoryItem:
        values: dict[str, Any] = {}
        for name in cls.FIELDS:
            value = getattr(record, "id" if name == "record_id" else name)
            if value is not None:
                values[name] = value
        values["revision"] = 1
        return cls.build(Key(pk, sk), values)

    @classmethod
    def record_from_raw(cls, raw: Item, chunks: list[BufferedChunk] | None = None,
                        text: str | None = None) -> ObservationalMemoryRecord:
        """The record of a stored item, with its chunks and (when stored in parts) its observation text."""
        values = cls.decode_attributes(raw, cls.FIELDS)
        if text is not None:
            values["active_observations"] = text
        data = {("id" if name == "record_id" else name): value for name, value in values.items()
                if value is not None}
        for name, value in data.items():
            if isinstance(value, float) and value.is_integer():
                data[name] = int(value)
        data["thread_id"] = values["thread_id"]
        if chunks:
            data["buffered_observation_chunks"] = chunks
        return ObservationalMemoryRecord.model_validate(data)


class ObservationChunkItem(TableItem, discriminator=ENTITY_CHUNK):
    record_id = UnicodeAttribute(attr_name="omId")
    created_at = TimestampAttribute(attr_name="createdAt")
    data = JsonAttribute(field="chunk")

    @classmethod
    def chunk_from_raw(cls, raw: Item) -> BufferedChunk:
        return BufferedChunk.model_validate(cls.decode_attributes(raw, ("data",))["data"])


class ObservationTextPartItem(TableItem, discriminator=ENTITY_TEXT_PART):
    """One slice of a large observation text (``<prefix>T#<generation>#<n>``): the zlib-compressed JSON text,
    cut into slices that fit in items. A new text gets a new generation; the record names the one it uses,
    so a reader never mixes slices of two texts."""

    record_id = UnicodeAttribute(attr_name="omId")
    data = BinaryAttribute(legacy_encoding=False)


class ObservationalMemoryRefItem(TableItem, discriminator=ENTITY_REF):
    collection = UnicodeAttribute(attr_name="omPk")
    prefix = UnicodeAttribute(attr_name="omPrefix")
