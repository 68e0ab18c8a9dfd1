"""Low-level DynamoDB requests built from the item models: PynamoDB serializes, ``TableClient`` sends.

The models (``TableItem`` and its entity subclasses) say what an item is; PynamoDB turns a model, its
conditions (``ScoreItem.pk.does_not_exist() | (ScoreItem.ttl > now)``) and its update actions
(``ScoreItem.data.set(...)``, ``ScoreItem.created_at.set(ScoreItem.created_at | value)``) into the keyword
arguments of a botocore call. This module asks PynamoDB for exactly those arguments and nothing more: the
store passes them to ``TableClient.call``, which stays the one place that counts requests, lets botocore
retry, and translates backend errors into the StorageError family. A later asynchronous transport
(aiobotocore) sends the very same dictionaries; serialization is implemented once, for both.

How PynamoDB 6.1 is used, without its transport:

* ``pynamodb.connection.Connection.get_operation_kwargs`` builds the kwargs of GetItem / PutItem /
  UpdateItem / DeleteItem / ConditionCheck (it is what ``Model.get_*_kwargs_from_instance`` and
  ``TransactWrite`` use). It needs the table's key schema, a ``MetaTable``, which PynamoDB 6 builds from the
  model schema (``Model._get_connection``), never from DescribeTable. Here one module-level ``Connection`` is
  a pure builder: a ``MetaTable`` built from ``TableItem._get_schema()`` is registered for each table name
  the first time it is used, and its botocore client, created lazily by ``Connection.client`` only when
  ``dispatch`` sends, is never created. (``dispatch`` would also add ``ReturnConsumedCapacity``; the requests
  built here carry only what the store asks for, as before the models.)
* The table name comes from the caller (the store's ``TableClient.table_name``) on every request, not from
  the models' ``Meta.table_name``, which is a placeholder (see models/base.py): one model class serves every
  DynamoDBStore of the process, whatever its table.
* An upsert (:func:`upsert_item`) sends the same UpdateExpression for every item with the same attributes.
  Building and serializing a score's ~22 update actions costs PynamoDB about 200 us, twice what a whole
  ``save_score`` took before the models, so PynamoDB builds each such request once per item shape (model,
  attributes present, return values) with marker values, and each call binds the item's serialized values to
  the placeholders PynamoDB chose. The result is the request :func:`update_item` builds (a unit test compares
  the two).
* Query requests are still assembled by ``stores/listing.py`` (key condition, pagination, merging of
  shards); :func:`condition_filter` turns a PynamoDB ``Condition`` into its FilterExpression.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pynamodb.connection import Connection
from pynamodb.connection.base import MetaTable
from pynamodb.constants import ATTR_DEFINITIONS, INDEX_NAME, ITEM, KEY_SCHEMA, TABLE_NAME
from pynamodb.constants import GLOBAL_SECONDARY_INDEXES as GSI_KEY
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Value
from pynamodb.expressions.update import Action
from pynamodb.indexes import GlobalSecondaryIndex

from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.models.base import UNBOUND_TABLE_NAME, TableItem
from mastra_dynamo.schema.keys import Key

if TYPE_CHECKING:
    from mastra_dynamo.dynamo.expressions import Expr

_builder = Connection()
"""Builds request kwargs only: it never dispatches, so it never creates a botocore client."""
_tables: set[str] = set()
_lock = threading.Lock()


def _table(table_name: str) -> str:
    """Register the key schema of ``table_name`` with the builder (once) and return the name."""
    if table_name not in _tables:
        with _lock:
            if table_name not in _tables:
                schema = TableItem._get_schema()
                _builder.add_meta_table(MetaTable({
                    TABLE_NAME: table_name,
                    KEY_SCHEMA: schema["key_schema"],
                    ATTR_DEFINITIONS: schema["attribute_definitions"],
                    GSI_KEY: [{INDEX_NAME: i["index_name"], KEY_SCHEMA: i["key_schema"]}
                              for i in schema["global_secondary_indexes"]],
                }))
                _tables.add(table_name)
    return table_name


def _key(item: TableItem) -> tuple[str, str]:
    return TableItem.pk.serialize(item.pk), TableItem.sk.serialize(item.sk)


def get_item(table_name: str, key: Key, *, consistent: bool) -> dict[str, Any]:
    """GetItem of one key."""
    return _builder.get_operation_kwargs(_table(table_name), TableItem.pk.serialize(key.pk),
                                         range_key=TableItem.sk.serialize(key.sk), consistent_read=consistent)


def put_item(table_name: str, item: TableItem, *, serialized: Item | None = None,
             condition: Condition | None = None,
             return_values_on_condition_failure: str | None = None) -> dict[str, Any]:
    """PutItem of ``item`` (``serialized``: its ``serialize()``, when the caller already has it)."""
    attributes = dict(item.serialize() if serialized is None else serialized)
    attributes.pop(TableItem.pk.attr_name)
    attributes.pop(TableItem.sk.attr_name)
    hash_key, range_key = _key(item)
    return _builder.get_operation_kwargs(_table(table_name), hash_key, range_key=range_key, key=ITEM,
                                         attributes=attributes, condition=condition,
                                         return_values_on_condition_failure=return_values_on_condition_failure)


def update_item(table_name: str, item: TableItem, actions: Sequence[Action], *, condition: Condition | None = None,
                return_values: str | None = None) -> dict[str, Any]:
    """UpdateItem of ``item``'s key with ``actions`` (e.g. ``item.upsert_actions()``)."""
    hash_key, range_key = _key(item)
    return _builder.get_operation_kwargs(_table(table_name), hash_key, range_key=range_key, actions=actions,
                                         condition=condition, return_values=return_values)


