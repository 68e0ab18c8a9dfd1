"""The memory models store exactly the items the memory domain stored before the models (no migration).

``reference_*`` below are the item builders of ``stores/memory/items.py`` + ``DynamoDomain.stamp`` as they
were before the models; every model must serialize to the same item, and read items written by them back to
the same records.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote

import pytest
from pynamodb.constants import ALL_NEW
from pynamodb.exceptions import AttributeNullError
from pynamodb.expressions.operand import Value

from mastra_dynamo.dynamo.codec import FieldKind, Item, decode_json, decode_value, encode_json, encode_value
from mastra_dynamo.errors import ValidationError
from mastra_dynamo.models import requests
from mastra_dynamo.models.base import TableItem, epoch_datetime
from mastra_dynamo.models.memory import (
    CONTENT_COMPRESS_MIN_BYTES,
    NULL,
    SHARED_TEXT,
    MemoryItem,
    MessageItem,
    MessageRefItem,
    ResourceItem,
    ThreadItem,
    pack_content,
    unpack_content,
)
from mastra_dynamo.records.memory import Message, Resource, Thread
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.table import TABLE_SPEC
from mastra_dynamo.stores.memory import counts, templates
from mastra_dynamo.stores.memory.actions import delete_action, put_action, touch_action, unchanged
from mastra_dynamo.stores.memory.templates import MARKER_KEY
from mastra_dynamo.stores.memory.threads import upsert_request
from tests.unit.pynamodb_reference import pynamodb_serialize

NOW = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
LATER = datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC)
EXPIRES = 1_900_000_000

_ESCAPES = str.maketrans({"%": "%25", "#": "%23", "~": "%7E"})

# ---------------------------------------------------------------------------- the layout before the models
THREAD_FIELDS: dict[str, tuple[str, FieldKind]] = {
    "id": ("id", "str"), "resource_id": ("resourceId", "str"), "title": ("title", "str"),
    "created_at": ("createdAt", "datetime"), "updated_at": ("updatedAt", "datetime"),
    "metadata": ("metadata", "json"),
}
MESSAGE_FIELDS: dict[str, tuple[str, FieldKind]] = {
    "id": ("id", "str"), "role": ("role", "str"),
    "thread_id": ("threadId", "str"), "resource_id": ("resourceId", "str"), "type": ("type", "str"),
    "content": ("content", "json"),
}
"""A message's stored fields; ``createdAt`` is the time in its sort key (``M#<ts>#<id>``)."""
RESOURCE_FIELDS: dict[str, tuple[str, FieldKind]] = {
    "id": ("id", "str"), "working_memory": ("workingMemory", "str"), "metadata": ("metadata", "json"),
    "created_at": ("createdAt", "datetime"), "updated_at": ("updatedAt", "datetime"),
}


def encode_fields(record: Any, fields: dict[str, tuple[str, FieldKind]], *, entity: str) -> Item:
    item: Item = {}
    present = record.model_fields_set
    for name, (attr, kind) in fields.items():
        value = getattr(record, name)
        if name not in present and value is None:
            continue
        item[attr] = encode_value(value, kind, field=f"{entity}.{attr}")
    return item


def decode_fields(item: Item, fields: dict[str, tuple[str, FieldKind]]) -> dict[str, Any]:
    return {name: decode_value(item[attr], kind) for name, (attr, kind) in fields.items() if attr in item}


def stamp(item: Item, entity: str, expires_at: int | None) -> Item:
    item["_et"] = {"S": entity}
    item["_sv"] = {"N": str(TABLE_SPEC.schema_version)}
    if expires_at is not None:
        item["ttl"] = {"N": str(expires_at)}
    return item


