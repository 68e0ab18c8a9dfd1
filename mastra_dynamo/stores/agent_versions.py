"""Agent versions (spec 3.5): numbered snapshot configurations of a stored agent, and their id pointers.

A version row ``A#<agentId>`` / ``V#<versionNumber:010d>`` (``AgentVersionItem``) lives in its agent's item
collection, so versions list with a strongly consistent Query in number order. A pointer ``AV#<versionId>``
/ ``AV`` (``AgentVersionRefItem``) resolves a version id to its row. Both are created in one transaction,
each conditioned on its key being free (absent, or holding an expired item): the row's condition makes
``(agentId, versionNumber)`` unique, the pointer's makes version ids unique. Versions and pointers carry their
agent's ``ttl`` (models/agents.py describes the items).
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic.alias_generators import to_camel

from mastra_dynamo.dynamo.client import TransactionCancelled
from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.errors import ConflictError, ValidationError
from mastra_dynamo.models import requests
from mastra_dynamo.models.agents import AgentVersionItem, AgentVersionRefItem, expiry_of, key_of
from mastra_dynamo.models.agents_requests import (
    EPOCH_SECONDS,
    BoundCondition,
    ConditionTemplate,
    GetRequests,
)
from mastra_dynamo.models.base import TableItem
from mastra_dynamo.pagination import paginate
from mastra_dynamo.records.agents import AgentVersion, AgentVersionsPage
from mastra_dynamo.records.base import describe_errors
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.keys import Key
from mastra_dynamo.stores import listing
from mastra_dynamo.stores.base import DynamoDomain
from mastra_dynamo.validate import is_list, require_id, resolve_order

DEFAULT_VERSIONS_PER_PAGE = 20
MAX_VERSION_NUMBER = 10**10 - 1
VERSION_PREFIX = "V#"

ABSENT_OR_EXPIRED = ConditionTemplate(lambda now: TableItem.pk.does_not_exist() | ~TableItem.not_expired(now),
                                      now=EPOCH_SECONDS)
"""Condition of every create of the domain: no item under the key, or only an expired one."""
NOT_EXPIRED = ConditionTemplate(lambda now: TableItem.not_expired(now), now=EPOCH_SECONDS)
"""Filter of the version listings: items past their retention are invisible."""
GET = GetRequests(consistent=True)
"""The reads by key of the domain: strongly consistent GetItem."""


def camel(data: Mapping[str, Any]) -> dict[str, Any]:
    """Input fields in Mastra's camelCase (snake_case names converted)."""
    if not isinstance(data, Mapping):
        raise ValidationError("expected an object", code="INVALID_INPUT")
    out: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            raise ValidationError("field names must be strings", code="INVALID_INPUT")
        out[to_camel(key) if "_" in key else key] = value
    return out


def _key_attr() -> tuple[str, str]:
    return TableItem.pk.attr_name, TableItem.sk.attr_name


