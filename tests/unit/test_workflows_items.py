"""The workflow items as PynamoDB models (models/workflows.py) serialize to exactly the items the store wrote
before the models (the reference builders below are copied from that code; the snapshot encoding is the current
one: compressed from 512 bytes instead of 16 KB), read back identically, and the requests built from cached
shapes are the requests PynamoDB builds for the same values."""

from __future__ import annotations

import json
import os
import re
import zlib
from datetime import UTC, datetime
from typing import Any

import pytest
from pynamodb.constants import ALL_OLD
from pynamodb.expressions.operand import Value

from mastra_dynamo.dynamo.codec import AttributeValue, Item, decode_json, dumps_json, item_size
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.models import requests
from mastra_dynamo.models.base import epoch_datetime
from mastra_dynamo.models.workflow_requests import key_attributes, shaped_filter, slot
from mastra_dynamo.models.workflows import (
    CHUNK_BYTES,
    COMPRESS_MIN_BYTES,
    INLINE_MAX_BYTES,
    PackedSnapshot,
    WorkflowChunkItem,
    WorkflowRunIndexItem,
    WorkflowRunItem,
    entity_of,
    key_of,
    run_index_keys,
    run_index_values,
)
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.table import TABLE_SPEC
from mastra_dynamo.stores import listing, workflow_writes
from mastra_dynamo.stores.workflow_writes import HeadBody, RunFields
from tests.unit.pynamodb_reference import pynamodb_serialize

NOW = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
LATER = datetime(2026, 1, 2, 4, 0, 0, 7, tzinfo=UTC)
EXPIRES = 1_900_000_000
STAMP = "t0188e3c0a1b2c3d4deadbeef"


# ---------------------------------------------------------------------------- reference: the code before the models
def reference_encode(snapshot: Any) -> tuple[AttributeValue | None, list[bytes]]:
    """``DynamoWorkflowsStore._encode``: (inline attribute, chunks). Text below 512 bytes as is; from 512 bytes
    on zlib level 6 (a 4 KB window up to 4 KB of text, the same size for such payloads), kept when smaller."""
    text = dumps_json(snapshot, field="snapshot")
    raw = text.encode("utf-8")
    if len(raw) < 512:
        return {"S": text}, []
    window = 12 if len(raw) <= 4096 else 15
    packer = zlib.compressobj(6, zlib.DEFLATED, window, 4 if window == 12 else 8)
    packed = packer.compress(raw) + packer.flush()
    if len(packed) <= INLINE_MAX_BYTES:
        return ({"B": packed} if len(packed) < len(raw) else {"S": text}), []
    return None, [packed[i:i + CHUNK_BYTES] for i in range(0, len(packed), CHUNK_BYTES)]


def stamp(item: Item, entity: str, expires_at: int | None = None) -> Item:
    """``DynamoDomain.stamp``."""
    item["_et"] = {"S": entity}
    item["_sv"] = {"N": str(TABLE_SPEC.schema_version)}
    if expires_at is not None:
        item["ttl"] = {"N": str(expires_at)}
    return item


def reference_run_index_keys(workflow_name: str, run_id: str, created: str, resource_id: str | None,
                             status: str) -> Item:
    """``workflows.run_index_keys``."""
    cwf, crun = keys.component(workflow_name), keys.component(run_id)
    shard8 = keys.shard_of(run_id, keys.GLOBAL_SHARDS)
    item: Item = {
        "gsi1pk": {"S": keys.runs_by_workflow_pk(workflow_name)},
        "gsi1sk": {"S": f"{created}#{crun}"},
        "gsi3pk": {"S": keys.runs_global_pk(shard8)},
        "gsi3sk": {"S": f"{created}#{crun}#{cwf}"},
        "gsi4pk": {"S": keys.runs_by_status_pk(status, shard8)},
        "gsi4sk": {"S": f"{created}#{crun}#{cwf}"},
    }
    if resource_id is not None:
        item["gsi2pk"] = {"S": keys.runs_by_resource_pk(resource_id)}
        item["gsi2sk"] = {"S": f"{created}#{crun}#{cwf}"}
    return item