def reference_thread(thread: Thread, expires_at: int | None = None) -> Item:
    key = keys.thread_key(thread.id)
    item: Item = {"pk": {"S": key.pk}, "sk": {"S": key.sk}}
    item.update(encode_fields(thread, THREAD_FIELDS, entity="thread"))
    sk = f"{keys.ts(thread.created_at)}#{keys.component(thread.id)}"
    item.update({"gsi5pk": {"S": keys.threads_by_resource_pk(thread.resource_id)}, "gsi5sk": {"S": sk},
                 "gsi6pk": {"S": keys.threads_global_pk(keys.shard_of(thread.id, keys.GLOBAL_SHARDS))},
                 "gsi6sk": {"S": sk}})
    return stamp(item, "thread", expires_at)


def reference_message(message: Message, expires_at: int | None = None) -> Item:
    assert message.thread_id is not None
    key = keys.message_key(message.thread_id, message.created_at, message.id)
    item: Item = {"pk": {"S": key.pk}, "sk": {"S": key.sk}}
    item.update(encode_fields(message, MESSAGE_FIELDS, entity="message"))
    # the keys give the ids back unless they hold them hashed (longer than keys.MAX_COMPONENT_BYTES)
    if len(message.id.translate(_ESCAPES).encode()) <= 256:
        del item["id"]
    if len(message.thread_id.translate(_ESCAPES).encode()) <= 256:
        del item["threadId"]
    packed, marker = pack_content(message.content)
    item["content"] = encode_json(packed, field="message.content", compress_min=CONTENT_COMPRESS_MIN_BYTES)
    if marker is not None:
        item[SHARED_TEXT] = {"S": marker}
    item["type"] = {"S": message.type}  # a message is in no index
    return stamp(item, "message", expires_at)


def reference_decode_message(item: Item) -> Message:
    data = decode_fields(item, MESSAGE_FIELDS)
    _, stamp_text, id_text = item["sk"]["S"].split("#")
    data["created_at"] = datetime.fromisoformat(stamp_text)
    data.setdefault("id", unquote(id_text))
    data.setdefault("thread_id", unquote(item["pk"]["S"].split("#")[1]))
    content = data.get("content")
    if content is None:
        data["content"] = {"format": 2, "parts": []}
    elif SHARED_TEXT in item:
        data["content"] = unpack_content(content, item[SHARED_TEXT]["S"])
    if data.get("resource_id", "") is None:
        data.pop("resource_id")
    return Message.model_validate(data)


def reference_ref(message_id: str, thread_id: str, message_sk: str, resource_id: str | None,
                  expires_at: int | None = None) -> Item:
    key = keys.message_ref_key(message_id)
    return stamp({"pk": {"S": key.pk}, "sk": {"S": key.sk}, "threadId": {"S": thread_id}, "msk": {"S": message_sk},
                  "mr": {"S": resource_id or ""}}, "message_ref", expires_at)


def reference_resource(resource: Resource, expires_at: int | None = None) -> Item:
    key = keys.resource_key(resource.id)
    item: Item = {"pk": {"S": key.pk}, "sk": {"S": key.sk}}
    item.update(encode_fields(resource, RESOURCE_FIELDS, entity="resource"))
    item["gsi6pk"] = {"S": keys.resources_global_pk(keys.shard_of(resource.id, keys.GLOBAL_SHARDS))}
    item["gsi6sk"] = {"S": keys.time_sk(resource.created_at, resource.id)}
    return stamp(item, "resource", expires_at)


# ---------------------------------------------------------------------------- records
BIG = "x" * 40_000
TEXT = "a typical answer " * 40

