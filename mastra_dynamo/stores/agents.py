"""Agents domain (spec 3.5) on the table: stored agents with numbered versions.

An agent and its versions share one item collection ``A#<agentId>`` (agent item ``A``, versions
``V#<number:010d>``), so versions list with a strongly consistent Query in number order and a delete is one
Query. A pointer item ``AV#<versionId>`` resolves version ids and, through its conditional create, makes
version ids unique; the version row's own conditional create makes ``(agent_id, version_number)`` unique.
Global listings are write-sharded (gsi3 by createdAt, gsi4 by updatedAt); listings by author use gsi1/gsi2.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic.alias_generators import to_camel

from mastra_dynamo.dynamo.client import TransactionCancelled
from mastra_dynamo.dynamo.codec import Item, check_item_size, decode_json, decode_value, encode_json
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.errors import ConflictError, NotFoundError, UnsupportedError, ValidationError
from mastra_dynamo.pagination import paginate
from mastra_dynamo.records.agents import (
    Agent,
    AgentsPage,
    AgentVersion,
    AgentVersionsPage,
    ResolvedAgent,
    ResolvedAgentsPage,
)
from mastra_dynamo.records.base import describe_errors, json_data
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.keys import Key
from mastra_dynamo.stores import listing
from mastra_dynamo.stores.base import MAX_CONFLICT_RETRIES, DynamoDomain
from mastra_dynamo.stores.writes import revision_condition
from mastra_dynamo.validate import (
    check_metadata_filter,
    is_list,
    matches_metadata,
    require_id,
    require_mapping,
    resolve_order,
)

ENTITY_AGENT = "agent"
ENTITY_VERSION = "agent_version"
ENTITY_VERSION_REF = "agent_version_ref"
ENTITY_FIELDS = frozenset({"id", "status", "activeVersionId", "authorId", "visibility", "metadata", "favoriteCount",
                           "createdAt", "updatedAt"})
VERSION_META = frozenset({"id", "agentId", "versionNumber", "changedFields", "changeMessage", "createdAt"})
DEFAULT_AGENTS_PER_PAGE = 100
DEFAULT_VERSIONS_PER_PAGE = 20
MAX_VERSION_NUMBER = 10**10 - 1


def _camel(data: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ValidationError("expected an object", code="INVALID_INPUT")
    out: dict[str, Any] = {}
    for key, value in data.items():
        if not isinstance(key, str):
            raise ValidationError("field names must be strings", code="INVALID_INPUT")
        out[to_camel(key) if "_" in key else key] = value
    return out


class DynamoAgentsStore(DynamoDomain):
    """Stored agents and versions. See docs/access-patterns.md for the requests behind each method."""

    # ------------------------------------------------------------------ items
    def _agent_item(self, agent: Agent, expires_at: int | None) -> Item:
        data = json_data(agent, what="agent", by_alias=True, exclude_unset=False)
        key = keys.agent_key(agent.id)
        cid = keys.component(agent.id)
        created, updated = keys.ts(agent.created_at), keys.ts(agent.updated_at)
        item: Item = {
            "pk": {"S": key.pk}, "sk": {"S": key.sk},
            "data": encode_json({k: v for k, v in data.items() if k not in ("createdAt", "updatedAt")},
                                field="agent"),
            "createdAt": {"S": created}, "updatedAt": {"S": updated},
            "status": {"S": agent.status},
            "gsi3pk": {"S": keys.agents_global_pk(keys.shard_of(agent.id, keys.GLOBAL_SHARDS))},
            "gsi3sk": {"S": f"{created}#{cid}"},
            "gsi4pk": {"S": keys.agents_global_pk(keys.shard_of(agent.id, keys.GLOBAL_SHARDS))},
            "gsi4sk": {"S": f"{updated}#{cid}"},
        }
        if agent.visibility is not None:
            item["visibility"] = {"S": agent.visibility}
        if agent.author_id is not None:
            item["authorId"] = {"S": agent.author_id}
            item["gsi1pk"] = {"S": keys.agents_by_author_pk(agent.author_id)}
            item["gsi1sk"] = {"S": f"{created}#{cid}"}
            item["gsi2pk"] = {"S": keys.agents_by_author_pk(agent.author_id)}
            item["gsi2sk"] = {"S": f"{updated}#{cid}"}
        item = self.stamp(item, ENTITY_AGENT, expires_at=expires_at)
        check_item_size(item, entity="agent", entity_id=agent.id)
        return item

    @staticmethod
    def _decode_agent(item: Item) -> Agent:
        data = decode_json(item["data"])
        data["createdAt"] = decode_value(item["createdAt"], "datetime")
        data["updatedAt"] = decode_value(item["updatedAt"], "datetime")
        return Agent.model_validate(data)

    def _version_item(self, version: AgentVersion, expires_at: int | None) -> Item:
        data = json_data(version, what="agent version", by_alias=True, exclude_unset=True)
        key = keys.agent_version_key(version.agent_id, version.version_number)
        item: Item = {
            "pk": {"S": key.pk}, "sk": {"S": key.sk},
            "data": encode_json({k: v for k, v in data.items() if k != "createdAt"}, field="version"),
            "createdAt": {"S": keys.ts(version.created_at)},
            "id": {"S": version.id},
            "versionNumber": {"N": str(version.version_number)},
        }
        item = self.stamp(item, ENTITY_VERSION, expires_at=expires_at)
        check_item_size(item, entity="agent version", entity_id=version.id)
        return item

    @staticmethod
    def _decode_version(item: Item) -> AgentVersion:
        data = decode_json(item["data"])
        data["createdAt"] = decode_value(item["createdAt"], "datetime")
        return AgentVersion.model_validate(data)

    def _ref_item(self, version: AgentVersion, expires_at: int | None) -> Item:
        key = keys.agent_version_ref_key(version.id)
        item: Item = {"pk": {"S": key.pk}, "sk": {"S": key.sk}, "agentId": {"S": version.agent_id},
                      "versionNumber": {"N": str(version.version_number)}}
        return self.stamp(item, ENTITY_VERSION_REF, expires_at=expires_at)

    def _absent_or_expired(self) -> dict[str, Any]:
        expr = Expr()
        return expr.apply({"ConditionExpression":
                           f"attribute_not_exists({expr.name('pk')}) OR NOT {self.not_expired(expr)}"})

    def _agent_ttl(self, agent_id: str) -> int | None:
        item = self.alive(self.table.get_item(keys.agent_key(agent_id)))
        if item is not None:  # versions expire with their agent (or never, like it)
            ttl = item.get(self.spec.ttl_attribute)
            return int(ttl["N"]) if ttl is not None else None
        return self.ttl.expires_at("agent")

    # ------------------------------------------------------------------ agents
    def create(self, *, agent: Mapping[str, Any]) -> Agent:
        """Create an agent (status draft) and its version 1 from the snapshot fields given.

        Raises: ValidationError (bad input), ConflictError (code AGENT_EXISTS) when the id exists."""
        data = _camel(agent)
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
        try:
            self.table.transact_write([
                {"Put": {"Item": self._agent_item(record, expires), **self._absent_or_expired()}},
                {"Put": {"Item": self._version_item(version, expires), **self._absent_or_expired()}},
                {"Put": {"Item": self._ref_item(version, expires), **self._absent_or_expired()}},
            ])
        except TransactionCancelled as exc:
            if exc.condition_failed:
                raise ConflictError(f"agent {agent_id!r} already exists", code="AGENT_EXISTS",
                                    details={"agent_id": agent_id}) from exc
            raise
        return record

    def get_by_id(self, *, id: str) -> Agent | None:
        require_id(id, field="id")
        item = self.alive(self.table.get_item(keys.agent_key(id)))
        return None if item is None else self._decode_agent(item)

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

    def get_by_id_resolved(self, *, id: str, status: str | None = None,
                           version_id: str | None = None) -> ResolvedAgent | None:
        """The agent merged with a version: ``version_id`` if given; ``status="draft"``: the latest version;
        otherwise the active version (falling back to the latest). None when the agent does not exist."""
        agent = self.get_by_id(id=id)
        if agent is None:
            return None
        return self._resolve(agent, status=status, version_id=version_id)

    def update(self, *, id: str, **fields: Any) -> Agent:
        """Update entity-level fields (author_id, visibility, active_version_id, metadata (shallow merge),
        status); snapshot config fields are ignored here (config changes are new versions).

        Raises: NotFoundError when the agent does not exist."""
        require_id(id, field="id")
        changes = _camel(fields)
        for _ in range(MAX_CONFLICT_RETRIES):
            item = self.alive(self.table.get_item(keys.agent_key(id)))
            if item is None:
                raise NotFoundError(f"agent {id!r} not found", details={"agent_id": id})
            current = self._decode_agent(item)
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
            expires = int(item[self.spec.ttl_attribute]["N"]) if self.spec.ttl_attribute in item else None
            new_item = self._agent_item(updated, expires)
            rev = int(item.get(self.spec.revision_attribute, {"N": "0"})["N"])
            new_item[self.spec.revision_attribute] = {"N": str(rev + 1)}
            expr = Expr()
            try:
                self.table.call("PutItem", **expr.apply({
                    "TableName": self.table.table_name, "Item": new_item,
                    "ConditionExpression": revision_condition(self, expr, item),
                }))
            except ConflictError:
                continue
            return updated
        raise ConflictError(f"agent {id!r}: too much contention; retry", details={"agent_id": id})

    def delete(self, *, id: str) -> None:
        """Delete the agent, its versions and their pointers (idempotent; a missing id is a no-op)."""
        require_id(id, field="id")
        query = listing.PartitionQuery(None, "pk", "sk", keys.agent_key(id).pk, consistent=True)
        items = listing.collect(self.table, [query], ascending=True, filter_builder=lambda e: None, offset=0,
                                limit=None)
        deletes = [keys.agent_key(id)]
        for item in items:
            deletes.append(Key(item["pk"]["S"], item["sk"]["S"]))
            if item.get(self.spec.entity_attribute, {}).get("S") == ENTITY_VERSION:
                deletes.append(keys.agent_version_ref_key(item["id"]["S"]))
        self.table.batch_write(deletes=deletes)

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
            agents = [self._decode_agent(i) for i in found.values() if self.alive(i) is not None]
            agents = [a for a in agents if keep(a)]
            attr = "created_at" if field == "createdAt" else "updated_at"
            agents.sort(key=lambda a: (getattr(a, attr), a.id), reverse=not ascending)
            end = None if window.limit is None else window.offset + window.limit
            return agents[window.offset:end], len(agents), window
        by_created = field == "createdAt"
        if author_id is not None:
            require_id(author_id, field="author_id")
            index = "gsi1" if by_created else "gsi2"
            queries = [listing.PartitionQuery(index, f"{index}pk", f"{index}sk", keys.agents_by_author_pk(author_id))]
        else:
            index = "gsi3" if by_created else "gsi4"
            queries = [listing.PartitionQuery(index, f"{index}pk", f"{index}sk", keys.agents_global_pk(s))
                       for s in keys.all_shards(keys.GLOBAL_SHARDS)]

        def flt(expr: Expr) -> str:
            clauses = [f"{expr.name(self.spec.entity_attribute)} = {expr.s(ENTITY_AGENT)}", self.not_expired(expr)]
            if visibility is not None:
                clauses.append(f"{expr.name('visibility')} = {expr.s(visibility)}")
            if status is not None:
                clauses.append(f"{expr.name('status')} = {expr.s(status)}")
            return " AND ".join(clauses)

        predicate = (lambda i: matches_metadata(self._decode_agent(i).metadata, meta)) if meta else None
        items, total = listing.page_with_total(self.table, queries, ascending=ascending, filter_builder=flt,
                                               offset=window.offset, limit=window.limit, predicate=predicate)
        return [self._decode_agent(i) for i in items], total or 0, window

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

    def list_resolved(self, **kwargs: Any) -> ResolvedAgentsPage:
        """Like :meth:`list`, each agent merged with its active version (draft status: the latest)."""
        agents, total, window = self._list_items(
            page=kwargs.get("page", 0), per_page=kwargs.get("per_page"), order_by=kwargs.get("order_by"),
            author_id=kwargs.get("author_id"), visibility=kwargs.get("visibility"),
            metadata=kwargs.get("metadata"), status=kwargs.get("status"), entity_ids=kwargs.get("entity_ids"),
            pin_favorited_for=kwargs.get("pin_favorited_for"), favorited_only=kwargs.get("favorited_only", False))
        resolved = [self._resolve(a, status=a.status if a.status == "draft" else None, version_id=None)
                    for a in agents]
        return ResolvedAgentsPage(agents=resolved, total=total, page=window.page, per_page=window.per_page,
                                  has_more=window.has_more(total))

    # ------------------------------------------------------------------ versions
    def create_version(self, *, version: Mapping[str, Any]) -> AgentVersion:
        """Store a version. Raises ConflictError (code AGENT_VERSION_EXISTS) when the version id or the
        (agent_id, version_number) pair already exists; ValidationError for bad input."""
        data = _camel(version)
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
            self.table.transact_write([
                {"Put": {"Item": self._version_item(record, expires), **self._absent_or_expired()}},
                {"Put": {"Item": self._ref_item(record, expires), **self._absent_or_expired()}},
            ])
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
        ref = self.alive(self.table.get_item(keys.agent_version_ref_key(version_id)))
        if ref is None:
            return None
        return keys.agent_version_key(ref["agentId"]["S"], int(ref["versionNumber"]["N"]))

    def get_version(self, *, id: str) -> AgentVersion | None:
        require_id(id, field="id")
        location = self._version_location(id)
        if location is None:
            return None
        item = self.alive(self.table.get_item(location))
        if item is None or item.get("id", {}).get("S") != id:
            return None
        return self._decode_version(item)

    def get_version_by_number(self, *, agent_id: str, version_number: int) -> AgentVersion | None:
        require_id(agent_id, field="agent_id")
        if not isinstance(version_number, int) or not 0 <= version_number <= MAX_VERSION_NUMBER:
            return None
        item = self.alive(self.table.get_item(keys.agent_version_key(agent_id, version_number)))
        return None if item is None else self._decode_version(item)

    def _versions_query(self, agent_id: str) -> listing.PartitionQuery:
        return listing.PartitionQuery(None, "pk", "sk", keys.agent_key(agent_id).pk, sk_prefix="V#",
                                      consistent=True)

    def get_latest_version(self, *, agent_id: str) -> AgentVersion | None:
        require_id(agent_id, field="agent_id")
        items = listing.collect(self.table, [self._versions_query(agent_id)], ascending=False,
                                filter_builder=self.not_expired, offset=0, limit=1)
        return self._decode_version(items[0]) if items else None

    def list_versions(self, *, agent_id: str, page: int = 0, per_page: Any = None,
                      order_by: Any = None) -> AgentVersionsPage:
        """Versions of an agent, by version number (default, DESC) or createdAt."""
        require_id(agent_id, field="agent_id")
        window = paginate(page, per_page, default=DEFAULT_VERSIONS_PER_PAGE)
        field, direction = resolve_order(order_by, allowed=("versionNumber", "createdAt"),
                                         default_field="versionNumber", default_direction="DESC", strict=False)
        query = self._versions_query(agent_id)
        if field == "versionNumber":
            items, total = listing.page_with_total(self.table, [query], ascending=direction == "ASC",
                                                   filter_builder=self.not_expired, offset=window.offset,
                                                   limit=window.limit)
            versions = [self._decode_version(i) for i in items]
        else:
            everything = [self._decode_version(i) for i in listing.collect(
                self.table, [query], ascending=True, filter_builder=self.not_expired, offset=0, limit=None)]
            everything.sort(key=lambda v: (v.created_at, v.version_number), reverse=direction == "DESC")
            total = len(everything)
            end = None if window.limit is None else window.offset + window.limit
            versions = everything[window.offset:end]
        total = total or 0
        return AgentVersionsPage(versions=versions, total=total, page=window.page, per_page=window.per_page,
                                 has_more=window.has_more(total))

    def delete_version(self, *, id: str) -> None:
        require_id(id, field="id")
        location = self._version_location(id)
        if location is None:
            return
        self.table.batch_write(deletes=[location, keys.agent_version_ref_key(id)])

    def delete_versions_by_parent_id(self, *, agent_id: str) -> None:
        require_id(agent_id, field="agent_id")
        items = listing.collect(self.table, [self._versions_query(agent_id)], ascending=True,
                                filter_builder=lambda e: None, offset=0, limit=None)
        deletes: list[Key] = []
        for item in items:
            deletes.append(Key(item["pk"]["S"], item["sk"]["S"]))
            deletes.append(keys.agent_version_ref_key(item["id"]["S"]))
        self.table.batch_write(deletes=deletes)

    def count_versions(self, *, agent_id: str) -> int:
        require_id(agent_id, field="agent_id")
        return listing.count(self.table, [self._versions_query(agent_id)], filter_builder=self.not_expired)

    def get_versions(self, *, ids: Sequence[str]) -> builtins.list[AgentVersion]:
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
                locations[version_id] = keys.agent_version_key(ref["agentId"]["S"], int(ref["versionNumber"]["N"]))
        found = self.table.batch_get(locations.values())
        out = []
        for version_id, loc in locations.items():
            item = self.alive(found.get((loc.pk, loc.sk)))
            if item is not None and item.get("id", {}).get("S") == version_id:
                out.append(self._decode_version(item))
        return out

    def dangerously_clear_all(self) -> None:
        """Delete every agent item of this table. Admin only: reads the whole table with a Scan."""
        from mastra_dynamo.admin import scan_entities  # admin: not a request path

        self.table.batch_write(deletes=list(scan_entities(self.table, (ENTITY_AGENT, ENTITY_VERSION,
                                                                       ENTITY_VERSION_REF))))


__all__ = ["DynamoAgentsStore"]
