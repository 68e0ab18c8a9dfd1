"""Attribute codecs: exact JSON round-trips, compression, numbers, sizes."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mastra_dynamo.dynamo import codec
from mastra_dynamo.errors import ItemTooLargeError, ValidationError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_json_fields_round_trip_exactly(value: Any) -> None:
    assert codec.decode_json(codec.encode_json(value, field="f")) == value


def test_none_empty_string_and_empty_map_stay_distinct() -> None:
    assert codec.decode_json(codec.encode_json(None, field="f")) is None
    assert codec.decode_json(codec.encode_json("", field="f")) == ""
    assert codec.decode_json(codec.encode_json({}, field="f")) == {}
    assert codec.decode_json(codec.encode_json({"": 1}, field="f")) == {"": 1}


def test_deep_nesting_beyond_dynamodb_map_depth_round_trips() -> None:
    value: Any = "leaf"
    for _ in range(60):
        value = {"k": [value]}
    assert codec.decode_json(codec.encode_json(value, field="f")) == value


def test_large_json_is_compressed() -> None:
    value = {"text": "lorem ipsum " * 10_000}
    attr = codec.encode_json(value, field="f")
    assert "B" in attr and len(attr["B"]) < 20_000
    assert codec.decode_json(attr) == value


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, object(), {1j}])
def test_non_json_values_are_rejected(bad: Any) -> None:
    with pytest.raises(ValidationError):
        codec.encode_json({"x": bad}, field="f")


def test_numbers() -> None:
    assert codec.decode_number(codec.encode_number(0.1, field="n")) == 0.1
    assert codec.decode_number(codec.encode_number(42, field="n")) == 42
    with pytest.raises(ValidationError):
        codec.encode_number(math.nan, field="n")
    with pytest.raises(ValidationError):
        codec.encode_number(10**40 + 1, field="n")
    with pytest.raises(ValidationError):
        codec.encode_number(True, field="n")


def test_item_size_check() -> None:
    item = {"pk": {"S": "a"}, "big": {"S": "x" * (codec.SAFE_ITEM_BYTES + 1)}}
    with pytest.raises(ItemTooLargeError) as info:
        codec.check_item_size(item, entity="message", entity_id="m1")
    assert info.value.code == "ITEM_TOO_LARGE" and info.value.details["id"] == "m1"