THREADS = {
    "minimal": Thread(id="t1", resource_id="u1", created_at=NOW, updated_at=LATER),
    "title and metadata": Thread(id="t#%~1", resource_id="u#1", title="héllo ✓", metadata={"a": [1, 1.5, None]},
                                 created_at=NOW, updated_at=LATER),
    "explicit None": Thread(id="t2", resource_id="u1", title=None, metadata=None, created_at=NOW, updated_at=NOW),
    "compressed metadata": Thread(id="t3", resource_id="u1", metadata={"big": BIG}, created_at=NOW, updated_at=NOW),
    "empty strings": Thread(id="t4", resource_id="u1", title="", metadata={"": ""}, created_at=NOW, updated_at=NOW),
}
MESSAGES = {
    "shared text": Message(id="m1", role="user", thread_id="t1", resource_id="u1", created_at=NOW, content=TEXT),
    "newline join": Message(id="m2", role="assistant", thread_id="t1", created_at=NOW,
                            content={"format": 2, "content": "a\nb", "parts": [{"type": "text", "text": "a"},
                                                                            {"type": "text", "text": "b"}]}),
    "own text": Message(id="m#3", role="tool", thread_id="t#1", resource_id="u~1", type="v2", created_at=NOW,
                        content={"format": 2, "content": "other", "parts": [{"type": "text", "text": "x"}],
                                 "metadata": {"k": 1}}),
    "small, no resource": Message(id="m4", role="system", thread_id="t1", created_at=NOW,
                                  content={"format": 2, "parts": []}),
    "compressed": Message(id="m5", role="user", thread_id="t1", resource_id="u1", created_at=NOW,
                          content={"format": 2, "parts": [{"type": "tool-invocation", "data": BIG}]}),
    "escaped ids": Message(id="%23~%#", role="user", thread_id="~t%7E#", created_at=NOW, content="hi"),
    "hashed ids": Message(id="m" * 300, role="user", thread_id="t" + "é" * 200, created_at=NOW, content="hi"),
}
RESOURCES = {
    "minimal": Resource(id="u1", created_at=NOW, updated_at=LATER),
    "working memory": Resource(id="u#1", working_memory="# notes\n- tea", metadata={"x": {"y": [1]}},
                               created_at=NOW, updated_at=LATER),
    "explicit None": Resource(id="u2", working_memory=None, metadata=None, created_at=NOW, updated_at=NOW),
    "compressed": Resource(id="u3", working_memory=BIG, metadata={"big": BIG}, created_at=NOW, updated_at=NOW),
}


@pytest.mark.parametrize("expires_at", [None, EXPIRES])
@pytest.mark.parametrize("shape", list(THREADS))
def test_a_thread_item_serializes_to_the_stored_layout(shape: str, expires_at: int | None) -> None:
    thread = THREADS[shape]
    raw = ThreadItem.new(thread, expires_at=expires_at).serialize()
    assert raw == reference_thread(thread, expires_at)
    back = ThreadItem.record_from_raw(raw)
    assert back == thread and back.model_fields_set == Thread.model_validate(
        decode_fields(raw, THREAD_FIELDS)).model_fields_set


@pytest.mark.parametrize("shape", list(MESSAGES))
def test_a_message_item_stores_its_time_once_and_reads_items_that_stored_it_twice(shape: str) -> None:
    """``createdAt`` is the sort key's time; an item written when it was also an attribute reads the same."""
    message = MESSAGES[shape]
    raw = MessageItem.item_of(message)
    assert "createdAt" not in raw and MessageItem.created_of(raw) == message.created_at
    older = {**raw, "createdAt": {"S": keys.ts(message.created_at)}}
    assert MessageItem.record_from_raw(older) == MessageItem.record_from_raw(raw) == message
    assert MessageItem.from_raw_data(older).created_at == message.created_at


@pytest.mark.parametrize("shape", list(MESSAGES))
def test_a_message_item_stores_its_ids_only_when_its_keys_hold_them_hashed(shape: str) -> None:
    """The keys give ``id`` and ``threadId`` back (escapes undone); a hashed one is stored; an item written
    when both were always stored reads the same."""
    message = MESSAGES[shape]
    raw = MessageItem.item_of(message)
    hashed = shape == "hashed ids"
    assert ("id" in raw, "threadId" in raw) == (hashed, hashed)
    assert MessageItem.id_of(raw) == MessageItem.id_of({"sk": raw["sk"], **({"id": raw["id"]} if hashed else {})})
    assert MessageItem.id_of(raw) == message.id
    older = {**raw, "id": {"S": message.id}, "threadId": {"S": message.thread_id}}
    assert MessageItem.record_from_raw(older) == MessageItem.record_from_raw(raw) == message


