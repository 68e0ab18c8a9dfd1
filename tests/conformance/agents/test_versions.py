"""Spec 3.5 agent versions: create_version uniqueness, lookups, list_versions, deletes, counts."""

from __future__ import annotations

from typing import Any

import pytest

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.errors import ConflictError
from mastra_dynamo.stores.agents import DynamoAgentsStore
from tests.conftest import FakeClock, table_item_count

from .data import agent_data, ids, version_data


@pytest.fixture
def agent(agents: DynamoAgentsStore) -> str:
    agents.create(agent=agent_data("ag"))
    return "ag"


def add_versions(agents: DynamoAgentsStore, clock: FakeClock, agent_id: str, numbers: list[int]) -> None:
    for n in numbers:
        clock.advance(seconds=1)
        agents.create_version(version=version_data(agent_id, n))


# ---------------------------------------------------------------------------------------- create_version
def test_create_version_round_trips_every_config_shape(agents: DynamoAgentsStore, agent: str,
                                                       clock: FakeClock) -> None:
    config: dict[str, Any] = {
        "description": "d",
        "instructions": [{"type": "text", "content": "block one"}, {"type": "prompt_block_ref", "id": "pb"}],
        "model": [{"value": {"provider": "openai", "name": "gpt-4o"},
                   "rules": {"operator": "AND", "conditions": [{"field": "tier", "operator": "eq", "value": 1}]}},
                  {"value": {"provider": "anthropic", "name": "claude"}}],
        "tools": {"search": {"description": "web"}, "calc": {}},
        "defaultOptions": {"maxSteps": 5, "temperature": 0.25},
        "workflows": {"wf": {}},
        "agents": {"helper": {}},
        "memory": {"options": {"lastMessages": 10, "semanticRecall": False}},
        "scorers": {"s1": {"sampling": {"type": "ratio", "rate": 0.5}}},
        "durable": True,
        "skillsFormat": "xml",
        "requestContextSchema": {"type": "object", "properties": {"tier": {"type": "number"}}},
        "unicode": "héllo ✓ 漢字",
        "nothing": None,
    }
    clock.advance(seconds=2)
    created = agents.create_version(version={
        "id": "cfg", "agentId": agent, "versionNumber": 2, **config,
        "changedFields": ["instructions", "model"], "changeMessage": "tweak",
    })
    assert created.id == "cfg" and created.agent_id == agent and created.version_number == 2
    assert created.changed_fields == ["instructions", "model"] and created.change_message == "tweak"
    assert created.created_at == clock.now
    assert created.model_extra == config
    fetched = agents.get_version(id="cfg")
    assert fetched == created
    assert fetched is not None and fetched.model_extra == config
    assert agents.get_version_by_number(agent_id=agent, version_number=2) == created
    assert agents.get_versions(ids=["cfg"]) == [created]


def test_create_version_generates_an_id_when_missing(agents: DynamoAgentsStore, agent: str) -> None:
    created = agents.create_version(version={"agentId": agent, "versionNumber": 2, "name": "x"})
    assert isinstance(created.id, str) and created.id
    v1 = agents.get_version_by_number(agent_id=agent, version_number=1)
    assert v1 is not None and v1.id != created.id
    assert agents.get_version(id=created.id) == created


def test_create_version_accepts_snake_case_bookkeeping(agents: DynamoAgentsStore, agent: str) -> None:
    created = agents.create_version(version={"id": "sn", "agent_id": agent, "version_number": 4,
                                             "change_message": "m", "changed_fields": ["name"], "name": "N"})
    assert (created.agent_id, created.version_number, created.change_message) == (agent, 4, "m")
    assert agents.get_version_by_number(agent_id=agent, version_number=4) == created


def test_duplicate_version_id_raises_and_writes_nothing(agents: DynamoAgentsStore, agent: str,
                                                        clocked_store: DynamoDBStore) -> None:
    first = agents.create_version(version=version_data(agent, 2))
    before = table_item_count(clocked_store)
    with pytest.raises(ConflictError) as info:
        agents.create_version(version=version_data(agent, 3, id=first.id, name="other"))
    assert info.value.code == "AGENT_VERSION_EXISTS"
    assert table_item_count(clocked_store) == before
    assert agents.get_version(id=first.id) == first
    assert agents.get_version_by_number(agent_id=agent, version_number=3) is None
    assert agents.count_versions(agent_id=agent) == 2


def test_duplicate_version_id_across_agents_raises(agents: DynamoAgentsStore, agent: str) -> None:
    agents.create(agent=agent_data("other"))
    first = agents.create_version(version=version_data(agent, 2, id="shared"))
    with pytest.raises(ConflictError) as info:
        agents.create_version(version=version_data("other", 2, id="shared"))
    assert info.value.code == "AGENT_VERSION_EXISTS"
    assert agents.get_version(id="shared") == first
    assert agents.count_versions(agent_id="other") == 1


