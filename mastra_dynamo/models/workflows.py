"""The stored form of a workflow run (docs/access-patterns.md 2.2): head, index entry, snapshot chunks.

A run lives in its own partition ``W#<runId>``; every item of it is one of three PynamoDB models:

* :class:`WorkflowRunItem` (``_et`` ``workflow_run``), the head ``N#<workflowName>``: ``workflowName``,
  ``runId``, ``resourceId`` (absent when the run has none), ``status``, ``createdAt``/``updatedAt`` (``ts()``
  text), the revision ``_rev`` (N), the write id ``_wid`` and the order stamp ``_gen`` of the write that
  produced it, and the snapshot: inline in ``snapshot`` (JSON text ``S``, or zlib-compressed JSON ``B``), or
  chunked, named by ``snapGen`` (the live chunk generation) and ``snapChunks`` (N, its chunk count). The head
  is in no index; heads of the older layout (before index entries) carry ``gsi1pk``..``gsi4sk`` themselves.
* :class:`WorkflowRunIndexItem` (``workflow_run_index``), the index entry ``I#<workflowName>``: the fields
  listings filter and sort on (``workflowName``, ``runId``, ``createdAt``, ``status``, ``resourceId``,
  ``ttl``) and the keys of gsi1 (runs of a workflow), gsi2 (of a resource, only with ``resourceId``), gsi3
  (all runs, sharded) and gsi4 (by status, sharded), see :func:`run_index_values`.
* :class:`WorkflowChunkItem` (``workflow_chunk``), ``C#<workflowName>#<generation>#<n:05d>``: one slice of
  the compressed snapshot in ``data`` (B).

Every item has ``_sv`` and, with ``workflow_snapshot`` retention, the same ``ttl`` (epoch seconds). The
fields head and entry share are declared once, in :class:`WorkflowRunFields`, which both inherit.

The snapshot encoding (:class:`PackedSnapshot`): JSON text below 512 bytes as is; from 512 bytes on, zlib level
6, kept when smaller (a 3 KB snapshot of a run ten steps in is stored in ~0.75 KB, so its head stays within
one write unit). A result of at most 300 KB is stored inline; a larger one is cut into chunks of 350 KB of compressed
data. Reads take either form (``S`` text, ``B`` compressed), so heads written with the text form still read.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Any

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute

from mastra_dynamo.dynamo.codec import AttributeValue, Item, compress, decode_json, dumps_json
from mastra_dynamo.models.attributes import SelfTypedAttribute, TimestampAttribute
from mastra_dynamo.models.base import TableItem
from mastra_dynamo.models.layout import typed
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.keys import Key

ENTITY_RUN = "workflow_run"
ENTITY_RUN_INDEX = "workflow_run_index"
ENTITY_CHUNK = "workflow_chunk"

COMPRESS_MIN_BYTES = 512
"""JSON text of at least this many bytes (UTF-8) is stored compressed when that makes it smaller. The head's
other attributes take ~0.3 KB, so a snapshot stored as text from ~0.7 KB on would already make the head cost two
write units; compressed, a snapshot of ~3 KB (a run ten steps in) still fits in a 1 KB head."""
INLINE_MAX_BYTES = 300 * 1024
"""The largest encoded snapshot kept inline in the head."""
CHUNK_BYTES = 350 * 1024
"""Compressed bytes per chunk of a larger snapshot."""


# ---------------------------------------------------------------------------- the snapshot encoding
@dataclass(frozen=True)
class PackedSnapshot:
    """A snapshot's JSON text, encoded once: what the head stores inline, or the chunks it is cut into."""

    text: str
    size: int
    """UTF-8 bytes of ``text``."""
    packed: bytes | None
    """zlib (level 6, ``codec.compress``) of ``text`` when it has at least :data:`COMPRESS_MIN_BYTES`."""

    @classmethod
    def of(cls, text: str, raw: bytes | None = None) -> PackedSnapshot:
        """``text`` encoded (``raw``: its UTF-8 bytes, when the caller has them)."""
        raw = text.encode("utf-8") if raw is None else raw
        return cls(text, len(raw), compress(raw) if len(raw) >= COMPRESS_MIN_BYTES else None)

    @property
    def inline(self) -> bool:
        """Whether the head stores it (else it is chunked)."""
        return self.packed is None or len(self.packed) <= INLINE_MAX_BYTES

    def stored_value(self) -> AttributeValue:
        """The inline attribute value: the compressed JSON (B) when it is smaller, else the text (S)."""
        if self.packed is not None and len(self.packed) < self.size:
            return typed(_BINARY, self.packed)
        return typed(_TEXT, self.text)

    def chunks(self) -> list[bytes]:
        """The compressed JSON in slices of :data:`CHUNK_BYTES` (a chunked snapshot)."""
        assert self.packed is not None
        return [self.packed[i:i + CHUNK_BYTES] for i in range(0, len(self.packed), CHUNK_BYTES)]


_TEXT = UnicodeAttribute()
_BINARY = BinaryAttribute(legacy_encoding=False)