@pytest.mark.parametrize("value", ["m1", "", "#", "%", "~", "%23", "a#b%c~d", "%7E%25#~~", "é#✓"])
def test_a_key_component_gives_its_value_back(value: str) -> None:
    assert keys.value_of(keys.component(value)) == value
    if value:
        assert keys.value_of(keys.component(value * 300)) is None  # hashed: not given back


@pytest.mark.parametrize("expires_at", [None, EXPIRES])
@pytest.mark.parametrize("shape", list(MESSAGES))
def test_a_message_item_serializes_to_the_stored_layout(shape: str, expires_at: int | None) -> None:
    message = MESSAGES[shape]
    raw = MessageItem.new(message, expires_at=expires_at).serialize()
    assert raw == reference_message(message, expires_at)
    assert MessageItem.record_from_raw(raw) == reference_decode_message(raw) == message
    assert list(MessageItem.record_from_raw(raw).content) == list(message.content)
    revised = MessageItem.new(message, revision="r1").serialize()
    assert revised == {**reference_message(message), "_rev": {"S": "r1"}}


@pytest.mark.parametrize("expires_at", [None, EXPIRES])
@pytest.mark.parametrize("shape", list(MESSAGES))
def test_a_message_item_encoded_without_an_instance_is_the_same(shape: str, expires_at: int | None) -> None:
    message = MESSAGES[shape]
    for revision in (None, "r1"):
        raw = MessageItem.item_of(message, expires_at=expires_at, revision=revision)
        assert raw == MessageItem.new(message, expires_at=expires_at, revision=revision).serialize()
    assert MessageItem.item_of(message) == reference_message(message)


@pytest.mark.parametrize("created_at", [datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
                                        datetime(2026, 1, 2, 3, 4, 5)])
def test_a_message_created_outside_utc_keeps_its_sort_key_and_stored_time(created_at: datetime) -> None:
    message = Message(id="m1", role="user", thread_id="t1", content="x")
    message.created_at = created_at  # assigned past validation: the key keeps the given fields, createdAt is UTC
    assert MessageItem.item_of(message) == MessageItem.new(message).serialize()


def test_message_items_written_with_null_or_without_content_read_as_before() -> None:
    raw = reference_message(MESSAGES["shared text"])
    for variant in ({**raw, "resourceId": {"NULL": True}}, {k: v for k, v in raw.items() if k != "content"},
                    {**raw, "content": {"NULL": True}}, {k: v for k, v in raw.items() if k != SHARED_TEXT}):
        assert MessageItem.record_from_raw(variant) == reference_decode_message(variant)


def test_a_large_message_content_is_stored_compressed() -> None:
    raw = MessageItem.new(MESSAGES["compressed"]).serialize()
    assert set(raw["content"]) == {"B"} and decode_json(raw["content"]) == MESSAGES["compressed"].content
    assert set(MessageItem.new(MESSAGES["shared text"]).serialize()["content"]) == {"B"}  # 512 bytes and up


