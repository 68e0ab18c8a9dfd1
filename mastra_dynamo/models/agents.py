"""The items of the agents domain (docs/access-patterns.md 2.4): agents, their versions, version pointers.

An agent and its versions share one item collection ``A#<agentId>``:

* :class:`AgentItem` (``_et = agent``, sk ``A``): the entity fields as JSON in ``data`` (every field of the
  record, ``None`` ones included, except the two timestamps), ``createdAt`` and ``updatedAt``, ``status``, and
  ``visibility`` and ``authorId`` when set (absent otherwise, never NULL). Index keys: the write-sharded global
  listings ``gsi3`` (by createdAt) and ``gsi4`` (by updatedAt) under ``AA#<shard8(agentId)>``, and, only with
  an author, ``gsi1``/``gsi2`` (by createdAt / updatedAt) under ``AU#<authorId>``; every sort key is
  ``<ts>#<agentId>``. ``_rev`` (a number) is written by ``update`` only, ``create`` writes none.
* :class:`AgentVersionItem` (``_et = agent_version``, sk ``V#<versionNumber:010d>``): the version record as
  JSON in ``data`` (fields that were set, without ``createdAt``), ``createdAt``, ``id`` and ``versionNumber``.
* :class:`AgentVersionRefItem` (``_et = agent_version_ref``, ``AV#<versionId>`` / ``AV``): the pointer from a
  version id to its version row: ``agentId`` and ``versionNumber``.

Every item has ``_sv`` and, under the ``agent`` retention, ``ttl``: versions and pointers copy their agent's.
``data`` is JSON text, or compressed JSON from 16 KB (``JsonAttribute``); timestamps are ``keys.ts`` strings.

Reads decode only the attributes a record is made of (``TableItem.decode_attributes``; ``record_from_raw``);
writes serialize an item's values with the model's attributes (``TableItem.encode_item``, equal to
``Model(**values).serialize()``; ``encode``, which also refuses an item too large to store).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.constants import STRING
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Value

from mastra_dynamo.dynamo.codec import Item, check_item_size
from mastra_dynamo.models.attributes import JsonAttribute, TimestampAttribute
from mastra_dynamo.models.base import TableItem, epoch_datetime
from mastra_dynamo.models.layout import Stored
from mastra_dynamo.records.agents import Agent, AgentVersion
from mastra_dynamo.records.base import json_data
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.keys import Key

ENTITY_AGENT = "agent"
ENTITY_VERSION = "agent_version"
ENTITY_VERSION_REF = "agent_version_ref"

Values = dict[str, Any]
"""An item's attribute values by Python attribute name (what ``Model(**values)`` takes)."""


def _ttl(expires_at: int | None) -> datetime | None:
    """The ``ttl`` value of an item expiring at ``expires_at`` (epoch seconds; None: kept forever)."""
    return None if expires_at is None else epoch_datetime(expires_at)