class SnapshotAttribute(SelfTypedAttribute):
    """The inline snapshot of a head: JSON text (``S``) or zlib-compressed JSON (``B``).

    Written from a :class:`PackedSnapshot` (the store encodes a snapshot once, to choose inline or chunks; a
    JSON ``null`` snapshot is the text ``null``, which a None attribute value could not say) or from a JSON
    document small enough for the head; read back as the JSON document (``codec.decode_json``, which also
    reads native ``M``/``L`` documents)."""

    def encode(self, value: Any) -> AttributeValue:
        packed = value if isinstance(value, PackedSnapshot) else PackedSnapshot.of(dumps_json(value, field="snapshot"))
        if not packed.inline:
            raise ValueError(f"a snapshot of {packed.size} bytes is not stored in the head: it is chunked")
        return packed.stored_value()

    def deserialize(self, value: AttributeValue) -> Any:
        return decode_json(value)


# ---------------------------------------------------------------------------- the items
class WorkflowRunFields(TableItem):
    """What a run's head and its index entry both hold, declared once: the fields its listings filter and sort
    on (and ``ttl``). Not an item of its own (no discriminator): the head and the entry inherit it, so the
    store serializes these attributes once for both."""

    workflow_name = UnicodeAttribute(attr_name="workflowName")
    run_id = UnicodeAttribute(attr_name="runId")
    resource_id = UnicodeAttribute(null=True, attr_name="resourceId")
    """Absent when the run has none (older heads may hold NULL: read as None)."""
    status = UnicodeAttribute(attr_name="status")
    """``snapshot.status``, or ``unknown`` when the snapshot has none."""
    created_at = TimestampAttribute(attr_name="createdAt")


class WorkflowRunItem(WorkflowRunFields, discriminator=ENTITY_RUN):
    """The head of a run: its fields, and its snapshot inline or the manifest of its chunks."""

    updated_at = TimestampAttribute(attr_name="updatedAt")

    snapshot = SnapshotAttribute(null=True, attr_name="snapshot")
    snap_gen = UnicodeAttribute(null=True, attr_name="snapGen")
    snap_chunks = NumberAttribute(null=True, attr_name="snapChunks")

    revision = NumberAttribute(null=True, attr_name="_rev")
    write_id = UnicodeAttribute(null=True, attr_name="_wid")
    """A fresh id per write: a write whose answer was lost reads back whether it was applied."""
    gen_stamp = UnicodeAttribute(null=True, attr_name="_gen")
    """The order stamp of the write (its chunk generation when chunked); absent on older heads."""

    # heads of the older layout were indexed themselves (no index entry); current heads have none of these
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    gsi4pk = UnicodeAttribute(null=True)
    gsi4sk = UnicodeAttribute(null=True)


class WorkflowRunIndexItem(WorkflowRunFields, discriminator=ENTITY_RUN_INDEX):
    """The index entry of a run: what its listings filter and sort on, and the index keys."""

    # gsi1 runs of a workflow, gsi2 runs of a resource (only with resourceId), gsi3 all runs and gsi4 runs by
    # status (both sharded by run id)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute()
    gsi3sk = UnicodeAttribute()
    gsi4pk = UnicodeAttribute()
    gsi4sk = UnicodeAttribute()


class WorkflowChunkItem(TableItem, discriminator=ENTITY_CHUNK):
    """One slice of a chunked snapshot's compressed JSON."""

    data = BinaryAttribute(legacy_encoding=False, attr_name="data")

    @classmethod
    def data_of(cls, raw: Item) -> bytes:
        """The slice a stored chunk holds."""
        return bytes(cls.decode_attributes(raw, ("data",))["data"])

    @classmethod
    def snapshot_of(cls, chunks: list[Item]) -> Any:
        """The snapshot that the stored chunks of one generation (in order) make up."""
        return json.loads(zlib.decompress(b"".join(cls.data_of(c) for c in chunks)).decode("utf-8"))


def run_index_values(workflow_name: str, run_id: str, created: str, resource_id: str | None,
                     status: str) -> dict[str, str]:
    """The index keys of a run's entry, by attribute name (``created``: the ``ts()`` text of createdAt).
    The gsi2 keys only with a resource; the sort keys end in the run id (and the workflow name where the
    partition does not name it), so runs created at the same time keep one order."""
    cwf, crun = keys.component(workflow_name), keys.component(run_id)
    shard8 = keys.shard_of(run_id, keys.GLOBAL_SHARDS)
    values = {
        "gsi1pk": keys.runs_by_workflow_pk(workflow_name),
        "gsi1sk": f"{created}#{crun}",
        "gsi3pk": keys.runs_global_pk(shard8),
        "gsi3sk": f"{created}#{crun}#{cwf}",
        "gsi4pk": keys.runs_by_status_pk(status, shard8),
        "gsi4sk": f"{created}#{crun}#{cwf}",
    }
    if resource_id is not None:
        values["gsi2pk"] = keys.runs_by_resource_pk(resource_id)
        values["gsi2sk"] = f"{created}#{crun}#{cwf}"
    return values


def run_index_keys(workflow_name: str, run_id: str, created: str, resource_id: str | None, status: str) -> Item:
    """The index keys of a run's entry as the stored attribute values (see :func:`run_index_values`)."""
    return WorkflowRunIndexItem.encode_values(run_index_values(workflow_name, run_id, created, resource_id, status))


def entity_of(raw: Item) -> str | None:
    """The entity stamp (``_et``) of a stored item, as text (None when it has none)."""
    stamp = raw.get(TableItem.item_type.attr_name)
    return None if stamp is None else str(TableItem.item_type.get_value(stamp))


def key_of(raw: Item) -> Key:
    """The table key of a stored item."""
    return Key(TableItem.pk.get_value(raw[TableItem.pk.attr_name]), TableItem.sk.get_value(raw[TableItem.sk.attr_name]))