def reference_head_and_entry(workflow_name: str, run_id: str, *, created: str, updated: str, status: str,
                             resource_id: str | None, expires_at: int | None, inline: AttributeValue | None,
                             generation: str | None, chunk_count: int, write_id: str, gen_stamp: str,
                             old_rev: int | None) -> tuple[Item, Item]:
    """The head and index entry ``DynamoWorkflowsStore._put_head_and_index`` put."""
    shared: Item = {"workflowName": {"S": workflow_name}, "runId": {"S": run_id}, "createdAt": {"S": created},
                    "status": {"S": status}}
    if resource_id is not None:
        shared["resourceId"] = {"S": resource_id}
    if expires_at is not None:
        shared["ttl"] = {"N": str(expires_at)}
    key = keys.run_key(workflow_name, run_id)
    head: Item = {"pk": {"S": key.pk}, "sk": {"S": key.sk}, **shared, "updatedAt": {"S": updated},
                  "_wid": {"S": write_id}, "_gen": {"S": gen_stamp}}
    if inline is not None:
        head["snapshot"] = inline
    else:
        assert generation is not None
        head["snapGen"] = {"S": generation}
        head["snapChunks"] = {"N": str(chunk_count)}
    head["_rev"] = {"N": str(old_rev + 1 if old_rev is not None else 1)}
    stamp(head, "workflow_run")
    index_key = keys.run_index_key(workflow_name, run_id)
    index: Item = {"pk": {"S": index_key.pk}, "sk": {"S": index_key.sk}, **shared,
                   **reference_run_index_keys(workflow_name, run_id, created, resource_id, status)}
    stamp(index, "workflow_run_index")
    return head, index


def reference_chunk(workflow_name: str, run_id: str, generation: str, index: int, chunk: bytes,
                    expires_at: int | None) -> Item:
    """One item of ``DynamoWorkflowsStore._put_chunks``."""
    key = keys.run_chunk_key(workflow_name, run_id, generation, index)
    return stamp({"pk": {"S": key.pk}, "sk": {"S": key.sk}, "data": {"B": chunk}}, "workflow_chunk", expires_at)


# ---------------------------------------------------------------------------- records
def state(run_id: str = "r#1", status: str = "running", **extra: Any) -> dict[str, Any]:
    return {"runId": run_id, "status": status, "value": {}, "context": {"input": {"q": "héllo ✓"}},
            "activePaths": [0], "timestamp": 1741593600000, **extra}


def steps(count: int) -> dict[str, Any]:
    """A run ``count`` steps in, like the bench's (bench/plan.py): ~0.3 KB of JSON per step."""
    words = ["agent", "memory", "thread", "message", "tool", "call", "result", "weather", "storage", "table",
             "index", "query"]
    return state(context={f"step{i}": {"status": "success", "output": {"text": " ".join(
        words[(i * 7 + j) % len(words)] for j in range(20)), "n": i}, "startedAt": 1767600000000 + i,
        "endedAt": 1767600000500 + i} for i in range(count)},
        serializedStepGraph=[{"type": "step", "step": {"id": f"step{i}"}} for i in range(10)])


SNAPSHOTS: dict[str, Any] = {
    "small": state(),
    "null": None,
    "text": "a plain string snapshot",
    "just below 512 bytes": "x" * (512 - 3),  # its JSON text is 511 bytes: not compressed
    "512 bytes exactly": "x" * (512 - 2),
    "ten steps": steps(10),
    "16 KB exactly": "x" * (16 * 1024 - 2),
    "just above 16 KB": "x" * (16 * 1024 - 1),
    "compressed": state(context={"doc": "abc" * 20_000}),
    "incompressible inline": state(context={"doc": os.urandom(60 * 1024).hex()}),
    "chunked": state(context={"doc": os.urandom(400 * 1024).hex()}),
}


def packed(snapshot: Any) -> PackedSnapshot:
    return PackedSnapshot.of(dumps_json(snapshot, field="snapshot"))