class AgentItem(TableItem, discriminator=ENTITY_AGENT):
    """One stored agent (entity fields only; its configuration lives in its versions)."""

    data = JsonAttribute(field="agent")
    created_at = TimestampAttribute(attr_name="createdAt")
    updated_at = TimestampAttribute(attr_name="updatedAt")
    status = UnicodeAttribute(attr_name="status")
    visibility = UnicodeAttribute(null=True, attr_name="visibility")
    author_id = UnicodeAttribute(null=True, attr_name="authorId")
    revision = NumberAttribute(null=True, attr_name="_rev")

    # gsi1/gsi2: agents of an author (only with authorId); gsi3/gsi4: all agents, write-sharded
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute()
    gsi3sk = UnicodeAttribute()
    gsi4pk = UnicodeAttribute()
    gsi4sk = UnicodeAttribute()

    @classmethod
    def values(cls, agent: Agent, *, expires_at: int | None, revision: int | None = None) -> Values:
        """The item of ``agent``, expiring at ``expires_at`` (epoch seconds; None: kept), at ``revision``."""
        values = cls._values(agent, revision)[0]
        values["ttl"] = _ttl(expires_at)
        return values

    @classmethod
    def encode(cls, agent: Agent, *, expires_at: int | None, revision: int | None = None) -> Item:
        """``AgentItem.encode_item(AgentItem.values(...))``: the serialized item, each timestamp formatted once
        (for its attribute and for the index sort keys that start with it), the ``ttl`` from its epoch seconds.
        What the store writes and ``mastra-dynamo import`` restores.

        Raises: ItemTooLargeError when the item does not fit in a DynamoDB item."""
        values, timestamps = cls._values(agent, revision)
        values.update(timestamps, ttl=expires_at)
        item = cls.encode_item(values)
        check_item_size(item, entity="agent", entity_id=agent.id)
        return item

    @classmethod
    def _values(cls, agent: Agent, revision: int | None) -> tuple[Values, dict[str, Stored]]:
        """The item's values but ``ttl``, and its timestamps as they are stored."""
        data = json_data(agent, what="agent", by_alias=True, exclude_unset=False)
        del data["createdAt"], data["updatedAt"]
        key = keys.agent_key(agent.id)
        cid = keys.component(agent.id)
        created, updated = cls.created_at.serialize(agent.created_at), cls.updated_at.serialize(agent.updated_at)
        everyone = keys.agents_global_pk(keys.shard_of(agent.id, keys.GLOBAL_SHARDS))
        values: Values = {
            "pk": key.pk, "sk": key.sk, "data": data, "created_at": agent.created_at,
            "updated_at": agent.updated_at, "status": agent.status, "visibility": agent.visibility,
            "author_id": agent.author_id, "revision": revision,
            "gsi3pk": everyone, "gsi3sk": f"{created}#{cid}", "gsi4pk": everyone, "gsi4sk": f"{updated}#{cid}",
        }
        if agent.author_id is not None:
            author = keys.agents_by_author_pk(agent.author_id)
            values.update(gsi1pk=author, gsi1sk=f"{created}#{cid}", gsi2pk=author, gsi2sk=f"{updated}#{cid}")
        return values, {"created_at": Stored({STRING: created}), "updated_at": Stored({STRING: updated})}

    @classmethod
    def record_from_raw(cls, raw: Item) -> Agent:
        """The stored agent as its record, decoding only ``data`` and the timestamps."""
        values = cls.decode_attributes(raw, _AGENT_RECORD)
        data = values["data"]
        data["createdAt"] = values["created_at"]
        data["updatedAt"] = values["updated_at"]
        return Agent.model_validate(data)

    @classmethod
    def revision_condition(cls, revision: int | Value | None) -> Condition:
        """Optimistic concurrency: the item still has the ``_rev`` that was read (none: still has none)."""
        if revision is None:
            return cls.revision.does_not_exist()
        return cls.revision == revision


class AgentVersionItem(TableItem, discriminator=ENTITY_VERSION):
    """One version of an agent: its snapshot configuration and bookkeeping fields."""

    data = JsonAttribute(field="version")
    created_at = TimestampAttribute(attr_name="createdAt")
    version_id = UnicodeAttribute(attr_name="id")
    version_number = NumberAttribute(attr_name="versionNumber")

    @classmethod
    def values(cls, version: AgentVersion, *, expires_at: int | None) -> Values:
        """The row of ``version`` in its agent's collection, expiring at ``expires_at`` (epoch seconds)."""
        data = json_data(version, what="agent version", by_alias=True, exclude_unset=True)
        data.pop("createdAt", None)
        key = keys.agent_version_key(version.agent_id, version.version_number)
        return {"pk": key.pk, "sk": key.sk, "data": data, "created_at": version.created_at,
                "version_id": version.id, "version_number": version.version_number, "ttl": _ttl(expires_at)}

    @classmethod
    def encode(cls, version: AgentVersion, *, expires_at: int | None) -> Item:
        """``AgentVersionItem.encode_item(AgentVersionItem.values(...))``, the ``ttl`` from its epoch seconds.

        Raises: ItemTooLargeError when the row does not fit in a DynamoDB item."""
        item = cls.encode_item({**cls.values(version, expires_at=None), "ttl": expires_at})
        check_item_size(item, entity="agent version", entity_id=version.id)
        return item

    @classmethod
    def record_from_raw(cls, raw: Item) -> AgentVersion:
        """The stored version as its record, decoding only ``data`` and ``createdAt``."""
        values = cls.decode_attributes(raw, _VERSION_RECORD)
        data = values["data"]
        data["createdAt"] = values["created_at"]
        return AgentVersion.model_validate(data)

    @classmethod
    def record_if_id(cls, raw: Item, version_id: str) -> AgentVersion | None:
        """The stored version when its row holds ``version_id``; None when the row holds another version (the
        number a pointer names was taken by another version since)."""
        values = cls.decode_attributes(raw, _VERSION_ID_AND_RECORD)
        if values["version_id"] != version_id:
            return None
        data = values["data"]
        data["createdAt"] = values["created_at"]
        return AgentVersion.model_validate(data)

    @classmethod
    def stored_id(cls, raw: Item) -> str | None:
        """The version id of a raw item of the collection when it is a version row (None for the agent)."""
        if entity_of(raw) != ENTITY_VERSION:
            return None
        version_id: str | None = cls.decode_attributes(raw, _VERSION_ID)["version_id"]
        return version_id


