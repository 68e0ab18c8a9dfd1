"""bench/pricing.py: the write capacity of a TransactWriteItems, priced from hand-made item images (no server)."""

from __future__ import annotations

import base64

from bench.pricing import (
    INDEX_WRITE_FACTOR,
    Action,
    IndexShape,
    Item,
    TableShape,
    index_units,
    parse_actions,
    price_transaction,
    size_of,
)

TABLE = "t"
SHAPE = TableShape(keys=("pk", "sk"), indexes=(
    IndexShape("gsi1", ("gsi1pk", "gsi1sk"), "ALL"),
    IndexShape("gsi2", ("gsi2pk", "gsi2sk"), "KEYS_ONLY"),
    IndexShape("gsi3", ("gsi3pk", "gsi3sk"), "INCLUDE", ("title",)),
))
TABLES = {TABLE: SHAPE}


def item(n: int, body_bytes: int = 1500, **extra: str) -> Item:
    out: Item = {"pk": {"S": f"P#{n}"}, "sk": {"S": "S"}, "body": {"S": "x" * body_bytes}}
    out.update({name: {"S": value} for name, value in extra.items()})
    return out


def key(n: int) -> Item:
    return {"pk": {"S": f"P#{n}"}, "sk": {"S": "S"}}


def test_ten_puts_of_new_items_cost_two_units_per_started_kb_each() -> None:
    items = [item(n) for n in range(10)]
    assert all(1024 < size_of(i) <= 2048 for i in items)  # ~1.5 KB: 2 KB started
    actions = [Action("Put", TABLE, key(n), i) for n, i in enumerate(items)]
    priced = price_transaction(actions, [None] * 10, items, TABLES)
    assert priced.total == 40  # DynamoDB Local reports 4
    assert priced.indexes == {}


def test_put_into_an_all_index_adds_its_entry() -> None:
    new = item(1, gsi1pk="G#1", gsi1sk="2024")
    priced = price_transaction([Action("Put", TABLE, key(1), new)], [None], [new], TABLES)
    assert priced.indexes == {"gsi1": INDEX_WRITE_FACTOR * 2}  # the whole ~1.5 KB item
    assert priced.total == 4 + INDEX_WRITE_FACTOR * 2


def test_update_that_moves_an_index_key_counts_delete_and_put() -> None:
    old = item(1, gsi1pk="G#1", gsi1sk="2024")
    new = item(1, body_bytes=2500, gsi1pk="G#2", gsi1sk="2024")
    priced = price_transaction([Action("Update", TABLE, key(1))], [old], [new], TABLES)
    assert priced.indexes == {"gsi1": INDEX_WRITE_FACTOR * (2 + 3)}  # delete 1.5 KB entry + put 2.5 KB entry
    assert priced.total == 2 * 3 + INDEX_WRITE_FACTOR * 5  # table: the larger image, 3 KB started


def test_delete_of_an_indexed_item_counts_table_and_index_entry() -> None:
    old = item(1, body_bytes=3000, gsi1pk="G#1", gsi1sk="2024")
    priced = price_transaction([Action("Delete", TABLE, key(1))], [old], [None], TABLES)
    assert priced.indexes == {"gsi1": INDEX_WRITE_FACTOR * 3}
    assert priced.total == 2 * 3 + INDEX_WRITE_FACTOR * 3


def test_same_index_key_costs_nothing_unless_a_projected_attribute_changed() -> None:
    old = item(1, gsi2pk="K", gsi2sk="1", gsi3pk="I", gsi3sk="1", title="a")
    body_only = {**old, "body": {"S": "y" * 1500}}
    assert index_units(SHAPE.indexes[1], SHAPE.keys, old, body_only) == 0  # KEYS_ONLY: body not projected
    assert index_units(SHAPE.indexes[2], SHAPE.keys, old, body_only) == 0  # INCLUDE title: body not projected
    retitled = {**old, "title": {"S": "b"}}
    assert index_units(SHAPE.indexes[2], SHAPE.keys, old, retitled) == 1
    assert index_units(SHAPE.indexes[2], SHAPE.keys, old, {**retitled, "gsi3sk": {"S": "2"}}) == 2
    assert index_units(SHAPE.indexes[1], SHAPE.keys, None, None) == 0


def test_projected_entries_are_sized_on_what_they_hold() -> None:
    big = item(1, body_bytes=5000, gsi1pk="G", gsi1sk="1", gsi2pk="K", gsi2sk="1")
    units = {index.name: index_units(index, SHAPE.keys, None, big) for index in SHAPE.indexes}
    assert units == {"gsi1": 5, "gsi2": 1, "gsi3": 0}  # ALL: 5 KB started; KEYS_ONLY: keys only; not in gsi3


def test_condition_check_is_priced_like_a_write_and_a_missing_item_costs_the_minimum() -> None:
    existing = item(1, body_bytes=2500)
    actions = [Action("ConditionCheck", TABLE, key(1)), Action("Delete", TABLE, key(2))]
    priced = price_transaction(actions, [existing, None], [existing, None], TABLES)
    assert priced.total == 2 * 3 + 2


def test_cancelled_transaction_is_priced_as_failed_conditional_writes() -> None:
    existing = item(1, body_bytes=2500)
    new = item(2, body_bytes=1500)
    actions = [Action("Update", TABLE, key(1)), Action("Put", TABLE, key(2), new),
               Action("ConditionCheck", TABLE, key(3))]
    priced = price_transaction(actions, [existing, None, None], None, TABLES)
    assert priced.total == 3 + 2 + 1  # existing item; item sent; at least one unit
    assert priced.indexes == {}


def test_item_size_of_wire_json() -> None:
    raw = b"\x00" * 700
    wire: Item = {"b": {"B": base64.b64encode(raw).decode()}, "ss": {"SS": ["ab", "cde"]},
                  "m": {"M": {"k": {"S": "v"}}}, "n": {"N": "12345"}}
    assert size_of(wire) == (1 + 700) + (2 + 5) + (1 + 3 + 1 + 1 + 1) + (1 + 4)
    assert size_of(None) == 0


def test_shapes_and_actions_from_wire_json() -> None:
    described = {
        "KeySchema": [{"AttributeName": "sk", "KeyType": "RANGE"}, {"AttributeName": "pk", "KeyType": "HASH"}],
        "GlobalSecondaryIndexes": [{"IndexName": "gsi3", "KeySchema": [
            {"AttributeName": "gsi3pk", "KeyType": "HASH"}, {"AttributeName": "gsi3sk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["title"]}}],
    }
    shape = TableShape.from_description(described)
    assert shape == TableShape(("pk", "sk"), (IndexShape("gsi3", ("gsi3pk", "gsi3sk"), "INCLUDE", ("title",)),))
    new = item(1)
    actions = parse_actions([{"Put": {"TableName": TABLE, "Item": new}},
                             {"Update": {"TableName": TABLE, "Key": key(2), "UpdateExpression": "SET a = :a"}}],
                            {TABLE: shape})
    assert actions == [Action("Put", TABLE, key(1), new), Action("Update", TABLE, key(2))]
