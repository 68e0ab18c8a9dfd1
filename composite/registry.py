"""The registry of Mastra storage domain names the composite store routes.

Names are Mastra's (camelCase, e.g. ``backgroundTasks``); the snake_case spelling (``background_tasks``) is
accepted everywhere a domain name is taken.
"""

from __future__ import annotations

import re

DOMAIN_KEYS: tuple[str, ...] = (
    "memory",
    "workflows",
    "workflowDefinitions",
    "scores",
    "observability",
    "agents",
    "datasets",
    "experiments",
    "promptBlocks",
    "scorerDefinitions",
    "mcpClients",
    "mcpServers",
    "workspaces",
    "skills",
    "favorites",
    "blobs",
    "backgroundTasks",
    "schedules",
    "channels",
    "harness",
    "toolProviderConnections",
    "notifications",
    "threadState",
    "knowledge",
)
"""Every domain a composite store resolves, in Mastra's order."""

EDITOR_DOMAINS: frozenset[str] = frozenset(
    {
        "agents",
        "promptBlocks",
        "scorerDefinitions",
        "mcpClients",
        "mcpServers",
        "workspaces",
        "skills",
        "favorites",
        "toolProviderConnections",
    }
)
"""Domains an ``editor`` store supplies (ahead of ``default``, behind explicit ``domains``)."""

_CAMEL_BOUNDARY = re.compile(r"(?<!^)(?=[A-Z])")
_BY_SNAKE: dict[str, str] = {_CAMEL_BOUNDARY.sub("_", key).lower(): key for key in DOMAIN_KEYS}


def snake_name(key: str) -> str:
    """``backgroundTasks`` -> ``background_tasks`` (single words are unchanged)."""
    return _CAMEL_BOUNDARY.sub("_", key).lower()


def domain_key(name: object) -> str | None:
    """The canonical (camelCase) key for a domain name in either spelling, or None when unknown."""
    if not isinstance(name, str):
        return None
    if name in DOMAIN_KEYS:
        return name
    return _BY_SNAKE.get(name)


__all__ = ["DOMAIN_KEYS", "EDITOR_DOMAINS", "domain_key", "snake_name"]