def update_key(table_name: str, key: Key, actions: Sequence[Action], *, condition: Condition | None = None,
               return_values: str | None = None,
               return_values_on_condition_failure: str | None = None) -> dict[str, Any]:
    """UpdateItem of ``key`` with ``actions`` (when the caller has a key, not a model instance)."""
    return _builder.get_operation_kwargs(
        _table(table_name), TableItem.pk.serialize(key.pk), range_key=TableItem.sk.serialize(key.sk),
        actions=actions, condition=condition, return_values=return_values,
        return_values_on_condition_failure=return_values_on_condition_failure)


def delete_item(table_name: str, key: Key, *, condition: Condition | None = None,
                return_values: str | None = None) -> dict[str, Any]:
    """DeleteItem of ``key``."""
    return _builder.get_operation_kwargs(_table(table_name), TableItem.pk.serialize(key.pk),
                                         range_key=TableItem.sk.serialize(key.sk), condition=condition,
                                         return_values=return_values)


def condition_check(table_name: str, key: Key, condition: Condition) -> dict[str, Any]:
    """The body of a ConditionCheck action of a transaction: ``condition`` on the item at ``key``."""
    return _builder.get_operation_kwargs(_table(table_name), TableItem.pk.serialize(key.pk),
                                         range_key=TableItem.sk.serialize(key.sk), condition=condition)


TransactKind = Literal["Put", "Update", "Delete", "ConditionCheck"]


def transact(kind: TransactKind, request: dict[str, Any]) -> dict[str, Any]:
    """One action of ``TableClient.transact_write``: a request built above (``put_item``, ``update_item``,
    ``update_key``, ``delete_item``, ``condition_check``) as a ``Put``/``Update``/``Delete``/``ConditionCheck``.
    ``ReturnValues`` is dropped (a transaction returns no item); ``ReturnValuesOnConditionCheckFailure``
    stays (it is how a cancelled transaction reports the item a condition saw)."""
    return {kind: {k: v for k, v in request.items() if k != "ReturnValues"}}


@dataclass(frozen=True)
class _UpsertShape:
    """The UpdateItem PynamoDB built for one item shape, and where each value goes."""

    kwargs: dict[str, Any]
    item_values: tuple[tuple[str, str], ...]
    """(value placeholder, attribute name of the item whose serialized value it takes)"""
    now_placeholder: str


