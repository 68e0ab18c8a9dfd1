"""Agent retention (TTL entity "agent"): versions share their agent's expiry, and expired agents and versions
are invisible on every read path, even before DynamoDB deletes them."""

from __future__ import annotations

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.errors import NotFoundError
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.keys import Key
from mastra_dynamo.schema.table import TABLE_SPEC
from mastra_dynamo.stores.agents import DynamoAgentsStore
from tests.conftest import Backend, FakeClock, StoreFactory, make_store

from .data import agent_data, ids, version_data

DAY = 86400
HALF_DAY = DAY // 2


@pytest.fixture
def ttl_store(store_factory: StoreFactory) -> DynamoDBStore:
    return store_factory(ttl={"agent": {"enabled": True, "defaultTtlSeconds": DAY}})


@pytest.fixture
def ttl_agents(ttl_store: DynamoDBStore) -> DynamoAgentsStore:
    return ttl_store.get_store("agents")


def raw_ttl(store: DynamoDBStore, key: Key) -> int | None:
    item = store.table.raw.get_item(TableName=store.table_name, Key={"pk": {"S": key.pk}, "sk": {"S": key.sk}},
                                    ConsistentRead=True)["Item"]
    attr = item.get(TABLE_SPEC.ttl_attribute)
    return None if attr is None else int(attr["N"])


def test_agent_and_version_one_carry_the_agent_retention(ttl_store: DynamoDBStore, ttl_agents: DynamoAgentsStore,
                                                         clock: FakeClock) -> None:
    ttl_agents.create(agent=agent_data("a"))
    v1 = ttl_agents.get_latest_version(agent_id="a")
    assert v1 is not None
    expected = int(clock.now.timestamp()) + DAY
    assert raw_ttl(ttl_store, keys.agent_key("a")) == expected
    assert raw_ttl(ttl_store, keys.agent_version_key("a", 1)) == expected
    assert raw_ttl(ttl_store, keys.agent_version_ref_key(v1.id)) == expected


def test_later_versions_expire_with_their_agent(ttl_store: DynamoDBStore, ttl_agents: DynamoAgentsStore,
                                                clock: FakeClock) -> None:
    ttl_agents.create(agent=agent_data("a"))
    agent_expiry = int(clock.now.timestamp()) + DAY
    clock.advance(seconds=HALF_DAY)
    ttl_agents.create_version(version=version_data("a", 2))
    assert raw_ttl(ttl_store, keys.agent_version_key("a", 2)) == agent_expiry
    assert raw_ttl(ttl_store, keys.agent_version_ref_key("a-v2")) == agent_expiry
    clock.advance(seconds=HALF_DAY + 1)
    assert ttl_agents.get_version(id="a-v2") is None
    assert ttl_agents.count_versions(agent_id="a") == 0


def test_update_keeps_the_agent_retention(ttl_store: DynamoDBStore, ttl_agents: DynamoAgentsStore,
                                          clock: FakeClock) -> None:
    ttl_agents.create(agent=agent_data("a", authorId="u"))
    expiry = int(clock.now.timestamp()) + DAY
    clock.advance(seconds=HALF_DAY)
    ttl_agents.update(id="a", status="published", author_id="v")
    assert raw_ttl(ttl_store, keys.agent_key("a")) == expiry
    clock.advance(seconds=HALF_DAY + 1)
    assert ttl_agents.get_by_id(id="a") is None


def test_expired_agents_are_invisible_on_every_read_path(ttl_agents: DynamoAgentsStore, clock: FakeClock) -> None:
    agents = ttl_agents
    agents.create(agent=agent_data("old", authorId="u", metadata={"k": "v"}))
    old_v1 = agents.get_latest_version(agent_id="old")
    assert old_v1 is not None
    agents.create_version(version=version_data("old", 2))
    clock.advance(seconds=HALF_DAY)
    agents.create(agent=agent_data("young", authorId="u", metadata={"k": "v"}))
    agents.update(id="young", status="published")
    clock.advance(seconds=HALF_DAY + 1)  # "old" is past its retention, "young" is not

    assert agents.get_by_id(id="old") is None
    assert agents.get_by_id_resolved(id="old") is None
    assert agents.get_by_id_resolved(id="old", version_id="old-v2") is None
    for kwargs in ({}, {"author_id": "u"}, {"order_by": {"field": "updatedAt", "direction": "DESC"}},
                   {"metadata": {"k": "v"}}, {"entity_ids": ["old", "young"]}, {"status": "draft"}):
        page = agents.list(**kwargs)  # type: ignore[arg-type]
        expected = [] if kwargs.get("status") == "draft" else ["young"]
        assert ids(page.agents) == expected, kwargs
        assert page.total == len(expected), kwargs
    assert ids(agents.list_resolved().agents) == ["young"]
    assert agents.get_version(id=old_v1.id) is None
    assert agents.get_version(id="old-v2") is None
    assert agents.get_versions(ids=[old_v1.id, "old-v2"]) == []
    assert agents.get_version_by_number(agent_id="old", version_number=2) is None
    assert agents.get_latest_version(agent_id="old") is None
    assert agents.list_versions(agent_id="old").total == 0
    assert agents.list_versions(agent_id="old", order_by={"field": "createdAt"}).versions == []
    assert agents.count_versions(agent_id="old") == 0
    with pytest.raises(NotFoundError):
        agents.update(id="old", status="published")
    assert agents.get_by_id(id="old") is None  # the failed update did not resurrect it
    agents.delete(id="old")  # deleting an expired agent is harmless
    assert agents.get_by_id(id="young") is not None
    assert agents.count_versions(agent_id="young") == 1


def test_an_expired_agent_id_can_be_created_again(ttl_agents: DynamoAgentsStore, clock: FakeClock) -> None:
    agents = ttl_agents
    agents.create(agent=agent_data("again", metadata={"life": 1}))
    agents.create_version(version=version_data("again", 2))
    clock.advance(seconds=DAY + 1)
    fresh = agents.create(agent=agent_data("again", name="second life"))
    assert fresh.created_at == clock.now and fresh.metadata is None and fresh.status == "draft"
    versions = agents.list_versions(agent_id="again")
    assert versions.total == 1 and versions.versions[0].change_message == "Initial version"
    assert agents.get_version(id="again-v2") is None
    resolved = agents.get_by_id_resolved(id="again")
    assert resolved is not None and resolved.name == "second life"  # type: ignore[attr-defined]
    # the expired version's id and number are free again
    agents.create_version(version=version_data("again", 2, name="reborn"))
    reborn = agents.get_version(id="again-v2")
    assert reborn is not None and (reborn.model_extra or {})["name"] == "reborn"
    assert agents.count_versions(agent_id="again") == 2


def test_without_agent_retention_nothing_expires(backend: Backend, clock: FakeClock) -> None:
    s = make_store(backend, clock=clock, ttl={"thread": {"enabled": True, "defaultTtlSeconds": 60}})
    s.create_table()
    try:
        agents: DynamoAgentsStore = s.get_store("agents")
        agents.create(agent=agent_data("kept"))
        assert raw_ttl(s, keys.agent_key("kept")) is None
        assert raw_ttl(s, keys.agent_version_key("kept", 1)) is None
        clock.advance(days=400)
        assert agents.get_by_id(id="kept") is not None
        assert agents.count_versions(agent_id="kept") == 1
    finally:
        s.delete_table()
        s.close()
