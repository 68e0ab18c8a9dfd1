"""Offline tests of the key builders: escaping, collisions, ordering, bounds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from mastra_dynamo.schema import keys

ids = st.text(min_size=1, max_size=1500)


@given(ids, ids)
def test_distinct_ids_never_share_a_component(a: str, b: str) -> None:
    if a != b:
        assert keys.component(a) != keys.component(b)


@given(ids)
def test_component_never_contains_the_separator(value: str) -> None:
    escaped = keys.component(value)
    assert "#" not in escaped
    assert len(escaped.encode("utf-8")) <= 1 + 64 or len(escaped.encode("utf-8")) <= keys.MAX_COMPONENT_BYTES


def test_separator_in_an_id_cannot_reach_another_item_collection() -> None:
    # A message id shaped like a thread key suffix must stay inside its own component.
    forged = "x#M#2026-01-01T00:00:00.000000Z#victim"
    assert keys.message_ref_key(forged) != keys.message_ref_key("victim")
    assert keys.thread_key(forged).pk != keys.thread_key("x").pk
    assert keys.thread_key(forged).pk.count("#") == 1


def test_long_ids_are_hashed_and_do_not_collide_with_plain_ids() -> None:
    long_id = "é" * 1000
    component = keys.component(long_id)
    assert component.startswith("~") and len(component) == 65
    assert keys.component("~" + component[1:]) != component  # a literal '~' is escaped
    assert keys.component(long_id + "x") != component


def test_unicode_and_escape_characters_round_trip_distinctly() -> None:
    values = ["a%23", "a#", "a~", "a%7E", "日本語", "emoji 🚀", "%", "%25"]
    assert len({keys.component(v) for v in values}) == len(values)


def test_timestamps_sort_lexically_in_time_order() -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    stamps = [keys.ts(base + timedelta(microseconds=i * 997)) for i in range(50)]
    assert stamps == sorted(stamps)
    assert all(len(s) == len(stamps[0]) for s in stamps)


def test_message_bounds_inclusive_and_exclusive() -> None:
    t = datetime(2026, 5, 1, 12, tzinfo=UTC)
    at_t = keys.message_sk(t, "m")
    before = keys.message_sk(t - timedelta(microseconds=1), "z")
    after = keys.message_sk(t + timedelta(microseconds=1), "a")
    lo, hi = keys.message_sk_bounds(t, t)
    assert lo <= at_t <= hi and not lo <= before <= hi and not lo <= after <= hi
    lo, hi = keys.message_sk_bounds(t, None, start_exclusive=True)
    assert not lo <= at_t <= hi and lo <= after <= hi
    lo, hi = keys.message_sk_bounds(None, t, end_exclusive=True)
    assert not lo <= at_t <= hi and lo <= before <= hi


def test_shards_are_stable_and_within_range() -> None:
    shards = {keys.shard_of(f"id-{i}", keys.GLOBAL_SHARDS) for i in range(500)}
    assert shards == set(keys.all_shards(keys.GLOBAL_SHARDS))
    assert keys.shard_of("abc", 8) == keys.shard_of("abc", 8)


def test_every_entity_prefix_is_distinct() -> None:
    pks = {
        keys.thread_key("x").pk.split("#")[0],
        keys.message_ref_key("x").pk.split("#")[0],
        keys.resource_key("x").pk.split("#")[0],
        keys.run_pk("x").split("#")[0],
        keys.score_key("x").pk.split("#")[0],
        keys.agent_key("x").pk.split("#")[0],
        keys.agent_version_ref_key("x").pk.split("#")[0],
        keys.dataset_key("x").pk.split("#")[0],
        keys.dataset_item_ref_key("x").pk.split("#")[0],
        keys.experiment_key("x").pk.split("#")[0],
        keys.experiment_result_ref_key("x").pk.split("#")[0],
    }
    assert len(pks) == 11
