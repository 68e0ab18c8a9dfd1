"""Builders and helpers shared by the agents conformance cases (spec 3.5)."""

from __future__ import annotations

from typing import Any

from mastra_dynamo.records.agents import Agent
from mastra_dynamo.stores.agents import DynamoAgentsStore
from tests.conftest import FakeClock

MODEL = {"provider": "openai", "name": "gpt-4o"}


def agent_data(id: str, **overrides: Any) -> dict[str, Any]:
    """Create input: entity fields plus a few snapshot (config) fields."""
    return {"id": id, "name": f"Agent {id}", "instructions": "Be helpful", "model": dict(MODEL), **overrides}


def version_data(agent_id: str, number: int, **overrides: Any) -> dict[str, Any]:
    return {
        "id": f"{agent_id}-v{number}",
        "agentId": agent_id,
        "versionNumber": number,
        "name": f"{agent_id} v{number}",
        "instructions": f"instructions {number}",
        "model": dict(MODEL),
        **overrides,
    }


def create_agents(agents: DynamoAgentsStore, clock: FakeClock, ids: list[str], **overrides: Any) -> list[Agent]:
    """Create agents one second apart (in the order given), so createdAt orders them without ties."""
    out = []
    for agent_id in ids:
        out.append(agents.create(agent=agent_data(agent_id, **overrides)))
        clock.advance(seconds=1)
    return out


def ids(records: list[Any]) -> list[str]:
    return [r.id for r in records]
