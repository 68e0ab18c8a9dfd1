"""Item mapping of the memory entities (thread, message, message pointer, resource).

Record fields are stored as top-level attributes named like Mastra's JSON (camelCase). A field that is
missing from a record is absent from the item, ``None`` is stored as NULL: the two stay distinct.
"""

from __future__ import annotations

from typing import Any

from mastra_dynamo.dynamo.codec import FieldKind, Item, decode_value, encode_json, encode_value
from mastra_dynamo.records.memory import Message, Resource, Thread
from mastra_dynamo.schema import keys

THREAD_FIELDS: dict[str, tuple[str, FieldKind]] = {
    "id": ("id", "str"),
    "resource_id": ("resourceId", "str"),
    "title": ("title", "str"),
    "created_at": ("createdAt", "datetime"),
    "updated_at": ("updatedAt", "datetime"),
    "metadata": ("metadata", "json"),
}
MESSAGE_FIELDS: dict[str, tuple[str, FieldKind]] = {
    "id": ("id", "str"),
    "role": ("role", "str"),
    "created_at": ("createdAt", "datetime"),
    "thread_id": ("threadId", "str"),
    "resource_id": ("resourceId", "str"),
    "type": ("type", "str"),
    "content": ("content", "json"),
}
RESOURCE_FIELDS: dict[str, tuple[str, FieldKind]] = {
    "id": ("id", "str"),
    "working_memory": ("workingMemory", "str"),
    "metadata": ("metadata", "json"),
    "created_at": ("createdAt", "datetime"),
    "updated_at": ("updatedAt", "datetime"),
}

ENTITY_THREAD = "thread"
ENTITY_MESSAGE = "message"
ENTITY_MESSAGE_REF = "message_ref"
ENTITY_RESOURCE = "resource"


def encode_fields(record: Any, fields: dict[str, tuple[str, FieldKind]], *, entity: str) -> Item:
    """Attributes of the fields that are set on ``record`` (unset optional fields stay absent)."""
    item: Item = {}
    present = record.model_fields_set
    for name, (attr, kind) in fields.items():
        value = getattr(record, name)
        if name not in present and value is None:
            continue
        item[attr] = encode_value(value, kind, field=f"{entity}.{attr}")
    return item