@pytest.mark.parametrize("name", list(SNAPSHOTS))
def test_a_snapshot_is_encoded_as_before(name: str) -> None:
    inline, chunks = reference_encode(SNAPSHOTS[name])
    encoded = packed(SNAPSHOTS[name])
    assert encoded.inline == (inline is not None)
    if inline is not None:
        assert encoded.stored_value() == inline
        assert WorkflowRunItem.snapshot.serialize(encoded) == inline
        assert decode_json(inline) == SNAPSHOTS[name]
    else:
        assert encoded.chunks() == chunks and len(chunks) > 1
    if name == "just below 512 bytes":
        assert set(inline or {}) == {"S"} and encoded.size == COMPRESS_MIN_BYTES - 1 == 511
    if name in ("512 bytes exactly", "ten steps", "16 KB exactly", "just above 16 KB", "compressed"):
        assert set(inline or {}) == {"B"}


def test_a_run_ten_steps_in_has_a_head_of_at_most_1_kb() -> None:
    """A ~3 KB snapshot is stored compressed: its head costs one write unit per step, not three."""
    snapshot = SNAPSHOTS["ten steps"]
    assert 2500 < len(dumps_json(snapshot, field="snapshot")) < 3500
    case = {"resource_id": "user-00", "expires_at": None, "old_rev": 9, "snapshot": "ten steps"}
    body = body_of(case)
    (put_head, _), _ = workflow_writes.head_and_entry_puts(
        "t", fields_of(case, workflow_name="workflow-1", run_id="run-0001"),
        HeadBody(snapshot=body.snapshot, generation=None, chunk_count=0, stamp=STAMP, status="running",
                 updated=LATER, write_id="0" * 32, expires_at=None), current={"_rev": {"N": "9"}})
    head = put_head["Put"]["Item"]
    assert set(head["snapshot"]) == {"B"} and item_size(head) <= 1024, item_size(head)
    assert WorkflowRunItem.from_raw_data(head).snapshot == snapshot


@pytest.mark.parametrize("name", ["small", "compressed", "chunked"])
def test_a_json_document_is_packed_alike_and_never_chunked_into_the_head(name: str) -> None:
    if name == "chunked":
        with pytest.raises(ValueError):
            WorkflowRunItem.snapshot.serialize(SNAPSHOTS[name])
    else:
        assert WorkflowRunItem.snapshot.serialize(SNAPSHOTS[name]) == packed(SNAPSHOTS[name]).stored_value()


HEADS: dict[str, dict[str, Any]] = {
    "first write": {"resource_id": None, "expires_at": None, "old_rev": None, "snapshot": "small"},
    "resource and expiry": {"resource_id": "res/1", "expires_at": EXPIRES, "old_rev": 4, "snapshot": "small"},
    "null snapshot": {"resource_id": None, "expires_at": None, "old_rev": 1, "snapshot": "null"},
    "compressed": {"resource_id": "r", "expires_at": None, "old_rev": 9, "snapshot": "compressed"},
    "chunked": {"resource_id": None, "expires_at": EXPIRES, "old_rev": 2, "snapshot": "chunked"},
}


def body_of(case: dict[str, Any], status: str = "running") -> HeadBody:
    encoded = packed(SNAPSHOTS[case["snapshot"]])
    chunks = [] if encoded.inline else encoded.chunks()
    return HeadBody(snapshot=encoded, generation=None if encoded.inline else STAMP, chunk_count=len(chunks),
                    stamp=STAMP, status=status, updated=LATER, write_id="w-1", expires_at=case["expires_at"])


def fields_of(case: dict[str, Any], workflow_name: str = "wf#1", run_id: str = "r~1",
              status: str = "running") -> RunFields:
    return RunFields(workflow_name=workflow_name, run_id=run_id, created_at=NOW, status=status,
                     resource_id=case["resource_id"], expires_at=case["expires_at"])