@pytest.mark.parametrize("resource_id", ["u1", None, ""])
@pytest.mark.parametrize("expires_at", [None, EXPIRES])
def test_a_pointer_serializes_to_the_stored_layout(resource_id: str | None, expires_at: int | None) -> None:
    raw = MessageRefItem.new("m#1", "t1", "M#x#m%231", resource_id, expires_at=expires_at).serialize()
    assert raw == reference_ref("m#1", "t1", "M#x#m%231", resource_id, expires_at)
    for chunked in (False, True):
        assert MessageRefItem.item_of("m#1", "t1", "M#x#m%231", resource_id, expires_at=expires_at,
                                      chunked=chunked) == MessageRefItem.new(
            "m#1", "t1", "M#x#m%231", resource_id, expires_at=expires_at, chunked=chunked).serialize()
    assert MessageRefItem.location(raw) == ("t1", "M#x#m%231")
    assert counts.ref_of_pointer(raw) == (resource_id or "")
    assert counts.ref_of_pointer({k: v for k, v in raw.items() if k != "mr"}) is counts.UNKNOWN


@pytest.mark.parametrize("expires_at", [None, EXPIRES])
@pytest.mark.parametrize("shape", list(RESOURCES))
def test_a_resource_item_serializes_to_the_stored_layout(shape: str, expires_at: int | None) -> None:
    resource = RESOURCES[shape]
    raw = ResourceItem.new(resource, expires_at=expires_at).serialize()
    assert raw == reference_resource(resource, expires_at)
    back = ResourceItem.record_from_raw(raw)
    assert back == resource
    assert back.model_fields_set == Resource.model_validate(decode_fields(raw, RESOURCE_FIELDS)).model_fields_set


def test_thread_counters_and_revision_are_model_attributes() -> None:
    thread = THREADS["minimal"]
    raw = ThreadItem.new(thread, revision=1, counters=counts.initial(["u1", "u1", None])).serialize()
    assert raw == {**reference_thread(thread), "_rev": {"N": "1"}, "_mc": {"N": "3"}, "_mcr": {"S": "u1"},
                   "_mcx": {"N": "1"}}
    assert counts.read(raw) == counts.Counters(3, "u1", 1)
    assert counts.read({**raw, "_mcr": {"S": ""}}) == counts.Counters(3, "", 1)
    assert counts.read(reference_thread(thread)) is None


def test_text_that_is_not_unicode_is_rejected_naming_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        ThreadItem.new(Thread(id="t1", resource_id="u1", title="\ud800")).serialize()
    assert caught.value.details == {"field": "thread.title"}
    with pytest.raises(ValidationError) as caught:
        MessageItem.new(Message(id="m1", role="user", thread_id="t1", type="\ud800", content="x")).serialize()
    assert caught.value.details == {"field": "message.type"}
    bad = [Message(id="m\ud800", role="user", thread_id="t\ud800", type="\ud800", content={"x": float("nan")}),
           Message(id="m\ud800", role="user", thread_id="t\ud800", type="\ud800", content="x"),
           Message(id="m1", role="user", thread_id="t\ud800", resource_id="\ud800", content="x")]
    untyped = Message(id="m1", role="user", thread_id="t1", content="x")
    untyped.type = None  # type: ignore[assignment]  # past validation: a required attribute without a value
    with pytest.raises(AttributeNullError):
        MessageItem.item_of(untyped)
    for message in bad:  # the first attribute serialize() checks is the one named, without an instance too
        with pytest.raises(ValidationError) as caught:
            MessageItem.new(message).serialize()
        with pytest.raises(ValidationError) as again:
            MessageItem.item_of(message)
        assert again.value.details == caught.value.details


# ---------------------------------------------------------------------------- the cheap paths are PynamoDB's
ALL_ITEMS = [
    *(ThreadItem.new(t, expires_at=EXPIRES, revision=2) for t in THREADS.values()),
    *(MessageItem.new(m, revision="r") for m in MESSAGES.values()),
    MessageRefItem.new("m1", "t1", "M#1", None), MessageRefItem.new("m1", "t1", "M#1", "u1", expires_at=EXPIRES),
    *(ResourceItem.new(r) for r in RESOURCES.values()),
]


