"""The agents domain's items as PynamoDB models: the same stored layout as before the models.

``reference_*`` below are the item builders and decoders of ``stores/agents.py`` before the models (layout v2),
kept here as the definition of the layout the models must write and read."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from mastra_dynamo.dynamo.codec import COMPRESS_MIN_BYTES, Item, decode_json, decode_value, encode_json
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.errors import ItemTooLargeError, ValidationError
from mastra_dynamo.models import requests
from mastra_dynamo.models.agents import (
    IS_AGENT,
    AgentItem,
    AgentVersionItem,
    AgentVersionRefItem,
    entity_of,
    expiry_of,
    key_of,
    revision_of,
)
from mastra_dynamo.models.agents_requests import ConditionTemplate, GetRequests
from mastra_dynamo.models.base import TableItem
from mastra_dynamo.records.agents import Agent, AgentVersion
from mastra_dynamo.records.base import json_data
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.table import TABLE_SPEC
from mastra_dynamo.stores import agent_versions, listing
from mastra_dynamo.stores import agents as agents_store

NOW = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
LATER = datetime(2026, 1, 3, 0, 0, 0, 1000, tzinfo=UTC)
EXPIRES = 1_900_000_000


# ---------------------------------------------------------------------------- the layout before the models
def stamp(item: Item, entity: str, expires_at: int | None) -> Item:
    """``DynamoDomain.stamp``."""
    item["_et"] = {"S": entity}
    item["_sv"] = {"N": str(TABLE_SPEC.schema_version)}
    if expires_at is not None:
        item["ttl"] = {"N": str(expires_at)}
    return item


def reference_agent_item(agent: Agent, expires_at: int | None, rev: int | None = None) -> Item:
    """``DynamoAgentsStore._agent_item`` (and the ``_rev`` that ``update`` added to it)."""
    data = json_data(agent, what="agent", by_alias=True, exclude_unset=False)
    key = keys.agent_key(agent.id)
    cid = keys.component(agent.id)
    created, updated = keys.ts(agent.created_at), keys.ts(agent.updated_at)
    item: Item = {
        "pk": {"S": key.pk}, "sk": {"S": key.sk},
        "data": encode_json({k: v for k, v in data.items() if k not in ("createdAt", "updatedAt")},
                            field="agent"),
        "createdAt": {"S": created}, "updatedAt": {"S": updated},
        "status": {"S": agent.status},
        "gsi3pk": {"S": keys.agents_global_pk(keys.shard_of(agent.id, keys.GLOBAL_SHARDS))},
        "gsi3sk": {"S": f"{created}#{cid}"},
        "gsi4pk": {"S": keys.agents_global_pk(keys.shard_of(agent.id, keys.GLOBAL_SHARDS))},
        "gsi4sk": {"S": f"{updated}#{cid}"},
    }
    if agent.visibility is not None:
        item["visibility"] = {"S": agent.visibility}
    if agent.author_id is not None:
        item["authorId"] = {"S": agent.author_id}
        item["gsi1pk"] = {"S": keys.agents_by_author_pk(agent.author_id)}
        item["gsi1sk"] = {"S": f"{created}#{cid}"}
        item["gsi2pk"] = {"S": keys.agents_by_author_pk(agent.author_id)}
        item["gsi2sk"] = {"S": f"{updated}#{cid}"}
    item = stamp(item, "agent", expires_at)
    if rev is not None:
        item["_rev"] = {"N": str(rev)}
    return item


def reference_decode_agent(item: Item) -> Agent:
    data = decode_json(item["data"])
    data["createdAt"] = decode_value(item["createdAt"], "datetime")
    data["updatedAt"] = decode_value(item["updatedAt"], "datetime")
    return Agent.model_validate(data)


def reference_version_item(version: AgentVersion, expires_at: int | None) -> Item:
    data = json_data(version, what="agent version", by_alias=True, exclude_unset=True)
    key = keys.agent_version_key(version.agent_id, version.version_number)
    item: Item = {
        "pk": {"S": key.pk}, "sk": {"S": key.sk},
        "data": encode_json({k: v for k, v in data.items() if k != "createdAt"}, field="version"),
        "createdAt": {"S": keys.ts(version.created_at)},
        "id": {"S": version.id},
        "versionNumber": {"N": str(version.version_number)},
    }
    return stamp(item, "agent_version", expires_at)


def reference_decode_version(item: Item) -> AgentVersion:
    data = decode_json(item["data"])
    data["createdAt"] = decode_value(item["createdAt"], "datetime")
    return AgentVersion.model_validate(data)


def reference_ref_item(version: AgentVersion, expires_at: int | None) -> Item:
    key = keys.agent_version_ref_key(version.id)
    item: Item = {"pk": {"S": key.pk}, "sk": {"S": key.sk}, "agentId": {"S": version.agent_id},
                  "versionNumber": {"N": str(version.version_number)}}
    return stamp(item, "agent_version_ref", expires_at)


# ---------------------------------------------------------------------------- representative records
def agent(**fields: Any) -> Agent:
    return Agent.model_validate({"id": "a1", "status": "draft", "favoriteCount": 0, "createdAt": NOW,
                                 "updatedAt": NOW, **fields})


AGENTS = {
    "minimal": agent(),
    "no optional fields at all": Agent.model_validate({"id": "a1", "createdAt": NOW, "updatedAt": NOW}),
    "author": agent(authorId="team/1", visibility="private"),
    "visibility without author": agent(visibility="public"),
    "published with active version": agent(status="published", activeVersionId="v-9", updatedAt=LATER),
    "escaped id and author": agent(id="a#1%~x", authorId="u#2"),
    "unicode and nested metadata": agent(metadata={"héllo": "✓", "": [1, 1.5, None, True, {"deep": "x"}]}),
    "compressed": agent(metadata={"text": "a" * (COMPRESS_MIN_BYTES * 2)}, authorId="u"),
}


def version(**fields: Any) -> AgentVersion:
    return AgentVersion.model_validate({"id": "v1", "agentId": "a1", "versionNumber": 1, "createdAt": NOW,
                                        **fields})


VERSIONS = {
    "minimal": version(),
    "initial": version(name="Agent", instructions="Be helpful", model={"provider": "openai", "name": "gpt"},
                       changedFields=["name", "instructions", "model"], changeMessage="Initial version"),
    "number 0": version(versionNumber=0),
    "largest number": version(versionNumber=9_999_999_999),
    "escaped ids": version(id="v#1%", agentId="a~#2"),
    "explicit nulls": version(changedFields=None, changeMessage=None, description=None),
    "compressed": version(instructions="i" * (COMPRESS_MIN_BYTES * 2)),
}


@pytest.mark.parametrize("revision", [None, 1, 12])
@pytest.mark.parametrize("expires_at", [None, EXPIRES])
@pytest.mark.parametrize("shape", list(AGENTS))
def test_an_agent_item_has_the_layout_v2_item(shape: str, expires_at: int | None, revision: int | None) -> None:
    record = AGENTS[shape]
    values = AgentItem.values(record, expires_at=expires_at, revision=revision)
    expected = reference_agent_item(record, expires_at, revision)
    assert AgentItem(**values).serialize() == expected
    assert AgentItem.encode_item(values) == expected
    assert AgentItem.encode(record, expires_at=expires_at, revision=revision) == expected


@pytest.mark.parametrize("expires_at", [None, EXPIRES])
@pytest.mark.parametrize("shape", list(VERSIONS))
def test_a_version_and_its_pointer_have_the_layout_v2_items(shape: str, expires_at: int | None) -> None:
    record = VERSIONS[shape]
    row = AgentVersionItem.values(record, expires_at=expires_at)
    assert AgentVersionItem(**row).serialize() == reference_version_item(record, expires_at)
    assert AgentVersionItem.encode_item(row) == reference_version_item(record, expires_at)
    ref = AgentVersionRefItem.values(record, expires_at=expires_at)
    assert AgentVersionRefItem(**ref).serialize() == reference_ref_item(record, expires_at)
    assert AgentVersionRefItem.encode_item(ref) == reference_ref_item(record, expires_at)
    assert AgentVersionItem.encode(record, expires_at=expires_at) == reference_version_item(record, expires_at)
    assert AgentVersionRefItem.encode(record, expires_at=expires_at) == reference_ref_item(record, expires_at)


def test_the_layout_spelled_out() -> None:
    ts, later = "2026-01-02T03:04:05.123456Z", "2026-01-03T00:00:00.001000Z"
    record = agent(authorId="u", visibility="private", updatedAt=LATER)
    shard = keys.shard_of("a1", keys.GLOBAL_SHARDS)
    assert AgentItem.encode_item(AgentItem.values(record, expires_at=EXPIRES, revision=3)) == {
        "pk": {"S": "A#a1"}, "sk": {"S": "A"},
        "data": {"S": '{"id":"a1","status":"draft","activeVersionId":null,"authorId":"u","visibility":"private",'
                      '"metadata":null,"favoriteCount":0}'},
        "createdAt": {"S": ts}, "updatedAt": {"S": later}, "status": {"S": "draft"},
        "visibility": {"S": "private"}, "authorId": {"S": "u"},
        "gsi1pk": {"S": "AU#u"}, "gsi1sk": {"S": f"{ts}#a1"}, "gsi2pk": {"S": "AU#u"}, "gsi2sk": {"S": f"{later}#a1"},
        "gsi3pk": {"S": f"AA#{shard}"}, "gsi3sk": {"S": f"{ts}#a1"},
        "gsi4pk": {"S": f"AA#{shard}"}, "gsi4sk": {"S": f"{later}#a1"},
        "_et": {"S": "agent"}, "_sv": {"N": "2"}, "ttl": {"N": str(EXPIRES)}, "_rev": {"N": "3"},
    }
    v = version(versionNumber=42, name="n")
    assert AgentVersionItem.encode_item(AgentVersionItem.values(v, expires_at=None)) == {
        "pk": {"S": "A#a1"}, "sk": {"S": "V#0000000042"},
        "data": {"S": '{"id":"v1","agentId":"a1","versionNumber":42,"name":"n"}'},
        "createdAt": {"S": ts}, "id": {"S": "v1"}, "versionNumber": {"N": "42"},
        "_et": {"S": "agent_version"}, "_sv": {"N": "2"},
    }
    assert AgentVersionRefItem.encode_item(AgentVersionRefItem.values(v, expires_at=EXPIRES)) == {
        "pk": {"S": "AV#v1"}, "sk": {"S": "AV"}, "agentId": {"S": "a1"}, "versionNumber": {"N": "42"},
        "_et": {"S": "agent_version_ref"}, "_sv": {"N": "2"}, "ttl": {"N": str(EXPIRES)},
    }


def test_large_records_are_stored_compressed() -> None:
    raw = AgentItem.encode_item(AgentItem.values(AGENTS["compressed"], expires_at=None))
    assert set(raw["data"]) == {"B"}
    raw = AgentVersionItem.encode_item(AgentVersionItem.values(VERSIONS["compressed"], expires_at=None))
    assert set(raw["data"]) == {"B"}


def noise(size: int) -> str:
    """``size`` characters that zlib cannot shrink much (base64 of hashes)."""
    chunks = (hashlib.sha256(str(n).encode()).digest() for n in range(size // 32 + 1))
    return base64.b64encode(b"".join(chunks)).decode("ascii")[:size]


def test_an_item_too_large_to_store_is_refused_by_its_model() -> None:
    with pytest.raises(ItemTooLargeError) as info:
        AgentItem.encode(agent(metadata={"blob": noise(600_000)}), expires_at=None)
    assert (info.value.details["entity"], info.value.details["id"]) == ("agent", "a1")
    with pytest.raises(ItemTooLargeError) as info:
        AgentVersionItem.encode(version(instructions=noise(600_000)), expires_at=None)
    assert (info.value.details["entity"], info.value.details["id"]) == ("agent version", "v1")


def test_a_value_that_is_not_json_is_a_validation_error() -> None:
    with pytest.raises(ValidationError) as info:
        AgentItem.values(agent(metadata={"x": object()}), expires_at=None)
    assert info.value.code == "INVALID_JSON"


def test_a_required_attribute_without_value_is_refused_like_pynamodb_refuses_it() -> None:
    values = AgentVersionRefItem.values(VERSIONS["minimal"], expires_at=None)
    values["agent_id"] = None
    with pytest.raises(ValueError, match="agent_id"):
        AgentVersionRefItem.encode_item(values)
    with pytest.raises(Exception, match="agent_id"):
        AgentVersionRefItem(**values).serialize()


# ---------------------------------------------------------------------------- reads
@pytest.mark.parametrize("expires_at", [None, EXPIRES])
@pytest.mark.parametrize("shape", list(AGENTS))
def test_stored_agents_read_back_as_before(shape: str, expires_at: int | None) -> None:
    raw = reference_agent_item(AGENTS[shape], expires_at, 7)
    assert AgentItem.record_from_raw(raw) == reference_decode_agent(raw) == AGENTS[shape]
    loaded = AgentItem.from_raw_data(raw)
    assert loaded.serialize() == raw
    assert (expiry_of(raw), revision_of(raw), entity_of(raw)) == (expires_at, 7, "agent")
    assert key_of(raw) == keys.agent_key(AGENTS[shape].id)
    assert AgentVersionItem.stored_id(raw) is None
    assert revision_of(reference_agent_item(AGENTS[shape], expires_at)) is None


@pytest.mark.parametrize("shape", list(VERSIONS))
def test_stored_versions_and_pointers_read_back_as_before(shape: str) -> None:
    record = VERSIONS[shape]
    raw = reference_version_item(record, EXPIRES)
    assert AgentVersionItem.record_from_raw(raw) == reference_decode_version(raw) == record
    assert AgentVersionItem.record_if_id(raw, record.id) == record
    assert AgentVersionItem.record_if_id(raw, record.id + "-other") is None
    assert AgentVersionItem.from_raw_data(raw).serialize() == raw
    assert AgentVersionItem.stored_id(raw) == record.id
    assert key_of(raw) == keys.agent_version_key(record.agent_id, record.version_number)
    ref = reference_ref_item(record, None)
    assert AgentVersionRefItem.from_raw_data(ref).serialize() == ref
    assert AgentVersionRefItem.target(ref) == keys.agent_version_key(record.agent_id, record.version_number)
    assert (expiry_of(ref), entity_of(ref)) == (None, "agent_version_ref")


# ---------------------------------------------------------------------------- requests
def spelled(request: dict[str, Any], expression: str) -> str:
    """An expression with its placeholders replaced by the names and (values) they stand for."""
    names, values = request.get("ExpressionAttributeNames", {}), request.get("ExpressionAttributeValues", {})

    def one(match: re.Match[str]) -> str:
        p = match.group(0)
        return names[p] if p.startswith("#") else f"({next(iter(values[p].values()))})"

    return re.sub(r"[#:]\d+", one, expression)


def test_creates_are_puts_conditioned_on_a_free_key() -> None:
    """``attribute_not_exists(pk) OR NOT (not expired)``, as before the models, and the request
    ``requests.put_item`` builds."""
    record = VERSIONS["initial"]
    item = AgentVersionRefItem(**AgentVersionRefItem.values(record, expires_at=None))
    serialized = item.serialize()
    for now in (1_800_000_000, 1_800_000_001):
        put = agent_versions.ABSENT_OR_EXPIRED.bind(now=now).put("t1", serialized)
        condition = TableItem.pk.does_not_exist() | ~TableItem.not_expired(now)
        assert put == requests.put_item("t1", item, serialized=serialized, condition=condition)
        assert spelled(put, put["ConditionExpression"]) == (
            f"(attribute_not_exists (pk) OR (NOT (attribute_not_exists (ttl) OR ttl > ({now}))))")
    action = requests.transact("Put", put)
    assert action == {"Put": put}


@pytest.mark.parametrize("rev", [None, 1, 41])
def test_an_update_is_a_put_conditioned_on_the_revision_read(rev: int | None) -> None:
    record = AGENTS["author"]
    new_rev = (rev or 0) + 1
    item = AgentItem(**AgentItem.values(record, expires_at=EXPIRES, revision=new_rev))
    serialized = item.serialize()
    put = agents_store.REVISION(rev is not None).bind(rev=rev).put("t", serialized)
    assert put == requests.put_item("t", item, serialized=serialized, condition=AgentItem.revision_condition(rev))
    assert spelled(put, put["ConditionExpression"]) == (
        "attribute_not_exists (_rev)" if rev is None else f"_rev = ({rev})")
    assert put["Item"]["_rev"] == {"N": str(new_rev)}


@pytest.mark.parametrize(("visibility", "status"), [(None, None), ("public", None), (None, "draft"),
                                                    ("private", "published")])
def test_the_agent_listing_filter_is_the_condition_pynamodb_serializes(visibility: str | None,
                                                                       status: str | None) -> None:
    now = 1_800_000_000
    flt = agents_store.LISTING(visibility is not None, status is not None).bind(
        now=now, visibility=visibility, status=status).filter()

    def condition() -> Any:
        cond = IS_AGENT & AgentItem.not_expired(now)
        if visibility is not None:
            cond &= AgentItem.visibility == visibility
        if status is not None:
            cond &= AgentItem.status == status
        return cond

    reference = requests.condition_filter(condition)
    query = listing.PartitionQuery(*requests.index_keys(AgentItem.gsi3), keys.agents_global_pk("03"))
    built = []
    for builder in (flt, flt, reference):  # one template serves every Query of a listing
        expr = Expr()
        built.append(expr.apply(query.params(ascending=False, expr=expr, filter_expression=builder(expr),
                                             limit=11)))
    assert built[0] == built[1] == built[2]
    expected = f"(_et = (agent) AND (attribute_not_exists (ttl) OR ttl > ({now})))"
    if visibility is not None:
        expected = f"({expected} AND visibility = ({visibility}))"
    if status is not None:
        expected = f"({expected} AND status = ({status}))"
    assert spelled(built[0], built[0]["FilterExpression"]) == expected
    assert built[0]["IndexName"] == "gsi3"


def test_the_version_filter_hides_expired_items() -> None:
    flt = agent_versions.NOT_EXPIRED.bind(now=1_800_000_000).filter()
    expr = Expr()
    expression = flt(expr)
    reference = requests.condition_filter(lambda: TableItem.not_expired(1_800_000_000))
    other = Expr()
    assert (expression, expr.names, expr.values) == (reference(other), other.names, other.values)
    assert spelled({"ExpressionAttributeNames": expr.names, "ExpressionAttributeValues": expr.values},
                   expression) == "(attribute_not_exists (ttl) OR ttl > (1800000000))"


def test_a_template_binds_every_occurrence_of_a_slot() -> None:
    template = ConditionTemplate(lambda rev: (AgentItem.revision == rev) | (AgentItem.revision > rev),
                                 rev=AgentItem.revision)
    bound = template.bind(rev=5)
    assert bound.expression == "(#0 = :0 OR #0 > :1)"
    assert bound.names == {"#0": "_rev"} and bound.values == {":0": {"N": "5"}, ":1": {"N": "5"}}


def test_the_index_keys_of_the_listings() -> None:
    assert [requests.index_keys(i) for i in (AgentItem.gsi1, AgentItem.gsi2, AgentItem.gsi3, AgentItem.gsi4)] == [
        ("gsi1", "gsi1pk", "gsi1sk"), ("gsi2", "gsi2pk", "gsi2sk"), ("gsi3", "gsi3pk", "gsi3sk"),
        ("gsi4", "gsi4pk", "gsi4sk")]


@pytest.mark.parametrize("consistent", [True, False])
@pytest.mark.parametrize("key", [keys.agent_key("a#1"), keys.agent_version_key("a", 7),
                                 keys.agent_version_ref_key("v")])
def test_reads_by_key_are_the_get_requests_pynamodb_builds(consistent: bool, key: keys.Key) -> None:
    get = GetRequests(consistent=consistent)
    assert get("t1", key) == requests.get_item("t1", key, consistent=consistent)
    assert get("t2", key)["TableName"] == "t2"
    assert agent_versions.GET("t", key) == requests.get_item("t", key, consistent=True)


def test_one_attribute_decodes_as_the_model_decodes_it() -> None:
    raw = reference_agent_item(AGENTS["author"], EXPIRES, 4)
    loaded = AgentItem.from_raw_data(raw)
    for name in ("pk", "sk", "status", "visibility", "author_id", "revision", "gsi1pk", "created_at", "ttl", "data"):
        assert AgentItem.decode_attributes(raw, (name,))[name] == getattr(loaded, name)
    assert AgentItem.decode_attributes({**raw, "_rev": {"NULL": True}}, ("revision",))["revision"] is None
    assert revision_of(reference_agent_item(AGENTS["author"], None)) is None
