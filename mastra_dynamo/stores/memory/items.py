"""Item mapping of the memory entities (thread, message, message pointer, resource).

Record fields are stored as top-level attributes named like Mastra's JSON (camelCase). A field that is
missing from a record is absent from the item, ``None`` is stored as NULL: the two stay distinct.
"""

from __future__ import annotations

from typing import Any

from mastra_dynamo.dynamo.codec import FieldKind, Item, decode_value, encode_value
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
def thread_index_keys(thread_id: str, resource_id: str, created_ts: str | None, updated_ts: str) -> Item:
    shard = keys.shard_of(thread_id, keys.GLOBAL_SHARDS)
    cid = keys.component(thread_id)
    item: Item = {
        "gsi1pk": {"S": keys.threads_by_resource_pk(resource_id)},
        "gsi2pk": {"S": keys.threads_by_resource_pk(resource_id)},
        "gsi2sk": {"S": f"{updated_ts}#{cid}"},
        "gsi3pk": {"S": keys.threads_global_pk(shard)},
        "gsi4pk": {"S": keys.threads_global_pk(shard)},
        "gsi4sk": {"S": f"{updated_ts}#{cid}"},
    }
    if created_ts is not None:
        item["gsi1sk"] = {"S": f"{created_ts}#{cid}"}
        item["gsi3sk"] = {"S": f"{created_ts}#{cid}"}
    return item


def thread_item(thread: Thread) -> Item:
    key = keys.thread_key(thread.id)
    item: Item = {"pk": {"S": key.pk}, "sk": {"S": key.sk}}
    item.update(encode_fields(thread, THREAD_FIELDS, entity=ENTITY_THREAD))
    item.update(thread_index_keys(thread.id, thread.resource_id, keys.ts(thread.created_at),
                                  keys.ts(thread.updated_at)))
    return item


def decode_thread(item: Item) -> Thread:
    return Thread.model_validate(decode_fields(item, THREAD_FIELDS))


# ------------------------------------------------------------------ messages
def message_item(message: Message) -> Item:
    assert message.thread_id is not None
    key = keys.message_key(message.thread_id, message.created_at, message.id)
    item: Item = {"pk": {"S": key.pk}, "sk": {"S": key.sk}}
    item.update(encode_fields(message, MESSAGE_FIELDS, entity=ENTITY_MESSAGE))
    item["type"] = {"S": message.type}
    if isinstance(message.resource_id, str):
        item["gsi1pk"] = {"S": keys.messages_by_resource_pk(message.resource_id)}
        item["gsi1sk"] = {"S": keys.time_sk(message.created_at, message.id)}
    return item


def decode_message(item: Item) -> Message:
    data = decode_fields(item, MESSAGE_FIELDS)
    content = data.get("content")
    if content is None:
        data["content"] = {"format": 2, "parts": []}
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
    item["gsi3pk"] = {"S": keys.resources_global_pk(keys.shard_of(resource.id, keys.GLOBAL_SHARDS))}
    item["gsi3sk"] = {"S": keys.time_sk(resource.created_at, resource.id)}
    return item


def decode_resource(item: Item) -> Resource:
    return Resource.model_validate(decode_fields(item, RESOURCE_FIELDS))
