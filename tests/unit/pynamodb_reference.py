"""PynamoDB's own serialization of a model instance: the reference the models' layouts (models/layout.py) are
compared with. ``TableItem.serialize`` is the layout's; this is ``pynamodb.models.Model.serialize``, with the
self-typed attributes unwrapped as the table stores them (models/attributes.py)."""

from __future__ import annotations

from typing import Any

from pynamodb.models import Model

from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.models.attributes import SelfTypedAttribute
from mastra_dynamo.models.base import TableItem


def pynamodb_serialize(item: TableItem, null_check: bool = True) -> Item:
    """``item`` serialized by PynamoDB (``_container_serialize`` over every declared attribute)."""
    values: dict[str, Any] = Model.serialize(item, null_check=null_check)
    for attr in type(item).get_attributes().values():
        wrapped = values.get(attr.attr_name)
        if isinstance(attr, SelfTypedAttribute) and wrapped is not None:
            values[attr.attr_name] = wrapped[attr.attr_type]
    return values


def pynamodb_decode(model: type[TableItem], raw: Item, names: tuple[str, ...]) -> dict[str, Any]:
    """Attributes ``names`` of ``raw`` as ``from_raw_data`` decodes them (NULL: None)."""
    loaded = model.from_raw_data(raw)
    return {name: getattr(loaded, name) for name in names}