@pytest.mark.parametrize("item", ALL_ITEMS, ids=lambda i: type(i).__name__)
def test_the_cheap_constructor_and_serializer_equal_pynamodbs(item: MemoryItem) -> None:
    values = {name: value for name, value in item.attribute_values.items() if name not in ("pk", "sk")}
    constructed = type(item)(item.pk, item.sk, **values)
    assert constructed.attribute_values == item.attribute_values
    assert item.serialize() == pynamodb_serialize(constructed)
    loaded = type(item).from_raw_data(item.serialize())  # reads NULL as absent: records use present()
    assert pynamodb_serialize(loaded) == {k: v for k, v in item.serialize().items() if "NULL" not in v}


def test_null_values_are_stored_as_null() -> None:
    item = ThreadItem.build(keys.thread_key("t"), {"id": "t", "resource_id": "u", "title": NULL, "metadata": NULL,
                                                   "created_at": NOW, "updated_at": NOW})
    raw = item.serialize()
    assert raw["title"] == {"NULL": True} and raw["metadata"] == {"NULL": True}
    assert ThreadItem.decode_present(raw, (("title", "title"), ("metadata", "metadata"))) == {"title": None,
                                                                                      "metadata": None}


# ---------------------------------------------------------------------------- templates are PynamoDB's requests
def spelled(request: dict[str, Any]) -> dict[str, Any]:
    """A request with its placeholders replaced by what they stand for (placeholder numbering aside)."""
    names = request.get("ExpressionAttributeNames", {})
    values = request.get("ExpressionAttributeValues", {})
    out = {k: v for k, v in request.items() if k not in ("ExpressionAttributeNames", "ExpressionAttributeValues")}
    def spell(match: re.Match[str]) -> str:
        placeholder = match.group(0)
        return names[placeholder] if placeholder.startswith("#") else repr(values[placeholder])

    for field in ("ConditionExpression", "UpdateExpression"):
        if field in out:
            out[field] = re.sub(r"[#:]\d+", spell, out[field])
    return out


@pytest.mark.parametrize("update", [counts.Update("absent"), counts.Update("remove"), counts.Update("add", 2, 0, "u"),
                                    counts.Update("add", 1, 1, "")])
@pytest.mark.parametrize("alive_at", [None, 1_800_000_000])
def test_a_thread_touch_is_the_request_pynamodb_builds(update: counts.Update, alive_at: int | None) -> None:
    key = keys.thread_key("t#1")
    for table in ("table-a", "table-b"):
        bound = touch_action(table, "t#1", NOW, update, alive_at=alive_at)
        actions: list[Any] = [ThreadItem.updated_at.set(NOW), ThreadItem.revision.add(1)]
        condition = ThreadItem.pk.exists()
        if alive_at is not None:
            condition &= ThreadItem.not_expired(alive_at)
        condition &= ThreadItem.updated_at < NOW
        if update.mode == "absent":
            condition &= ThreadItem.message_count.does_not_exist()
        elif update.mode == "remove":
            actions += [ThreadItem.message_count.remove(), ThreadItem.counted_resource.remove(),
                        ThreadItem.foreign_count.remove()]
        else:
            actions.append(ThreadItem.message_count.add(update.total))
            if update.foreign:
                actions.append(ThreadItem.foreign_count.add(update.foreign))
            condition &= ThreadItem.counted_resource == update.ref
        direct = requests.transact("Update", requests.update_key(table, key, actions, condition=condition))
        assert spelled(bound["Update"]) == spelled(direct["Update"])


def test_a_conditional_put_is_the_request_pynamodb_builds() -> None:
    item = MessageItem.new(MESSAGES["shared text"])
    raw = item.serialize()
    assert put_action("t", raw, "absent") == requests.transact("Put", requests.put_item(
        "t", item, condition=TableItem.pk.does_not_exist()))
    bound = put_action("t", raw, "absent_or_expired", now=epoch_datetime(1_800_000_000))
    direct = requests.put_item("t", item, condition=TableItem.pk.does_not_exist()
                               | ~TableItem.not_expired(1_800_000_000))
    assert spelled(bound["Put"]) == spelled(direct)
    assert put_action("t", raw) == {"Put": {"TableName": "t", "Item": raw}}


