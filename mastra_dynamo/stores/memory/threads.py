"""Thread and resource operations of the memory domain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mastra_dynamo.dynamo.client import key_attr
from mastra_dynamo.dynamo.codec import Item, check_item_size, decode_value, encode_json, encode_value
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.errors import ConflictError, NotFoundError
from mastra_dynamo.records.base import coerce
from mastra_dynamo.records.memory import Resource, Thread
from mastra_dynamo.schema import keys
from mastra_dynamo.stores.base import MAX_CONFLICT_RETRIES, DynamoDomain, contention_pause
from mastra_dynamo.stores.memory import items as it
from mastra_dynamo.stores.writes import put_replacing_expired, revision_condition, upsert_params
from mastra_dynamo.validate import require_id, require_mapping


class ThreadOps(DynamoDomain):
    def get_thread_item(self, thread_id: str) -> Item | None:
        return self.alive(self.table.get_item(keys.thread_key(thread_id)))

    def get_thread_by_id(self, *, thread_id: str, resource_id: str | None = None) -> Thread | None:
        require_id(thread_id, field="thread_id")
        item = self.get_thread_item(thread_id)
        if item is None:
            return None
        thread = it.decode_thread(item)
        if resource_id is not None and thread.resource_id != resource_id:
            return None
        return thread

    def save_thread(self, *, thread: Thread | Mapping[str, Any]) -> Thread:
        record = coerce(Thread, thread, what="thread")
        require_id(record.id, field="thread.id")
        require_id(record.resource_id, field="thread.resource_id")
        item = self.stamp(it.thread_item(record), it.ENTITY_THREAD, ttl_entity="thread")
        check_item_size(item, entity="thread", entity_id=record.id)
        for _ in range(MAX_CONFLICT_RETRIES):
            try:
                params = upsert_params(self, item, write_once=("createdAt", "gsi1sk", "gsi3sk"),
                                       removable=("title", "metadata"))
                result = self.table.call("UpdateItem", TableName=self.table.table_name, **params)
                return it.decode_thread(result["Attributes"])
            except ConflictError:
                try:
                    put_replacing_expired(self, item)
                    return it.decode_thread(item)
                except ConflictError:
                    continue  # revived concurrently: upsert again
        raise ConflictError(f"save_thread: too much contention on thread {record.id!r}",
                            details={"thread_id": record.id})

    def update_thread(self, *, id: str, title: str | None = None,
                      metadata: Mapping[str, Any] | None = None) -> Thread:
        require_id(id, field="id")
        if metadata is not None and not isinstance(metadata, Mapping):
            from mastra_dynamo.errors import ValidationError

            raise ValidationError("metadata must be an object", code="INVALID_INPUT")
        for attempt in range(MAX_CONFLICT_RETRIES):
            item = self.get_thread_item(id)
            if item is None:
                raise NotFoundError(f"thread {id!r} not found", details={"thread_id": id})
            current = it.decode_thread(item)
            updated_at = self.bumped(current.updated_at)
            expr = Expr()
            sets = [f"{expr.name('updatedAt')} = {expr.s(keys.ts(updated_at))}"]
            index = it.thread_index_keys(id, current.resource_id, None, keys.ts(updated_at))
            for name in ("gsi2sk", "gsi4sk"):
                sets.append(f"{expr.name(name)} = {expr.value(index[name])}")
            changed: Item = {}
            if title is not None:
                changed["title"] = encode_value(title, "str", field="title")
                sets.append(f"{expr.name('title')} = {expr.value(changed['title'])}")
            if metadata is not None:
                merged = {**(current.metadata or {}), **dict(metadata)}
                changed["metadata"] = encode_json(merged, field="metadata")
                sets.append(f"{expr.name('metadata')} = {expr.value(changed['metadata'])}")
            check_item_size({**item, **changed}, entity="thread", entity_id=id)  # before the request
            rev = expr.name(self.spec.revision_attribute)
            sets.append(f"{rev} = if_not_exists({rev}, {expr.n(0)}) + {expr.n(1)}")
            try:
                result = self.table.call(
                    "UpdateItem",
                    **expr.apply({
                        "TableName": self.table.table_name,
                        "Key": key_attr(keys.thread_key(id)),
                        "UpdateExpression": "SET " + ", ".join(sets),
                        "ConditionExpression": revision_condition(self, expr, item),
                        "ReturnValues": "ALL_NEW",
                    }),
                )
            except ConflictError:
                contention_pause(attempt)
                continue
            return it.decode_thread(result["Attributes"])
        raise ConflictError(f"update_thread: too much contention on thread {id!r}", details={"thread_id": id})


class ResourceOps(DynamoDomain):
    def get_resource_by_id(self, *, resource_id: str) -> Resource | None:
        require_id(resource_id, field="resource_id")
        item = self.alive(self.table.get_item(keys.resource_key(resource_id)))
        return None if item is None else it.decode_resource(item)

    def save_resource(self, *, resource: Resource | Mapping[str, Any]) -> Resource:
        record = coerce(Resource, resource, what="resource")
        require_id(record.id, field="resource.id")
        item = self.stamp(it.resource_item(record), it.ENTITY_RESOURCE, ttl_entity="resource")
        check_item_size(item, entity="resource", entity_id=record.id)
        for _ in range(MAX_CONFLICT_RETRIES):
            try:
                params = upsert_params(self, item, write_once=("createdAt", "gsi3sk"),
                                       removable=("workingMemory", "metadata"))
                result = self.table.call("UpdateItem", TableName=self.table.table_name, **params)
                return it.decode_resource(result["Attributes"])
            except ConflictError:
                try:
                    put_replacing_expired(self, item)
                    return it.decode_resource(item)
                except ConflictError:
                    continue
        raise ConflictError(f"save_resource: too much contention on resource {record.id!r}",
                            details={"resource_id": record.id})

    def update_resource(self, *, resource_id: str, working_memory: str | None = None,
                        metadata: Mapping[str, Any] | None = None) -> Resource:
        require_id(resource_id, field="resource_id")
        if metadata is not None:
            metadata = require_mapping(metadata, field="metadata")
        for attempt in range(MAX_CONFLICT_RETRIES):
            item = self.alive(self.table.get_item(keys.resource_key(resource_id)))
            if item is None:
                now = self.now()
                fields: dict[str, Any] = {"id": resource_id, "metadata": dict(metadata or {}),
                                          "created_at": now, "updated_at": now}
                if working_memory is not None:
                    fields["working_memory"] = working_memory
                record = coerce(Resource, fields, what="resource")
                new_item = self.stamp(it.resource_item(record), it.ENTITY_RESOURCE, ttl_entity="resource")
                new_item[self.spec.revision_attribute] = {"N": "1"}
                try:
                    put_replacing_expired(self, new_item)
                except ConflictError:
                    continue
                return record
            current = it.decode_resource(item)
            updated_at = self.bumped(current.updated_at)
            expr = Expr()
            sets = [f"{expr.name('updatedAt')} = {expr.s(keys.ts(updated_at))}"]
            changed: Item = {}
            if working_memory is not None:
                changed["workingMemory"] = encode_value(working_memory, "str", field="workingMemory")
                sets.append(f"{expr.name('workingMemory')} = {expr.value(changed['workingMemory'])}")
            if metadata is not None:
                old_meta = decode_value(item["metadata"], "json") if "metadata" in item else None
                merged = {**(old_meta or {}), **metadata}
                changed["metadata"] = encode_json(merged, field="metadata")
                sets.append(f"{expr.name('metadata')} = {expr.value(changed['metadata'])}")
            check_item_size({**item, **changed}, entity="resource", entity_id=resource_id)  # before the request
            rev = expr.name(self.spec.revision_attribute)
            sets.append(f"{rev} = if_not_exists({rev}, {expr.n(0)}) + {expr.n(1)}")
            condition = revision_condition(self, expr, item)
            try:
                result = self.table.call(
                    "UpdateItem",
                    **expr.apply({
                        "TableName": self.table.table_name,
                        "Key": key_attr(keys.resource_key(resource_id)),
                        "UpdateExpression": "SET " + ", ".join(sets),
                        "ConditionExpression": condition,
                        "ReturnValues": "ALL_NEW",
                    }),
                )
            except ConflictError:
                contention_pause(attempt)
                continue
            return it.decode_resource(result["Attributes"])
        raise ConflictError(f"update_resource: too much contention on resource {resource_id!r}",
                            details={"resource_id": resource_id})
