"""Every entity model's layout (models/layout.py) serializes and decodes exactly as PynamoDB does.

For each entity model of the package, with a value for every attribute and with the required ones only:
``encode_item`` and ``build(...).serialize()`` equal PynamoDB's ``Model(**values).serialize()``; ``build``
sets the instance PynamoDB's constructor sets; ``decode_attributes`` equals what ``from_raw_data`` decodes and
``decode_present`` the same for the attributes present.
"""

from __future__ import annotations

import importlib
import pkgutil
from datetime import UTC, datetime
from typing import Any

import pytest
from pynamodb.attributes import (
    Attribute,
    BinaryAttribute,
    BooleanAttribute,
    DiscriminatorAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.exceptions import AttributeNullError

import mastra_dynamo.models
from mastra_dynamo.models.attributes import JsonAttribute, TimestampAttribute
from mastra_dynamo.models.base import TableItem, epoch_datetime
from mastra_dynamo.models.datasets import SortedStringSetAttribute as DatasetStringSet
from mastra_dynamo.models.layout import Stored, layout_of, typed
from mastra_dynamo.models.memory import NULL, NullableJsonAttribute, NullableTextAttribute
from mastra_dynamo.models.workflows import SnapshotAttribute
from mastra_dynamo.schema.keys import Key
from tests.unit.pynamodb_reference import pynamodb_decode, pynamodb_serialize

for _module in pkgutil.iter_modules(mastra_dynamo.models.__path__):
    importlib.import_module(f"mastra_dynamo.models.{_module.name}")


def _entities(base: type[TableItem]) -> list[type[TableItem]]:
    found = []
    for cls in base.__subclasses__():
        if TableItem.item_type.get_discriminator(cls) is not None:
            found.append(cls)
        found += _entities(cls)
    return found


ENTITIES = sorted(set(_entities(TableItem)), key=lambda m: m.__name__)
KEY = Key("P#1", "S#1")
NOW = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
BIG = {"text": "words " * 5000}


def sample(attr: Attribute[Any], *, big: bool = False) -> Any:
    """A value of ``attr``'s Python type (``big``: one its serializer compresses, where it does)."""
    if isinstance(attr, SnapshotAttribute | JsonAttribute):
        return BIG if big else {"a": [1, 2.5, None, True], "é": "✓"}
    if isinstance(attr, NullableTextAttribute):
        return "text ✓"
    if isinstance(attr, TTLAttribute):
        return epoch_datetime(1_900_000_000)
    if isinstance(attr, TimestampAttribute):
        return NOW
    if isinstance(attr, BooleanAttribute):
        return True
    if isinstance(attr, BinaryAttribute):
        return b"\x00bytes\xff"
    if isinstance(attr, UnicodeSetAttribute | DatasetStringSet):
        return {"b", "a", "c"}
    if isinstance(attr, NumberAttribute):
        return 7
    if isinstance(attr, UnicodeAttribute):
        return f"value of {attr.attr_name}"
    if attr.attr_type == "N":  # the integer attributes of the domains
        return 12
    raise AssertionError(f"no sample value for {type(attr).__name__}: add one")


def values_of(model: type[TableItem], *, required_only: bool = False, big: bool = False,
              nulls: bool = False) -> dict[str, Any]:
    """A value for every attribute of ``model`` but the key and the constructor's (``required_only``: for the
    attributes that are not nullable; ``nulls``: NULL for those that store it)."""
    out: dict[str, Any] = {}
    for name, attr in model.get_attributes().items():
        if name in ("pk", "sk", "schema_version") or isinstance(attr, DiscriminatorAttribute):
            continue
        if required_only and attr.null:
            continue
        null_able = isinstance(attr, NullableTextAttribute | NullableJsonAttribute)
        out[name] = NULL if nulls and null_able else sample(attr, big=big)
    return out


CASES = {"every attribute": {}, "required only": {"required_only": True}, "large values": {"big": True},
         "stored NULLs": {"nulls": True}}


def _sets_sorted(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` with the members of its set values sorted: a set read back into Python iterates in hash order."""
    return {name: {kind: sorted(members)} if kind in ("SS", "NS", "BS") else value
            for name, value in item.items() for kind, members in [next(iter(value.items()))]}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("model", ENTITIES, ids=lambda m: m.__name__)
def test_the_layout_serializes_as_pynamodb(model: type[TableItem], case: str) -> None:
    values = values_of(model, **CASES[case])
    constructed = model(KEY.pk, KEY.sk, **values)
    expected = pynamodb_serialize(constructed)
    built = model.build(KEY, values)
    assert built.attribute_values == constructed.attribute_values
    assert built.serialize() == constructed.serialize() == expected
    assert list(built.serialize()) == list(expected)  # PynamoDB's order
    assert model.encode_item({"pk": KEY.pk, "sk": KEY.sk, **values}) == expected
    stamp = layout_of(model).stamp
    assert {**stamp, **model.encode_values({"pk": KEY.pk, "sk": KEY.sk, **values})} == expected
    assert all(expected[name] == value for name, value in stamp.items())


@pytest.mark.parametrize("case", [c for c in CASES if c != "stored NULLs"])
@pytest.mark.parametrize("model", ENTITIES, ids=lambda m: m.__name__)
def test_the_layout_decodes_as_pynamodb(model: type[TableItem], case: str) -> None:
    raw = model(KEY.pk, KEY.sk, **values_of(model, **CASES[case])).serialize()
    names = tuple(model.get_attributes())
    decoded = pynamodb_decode(model, raw, names)
    assert model.decode_attributes(raw, names) == decoded
    stored_names = {name: attr.attr_name for name, attr in model.get_attributes().items()}
    assert model.decode_present(raw, names) == {name: value for name, value in decoded.items()
                                                if stored_names[name] in raw}
    renamed = tuple((f"as {name}", name) for name in names)
    assert model.decode_attributes(raw, renamed) == {f"as {name}": value for name, value in decoded.items()}
    assert _sets_sorted(model.from_raw_data(raw).serialize()) == _sets_sorted(raw)


@pytest.mark.parametrize("model", ENTITIES, ids=lambda m: m.__name__)
def test_null_and_absent_attributes_decode(model: type[TableItem]) -> None:
    raw = model(KEY.pk, KEY.sk, **values_of(model, required_only=True)).serialize()
    optional = tuple(name for name, attr in model.get_attributes().items() if attr.null)
    assert model.decode_attributes(raw, optional) == dict.fromkeys(optional)
    assert model.decode_present(raw, optional) == {}
    nulls = {**raw, **{model.get_attributes()[name].attr_name: {"NULL": True} for name in optional}}
    assert model.decode_attributes(nulls, optional) == dict.fromkeys(optional)
    assert model.decode_present(nulls, optional) == dict.fromkeys(optional)


@pytest.mark.parametrize("model", ENTITIES, ids=lambda m: m.__name__)
def test_a_missing_required_attribute_is_refused_as_pynamodb_refuses_it(model: type[TableItem]) -> None:
    values = values_of(model, required_only=True)
    for name in values:
        partial = {k: v for k, v in values.items() if k != name}
        with pytest.raises(AttributeNullError, match=name):
            pynamodb_serialize(model(KEY.pk, KEY.sk, **partial))
        with pytest.raises(AttributeNullError, match=name):
            model.build(KEY, partial).serialize()
        with pytest.raises(AttributeNullError, match=name):
            model.encode_item({"pk": KEY.pk, "sk": KEY.sk, **partial})
    with pytest.raises(AttributeNullError, match="pk"):
        model.encode_item({"sk": KEY.sk, **values})


def test_stored_values_are_taken_as_they_are() -> None:
    from mastra_dynamo.models.datasets import ItemRowModel

    created = Stored({"S": "2020-01-01T00:00:00.000000Z"})
    item = ItemRowModel.encode_values({"created_at": created, "updated_at": NOW, "valid_to": None})
    assert item == {"createdAt": created.value, "updatedAt": typed(ItemRowModel.updated_at, NOW)}


def test_an_int_ttl_is_epoch_seconds() -> None:
    assert TableItem.encode_values({"ttl": 1_900_000_000}) == TableItem.encode_values(
        {"ttl": epoch_datetime(1_900_000_000)}) == {"ttl": {"N": "1900000000"}}


def test_every_model_of_the_package_is_covered() -> None:
    names = {model.__name__ for model in ENTITIES}
    assert {"ScoreItem", "MessageItem", "WorkflowRunItem", "AgentItem", "DatasetModel", "ExperimentItem",
            "BackgroundTaskItem", "ObservationalMemoryItem", "RunOwnerItem", "MemoryRunFenceItem"} <= names
