"""Message operations of the memory domain.

Messages live in their thread's item collection (``pk = T#<thread>``, ``sk = M#<createdAt>#<id>``), so a
thread's history is one strongly consistent Query of the base table. A pointer item per message
(``MI#<id>``) resolves ids to locations with strongly consistent reads. Every multi-item change (message +
pointer + old location + parent thread ``updatedAt``) is one TransactWriteItems per chunk; pointer writes are
conditioned on what was read, so a concurrent move is detected and the call re-reads and retries.

The items are ``MessageItem``, ``MessageRefItem`` and ``ThreadItem`` (models/memory.py); the transaction
actions are built by PynamoDB (models/requests.py), once per shape, and bound to each call's values
(stores/memory/templates.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mastra_dynamo.dynamo.client import TransactionCancelled, active_fence, transaction_capacity, write_token
from mastra_dynamo.dynamo.codec import Item, item_size
from mastra_dynamo.errors import ConflictError, ValidationError
from mastra_dynamo.models.base import epoch_datetime
from mastra_dynamo.models.layout import typed
from mastra_dynamo.models.memory import (
    MemoryItem,
    MessageItem,
    MessagePartItem,
    MessageRefItem,
    ThreadItem,
    join_parts,
    part_generation,
    part_keys,
    split_large,
)
from mastra_dynamo.records.base import coerce, describe_errors
from mastra_dynamo.records.memory import Message, MessageUpdate
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.keys import Key
from mastra_dynamo.stores.base import MAX_CONFLICT_RETRIES, contention_pause
from mastra_dynamo.stores.memory import counts
from mastra_dynamo.stores.memory.actions import (
    Links,
    absent_thread_check,
    delete_action,
    link_put,
    put_action,
    touch_action,
    unchanged,
)
from mastra_dynamo.stores.memory.domain import MemoryDomain
from mastra_dynamo.stores.memory.queries import query_params
from mastra_dynamo.validate import is_list, require_id

MAX_TRANSACTION_BYTES = 3_500_000
_REVISION = MessageItem.revision.attr_name


@dataclass
class Location:
    thread_id: str
    sk: str
    item: Item

    @property
    def key(self) -> Key:
        return Key(keys.thread_pk(self.thread_id), self.sk)


@dataclass
class Change:
    """The actions of one message, kept together in one transaction."""

    actions: list[dict[str, Any]]
    threads: set[str]
    size: int
    moves: list[tuple[str, counts.ResourceRef, int]] = field(default_factory=list)
    """(thread, resource, +1/-1) per message added to or removed from a thread's history."""
    expiring: bool = False
    """The change writes a message with a TTL."""
    parts: list[Item] = field(default_factory=list)
    """Content parts of the message it writes (written before the transaction that names them)."""
    sweep: dict[str, str | None] = field(default_factory=dict)
    """Message id -> the part generation it keeps (None: none) for messages whose older parts go afterwards."""


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    thread_items: dict[str, Item] = field(default_factory=dict)
    guard_absent: bool = True
    """Threads the plan read as absent must still be absent when the transaction runs (ConditionCheck)."""


