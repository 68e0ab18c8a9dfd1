"""Uniqueness and merges hold under concurrent callers (backends that are safe to call from many threads)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from mastra_dynamo.errors import ConflictError
from mastra_dynamo.stores.agents import DynamoAgentsStore
from tests.conftest import Backend, require

from .data import agent_data, version_data

WORKERS = 8


def _outcome(call: object) -> str:
    try:
        call()  # type: ignore[operator]
    except ConflictError as exc:
        return exc.code
    return "ok"


def test_concurrent_creates_of_one_id_have_one_winner(backend: Backend, agents: DynamoAgentsStore) -> None:
    require(backend, "concurrent_clients")
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        outcomes = list(pool.map(
            lambda i: _outcome(lambda: agents.create(agent=agent_data("race", name=f"writer {i}"))),
            range(WORKERS)))
    assert sorted(outcomes) == ["AGENT_EXISTS"] * (WORKERS - 1) + ["ok"]
    assert agents.count_versions(agent_id="race") == 1
    resolved = agents.get_by_id_resolved(id="race")
    assert resolved is not None and resolved.name.startswith("writer ")  # type: ignore[attr-defined]


def test_concurrent_versions_with_one_number_have_one_winner(backend: Backend, agents: DynamoAgentsStore) -> None:
    require(backend, "concurrent_clients")
    agents.create(agent=agent_data("race"))
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        outcomes = list(pool.map(
            lambda i: _outcome(lambda: agents.create_version(version=version_data("race", 2, id=f"v2-{i}"))),
            range(WORKERS)))
    assert sorted(outcomes) == ["AGENT_VERSION_EXISTS"] * (WORKERS - 1) + ["ok"]
    winner = agents.get_version_by_number(agent_id="race", version_number=2)
    assert winner is not None
    # the losers left no pointer behind: their ids resolve to nothing
    losers = [f"v2-{i}" for i in range(WORKERS) if f"v2-{i}" != winner.id]
    assert agents.get_versions(ids=losers) == []
    assert agents.count_versions(agent_id="race") == 2


def test_concurrent_metadata_updates_keep_every_key(backend: Backend, agents: DynamoAgentsStore) -> None:
    require(backend, "concurrent_clients")
    agents.create(agent=agent_data("merge", metadata={"base": 0}))
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda i: agents.update(id="merge", metadata={f"k{i}": i}), range(6)))
    agent = agents.get_by_id(id="merge")
    assert agent is not None
    assert agent.metadata == {"base": 0, **{f"k{i}": i for i in range(6)}}
