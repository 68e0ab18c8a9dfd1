"""Spec 3.5 list / list_resolved: filters, ordering, pagination and the sharded global listing."""

from __future__ import annotations

import pytest

from mastra_dynamo.errors import UnsupportedError
from mastra_dynamo.stores.agents import DynamoAgentsStore
from tests.conftest import FakeClock

from .data import agent_data, create_agents, ids, version_data

CREATED_ASC = {"field": "createdAt", "direction": "ASC"}
UPDATED_DESC = {"field": "updatedAt", "direction": "DESC"}


# --------------------------------------------------------------------------------- ordering, pagination
def test_default_listing_is_created_at_desc(agents: DynamoAgentsStore, clock: FakeClock) -> None:
    created = create_agents(agents, clock, ["a", "b", "c"])
    page = agents.list()
    assert ids(page.agents) == ["c", "b", "a"]
    assert page.total == 3 and page.page == 0 and page.per_page == 100 and page.has_more is False
    assert page.agents == list(reversed(created))


def test_order_by_created_at_asc(agents: DynamoAgentsStore, clock: FakeClock) -> None:
    create_agents(agents, clock, ["z", "m", "a"])
    assert ids(agents.list(order_by=CREATED_ASC).agents) == ["z", "m", "a"]
    assert ids(agents.list(order_by={"field": "createdAt"}).agents) == ["a", "m", "z"]  # direction: DESC


def test_order_by_updated_at(agents: DynamoAgentsStore, clock: FakeClock) -> None:
    create_agents(agents, clock, ["a", "b", "c", "d"])
    agents.update(id="b", status="published")
    clock.advance(seconds=1)
    agents.update(id="a", metadata={"touched": 1})
    assert ids(agents.list(order_by=UPDATED_DESC).agents) == ["a", "b", "d", "c"]
    assert ids(agents.list(order_by={"field": "updatedAt", "direction": "ASC"}).agents) == ["c", "d", "b", "a"]
    # createdAt order is unaffected by updates
    assert ids(agents.list().agents) == ["d", "c", "b", "a"]
    assert agents.list(order_by=UPDATED_DESC).total == 4


def test_pagination(agents: DynamoAgentsStore, clock: FakeClock) -> None:
    create_agents(agents, clock, [f"p{i}" for i in range(5)])
    first = agents.list(page=0, per_page=2)
    assert ids(first.agents) == ["p4", "p3"] and first.total == 5 and first.has_more is True
    assert first.per_page == 2 and first.page == 0
    second = agents.list(page=1, per_page=2)
    assert ids(second.agents) == ["p2", "p1"] and second.has_more is True and second.page == 1
    last = agents.list(page=2, per_page=2)
    assert ids(last.agents) == ["p0"] and last.has_more is False
    beyond = agents.list(page=9, per_page=2)
    assert beyond.agents == [] and beyond.total == 5 and beyond.has_more is False
    everything = agents.list(per_page=False)
    assert len(everything.agents) == 5 and everything.per_page is False and everything.has_more is False
    zero = agents.list(per_page=0)
    assert zero.agents == [] and zero.total == 5 and zero.has_more is False


def test_empty_table_lists_nothing(agents: DynamoAgentsStore) -> None:
    page = agents.list()
    assert (page.agents, page.total, page.has_more) == ([], 0, False)
    resolved = agents.list_resolved()
    assert (resolved.agents, resolved.total) == ([], 0)


def test_sharded_listing_is_complete_and_ordered(agents: DynamoAgentsStore, clock: FakeClock) -> None:
    all_ids = [f"agent-{i:02d}" for i in range(30)]
    create_agents(agents, clock, all_ids, authorId="author")
    newest_first = list(reversed(all_ids))
    full = agents.list()
    assert ids(full.agents) == newest_first and full.total == 30
    assert ids(agents.list(order_by=CREATED_ASC).agents) == all_ids
    # page by page: the pages concatenate to the full listing, with no gaps or duplicates
    for direction, expected in (("DESC", newest_first), ("ASC", all_ids)):
        seen: list[str] = []
        for page_no in range(5):
            page = agents.list(page=page_no, per_page=7, order_by={"field": "createdAt", "direction": direction})
            assert page.total == 30 and page.has_more is (page_no < 4)
            seen += ids(page.agents)
        assert seen == expected
    # the same through the author index
    assert ids(agents.list(author_id="author").agents) == newest_first
    assert ids(agents.list(author_id="author", page=3, per_page=4).agents) == newest_first[12:16]
    # updatedAt order after touching a few agents
    for agent_id in ("agent-05", "agent-17", "agent-00"):
        clock.advance(seconds=1)
        agents.update(id=agent_id, status="published")
    by_updated = ids(agents.list(order_by=UPDATED_DESC).agents)
    assert by_updated[:3] == ["agent-00", "agent-17", "agent-05"]
    assert by_updated[3:] == [i for i in newest_first if i not in ("agent-00", "agent-17", "agent-05")]
    assert ids(agents.list(author_id="author", order_by=UPDATED_DESC, per_page=3).agents) == by_updated[:3]


