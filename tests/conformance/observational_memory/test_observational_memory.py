"""Spec 3.10 observational memory: records and generations, history, record-addressed updates, buffered
chunks and their swap, buffered reflections, clearing, concurrency (Mastra's conformance cases)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mastra_dynamo.errors import NotFoundError, ValidationError
from mastra_dynamo.records.observational_memory import ObservationalMemoryRecord
from mastra_dynamo.stores.memory.observational import ObservationalMemoryOps, activation_count, deep_merge
from tests.conftest import FakeClock

CONFIG = {"observationThreshold": 5000, "reflectionThreshold": 40000}


def resource_record(om: ObservationalMemoryOps, resource_id: str | None = None) -> ObservationalMemoryRecord:
    return om.initialize_observational_memory({"threadId": None, "resourceId": resource_id or str(uuid.uuid4()),
                                               "scope": "resource", "config": CONFIG})


def chunk(message_tokens: int, **extra: Any) -> dict[str, Any]:
    return {"cycleId": str(uuid.uuid4()), "observations": f"obs {uuid.uuid4().hex[:6]}",
            "tokenCount": round(message_tokens / 2), "messageIds": [str(uuid.uuid4())],
            "messageTokens": message_tokens, "lastObservedAt": datetime.now(UTC), **extra}


# ------------------------------------------------------------------ initialize / get
def test_initialize_defaults(om: ObservationalMemoryOps) -> None:
    record = resource_record(om)
    assert record.id and record.scope == "resource" and record.thread_id is None
    assert record.origin_type == "initial" and record.generation_count == 0 and record.active_observations == ""
    assert not (record.is_reflecting or record.is_observing or record.is_buffering_observation
                or record.is_buffering_reflection)
    assert record.total_tokens_observed == record.observation_token_count == record.pending_message_tokens == 0
    assert record.last_buffered_at_tokens == 0 and record.last_buffered_at_time is None
    assert record.last_observed_at is None and record.config == CONFIG
    shown = record.to_mastra()
    assert shown["threadId"] is None and shown["lastBufferedAtTime"] is None and shown["config"] == CONFIG
    got = om.get_observational_memory(None, record.resource_id)
    assert got is not None and got.id == record.id and got.created_at == record.created_at


def test_thread_scope_is_found_by_thread(om: ObservationalMemoryOps) -> None:
    record = om.initialize_observational_memory(thread_id="t1", resource_id="r1", scope="thread", config={"a": 1},
                                                observed_timezone="Europe/Paris")
    assert record.thread_id == "t1" and record.observed_timezone == "Europe/Paris"
    got = om.get_observational_memory("t1", "another-resource")
    assert got is not None and got.id == record.id
    assert om.get_observational_memory(None, "r1") is None  # resource scope is another key
    assert om.get_observational_memory(None, "unknown") is None


# ------------------------------------------------------------------ generations and history
def _generations(om: ObservationalMemoryOps, clock: FakeClock, count: int) -> list[ObservationalMemoryRecord]:
    records = [resource_record(om)]
    for i in range(1, count):
        clock.advance(seconds=1)
        records.append(om.create_reflection_generation(current_record=records[-1], reflection=f"gen {i}",
                                                       token_count=10 * i))
    return records


def test_reflection_generations(om: ObservationalMemoryOps, clock: FakeClock) -> None:
    first = resource_record(om)
    om.update_active_observations(id=first.id, observations="line", token_count=40,
                                  last_observed_at=datetime(2026, 1, 1, 12, 0, 0, 123000, tzinfo=UTC))
    current = om.get_observational_memory(None, first.resource_id)
    assert current is not None
    clock.advance(seconds=1)
    second = om.create_reflection_generation(current_record=current, reflection="reflected", token_count=7)
    assert second.id != first.id and second.origin_type == "reflection" and second.generation_count == 1
    assert second.active_observations == "reflected" and second.observation_token_count == 7
    assert second.total_tokens_observed == 40 and second.last_observed_at == current.last_observed_at
    assert not second.is_reflecting and not second.is_observing and second.config == CONFIG
    assert om.get_observational_memory(None, first.resource_id) == second
    clock.advance(seconds=1)
    third = om.create_reflection_generation(current_record=second, reflection="again", token_count=3)
    history = om.get_observational_memory_history(None, first.resource_id)
    assert [r.id for r in history] == [third.id, second.id, first.id]
    assert history[2].active_observations == "line" and history[2].observation_token_count == 40


def test_history_options(om: ObservationalMemoryOps, clock: FakeClock) -> None:
    records = _generations(om, clock, 4)
    rid = records[0].resource_id

    def gens(*args: Any) -> list[int]:
        return [r.generation_count for r in om.get_observational_memory_history(None, rid, *args)]

    assert gens() == [3, 2, 1, 0] and gens(2) == [3, 2]
    middle = records[1].created_at + timedelta(milliseconds=500)
    assert gens(None, {"from": middle}) == [3, 2] and gens(None, {"to": middle}) == [1, 0]
    assert gens(None, {"from": records[1].created_at, "to": records[2].created_at}) == [2, 1]
    assert gens(None, {"offset": 2}) == [1, 0] and gens(2, {"offset": 1}) == [2, 1]
    assert gens(None, {}) == gens() and gens(None, {"offset": 0}) == gens()
    assert gens(None, {"from": records[3].created_at + timedelta(days=1)}) == []
    assert gens(None, {"to": records[0].created_at - timedelta(days=1)}) == []
    assert gens(None, {"offset": 9}) == [] and gens(10, {"offset": 3}) == [0]
    assert om.get_observational_memory_history(None, "unknown") == []
    with pytest.raises(ValidationError):
        om.get_observational_memory_history(None, rid, -1)


def test_history_pages_through_six_generations(om: ObservationalMemoryOps, clock: FakeClock) -> None:
    records = _generations(om, clock, 6)
    rid = records[0].resource_id
    pages = [[r.generation_count for r in om.get_observational_memory_history(None, rid, 2, {"offset": o})]
             for o in (0, 2, 4, 6)]
    assert pages == [[5, 4], [3, 2], [1, 0], []]


# ------------------------------------------------------------------ record-addressed updates
def test_update_active_observations(om: ObservationalMemoryOps) -> None:
    record = resource_record(om)
    om.set_pending_message_tokens(record.id, 90)
    observed = datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
    om.update_active_observations({"id": record.id, "observations": "first", "tokenCount": 100,
                                   "lastObservedAt": observed, "observedMessageIds": ["m1", "m2"]})
    om.update_active_observations(id=record.id, observations="second", token_count=150, last_observed_at=observed)
    got = om.get_observational_memory(None, record.resource_id)
    assert got is not None and got.active_observations == "second"
    assert got.observation_token_count == 150 and got.total_tokens_observed == 250
    assert got.pending_message_tokens == 0 and got.last_observed_at == observed
    assert got.observed_message_ids == ["m1", "m2"]  # kept when not given
    with pytest.raises(NotFoundError, match="not found"):
        om.update_active_observations(id="missing", observations="x", token_count=1, last_observed_at=observed)


def test_flags_and_pending_tokens(om: ObservationalMemoryOps) -> None:
    record = resource_record(om)
    for setter, field in ((om.set_reflecting_flag, "is_reflecting"), (om.set_observing_flag, "is_observing"),
                          (om.set_buffering_reflection_flag, "is_buffering_reflection"),
                          (om.set_buffering_observation_flag, "is_buffering_observation")):
        setter(record.id, True)
        got = om.get_observational_memory(None, record.resource_id)
        assert got is not None and getattr(got, field) is True
        setter(record.id, False)
        got = om.get_observational_memory(None, record.resource_id)
        assert got is not None and getattr(got, field) is False
        with pytest.raises(NotFoundError, match="not found"):
            setter("missing", True)
    om.set_buffering_observation_flag(record.id, True, 5000)
    om.set_pending_message_tokens(record.id, 100)
    om.set_pending_message_tokens(record.id, 75)
    got = om.get_observational_memory(None, record.resource_id)
    assert got is not None and got.last_buffered_at_tokens == 5000 and got.pending_message_tokens == 75
    with pytest.raises(NotFoundError):
        om.set_pending_message_tokens("missing", 1)


def test_config_deep_merge(om: ObservationalMemoryOps) -> None:
    record = om.initialize_observational_memory(resource_id="r-cfg", scope="resource",
                                                config={"a": {"x": 1, "y": [1]}, "b": 2})
    om.update_observational_memory_config(id=record.id, config={"a": {"y": [2], "z": None}, "c": {"d": 1}})
    got = om.get_observational_memory(None, "r-cfg")
    assert got is not None and got.config == {"a": {"x": 1, "y": [2], "z": None}, "b": 2, "c": {"d": 1}}
    assert deep_merge({"k": {"a": 1}}, {"k": 5}) == {"k": 5}
    with pytest.raises(NotFoundError):
        om.update_observational_memory_config(id="missing", config={})


def test_edge_case_texts(om: ObservationalMemoryOps) -> None:
    record = resource_record(om)
    now = datetime.now(UTC)
    for text in ("", "x" * 100_000, "quotes \" ' emoji 🧠 中文 العربية"):
        om.update_active_observations(id=record.id, observations=text, token_count=1, last_observed_at=now)
        got = om.get_observational_memory(None, record.resource_id)
        assert got is not None and got.active_observations == text
    other = resource_record(om)
    assert other.id != record.id
    threaded = om.initialize_observational_memory(thread_id="t", resource_id=record.resource_id, scope="thread",
                                                  config={})
    assert om.get_observational_memory(None, record.resource_id).id == record.id  # type: ignore[union-attr]
    assert om.get_observational_memory("t", record.resource_id).id == threaded.id  # type: ignore[union-attr]


# ------------------------------------------------------------------ buffered observations
def test_swap_without_chunks_changes_nothing(om: ObservationalMemoryOps) -> None:
    record = resource_record(om)
    result = om.swap_buffered_to_active(id=record.id, activation_ratio=1, message_tokens_threshold=1000,
                                        current_pending_tokens=0)
    assert result.chunks_activated == 0 and result.activated_cycle_ids == [] and result.observations is None
    assert om.get_observational_memory(None, record.resource_id) == record


def test_chunks_round_trip_and_dedupe(om: ObservationalMemoryOps) -> None:
    record = resource_record(om)
    c = chunk(100, extractedValues={"name": "Ada"}, extractionFailures=[{"slug": "age", "error": "missing"}],
              currentTask="write", suggestedContinuation="go on", threadTitle="T")
    at = datetime(2026, 5, 1, tzinfo=UTC)
    om.update_buffered_observations(id=record.id, chunk=c, last_buffered_at_time=at)
    om.update_buffered_observations(id=record.id, chunk={**c, "observations": "changed"})  # same cycle: no-op
    got = om.get_observational_memory(None, record.resource_id)
    assert got is not None and got.buffered_observation_chunks is not None
    (stored,) = got.buffered_observation_chunks
    assert stored.id.startswith("ombuf-") and stored.observations == c["observations"]
    assert stored.extracted_values == {"name": "Ada"} and stored.extraction_failures == c["extractionFailures"]
    assert stored.current_task == "write" and got.last_buffered_at_time == at
    with pytest.raises(NotFoundError):
        om.update_buffered_observations(id="missing", chunk=chunk(1))


def test_swap_activation_boundaries(om: ObservationalMemoryOps) -> None:
    record = resource_record(om)
    om.update_active_observations(id=record.id, observations="", token_count=0, last_observed_at=datetime.now(UTC),
                                  observed_message_ids=["keep"])
    first, second = chunk(700), chunk(700)
    for c in (first, second):
        om.update_buffered_observations(id=record.id, chunk=c)
    result = om.swap_buffered_to_active(id=record.id, activation_ratio=0, message_tokens_threshold=1000,
                                        current_pending_tokens=1400)
    assert result.chunks_activated == 1 and result.activated_cycle_ids == [first["cycleId"]]
    assert result.message_tokens_activated == 700 and result.observation_tokens_activated == 350
    assert result.messages_activated == 1 and result.observations == first["observations"]
    got = om.get_observational_memory(None, record.resource_id)
    assert got is not None and got.active_observations == first["observations"]
    assert [c.cycle_id for c in got.buffered_observation_chunks or []] == [second["cycleId"]]
    assert got.pending_message_tokens == 700 and got.observed_message_ids == ["keep"]
    result = om.swap_buffered_to_active(id=record.id, activation_ratio=1, message_tokens_threshold=1000,
                                        current_pending_tokens=700)
    assert result.activated_cycle_ids == [second["cycleId"]]
    got = om.get_observational_memory(None, record.resource_id)
    assert got is not None and got.buffered_observation_chunks is None
    assert got.active_observations.startswith(first["observations"] + "\n\n--- message boundary (")
    assert got.active_observations.endswith(") ---\n\n" + second["observations"])
    again = om.swap_buffered_to_active(id=record.id, activation_ratio=1, message_tokens_threshold=1000,
                                       current_pending_tokens=0)
    assert again.chunks_activated == 0
    assert om.get_observational_memory(None, record.resource_id) == got


def test_partial_activation() -> None:
    assert activation_count([600, 600], ratio=0.5, threshold=1000, pending=1200, force=False) == 1
    assert activation_count([700, 700], ratio=0, threshold=1000, pending=1400, force=False) == 1
    assert activation_count([700], ratio=1, threshold=1000, pending=700, force=False) == 1
    assert activation_count([100, 100, 100], ratio=1, threshold=1000, pending=300, force=False) == 3
    assert activation_count([0, 0], ratio=0, threshold=1000, pending=0, force=False) == 1


def test_caller_weights_override_stored_tokens(om: ObservationalMemoryOps) -> None:
    record = resource_record(om)
    om.update_buffered_observations(id=record.id, chunk=chunk(100))
    om.update_buffered_observations(id=record.id, chunk=chunk(100))
    got = om.get_observational_memory(None, record.resource_id)
    assert got is not None and got.buffered_observation_chunks is not None
    weights = [{"id": c.id, "messageTokens": 2000} for c in got.buffered_observation_chunks]
    result = om.swap_buffered_to_active(id=record.id, activation_ratio=1, message_tokens_threshold=1000,
                                        current_pending_tokens=2000, buffered_chunks=weights[:1])
    assert result.chunks_activated == 1 and result.message_tokens_activated == 2000


# ------------------------------------------------------------------ buffered reflection
def test_buffered_reflection_swap(om: ObservationalMemoryOps, clock: FakeClock) -> None:
    record = resource_record(om)
    lines = "\n".join(f"line {i}" for i in range(1, 8))
    om.update_active_observations(id=record.id, observations=lines, token_count=70,
                                  last_observed_at=datetime.now(UTC))
    om.update_buffered_reflection(id=record.id, reflection="summary A", token_count=5, input_token_count=50,
                                  reflected_observation_line_count=4)
    om.update_buffered_reflection(id=record.id, reflection="summary B", token_count=3, input_token_count=20,
                                  reflected_observation_line_count=5)
    got = om.get_observational_memory(None, record.resource_id)
    assert got is not None and got.buffered_reflection == "summary A\n\nsummary B"
    assert got.buffered_reflection_tokens == 8 and got.buffered_reflection_input_tokens == 70
    assert got.reflected_observation_line_count == 5
    clock.advance(seconds=1)
    new = om.swap_buffered_reflection_to_active(current_record=got, token_count=9)
    assert new.generation_count == 1 and new.active_observations == "summary A\n\nsummary B\n\nline 6\nline 7"
    assert new.buffered_reflection is None and new.observation_token_count == 9
    old = om.get_observational_memory_history(None, record.resource_id)[1]
    assert old.buffered_reflection is None and old.reflected_observation_line_count is None
    assert old.active_observations == lines
    with pytest.raises(ValidationError, match="No buffered reflection to swap"):
        om.swap_buffered_reflection_to_active(current_record=new, token_count=1)


# ------------------------------------------------------------------ insert / clear
def test_insert_and_clear(om: ObservationalMemoryOps, clock: FakeClock) -> None:
    records = _generations(om, clock, 2)
    rid = records[0].resource_id
    copy = records[1].model_copy(update={"id": "copied", "thread_id": "t-copy", "scope": "thread"})
    om.insert_observational_memory_record(copy)
    assert om.get_observational_memory("t-copy", rid) == copy
    om.clear_observational_memory(None, rid)
    assert om.get_observational_memory(None, rid) is None
    assert om.get_observational_memory_history(None, rid) == []
    with pytest.raises(NotFoundError):
        om.set_observing_flag(records[0].id, True)
    assert om.get_observational_memory("t-copy", rid) is not None  # other keys untouched
    om.clear_observational_memory(None, "unknown")