@pytest.mark.parametrize("name", list(HEADS))
def test_head_and_entry_serialize_to_the_items_written_before(name: str) -> None:
    case = HEADS[name]
    body, fields = body_of(case), fields_of(case)
    inline, _ = reference_encode(SNAPSHOTS[case["snapshot"]])
    ref_head, ref_entry = reference_head_and_entry(
        "wf#1", "r~1", created=keys.ts(NOW), updated=keys.ts(LATER), status="running",
        resource_id=case["resource_id"], expires_at=case["expires_at"], inline=inline,
        generation=body.generation, chunk_count=body.chunk_count, write_id="w-1", gen_stamp=STAMP,
        old_rev=case["old_rev"])
    current = None if case["old_rev"] is None else {"_rev": {"N": str(case["old_rev"])}}
    (put_head, put_entry), _ = workflow_writes.head_and_entry_puts("t", fields, body, current=current)
    assert put_head["Put"]["Item"] == ref_head
    assert put_entry["Put"]["Item"] == ref_entry
    # the models say the same, through PynamoDB's own serialize()
    head_key, entry_key = keys.run_key("wf#1", "r~1"), keys.run_index_key("wf#1", "r~1")
    ttl = None if case["expires_at"] is None else epoch_datetime(case["expires_at"])
    shared = {"workflow_name": "wf#1", "run_id": "r~1", "created_at": NOW, "status": "running",
              "resource_id": case["resource_id"], "ttl": ttl}
    model_head = WorkflowRunItem(head_key.pk, head_key.sk, **shared, **body.values(),
                                 revision=(case["old_rev"] or 0) + 1)
    assert model_head.serialize() == pynamodb_serialize(model_head) == ref_head
    created = keys.ts(NOW)
    model_entry = WorkflowRunIndexItem(entry_key.pk, entry_key.sk, **shared, **run_index_values(
        "wf#1", "r~1", created, case["resource_id"], "running"))
    assert model_entry.serialize() == pynamodb_serialize(model_entry) == ref_entry
    # and read the reference items back identically (a JSON null snapshot reads as None, which an instance
    # cannot tell from no snapshot: the store reads heads with decode_attributes and the raw item)
    loaded = WorkflowRunItem.from_raw_data(ref_head)
    if case["snapshot"] == "null":
        assert loaded.snapshot is None and ref_head["snapshot"] == {"S": "null"}
        loaded.snapshot = PackedSnapshot.of("null")
    assert loaded.serialize() == ref_head
    assert WorkflowRunIndexItem.from_raw_data(ref_entry).serialize() == ref_entry
    assert entity_of(ref_head) == "workflow_run" and entity_of(ref_entry) == "workflow_run_index"
    assert key_of(ref_head) == head_key


def test_the_head_layout_spelled_out() -> None:
    body = body_of(HEADS["resource and expiry"])
    (put_head, put_entry), _ = workflow_writes.head_and_entry_puts("t", fields_of(HEADS["resource and expiry"]), body,
                                                              current=None)
    ts, later = "2026-01-02T03:04:05.123456Z", "2026-01-02T04:00:00.000007Z"
    assert put_head["Put"]["Item"] == {
        "pk": {"S": "W#r%7E1"}, "sk": {"S": "N#wf%231"}, "workflowName": {"S": "wf#1"}, "runId": {"S": "r~1"},
        "createdAt": {"S": ts}, "updatedAt": {"S": later}, "status": {"S": "running"},
        "resourceId": {"S": "res/1"}, "ttl": {"N": str(EXPIRES)},
        "snapshot": {"S": json.dumps(state(), separators=(",", ":"), ensure_ascii=False)},
        "_wid": {"S": "w-1"}, "_gen": {"S": STAMP}, "_rev": {"N": "1"}, "_et": {"S": "workflow_run"},
        "_sv": {"N": "2"},
    }
    shard = keys.shard_of("r~1", keys.GLOBAL_SHARDS)
    assert put_entry["Put"]["Item"] == {
        "pk": {"S": "W#r%7E1"}, "sk": {"S": "I#wf%231"}, "workflowName": {"S": "wf#1"}, "runId": {"S": "r~1"},
        "createdAt": {"S": ts}, "status": {"S": "running"}, "resourceId": {"S": "res/1"},
        "ttl": {"N": str(EXPIRES)}, "_et": {"S": "workflow_run_index"}, "_sv": {"N": "2"},
        "gsi1pk": {"S": "WN#wf%231"}, "gsi1sk": {"S": f"{ts}#r%7E1"},
        "gsi2pk": {"S": "WR#res/1"}, "gsi2sk": {"S": f"{ts}#r%7E1#wf%231"},
        "gsi3pk": {"S": f"WA#{shard}"}, "gsi3sk": {"S": f"{ts}#r%7E1#wf%231"},
        "gsi4pk": {"S": f"WS#running#{shard}"}, "gsi4sk": {"S": f"{ts}#r%7E1#wf%231"},
    }


