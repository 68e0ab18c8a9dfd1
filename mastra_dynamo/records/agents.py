"""Agents domain records: stored agents and their versions (snapshot configs)."""

from __future__ import annotations

from typing import Any

from mastra_dynamo.records.base import PerPage, Record, UtcDatetime

SNAPSHOT_FIELDS = (
    "name", "description", "instructions", "model", "tools", "defaultOptions", "workflows", "agents",
    "integrationTools", "toolProviders", "inputProcessors", "outputProcessors", "memory", "scorers",
    "mcpClients", "workspace", "browser", "skills", "skillsFormat", "durable", "requestContextSchema",
)
"""Config fields a version snapshots (camelCase, as in Mastra's JSON)."""


class Agent(Record):
    """A stored agent (``StorageAgentType``): entity-level fields only; config lives in versions."""

    model_config = Record.model_config | {"extra": "allow"}

    id: str
    status: str = "draft"
    active_version_id: str | None = None
    author_id: str | None = None
    visibility: str | None = None
    metadata: dict[str, Any] | None = None
    favorite_count: int | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class AgentVersion(Record):
    """One version: the snapshot config fields (extra, camelCase) plus version bookkeeping."""

    model_config = Record.model_config | {"extra": "allow"}

    id: str
    agent_id: str
    version_number: int
    changed_fields: list[str] | None = None
    change_message: str | None = None
    created_at: UtcDatetime


class ResolvedAgent(Agent):
    """An agent merged with the config of the version it resolves to (``resolved_version_id``)."""

    resolved_version_id: str | None = None


class AgentsPage(Record):
    agents: list[Agent]
    total: int
    page: int
    per_page: PerPage
    has_more: bool


class ResolvedAgentsPage(Record):
    agents: list[ResolvedAgent]
    total: int
    page: int
    per_page: PerPage
    has_more: bool


class AgentVersionsPage(Record):
    versions: list[AgentVersion]
    total: int
    page: int
    per_page: PerPage
    has_more: bool
