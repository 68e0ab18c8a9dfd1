"""ScoreItem (models/scores.py) stores exactly the score layout of access-patterns 2.3 (a small item: createdAt
as the gsi1 sort key, index sort keys without an id, only the copies listings filter on, one write stamp, the
JSON compressed from 256 bytes), and the requests built from it (models/requests.py) are PynamoDB's, for the
store's table, without PynamoDB's transport."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from pynamodb.constants import ALL_NEW

from mastra_dynamo.dynamo.codec import COMPRESS_MIN_BYTES, Item, decode_json, encode_json, item_size
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.errors import ValidationError
from mastra_dynamo.models import requests
from mastra_dynamo.models.base import UNBOUND_TABLE_NAME, TableItem, UnboundModelError
from mastra_dynamo.models.scores import (
    DATA_COMPRESS_MIN_BYTES,
    IS_SCORE,
    ScoreItem,
    stamp_time,
    write_stamp_for,
)
from mastra_dynamo.models.table import model_schema
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.table import TABLE_SPEC
from mastra_dynamo.stores import listing

NOW = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
COPIED = ("entityId", "entityType", "source", "organizationId", "projectId")


def reference_item(score_id: str, data: dict[str, Any], created_ts: str, expires_at: int | None) -> Item:
    """The score item of layout 2.3, built by hand."""
    key = keys.score_key(score_id)
    item: Item = {
        "pk": {"S": key.pk},
        "sk": {"S": key.sk},
        "data": encode_json(data, field="score", compress_min=DATA_COMPRESS_MIN_BYTES),
        "updatedAt": {"S": created_ts},
    }
    for attr in COPIED:
        value = data.get(attr)
        if isinstance(value, str):
            item[attr] = {"S": value}
    item["gsi1pk"] = {"S": keys.scores_by_scorer_pk(data["scorerId"])}
    item["gsi1sk"] = {"S": created_ts}
    item["gsi2pk"] = {"S": keys.scores_by_run_pk(data["runId"])}
    item["gsi2sk"] = {"S": created_ts}
    item["gsi3sk"] = {"S": created_ts}
    item["gsi4sk"] = {"S": created_ts}
    if isinstance(data.get("entityType"), str):
        item["gsi3pk"] = {"S": keys.scores_by_entity_pk(data["entityType"], data["entityId"])}
    if isinstance(data.get("traceId"), str) and isinstance(data.get("spanId"), str):
        item["gsi4pk"] = {"S": keys.scores_by_span_pk(data["traceId"], data["spanId"])}
    item["_et"] = {"S": "score"}
    item["_sv"] = {"N": str(TABLE_SPEC.schema_version)}
    if expires_at is not None:
        item["ttl"] = {"N": str(expires_at)}
    return item


def score_data(score_id: str = "s#1", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"scorerId": "scorer/1", "entityId": "agent#1", "runId": "run-1", "score": 0.75,
                            "scorer": {"id": "scorer/1"}, "source": "LIVE", "entity": {"id": "agent#1"},
                            "id": score_id}
    data.update(extra)
    return data


SHAPES = {
    "minimal": score_data(),
    "typed entity": score_data(entityType="AGENT"),
    "span": score_data(traceId="t%1", spanId="s~1"),
    "span without trace": score_data(spanId="s1"),
    "tenancy": score_data(entityType="WORKFLOW", organizationId="org", projectId="p", traceId="t", spanId="s"),
    "unicode and nesting": score_data(reason="héllo ✓", metadata={"": [1, 1.5, None, True, {"deep": "x"}]}),
    "typical": score_data(reason="the answer names the right city and cites the tool result", entityType="AGENT",
                          input={"question": "what is the weather in Paris"}, traceId="t", spanId="s",
                          output={"text": "It is sunny in Paris, 21 degrees, light wind from the west."}),
    "compressed": score_data(output={"text": "a" * (COMPRESS_MIN_BYTES * 2)}),
}


@pytest.mark.parametrize("expires_at", [None, 1_900_000_000])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_score_item_serializes_to_the_layout(shape: str, expires_at: int | None) -> None:
    data = SHAPES[shape]
    item = ScoreItem.new(data["id"], data, created_at=NOW, expires_at=expires_at)
    assert item.serialize() == reference_item(data["id"], data, keys.ts(NOW), expires_at)


def test_the_layout_spelled_out() -> None:
    data = score_data(entityType="AGENT", traceId="t", spanId="s")
    ts = "2026-01-02T03:04:05.123456Z"
    assert ScoreItem.new("s#1", data, created_at=NOW, expires_at=1_900_000_000).serialize() == {
        "pk": {"S": "S#s%231"}, "sk": {"S": "S"},
        "data": {"S": json.dumps(data, separators=(",", ":"), ensure_ascii=False)},  # below 256 bytes: text
        "updatedAt": {"S": ts},
        "entityId": {"S": "agent#1"}, "entityType": {"S": "AGENT"}, "source": {"S": "LIVE"},
        "gsi1pk": {"S": "SC#scorer/1"}, "gsi1sk": {"S": ts},
        "gsi2pk": {"S": "SR#run-1"}, "gsi2sk": {"S": ts},
        "gsi3pk": {"S": "SE#AGENT#agent%231"}, "gsi3sk": {"S": ts},
        "gsi4pk": {"S": "SS#t#s"}, "gsi4sk": {"S": ts},
        "_et": {"S": "score"}, "_sv": {"N": "2"}, "ttl": {"N": "1900000000"},
    }


def test_the_json_is_compressed_from_256_bytes_when_that_is_smaller() -> None:
    small = score_data(reason="x" * 40)
    text = json.dumps(small, separators=(",", ":"), ensure_ascii=False)
    assert len(text) < DATA_COMPRESS_MIN_BYTES == 256
    assert ScoreItem.new("s#1", small, created_at=NOW).serialize()["data"] == {"S": text}
    typical = SHAPES["typical"]
    raw = ScoreItem.new(typical["id"], typical, created_at=NOW).serialize()
    assert set(raw["data"]) == {"B"} and decode_json(raw["data"]) == typical
    assert len(raw["data"]["B"]) < len(json.dumps(typical, separators=(",", ":")))
    assert ScoreItem.record_from_raw(raw).model_dump(by_alias=True, exclude_none=True) == {
        **typical, "createdAt": NOW, "updatedAt": NOW}


WORDS = ["agent", "memory", "thread", "message", "tool", "call", "result", "weather", "storage", "table", "index",
         "query", "page", "window", "recall", "working", "user", "assistant", "answer", "question", "context",
         "token", "model", "stream", "step", "snapshot", "score"]


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words))


def bench_score(rng: random.Random, i: int) -> dict[str, Any]:
    """A score like those of the standard bench workload (bench/plan.py), with a UUID-like id."""
    scorer, entity = f"scorer-{i % 4}", f"agent-{i % 10}"
    return {"id": f"2b5c1c3e-3f1c-4b2e-9a44-1c2d3e4f{i:04d}", "scorerId": scorer, "entityId": entity,
            "entityType": "AGENT", "runId": f"score-run-{i % 20}", "score": round(rng.random(), 3),
            "reason": _text(rng, 15), "source": "LIVE",
            "scorer": {"id": scorer, "name": scorer, "description": "bench scorer"},
            "entity": {"id": entity, "name": entity}, "input": {"question": _text(rng, 10)},
            "output": {"text": _text(rng, 40)}, "traceId": f"trace-{i}", "spanId": f"span-{i}"}


def test_a_typical_score_is_one_write_unit_on_the_table_and_on_each_index() -> None:
    """A bench score (~0.8 KB of JSON) as a save stores it fits in 1 KB: 1 write unit on the table and on each
    of the four ALL indexes it is in (5 per save)."""
    rng = random.Random(7)
    for i in range(50):
        data = bench_score(rng, i)
        raw = ScoreItem.new(data["id"], data, created_at=NOW, expires_at=1_900_000_000,
                            write_id="0123456789abcdef", write_time=NOW).serialize()
        assert all(f"gsi{n}pk" in raw for n in (1, 2, 3, 4))
        assert item_size(raw) <= 1024 - 200, item_size(raw)  # with room for a longer reason or output


def test_a_save_adds_its_write_stamp() -> None:
    data = SHAPES["minimal"]
    later = NOW.replace(microsecond=7)
    raw = ScoreItem.new(data["id"], data, created_at=NOW, write_id="0123456789abcdef", write_time=later).serialize()
    stamp = write_stamp_for(later, "0123456789abcdef")
    assert raw == {**reference_item(data["id"], data, keys.ts(NOW), None), "_w": {"S": stamp}}
    micros = ((later.toordinal() - 1) * 86_400 + 3 * 3600 + 4 * 60 + 5) * 1_000_000 + 7  # since 0001-01-01
    assert stamp == f"{micros:015x}0123456789abcdef" and stamp_time(stamp) == later
    assert ScoreItem.from_raw_data(raw).write_stamp == stamp
    assert ScoreItem.written_by(raw) == stamp and ScoreItem.written_by(reference_item("a", data, "t", None)) is None
    assert ScoreItem.record_from_raw(raw) == ScoreItem.new(data["id"], data, created_at=NOW).record()


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_score_in_mastras_shape_becomes_the_item_of_that_score(shape: str) -> None:
    data = SHAPES[shape]
    later = NOW.replace(day=3)
    record = ScoreItem.new(data["id"], data, created_at=NOW).record().to_mastra()
    record["updatedAt"] = keys.ts(later)
    raw = ScoreItem.from_mastra(record, expires_at=1_900_000_000).serialize()
    expected = reference_item(data["id"], data, keys.ts(NOW), 1_900_000_000)
    assert decode_json(raw.pop("data")) == decode_json(expected.pop("data")) == data  # (the text orders keys by field)
    assert raw == {**expected, "updatedAt": {"S": keys.ts(later)}}
    item = ScoreItem.from_mastra(record)
    assert ScoreItem.record_from_raw(item.serialize()).to_mastra() == record
    record["updatedAt"] = None  # a score without updatedAt
    assert "updatedAt" not in ScoreItem.from_mastra(record).serialize()
    assert ScoreItem.record_from_raw(ScoreItem.from_mastra(record).serialize()).updated_at is None


def test_a_score_without_id_or_created_at_is_not_a_stored_score() -> None:
    for missing in ("id", "createdAt"):
        record = {**score_data(), "createdAt": "2026-01-02T03:04:05Z"}
        del record[missing]
        with pytest.raises(ValidationError):
            ScoreItem.from_mastra(record)
    with pytest.raises(ValidationError):
        ScoreItem.from_mastra({**score_data(), "createdAt": "2026-01-02T03:04:05Z", "score": "high"})


def test_write_stamps_order_by_write_time_then_write_id() -> None:
    times = [datetime(1, 1, 1, tzinfo=UTC), datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC), NOW,
             NOW.replace(microsecond=123457), datetime(9998, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)]
    stamps = [write_stamp_for(t, "f" * 16) for t in times]
    assert sorted(stamps) == stamps and {len(s) for s in stamps} == {31}
    assert [stamp_time(s) for s in stamps] == times
    assert write_stamp_for(NOW, "0" * 16) < write_stamp_for(NOW, "1" * 16) < write_stamp_for(
        NOW.replace(microsecond=123457), "0" * 16)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_the_record_of_a_write_is_the_record_read_back(shape: str) -> None:
    data = SHAPES[shape]
    stored = ScoreItem.new(data["id"], data, created_at=NOW, write_id="0123456789abcdef", write_time=NOW).serialize()
    stored["updatedAt"] = {"S": keys.ts(NOW.replace(microsecond=9))}  # an upsert of an existing score
    assert ScoreItem.record_of_write(data, stored) == ScoreItem.record_from_raw(stored)


def test_large_records_are_stored_compressed_and_read_back() -> None:
    data = SHAPES["compressed"]
    raw = ScoreItem.new(data["id"], data, created_at=NOW).serialize()
    assert set(raw["data"]) == {"B"} and decode_json(raw["data"]) == data
    assert ScoreItem.from_raw_data(raw).data == data


def test_an_item_written_before_the_sort_keys_lost_their_id_still_reads() -> None:
    """Items of this layout written earlier: ``<ts>#<id>`` sort keys, a ``createdAt`` copy, JSON as text."""
    data = SHAPES["typical"]
    ts = keys.ts(NOW)
    earlier = {**reference_item(data["id"], data, ts, None), "data": {"S": json.dumps(data)},
               "createdAt": {"S": ts}, "scorerId": {"S": data["scorerId"]}, "runId": {"S": data["runId"]},
               "_wid": {"S": "w-1"}, "_wt": {"S": ts}}
    for n in (1, 2, 3, 4):
        earlier[f"gsi{n}sk"] = {"S": f"{ts}#{keys.component(data['id'])}"}
    record = ScoreItem.record_from_raw(earlier)
    assert record.created_at == NOW and record.updated_at == NOW and record.id == data["id"]
    assert ScoreItem.written_by(earlier) is None  # no write stamp: the next save's guard lets it through


