"""The stored form of the memory entities (docs/access-patterns.md 2.1): thread, message, message pointer,
resource.

Record fields are top-level attributes named like Mastra's JSON (camelCase). A field missing from a record
is absent from the item; a field set to ``None`` is stored as NULL (``thread.title``, ``thread.metadata``,
``resource.workingMemory``, ``resource.metadata``): the two stay distinct and read back as they were written
(``TableItem.decode_present``). JSON fields are JSON text, compressed at 16 KB (message content: 192 bytes)
when that is smaller (:class:`JsonAttribute`); times are fixed-width UTC text (:class:`TimestampAttribute`).

* **Thread** ``T#<thread>`` / ``T``: the record, its revision ``_rev`` (a number) and its message counters
  (``_mc``, ``_mcr``, ``_mcx``, ``_mcz``: see stores/memory/counts.py) and its linked resources (``_rl``).
  Index entries by resource (gsi5) and global, write-sharded (gsi6), both by creation time. Their projection
  is the keys, ``_et`` and ``ttl``: a message touching the thread never rewrites them.
* **Message** ``T#<thread>`` / ``M#<createdAt>#<id>``: in its thread's item collection. ``createdAt`` is the
  sort key's time and is not stored apart (items written while it was still carry it, and it is read); so
  are ``id`` and ``threadId``, which the keys give back unless they hold them hashed (then they are stored).
  ``content`` is stored without a ``content.content`` text that repeats its text parts
  (:func:`pack_content`; ``_ct`` says how to put it back), compressed from 192 bytes when that is smaller.
  ``_rev`` is a random 12-character text per write (the condition of updates). A message is in no index.
* **Resource link** ``T#<thread>`` / ``L#<resource>``: the thread holds (or held) messages of that resource;
  its gsi5 entry (``MR#<resource>``) lists a resource's threads for ``list_messages_by_resource_id``. Written
  once per (thread, resource), in the transaction of the first such message; the thread item records the
  linked resources (``_rl``, a string set) so later writes neither repeat it nor read anything to know.
* **Message content parts** ``MC#<id>`` / ``<generation>#<index>``: the compressed content of a message whose
  item would pass ~390 KB (files as data URLs), in slices of 350 KB; the message item then holds no content
  but the generation (``_cg``, a digest of the content) and the part count (``_cn``).
* **Message pointer** ``MI#<id>`` / ``MI``: the thread (``threadId``) and sort key (``msk``) of the message,
  and its resource (``mr``, ``""`` for none), which keeps the thread's message counters exact when the
  message is later replaced or deleted.
* **Resource** ``R#<resource>`` / ``R``: the record and its revision ``_rev`` (a number); a write-sharded
  global index entry (gsi6) by creation time.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from operator import itemgetter
from typing import Any, ClassVar, Final

from pynamodb.attributes import BinaryAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.constants import NULL as NULL_TYPE
from pynamodb.constants import STRING
from pynamodb.exceptions import AttributeNullError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path, Value

from mastra_dynamo.dynamo.codec import (
    SAFE_ITEM_BYTES,
    AttributeValue,
    Item,
    check_item_size,
    compress,
    encode_json,
    item_size,
)
from mastra_dynamo.errors import ItemTooLargeError, ValidationError
from mastra_dynamo.models.attributes import JsonAttribute, SelfTypedAttribute, TimestampAttribute
from mastra_dynamo.models.base import TableItem, epoch_datetime
from mastra_dynamo.models.layout import layout_of
from mastra_dynamo.records.base import validated
from mastra_dynamo.records.memory import Message, Resource, Thread
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.keys import Key
from mastra_dynamo.validate import utf8_size

ENTITY_THREAD = "thread"
ENTITY_MESSAGE = "message"
ENTITY_MESSAGE_REF = "message_ref"
ENTITY_RESOURCE_LINK = "resource_link"
ENTITY_MESSAGE_PART = "message_part"
ENTITY_RESOURCE = "resource"


# ---------------------------------------------------------------------------- attributes
class _StoredNull:
    """The value of an attribute that is stored as NULL (a record field set to ``None``)."""

    def __repr__(self) -> str:
        return "NULL"


NULL: Final = _StoredNull()
_NULL_VALUE: Final[AttributeValue] = {NULL_TYPE: True}


class TextAttribute(UnicodeAttribute):
    """A string record field: text that has no UTF-8 form is a ValidationError naming ``field``."""

    def __init__(self, *, field: str, null: bool | None = None, attr_name: str | None = None) -> None:
        super().__init__(null=null, attr_name=attr_name)
        self.field = field

    def serialize(self, value: str) -> str:
        if not isinstance(value, str):
            raise ValidationError(f"field {self.field!r} must be a string", code="INVALID_INPUT",
                                  details={"field": self.field})
        utf8_size(value, field=self.field)
        return value


class NullableTextAttribute(SelfTypedAttribute):
    """A string record field that may be stored as NULL (Python value :data:`NULL`)."""

    def __init__(self, *, field: str, attr_name: str | None = None) -> None:
        super().__init__(null=True, attr_name=attr_name)
        self.text = TextAttribute(field=field)

    def encode(self, value: Any) -> AttributeValue:
        return _NULL_VALUE if value is NULL or value is None else {STRING: self.text.serialize(value)}

    def deserialize(self, value: AttributeValue) -> str | None:
        text: str | None = value.get(STRING)
        return text

    def equals(self, text: str | Value) -> Condition:
        """Condition: the attribute holds the string ``text`` (or the serialized Value given)."""
        condition: Condition = Path(self) == (text if isinstance(text, Value) else Value(self.encode(text)))
        return condition


class NullableJsonAttribute(JsonAttribute):
    """A JSON record field that may be stored as NULL (Python value :data:`NULL`); ``compress_min``: the size
    from which the JSON text is stored compressed when that is smaller."""

    def __init__(self, *, field: str, compress_min: int | None = None, null: bool | None = True,
                 attr_name: str | None = None) -> None:
        super().__init__(field=field, null=null, attr_name=attr_name)
        self.compress_min = compress_min

    def encode(self, value: Any) -> AttributeValue:
        if value is NULL:
            return _NULL_VALUE
        if self.compress_min is None:
            return encode_json(value, field=self.field)
        return encode_json(value, field=self.field, compress_min=self.compress_min)


# ---------------------------------------------------------------------------- the common part
class MemoryItem(TableItem):
    """What the memory models share: the record fields stored as attributes, reads of a stored item's key and
    expiry."""

    RECORD: ClassVar[tuple[tuple[str, str], ...]] = ()
    """(record field, attribute) of the record fields stored as top-level attributes."""

    @staticmethod
    def sort_key(raw: Item) -> str:
        """The sort key of a stored item."""
        text: str = _SK_VALUE(raw[_SK_NAME])
        return text

    @staticmethod
    def key_of(raw: Item) -> Key:
        """The key of a stored item."""
        return Key(_PK_VALUE(raw[_PK_NAME]), _SK_VALUE(raw[_SK_NAME]))

    @staticmethod
    def expires_of(raw: Item) -> int | None:
        """The ``ttl`` of a stored item (epoch seconds; None when it has none)."""
        value = raw.get(TableItem.ttl.attr_name)
        if value is None or NULL_TYPE in value:
            return None
        expires: datetime = TableItem.ttl.deserialize(TableItem.ttl.get_value(value))  # type: ignore[no-untyped-call]
        return int(expires.timestamp())

    @classmethod
    def record_values(cls, record: Any) -> dict[str, Any]:
        """The model values of the record fields set on ``record`` (a field set to None: :data:`NULL`; an
        unset optional field: absent)."""
        values: dict[str, Any] = {}
        present = record.model_fields_set
        for field, name in cls.RECORD:
            value = getattr(record, field)
            if value is None:
                if field not in present:
                    continue
                value = NULL
            values[name] = value
        return values


_PK, _SK = TableItem.pk, TableItem.sk
_PK_NAME, _SK_NAME = _PK.attr_name, _SK.attr_name
_PK_VALUE, _SK_VALUE = itemgetter(_PK.attr_type), itemgetter(_SK.attr_type)


def _expiry(expires_at: int | None) -> dict[str, datetime]:
    return {} if expires_at is None else {"ttl": epoch_datetime(expires_at)}


# ---------------------------------------------------------------------------- thread
class ThreadItem(MemoryItem, discriminator=ENTITY_THREAD):
    """One thread. Build it with :meth:`new`; read a stored one with :meth:`record_from_raw`."""

    id = TextAttribute(field="thread.id")
    resource_id = TextAttribute(field="thread.resourceId", attr_name="resourceId")
    title = NullableTextAttribute(field="thread.title")
    created_at = TimestampAttribute(attr_name="createdAt")
    updated_at = TimestampAttribute(attr_name="updatedAt")
    metadata = NullableJsonAttribute(field="thread.metadata")
    revision = NumberAttribute(null=True, attr_name="_rev")

    # message counters (stores/memory/counts.py); absent: unknown
    message_count = NumberAttribute(null=True, attr_name="_mc")
    counted_resource = UnicodeAttribute(null=True, attr_name="_mcr")
    foreign_count = NumberAttribute(null=True, attr_name="_mcx")
    counts_frozen = NumberAttribute(null=True, attr_name="_mcz")
    # the resources whose link item exists (the resources of the thread's messages)
    linked_resources = UnicodeSetAttribute(null=True, attr_name="_rl")

    # index keys: gsi5 threads of a resource, gsi6 all threads (sharded); both by creation time
    gsi5pk = UnicodeAttribute(null=True)
    gsi5sk = UnicodeAttribute(null=True)
    gsi6pk = UnicodeAttribute(null=True)
    gsi6sk = UnicodeAttribute(null=True)

    RECORD = (("id", "id"), ("resource_id", "resource_id"), ("title", "title"), ("created_at", "created_at"),
              ("updated_at", "updated_at"), ("metadata", "metadata"))
    WRITE_ONCE: ClassVar[frozenset[str]] = frozenset({"created_at", "gsi5sk", "gsi6sk"})
    REMOVABLE: ClassVar[tuple[str, ...]] = ("title", "metadata", "ttl")
    """Attributes a save removes when the saved record (or the retention) does not have them."""

    @classmethod
    def new(cls, thread: Thread, *, expires_at: int | None = None, revision: int | None = None,
            counters: dict[str, Any] | None = None) -> ThreadItem:
        """The item of ``thread`` (expiring at ``expires_at``, epoch seconds), with revision ``revision`` and
        the counter values ``counters`` (model attribute names) when given."""
        key = keys.thread_key(thread.id)
        sk = f"{keys.ts(thread.created_at)}#{keys.component(thread.id)}"
        values = cls.record_values(thread)
        values.update(
            gsi5pk=keys.threads_by_resource_pk(thread.resource_id), gsi5sk=sk,
            gsi6pk=keys.threads_global_pk(keys.shard_of(thread.id, keys.GLOBAL_SHARDS)), gsi6sk=sk,
            **_expiry(expires_at), **(counters or {}))
        if revision is not None:
            values["revision"] = revision
        return cls.build(key, values)

    @classmethod
    def record_from_raw(cls, raw: Item) -> Thread:
        """The thread record of a stored thread item (the fields it has)."""
        return validated(Thread, cls.decode_present(raw, cls.RECORD))


# ---------------------------------------------------------------------------- message
SHARED_TEXT = "_ct"
"""Set when ``content.content`` was the text of the text parts joined (``"<join>:<position of the key>"``):
that text is then stored once, in the parts, and put back when the message is read."""
TEXT_JOINS = ("", "\n")
CONTENT_COMPRESS_MIN_BYTES = 192
"""Message content at least this large is stored zlib-compressed when that is smaller. A message is written
once and read on many turns, and a page of messages is billed by its bytes (per started 4 KB): a 30-word
message (~260 bytes of JSON) compresses to ~150 for ~5 us, and reads back in ~2 us."""
EMPTY_CONTENT: Final[dict[str, Any]] = {"format": 2, "parts": []}


def pack_content(content: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """``content`` without a ``content`` text that repeats its text parts, and the marker that restores it."""
    text, parts = content.get("content"), content.get("parts")
    if not isinstance(text, str) or not text or not isinstance(parts, list):
        return content, None
    texts = [p.get("text") for p in parts if isinstance(p, dict) and p.get("type") == "text"]
    if not texts or not all(isinstance(t, str) for t in texts):
        return content, None
    if len(texts) == 1:  # one text part: every join of it is the text itself (mode 0)
        if texts[0] != text:
            return content, None
        return {k: v for k, v in content.items() if k != "content"}, f"0:{list(content).index('content')}"
    for mode, join in enumerate(TEXT_JOINS):
        if join.join(texts) == text:  # type: ignore[arg-type]
            position = list(content).index("content")
            return {k: v for k, v in content.items() if k != "content"}, f"{mode}:{position}"
    return content, None


def unpack_content(content: dict[str, Any], marker: str) -> dict[str, Any]:
    """``content`` (a decoded dict the caller owns) with its ``content`` text put back where the marker of
    :func:`pack_content` says."""
    mode, _, at = marker.partition(":")
    position = int(at)
    text = TEXT_JOINS[int(mode)].join(
        [p["text"] for p in content["parts"] if isinstance(p, dict) and p.get("type") == "text"])
    if position == len(content):  # the text was the last key: append it
        content["content"] = text
        return content
    entries = list(content.items())
    entries.insert(position, ("content", text))
    return dict(entries)


class MessageItem(MemoryItem, discriminator=ENTITY_MESSAGE):
    """One message. Build it with :meth:`new`; read a stored one with :meth:`record_from_raw`.

    ``resourceId`` is absent for a message without a resource (NULL when the record set it to None, which
    saves reject); a NULL reads back as no resource. ``createdAt`` is the time in the sort key
    (``M#<ts(createdAt)>#<id>``, :meth:`created_of`): 36 bytes per message that no read needs twice."""

    id = TextAttribute(field="message.id", null=True)
    """Stored only when the sort key holds the id hashed (:func:`keys.message_id_of`)."""
    role = TextAttribute(field="message.role")
    created_at = TimestampAttribute(null=True, attr_name="createdAt")
    """Not written: the sort key holds the time. Read from items written when it was (same value)."""
    thread_id = TextAttribute(field="message.threadId", attr_name="threadId", null=True)
    """Stored only when the partition key holds the thread id hashed (:func:`keys.thread_id_of`)."""
    resource_id = NullableTextAttribute(field="message.resourceId", attr_name="resourceId")
    message_type = TextAttribute(field="message.type", attr_name="type")
    content = NullableJsonAttribute(field="message.content", compress_min=CONTENT_COMPRESS_MIN_BYTES)
    shared_text = UnicodeAttribute(null=True, attr_name=SHARED_TEXT)
    revision = UnicodeAttribute(null=True, attr_name="_rev")
    # content too large for the item: its compressed JSON is in MessagePartItem items of this generation
    parts_generation = UnicodeAttribute(null=True, attr_name="_cg")
    parts = NumberAttribute(null=True, attr_name="_cn")


    RECORD = (("id", "id"), ("role", "role"), ("created_at", "created_at"), ("thread_id", "thread_id"),
              ("resource_id", "resource_id"), ("type", "message_type"), ("content", "content"))

    @classmethod
    def new(cls, message: Message, *, expires_at: int | None = None, revision: str | None = None) -> MessageItem:
        """The item of ``message`` (its thread id set), expiring at ``expires_at`` (epoch seconds), with the
        write's ``revision`` when given."""
        assert message.thread_id is not None
        key = keys.message_key(_text(message.thread_id, "thread_id"), message.created_at, _text(message.id, "id"))
        values = cls._values(message, revision, key)
        if expires_at is not None:
            values["ttl"] = epoch_datetime(expires_at)
        return cls.build(key, values)

    @classmethod
    def item_of(cls, message: Message, *, expires_at: int | None = None, revision: str | None = None) -> Item:
        """``new(message, expires_at=..., revision=...).serialize()`` without the model instance: the same
        attributes, checked in the same order (``serialize()``'s: by Python name)."""
        assert message.thread_id is not None
        thread_id, message_id, created_at = message.thread_id, message.id, message.created_at
        # the key components first (checked by new() too), then the attributes in serialize()'s order
        pk = keys.thread_pk(_text(thread_id, "thread_id"))
        sk = keys.message_sk_of_stamp(keys.ts(created_at), _text(message_id, "id"))  # createdAt: the key's time
        packed, marker = pack_content(message.content)
        item: Item = dict(_MESSAGE_STAMP)
        if packed is not None:
            item[_CONTENT_NAME] = _CONTENT_ENCODE(packed)
        if keys.message_id_of(sk) is None:  # a hashed id: the key cannot give it back
            item[_ID_NAME] = {STRING: message_id}
        item[_TYPE_NAME] = {STRING: _text(message.type, "message_type")}
        if message.resource_id is not None:
            item[_RESOURCE_NAME] = {STRING: _text(message.resource_id, "resource_id")}
        elif "resource_id" in message.model_fields_set:
            item[_RESOURCE_NAME] = _NULL_VALUE
        if revision is not None:
            item[_REVISION_NAME] = {STRING: revision}
        item[_ROLE_NAME] = {STRING: _text(message.role, "role")}
        if marker is not None:
            item[SHARED_TEXT] = {STRING: marker}
        if keys.thread_id_of(pk) is None:
            item[_THREAD_NAME] = {STRING: thread_id}
        item[_PK_NAME] = {STRING: pk}
        item[_SK_NAME] = {STRING: sk}
        if expires_at is not None:
            item[_TTL_NAME] = _ttl_value(expires_at)
        return item

    @staticmethod
    def _values(message: Message, revision: str | None, key: Key) -> dict[str, Any]:
        """The model values of the item of ``message`` at ``key`` (its key and expiry aside), in the order
        ``serialize()`` encodes (and checks) them."""
        packed, marker = pack_content(message.content)
        values: dict[str, Any] = {"content": packed}
        if keys.message_id_of(key.sk) is None:
            values["id"] = message.id
        values["message_type"] = message.type
        if message.resource_id is not None:
            values["resource_id"] = message.resource_id
        elif "resource_id" in message.model_fields_set:
            values["resource_id"] = NULL
        if revision is not None:
            values["revision"] = revision
        values["role"] = message.role
        if marker is not None:
            values["shared_text"] = marker
        if keys.thread_id_of(key.pk) is None:
            values["thread_id"] = message.thread_id
        return values

    @classmethod
    def record_from_raw(cls, raw: Item) -> Message:
        """The message record of a stored message item (content as it was given)."""
        data = _MESSAGE_LAYOUT.decode_present(raw, _MESSAGE_DECODED)
        sk = cls.sort_key(raw)
        if "created_at" not in data:
            data["created_at"] = keys.message_time(sk)
        if "id" not in data:
            data["id"] = keys.message_id_of(sk)
        if "thread_id" not in data:
            data["thread_id"] = keys.thread_id_of(_PK_VALUE(raw[_PK_NAME]))
        marker = data.pop(SHARED_TEXT, None)
        content = data.get("content")
        if content is None:
            data["content"] = dict(EMPTY_CONTENT)
        elif marker is not None:
            data["content"] = unpack_content(content, marker)
        if data.get("resource_id", "") is None:
            data.pop("resource_id")
        return validated(Message, data)

    @classmethod
    def created_of(cls, raw: Item) -> datetime:
        """``createdAt`` of a stored message item: the time in its sort key."""
        return keys.message_time(cls.sort_key(raw))

    @classmethod
    def id_of(cls, raw: Item) -> str | None:
        """The message id of a stored message item (or of a projection of it)."""
        value = raw.get(_ID_NAME)
        if value is not None:
            return str(_ID_VALUE(value))
        sk = raw.get(_SK_NAME)
        return None if sk is None else keys.message_id_of(_SK_VALUE(sk))

    @classmethod
    def content_of(cls, raw: Item) -> Any:
        """The stored (packed) content of a message item (None when absent)."""
        value = raw.get(cls.content.attr_name)
        return None if value is None else cls.content.deserialize(value)


_ID = MessageItem.id
_ID_NAME = _ID.attr_name
_ID_VALUE = itemgetter(_ID.attr_type)
_MESSAGE_DECODED = (*MessageItem.RECORD, (SHARED_TEXT, "shared_text"))
_MESSAGE_LAYOUT = layout_of(MessageItem)
_MESSAGE_STAMP = _MESSAGE_LAYOUT.stamp
_MESSAGE_TEXTS = {name: getattr(MessageItem, name) for name in ("id", "message_type", "role", "thread_id")}
_MESSAGE_TEXTS["resource_id"] = MessageItem.resource_id.text
_CONTENT_ENCODE = MessageItem.content.encode
_TYPE_NAME = MessageItem.message_type.attr_name
_RESOURCE_NAME, _REVISION_NAME = MessageItem.resource_id.attr_name, MessageItem.revision.attr_name
_ROLE_NAME, _THREAD_NAME = MessageItem.role.attr_name, MessageItem.thread_id.attr_name
_TTL_NAME = TableItem.ttl.attr_name


def _ttl_value(expires_at: int) -> AttributeValue:
    """The stored ``ttl`` of ``expires_at`` (epoch seconds), as the layout encodes it."""
    return _MESSAGE_LAYOUT.encode_values({"ttl": expires_at})[_TTL_NAME]


def _text(value: Any, name: str) -> str:
    """A text attribute of a message item as ``serialize()`` stores it: an ASCII string as it is, anything else
    through the attribute (which names the field of a value that is not text) or, for None, the missing
    attribute ``serialize()`` reports."""
    if type(value) is str and value.isascii():
        return value
    if value is None:
        raise AttributeNullError(name)
    text: str = _MESSAGE_TEXTS[name].serialize(value)
    return text


# ---------------------------------------------------------------------------- message pointer
class MessageRefItem(MemoryItem, discriminator=ENTITY_MESSAGE_REF):
    """The pointer of a message: where it lives, and its resource."""

    thread_id = UnicodeAttribute(attr_name="threadId")
    message_sk = UnicodeAttribute(attr_name="msk")
    resource_ref = UnicodeAttribute(attr_name="mr")
    chunked = NumberAttribute(null=True, attr_name="mc")
    """1 when the message's content is in parts (MessagePartItem): a delete also removes them."""

    @classmethod
    def new(cls, message_id: str, thread_id: str, message_sk: str, resource_id: str | None, *,
            expires_at: int | None = None, chunked: bool = False) -> MessageRefItem:
        key = keys.message_ref_key(message_id)
        values: dict[str, Any] = {"thread_id": thread_id, "message_sk": message_sk,
                                  "resource_ref": resource_id or "", **_expiry(expires_at)}
        if chunked:
            values["chunked"] = 1
        return cls.build(key, values)

    @classmethod
    def item_of(cls, message_id: str, thread_id: str, message_sk: str, resource_id: str | None, *,
                expires_at: int | None = None, chunked: bool = False) -> Item:
        """``new(...).serialize()`` without the model instance."""
        key = keys.message_ref_key(message_id)
        if type(thread_id) is not str or type(message_sk) is not str:  # serialize()'s checks, as it makes them
            values: dict[str, Any] = {"pk": key.pk, "sk": key.sk, "thread_id": thread_id,
                                      "message_sk": message_sk, "resource_ref": resource_id or ""}
            if expires_at is not None:
                values["ttl"] = expires_at
            if chunked:
                values["chunked"] = 1
            return _REF_LAYOUT.encode_item(values)
        item: Item = dict(_REF_STAMP)  # text attributes stored as given
        item[_PK_NAME] = {STRING: key.pk}
        item[_SK_NAME] = {STRING: key.sk}
        item[_REF_THREAD] = {STRING: thread_id}
        item[_REF_SK] = {STRING: message_sk}
        item[_REF_RESOURCE] = {STRING: resource_id or ""}
        if expires_at is not None:  # epoch seconds: what TTLAttribute stores for epoch_datetime(expires_at)
            item[_TTL_NAME] = _ttl_value(expires_at)
        if chunked:
            item[_CHUNKED_NAME] = _CHUNKED
        return item

    @classmethod
    def is_chunked(cls, raw: Item) -> bool:
        return _CHUNKED_NAME in raw

    @classmethod
    def location(cls, raw: Item) -> tuple[str, str] | None:
        """(thread id, message sort key) of a stored pointer; None when it has not both."""
        values = cls.decode_present(raw, (("thread", "thread_id"), ("sk", "message_sk")))
        thread_id, sk = values.get("thread"), values.get("sk")
        return None if thread_id is None or sk is None else (thread_id, sk)


_CHUNKED_NAME = MessageRefItem.chunked.attr_name
_REF_LAYOUT = layout_of(MessageRefItem)
_REF_STAMP = _REF_LAYOUT.stamp
_REF_THREAD, _REF_SK = MessageRefItem.thread_id.attr_name, MessageRefItem.message_sk.attr_name
_REF_RESOURCE = MessageRefItem.resource_ref.attr_name
_CHUNKED = _REF_LAYOUT.encode_values({"chunked": 1})[_CHUNKED_NAME]


# ---------------------------------------------------------------------------- message content parts
PART_BYTES = 350 * 1024
"""Compressed content bytes per part of a message too large for one item."""
MAX_PARTS = 48
"""At most ~16 MB of compressed content per message (images as data URLs included)."""


class MessagePartItem(MemoryItem, discriminator=ENTITY_MESSAGE_PART):
    """A slice of the compressed content JSON of a message too large for one item (``MC#<id>`` /
    ``<generation>#<index>``). The generation is a digest of the compressed content: writing the same content
    again writes the same parts, and a message item names the one generation it reads."""

    data = BinaryAttribute(legacy_encoding=False)


def split_large(item: Item, message_id: str) -> tuple[Item, int, list[Item]]:
    """A serialized message item that fits one item as is, or the item without its content (naming the part
    generation) and the part items holding the content; with the stored item's size. ItemTooLargeError beyond
    :data:`MAX_PARTS`, or when the item without its content is still too large."""
    size = item_size(item)
    if size <= SAFE_ITEM_BYTES:
        return item, size, []
    content = item[_CONTENT_NAME]
    packed = bytes(content["B"]) if "B" in content else compress(content["S"].encode("utf-8"))
    count = -(-len(packed) // PART_BYTES)
    if count > MAX_PARTS:
        raise ItemTooLargeError(
            f"message {message_id!r} content is {len(packed)} bytes after compression; the limit is "
            f"{MAX_PARTS * PART_BYTES} bytes", details={"entity": "message", "id": message_id,
                                                       "size": len(packed), "limit": MAX_PARTS * PART_BYTES})
    generation = hashlib.sha256(packed).hexdigest()[:20]
    expiry = item.get(TableItem.ttl.attr_name)
    parts: list[Item] = []
    for index in range(count):
        key = keys.message_part_key(message_id, generation, index)
        part = MessagePartItem.build(key, {"data": packed[index * PART_BYTES:(index + 1) * PART_BYTES]}).serialize()
        if expiry is not None:
            part[TableItem.ttl.attr_name] = expiry
        parts.append(part)
    head = {name: value for name, value in item.items() if name != _CONTENT_NAME}
    head[MessageItem.parts_generation.attr_name] = {"S": generation}
    head[MessageItem.parts.attr_name] = {"N": str(count)}
    return head, check_item_size(head, entity="message", entity_id=message_id), parts


def part_keys(head: Item) -> list[Key]:
    """The keys of the parts a chunked message item names (none for a message stored whole)."""
    generation = head.get(_GENERATION_NAME)
    if generation is None:
        return []
    message_id = MessageItem.id_of(head)
    assert message_id is not None
    count = int(head[_PARTS_NAME]["N"])
    return [keys.message_part_key(message_id, generation["S"], i) for i in range(count)]


def join_parts(head: Item, parts: list[Item]) -> Item:
    """The message item with its content put back from its parts (in key order)."""
    data = b"".join(bytes(part[_DATA_NAME]["B"]) for part in parts)
    out = {name: value for name, value in head.items()
           if name not in (MessageItem.parts_generation.attr_name, MessageItem.parts.attr_name)}
    out[_CONTENT_NAME] = {"B": data}
    return out


def part_generation(part_or_head: Item) -> str | None:
    """The generation of a part item (from its sort key) or the one a message item names."""
    named = part_or_head.get(MessageItem.parts_generation.attr_name)
    if named is not None:
        return str(named["S"])
    if _DATA_NAME in part_or_head or part_or_head.get("_et", {}).get("S") == ENTITY_MESSAGE_PART:
        return MemoryItem.sort_key(part_or_head).split("#", 1)[0]
    return None


_CONTENT_NAME = MessageItem.content.attr_name
_GENERATION_NAME = MessageItem.parts_generation.attr_name
_PARTS_NAME = MessageItem.parts.attr_name
_DATA_NAME = MessagePartItem.data.attr_name


# ---------------------------------------------------------------------------- resource link
class ResourceLinkItem(MemoryItem, discriminator=ENTITY_RESOURCE_LINK):
    """The thread holds messages of the resource: one gsi5 entry per (resource, thread), no expiry (it goes with
    its thread's item collection)."""

    gsi5pk = UnicodeAttribute()
    gsi5sk = UnicodeAttribute()

    @classmethod
    def new(cls, thread_id: str, resource_id: str) -> ResourceLinkItem:
        key = keys.resource_link_key(thread_id, resource_id)
        return cls.build(key, {"gsi5pk": keys.messages_by_resource_pk(resource_id), "gsi5sk": key.pk})


# ---------------------------------------------------------------------------- resource
class ResourceItem(MemoryItem, discriminator=ENTITY_RESOURCE):
    """One resource (working memory and metadata)."""

    id = TextAttribute(field="resource.id")
    working_memory = NullableTextAttribute(field="resource.workingMemory", attr_name="workingMemory")
    metadata = NullableJsonAttribute(field="resource.metadata")
    created_at = TimestampAttribute(attr_name="createdAt")
    updated_at = TimestampAttribute(attr_name="updatedAt")
    revision = NumberAttribute(null=True, attr_name="_rev")

    # index keys: gsi6 all resources (sharded), by creation time
    gsi6pk = UnicodeAttribute(null=True)
    gsi6sk = UnicodeAttribute(null=True)

    RECORD = (("id", "id"), ("working_memory", "working_memory"), ("metadata", "metadata"),
              ("created_at", "created_at"), ("updated_at", "updated_at"))
    WRITE_ONCE: ClassVar[frozenset[str]] = frozenset({"created_at", "gsi6sk"})
    REMOVABLE: ClassVar[tuple[str, ...]] = ("working_memory", "metadata", "ttl")

    @classmethod
    def new(cls, resource: Resource, *, expires_at: int | None = None,
            revision: int | None = None) -> ResourceItem:
        key = keys.resource_key(resource.id)
        values = cls.record_values(resource)
        values.update(gsi6pk=keys.resources_global_pk(keys.shard_of(resource.id, keys.GLOBAL_SHARDS)),
                      gsi6sk=keys.time_sk(resource.created_at, resource.id), **_expiry(expires_at))
        if revision is not None:
            values["revision"] = revision
        return cls.build(key, values)

    @classmethod
    def record_from_raw(cls, raw: Item) -> Resource:
        return Resource.model_validate(cls.decode_present(raw, cls.RECORD))


IS_THREAD: Condition = ThreadItem.item_type == ThreadItem
"""Filter condition: the item is a thread (``_et = thread``)."""
MEMORY_ENTITIES = (ENTITY_THREAD, ENTITY_MESSAGE, ENTITY_MESSAGE_PART, ENTITY_MESSAGE_REF, ENTITY_RESOURCE_LINK,
                   ENTITY_RESOURCE)