def decode_fields(item: Item, fields: dict[str, tuple[str, FieldKind]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name, (attr, kind) in fields.items():
        if attr in item:
            data[name] = decode_value(item[attr], kind)
    return data


# ------------------------------------------------------------------ threads
def thread_index_keys(thread_id: str, resource_id: str, created_ts: str) -> Item:
    """Listing entries of a thread: by resource (gsi5) and global, write-sharded (gsi6), both by creation time.
    Their projection is the keys, ``_et`` and ``ttl``: a message touching the thread never rewrites them."""
    cid = keys.component(thread_id)
    sk = f"{created_ts}#{cid}"
    return {
        "gsi5pk": {"S": keys.threads_by_resource_pk(resource_id)},
        "gsi5sk": {"S": sk},
        "gsi6pk": {"S": keys.threads_global_pk(keys.shard_of(thread_id, keys.GLOBAL_SHARDS))},
        "gsi6sk": {"S": sk},
    }


def thread_item(thread: Thread) -> Item:
    key = keys.thread_key(thread.id)
    item: Item = {"pk": {"S": key.pk}, "sk": {"S": key.sk}}
    item.update(encode_fields(thread, THREAD_FIELDS, entity=ENTITY_THREAD))
    item.update(thread_index_keys(thread.id, thread.resource_id, keys.ts(thread.created_at)))
    return item


def decode_thread(item: Item) -> Thread:
    return Thread.model_validate(decode_fields(item, THREAD_FIELDS))


# ------------------------------------------------------------------ messages
SHARED_TEXT = "_ct"
"""Set when ``content.content`` was the text of the text parts joined (``"<join>:<position of the key>"``):
that text is then stored once, in the parts, and put back when the message is read."""
TEXT_JOINS = ("", "\n")
CONTENT_COMPRESS_MIN_BYTES = 512
"""Message content at least this large is stored zlib-compressed when that is smaller (a message is written
and read on every turn, and billed per started KB)."""


def pack_content(content: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """``content`` without a ``content`` text that repeats its text parts, and the marker that restores it."""
    text, parts = content.get("content"), content.get("parts")
    if not isinstance(text, str) or not text or not isinstance(parts, list):
        return content, None
    texts = [p.get("text") for p in parts if isinstance(p, dict) and p.get("type") == "text"]
    if not texts or not all(isinstance(t, str) for t in texts):
        return content, None
    for mode, join in enumerate(TEXT_JOINS):
        if join.join(texts) == text:  # type: ignore[arg-type]
            position = list(content).index("content")
            return {k: v for k, v in content.items() if k != "content"}, f"{mode}:{position}"
    return content, None


def unpack_content(content: dict[str, Any], marker: str) -> dict[str, Any]:
    mode, position = (int(x) for x in marker.split(":"))
    texts = [p["text"] for p in content["parts"] if isinstance(p, dict) and p.get("type") == "text"]
    entries = list(content.items())
    entries.insert(position, ("content", TEXT_JOINS[mode].join(texts)))
    return dict(entries)


def message_item(message: Message) -> Item:
    assert message.thread_id is not None
    key = keys.message_key(message.thread_id, message.created_at, message.id)
    item: Item = {"pk": {"S": key.pk}, "sk": {"S": key.sk}}
    item.update(encode_fields(message, MESSAGE_FIELDS, entity=ENTITY_MESSAGE))
    packed, marker = pack_content(message.content)
    item["content"] = encode_json(packed, field="message.content", compress_min=CONTENT_COMPRESS_MIN_BYTES)
    if marker is not None:
        item[SHARED_TEXT] = {"S": marker}
    item["type"] = {"S": message.type}
    if isinstance(message.resource_id, str):  # a small entry: content changes never rewrite it
        item["gsi5pk"] = {"S": keys.messages_by_resource_pk(message.resource_id)}
        item["gsi5sk"] = {"S": keys.time_sk(message.created_at, message.id)}
    return item


def decode_message(item: Item) -> Message:
    data = decode_fields(item, MESSAGE_FIELDS)
    content = data.get("content")
    if content is None:
        data["content"] = {"format": 2, "parts": []}
    elif SHARED_TEXT in item:
        data["content"] = unpack_content(content, item[SHARED_TEXT]["S"])
    if data.get("resource_id", "") is None:
        data.pop("resource_id")
    return Message.model_validate(data)


def message_ref_item(message_id: str, thread_id: str, message_sk: str, resource_id: str | None) -> Item:
    """Pointer of a message: its thread and sort key, and its resource (``mr``, "" for none), which keeps the
    thread's message counters exact when the message is later replaced or deleted."""
    key = keys.message_ref_key(message_id)
    return {
        "pk": {"S": key.pk},
        "sk": {"S": key.sk},
        "threadId": {"S": thread_id},
        "msk": {"S": message_sk},
        "mr": {"S": resource_id or ""},
    }


# ------------------------------------------------------------------ resources
def resource_item(resource: Resource) -> Item:
    key = keys.resource_key(resource.id)
    item: Item = {"pk": {"S": key.pk}, "sk": {"S": key.sk}}
    item.update(encode_fields(resource, RESOURCE_FIELDS, entity=ENTITY_RESOURCE))
    item["gsi6pk"] = {"S": keys.resources_global_pk(keys.shard_of(resource.id, keys.GLOBAL_SHARDS))}
    item["gsi6sk"] = {"S": keys.time_sk(resource.created_at, resource.id)}
    return item


def decode_resource(item: Item) -> Resource:
    return Resource.model_validate(decode_fields(item, RESOURCE_FIELDS))