class AgentVersions(DynamoDomain):
    """The version operations of the agents store (see docs/access-patterns.md 4.5)."""

    # ------------------------------------------------------------------ requests
    def _get(self, key: Key) -> Item | None:
        """The live item at ``key`` (strongly consistent GetItem; an expired item reads as None)."""
        return self.alive(self.table.call("GetItem", **GET(self.table.table_name, key)).get("Item"))

    def _create_put(self, serialized: Item, free: BoundCondition) -> dict[str, Any]:
        """The transaction Put of a new item, conditioned on its key being ``free`` (``ABSENT_OR_EXPIRED``)."""
        return requests.transact("Put", free.put(self.table.table_name, serialized))

    def _version_puts(self, version: AgentVersion, expires_at: int | None,
                      free: BoundCondition) -> list[dict[str, Any]]:
        """The Puts of a new version row and its pointer, each conditioned on its key being ``free``."""
        return [self._create_put(AgentVersionItem.encode(version, expires_at=expires_at), free),
                self._create_put(AgentVersionRefItem.encode(version, expires_at=expires_at), free)]

    def _free(self) -> BoundCondition:
        """The condition of a create now: the key holds no item, or an expired one."""
        return ABSENT_OR_EXPIRED.bind(now=self.ttl.now_epoch())

    def _not_expired(self) -> listing.FilterBuilder:
        return NOT_EXPIRED.bind(now=self.ttl.now_epoch()).filter()

    def _agent_ttl(self, agent_id: str) -> int | None:
        item = self._get(keys.agent_key(agent_id))
        if item is not None:  # versions expire with their agent (or never, like it)
            return expiry_of(item)
        return self.ttl.expires_at("agent")

    # ------------------------------------------------------------------ versions
    def create_version(self, version: Mapping[str, Any]) -> AgentVersion:
        """Store a version. Raises ConflictError (code AGENT_VERSION_EXISTS) when the version id or the
        (agent_id, version_number) pair already exists; ValidationError for bad input."""
        data = camel(version)
        data.setdefault("id", str(uuid.uuid4()))
        data.setdefault("createdAt", self.now())
        try:
            record = AgentVersion.model_validate(data)
        except Exception as exc:
            raise ValidationError(f"invalid agent version: {describe_errors(exc, what='version')}",
                                  code="INVALID_INPUT") from None
        require_id(record.id, field="version.id")
        require_id(record.agent_id, field="version.agent_id")
        if not 0 <= record.version_number <= MAX_VERSION_NUMBER:
            raise ValidationError("version_number must be between 0 and 9999999999", code="INVALID_INPUT")
        expires = self._agent_ttl(record.agent_id)
        try:
            self.table.transact_write(self._version_puts(record, expires, self._free()))
        except TransactionCancelled as exc:
            if exc.condition_failed:
                raise ConflictError(
                    f"agent version {record.id!r} or number {record.version_number} of agent "
                    f"{record.agent_id!r} already exists", code="AGENT_VERSION_EXISTS",
                    details={"version_id": record.id, "agent_id": record.agent_id,
                             "version_number": record.version_number}) from exc
            raise
        return record

    def _version_location(self, version_id: str) -> Key | None:
        ref = self._get(keys.agent_version_ref_key(version_id))
        return None if ref is None else AgentVersionRefItem.target(ref)

    def get_version(self, id: str) -> AgentVersion | None:
        require_id(id, field="id")
        location = self._version_location(id)
        if location is None:
            return None
        item = self._get(location)
        return None if item is None else AgentVersionItem.record_if_id(item, id)

    def get_version_by_number(self, agent_id: str, version_number: int) -> AgentVersion | None:
        require_id(agent_id, field="agent_id")
        if not isinstance(version_number, int) or not 0 <= version_number <= MAX_VERSION_NUMBER:
            return None
        item = self._get(keys.agent_version_key(agent_id, version_number))
        return None if item is None else AgentVersionItem.record_from_raw(item)

    def _versions_query(self, agent_id: str) -> listing.PartitionQuery:
        return listing.PartitionQuery(None, *_key_attr(), keys.agent_key(agent_id).pk, sk_prefix=VERSION_PREFIX,
                                      consistent=True)

    def get_latest_version(self, agent_id: str) -> AgentVersion | None:
        require_id(agent_id, field="agent_id")
        items = listing.collect(self.table, [self._versions_query(agent_id)], ascending=False,
                                filter_builder=self._not_expired(), offset=0, limit=1)
        return AgentVersionItem.record_from_raw(items[0]) if items else None

    def list_versions(self, *, agent_id: str, page: int = 0, per_page: Any = None,
                      order_by: Any = None) -> AgentVersionsPage:
        """Versions of an agent, by version number (default, DESC) or createdAt."""
        require_id(agent_id, field="agent_id")
        window = paginate(page, per_page, default=DEFAULT_VERSIONS_PER_PAGE)
        field, direction = resolve_order(order_by, allowed=("versionNumber", "createdAt"),
                                         default_field="versionNumber", default_direction="DESC", strict=False)
        query = self._versions_query(agent_id)
        versions: builtins.list[AgentVersion]
        if field == "versionNumber":
            items, total = listing.page_with_total(self.table, [query], ascending=direction == "ASC",
                                                   filter_builder=self._not_expired(), offset=window.offset,
                                                   limit=window.limit)
            versions = [AgentVersionItem.record_from_raw(i) for i in items]
        else:
            everything = [AgentVersionItem.record_from_raw(i) for i in listing.collect(
                self.table, [query], ascending=True, filter_builder=self._not_expired(), offset=0, limit=None)]
            everything.sort(key=lambda v: (v.created_at, v.version_number), reverse=direction == "DESC")
            total = len(everything)
            end = None if window.limit is None else window.offset + window.limit
            versions = everything[window.offset:end]
        total = total or 0
        return AgentVersionsPage(versions=versions, total=total, page=window.page, per_page=window.per_page,
                                 has_more=window.has_more(total))

    def delete_version(self, id: str) -> None:
        require_id(id, field="id")
        location = self._version_location(id)
        if location is None:
            return
        self.table.batch_write(deletes=[location, keys.agent_version_ref_key(id)])

    def _collection_deletes(self, query: listing.PartitionQuery) -> builtins.list[Key]:
        """The keys of every item the Query finds, and of the pointer of every version among them."""
        items = listing.collect(self.table, [query], ascending=True, filter_builder=lambda e: None, offset=0,
                                limit=None)
        deletes: builtins.list[Key] = []
        for item in items:
            deletes.append(key_of(item))
            version_id = AgentVersionItem.stored_id(item)
            if version_id is not None:
                deletes.append(keys.agent_version_ref_key(version_id))
        return deletes

    def delete_versions_by_parent_id(self, agent_id: str) -> None:
        require_id(agent_id, field="agent_id")
        self.table.batch_write(deletes=self._collection_deletes(self._versions_query(agent_id)))

    def count_versions(self, agent_id: str) -> int:
        require_id(agent_id, field="agent_id")
        return listing.count(self.table, [self._versions_query(agent_id)], filter_builder=self._not_expired())

    def get_versions(self, ids: Sequence[str]) -> builtins.list[AgentVersion]:
        """Versions by id (unknown ids skipped), in the order of ``ids``."""
        if not is_list(ids):
            raise ValidationError("ids must be a list of ids", code="INVALID_INPUT")
        wanted = [require_id(i, field="ids[]") for i in ids]
        refs = self.table.batch_get([keys.agent_version_ref_key(i) for i in wanted])
        locations: dict[str, Key] = {}
        for version_id in wanted:
            ref_key = keys.agent_version_ref_key(version_id)
            ref = self.alive(refs.get((ref_key.pk, ref_key.sk)))
            if ref is not None:
                locations[version_id] = AgentVersionRefItem.target(ref)
        found = self.table.batch_get(locations.values())
        out = []
        for version_id, loc in locations.items():
            item = self.alive(found.get((loc.pk, loc.sk)))
            version = None if item is None else AgentVersionItem.record_if_id(item, version_id)
            if version is not None:
                out.append(version)
        return out


__all__ = ["AgentVersions", "camel"]