@pytest.mark.parametrize("shape", list(SHAPES))
def test_reads_decode_through_the_model(shape: str) -> None:
    data = SHAPES[shape]
    raw = reference_item(data["id"], data, keys.ts(NOW), 1_900_000_000)
    loaded = ScoreItem.from_raw_data(raw)
    assert loaded.serialize() == raw
    assert loaded.ttl == datetime.fromtimestamp(1_900_000_000, tz=UTC)
    record = ScoreItem.record_from_raw(raw)
    assert record == loaded.record()
    assert record.created_at == NOW and record.updated_at == NOW and record.id == data["id"]
    without_updated = {k: v for k, v in raw.items() if k != "updatedAt"}
    assert ScoreItem.record_from_raw(without_updated).updated_at is None


def test_models_have_no_transport_of_their_own() -> None:
    item = ScoreItem.new("s1", score_data("s1"), created_at=NOW)
    with pytest.raises(UnboundModelError):
        item.save()
    with pytest.raises(UnboundModelError):
        ScoreItem.get("S#s1", "S")
    requests.update_item("some-table", item, ScoreItem.upsert_actions(item.serialize()))
    requests.get_item("some-table", keys.score_key("s1"), consistent=True)
    assert requests._builder._client is None  # the builder Connection never created a botocore client