class MessageOps(MemoryDomain):
    # ------------------------------------------------------------------ reads
    def locate(self, message_ids: Iterable[str]) -> dict[str, Location]:
        """Current location of each message id (pointer read, strongly consistent). Missing ids absent."""
        ids = list(dict.fromkeys(message_ids))
        found = self.table.batch_get([keys.message_ref_key(i) for i in ids])
        out: dict[str, Location] = {}
        for message_id in ids:
            key = keys.message_ref_key(message_id)
            ref = self.alive(found.get((key.pk, key.sk)))
            where = None if ref is None else MessageRefItem.location(ref)
            if ref is not None and where is not None:
                out[message_id] = Location(where[0], where[1], ref)
        return out

    def locate_with_threads(self, message_ids: Iterable[str], thread_ids: set[str]
                            ) -> tuple[dict[str, Location], dict[str, Item]]:
        """Pointers of ``message_ids`` and the thread items of ``thread_ids`` plus every thread a message
        currently lives in, with one BatchGetItem (a second one only for threads first seen in a pointer)."""
        ids = list(dict.fromkeys(message_ids))
        found = self.table.batch_get([*(keys.message_ref_key(i) for i in ids),
                                      *(keys.thread_key(t) for t in thread_ids)])
        locations: dict[str, Location] = {}
        for message_id in ids:
            key = keys.message_ref_key(message_id)
            ref = self.alive(found.get((key.pk, key.sk)))
            where = None if ref is None else MessageRefItem.location(ref)
            if ref is not None and where is not None:
                locations[message_id] = Location(where[0], where[1], ref)
        threads = self._threads_found(found, thread_ids)
        missing = {loc.thread_id for loc in locations.values()} - set(thread_ids)
        if missing:
            threads.update(self.thread_items(missing))
        return locations, threads

    def fetch(self, locations: Mapping[str, Location]) -> dict[str, Item]:
        """Message items at the given locations (strongly consistent); expired or missing ones absent."""
        return self.fetch_with_threads(locations, ())[0]

    def fetch_with_threads(self, locations: Mapping[str, Location], thread_ids: Iterable[str]
                           ) -> tuple[dict[str, Item], dict[str, Item]]:
        """:meth:`fetch`, and the live thread items of ``thread_ids``, with the same BatchGetItem."""
        threads = list(dict.fromkeys(thread_ids))
        found = self.table.batch_get([*(loc.key for loc in locations.values()), *map(keys.thread_key, threads)])
        out: dict[str, Item] = {}
        for message_id, loc in locations.items():
            item = self.alive(found.get((loc.key.pk, loc.key.sk)))
            if item is not None:
                out[message_id] = item
        return out, self._threads_found(found, threads)

    def thread_items(self, thread_ids: Iterable[str]) -> dict[str, Item]:
        ids = list(dict.fromkeys(thread_ids))
        return self._threads_found(self.table.batch_get([keys.thread_key(t) for t in ids]), ids)

    def _threads_found(self, found: Mapping[tuple[str, str], Item], thread_ids: Iterable[str]) -> dict[str, Item]:
        """The live thread items of ``thread_ids`` among the items a BatchGetItem ``found`` (hints noted)."""
        out: dict[str, Item] = {}
        for thread_id in thread_ids:
            key = keys.thread_key(thread_id)
            item = self.hints.seen(thread_id, self.alive(found.get((key.pk, key.sk))))
            if item is not None:
                out[thread_id] = item
        return out

    def list_messages_by_id(self, *, message_ids: Sequence[str]) -> list[Message]:
        if not is_list(message_ids):
            raise ValidationError("message_ids must be a list of ids", code="INVALID_INPUT")
        for message_id in message_ids:
            require_id(message_id, field="message_ids[]")
        if not message_ids:
            return []
        items = self.complete(list(self.fetch(self.locate(message_ids)).values()))
        ordered = sorted(items, key=MemoryItem.sort_key)
        return [MessageItem.record_from_raw(item) for item in ordered]

    def complete(self, items: list[Item]) -> list[Item]:
        """The message items with the content of chunked ones put back from their parts (one consistent
        BatchGetItem for all of them). A message rewritten or deleted since it was read is read again (and left
        out when it is gone)."""
        heads = [item for item in items if part_keys(item)]
        if not heads:
            return items
        found = self.table.batch_get([k for head in heads for k in part_keys(head)])
        out: list[Item] = []
        for item in items:
            wanted = part_keys(item)
            if not wanted:
                out.append(item)
                continue
            parts = [found.get((k.pk, k.sk)) for k in wanted]
            if all(p is not None for p in parts):
                out.append(join_parts(item, [p for p in parts if p is not None]))
                continue
            again = self.alive(self.table.get_item(MemoryItem.key_of(item), consistent=True))
            if again is None:
                continue  # deleted meanwhile
            if part_generation(again) == part_generation(item):
                raise ConflictError(f"message {MessageItem.id_of(item)!r}: its content parts are missing",
                                    code="MESSAGE_PARTS_MISSING", details={"message_id": MessageItem.id_of(item)})
            out.extend(self.complete([again]))
        return out

    def write_parts(self, parts: list[Item]) -> None:
        """Write content parts before the transaction that names them. No message refers to them yet, so they
        need no run fence (and a fenced batch would not fit a transaction)."""
        if parts:
            with active_fence(None):
                self.table.batch_write(puts=parts)

    def sweep_parts(self, keep: Mapping[str, str | None]) -> None:
        """Delete the content parts of each message id except the generation it keeps (None: all), after the
        write that stopped naming them. One Query per message: parts left by an interrupted earlier call go
        too."""
        stale: list[Key] = []
        for message_id, generation in keep.items():
            params = query_params(MessagePartItem.pk == keys.message_parts_pk(message_id), consistent=True,
                                  projection=(MessagePartItem.pk, MessagePartItem.sk))
            stale += [MemoryItem.key_of(p) for p in self.table.query_items(params)
                      if generation is None or MemoryItem.sort_key(p).split("#", 1)[0] != generation]
        if stale:
            with active_fence(None):  # no message names these parts any more
                self.table.batch_write(deletes=stale)

    # ------------------------------------------------------------------ writes
    def _thread_touch(self, thread_id: str, thread_item: Item, when: datetime,
                      deltas: counts.Deltas, links: Links) -> dict[str, Any]:
        """Update action: thread updatedAt := ``when`` (strictly later than what was read), message
        counters adjusted by ``deltas``, resource links recorded by ``links``; the thread still alive."""
        return touch_action(self.table.table_name, thread_id, when,
                            counts.update(counts.read(thread_item), deltas), alive_at=self.ttl.now_epoch(),
                            links=links)

    def _absent_thread(self, thread_id: str) -> dict[str, Any]:
        """ConditionCheck: the thread the plan read as absent (or expired) is still so."""
        return absent_thread_check(self.table.table_name, thread_id, self.ttl.now_epoch())

    def _put_with_ref(self, message: Message, old: Location | None, expires_at: int | None,
                      *, read: Item | None = None) -> Change:
        """Actions that write ``message`` and its pointer. ``read`` is the message item this change was
        computed from (updates): the write then requires that item to be unchanged (no lost update)."""
        assert message.thread_id is not None
        table = self.table.table_name
        item, size, parts = split_large(MessageItem.item_of(message, expires_at=expires_at,
                                                            revision=write_token()), message.id)
        sk = MemoryItem.sort_key(item)
        ref = MessageRefItem.item_of(message.id, message.thread_id, sk, message.resource_id,
                                     expires_at=expires_at, chunked=bool(parts))
        if old is None:
            ref_put = put_action(table, ref, "absent_or_expired", now=epoch_datetime(self.ttl.now_epoch()))
        else:
            ref_put = put_action(table, ref, "pointing_at", msk=old.sk, thread=old.thread_id)
        moved = old is not None and (old.thread_id != message.thread_id or old.sk != sk)
        put = put_action(table, item, unchanged(read), typed=read) if read is not None and not moved else (
            put_action(table, item))
        actions: list[dict[str, Any]] = [put, ref_put]
        threads = {message.thread_id}
        moves: list[tuple[str, counts.ResourceRef, int]] = [(message.thread_id, counts.ref_of(message.resource_id), 1)]
        if old is not None:
            # the message it replaces (same key or moved) leaves its thread's count
            old_ref = counts.ref_of_message(read) if read is not None else counts.ref_of_pointer(old.item)
            moves.append((old.thread_id, old_ref, -1))
        if old is not None and moved:
            if read is not None:
                actions.append(delete_action(table, old.key, unchanged(read), typed=read))
            else:
                actions.append(delete_action(table, old.key))
            threads.add(old.thread_id)
        sweep: dict[str, str | None] = {}
        if parts or (old is not None and MessageRefItem.is_chunked(old.item)):
            sweep[message.id] = part_generation(item)
        return Change(actions, threads, size + item_size(ref) + 200, moves, expires_at is not None,
                      parts, sweep)

    def _delete_with_ref(self, message_id: str, loc: Location) -> Change:
        table = self.table.table_name
        ref_delete = delete_action(table, keys.message_ref_key(message_id), "pointing_at", msk=loc.sk,
                                   thread=loc.thread_id)
        sweep: dict[str, str | None] = {message_id: None} if MessageRefItem.is_chunked(loc.item) else {}
        return Change([delete_action(table, loc.key), ref_delete], {loc.thread_id}, 200,
                      [(loc.thread_id, counts.ref_of_pointer(loc.item), -1)], sweep=sweep)

    def _execute(self, plan: Plan) -> int:
        """Run the plan as few transactions as the limits allow. Returns how many changes were applied
        before a cancellation (raised as TransactionCancelled with ``applied`` in details)."""
        applied = 0
        touched: dict[str, datetime] = {}
        linked_now: dict[str, frozenset[str]] = {}
        chunk: list[Change] = []

        def flush() -> None:
            nonlocal applied, chunk
            if not chunk:
                return
            actions = [a for change in chunk for a in change.actions]
            threads = sorted({t for change in chunk for t in change.threads if t in plan.thread_items})
            stamps: dict[str, datetime] = {}
            deltas: dict[str, counts.Deltas] = {}
            links: dict[str, Links] = {}
            entering = _entering(chunk)
            for thread_id in threads:
                previous = touched.get(thread_id)
                if previous is None:  # a remembered thread item has none: now, conditioned on being later
                    previous = ThreadItem.decode_present(plan.thread_items[thread_id],
                                                  (("updated_at", "updated_at"),)).get("updated_at")
                stamps[thread_id] = self.bumped(previous)
                deltas[thread_id] = counts.Deltas(
                    [(ref, d) for change in chunk for (t, ref, d) in change.moves if t == thread_id],
                    any(change.expiring and thread_id in change.threads for change in chunk))
                known = counts.linked(plan.thread_items[thread_id]) | linked_now.get(thread_id, frozenset())
                links[thread_id] = Links.plan(entering.get(thread_id, ()), known)
                actions.append(self._thread_touch(thread_id, plan.thread_items[thread_id], stamps[thread_id],
                                                  deltas[thread_id], links[thread_id]))
            for thread_id, resources in sorted(entering.items()):
                # a thread without an item read (absent, or created by this plan) records nothing: link anyway
                added = links[thread_id].add if thread_id in links else sorted(resources)
                actions.extend(link_put(self.table.table_name, thread_id, r) for r in added)
            if plan.guard_absent:
                absent = sorted({t for change in chunk for t in change.threads} - set(plan.thread_items))
                actions.extend(self._absent_thread(t) for t in absent)
            self.write_parts([p for change in chunk for p in change.parts])
            try:
                self.table.transact_write(actions)
            except TransactionCancelled as exc:
                exc.details["applied"] = applied
                raise
            self.sweep_parts({m: g for change in chunk for m, g in change.sweep.items()})
            touched.update(stamps)
            for thread_id in threads:
                linked_now[thread_id] = linked_now.get(thread_id, frozenset()) | frozenset(links[thread_id].add)
                self.hints.note(thread_id, counts.applied(counts.read(plan.thread_items[thread_id]),
                                                          deltas[thread_id]), links[thread_id].add)
            for thread_id, thread_deltas in deltas.items():  # counters removed here stay removed
                if thread_deltas.invalidates:
                    plan.thread_items[thread_id] = counts.without(plan.thread_items[thread_id])
            applied += len(chunk)
            chunk = []

        def width(changes: list[Change]) -> int:
            actions = sum(len(c.actions) for c in changes)
            threads = {t for c in changes for t in c.threads if plan.guard_absent or t in plan.thread_items}
            links = sum(len(resources) for resources in _entering(changes).values())  # at most
            return actions + len(threads) + links

        for change in plan.changes:
            candidate = [*chunk, change]
            size = sum(c.size for c in candidate)
            if chunk and (width(candidate) > transaction_capacity() or size > MAX_TRANSACTION_BYTES):
                flush()
            chunk.append(change)
        flush()
        return applied

    def _run(self, build: Any, pending: list[Any], what: str) -> None:
        """Build-and-execute with re-reads: a cancelled chunk (concurrent writer) is rebuilt from fresh reads;
        changes already applied are not repeated."""
        for attempt in range(MAX_CONFLICT_RETRIES):
            if not pending:
                return
            if attempt:
                contention_pause(attempt)
            plan, order = build(pending)
            try:
                self._execute(plan)
                return
            except TransactionCancelled as exc:
                if not _lost_race(exc):
                    raise
                applied = int(exc.details.get("applied", 0))
                done = set(order[:applied])
                pending = [p for p in pending if _ident(p) not in done]
        raise ConflictError(f"{what}: too much contention; retry the call", details={"operation": what})

    def save_messages(self, *, messages: Sequence[Message | Mapping[str, Any]]) -> list[Message]:
        if not is_list(messages):
            raise ValidationError("messages must be a list", code="INVALID_INPUT")
        records: list[Message] = []
        built: dict[str, tuple[Item, int, list[Item]]] = {}
        for index, raw in enumerate(messages):
            message = coerce(Message, raw, what=f"messages[{index}]")
            require_id(message.id, field=f"messages[{index}].id")
            if message.thread_id is None:
                raise ValidationError(f"messages[{index}].thread_id is required", code="INVALID_INPUT",
                                      details={"message_id": message.id})
            require_id(message.thread_id, field=f"messages[{index}].thread_id")
            if "resource_id" in message.model_fields_set and message.resource_id is None:
                raise ValidationError(f"messages[{index}].resource_id must be a string or omitted",
                                      code="INVALID_INPUT", details={"message_id": message.id})
            if message.resource_id is not None:
                require_id(message.resource_id, field=f"messages[{index}].resource_id")
            # Size/JSON validation before any write: a bad message rejects the whole call. The item (with the
            # revision of this write) is what the one-transaction path writes.
            item, size, parts = split_large(MessageItem.item_of(message), message.id)
            item[_REVISION] = typed(MessageItem.revision, write_token())  # this write's
            built[message.id] = (item, size, parts)
            records.append(message)
        if not records:
            return []
        latest = {m.id: m for m in records}
        expires_at = self.ttl.expires_at("message")
        if expires_at is None and self._save_new(list(latest.values()), built):
            return records

        def build(pending: list[Message]) -> tuple[Plan, list[str]]:
            targets = {m.thread_id for m in pending if m.thread_id}
            locations, threads = self.locate_with_threads((m.id for m in pending), targets)
            plan = Plan(thread_items=threads)
            for message in pending:
                plan.changes.append(self._put_with_ref(message, locations.get(message.id), expires_at))
            return plan, [m.id for m in pending]

        self._run(build, list(latest.values()), "save_messages")
        return records

    def _save_new(self, messages: list[Message], items: Mapping[str, tuple[Item, int, list[Item]]]) -> bool:
        """Save messages that are new to threads this process has seen, as ONE transaction planned without
        reading: each message and its pointer are created (conditioned on their absence) and each thread's
        Update moves ``updatedAt`` to now and adds to the message counters, conditioned on the thread
        existing, being live, having an earlier ``updatedAt`` and holding the counters as last seen (their
        resource reference, or none). False, with nothing written, when a thread was not seen, any condition
        fails or the batch does not fit one transaction: the caller then reads pointers and threads and plans
        the general case. ``items`` are the messages' serialized items and their sizes (without revision)."""
        by_thread: dict[str, list[Message]] = {}
        for message in messages:
            assert message.thread_id is not None
            if not self.hints.known(message.thread_id):
                return False
            by_thread.setdefault(message.thread_id, []).append(message)
        links = {thread_id: Links.plan((m.resource_id for m in group if m.resource_id), self.hints.linked(thread_id))
                 for thread_id, group in by_thread.items()}
        if 2 * len(messages) + len(by_thread) + sum(len(x.add) for x in links.values()) > transaction_capacity():
            return False
        table = self.table.table_name
        actions: list[dict[str, Any]] = []
        size = 0
        parts: list[Item] = []
        for message in messages:
            assert message.thread_id is not None
            item, item_bytes, message_parts = items[message.id]
            parts += message_parts
            ref = MessageRefItem.item_of(message.id, message.thread_id, MemoryItem.sort_key(item),
                                         message.resource_id, chunked=bool(message_parts))
            actions.append(put_action(table, item, "absent"))
            actions.append(put_action(table, ref, "absent"))
            size += item_bytes + item_size(ref)
        if size > MAX_TRANSACTION_BYTES:
            return False
        now = self.now()
        now_epoch = self.ttl.now_epoch()
        after: dict[str, counts.Counters | None] = {}
        for thread_id, group in by_thread.items():  # stored counters are added to, unstored exact ones set
            seen = self.hints.get(thread_id)
            deltas = counts.Deltas([(counts.ref_of(m.resource_id), 1) for m in group])
            after[thread_id] = counts.applied(seen, deltas)
            actions.append(touch_action(table, thread_id, now, counts.update(seen, deltas), alive_at=now_epoch,
                                        links=links[thread_id]))
            actions.extend(link_put(table, thread_id, r) for r in links[thread_id].add)
        self.write_parts(parts)
        try:
            self.table.transact_write(actions)
        except TransactionCancelled as exc:
            if _lost_race(exc):
                for thread_id in by_thread:
                    self.hints.forget(thread_id)
                return False  # the general path writes the same parts again (same keys) and sweeps
            raise
        for thread_id, counters in after.items():
            self.hints.note(thread_id, counters, links[thread_id].add)
        return True

    def update_messages(self, *, messages: Sequence[MessageUpdate | Mapping[str, Any]]) -> list[Message]:
        if not is_list(messages):
            raise ValidationError("messages must be a list", code="INVALID_INPUT")
        updates = [coerce(MessageUpdate, raw, what=f"messages[{i}]") for i, raw in enumerate(messages)]
        for i, update in enumerate(updates):
            require_id(update.id, field=f"messages[{i}].id")
            if update.thread_id is not None:
                require_id(update.thread_id, field=f"messages[{i}].thread_id")
        if not updates:
            return []
        result: dict[str, Message] = {}

        def build(pending: list[MessageUpdate]) -> tuple[Plan, list[str]]:
            locations = self.locate(u.id for u in pending)
            # the messages and the threads they are in, read together (a move to another thread reads it too)
            fetched, threads = self.fetch_with_threads(locations, (loc.thread_id for loc in locations.values()))
            current = {MessageItem.id_of(i) or "": i for i in self.complete(list(fetched.values()))}
            merged: dict[str, Message] = {}
            for update in pending:
                item = current.get(update.id)
                if item is None:
                    continue  # unknown ids are skipped
                base = merged.get(update.id) or MessageItem.record_from_raw(item)
                merged[update.id] = apply_update(base, update)
            thread_ids = {m.thread_id for m in merged.values() if m.thread_id}
            thread_ids |= {locations[i].thread_id for i in merged}
            read = {loc.thread_id for loc in locations.values()}
            plan = Plan(thread_items={**{t: item for t, item in threads.items() if t in thread_ids},
                                      **self.thread_items(thread_ids - read)})
            for message_id, message in merged.items():
                old = locations[message_id]
                expires = MemoryItem.expires_of(old.item)
                plan.changes.append(self._put_with_ref(message, old, expires, read=current[message_id]))
            result.update(merged)
            return plan, list(merged)

        self._run(build, updates, "update_messages")
        seen: set[str] = set()
        ordered: list[Message] = []
        for update in updates:
            if update.id in result and update.id not in seen:
                seen.add(update.id)
                ordered.append(result[update.id])
        return ordered

    def delete_messages(self, message_ids: Sequence[str]) -> None:
        if not is_list(message_ids):
            raise ValidationError("message_ids must be a list of ids", code="INVALID_INPUT")
        for message_id in message_ids:
            require_id(message_id, field="message_ids[]")
        if not message_ids:
            return

        remembered = True

        def build(pending: list[str]) -> tuple[Plan, list[str]]:
            # The first attempt plans the threads this process knows from its hints (their counters as last
            # seen) instead of reading them: the transaction's conditions (thread alive, an earlier updatedAt,
            # the counters as hinted) make a stale hint cancel it, and the retry reads the threads.
            nonlocal remembered
            locations = self.locate(pending)
            thread_ids = {loc.thread_id for loc in locations.values()}
            known = {t for t in thread_ids if remembered and self.hints.known(t)}
            remembered = False
            plan = Plan(thread_items={**{t: counts.stored_attributes(self.hints.get(t)) for t in known},
                                      **self.thread_items(thread_ids - known)})
            for message_id, loc in locations.items():
                plan.changes.append(self._delete_with_ref(message_id, loc))
            return plan, list(locations)

        self._run(build, list(dict.fromkeys(message_ids)), "delete_messages")


