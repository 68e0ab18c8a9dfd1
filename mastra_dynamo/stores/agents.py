"""Agents domain (spec 3.5) on the table: stored agents with numbered versions.

An agent and its versions share one item collection ``A#<agentId>`` (agent item ``A``, versions
``V#<number:010d>``), so versions list with a strongly consistent Query in number order and a delete is one
Query. A pointer item ``AV#<versionId>`` resolves version ids and, through its conditional create, makes
version ids unique; the version row's own conditional create makes ``(agent_id, version_number)`` unique.
Global listings are write-sharded (gsi3 by createdAt, gsi4 by updatedAt); listings by author use gsi1/gsi2.
``update`` is optimistic: a PutItem of the whole agent conditioned on the ``_rev`` it read, with ``_rev + 1``.

The items are the PynamoDB models of models/agents.py (``AgentItem``, ``AgentVersionItem``,
``AgentVersionRefItem``); requests are built by models/requests.py and the templates of
models/agents_requests.py, and sent through ``self.table`` (TableClient). The version operations live in
stores/agent_versions.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Value

from mastra_dynamo.dynamo.client import TransactionCancelled
from mastra_dynamo.errors import ConflictError, NotFoundError, UnsupportedError, ValidationError
from mastra_dynamo.models import requests
from mastra_dynamo.models.agents import (
    ENTITY_AGENT,
    ENTITY_VERSION,
    ENTITY_VERSION_REF,
    IS_AGENT,
    AgentItem,
    expiry_of,
    revision_of,
)
from mastra_dynamo.models.agents_requests import EPOCH_SECONDS, ConditionTemplate, TemplateCache
from mastra_dynamo.models.base import TableItem
from mastra_dynamo.pagination import paginate
from mastra_dynamo.records.agents import (
    Agent,
    AgentsPage,
    AgentVersion,
    ResolvedAgent,
    ResolvedAgentsPage,
)
from mastra_dynamo.records.base import describe_errors
from mastra_dynamo.schema import keys
from mastra_dynamo.stores import listing
from mastra_dynamo.stores.agent_versions import AgentVersions, camel
from mastra_dynamo.stores.base import MAX_CONFLICT_RETRIES
from mastra_dynamo.validate import (
    check_metadata_filter,
    is_list,
    matches_metadata,
    require_id,
    require_mapping,
    resolve_order,
)

ENTITY_FIELDS = frozenset({"id", "status", "activeVersionId", "authorId", "visibility", "metadata", "favoriteCount",
                           "createdAt", "updatedAt"})
VERSION_META = frozenset({"id", "agentId", "versionNumber", "changedFields", "changeMessage", "createdAt"})
DEFAULT_AGENTS_PER_PAGE = 100


def _revision_template(read: bool) -> ConditionTemplate:
    """The condition of ``update``'s PutItem: ``_rev`` is still the value read (``read``), or still absent."""
    if read:
        return ConditionTemplate(lambda rev: AgentItem.revision_condition(rev), rev=AgentItem.revision)
    return ConditionTemplate(lambda: AgentItem.revision_condition(None))


def _listing_template(visibility: bool, status: bool) -> ConditionTemplate:
    """The filter of the agent listings: agents, not expired, and the equality filters given."""

    def build(now: Value, visibility: Value | None = None, status: Value | None = None) -> Condition:
        condition: Condition = IS_AGENT & AgentItem.not_expired(now)
        if visibility is not None:
            condition &= AgentItem.visibility == visibility
        if status is not None:
            condition &= AgentItem.status == status
        return condition

    slots: dict[str, Any] = {"now": EPOCH_SECONDS}
    if visibility:
        slots["visibility"] = AgentItem.visibility
    if status:
        slots["status"] = AgentItem.status
    return ConditionTemplate(build, **slots)


REVISION: TemplateCache[ConditionTemplate] = TemplateCache(_revision_template)
LISTING: TemplateCache[ConditionTemplate] = TemplateCache(_listing_template)