def test_duplicate_version_number_raises_and_writes_nothing(agents: DynamoAgentsStore, agent: str,
                                                            clocked_store: DynamoDBStore) -> None:
    first = agents.create_version(version=version_data(agent, 2))
    before = table_item_count(clocked_store)
    with pytest.raises(ConflictError) as info:
        agents.create_version(version=version_data(agent, 2, id="different-id", name="other"))
    assert info.value.code == "AGENT_VERSION_EXISTS"
    assert table_item_count(clocked_store) == before
    assert agents.get_version(id="different-id") is None
    assert agents.get_version_by_number(agent_id=agent, version_number=2) == first
    # version 1 (written by create) is protected as well
    with pytest.raises(ConflictError):
        agents.create_version(version=version_data(agent, 1))


def test_same_version_number_on_different_agents_is_allowed(agents: DynamoAgentsStore, agent: str) -> None:
    agents.create(agent=agent_data("b"))
    a2 = agents.create_version(version=version_data(agent, 2))
    b2 = agents.create_version(version=version_data("b", 2))
    assert agents.get_version_by_number(agent_id=agent, version_number=2) == a2
    assert agents.get_version_by_number(agent_id="b", version_number=2) == b2


# ------------------------------------------------------------------------------------------- lookups
def test_latest_version_is_the_highest_number_not_the_newest_write(agents: DynamoAgentsStore, agent: str,
                                                                   clock: FakeClock) -> None:
    add_versions(agents, clock, agent, [10, 3, 9])
    latest = agents.get_latest_version(agent_id=agent)
    assert latest is not None and latest.id == f"{agent}-v10"
    # numbers compare numerically (10 > 9), not as strings
    agents.delete_version(id=f"{agent}-v10")
    latest = agents.get_latest_version(agent_id=agent)
    assert latest is not None and latest.version_number == 9


def test_lookups_of_unknown_versions_are_none(agents: DynamoAgentsStore, agent: str) -> None:
    assert agents.get_version(id="missing") is None
    assert agents.get_version_by_number(agent_id=agent, version_number=99) is None
    assert agents.get_version_by_number(agent_id="no-agent", version_number=1) is None
    assert agents.get_latest_version(agent_id="no-agent") is None
    assert agents.count_versions(agent_id="no-agent") == 0
    page = agents.list_versions(agent_id="no-agent")
    assert (page.versions, page.total, page.has_more) == ([], 0, False)


def test_get_versions_skips_unknown_ids(agents: DynamoAgentsStore, agent: str, clock: FakeClock) -> None:
    agents.create(agent=agent_data("b"))
    add_versions(agents, clock, agent, [2, 3])
    add_versions(agents, clock, "b", [2])
    wanted = [f"{agent}-v3", "unknown", "b-v2", f"{agent}-v2"]
    got = agents.get_versions(ids=wanted)
    assert sorted(ids(got)) == sorted([f"{agent}-v3", "b-v2", f"{agent}-v2"])
    for version in got:
        assert agents.get_version(id=version.id) == version
    assert agents.get_versions(ids=[]) == []
    assert agents.get_versions(ids=["unknown"]) == []


def test_get_versions_reads_more_than_one_batch(agents: DynamoAgentsStore, agent: str) -> None:
    for n in range(2, 103):
        agents.create_version(version={"id": f"bulk-{n}", "agentId": agent, "versionNumber": n})
    wanted = [f"bulk-{n}" for n in range(2, 103)]
    got = agents.get_versions(ids=wanted)
    assert sorted(ids(got)) == sorted(wanted)


# -------------------------------------------------------------------------------------- list_versions
def test_list_versions_defaults(agents: DynamoAgentsStore, agent: str, clock: FakeClock) -> None:
    add_versions(agents, clock, agent, list(range(2, 26)))  # 25 versions in all
    page = agents.list_versions(agent_id=agent)
    assert page.total == 25
    assert page.page == 0 and page.per_page == 20 and page.has_more is True
    assert [v.version_number for v in page.versions] == list(range(25, 5, -1))
    second = agents.list_versions(agent_id=agent, page=1)
    assert [v.version_number for v in second.versions] == [5, 4, 3, 2, 1]
    assert second.has_more is False and second.total == 25


def test_list_versions_pagination_and_order(agents: DynamoAgentsStore, agent: str, clock: FakeClock) -> None:
    add_versions(agents, clock, agent, [2, 3, 4, 5, 6, 7])
    asc = {"field": "versionNumber", "direction": "ASC"}
    seen: list[int] = []
    for page_no in range(3):
        page = agents.list_versions(agent_id=agent, page=page_no, per_page=3, order_by=asc)
        assert page.total == 7 and page.per_page == 3 and page.page == page_no
        assert page.has_more is (page_no < 2)
        seen += [v.version_number for v in page.versions]
    assert seen == [1, 2, 3, 4, 5, 6, 7]
    beyond = agents.list_versions(agent_id=agent, page=5, per_page=3)
    assert beyond.versions == [] and beyond.total == 7 and beyond.has_more is False
    everything = agents.list_versions(agent_id=agent, per_page=False)
    assert everything.per_page is False and everything.has_more is False
    assert [v.version_number for v in everything.versions] == [7, 6, 5, 4, 3, 2, 1]
    none = agents.list_versions(agent_id=agent, per_page=0)
    assert none.versions == [] and none.total == 7 and none.has_more is False