@pytest.mark.parametrize("resource_id", [None, "res#1"])
@pytest.mark.parametrize("status", ["running", "wait ing%"])
def test_index_keys_are_the_same(resource_id: str | None, status: str) -> None:
    created = keys.ts(NOW)
    assert run_index_keys("wf", "r1", created, resource_id, status) == reference_run_index_keys(
        "wf", "r1", created, resource_id, status)


@pytest.mark.parametrize("expires_at", [None, EXPIRES])
def test_chunks_serialize_to_the_items_written_before(expires_at: int | None) -> None:
    chunks = packed(SNAPSHOTS["chunked"]).chunks()
    items = workflow_writes.chunk_items("wf", "r1", STAMP, chunks, expires_at)
    assert items == [reference_chunk("wf", "r1", STAMP, i, c, expires_at) for i, c in enumerate(chunks)]
    key = keys.run_chunk_key("wf", "r1", STAMP, 0)
    ttl = None if expires_at is None else epoch_datetime(expires_at)
    assert WorkflowChunkItem(key.pk, key.sk, data=chunks[0], ttl=ttl).serialize() == items[0]
    assert WorkflowChunkItem.snapshot_of(items) == SNAPSHOTS["chunked"]


def test_heads_of_the_older_layout_are_read() -> None:
    """A head as mastra-dynamo 0.1 wrote it: indexed itself, no ``_gen``/``_wid``, schema version 1."""
    created = keys.ts(NOW)
    key = keys.run_key("wf", "old")
    legacy: Item = {
        "pk": {"S": key.pk}, "sk": {"S": key.sk}, "workflowName": {"S": "wf"}, "runId": {"S": "old"},
        "createdAt": {"S": created}, "updatedAt": {"S": created}, "status": {"S": "suspended"},
        "resourceId": {"NULL": True}, "snapshot": {"S": json.dumps({"runId": "old"})}, "_rev": {"N": "3"},
        "_et": {"S": "workflow_run"}, "_sv": {"N": "1"},
        **reference_run_index_keys("wf", "old", created, None, "suspended"),
    }
    head = WorkflowRunItem.from_raw_data(legacy)
    assert (head.schema_version, head.revision, head.gen_stamp, head.resource_id) == (1, 3, None, None)
    assert head.snapshot == {"runId": "old"} and head.gsi1pk == "WN#wf"
    decoded = WorkflowRunItem.decode_attributes(legacy, ("created_at", "resource_id", "snapshot", "gen_stamp"))
    assert decoded == {"created_at": NOW, "resource_id": None, "snapshot": {"runId": "old"}, "gen_stamp": None}


@pytest.mark.parametrize("model", [WorkflowRunItem, WorkflowRunIndexItem, WorkflowChunkItem])
def test_encoding_attributes_checks_the_required_ones(model: type[WorkflowRunItem]) -> None:
    with pytest.raises(ValueError):
        model.encode_item({"pk": "a"})


# ---------------------------------------------------------------------------- requests
def spelled(request: dict[str, Any], field: str) -> str:
    """An expression of ``request`` with its placeholders replaced by names and (values)."""
    names, values = request.get("ExpressionAttributeNames", {}), request.get("ExpressionAttributeValues", {})

    def one(match: re.Match[str]) -> str:
        p = match.group(0)
        return names[p] if p.startswith("#") else f"({next(iter(values[p].values()))})"

    return re.sub(r"[#:]\d+", one, request[field])


def values_of(values: Item) -> Any:
    """The value provider of a request built directly: each slot name gets its serialized value."""
    return lambda name: Value(values[name])


