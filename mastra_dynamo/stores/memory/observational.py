"""Observational memory (spec 3.10) on the table: records, generations, buffered chunks, reflections.

Items: models/observational_memory.py. What each call sends:

* ``get_observational_memory``: one strongly consistent Query of the key's collection, newest first, stopped
  after the newest record and its chunks. ``get_observational_memory_history``: the same Query to the end.
* ``initialize_observational_memory`` / ``create_reflection_generation`` / ``insert_observational_memory_record``:
  the record's locator (conditional PutItem: ids are unique), then the record (and an inserted record's
  chunks).
* A record addressed by id reads its locator once per store (cached; a write that finds no record re-reads it).
  Flags, pending tokens and ``update_active_observations``: one conditional UpdateItem (counters with ADD).
* ``update_buffered_observations``: a conditional PutItem of the chunk under its cycle id (a retried cycle
  writes nothing), then one UpdateItem of the record; concurrent appends of different cycles all land.
* ``swap_buffered_to_active``: one Query of the record and its chunks, then one transaction that updates the
  record (conditioned on its revision) and deletes the activated chunks (each conditioned on existing): a
  concurrent swap or text update makes it retry on the new state, and a chunk is never activated twice.
* ``update_buffered_reflection`` / ``update_observational_memory_config``: read the record, then an UpdateItem
  conditioned on its revision (retried on a lost race).
"""

from __future__ import annotations

import json
import threading
import uuid
import zlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from mastra_dynamo.dynamo.client import TransactionCancelled
from mastra_dynamo.dynamo.codec import Item, attribute_size, check_item_size, dumps_json
from mastra_dynamo.errors import ConflictError, NotFoundError, ValidationError
from mastra_dynamo.models import requests
from mastra_dynamo.models.observational_memory import (
    ObservationalMemoryItem,
    ObservationalMemoryRefItem,
    ObservationChunkItem,
    ObservationTextPartItem,
)
from mastra_dynamo.records.base import coerce, coerce_input
from mastra_dynamo.records.observational_memory import (
    BufferedChunk,
    BufferedReflectionInput,
    ChunkActivation,
    ConfigInput,
    HistoryOptions,
    InitializeInput,
    ObservationalMemoryRecord,
    ReflectionInput,
    SwapInput,
    SwapReflectionInput,
    SwapResult,
    UpdateActiveInput,
    UpdateBufferedInput,
    lookup_key,
)
from mastra_dynamo.records.run_fencing import RunFence
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.keys import Key
from mastra_dynamo.stores import listing
from mastra_dynamo.stores.base import MAX_CONFLICT_RETRIES, contention_pause
from mastra_dynamo.stores.run_fencing import MemoryFenceOps
from mastra_dynamo.validate import optional_id, require_id

Group = tuple[Item, list[BufferedChunk], str | None]
"""A stored record, its chunks, and its observation text when stored in parts (else None)."""
OMItem = ObservationalMemoryItem
_READ_PAGE = 25
_MAX_TRANSACTION_DELETES = 99
TEXT_INLINE_MAX = 256 * 1024
"""An observation text whose stored attribute would be larger goes to text parts."""
TEXT_PART_BYTES = 350 * 1024


def _key(raw: Item) -> Key:
    """The table key of a stored item."""
    values = OMItem.decode_attributes(raw, ("pk", "sk"))
    return Key(values["pk"], values["sk"])


_stamp_lock = threading.Lock()
_last_stamp: list[datetime] = []


def _append_stamp(now: datetime) -> datetime:
    """The creation time of an appended chunk: now, but after every earlier append of this process (chunks are
    read back in creation-time order, so appends in a row keep their order even when the clock stands still)."""
    with _stamp_lock:
        stamp = now if not _last_stamp or now > _last_stamp[0] else _last_stamp[0] + timedelta(microseconds=1)
        _last_stamp[:] = [stamp]
    return stamp