_MARK = "\x00"
_NOW = _MARK + "now"  # attribute names never start with NUL
_upserts: dict[tuple[type[TableItem], frozenset[str], str | None], _UpsertShape] = {}


def _upsert_shape(model: type[TableItem], names: frozenset[str], return_values: str | None) -> _UpsertShape:
    markers: Item = {name: {"S": _MARK + name} for name in names}
    kwargs = _builder.get_operation_kwargs(
        _table(UNBOUND_TABLE_NAME), _MARK, range_key=_MARK, actions=model.upsert_actions(markers),
        condition=upsert_condition(model, Value({"N": _NOW}), markers), return_values=return_values)
    item_values: list[tuple[str, str]] = []
    now_placeholder = None
    for placeholder, value in kwargs["ExpressionAttributeValues"].items():
        (marker,) = value.values()
        if marker == _NOW:
            now_placeholder = placeholder
        else:
            item_values.append((placeholder, marker[len(_MARK):]))
    assert now_placeholder is not None
    return _UpsertShape(kwargs, tuple(item_values), now_placeholder)


def upsert_condition(model: type[TableItem], now: int | Value, serialized: Item) -> Condition:
    """The condition of an upsert of ``serialized``: the model's ``upsert_condition(now, serialized)`` when it
    has one (``ScoreItem``: write guards), else ``absent_or_alive(now)``."""
    guard: Callable[[int | Value, Item], Condition] | None = getattr(model, "upsert_condition", None)
    return model.absent_or_alive(now) if guard is None else guard(now, serialized)


def upsert_item(table_name: str, item: TableItem | type[TableItem], serialized: Item, *, now_epoch: int,
                return_values: str | None = None) -> dict[str, Any]:
    """UpdateItem that makes the stored item equal to ``item`` (``serialized``: its ``serialize()``; ``item``
    may also be its model class, when the caller has the serialized item only):
    ``update_item(table_name, item, Model.upsert_actions(serialized),
    condition=upsert_condition(Model, now_epoch, serialized), return_values=return_values)``, with the
    expressions PynamoDB built for this item shape reused."""
    model = item if isinstance(item, type) else type(item)
    shape_key = (model, frozenset(serialized), return_values)
    shape = _upserts.get(shape_key)
    if shape is None:
        shape = _upserts[shape_key] = _upsert_shape(model, shape_key[1], return_values)
    values = {placeholder: serialized[name] for placeholder, name in shape.item_values}
    values[shape.now_placeholder] = {"N": str(int(now_epoch))}  # TTLAttribute's form of epoch seconds
    pk, sk = TableItem.pk.attr_name, TableItem.sk.attr_name
    return {**shape.kwargs, "TableName": table_name, "Key": {pk: serialized[pk], sk: serialized[sk]},
            "ExpressionAttributeNames": dict(shape.kwargs["ExpressionAttributeNames"]),
            "ExpressionAttributeValues": values}


def condition_filter(build: Callable[[], Condition]) -> Callable[[Expr], str]:
    """A ``stores.listing`` filter builder from a PynamoDB condition: each Query that listing.py assembles
    gets ``build()`` serialized into its FilterExpression, with the condition's names and values added to the
    request's ``Expr``. PynamoDB's placeholders (``#0``, ``:0``) never collide with Expr's (``#n0``, ``:v0``)."""

    def filter_builder(expr: Expr) -> str:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        expression = build().serialize(names, values)
        for name, placeholder in names.items():
            assert placeholder not in expr.names
            expr.names[placeholder] = name
        assert values.keys().isdisjoint(expr.values)
        expr.values.update(values)
        return expression

    return filter_builder


def index_keys(index: GlobalSecondaryIndex[Any]) -> tuple[str, str, str]:
    """(index name, partition key attribute, sort key attribute) of a model's index."""
    hash_key = range_key = None
    for attr in index.Meta.attributes.values():
        if attr.is_hash_key:
            hash_key = attr.attr_name
        elif attr.is_range_key:
            range_key = attr.attr_name
    assert hash_key is not None and range_key is not None
    return index.Meta.index_name, hash_key, range_key
