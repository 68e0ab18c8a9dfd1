"""Per-entity retention on the table's single TTL attribute, with an injectable clock.

DynamoDB honours one TTL attribute per table (``TABLE_SPEC.ttl_attribute``, epoch seconds). Each entity has
its own retention (enabled + default seconds); only the value varies. Items whose TTL lies in the past are
treated as absent by every read path and by conditional writes, because DynamoDB deletes them lazily
(typically within 48 hours).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mastra_dynamo.clock import Clock, utc_now
from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.errors import ConfigurationError
from mastra_dynamo.schema.table import TABLE_SPEC

TTL_ENTITIES = (
    "thread",
    "message",
    "resource",
    "workflow_snapshot",
    "score",
    "agent",
    "dataset",
    "experiment",
    "background_task",
)


ENTITY_TTL_KEYS = frozenset({"enabled", "defaultTtlSeconds", "default_ttl_seconds", "attributeName",
                             "attribute_name"})
"""Keys of one entity's retention config (Mastra's camelCase names or snake_case)."""


@dataclass(frozen=True)
class EntityTtl:
    enabled: bool = False
    default_ttl_seconds: int | None = None


class TtlPolicy:
    """Retention per entity. Accepts Mastra's config shape ``{entity: {enabled, defaultTtlSeconds}}``."""

    def __init__(self, config: Mapping[str, EntityTtl | Mapping[str, Any]] | None = None,
                 *, clock: Clock = utc_now, attribute: str = TABLE_SPEC.ttl_attribute) -> None:
        self.attribute = attribute
        self.clock = clock
        self._entities: dict[str, EntityTtl] = {}
        for entity, raw in (config or {}).items():
            if entity not in TTL_ENTITIES:
                raise ConfigurationError(
                    f"unknown TTL entity {entity!r}; expected one of {', '.join(TTL_ENTITIES)}",
                    code="INVALID_TTL_CONFIG",
                )
            self._entities[entity] = self._parse(entity, raw)

    @property
    def config(self) -> dict[str, EntityTtl]:
        """The retention of each configured entity (what built this policy)."""
        return dict(self._entities)

    def _parse(self, entity: str, raw: EntityTtl | Mapping[str, Any]) -> EntityTtl:
        if isinstance(raw, EntityTtl):
            return raw
        if not isinstance(raw, Mapping):
            raise ConfigurationError(f"TTL for {entity!r} must be a mapping like {{'enabled': True, "
                                     f"'defaultTtlSeconds': 86400}}", code="INVALID_TTL_CONFIG")
        unknown = sorted(str(k) for k in raw if k not in ENTITY_TTL_KEYS)
        if unknown:
            raise ConfigurationError(
                f"TTL for {entity!r} has unknown key(s) {', '.join(map(repr, unknown))}; expected 'enabled' and "
                "'defaultTtlSeconds' (or 'default_ttl_seconds')", code="INVALID_TTL_CONFIG",
                details={"entity": entity, "unknown": unknown})
        name = raw.get("attributeName", raw.get("attribute_name"))
        if name not in (None, self.attribute):
            raise ConfigurationError(
                f"TTL for {entity!r} names attribute {name!r}, but a DynamoDB table has one TTL attribute "
                f"({self.attribute!r}); vary the retention, not the attribute",
                code="INVALID_TTL_CONFIG",
            )
        seconds = raw.get("defaultTtlSeconds", raw.get("default_ttl_seconds"))
        if seconds is not None and (not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 0):
            raise ConfigurationError(f"TTL seconds for {entity!r} must be a non-negative integer",
                                     code="INVALID_TTL_CONFIG")
        return EntityTtl(enabled=bool(raw.get("enabled", False)), default_ttl_seconds=seconds)

    def now_epoch(self) -> int:
        return int(self.clock().timestamp())

    def expires_at(self, entity: str, custom_seconds: int | None = None) -> int | None:
        """Epoch seconds at which a newly written ``entity`` item expires, or None (kept forever)."""
        cfg = self._entities.get(entity)
        if cfg is None or not cfg.enabled:
            return None
        seconds = custom_seconds if custom_seconds is not None else cfg.default_ttl_seconds
        if not seconds or seconds <= 0:
            return None
        return self.now_epoch() + seconds

    def is_expired(self, item: Item | None) -> bool:
        if item is None:
            return False
        attr = item.get(self.attribute)
        if not attr or "N" not in attr:
            return False
        return int(float(attr["N"])) <= self.now_epoch()

    def alive(self, item: Item | None) -> Item | None:
        """The item, or None when it is missing or logically expired."""
        if item is None or self.is_expired(item):
            return None
        return item