UPDATE_CASES = [(inline, expect, expires, resource) for inline in (True, False) for expect in (True, False)
                for expires in (None, EXPIRES) for resource in (None, "res")]


@pytest.mark.parametrize(("inline", "expect", "expires_at", "resource_id"), UPDATE_CASES)
def test_a_head_update_is_the_request_pynamodb_builds(inline: bool, expect: bool, expires_at: int | None,
                                                      resource_id: str | None) -> None:
    case = {"expires_at": expires_at, "snapshot": "small" if inline else "chunked"}
    body = body_of(case)
    key = keys.run_key("wf", "r1")
    revision = {"N": "7"} if expect else None
    for table in ("table-a", "table-b"):  # the second call binds the shape built by the first
        request = workflow_writes.head_update(table, key, body, expected_revision=revision, resource_id=resource_id)
        values = workflow_writes.head_update_values(body, expected_revision=revision, resource_id=resource_id)
        actions, condition = workflow_writes.head_update_expressions(
            values_of(values), inline=inline, expect=expect, expires=expires_at is not None,
            resource=resource_id is not None)
        assert request == requests.update_key(table, key, actions, condition=condition, return_values=ALL_OLD,
                                              return_values_on_condition_failure=ALL_OLD)
        assert request["TableName"] == table and request["ReturnValues"] == "ALL_OLD"
        assert request["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"


def test_a_head_update_says_what_it_said_before() -> None:
    body = body_of({"expires_at": None, "snapshot": "small"})
    text = json.dumps(state(), separators=(",", ":"), ensure_ascii=False)
    later = keys.ts(LATER)
    cas = workflow_writes.head_update("t", keys.run_key("wf", "r1"), body, expected_revision={"N": "7"},
                                      resource_id=None)
    assert spelled(cas, "UpdateExpression") == (
        f"SET updatedAt = ({later}), _wid = (w-1), _gen = ({STAMP}), snapshot = ({text}), _rev = _rev + (1) "
        "REMOVE snapGen, snapChunks")
    assert spelled(cas, "ConditionExpression") == (
        f"(_rev = (7) AND (attribute_not_exists (_gen) OR _gen < ({STAMP})))")
    chunked = body_of({"expires_at": EXPIRES, "snapshot": "chunked"})
    upsert = workflow_writes.head_update("t", keys.run_key("wf", "r1"), chunked, expected_revision=None,
                                         resource_id="res")
    assert spelled(upsert, "UpdateExpression") == (
        f"SET updatedAt = ({later}), _wid = (w-1), _gen = ({STAMP}), snapGen = ({STAMP}), "
        f"snapChunks = ({chunked.chunk_count}), _rev = _rev + (1) REMOVE snapshot")
    assert spelled(upsert, "ConditionExpression") == (
        f"(((((attribute_exists (pk) AND attribute_not_exists (gsi1pk)) AND status = (running)) AND "
        f"ttl = ({EXPIRES})) AND (attribute_not_exists (_gen) OR _gen < ({STAMP}))) AND resourceId = (res))")
    assert upsert["Key"] == {"pk": {"S": "W#r1"}, "sk": {"S": "N#wf"}}


@pytest.mark.parametrize(("absent", "revision"), [(True, None), (False, None), (False, 4)])
def test_a_head_put_is_the_request_pynamodb_builds(absent: bool, revision: int | None) -> None:
    case = HEADS["resource and expiry"]
    body, fields = body_of(case), fields_of(case)
    stored = None if revision is None else {"N": str(revision)}
    current = None if absent else ({} if stored is None else {"_rev": stored})
    puts, _ = workflow_writes.head_and_entry_puts("t", fields, body, current=current)
    head, entry = puts[0]["Put"]["Item"], puts[1]["Put"]["Item"]
    assert head["_rev"] == {"N": str((revision or 0) + 1)}
    key = keys.run_key("wf#1", "r~1")
    values = workflow_writes.head_put_values(body, expected_revision=stored)
    condition = workflow_writes.head_put_condition(values_of(values), absent=absent, revised=revision is not None)
    assert puts[0] == requests.transact("Put", requests.put_item(
        "t", WorkflowRunItem(key.pk, key.sk), serialized=head, condition=condition,
        return_values_on_condition_failure=ALL_OLD))
    entry_key = keys.run_index_key("wf#1", "r~1")
    assert puts[1] == requests.transact("Put", requests.put_item(
        "t", WorkflowRunIndexItem(entry_key.pk, entry_key.sk), serialized=entry))
    expected = {(True, None): "attribute_not_exists (pk)",
                (False, None): f"(attribute_not_exists (_rev) AND (attribute_not_exists (_gen) OR _gen < ({STAMP})))",
                (False, 4): f"(_rev = (4) AND (attribute_not_exists (_gen) OR _gen < ({STAMP})))"}
    assert spelled(puts[0]["Put"], "ConditionExpression") == expected[(absent, revision)]


def test_deletes_are_the_requests_pynamodb_builds() -> None:
    head, entry = keys.run_key("wf", "r1"), keys.run_index_key("wf", "r1")
    assert workflow_writes.run_deletes("t", "wf", "r1") == [
        {"Delete": {"TableName": "t", "Key": key_attributes(head)}},
        {"Delete": {"TableName": "t", "Key": key_attributes(entry)}}]
    expired = workflow_writes.expired_head_delete("t", head, 1_800_000_000)
    assert spelled(expired, "ConditionExpression") == "ttl <= (1800000000)"
    assert expired["Key"] == {"pk": {"S": "W#r1"}, "sk": {"S": "N#wf"}}


def test_chunk_queries_are_keys_only_and_consistent() -> None:
    older = workflow_writes.chunks_older_than("wf#1", "r1", STAMP)
    assert spelled(older, "KeyConditionExpression") == (
        f"(pk = (W#r1) AND sk BETWEEN (C#wf%231#) AND (C#wf%231#{STAMP}))")
    of_one = workflow_writes.chunks_of("wf#1", "r1", STAMP)
    assert spelled(of_one, "KeyConditionExpression") == f"(pk = (W#r1) AND begins_with (sk, (C#wf%231#{STAMP}#)))"
    every = workflow_writes.chunks_of("wf#1", "r1", None)
    assert spelled(every, "KeyConditionExpression") == "(pk = (W#r1) AND begins_with (sk, (C#wf%231#)))"
    for query in (older, of_one, every):
        assert query["ConsistentRead"] is True and query["ScanIndexForward"] is True
        assert spelled(query, "ProjectionExpression") == "pk, sk"
        assert "TableName" not in query


def test_a_shaped_filter_is_the_filter_pynamodb_builds() -> None:
    def condition(value: Any) -> Any:
        return WorkflowRunIndexItem.not_expired(value("ttl")) & (WorkflowRunIndexItem.status == value("status"))

    now = {"ttl": {"N": "1800000000"}, "status": {"S": "running"}}
    shaped = shaped_filter(("test", "status"), lambda: condition(slot))
    direct = requests.condition_filter(lambda: condition(values_of(now)))
    for build in (shaped.builder(lambda: now), direct):
        expr = Expr()
        query = listing.PartitionQuery(*requests.index_keys(WorkflowRunIndexItem.gsi4), "WS#running#00")
        params = expr.apply(query.params(ascending=False, expr=expr, filter_expression=build(expr), limit=None))
        assert spelled(params, "FilterExpression") == (
            "((attribute_not_exists (ttl) OR ttl > (1800000000)) AND status = (running))")
        assert params["IndexName"] == "gsi4"


def test_a_rewrite_keeps_the_stored_creation_time_as_it_is() -> None:
    case = HEADS["resource and expiry"]
    body = body_of(case)
    fresh = workflow_writes.head_and_entry_puts("t", fields_of(case), body, current=None)
    kept = RunFields(workflow_name="wf#1", run_id="r~1", created_at={"S": keys.ts(NOW)}, status="running",
                     resource_id="res/1", expires_at=EXPIRES)
    rewrite = workflow_writes.head_and_entry_puts("t", kept, body, current=None)
    assert rewrite == fresh