def test_the_base_model_declares_the_tables_keys_and_indexes() -> None:
    schema = model_schema(TableItem)
    assert (schema["partition_key"], schema["sort_key"]) == (TABLE_SPEC.partition_key, TABLE_SPEC.sort_key)
    assert schema["ttl_attribute"] == TABLE_SPEC.ttl_attribute
    assert schema["gsis"] == {g.name: (g.partition_key, g.sort_key, g.projection, g.non_key_attributes)
                              for g in TABLE_SPEC.gsis}
    assert TableItem.item_type.attr_name == TABLE_SPEC.entity_attribute
    assert TableItem.schema_version.attr_name == TABLE_SPEC.schema_version_attribute
    assert requests.index_keys(ScoreItem.gsi2) == ("gsi2", "gsi2pk", "gsi2sk")


# ---------------------------------------------------------------------------- requests
def test_get_and_put_requests_name_the_stores_table() -> None:
    assert requests.get_item("t1", keys.score_key("a"), consistent=True) == {
        "TableName": "t1", "Key": {"pk": {"S": "S#a"}, "sk": {"S": "S"}}, "ConsistentRead": True}
    item = ScoreItem.new("a", score_data("a"), created_at=NOW)
    put = requests.put_item("t2", item)
    assert put == {"TableName": "t2", "Item": item.serialize()}


