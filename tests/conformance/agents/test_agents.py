"""Spec 3.5 agents: create (with version 1), get_by_id, get_by_id_resolved, update and delete."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mastra_dynamo.errors import ConflictError, NotFoundError
from mastra_dynamo.stores.agents import DynamoAgentsStore
from tests.conftest import FakeClock

from .data import MODEL, agent_data, version_data


# ---------------------------------------------------------------------------------------------- create
def test_create_returns_a_draft_agent_row(agents: DynamoAgentsStore, clock: FakeClock) -> None:
    created = agents.create(agent=agent_data("a1", authorId="user-1", metadata={"team": "x", "n": 2}))
    assert created.id == "a1"
    assert created.status == "draft"
    assert created.active_version_id is None
    assert created.favorite_count == 0
    assert created.author_id == "user-1"
    assert created.visibility == "private"
    assert created.metadata == {"team": "x", "n": 2}
    assert created.created_at == clock.now and created.updated_at == clock.now
    # the returned row is the agent, not resolved: config fields live in the version
    assert "name" not in created.model_dump(by_alias=True)
    assert "instructions" not in created.model_dump(by_alias=True)


def test_create_round_trips_through_get_by_id(agents: DynamoAgentsStore) -> None:
    created = agents.create(agent=agent_data("a1", authorId="user-1", visibility="public",
                                             metadata={"nested": {"k": [1, 2, {"deep": True}]}}))
    fetched = agents.get_by_id(id="a1")
    assert fetched == created
    assert fetched is not None and fetched.metadata == {"nested": {"k": [1, 2, {"deep": True}]}}


def test_visibility_defaults_to_private_only_when_an_author_is_given(agents: DynamoAgentsStore) -> None:
    assert agents.create(agent=agent_data("with-author", authorId="u")).visibility == "private"
    assert agents.create(agent=agent_data("public", authorId="u", visibility="public")).visibility == "public"
    anonymous = agents.create(agent=agent_data("anonymous"))
    assert anonymous.author_id is None and anonymous.visibility is None
    assert agents.get_by_id(id="anonymous") == anonymous


def test_create_writes_version_one_with_the_snapshot(agents: DynamoAgentsStore, clock: FakeClock) -> None:
    tools = {"search": {"description": "web search"}}
    agents.create(agent=agent_data("a1", authorId="u", metadata={"m": 1}, description="desc", tools=tools))
    versions = agents.list_versions(agent_id="a1")
    assert versions.total == 1
    v1 = versions.versions[0]
    assert v1.agent_id == "a1" and v1.version_number == 1
    assert v1.change_message == "Initial version"
    # changed_fields = the snapshot keys that were given (not id / authorId / metadata)
    assert sorted(v1.changed_fields or []) == sorted(["name", "instructions", "model", "description", "tools"])
    extra = v1.model_extra or {}
    assert extra["name"] == "Agent a1"
    assert extra["instructions"] == "Be helpful"
    assert extra["model"] == MODEL
    assert extra["description"] == "desc"
    assert extra["tools"] == tools
    assert "authorId" not in extra and "metadata" not in extra
    assert v1.created_at == clock.now
    assert isinstance(v1.id, str) and v1.id
    assert agents.get_version(id=v1.id) == v1
    assert agents.get_version_by_number(agent_id="a1", version_number=1) == v1
    assert agents.count_versions(agent_id="a1") == 1


def test_create_without_config_still_writes_version_one(agents: DynamoAgentsStore) -> None:
    agents.create(agent={"id": "bare"})
    latest = agents.get_latest_version(agent_id="bare")
    assert latest is not None and latest.version_number == 1
    assert latest.changed_fields == []
    assert latest.change_message == "Initial version"


def test_create_accepts_snake_case_entity_fields(agents: DynamoAgentsStore) -> None:
    created = agents.create(agent={"id": "snake", "author_id": "u9", "name": "N"})
    assert created.author_id == "u9" and created.visibility == "private"
    v1 = agents.get_latest_version(agent_id="snake")
    assert v1 is not None and v1.changed_fields == ["name"]


def test_duplicate_create_raises_agent_exists_and_changes_nothing(agents: DynamoAgentsStore,
                                                                  clock: FakeClock) -> None:
    original = agents.create(agent=agent_data("dup", authorId="u", metadata={"v": 1}))
    clock.advance(seconds=5)
    with pytest.raises(ConflictError) as info:
        agents.create(agent=agent_data("dup", authorId="other", name="Other", metadata={"v": 2}))
    assert info.value.code == "AGENT_EXISTS"
    assert agents.get_by_id(id="dup") == original
    assert agents.count_versions(agent_id="dup") == 1
    resolved = agents.get_by_id_resolved(id="dup")
    assert resolved is not None and resolved.name == "Agent dup"  # type: ignore[attr-defined]


def test_get_by_id_of_missing_agent_is_none(agents: DynamoAgentsStore) -> None:
    assert agents.get_by_id(id="nope") is None
    assert agents.get_by_id_resolved(id="nope") is None
    assert agents.get_by_id_resolved(id="nope", status="draft") is None


def test_ids_with_key_separator_characters_stay_distinct(agents: DynamoAgentsStore) -> None:
    agents.create(agent=agent_data("a#1", name="hash"))
    agents.create(agent=agent_data("a", name="plain"))
    agents.create(agent=agent_data("a%231", name="escaped-looking"))
    for agent_id, name in (("a#1", "hash"), ("a", "plain"), ("a%231", "escaped-looking")):
        resolved = agents.get_by_id_resolved(id=agent_id)
        assert resolved is not None and resolved.id == agent_id and resolved.name == name  # type: ignore[attr-defined]
        assert agents.count_versions(agent_id=agent_id) == 1


# ------------------------------------------------------------------------------------ resolution rules
@pytest.fixture
def three_versions(agents: DynamoAgentsStore, clock: FakeClock) -> DynamoAgentsStore:
    """Agent "r" with version 1 (from create), 2 and 3; no active version yet."""
    agents.create(agent=agent_data("r", authorId="u", name="v1 name"))
    for n in (2, 3):
        clock.advance(seconds=1)
        agents.create_version(version=version_data("r", n))
    return agents


def test_resolved_without_active_version_falls_back_to_latest(three_versions: DynamoAgentsStore) -> None:
    agents = three_versions
    for status in (None, "published"):
        resolved = agents.get_by_id_resolved(id="r", status=status)
        assert resolved is not None
        assert resolved.resolved_version_id == "r-v3"
        assert resolved.name == "r v3"  # type: ignore[attr-defined]
        assert resolved.instructions == "instructions 3"  # type: ignore[attr-defined]


def test_resolved_uses_the_active_version_by_default(three_versions: DynamoAgentsStore) -> None:
    agents = three_versions
    agents.update(id="r", active_version_id="r-v2", status="published")
    for status in (None, "published"):
        resolved = agents.get_by_id_resolved(id="r", status=status)
        assert resolved is not None
        assert resolved.resolved_version_id == "r-v2"
        assert resolved.name == "r v2"  # type: ignore[attr-defined]
        # the entity-level fields are the agent's
        assert resolved.id == "r" and resolved.status == "published"
        assert resolved.active_version_id == "r-v2" and resolved.author_id == "u"


def test_resolved_draft_status_reads_the_latest_version(three_versions: DynamoAgentsStore) -> None:
    agents = three_versions
    agents.update(id="r", active_version_id="r-v2")
    resolved = agents.get_by_id_resolved(id="r", status="draft")
    assert resolved is not None
    assert resolved.resolved_version_id == "r-v3"
    assert resolved.name == "r v3"  # type: ignore[attr-defined]


def test_resolved_explicit_version_id_wins(three_versions: DynamoAgentsStore) -> None:
    agents = three_versions
    agents.update(id="r", active_version_id="r-v2")
    v1 = agents.get_version_by_number(agent_id="r", version_number=1)
    assert v1 is not None
    for status in (None, "draft", "published"):
        resolved = agents.get_by_id_resolved(id="r", status=status, version_id=v1.id)
        assert resolved is not None
        assert resolved.resolved_version_id == v1.id
        assert resolved.name == "v1 name"  # type: ignore[attr-defined]


def test_resolved_falls_back_to_latest_when_active_version_was_deleted(
        three_versions: DynamoAgentsStore) -> None:
    agents = three_versions
    agents.update(id="r", active_version_id="r-v2")
    agents.delete_version(id="r-v2")
    resolved = agents.get_by_id_resolved(id="r")
    assert resolved is not None
    assert resolved.resolved_version_id == "r-v3"
    assert resolved.name == "r v3"  # type: ignore[attr-defined]


def test_resolved_config_does_not_leak_version_bookkeeping(three_versions: DynamoAgentsStore) -> None:
    resolved = three_versions.get_by_id_resolved(id="r")
    assert resolved is not None
    dumped = resolved.model_dump(by_alias=True)
    for bookkeeping in ("agentId", "versionNumber", "changedFields", "changeMessage"):
        assert bookkeeping not in dumped
    # the agent's own id and createdAt are kept, not the version's
    agent = three_versions.get_by_id(id="r")
    assert agent is not None
    assert resolved.id == "r" and resolved.created_at == agent.created_at


# ---------------------------------------------------------------------------------------------- update
def test_update_changes_entity_fields_and_bumps_updated_at(agents: DynamoAgentsStore, clock: FakeClock) -> None:
    created = agents.create(agent=agent_data("u1", authorId="old", metadata={"a": 1, "b": 2}))
    v1 = agents.get_latest_version(agent_id="u1")
    assert v1 is not None
    clock.advance(seconds=10)
    updated = agents.update(id="u1", author_id="new", visibility="public", active_version_id=v1.id,
                            status="published", metadata={"b": 3, "c": 4})
    assert updated.author_id == "new"
    assert updated.visibility == "public"
    assert updated.active_version_id == v1.id
    assert updated.status == "published"
    assert updated.metadata == {"a": 1, "b": 3, "c": 4}  # shallow merge
    assert updated.created_at == created.created_at
    assert updated.updated_at == clock.now
    assert updated.favorite_count == 0
    assert agents.get_by_id(id="u1") == updated


def test_update_metadata_merge_is_shallow(agents: DynamoAgentsStore) -> None:
    agents.create(agent=agent_data("m", metadata={"cfg": {"x": 1, "y": 2}, "keep": True}))
    updated = agents.update(id="m", metadata={"cfg": {"x": 9}})
    assert updated.metadata == {"cfg": {"x": 9}, "keep": True}


def test_update_without_fields_only_bumps_updated_at(agents: DynamoAgentsStore) -> None:
    created = agents.create(agent=agent_data("same", authorId="u", metadata={"k": "v"}))
    updated = agents.update(id="same")
    assert updated.updated_at > created.updated_at  # the clock stood still: bumped anyway
    assert updated.model_dump(exclude={"updated_at"}) == created.model_dump(exclude={"updated_at"})


def test_each_update_strictly_increases_updated_at(agents: DynamoAgentsStore) -> None:
    previous = agents.create(agent=agent_data("inc")).updated_at
    for i in range(3):
        current = agents.update(id="inc", metadata={"i": i}).updated_at
        assert current > previous
        previous = current


def test_update_ignores_snapshot_fields(agents: DynamoAgentsStore) -> None:
    agents.create(agent=agent_data("snap"))
    updated = agents.update(id="snap", name="changed", instructions="changed", model={"provider": "x"},
                            metadata={"touched": True})
    assert updated.metadata == {"touched": True}
    assert "name" not in updated.model_dump(by_alias=True)
    assert agents.count_versions(agent_id="snap") == 1
    resolved = agents.get_by_id_resolved(id="snap")
    assert resolved is not None
    assert resolved.name == "Agent snap"  # type: ignore[attr-defined]
    assert resolved.instructions == "Be helpful"  # type: ignore[attr-defined]
    fetched = agents.get_by_id(id="snap")
    assert fetched is not None and "name" not in fetched.model_dump(by_alias=True)


def test_update_of_missing_agent_raises_not_found(agents: DynamoAgentsStore) -> None:
    with pytest.raises(NotFoundError):
        agents.update(id="ghost", status="published")
    assert agents.get_by_id(id="ghost") is None


def test_update_moves_the_agent_between_authors(agents: DynamoAgentsStore, clock: FakeClock) -> None:
    agents.create(agent=agent_data("moved", authorId="alice"))
    clock.advance(seconds=1)
    agents.create(agent=agent_data("stays", authorId="alice"))
    clock.advance(seconds=1)
    agents.update(id="moved", author_id="bob")
    assert [a.id for a in agents.list(author_id="alice").agents] == ["stays"]
    assert [a.id for a in agents.list(author_id="bob").agents] == ["moved"]
    by_updated = agents.list(author_id="bob", order_by={"field": "updatedAt", "direction": "DESC"})
    assert [a.id for a in by_updated.agents] == ["moved"]


# ---------------------------------------------------------------------------------------------- delete
def test_delete_removes_agent_and_all_versions(agents: DynamoAgentsStore, clock: FakeClock) -> None:
    agents.create(agent=agent_data("gone", authorId="u"))
    v1 = agents.get_latest_version(agent_id="gone")
    assert v1 is not None
    for n in (2, 3):
        agents.create_version(version=version_data("gone", n))
    agents.create(agent=agent_data("kept", authorId="u"))
    agents.create_version(version=version_data("kept", 2))

    agents.delete(id="gone")

    assert agents.get_by_id(id="gone") is None
    assert agents.get_by_id_resolved(id="gone") is None
    for version_id in (v1.id, "gone-v2", "gone-v3"):
        assert agents.get_version(id=version_id) is None
    assert agents.get_version_by_number(agent_id="gone", version_number=2) is None
    assert agents.get_latest_version(agent_id="gone") is None
    assert agents.count_versions(agent_id="gone") == 0
    assert agents.list_versions(agent_id="gone").total == 0
    assert agents.get_versions(ids=[v1.id, "gone-v2", "kept-v2"]) == [agents.get_version(id="kept-v2")]
    assert [a.id for a in agents.list().agents] == ["kept"]
    assert [a.id for a in agents.list(author_id="u").agents] == ["kept"]
    assert agents.count_versions(agent_id="kept") == 2


def test_delete_of_missing_agent_is_a_no_op(agents: DynamoAgentsStore) -> None:
    agents.create(agent=agent_data("other"))
    agents.delete(id="never-existed")
    agents.delete(id="never-existed")
    assert agents.get_by_id(id="other") is not None
    assert agents.count_versions(agent_id="other") == 1


def test_delete_twice_is_idempotent(agents: DynamoAgentsStore) -> None:
    agents.create(agent=agent_data("twice"))
    agents.delete(id="twice")
    agents.delete(id="twice")
    assert agents.get_by_id(id="twice") is None


def test_recreate_after_delete_starts_fresh(agents: DynamoAgentsStore, clock: FakeClock) -> None:
    agents.create(agent=agent_data("again", metadata={"old": True}))
    agents.create_version(version=version_data("again", 2))
    agents.delete(id="again")
    clock.advance(seconds=3)
    fresh = agents.create(agent=agent_data("again", name="fresh"))
    assert fresh.created_at == clock.now and fresh.metadata is None
    assert agents.count_versions(agent_id="again") == 1
    assert agents.get_version(id="again-v2") is None
    # the old version id is free again
    agents.create_version(version=version_data("again", 2, name="reused"))
    reused = agents.get_version(id="again-v2")
    assert reused is not None and (reused.model_extra or {})["name"] == "reused"


def test_created_at_is_stable_and_timestamps_are_aware(agents: DynamoAgentsStore, clock: FakeClock) -> None:
    created = agents.create(agent=agent_data("tz"))
    clock.advance(hours=1)
    updated = agents.update(id="tz", status="archived")
    assert updated.created_at == created.created_at
    assert updated.updated_at - created.created_at == timedelta(hours=1)
    assert updated.created_at.utcoffset() == timedelta(0)
