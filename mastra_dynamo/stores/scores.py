"""Scores domain (spec 3.3) on the table.

A score is one item ``S#<id>``; its record is stored as JSON (exact round-trip of every field) next to
top-level copies of the fields that listings filter on. Four overloaded GSIs list scores newest first by
scorer, by run, by entity (type + id) and by span (trace + span; sparse), each from one partition. Tenancy
and the remaining filters are FilterExpressions on that partition. A page reads one item more than it
returns; its total is a COUNT Query over the same partition, sent only when the page cannot tell it (more
items follow, or the page lies past the end). Every listing follows ``LastEvaluatedKey`` to the end of what
the page needs.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from mastra_dynamo.dynamo.client import key_attr
from mastra_dynamo.dynamo.codec import Item, check_item_size, decode_json, decode_value, encode_json
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.errors import ConflictError, ValidationError
from mastra_dynamo.pagination import MAX_SAFE_INTEGER, paginate
from mastra_dynamo.records.base import coerce, json_data
from mastra_dynamo.records.scores import (
    PaginationInfo,
    SaveScoreResult,
    Score,
    ScorePagination,
    ScorePayload,
    ScoresPage,
    TenancyFilters,
)
from mastra_dynamo.schema import keys
from mastra_dynamo.stores import listing
from mastra_dynamo.stores.base import DynamoDomain
from mastra_dynamo.validate import optional_id, require_id

ENTITY_SCORE = "score"
_FILTER_ATTRS = {
    "entity_id": "entityId",
    "entity_type": "entityType",
    "source": "source",
    "organization_id": "organizationId",
    "project_id": "projectId",
}
_COPIED = ("scorerId", "entityId", "entityType", "runId", "traceId", "spanId", "source", "organizationId",
           "projectId")


class DynamoScoresStore(DynamoDomain):
    """Eval scores. See docs/access-patterns.md for the requests behind each method."""

    supports_list_scores_by_span = True

    def save_score(self, *, score: ScorePayload | Mapping[str, Any]) -> SaveScoreResult:
        """Validate and upsert a score. ``id`` is honoured when given; re-saving keeps ``created_at``.

        Raises: ValidationError (code SAVE_SCORE_VALIDATION_FAILED) for an invalid payload;
        ItemTooLargeError when the score does not fit in an item."""
        try:
            payload = coerce(ScorePayload, score, what="score")
            for name in ("scorer_id", "entity_id", "run_id"):
                require_id(getattr(payload, name), field=name)
            for name in ("trace_id", "span_id", "resource_id", "thread_id", "organization_id", "project_id"):
                optional_id(getattr(payload, name), field=name)
            if payload.id is not None:
                require_id(payload.id, field="id")
        except ValidationError as exc:
            raise ValidationError(exc.message, code="SAVE_SCORE_VALIDATION_FAILED", details=exc.details) from None
        score_id = payload.id or str(uuid.uuid4())
        data = json_data(payload, what="score", by_alias=True, exclude_unset=True)
        data["id"] = score_id
        now = self.now()
        item = self._item(score_id, data, keys.ts(now))
        check_item_size(item, entity="score", entity_id=score_id)
        expr = Expr()
        sets: list[str] = []
        for name, value in item.items():
            if name in ("pk", "sk"):
                continue
            n = expr.name(name)
            v = expr.value(value)
            write_once = name in ("createdAt", "gsi1sk", "gsi2sk", "gsi3sk", "gsi4sk")
            sets.append(f"{n} = if_not_exists({n}, {v})" if write_once else f"{n} = {v}")
        removes = [expr.name(a) for a in (*_COPIED, "gsi3pk", "gsi4pk", self.spec.ttl_attribute) if a not in item]
        update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        key = keys.score_key(score_id)
        try:
            result = self.table.call("UpdateItem", **expr.apply({
                "TableName": self.table.table_name,
                "Key": key_attr(key),
                "UpdateExpression": update,
                "ConditionExpression": f"attribute_not_exists({expr.name('pk')}) OR {self.not_expired(expr)}",
                "ReturnValues": "ALL_NEW",
            }))
            stored: Item = result["Attributes"]
        except ConflictError:
            # an expired score with this id: replace it (its createdAt is gone with it)
            self.table.call("PutItem", TableName=self.table.table_name, Item=item)
            stored = item
        return SaveScoreResult(score=self._decode(stored))

    def _item(self, score_id: str, data: dict[str, Any], created_ts: str) -> Item:
        key = keys.score_key(score_id)
        cid = keys.component(score_id)
        item: Item = {
            "pk": {"S": key.pk},
            "sk": {"S": key.sk},
            "data": encode_json(data, field="score"),
            "createdAt": {"S": created_ts},
            "updatedAt": {"S": created_ts},
        }
        for attr in _COPIED:
            value = data.get(attr)
            if isinstance(value, str):
                item[attr] = {"S": value}
        sk = f"{created_ts}#{cid}"
        item["gsi1pk"] = {"S": keys.scores_by_scorer_pk(data["scorerId"])}
        item["gsi1sk"] = {"S": sk}
        item["gsi2pk"] = {"S": keys.scores_by_run_pk(data["runId"])}
        item["gsi2sk"] = {"S": sk}
        item["gsi3sk"] = {"S": sk}
        item["gsi4sk"] = {"S": sk}
        if isinstance(data.get("entityType"), str):
            item["gsi3pk"] = {"S": keys.scores_by_entity_pk(data["entityType"], data["entityId"])}
        if isinstance(data.get("traceId"), str) and isinstance(data.get("spanId"), str):
            item["gsi4pk"] = {"S": keys.scores_by_span_pk(data["traceId"], data["spanId"])}
        return self.stamp(item, ENTITY_SCORE, ttl_entity="score")

    def _decode(self, item: Item) -> Score:
        data = decode_json(item["data"])
        data["createdAt"] = decode_value(item["createdAt"], "datetime")
        data["updatedAt"] = decode_value(item["updatedAt"], "datetime") if "updatedAt" in item else None
        return Score.model_validate(data)

    def get_score_by_id(self, *, id: str) -> Score | None:
        require_id(id, field="id")
        item = self.alive(self.table.get_item(keys.score_key(id)))
        return None if item is None else self._decode(item)

    # ------------------------------------------------------------------ listings
    def _list(self, queries: list[listing.PartitionQuery], pagination: ScorePagination | Mapping[str, Any] | None,
              filters: Mapping[str, Any]) -> ScoresPage:
        pg = coerce(ScorePagination, pagination or {}, what="pagination")
        window = paginate(pg.page, pg.per_page, default=MAX_SAFE_INTEGER)
        active = {attr: value for attr, value in filters.items() if value is not None}

        def flt(expr: Expr) -> str:
            clauses = [f"{expr.name(self.spec.entity_attribute)} = {expr.s(ENTITY_SCORE)}", self.not_expired(expr)]
            clauses += [f"{expr.name(attr)} = {expr.s(value)}" for attr, value in active.items()]
            return " AND ".join(clauses)

        limit = None if window.limit is not None and window.limit >= MAX_SAFE_INTEGER else window.limit
        items, total = listing.page_with_total(self.table, queries, ascending=False, filter_builder=flt,
                                               offset=window.offset, limit=limit)
        total = total or 0
        return ScoresPage(
            scores=[self._decode(i) for i in items],
            pagination=PaginationInfo(total=total, page=window.page, per_page=window.per_page,
                                      has_more=window.has_more(total)),
        )

    @staticmethod
    def _tenancy(filters: TenancyFilters | Mapping[str, Any] | None) -> dict[str, Any]:
        tf = coerce(TenancyFilters, filters or {}, what="filters")
        return {"organizationId": tf.organization_id, "projectId": tf.project_id}

    def list_scores_by_scorer_id(self, *, scorer_id: str, pagination: Any = None, entity_id: str | None = None,
                                 entity_type: str | None = None, source: str | None = None,
                                 filters: Any = None) -> ScoresPage:
        require_id(scorer_id, field="scorer_id")
        queries = [listing.PartitionQuery("gsi1", "gsi1pk", "gsi1sk", keys.scores_by_scorer_pk(scorer_id))]
        return self._list(queries, pagination, {"entityId": entity_id, "entityType": entity_type, "source": source,
                                                **self._tenancy(filters)})

    def list_scores_by_run_id(self, *, run_id: str, pagination: Any = None, filters: Any = None) -> ScoresPage:
        require_id(run_id, field="run_id")
        queries = [listing.PartitionQuery("gsi2", "gsi2pk", "gsi2sk", keys.scores_by_run_pk(run_id))]
        return self._list(queries, pagination, self._tenancy(filters))

    def list_scores_by_entity_id(self, *, entity_id: str, entity_type: str, pagination: Any = None,
                                 filters: Any = None) -> ScoresPage:
        require_id(entity_id, field="entity_id")
        require_id(entity_type, field="entity_type")
        queries = [listing.PartitionQuery("gsi3", "gsi3pk", "gsi3sk", keys.scores_by_entity_pk(entity_type, entity_id))]
        return self._list(queries, pagination, self._tenancy(filters))

    def list_scores_by_span(self, *, trace_id: str, span_id: str, pagination: Any = None,
                            filters: Any = None) -> ScoresPage:
        require_id(trace_id, field="trace_id")
        require_id(span_id, field="span_id")
        queries = [listing.PartitionQuery("gsi4", "gsi4pk", "gsi4sk", keys.scores_by_span_pk(trace_id, span_id))]
        return self._list(queries, pagination, self._tenancy(filters))

    def dangerously_clear_all(self) -> None:
        """Delete every score of this table. Admin only: reads the whole table with a Scan."""
        from mastra_dynamo.admin import scan_entities  # admin: not a request path

        self.table.batch_write(deletes=list(scan_entities(self.table, (ENTITY_SCORE,))))