def test_list_versions_by_created_at(agents: DynamoAgentsStore, agent: str, clock: FakeClock) -> None:
    # created out of number order: createdAt order differs from versionNumber order
    add_versions(agents, clock, agent, [5, 2, 4, 3])
    by_created_desc = agents.list_versions(agent_id=agent, order_by={"field": "createdAt", "direction": "DESC"})
    assert [v.version_number for v in by_created_desc.versions] == [3, 4, 2, 5, 1]
    by_created_asc = agents.list_versions(agent_id=agent, order_by={"field": "createdAt", "direction": "ASC"})
    assert [v.version_number for v in by_created_asc.versions] == [1, 5, 2, 4, 3]
    paged = agents.list_versions(agent_id=agent, page=1, per_page=2,
                                 order_by={"field": "createdAt", "direction": "ASC"})
    assert [v.version_number for v in paged.versions] == [2, 4]
    assert paged.total == 5 and paged.has_more is True


def test_list_versions_only_lists_the_agents_own_versions(agents: DynamoAgentsStore, agent: str,
                                                          clock: FakeClock) -> None:
    agents.create(agent=agent_data("ag2"))  # an id that extends "ag"
    agents.create(agent=agent_data("a"))
    add_versions(agents, clock, "ag2", [2, 3])
    page = agents.list_versions(agent_id=agent)
    assert [v.agent_id for v in page.versions] == [agent]
    assert agents.count_versions(agent_id="ag2") == 3
    assert agents.count_versions(agent_id="a") == 1


# ------------------------------------------------------------------------------------- deletes, counts
def test_delete_version(agents: DynamoAgentsStore, agent: str, clock: FakeClock) -> None:
    add_versions(agents, clock, agent, [2, 3])
    agents.delete_version(id=f"{agent}-v2")
    assert agents.get_version(id=f"{agent}-v2") is None
    assert agents.get_version_by_number(agent_id=agent, version_number=2) is None
    assert agents.count_versions(agent_id=agent) == 2
    assert [v.version_number for v in agents.list_versions(agent_id=agent).versions] == [3, 1]
    assert agents.get_by_id(id=agent) is not None
    # the number and the id are free again
    again = agents.create_version(version=version_data(agent, 2, name="again"))
    assert agents.get_version(id=f"{agent}-v2") == again


def test_delete_version_of_unknown_id_is_a_no_op(agents: DynamoAgentsStore, agent: str) -> None:
    agents.delete_version(id="missing")
    agents.delete_version(id="missing")
    assert agents.count_versions(agent_id=agent) == 1


def test_delete_versions_by_parent_id_keeps_the_agent(agents: DynamoAgentsStore, agent: str,
                                                      clock: FakeClock) -> None:
    agents.create(agent=agent_data("other"))
    add_versions(agents, clock, agent, [2, 3])
    add_versions(agents, clock, "other", [2])
    v1 = agents.get_version_by_number(agent_id=agent, version_number=1)
    assert v1 is not None
    agents.delete_versions_by_parent_id(agent_id=agent)
    assert agents.count_versions(agent_id=agent) == 0
    assert agents.get_latest_version(agent_id=agent) is None
    assert agents.get_versions(ids=[v1.id, f"{agent}-v2", f"{agent}-v3"]) == []
    assert agents.get_by_id(id=agent) is not None
    resolved = agents.get_by_id_resolved(id=agent)
    assert resolved is not None and resolved.resolved_version_id is None
    assert agents.count_versions(agent_id="other") == 2
    agents.delete_versions_by_parent_id(agent_id="no-such-agent")  # no-op
    # versions can be numbered from 1 again
    agents.create_version(version=version_data(agent, 1))
    assert agents.count_versions(agent_id=agent) == 1


def test_count_versions_tracks_creates_and_deletes(agents: DynamoAgentsStore, agent: str,
                                                   clock: FakeClock) -> None:
    assert agents.count_versions(agent_id=agent) == 1
    add_versions(agents, clock, agent, [2, 3, 4])
    assert agents.count_versions(agent_id=agent) == 4
    with pytest.raises(ConflictError):
        agents.create_version(version=version_data(agent, 4, id="dupe-number"))
    assert agents.count_versions(agent_id=agent) == 4
    agents.delete_version(id=f"{agent}-v3")
    agents.delete_version(id=f"{agent}-v3")
    assert agents.count_versions(agent_id=agent) == 3
    assert agents.list_versions(agent_id=agent).total == 3


def test_new_version_becomes_the_draft_resolution(agents: DynamoAgentsStore, agent: str) -> None:
    v1 = agents.get_latest_version(agent_id=agent)
    assert v1 is not None
    agents.update(id=agent, active_version_id=v1.id, status="published")
    agents.create_version(version=version_data(agent, 2, name="draft edit"))
    draft = agents.get_by_id_resolved(id=agent, status="draft")
    published = agents.get_by_id_resolved(id=agent)
    assert draft is not None and draft.name == "draft edit"  # type: ignore[attr-defined]
    assert published is not None and published.resolved_version_id == v1.id