@pytest.mark.parametrize("expires_at", [None, 1_900_000_000])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_an_upsert_is_the_request_pynamodb_builds(shape: str, expires_at: int | None) -> None:
    data = SHAPES[shape]
    item = ScoreItem.new(data["id"], data, created_at=NOW, expires_at=expires_at)
    serialized = item.serialize()
    for table in ("table-a", "table-b"):  # the second call reuses the shape PynamoDB built for the first
        upsert = requests.upsert_item(table, item, serialized, now_epoch=1_800_000_000, return_values=ALL_NEW)
        assert upsert == requests.update_item(table, item, ScoreItem.upsert_actions(serialized),
                                              condition=ScoreItem.absent_or_alive(1_800_000_000),
                                              return_values=ALL_NEW)
        assert upsert["TableName"] == table and upsert["ReturnValues"] == "ALL_NEW"


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_guarded_upsert_is_the_request_pynamodb_builds(shape: str) -> None:
    data = SHAPES[shape]
    item = ScoreItem.new(data["id"], data, created_at=NOW, expires_at=1_900_000_000,
                         write_id="0123456789abcdef", write_time=NOW)
    serialized = item.serialize()
    for table in ("table-a", "table-b"):
        upsert = requests.upsert_item(table, item, serialized, now_epoch=1_800_000_000, return_values=ALL_NEW)
        assert upsert == requests.update_item(table, item, ScoreItem.upsert_actions(serialized),
                                              condition=ScoreItem.upsert_condition(1_800_000_000, serialized),
                                              return_values=ALL_NEW)