def _text_parts(raw: Item) -> tuple[str, int] | None:
    """(generation, count) of a record's text parts, or None when the text is in the record."""
    tx = OMItem.decode_attributes(raw, ("text_parts",))["text_parts"]
    if not tx:
        return None
    generation, count = tx.split(":")
    return generation, int(count)


def _assemble(raw: Item, parts: Mapping[str, bytes]) -> str | None:
    """The observation text of a record stored in parts (None when it is in the record)."""
    spilled = _text_parts(raw)
    if spilled is None:
        return None
    prefix = _key(raw).sk[:-1]
    try:
        blob = b"".join(parts[keys.om_text_part_sk(prefix, spilled[0], n)] for n in range(spilled[1]))
    except KeyError:
        raise ConflictError("observational memory text changed while it was read; retry the call",
                            code="CONFLICT") from None
    text = json.loads(zlib.decompress(blob).decode("utf-8"))
    assert isinstance(text, str)
    return text


def _not_found(record_id: str) -> NotFoundError:
    return NotFoundError(f"Observational memory record not found: {record_id}", code="OM_RECORD_NOT_FOUND",
                         details={"id": record_id})


def deep_merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """``update`` merged into ``base``: where both values are objects they merge recursively, any other value
    (lists, scalars, None) replaces."""
    merged = dict(base)
    for key, value in update.items():
        current = merged.get(key)
        merged[key] = deep_merge(current, value) if isinstance(current, dict) and isinstance(value, dict) else value
    return merged


def boundary_text(cursor: datetime) -> str:
    millis = cursor.microsecond // 1000
    return f"\n\n--- message boundary ({cursor.strftime('%Y-%m-%dT%H:%M:%S')}.{millis:03d}Z) ---\n\n"


def activation_count(tokens: Sequence[int], *, ratio: float, threshold: float, pending: float,
                     force: bool) -> int:
    """How many leading chunks a swap activates (spec 3.10.5, steps 3-5)."""
    floor = threshold * (1 - ratio)
    target = max(0.0, pending - floor)
    over: tuple[int, float] | None = None
    under: tuple[int, float] | None = None
    cumulative = 0.0
    for count, value in enumerate(tokens, start=1):
        cumulative += value
        if cumulative >= target:
            if over is None or cumulative < over[1]:
                over = (count, cumulative)
        elif under is None or cumulative > under[1]:
            under = (count, cumulative)
    max_overshoot = 0.95 * floor
    min_remaining = min(1000.0, floor)
    if force and over is not None and pending - over[1] >= min_remaining:
        return over[0]
    if over is not None and over[1] - target <= max_overshoot and pending - over[1] >= min_remaining:
        return over[0]
    if under is not None and pending - under[1] >= min_remaining:
        return under[0]
    if over is not None:
        return over[0]
    return 1


