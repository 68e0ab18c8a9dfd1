"""The item collection ``E#<experimentId>`` bound to the store: single-item reads, the conditions the domain's
writes share, and the delete of the items an experiment's results leave (results, slots, pointers, dataset
links). The items themselves are built and decoded by their models (``models/experiments.py``).
"""

from __future__ import annotations

from typing import Any, cast

from pynamodb.attributes import Attribute
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.projection import create_projection_expression

from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.models import requests
from mastra_dynamo.models.base import TableItem
from mastra_dynamo.models.experiment_attributes import EPOCH_SECONDS
from mastra_dynamo.models.experiments import ExperimentResultItem
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.keys import Key
from mastra_dynamo.stores.base import DynamoDomain
from mastra_dynamo.stores.experiments.shapes import KEY_MARK, UNBOUND, Marks, key_values, shape

_CHILD_KEYS = ("pk", "sk")
_RESULT_LINKS = ("id", "item_id", "link_dataset_id")
_CHILD_PROJECTION: list[Attribute[Any]] = [
    *(TableItem.get_attributes()[name] for name in _CHILD_KEYS),
    *(ExperimentResultItem.get_attributes()[name] for name in _RESULT_LINKS)]


def projected_query(key_condition: Condition, projection: list[Attribute[Any]], *,
                    consistent: bool) -> dict[str, Any]:
    """The parameters of an ascending Query of the table (``TableClient.query_items`` adds the table name):
    ``key_condition`` and the ``projection`` attributes, serialized by PynamoDB."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    params: dict[str, Any] = {"KeyConditionExpression": key_condition.serialize(names, values),
                              "ScanIndexForward": True}
    if consistent:
        params["ConsistentRead"] = True
    params["ProjectionExpression"] = create_projection_expression(projection, names)
    params["ExpressionAttributeNames"] = {placeholder: name for name, placeholder in names.items()}
    params["ExpressionAttributeValues"] = values
    return params


def _consistent_get(marks: Marks) -> dict[str, Any]:
    return requests.get_item(UNBOUND, KEY_MARK, consistent=True)


def absent_or_expired(marks: Marks) -> Condition:
    """A create: no item at the key, or only an expired one (at the call's ``now``)."""
    return cast(Condition, TableItem.pk.does_not_exist() | ~TableItem.not_expired(marks("now", EPOCH_SECONDS)))


def live(marks: Marks) -> Condition:
    """The item exists and has not expired (at the call's ``now``)."""
    return cast(Condition, TableItem.pk.exists() & TableItem.not_expired(marks("now", EPOCH_SECONDS)))


class ExperimentCollection(DynamoDomain):
    """Single-item reads bound to the store, and the delete of an experiment's children."""

    # ------------------------------------------------------------------ reads and conditions
    def _get(self, key: Key) -> Item | None:
        """GetItem ``key``, strongly consistent (None when absent; expired items are returned)."""
        request = shape("get", _consistent_get).bind(self.table.table_name, key_values(key))
        item: Item | None = self.table.call("GetItem", **request).get("Item")
        return item

    def _now(self) -> int:
        """``now`` of a condition: the TTL clock's epoch second (items expired at it count as absent)."""
        return self.ttl.now_epoch()

    # ------------------------------------------------------------------ children
    def _delete_children(self, experiment_id: str) -> None:
        """Delete results, slots, result pointers and dataset links of an experiment."""
        key_condition = cast(Condition, (TableItem.pk == keys.experiment_key(experiment_id).pk)
                             & TableItem.sk.between(keys.EXPERIMENT_SLOT_PREFIX, "ER$"))
        deletes: list[Key] = []
        for row in self.table.query_items(projected_query(key_condition, _CHILD_PROJECTION, consistent=True)):
            child = TableItem.decode_attributes(row, _CHILD_KEYS)
            deletes.append(Key(child["pk"], child["sk"]))
            if not child["sk"].startswith(keys.EXPERIMENT_RESULT_PREFIX):
                continue
            links = ExperimentResultItem.decode_attributes(row, _RESULT_LINKS)
            result_id = links["id"]
            if result_id is None:
                continue
            deletes.append(keys.experiment_result_ref_key(result_id))
            dataset_id, item_id = links["link_dataset_id"], links["item_id"]
            if dataset_id is not None and item_id is not None:
                deletes.append(keys.dataset_item_link_key(dataset_id, item_id, experiment_id, result_id))
        self.table.batch_write(deletes=deletes)