def test_a_guarded_upsert_is_conditioned_on_the_stored_write() -> None:
    data = SHAPES["minimal"]
    item = ScoreItem.new(data["id"], data, created_at=NOW, write_id="0123456789abcdef", write_time=NOW)
    stamp = write_stamp_for(NOW, "0123456789abcdef")
    request = requests.upsert_item("t", item, item.serialize(), now_epoch=1_800_000_000)
    names, values = request["ExpressionAttributeNames"], request["ExpressionAttributeValues"]

    def spelled(match: re.Match[str]) -> str:  # a placeholder as its name or (value)
        p = match.group(0)
        return names[p] if p.startswith("#") else f"({next(iter(values[p].values()))})"

    assert re.sub(r"[#:]\d+", spelled, request["ConditionExpression"]) == (
        f"((attribute_not_exists (pk) OR _w = ({stamp})) OR ((attribute_not_exists (ttl) OR ttl > (1800000000)) AND "
        f"(attribute_not_exists (_w) OR _w < ({stamp}))))")


def test_an_upsert_sets_what_the_item_has_and_removes_the_optional_rest() -> None:
    data = SHAPES["minimal"]
    item = ScoreItem.new(data["id"], data, created_at=NOW)
    request = requests.upsert_item("t", item, item.serialize(), now_epoch=1_800_000_000)
    names = {v: k for k, v in request["ExpressionAttributeNames"].items()}
    values = request["ExpressionAttributeValues"]
    update = request["UpdateExpression"]
    sets, removes = update.removeprefix("SET ").split(" REMOVE ")
    removed = {request["ExpressionAttributeNames"][p.strip()] for p in removes.split(",")}
    assert removed == {"entityType", "organizationId", "projectId", "gsi3pk", "gsi4pk", "ttl",
                       "_w"}  # an item without a write stamp (a save always has one)
    for attr in ("gsi1sk", "gsi2sk", "gsi3sk", "gsi4sk"):  # gsi1sk: createdAt
        assert f"{names[attr]} = if_not_exists ({names[attr]}, " in sets
    assert {"createdAt", "scorerId", "runId", "traceId", "spanId", "_wid", "_wt"}.isdisjoint(names)
    for attr in ("data", "updatedAt", "gsi1pk", "entityId", "source", "_et", "_sv"):
        assert f"{names[attr]} = :" in sets
    now = next(p for p, v in values.items() if v == {"N": "1800000000"})
    assert request["ConditionExpression"] == (f"(attribute_not_exists ({names['pk']}) OR "
                                              f"(attribute_not_exists ({names['ttl']}) OR {names['ttl']} > {now}))")
    assert request["Key"] == {"pk": {"S": "S#s%231"}, "sk": {"S": "S"}}