@pytest.mark.parametrize("shape", list(THREADS))
def test_a_thread_upsert_sets_the_record_and_keeps_the_counters(shape: str) -> None:
    thread = THREADS[shape]
    raw = ThreadItem.new(thread).serialize()
    request = upsert_request("t", ThreadItem, raw, 1_800_000_000)
    text = spelled(request)
    assert request["Key"] == {"pk": raw["pk"], "sk": raw["sk"]} and request["ReturnValues"] == ALL_NEW
    assert text["ConditionExpression"] == ("(attribute_not_exists (pk) OR (attribute_not_exists (ttl) OR "
                                           "ttl > {'N': '1800000000'}))")
    update = text["UpdateExpression"]
    for attr in ("createdAt", "gsi5sk", "gsi6sk"):
        assert f"{attr} = if_not_exists ({attr}, {raw[attr]!r})" in update
    for attr in ("id", "resourceId", "updatedAt", "gsi5pk", "gsi6pk", "_et", "_sv"):
        assert f"{attr} = {raw[attr]!r}" in update
    assert "_rev = if_not_exists (_rev, {'N': '0'}) + {'N': '1'}" in update
    removed = set(update.split(" REMOVE ")[1].split(" ADD ")[0].split(", ")) if " REMOVE " in update else set()
    assert removed == {"title", "metadata", "ttl"} - set(raw)
    assert not any(c in update for c in ("_mc", "_mcr", "_mcx", "_mcz"))


def test_the_marker_key_never_reaches_a_request() -> None:
    request = upsert_request("t", ResourceItem, ResourceItem.new(RESOURCES["minimal"]).serialize(), 1)
    assert MARKER_KEY.pk not in repr(request) and "\x00" not in repr(request)
    assert "\x00" not in repr(touch_action("t", "x", NOW, counts.Update("add", 1, 1, "u"), alive_at=1))
    flt = templates.listing_filter("test alive", lambda: TableItem.not_expired(templates.slot("now", TableItem.ttl)),
                                   now=epoch_datetime(5))

    class Names:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}

    holder = Names()
    assert flt(holder) == "(attribute_not_exists (#0) OR #0 > :0)"
    assert holder.names == {"#0": "ttl"} and holder.values == {":0": {"N": "5"}}


@pytest.mark.parametrize("revision", [{"S": "abc"}, {"N": "7"}, None])
def test_an_update_is_conditioned_on_the_revision_that_was_read(revision: dict[str, str] | None) -> None:
    item = MessageItem.new(MESSAGES["shared text"], revision="new")
    raw = item.serialize()
    read = {k: v for k, v in raw.items() if k != "_rev"} if revision is None else {**raw, "_rev": revision}
    condition = (TableItem.pk.exists() if revision is None
                 else MessageItem.revision == Value(revision))
    bound = put_action("t", raw, unchanged(read), typed=read)
    assert spelled(bound["Put"]) == spelled(requests.put_item("t", item, condition=condition))
    key = keys.message_key("t1", NOW, "m1")
    deleted = delete_action("t", key, unchanged(read), typed=read)
    assert spelled(deleted["Delete"]) == spelled(requests.delete_item("t", key, condition=condition))


def test_a_pointer_write_is_conditioned_on_the_location_that_was_read() -> None:
    key = keys.message_ref_key("m1")
    bound = delete_action("t", key, "pointing_at", msk="M#1", thread="t#1")
    direct = requests.delete_item("t", key, condition=(MessageRefItem.message_sk == "M#1")
                                  & (MessageRefItem.thread_id == "t#1"))
    assert spelled(bound["Delete"]) == spelled(direct)
    assert delete_action("t", key) == {"Delete": requests.delete_item("t", key)}
