"""Query requests of the memory domain that ``stores/listing.py`` does not assemble: projected Queries of one
item collection (counting a thread's messages, listing the keys a cascade deletes).

The key condition is a PynamoDB condition on the model's key attributes
(``(MessageItem.pk == pk) & MessageItem.sk.between(low, high)``), serialized by PynamoDB together with the
projection; the request is sent with ``TableClient.query_items`` (every page, ``LastEvaluatedKey`` followed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.projection import create_projection_expression


def query_params(key_condition: Condition, *, consistent: bool, projection: Sequence[Attribute[Any]] = (),
                 ascending: bool = True) -> dict[str, Any]:
    """The parameters of a Query of the base table (``TableName`` is added by ``TableClient``)."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    params: dict[str, Any] = {"KeyConditionExpression": key_condition.serialize(names, values),
                              "ScanIndexForward": ascending}
    if projection:
        params["ProjectionExpression"] = create_projection_expression([a.attr_name for a in projection], names)
    if consistent:
        params["ConsistentRead"] = True
    params["ExpressionAttributeNames"] = {placeholder: name for name, placeholder in names.items()}
    if values:
        params["ExpressionAttributeValues"] = values
    return params