def test_a_condition_becomes_a_listing_filter() -> None:
    build = requests.condition_filter(
        lambda: IS_SCORE & ScoreItem.not_expired(1_800_000_000) & (ScoreItem.source == "LIVE"))
    expr = Expr()
    query = listing.PartitionQuery(*requests.index_keys(ScoreItem.gsi1), keys.scores_by_scorer_pk("x"))
    filter_expression = build(expr)
    params = expr.apply(query.params(ascending=False, expr=expr, filter_expression=filter_expression, limit=5))
    names, values = params["ExpressionAttributeNames"], params["ExpressionAttributeValues"]
    assert {names[p] for p in names} == {"_et", "ttl", "source", "gsi1pk"}
    assert params["FilterExpression"] == "((#0 = :0 AND (attribute_not_exists (#1) OR #1 > :1)) AND #2 = :2)"
    assert (names["#0"], values[":0"]) == ("_et", {"S": "score"})
    assert (names["#1"], values[":1"]) == ("ttl", {"N": "1800000000"})
    assert (names["#2"], values[":2"]) == ("source", {"S": "LIVE"})
    assert params["KeyConditionExpression"] == "#n0 = :v3" and values[":v3"] == {"S": "SC#x"}
    assert params["IndexName"] == "gsi1"


def test_json_attributes_set_python_values_in_their_stored_format() -> None:
    big = {"text": "b" * (COMPRESS_MIN_BYTES * 2)}
    request = requests.update_item("t", ScoreItem.new("a", score_data("a"), created_at=NOW),
                                   [ScoreItem.data.set(big), ScoreItem.created_at.set(ScoreItem.created_at | NOW)])
    values = request["ExpressionAttributeValues"]
    assert set(values[":0"]) == {"B"} and decode_json(values[":0"]) == big
    assert values[":1"] == {"S": keys.ts(NOW)}
    assert request["UpdateExpression"] == "SET #0 = :0, #1 = if_not_exists (#1, :1)"
    assert request["TableName"] == "t" and UNBOUND_TABLE_NAME not in json.dumps(request, default=str)


def test_key_requests_are_pynamodbs_for_the_stores_table() -> None:
    """update_key / delete_item / condition_check carry the key and expressions PynamoDB serialized, and
    transact() wraps any of them as a transaction action without ReturnValues."""
    key = keys.score_key("s1")
    update = requests.update_key("t1", key, [ScoreItem.source.set("x")], condition=ScoreItem.pk.exists(),
                                 return_values=ALL_NEW)
    assert update["TableName"] == "t1"
    assert update["Key"] == {"pk": {"S": key.pk}, "sk": {"S": key.sk}}
    assert update["UpdateExpression"] == "SET #1 = :0"
    assert update["ConditionExpression"] == "attribute_exists (#0)"
    assert update["ExpressionAttributeNames"] == {"#0": "pk", "#1": "source"}
    assert update["ExpressionAttributeValues"] == {":0": {"S": "x"}}
    deleted = requests.delete_item("t1", key, condition=ScoreItem.write_stamp == "w")
    assert deleted["Key"] == update["Key"] and deleted["ConditionExpression"] == "#0 = :0"
    check = requests.condition_check("t1", key, ScoreItem.pk.exists())
    assert set(check) == {"TableName", "Key", "ConditionExpression", "ExpressionAttributeNames"}
    action = requests.transact("Update", update)
    assert list(action) == ["Update"] and "ReturnValues" not in action["Update"]
    assert action["Update"]["UpdateExpression"] == update["UpdateExpression"]


@pytest.mark.parametrize("expires_at", [None, 1_900_000_000])
@pytest.mark.parametrize("created_at", [NOW, datetime(2026, 1, 2, 3, 4, 5)])
def test_a_score_item_encoded_without_an_instance_is_the_same(expires_at: int | None, created_at: datetime) -> None:
    typed = {**score_data("s#1"), "entityType": "AGENT", "traceId": "t1", "spanId": "p1", "organizationId": "o1",
             "output": {"text": "a longer output " * 40}}
    for data in (score_data("s#1"), typed):
        for write_id, write_time in ((None, None), ("0123456789abcdef", NOW)):
            assert ScoreItem.item_of("s#1", data, created_at=created_at, expires_at=expires_at, write_id=write_id,
                                     write_time=write_time) == ScoreItem.new(
                "s#1", data, created_at=created_at, expires_at=expires_at, write_id=write_id,
                write_time=write_time).serialize()