class ObservationalMemoryOps(MemoryFenceOps):
    """The observational-memory methods of the memory domain (Mastra's positional arguments stay positional)."""

    supports_observational_memory = True

    # ------------------------------------------------------------------ locating records
    @property
    def _om_refs(self) -> dict[str, tuple[str, str]]:
        refs: dict[str, tuple[str, str]] | None = self.__dict__.get("_om_ref_cache")
        if refs is None:
            refs = self.__dict__["_om_ref_cache"] = {}
        return refs

    def _locate(self, record_id: str, *, fresh: bool = False) -> tuple[str, str]:
        """(collection pk, sort-key prefix) of record ``record_id``; NotFoundError when there is none."""
        require_id(record_id, field="id")
        if not fresh and record_id in self._om_refs:
            return self._om_refs[record_id]
        raw = self.table.call("GetItem", **requests.get_item(self.table.table_name, keys.om_ref_key(record_id),
                                                             consistent=True)).get("Item")
        if raw is None:
            self._om_refs.pop(record_id, None)
            raise _not_found(record_id)
        values = ObservationalMemoryRefItem.decode_attributes(raw, ("collection", "prefix"))
        located = (values["collection"], values["prefix"])
        self._om_refs[record_id] = located
        return located

    def _update(self, record_id: str, actions: Callable[[], list[Action]], condition: Condition | None = None,
                *, return_old: bool = False) -> Item:
        """One UpdateItem of an existing record (its locator re-read once when the cached one is stale); with
        ``return_old`` the previous values of the attributes it changed."""
        for fresh in (False, True):
            pk, prefix = self._locate(record_id, fresh=fresh)
            cond = OMItem.pk.exists() if condition is None else OMItem.pk.exists() & condition
            request = requests.update_key(self.table.table_name, Key(pk, keys.om_record_sk(prefix)), actions(),
                                          condition=cond, return_values="UPDATED_OLD" if return_old else None)
            try:
                old: Item = self.table.call("UpdateItem", **request).get("Attributes", {})
                return old
            except ConflictError:
                if fresh or condition is not None:
                    break
        raise _not_found(record_id)

    def _read(self, record_id: str) -> Group:
        """The stored record, its chunks and its parted text (one strongly consistent Query)."""
        for fresh in (False, True):
            pk, prefix = self._locate(record_id, fresh=fresh)
            groups = self._groups(pk, prefix, newest_only=True)
            if groups:
                return groups[0]
        raise _not_found(record_id)

    def _groups(self, pk: str, prefix: str = "G#", *, newest_only: bool = False) -> list[Group]:
        """Records of a collection, newest first, each with its chunks in append order and, when stored in
        parts, its observation text."""
        query = listing.PartitionQuery(None, "pk", "sk", pk, sk_prefix=prefix, consistent=True)
        groups: list[tuple[Item, list[tuple[str, str, BufferedChunk]], str | None]] = []
        parts: dict[str, bytes] = {}  # text slices read before their record (descending order)
        for item in listing.iterate(self.table, [query], ascending=False, filter_builder=lambda _: None,
                                    page_limit=_READ_PAGE if newest_only else None):
            values = ObservationTextPartItem.decode_attributes(item, ("item_type", "sk"))
            stamp = values["item_type"]
            if stamp is OMItem:
                if newest_only and groups:
                    break
                groups.append((item, [], _assemble(item, parts)))
                parts = {}
            elif stamp is ObservationTextPartItem:
                parts[values["sk"]] = ObservationTextPartItem.decode_attributes(item, ("data",))["data"]
            elif stamp is ObservationChunkItem and groups:
                chunk = ObservationChunkItem.chunk_from_raw(item)
                groups[-1][1].append((keys.ts(chunk.created_at), chunk.cycle_id, chunk))
        return [(raw, [c for _, _, c in sorted(chunks, key=lambda t: (t[0], t[1]))], text)
                for raw, chunks, text in groups]

    # ------------------------------------------------------------------ large observation texts
    def _spill(self, pk: str, prefix: str, record_id: str, text: str) -> tuple[str | None, list[Key]]:
        """Write ``text`` as parts when it does not fit in the record: the record's ``_tx`` value and the keys
        of the parts written (None and [] when it fits)."""
        if attribute_size(OMItem.active_observations.encode(text)) <= TEXT_INLINE_MAX:
            return None, []
        blob = zlib.compress(dumps_json(text, field="activeObservations").encode("utf-8"), 6)
        generation = uuid.uuid4().hex[:12]
        parts = [ObservationTextPartItem.build(Key(pk, keys.om_text_part_sk(prefix, generation, n)),
                                               {"record_id": record_id, "data": blob[start:start + TEXT_PART_BYTES]})
                 for n, start in enumerate(range(0, len(blob), TEXT_PART_BYTES))]
        self.table.batch_write(puts=[p.serialize() for p in parts])
        return f"{generation}:{len(parts)}", [Key(pk, p.sk) for p in parts]

    @staticmethod
    def _text_actions(spilled: str | None, text: str) -> list[Action]:
        if spilled is None:
            return [OMItem.active_observations.set(text), OMItem.text_parts.remove()]
        return [OMItem.active_observations.remove(), OMItem.text_parts.set(spilled)]

    def _drop_parts(self, record_key: Key, old: Item) -> None:
        """Delete the text parts a record used before a write replaced them (``old``: its previous values)."""
        spilled = _text_parts(old) if OMItem.text_parts.attr_name in old else None
        if spilled is not None:
            prefix = record_key.sk[:-1]
            self.table.batch_write(deletes=[Key(record_key.pk, keys.om_text_part_sk(prefix, spilled[0], n))
                                            for n in range(spilled[1])])

    # ------------------------------------------------------------------ reads
    def get_observational_memory(self, thread_id: str | None, resource_id: str) -> ObservationalMemoryRecord | None:
        """The newest generation of the key (``thread:<threadId>`` when a thread is given)."""
        pk = self._collection(thread_id, resource_id)
        groups = self._groups(pk, newest_only=True)
        return None if not groups else OMItem.record_from_raw(*groups[0])

    def get_observational_memory_record(self, id: str) -> ObservationalMemoryRecord:
        """One record by id (any generation) with its chunks; NotFoundError when there is none."""
        return OMItem.record_from_raw(*self._read(id))

    def get_observational_memory_history(self, thread_id: str | None, resource_id: str, limit: int | None = None,
                                         options: HistoryOptions | Mapping[str, Any] | None = None
                                         ) -> list[ObservationalMemoryRecord]:
        """Every generation of the key, newest first; ``options`` ``from``/``to`` bound ``createdAt``
        (inclusive), then ``offset`` skips and ``limit`` truncates (no limit: all)."""
        opts = coerce(HistoryOptions, options or {}, what="history options")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise ValidationError("limit must be a non-negative integer", code="INVALID_INPUT")
        records = [OMItem.record_from_raw(raw, chunks, text)
                   for raw, chunks, text in self._groups(self._collection(thread_id, resource_id))]
        records = [r for r in records if (opts.from_ is None or r.created_at >= opts.from_)
                   and (opts.to is None or r.created_at <= opts.to)]
        records = records[opts.offset or 0:]
        return records if limit is None else records[:limit]

    def _collection(self, thread_id: str | None, resource_id: str) -> str:
        optional_id(thread_id or None, field="thread_id")
        require_id(resource_id, field="resource_id")
        return keys.om_pk(lookup_key(thread_id, resource_id))

    # ------------------------------------------------------------------ creating records
    def _put_record(self, record: ObservationalMemoryRecord) -> ObservationalMemoryRecord:
        require_id(record.id, field="id")
        require_id(record.resource_id, field="resource_id")
        pk = keys.om_pk(lookup_key(record.thread_id, record.resource_id))
        prefix = keys.om_record_prefix(record.generation_count, record.created_at, record.id)
        item = OMItem.new(record, pk, keys.om_record_sk(prefix))
        table = self.table.table_name
        ref_key = keys.om_ref_key(record.id)
        ref = ObservationalMemoryRefItem.build(ref_key, {"collection": pk, "prefix": prefix})
        try:
            self.table.call("PutItem", **requests.put_item(table, ref, condition=ObservationalMemoryRefItem.pk
                                                           .does_not_exist()))
        except ConflictError:
            raise ConflictError(f"an observational memory record with id {record.id!r} already exists",
                                code="OM_RECORD_EXISTS", details={"id": record.id}) from None
        spilled, _ = self._spill(pk, prefix, record.id, record.active_observations)
        if spilled is not None:
            item.active_observations = None
            item.text_parts = spilled
        serialized = item.serialize()
        check_item_size(serialized, entity="observational_memory", entity_id=record.id)
        self.table.call("PutItem", **requests.put_item(table, item, serialized=serialized))
        chunks = [ObservationChunkItem.build(Key(pk, keys.om_chunk_sk(prefix, c.cycle_id)), {
                      "record_id": record.id, "created_at": c.created_at,
                      "data": c.model_dump(mode="json", by_alias=True, exclude_none=True)})
                  for c in record.buffered_observation_chunks or ()]
        if chunks:
            self.table.batch_write(puts=[c.serialize() for c in chunks])
        self._om_refs[record.id] = (pk, prefix)
        return record

    def initialize_observational_memory(self, /, input: InitializeInput | Mapping[str, Any] | None = None,
                                        **fields: Any) -> ObservationalMemoryRecord:
        """Generation 0 of a key: empty observations, counters 0, flags false (``input``: ``{threadId,
        resourceId, scope, config, observedTimezone?}``, or the same as keywords)."""
        data = coerce_input(InitializeInput, input, fields, what="initialize_observational_memory")
        now = self.now()
        return self._put_record(ObservationalMemoryRecord(
            id=str(uuid.uuid4()), scope=data.scope, thread_id=data.thread_id, resource_id=data.resource_id,
            created_at=now, updated_at=now, config=data.config, observed_timezone=data.observed_timezone,
            metadata={}))

    def insert_observational_memory_record(self, record: ObservationalMemoryRecord | Mapping[str, Any]) -> None:
        """Store a complete record as given (e.g. copied from another thread), with its buffered chunks."""
        self._put_record(coerce(ObservationalMemoryRecord, record, what="observational memory record"))

    def create_reflection_generation(self, /, input: ReflectionInput | Mapping[str, Any] | None = None,
                                     *, fence: RunFence | Mapping[str, Any] | None = None,
                                     **fields: Any) -> ObservationalMemoryRecord:
        """A new generation from ``currentRecord``: ``reflection`` becomes its observations; the previous
        generation is kept unchanged as history."""
        with self.fencing(fence, "createReflectionGeneration"):
            data = coerce_input(ReflectionInput, input, fields, what="create_reflection_generation")
            return self._reflect(data.current_record, data.reflection, data.token_count)

    def _reflect(self, current: ObservationalMemoryRecord, text: str, tokens: int) -> ObservationalMemoryRecord:
        now = self.now()
        return self._put_record(ObservationalMemoryRecord(
            id=str(uuid.uuid4()), scope=current.scope, thread_id=current.thread_id,
            resource_id=current.resource_id, created_at=now, updated_at=now,
            last_observed_at=current.last_observed_at or now, origin_type="reflection",
            generation_count=current.generation_count + 1, active_observations=text,
            observation_token_count=tokens, total_tokens_observed=current.total_tokens_observed,
            config=current.config, observed_timezone=current.observed_timezone, metadata={}))

    # ------------------------------------------------------------------ single-update writes
    def update_active_observations(self, /, input: UpdateActiveInput | Mapping[str, Any] | None = None,
                                   *, fence: RunFence | Mapping[str, Any] | None = None,
                                   **fields: Any) -> None:
        """Replace the observations; ``totalTokensObserved`` grows by ``tokenCount``, pending tokens reset."""
        with self.fencing(fence, "updateActiveObservations"):
            data = coerce_input(UpdateActiveInput, input, fields, what="update_active_observations")
            pk, prefix = self._locate(data.id)
            spilled, written = self._spill(pk, prefix, data.id, data.observations)

            def actions() -> list[Action]:
                out: list[Action] = [*self._text_actions(spilled, data.observations),
                       OMItem.observation_token_count.set(data.token_count),
                       OMItem.total_tokens_observed.add(data.token_count), OMItem.pending_message_tokens.set(0),
                       OMItem.last_observed_at.set(data.last_observed_at), OMItem.updated_at.set(self.now()),
                       OMItem.revision.add(1)]
                if data.observed_message_ids is not None:
                    out.append(OMItem.observed_message_ids.set(data.observed_message_ids))
                return out

            try:
                old = self._update(data.id, actions, return_old=True)
            except NotFoundError:
                self.table.batch_write(deletes=written)
                raise
            self._drop_parts(Key(pk, keys.om_record_sk(prefix)), old)

    def _set(self, record_id: str, **values: Any) -> None:
        attributes = OMItem.get_attributes()
        self._update(record_id, lambda: [*(attributes[name].set(value) for name, value in values.items()),
                                         OMItem.updated_at.set(self.now())])

    def set_reflecting_flag(self, id: str, is_reflecting: bool) -> None:
        self._set(id, is_reflecting=bool(is_reflecting))

    def set_observing_flag(self, id: str, is_observing: bool) -> None:
        self._set(id, is_observing=bool(is_observing))

    def set_buffering_reflection_flag(self, id: str, is_buffering: bool) -> None:
        self._set(id, is_buffering_reflection=bool(is_buffering))

    def set_buffering_observation_flag(self, id: str, is_buffering: bool,
                                       last_buffered_at_tokens: float | None = None) -> None:
        values: dict[str, Any] = {"is_buffering_observation": bool(is_buffering)}
        if last_buffered_at_tokens is not None:
            values["last_buffered_at_tokens"] = round(last_buffered_at_tokens)
        self._set(id, **values)

    def set_pending_message_tokens(self, id: str, token_count: float) -> None:
        """Overwrite the pending message tokens (not additive)."""
        self._set(id, pending_message_tokens=round(token_count))

    # ------------------------------------------------------------------ buffered observations
    def update_buffered_observations(self, /, input: UpdateBufferedInput | Mapping[str, Any] | None = None,
                                     *, fence: RunFence | Mapping[str, Any] | None = None,
                                     **fields: Any) -> None:
        """Append a chunk (a chunk of the same ``cycleId`` already there: nothing changes)."""
        with self.fencing(fence, "updateBufferedObservations"):
            data = coerce_input(UpdateBufferedInput, input, fields, what="update_buffered_observations")
            pk, prefix = self._locate(data.id)
            now = _append_stamp(self.now())
            chunk = BufferedChunk.model_validate({**data.chunk.model_dump(), "id": f"ombuf-{uuid.uuid4()}",
                                                  "created_at": now})
            item = ObservationChunkItem.build(Key(pk, keys.om_chunk_sk(prefix, chunk.cycle_id)), {
                "record_id": data.id, "created_at": now,
                "data": chunk.model_dump(mode="json", by_alias=True, exclude_none=True)})
            serialized = item.serialize()
            check_item_size(serialized, entity="observation_chunk", entity_id=chunk.cycle_id)
            try:
                self.table.call("PutItem", **requests.put_item(self.table.table_name, item, serialized=serialized,
                                                                condition=ObservationChunkItem.pk.does_not_exist()))
            except ConflictError:
                return  # this cycle was appended already
            values: dict[str, Any] = {}
            if data.last_buffered_at_time is not None:
                values["last_buffered_at_time"] = data.last_buffered_at_time
            try:
                self._set(data.id, **values)
            except NotFoundError:
                self.table.call("DeleteItem", **requests.delete_item(self.table.table_name,
                                                                     Key(pk, item.sk)))
                raise

    def swap_buffered_to_active(self, /, input: SwapInput | Mapping[str, Any] | None = None,
                                **fields: Any) -> SwapResult:
        """Activate the leading buffered chunks (spec 3.10.5): their text joins the observations, they leave
        the buffer. No chunks: the zero result, nothing written."""
        data = coerce_input(SwapInput, input, fields, what="swap_buffered_to_active")
        weights = {w.id: w.message_tokens for w in data.buffered_chunks or () if w.id and w.message_tokens is not None}
        for attempt in range(MAX_CONFLICT_RETRIES):
            raw, chunks, text = self._read(data.id)
            if not chunks:
                return SwapResult()
            tokens = [weights.get(c.id, c.message_tokens) or 0 for c in chunks]
            count = activation_count(tokens, ratio=data.activation_ratio, threshold=data.message_tokens_threshold,
                                     pending=data.current_pending_tokens, force=data.force_max_activation)
            try:
                return self._activate(raw, text, chunks, tokens, count, data)
            except TransactionCancelled as exc:
                if not exc.condition_failed:
                    raise
                contention_pause(attempt)
        raise ConflictError("swap_buffered_to_active: too much contention; retry the call",
                            code="CONFLICT", details={"id": data.id})

    def _activate(self, raw: Item, parted_text: str | None, chunks: list[BufferedChunk], tokens: list[int],
                  count: int, data: SwapInput) -> SwapResult:
        record = OMItem.record_from_raw(raw, None, parted_text)
        activated, activated_tokens = chunks[:count], tokens[:count]
        text = "\n\n".join(c.observations for c in activated)
        cursor = data.last_observed_at or activated[-1].last_observed_at or self.now()
        current = record.active_observations
        new_text = text if not current else current + boundary_text(cursor) + text
        observation_tokens = sum(c.token_count for c in activated)
        message_tokens = sum(activated_tokens)
        pending = max(0, round(data.current_pending_tokens - message_tokens))
        revision = OMItem.decode_attributes(raw, ("revision",))["revision"]
        key = _key(raw)
        prefix = key.sk[:-1]  # the record's sort key is its prefix + "R"
        table = self.table.table_name
        spilled, written = self._spill(key.pk, prefix, record.id, new_text)
        update = requests.update_key(table, key, [
            *self._text_actions(spilled, new_text), OMItem.observation_token_count.add(observation_tokens),
            OMItem.pending_message_tokens.set(pending), OMItem.last_observed_at.set(cursor),
            OMItem.updated_at.set(self.now()), OMItem.revision.add(1)],
            condition=OMItem.pk.exists() & (OMItem.revision == revision))
        chunk_keys = [Key(key.pk, keys.om_chunk_sk(prefix, c.cycle_id)) for c in activated]
        deletes = [requests.transact("Delete", requests.delete_item(table, k, condition=ObservationChunkItem.pk
                                                                    .exists()))
                   for k in chunk_keys[:_MAX_TRANSACTION_DELETES]]
        try:
            self.table.transact_write([requests.transact("Update", update), *deletes])
        except TransactionCancelled:
            self.table.batch_write(deletes=written)
            raise
        self._drop_parts(key, raw)
        if len(chunk_keys) > _MAX_TRANSACTION_DELETES:  # beyond one transaction: the record already moved on
            self.table.batch_write(deletes=chunk_keys[_MAX_TRANSACTION_DELETES:])
        last = activated[-1]
        return SwapResult(
            chunks_activated=count, message_tokens_activated=message_tokens,
            observation_tokens_activated=observation_tokens,
            messages_activated=sum(len(c.message_ids) for c in activated),
            activated_cycle_ids=[c.cycle_id for c in activated],
            activated_message_ids=[m for c in activated for m in c.message_ids], observations=text,
            per_chunk=[ChunkActivation(cycle_id=c.cycle_id, message_tokens=t, observation_tokens=c.token_count,
                                       message_count=len(c.message_ids), observations=c.observations)
                       for c, t in zip(activated, activated_tokens, strict=True)],
            suggested_continuation=last.suggested_continuation, current_task=last.current_task)

    # ------------------------------------------------------------------ read-modify-write
    def _rewrite(self, record_id: str, change: Callable[[ObservationalMemoryRecord], list[Action]]) -> None:
        """Read the record, then one UpdateItem conditioned on its revision (again after a lost race)."""
        for attempt in range(MAX_CONFLICT_RETRIES):
            raw, _, text = self._read(record_id)
            revision = OMItem.decode_attributes(raw, ("revision",))["revision"]
            guard = OMItem.revision.does_not_exist() if revision is None else OMItem.revision == revision
            request = requests.update_key(
                self.table.table_name, _key(raw),
                [*change(OMItem.record_from_raw(raw, None, text)), OMItem.updated_at.set(self.now()),
                 OMItem.revision.add(1)],
                condition=OMItem.pk.exists() & guard)
            try:
                self.table.call("UpdateItem", **request)
                return
            except ConflictError:
                contention_pause(attempt)
        raise ConflictError(f"observational memory record {record_id!r} kept changing; retry the call",
                            code="CONFLICT", details={"id": record_id})

    def update_buffered_reflection(self, /, input: BufferedReflectionInput | Mapping[str, Any] | None = None,
                                   **fields: Any) -> None:
        """Add to the buffered reflection (joined by a blank line) and its token counts."""
        data = coerce_input(BufferedReflectionInput, input, fields, what="update_buffered_reflection")

        def change(record: ObservationalMemoryRecord) -> list[Action]:
            text = data.reflection if not record.buffered_reflection else (
                record.buffered_reflection + "\n\n" + data.reflection)
            return [OMItem.buffered_reflection.set(text),
                    OMItem.buffered_reflection_tokens.set((record.buffered_reflection_tokens or 0) + data.token_count),
                    OMItem.buffered_reflection_input_tokens.set(
                        (record.buffered_reflection_input_tokens or 0) + data.input_token_count),
                    OMItem.reflected_observation_line_count.set(data.reflected_observation_line_count)]

        self._rewrite(data.id, change)

    def swap_buffered_reflection_to_active(self, /, input: SwapReflectionInput | Mapping[str, Any] | None = None,
                                           **fields: Any) -> ObservationalMemoryRecord:
        """A new generation made of the buffered reflection and the observations it did not cover; the buffered
        reflection is cleared on the previous generation."""
        data = coerce_input(SwapReflectionInput, input, fields, what="swap_buffered_reflection_to_active")
        raw, _, parted_text = self._read(data.current_record.id)
        stored = OMItem.record_from_raw(raw, None, parted_text)
        if not stored.buffered_reflection:
            raise ValidationError("No buffered reflection to swap", code="OM_NO_BUFFERED_REFLECTION",
                                  details={"id": stored.id})
        lines = stored.active_observations.split("\n")
        unreflected = "\n".join(lines[stored.reflected_observation_line_count or 0:]).strip()
        text = stored.buffered_reflection + ("\n\n" + unreflected if unreflected else "")
        created = self._reflect(stored, text, data.token_count)
        self._update(stored.id, lambda: [
            OMItem.buffered_reflection.remove(), OMItem.buffered_reflection_tokens.remove(),
            OMItem.buffered_reflection_input_tokens.remove(), OMItem.reflected_observation_line_count.remove(),
            OMItem.updated_at.set(self.now()), OMItem.revision.add(1)])
        return created

    def update_observational_memory_config(self, /, input: ConfigInput | Mapping[str, Any] | None = None,
                                           **fields: Any) -> None:
        """Deep-merge ``config`` into the record's config."""
        data = coerce_input(ConfigInput, input, fields, what="update_observational_memory_config")
        self._rewrite(data.id, lambda record: [OMItem.config.set(deep_merge(record.config, data.config))])

    # ------------------------------------------------------------------ clearing
    def clear_observational_memory(self, thread_id: str | None, resource_id: str) -> None:
        """Delete every generation of the key, their chunks and locators (an unknown key is a no-op)."""
        pk = self._collection(thread_id, resource_id)
        query = listing.PartitionQuery(None, "pk", "sk", pk, consistent=True)
        deletes: list[Key] = []
        for item in listing.iterate(self.table, [query], ascending=True, filter_builder=lambda _: None):
            deletes.append(_key(item))
            values = OMItem.decode_attributes(item, ("item_type", "record_id"))
            if values["item_type"] is OMItem and values["record_id"] is not None:
                deletes.append(keys.om_ref_key(values["record_id"]))
                self._om_refs.pop(values["record_id"], None)
        if deletes:
            self.table.batch_write(deletes=deletes)


__all__ = ["ObservationalMemoryOps", "activation_count", "deep_merge"]