def test_pagination_over_equal_created_at_is_stable(agents: DynamoAgentsStore) -> None:
    all_ids = [f"tie-{i}" for i in range(9)]
    for agent_id in all_ids:  # the clock stands still: every createdAt is equal
        agents.create(agent=agent_data(agent_id))
    seen: list[str] = []
    for page_no in range(3):
        seen += ids(agents.list(page=page_no, per_page=3).agents)
    assert sorted(seen) == sorted(all_ids)


# ---------------------------------------------------------------------------------------------- filters
@pytest.fixture
def mixed(agents: DynamoAgentsStore, clock: FakeClock) -> DynamoAgentsStore:
    """Agents with different authors, visibilities, statuses and metadata (created in this order)."""
    specs = [
        ("a1", {"authorId": "alice", "metadata": {"team": "red", "tier": 1}}),
        ("a2", {"authorId": "alice", "visibility": "public", "metadata": {"team": "blue", "tier": 2}}),
        ("b1", {"authorId": "bob", "visibility": "public", "metadata": {"team": "red", "tier": "1"}}),
        ("n1", {"metadata": {"team": "red", "nested": {"x": [1, 2]}, "flag": True}}),
        ("n2", {}),
    ]
    for agent_id, extra in specs:
        agents.create(agent=agent_data(agent_id, **extra))
        clock.advance(seconds=1)
    agents.update(id="a2", status="published")
    agents.update(id="b1", status="archived")
    return agents


def test_filter_by_author(mixed: DynamoAgentsStore) -> None:
    assert ids(mixed.list(author_id="alice").agents) == ["a2", "a1"]
    assert mixed.list(author_id="alice").total == 2
    assert ids(mixed.list(author_id="bob").agents) == ["b1"]
    assert mixed.list(author_id="carol").total == 0


def test_filter_by_visibility(mixed: DynamoAgentsStore) -> None:
    assert ids(mixed.list(visibility="public").agents) == ["b1", "a2"]
    assert ids(mixed.list(visibility="private").agents) == ["a1"]
    assert ids(mixed.list(visibility="public", author_id="alice").agents) == ["a2"]


def test_filter_by_status(mixed: DynamoAgentsStore) -> None:
    assert ids(mixed.list(status="draft").agents) == ["n2", "n1", "a1"]
    assert ids(mixed.list(status="published").agents) == ["a2"]
    assert ids(mixed.list(status="archived").agents) == ["b1"]
    assert mixed.list(status="archived", author_id="alice").total == 0


def test_filter_by_metadata(mixed: DynamoAgentsStore) -> None:
    assert ids(mixed.list(metadata={"team": "red"}).agents) == ["n1", "b1", "a1"]
    assert ids(mixed.list(metadata={"team": "red", "tier": 1}).agents) == ["a1"]  # "1" is not 1
    assert ids(mixed.list(metadata={"tier": "1"}).agents) == ["b1"]
    assert ids(mixed.list(metadata={"nested": {"x": [1, 2]}}).agents) == ["n1"]
    assert ids(mixed.list(metadata={"flag": True}).agents) == ["n1"]
    assert mixed.list(metadata={"flag": 1}).total == 0
    assert mixed.list(metadata={"missing": "x"}).total == 0
    assert mixed.list(metadata={}).total == 5
    page = mixed.list(metadata={"team": "red"}, page=1, per_page=2)
    assert ids(page.agents) == ["a1"] and page.total == 3 and page.has_more is False


def test_filters_combine_with_and(mixed: DynamoAgentsStore) -> None:
    page = mixed.list(author_id="alice", status="published", visibility="public", metadata={"team": "blue"})
    assert ids(page.agents) == ["a2"]
    assert mixed.list(author_id="alice", metadata={"team": "blue"}, status="draft").total == 0


def test_entity_ids(mixed: DynamoAgentsStore) -> None:
    page = mixed.list(entity_ids=["a1", "n2", "unknown", "b1"])
    assert ids(page.agents) == ["n2", "b1", "a1"] and page.total == 3
    assert ids(mixed.list(entity_ids=["a1", "n2", "b1"], order_by=CREATED_ASC).agents) == ["a1", "b1", "n2"]
    assert ids(mixed.list(entity_ids=["a1", "a2", "b1"], author_id="alice").agents) == ["a2", "a1"]
    assert ids(mixed.list(entity_ids=["a1", "a2", "b1"], status="draft").agents) == ["a1"]
    paged = mixed.list(entity_ids=["a1", "a2", "b1", "n1"], page=1, per_page=3)
    assert ids(paged.agents) == ["a1"] and paged.total == 4 and paged.has_more is False