def _entering(changes: Iterable[Change]) -> dict[str, set[str]]:
    """Per thread, the resources of the messages these changes write into it (their links)."""
    out: dict[str, set[str]] = {}
    for change in changes:
        for thread_id, ref, delta in change.moves:
            if delta > 0 and isinstance(ref, str) and ref:
                out.setdefault(thread_id, set()).add(ref)
    return out


def _lost_race(exc: TransactionCancelled) -> bool:
    """The transaction was cancelled by a condition or a concurrent writer (re-read and retry), not a fault."""
    return any(r in ("ConditionalCheckFailed", "TransactionConflict") for r in exc.reasons if r)


def _ident(value: Any) -> str:
    return value if isinstance(value, str) else str(value.id)


def apply_update(message: Message, update: MessageUpdate) -> Message:
    """Merge an update into a message: fields replace; ``content`` top-level keys replace and
    ``content.metadata`` is shallow-merged."""
    data = message.model_dump(exclude_unset=True)
    data.setdefault("type", message.type)
    for name in ("role", "type", "thread_id", "resource_id"):
        if name in update.model_fields_set and getattr(update, name) is not None:
            data[name] = getattr(update, name)
    if update.content is not None:
        content = dict(message.content)
        patch = update.content.model_dump(exclude_unset=True, by_alias=False)
        extra = update.content.model_extra or {}
        for name, value in {**patch, **extra}.items():
            if name == "metadata":
                old = content.get("metadata")
                content["metadata"] = {**(old if isinstance(old, dict) else {}), **(value or {})}
            else:
                content[name] = value
        data["content"] = content
    try:
        return Message.model_validate(data)
    except Exception as exc:  # pragma: no cover - defensive: merged data failing validation
        raise ValidationError(f"update of message {message.id!r} is invalid: {describe_errors(exc, what='message')}",
                              code="INVALID_INPUT") from None