class AgentVersionRefItem(TableItem, discriminator=ENTITY_VERSION_REF):
    """The pointer ``AV#<versionId>`` to a version row: its conditional create makes version ids unique."""

    agent_id = UnicodeAttribute(attr_name="agentId")
    version_number = NumberAttribute(attr_name="versionNumber")

    @classmethod
    def values(cls, version: AgentVersion, *, expires_at: int | None) -> Values:
        key = keys.agent_version_ref_key(version.id)
        return {"pk": key.pk, "sk": key.sk, "agent_id": version.agent_id,
                "version_number": version.version_number, "ttl": _ttl(expires_at)}

    @classmethod
    def encode(cls, version: AgentVersion, *, expires_at: int | None) -> Item:
        """``AgentVersionRefItem.encode_item(AgentVersionRefItem.values(...))``, the ``ttl`` from its epoch
        seconds."""
        return cls.encode_item({**cls.values(version, expires_at=None), "ttl": expires_at})

    @classmethod
    def target(cls, raw: Item) -> Key:
        """The key of the version row a stored pointer names."""
        values = cls.decode_attributes(raw, _REF_TARGET)
        return keys.agent_version_key(values["agent_id"], values["version_number"])


_AGENT_RECORD = ("data", "created_at", "updated_at")
_VERSION_RECORD = ("data", "created_at")
_VERSION_ID = ("version_id",)
_VERSION_ID_AND_RECORD = (*_VERSION_ID, *_VERSION_RECORD)
_REVISION = ("revision",)
_REF_TARGET = ("agent_id", "version_number")
_ENTITY = TableItem.item_type
_PK, _SK = TableItem.pk, TableItem.sk
_PK_NAME, _SK_NAME = _PK.attr_name, _SK.attr_name
_TTL = TableItem.ttl
_SECONDS = NumberAttribute()


def entity_of(raw: Item) -> str | None:
    """The ``_et`` stamp of a raw item (None when it has none)."""
    value = raw.get(_ENTITY.attr_name)
    return None if value is None else str(_ENTITY.get_value(value))


def key_of(raw: Item) -> Key:
    """The key of a raw item (its key attributes are strings that PynamoDB deserializes as they are)."""
    return Key(_PK.get_value(raw[_PK_NAME]), _SK.get_value(raw[_SK_NAME]))


def expiry_of(raw: Item) -> int | None:
    """The ``ttl`` of a raw item as epoch seconds (None: kept forever): the number ``TableItem.ttl`` holds,
    read as a number (``TTLAttribute`` would make a datetime of it)."""
    value = raw.get(_TTL.attr_name)
    if value is None:
        return None
    return int(_SECONDS.deserialize(_TTL.get_value(value)))  # type: ignore[no-untyped-call]


def revision_of(raw: Item) -> int | None:
    """The ``_rev`` of a raw agent item (None: it has none)."""
    revision: int | None = AgentItem.decode_attributes(raw, _REVISION)["revision"]
    return revision


IS_AGENT: Condition = AgentItem.item_type == AgentItem
"""Filter condition: the item is an agent (``_et = agent``)."""