def test_empty_entity_ids_gives_an_empty_page(mixed: DynamoAgentsStore) -> None:
    page = mixed.list(entity_ids=[])
    assert page.agents == [] and page.total == 0 and page.has_more is False
    assert mixed.list_resolved(entity_ids=[]).agents == []


def test_favorites_filters_are_unsupported(mixed: DynamoAgentsStore) -> None:
    with pytest.raises(UnsupportedError):
        mixed.list(pin_favorited_for="alice")
    with pytest.raises(UnsupportedError):
        mixed.list(favorited_only=True)
    with pytest.raises(UnsupportedError):
        mixed.list_resolved(favorited_only=True)


# ----------------------------------------------------------------------------------------- list_resolved
def test_list_resolved_merges_each_agent_with_its_version(agents: DynamoAgentsStore, clock: FakeClock) -> None:
    create_agents(agents, clock, ["draft", "published", "no-active"])
    agents.create_version(version=version_data("draft", 2))
    v1 = agents.get_version_by_number(agent_id="published", version_number=1)
    assert v1 is not None
    agents.create_version(version=version_data("published", 2))
    agents.update(id="published", active_version_id=v1.id, status="published")
    agents.create_version(version=version_data("no-active", 2))
    agents.update(id="no-active", status="published")

    page = agents.list_resolved()
    assert ids(page.agents) == ["no-active", "published", "draft"]
    assert page.total == 3 and page.per_page == 100 and page.has_more is False
    by_id = {a.id: a for a in page.agents}
    # draft: the latest version
    assert by_id["draft"].resolved_version_id == "draft-v2"
    assert by_id["draft"].name == "draft v2"  # type: ignore[attr-defined]
    # published: the active version even though a newer one exists
    assert by_id["published"].resolved_version_id == v1.id
    assert by_id["published"].name == "Agent published"  # type: ignore[attr-defined]
    # no active version: fallback to the latest
    assert by_id["no-active"].resolved_version_id == "no-active-v2"
    for resolved in page.agents:
        single = agents.get_by_id_resolved(id=resolved.id)
        assert single == resolved


def test_list_resolved_applies_filters_and_pagination(mixed: DynamoAgentsStore) -> None:
    page = mixed.list_resolved(author_id="alice", page=0, per_page=1)
    assert ids(page.agents) == ["a2"] and page.total == 2 and page.has_more is True
    assert page.agents[0].name == "Agent a2"  # type: ignore[attr-defined]
    assert ids(mixed.list_resolved(metadata={"team": "red"}, status="draft").agents) == ["n1", "a1"]
    assert ids(mixed.list_resolved(order_by=CREATED_ASC, per_page=False).agents) == ["a1", "a2", "b1", "n1", "n2"]
    assert ids(mixed.list_resolved(entity_ids=["b1", "n2"]).agents) == ["n2", "b1"]


def test_list_resolved_picks_versions_by_the_calls_status(agents: DynamoAgentsStore, clock: FakeClock) -> None:
    """A draft agent with an active version: the call's status decides, as in get_by_id_resolved."""
    create_agents(agents, clock, ["d"])
    v1 = agents.get_version_by_number(agent_id="d", version_number=1)
    assert v1 is not None
    agents.create_version(version=version_data("d", 2))
    agents.update(id="d", active_version_id=v1.id)  # still a draft
    default = agents.list_resolved().agents[0]
    assert default.resolved_version_id == v1.id
    assert default == agents.get_by_id_resolved(id="d")
    drafts = agents.list_resolved(status="draft").agents[0]
    assert drafts.resolved_version_id == "d-v2"
    assert drafts == agents.get_by_id_resolved(id="d", status="draft")
    with pytest.raises(TypeError):
        agents.list_resolved(per_pag=5)  # type: ignore[call-arg]


def test_mastras_positional_values_are_positional(agents: DynamoAgentsStore, clock: FakeClock) -> None:
    """getById(id), getVersionByNumber(agentId, n), countVersions(agentId), createVersion(input), getVersions(ids)
    take their values positionally in Python too (and by keyword)."""
    create_agents(agents, clock, ["p"])
    assert agents.get_by_id("p") == agents.get_by_id(id="p")
    created = agents.create_version(version_data("p", 2))
    assert agents.get_version_by_number("p", 2) == created == agents.get_version(created.id)
    assert agents.count_versions("p") == 2 == agents.count_versions(agent_id="p")
    assert agents.get_latest_version("p") == created
    assert [v.id for v in agents.get_versions([created.id])] == [created.id]
    resolved = agents.get_by_id_resolved("p", status="draft")
    assert resolved is not None and resolved.resolved_version_id == created.id
    agents.delete_version(created.id)
    assert agents.count_versions("p") == 1
    agents.delete("p")
    assert agents.get_by_id("p") is None