class DynamoAgentsStore(AgentVersions):
    """Stored agents and versions. See docs/access-patterns.md for the requests behind each method."""

    # ------------------------------------------------------------------ agents
    def create(self, *, agent: Mapping[str, Any]) -> Agent:
        """Create an agent (status draft) and its version 1 from the snapshot fields given.

        Raises: ValidationError (bad input), ConflictError (code AGENT_EXISTS) when the id exists."""
        data = camel(agent)
        agent_id = require_id(data.get("id"), field="agent.id")
        now = self.now()
        snapshot = {k: v for k, v in data.items() if k not in ENTITY_FIELDS}
        entity: dict[str, Any] = {
            "id": agent_id, "status": "draft", "favoriteCount": 0, "createdAt": now, "updatedAt": now,
        }
        for name in ("authorId", "visibility", "metadata"):
            if data.get(name) is not None:
                entity[name] = data[name]
        if entity.get("authorId") is not None and "visibility" not in entity:
            entity["visibility"] = "private"
        try:
            record = Agent.model_validate(entity)
            version = AgentVersion.model_validate({
                **snapshot, "id": str(uuid.uuid4()), "agentId": agent_id, "versionNumber": 1,
                "changedFields": list(snapshot), "changeMessage": "Initial version", "createdAt": now,
            })
        except Exception as exc:
            raise ValidationError(f"invalid agent: {describe_errors(exc, what='agent')}",
                                  code="INVALID_INPUT") from None
        expires = self.ttl.expires_at("agent")
        free = self._free()
        agent_put = self._create_put(AgentItem.encode(record, expires_at=expires), free)
        try:
            self.table.transact_write([agent_put, *self._version_puts(version, expires, free)])
        except TransactionCancelled as exc:
            if exc.condition_failed:
                raise ConflictError(f"agent {agent_id!r} already exists", code="AGENT_EXISTS",
                                    details={"agent_id": agent_id}) from exc
            raise
        return record

    def get_by_id(self, id: str) -> Agent | None:
        require_id(id, field="id")
        item = self._get(keys.agent_key(id))
        return None if item is None else AgentItem.record_from_raw(item)

    def _resolve(self, agent: Agent, *, status: str | None, version_id: str | None) -> ResolvedAgent:
        version: AgentVersion | None = None
        if version_id is not None:
            version = self.get_version(id=version_id)
            if version is not None and version.agent_id != agent.id:
                version = None
        elif status != "draft" and agent.active_version_id:
            version = self.get_version(id=agent.active_version_id)
            if version is not None and version.agent_id != agent.id:
                version = None  # an active version id that names another agent's version is ignored
        if version is None and version_id is None:
            version = self.get_latest_version(agent_id=agent.id)
        merged = agent.model_dump(by_alias=True, exclude_unset=False)
        if version is not None:
            config = version.model_dump(by_alias=True, exclude_unset=True)
            for name, value in config.items():
                if name not in VERSION_META and name not in ENTITY_FIELDS:
                    merged[name] = value
        merged["resolvedVersionId"] = version.id if version is not None else None
        return ResolvedAgent.model_validate(merged)

    def get_by_id_resolved(self, id: str, *, status: str | None = None,
                           version_id: str | None = None) -> ResolvedAgent | None:
        """The agent merged with a version: ``version_id`` if given; ``status="draft"``: the latest version;
        otherwise the active version (falling back to the latest). None when the agent does not exist."""
        agent = self.get_by_id(id=id)
        if agent is None:
            return None
        return self._resolve(agent, status=status, version_id=version_id)

    def update(self, /, *, id: str, **fields: Any) -> Agent:
        """Update entity-level fields (author_id, visibility, active_version_id, metadata (shallow merge),
        status); snapshot config fields are ignored here (config changes are new versions).

        Raises: NotFoundError when the agent does not exist."""
        require_id(id, field="id")
        changes = camel(fields)
        for _ in range(MAX_CONFLICT_RETRIES):
            item = self._get(keys.agent_key(id))
            if item is None:
                raise NotFoundError(f"agent {id!r} not found", details={"agent_id": id})
            current = AgentItem.record_from_raw(item)
            data = current.model_dump(by_alias=True, exclude_unset=False)
            for name in ("authorId", "visibility", "activeVersionId", "status"):
                if name in changes and changes[name] is not None:
                    data[name] = changes[name]
            if changes.get("metadata") is not None:
                patch = require_mapping(changes["metadata"], field="metadata")
                data["metadata"] = {**(current.metadata or {}), **patch}
            data["updatedAt"] = self.bumped(current.updated_at)
            try:
                updated = Agent.model_validate(data)
            except Exception as exc:
                raise ValidationError(f"invalid agent update: {describe_errors(exc, what='agent')}",
                                      code="INVALID_INPUT") from None
            rev = revision_of(item)
            new_item = AgentItem.encode(updated, expires_at=expiry_of(item), revision=(rev or 0) + 1)
            unchanged = REVISION(rev is not None).bind(rev=rev)  # its _rev is still the one read
            try:
                self.table.call("PutItem", **unchanged.put(self.table.table_name, new_item))
            except ConflictError:
                continue
            return updated
        raise ConflictError(f"agent {id!r}: too much contention; retry", details={"agent_id": id})

    def delete(self, id: str) -> None:
        """Delete the agent, its versions and their pointers (idempotent; a missing id is a no-op)."""
        require_id(id, field="id")
        query = listing.PartitionQuery(None, TableItem.pk.attr_name, TableItem.sk.attr_name, keys.agent_key(id).pk,
                                       consistent=True)
        self.table.batch_write(deletes=[keys.agent_key(id), *self._collection_deletes(query)])

    def _list_items(self, *, page: int, per_page: Any, order_by: Any, author_id: str | None,
                    visibility: str | None, metadata: Mapping[str, Any] | None, status: str | None,
                    entity_ids: Sequence[str] | None, pin_favorited_for: str | None,
                    favorited_only: bool) -> tuple[list[Agent], int, Any]:
        if pin_favorited_for is not None or favorited_only:
            raise UnsupportedError("favorites are not stored by DynamoDBStore (pin_favorited_for / favorited_only)",
                                   code="FAVORITES_UNSUPPORTED")
        window = paginate(page, per_page, default=DEFAULT_AGENTS_PER_PAGE)
        meta = check_metadata_filter(metadata, scalar_values=False)
        field, direction = resolve_order(order_by, allowed=("createdAt", "updatedAt"), default_field="createdAt",
                                         default_direction="DESC", strict=False)
        ascending = direction == "ASC"

        def keep(agent: Agent) -> bool:
            return ((visibility is None or agent.visibility == visibility)
                    and (status is None or agent.status == status)
                    and (author_id is None or agent.author_id == author_id)
                    and matches_metadata(agent.metadata, meta))

        if entity_ids is not None:
            if not is_list(entity_ids):
                raise ValidationError("entity_ids must be a list of ids", code="INVALID_INPUT")
            ids = [require_id(i, field="entity_ids[]") for i in entity_ids]
            found = self.table.batch_get([keys.agent_key(i) for i in ids])
            agents = [AgentItem.record_from_raw(i) for i in found.values() if self.alive(i) is not None]
            agents = [a for a in agents if keep(a)]
            attr = "created_at" if field == "createdAt" else "updated_at"
            agents.sort(key=lambda a: (getattr(a, attr), a.id), reverse=not ascending)
            end = None if window.limit is None else window.offset + window.limit
            return agents[window.offset:end], len(agents), window
        by_created = field == "createdAt"
        if author_id is not None:
            require_id(author_id, field="author_id")
            index = requests.index_keys(AgentItem.gsi1 if by_created else AgentItem.gsi2)
            queries = [listing.PartitionQuery(*index, keys.agents_by_author_pk(author_id))]
        else:  # every shard of the global listing, merged
            index = requests.index_keys(AgentItem.gsi3 if by_created else AgentItem.gsi4)
            queries = [listing.PartitionQuery(*index, keys.agents_global_pk(s))
                       for s in keys.all_shards(keys.GLOBAL_SHARDS)]
        flt = LISTING(visibility is not None, status is not None).bind(
            now=self.ttl.now_epoch(), visibility=visibility, status=status).filter()
        predicate = (lambda i: matches_metadata(AgentItem.record_from_raw(i).metadata, meta)) if meta else None
        items, total = listing.page_with_total(self.table, queries, ascending=ascending, filter_builder=flt,
                                               offset=window.offset, limit=window.limit, predicate=predicate)
        return [AgentItem.record_from_raw(i) for i in items], total or 0, window

    def list(self, *, page: int = 0, per_page: Any = None, order_by: Any = None, author_id: str | None = None,
             visibility: str | None = None, metadata: Mapping[str, Any] | None = None, status: str | None = None,
             entity_ids: Sequence[str] | None = None, pin_favorited_for: str | None = None,
             favorited_only: bool = False) -> AgentsPage:
        """Agents, newest first by default. ``entity_ids=[]`` gives an empty page.

        Raises: ValidationError (pagination, metadata filter), UnsupportedError (favorites)."""
        agents, total, window = self._list_items(
            page=page, per_page=per_page, order_by=order_by, author_id=author_id, visibility=visibility,
            metadata=metadata, status=status, entity_ids=entity_ids, pin_favorited_for=pin_favorited_for,
            favorited_only=favorited_only)
        return AgentsPage(agents=agents, total=total, page=window.page, per_page=window.per_page,
                          has_more=window.has_more(total))

    def list_resolved(self, *, page: int = 0, per_page: Any = None, order_by: Any = None,
                      author_id: str | None = None, visibility: str | None = None,
                      metadata: Mapping[str, Any] | None = None, status: str | None = None,
                      entity_ids: Sequence[str] | None = None, pin_favorited_for: str | None = None,
                      favorited_only: bool = False) -> ResolvedAgentsPage:
        """Like :meth:`list` (same arguments), each agent merged with a version chosen by the call's
        ``status`` exactly as :meth:`get_by_id_resolved` chooses it: ``"draft"``: the latest version;
        otherwise the active version, falling back to the latest."""
        agents, total, window = self._list_items(
            page=page, per_page=per_page, order_by=order_by, author_id=author_id, visibility=visibility,
            metadata=metadata, status=status, entity_ids=entity_ids, pin_favorited_for=pin_favorited_for,
            favorited_only=favorited_only)
        resolved = [self._resolve(a, status=status, version_id=None) for a in agents]
        return ResolvedAgentsPage(agents=resolved, total=total, page=window.page, per_page=window.per_page,
                                  has_more=window.has_more(total))

    def dangerously_clear_all(self) -> None:
        """Delete every agent item of this table. Admin only: reads the whole table with a Scan."""
        from mastra_dynamo.admin import scan_entities  # admin: not a request path

        self.table.batch_write(deletes=list(scan_entities(self.table, (ENTITY_AGENT, ENTITY_VERSION,
                                                                       ENTITY_VERSION_REF))))


__all__ = ["ENTITY_AGENT", "ENTITY_VERSION", "ENTITY_VERSION_REF", "DynamoAgentsStore"]
