"""ScoreItem (models/scores.py) stores exactly the item layout v2 stored before the models, and the requests
built from it (models/requests.py) are PynamoDB's, for the store's table, without PynamoDB's transport."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from pynamodb.constants import ALL_NEW

from mastra_dynamo.dynamo.codec import COMPRESS_MIN_BYTES, Item, decode_json, encode_json
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.errors import ValidationError
from mastra_dynamo.models import requests
from mastra_dynamo.models.base import UNBOUND_TABLE_NAME, TableItem, UnboundModelError
from mastra_dynamo.models.scores import IS_SCORE, ScoreItem
from mastra_dynamo.models.table import model_schema
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.table import TABLE_SPEC
from mastra_dynamo.stores import listing

NOW = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
COPIED = ("scorerId", "entityId", "entityType", "runId", "traceId", "spanId", "source", "organizationId",
          "projectId")


def reference_item(score_id: str, data: dict[str, Any], created_ts: str, expires_at: int | None) -> Item:
    """The score item as ``DynamoScoresStore._item`` + ``stamp`` built it before the models (layout v2)."""
    key = keys.score_key(score_id)
    item: Item = {
        "pk": {"S": key.pk},
        "sk": {"S": key.sk},
        "data": encode_json(data, field="score"),
        "createdAt": {"S": created_ts},
        "updatedAt": {"S": created_ts},
    }
    for attr in COPIED:
        value = data.get(attr)
        if isinstance(value, str):
            item[attr] = {"S": value}
    sk = f"{created_ts}#{keys.component(score_id)}"
    item["gsi1pk"] = {"S": keys.scores_by_scorer_pk(data["scorerId"])}
    item["gsi1sk"] = {"S": sk}
    item["gsi2pk"] = {"S": keys.scores_by_run_pk(data["runId"])}
    item["gsi2sk"] = {"S": sk}
    item["gsi3sk"] = {"S": sk}
    item["gsi4sk"] = {"S": sk}
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
    "compressed": score_data(output={"text": "a" * (COMPRESS_MIN_BYTES * 2)}),
}


@pytest.mark.parametrize("expires_at", [None, 1_900_000_000])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_score_item_serializes_to_the_layout_v2_item(shape: str, expires_at: int | None) -> None:
    data = SHAPES[shape]
    item = ScoreItem.new(data["id"], data, created_at=NOW, expires_at=expires_at)
    assert item.serialize() == reference_item(data["id"], data, keys.ts(NOW), expires_at)


def test_the_layout_spelled_out() -> None:
    data = score_data(entityType="AGENT", traceId="t", spanId="s")
    ts = "2026-01-02T03:04:05.123456Z"
    assert ScoreItem.new("s#1", data, created_at=NOW, expires_at=1_900_000_000).serialize() == {
        "pk": {"S": "S#s%231"}, "sk": {"S": "S"},
        "data": {"S": json.dumps(data, separators=(",", ":"), ensure_ascii=False)},
        "createdAt": {"S": ts}, "updatedAt": {"S": ts},
        "scorerId": {"S": "scorer/1"}, "entityId": {"S": "agent#1"}, "entityType": {"S": "AGENT"},
        "runId": {"S": "run-1"}, "traceId": {"S": "t"}, "spanId": {"S": "s"}, "source": {"S": "LIVE"},
        "gsi1pk": {"S": "SC#scorer/1"}, "gsi1sk": {"S": f"{ts}#s%231"},
        "gsi2pk": {"S": "SR#run-1"}, "gsi2sk": {"S": f"{ts}#s%231"},
        "gsi3pk": {"S": "SE#AGENT#agent%231"}, "gsi3sk": {"S": f"{ts}#s%231"},
        "gsi4pk": {"S": "SS#t#s"}, "gsi4sk": {"S": f"{ts}#s%231"},
        "_et": {"S": "score"}, "_sv": {"N": "2"}, "ttl": {"N": "1900000000"},
    }


def test_a_save_adds_its_write_id_and_write_time() -> None:
    data = SHAPES["minimal"]
    later = NOW.replace(microsecond=7)
    raw = ScoreItem.new(data["id"], data, created_at=NOW, write_id="w-1", write_time=later).serialize()
    assert raw == {**reference_item(data["id"], data, keys.ts(NOW), None),
                   "_wid": {"S": "w-1"}, "_wt": {"S": "2026-01-02T03:04:05.000007Z"}}
    loaded = ScoreItem.from_raw_data(raw)
    assert (loaded.write_id, loaded.write_time) == ("w-1", keys.ts(later))
    assert ScoreItem.written_by(raw) == ("w-1", keys.ts(later))
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


def test_large_records_are_stored_compressed_and_read_back() -> None:
    data = SHAPES["compressed"]
    raw = ScoreItem.new(data["id"], data, created_at=NOW).serialize()
    assert set(raw["data"]) == {"B"} and decode_json(raw["data"]) == data
    assert ScoreItem.from_raw_data(raw).data == data


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
    item = ScoreItem.new(data["id"], data, created_at=NOW, expires_at=1_900_000_000, write_id="w-1",
                         write_time=NOW)
    serialized = item.serialize()
    for table in ("table-a", "table-b"):
        upsert = requests.upsert_item(table, item, serialized, now_epoch=1_800_000_000, return_values=ALL_NEW)
        assert upsert == requests.update_item(table, item, ScoreItem.upsert_actions(serialized),
                                              condition=ScoreItem.upsert_condition(1_800_000_000, serialized),
                                              return_values=ALL_NEW)


def test_a_guarded_upsert_is_conditioned_on_the_stored_write() -> None:
    data = SHAPES["minimal"]
    item = ScoreItem.new(data["id"], data, created_at=NOW, write_id="w-1", write_time=NOW)
    request = requests.upsert_item("t", item, item.serialize(), now_epoch=1_800_000_000)
    names, values = request["ExpressionAttributeNames"], request["ExpressionAttributeValues"]

    def spelled(match: re.Match[str]) -> str:  # a placeholder as its name or (value)
        p = match.group(0)
        return names[p] if p.startswith("#") else f"({next(iter(values[p].values()))})"

    assert re.sub(r"[#:]\d+", spelled, request["ConditionExpression"]) == (
        "((attribute_not_exists (pk) OR _wid = (w-1)) OR ((attribute_not_exists (ttl) OR ttl > (1800000000)) AND "
        f"(attribute_not_exists (_wt) OR _wt < ({keys.ts(NOW)}))))")


def test_an_upsert_sets_what_the_item_has_and_removes_the_optional_rest() -> None:
    data = SHAPES["minimal"]
    item = ScoreItem.new(data["id"], data, created_at=NOW)
    request = requests.upsert_item("t", item, item.serialize(), now_epoch=1_800_000_000)
    names = {v: k for k, v in request["ExpressionAttributeNames"].items()}
    values = request["ExpressionAttributeValues"]
    update = request["UpdateExpression"]
    sets, removes = update.removeprefix("SET ").split(" REMOVE ")
    removed = {request["ExpressionAttributeNames"][p.strip()] for p in removes.split(",")}
    assert removed == {"entityType", "traceId", "spanId", "organizationId", "projectId", "gsi3pk", "gsi4pk", "ttl",
                       "_wid", "_wt"}  # an item without a write id and time (a save always has them)
    for attr in ("createdAt", "gsi1sk", "gsi2sk", "gsi3sk", "gsi4sk"):
        assert f"{names[attr]} = if_not_exists ({names[attr]}, " in sets
    for attr in ("data", "updatedAt", "gsi1pk", "scorerId", "_et", "_sv"):
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
    deleted = requests.delete_item("t1", key, condition=ScoreItem.write_id == "w")
    assert deleted["Key"] == update["Key"] and deleted["ConditionExpression"] == "#0 = :0"
    check = requests.condition_check("t1", key, ScoreItem.pk.exists())
    assert set(check) == {"TableName", "Key", "ConditionExpression", "ExpressionAttributeNames"}
    action = requests.transact("Update", update)
    assert list(action) == ["Update"] and "ReturnValues" not in action["Update"]
    assert action["Update"]["UpdateExpression"] == update["UpdateExpression"]
