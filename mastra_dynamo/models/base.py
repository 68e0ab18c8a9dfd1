"""TableItem: the PynamoDB base model of every item on the one table.

Every item has the key ``pk``/``sk``, the entity stamp ``_et`` (a discriminator: each entity's model registers
its value, e.g. ``class ScoreItem(TableItem, discriminator="score")``, so one table holds many polymorphic
models), the schema version ``_sv`` and the optional ``ttl`` (epoch seconds). The base also declares the
table's GSIs (``gsi1``..``gsi6`` with their projections, from ``TABLE_SPEC``); an entity model declares the
index key attributes it fills, next to its own attributes.

**Binding.** The models serialize items, conditions and updates; they never send. A PynamoDB model names one
table in ``Meta.table_name``, but one process can hold many DynamoDBStores on different tables, so
``Meta.table_name`` is a placeholder that no request carries: requests are built by
:mod:`mastra_dynamo.models.requests` for the table name of the store's ``TableClient`` and sent through
``TableClient.call``. ``_get_connection`` raises, so ``ScoreItem.save()``/``.get()``/``.query()`` (PynamoDB's own
transport) fail loudly instead of reaching the placeholder table.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Self, cast

from pynamodb.attributes import DiscriminatorAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.connection.table import TableConnection
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Path, Value
from pynamodb.expressions.update import Action
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.models.layout import Names, layout_of
from mastra_dynamo.schema.keys import Key
from mastra_dynamo.schema.table import TABLE_SPEC, GsiSpec

UNBOUND_TABLE_NAME = "mastra-dynamo-unbound"
"""``Meta.table_name`` of the item models: a placeholder, never sent (see the module docstring)."""


class UnboundModelError(RuntimeError):
    """A model was asked to send a request itself; requests go through ``TableClient`` (models/requests.py)."""


def projection(gsi: GsiSpec) -> Any:
    if gsi.projection == "ALL":
        return AllProjection()
    if gsi.projection == "KEYS_ONLY":
        return KeysOnlyProjection()
    return IncludeProjection(list(gsi.non_key_attributes))


def index_class(gsi: GsiSpec) -> type[GlobalSecondaryIndex[Any]]:
    """The PynamoDB index class of one GSI of the spec (keys, projection)."""
    meta = type("Meta", (), {"index_name": gsi.name, "projection": projection(gsi)})
    return type(
        f"{gsi.name.capitalize()}Index",
        (GlobalSecondaryIndex,),
        {
            "Meta": meta,
            gsi.partition_key: UnicodeAttribute(hash_key=True),
            gsi.sort_key: UnicodeAttribute(range_key=True),
        },
    )


def _index(name: str) -> GlobalSecondaryIndex[Any]:
    return index_class(TABLE_SPEC.gsi(name))()


def epoch_datetime(epoch: int) -> datetime:
    """Epoch seconds as the aware UTC datetime a TTLAttribute takes (it stores whole seconds again)."""
    return datetime.fromtimestamp(epoch, tz=UTC)


class TableItem(Model):
    """What every item of the table has. Entity models subclass it with a discriminator value."""

    class Meta:
        table_name = UNBOUND_TABLE_NAME
        region = "us-east-1"  # PynamoDB wants one; no request is ever sent from a model

    pk = UnicodeAttribute(hash_key=True, attr_name=TABLE_SPEC.partition_key)
    sk = UnicodeAttribute(range_key=True, attr_name=TABLE_SPEC.sort_key)
    item_type = DiscriminatorAttribute(attr_name=TABLE_SPEC.entity_attribute)
    schema_version = NumberAttribute(attr_name=TABLE_SPEC.schema_version_attribute,
                                     default_for_new=TABLE_SPEC.schema_version)
    ttl = TTLAttribute(null=True, attr_name=TABLE_SPEC.ttl_attribute)

    gsi1 = _index("gsi1")
    gsi2 = _index("gsi2")
    gsi3 = _index("gsi3")
    gsi4 = _index("gsi4")
    gsi5 = _index("gsi5")
    gsi6 = _index("gsi6")

    WRITE_ONCE: ClassVar[frozenset[str]] = frozenset()
    """Attributes (Python names) an upsert writes only when the item does not have them yet (creation
    times, creation-ordered index sort keys)."""

    # ------------------------------------------------------------------ no transport of its own
    @classmethod
    def _get_connection(cls) -> TableConnection:
        raise UnboundModelError(
            f"{cls.__name__} does not send requests: build them with mastra_dynamo.models.requests and send "
            "them through the store's TableClient"
        )

    # ------------------------------------------------------------------ serialization (models/layout.py)
    @classmethod
    def build(cls, key: Key, values: Mapping[str, Any]) -> Self:
        """``cls(key.pk, key.sk, **values)``: the same instance, without PynamoDB's per-attribute setters
        (``Layout.build``; a ``ttl`` is given as the aware datetime, e.g. ``epoch_datetime(seconds)``)."""
        return layout_of(cls).build(cls, key, values)

    def serialize(self, null_check: bool = True) -> Item:
        """The item as DynamoDB attribute values: PynamoDB's ``serialize()`` (self-typed attributes stored as
        their typed value), visiting only the values the instance has (``Layout.serialize``)."""
        return layout_of(type(self)).serialize(self.attribute_values, null_check)

    @classmethod
    def encode_item(cls, values: Mapping[str, Any], *, encoded: Item | None = None) -> Item:
        """``cls(**values).serialize()`` of a new item without the instance (``Layout.encode_item``):
        ``values`` by Python name (the key included; None: absent), ``encoded`` attributes already
        serialized (by stored name). Raises AttributeNullError when a required attribute has no value."""
        return layout_of(cls).encode_item(values, encoded=encoded)

    @classmethod
    def encode_values(cls, values: Mapping[str, Any]) -> Item:
        """The attributes ``values`` names, serialized and named by their stored names (``Layout.encode_values``;
        None: left out): part of an item, or the values of an update or a condition."""
        return layout_of(cls).encode_values(values)

    @classmethod
    def decode_attributes(cls, raw: Item, names: Names) -> dict[str, Any]:
        """Attributes ``names`` (Python names, or (key in the result, Python name) pairs) of a raw item,
        decoded exactly as ``from_raw_data`` decodes them (absent or NULL: None), without building a model
        instance (``Layout.decode``)."""
        return layout_of(cls).decode(raw, names)

    @classmethod
    def decode_present(cls, raw: Item, names: Names) -> dict[str, Any]:
        """Like :meth:`decode_attributes`, for the attributes ``raw`` has: absent ones are left out, NULL ones
        are None (``Layout.decode_present``)."""
        return layout_of(cls).decode_present(raw, names)

    # ------------------------------------------------------------------ conditions
    @classmethod
    def not_expired(cls, now: int | Value) -> Condition:
        """The item has no ``ttl`` or its ``ttl`` lies after ``now`` (epoch seconds, or an already serialized
        value): expired items count as absent."""
        expires = now if isinstance(now, Value) else epoch_datetime(now)
        return cast(Condition, cls.ttl.does_not_exist() | (cls.ttl > expires))

    @classmethod
    def absent_or_alive(cls, now: int | Value) -> Condition:
        """The condition of an upsert: no item under the key, or one that has not expired."""
        return cast(Condition, cls.pk.does_not_exist() | cls.not_expired(now))

    # ------------------------------------------------------------------ updates
    @classmethod
    def upsert_actions(cls, serialized: Item) -> list[Action]:
        """The update actions that make the stored item equal to ``serialized`` (an item of this model as
        ``serialize()`` returns it), keys aside: SET every attribute it has (``if_not_exists`` for the
        ``WRITE_ONCE`` ones), REMOVE every optional attribute it lacks. The values are handed to PynamoDB as
        already serialized values, so nothing is encoded twice."""
        actions: list[Action] = []
        for name, attr in cls.get_attributes().items():
            if attr.is_hash_key or attr.is_range_key:
                continue
            value = serialized.get(attr.attr_name)
            path = Path(attr)
            if value is None:
                if attr.null:
                    actions.append(path.remove())
            elif name in cls.WRITE_ONCE:
                actions.append(path.set(path | value))
            else:
                actions.append(path.set(value))
        return actions

