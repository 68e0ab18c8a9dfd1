"""Scores domain (spec 3.3) on the table.

A score is one item ``S#<id>``; its record is stored as JSON (exact round-trip of every field) next to
top-level copies of the fields that listings filter on. Four overloaded GSIs list scores newest first by
scorer, by run, by entity (type + id) and by span (trace + span; sparse), each from one partition. Tenancy
and the remaining filters are FilterExpressions on that partition. A page reads one item more than it
returns; its total is a COUNT Query over the same partition, sent only when the page cannot tell it (more
items follow, or the page lies past the end). Every listing follows ``LastEvaluatedKey`` to the end of what
the page needs.

The item is the PynamoDB model ``ScoreItem`` (models/scores.py). PynamoDB serializes it and builds its
requests, conditions and filters (models/requests.py); they are sent through ``self.table`` (TableClient).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.constants import ALL_NEW
from pynamodb.expressions.condition import Condition

from mastra_dynamo.dynamo.codec import check_item_size
from mastra_dynamo.errors import ConflictError, ValidationError
from mastra_dynamo.models import requests
from mastra_dynamo.models.scores import ENTITY, IS_SCORE, ScoreItem
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

ENTITY_SCORE = ENTITY
Filters = list[tuple[Attribute[str], str | None]]
"""Equality filters of a listing: (model attribute, value); ``None`` values are left out."""


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
        item = ScoreItem.new(score_id, data, created_at=self.now(), expires_at=self.ttl.expires_at("score"))
        serialized = item.serialize()
        check_item_size(serialized, entity="score", entity_id=score_id)
        table = self.table.table_name
        try:
            # upsert: createdAt and the index sort keys are write-once, absent copies and ttl are removed
            result = self.table.call("UpdateItem", **requests.upsert_item(
                table, item, serialized, now_epoch=self.ttl.now_epoch(), return_values=ALL_NEW))
            stored = result["Attributes"]
        except ConflictError:
            # an expired score with this id: replace it (its createdAt is gone with it)
            self.table.call("PutItem", **requests.put_item(table, item, serialized=serialized))
            stored = serialized
        return SaveScoreResult(score=ScoreItem.record_from_raw(stored))

    def get_score_by_id(self, *, id: str) -> Score | None:
        require_id(id, field="id")
        request = requests.get_item(self.table.table_name, keys.score_key(id), consistent=True)
        item = self.alive(self.table.call("GetItem", **request).get("Item"))
        return None if item is None else ScoreItem.record_from_raw(item)

    # ------------------------------------------------------------------ listings
    def _list(self, queries: list[listing.PartitionQuery], pagination: ScorePagination | Mapping[str, Any] | None,
              filters: Filters) -> ScoresPage:
        pg = coerce(ScorePagination, pagination or {}, what="pagination")
        window = paginate(pg.page, pg.per_page, default=MAX_SAFE_INTEGER)
        active = [(attr, value) for attr, value in filters if value is not None]

        def condition() -> Condition:
            """Scores only, not expired, and the equality filters given (built anew for each Query)."""
            cond: Condition = IS_SCORE & ScoreItem.not_expired(self.ttl.now_epoch())
            for attr, value in active:
                cond &= attr == value
            return cond

        limit = None if window.limit is not None and window.limit >= MAX_SAFE_INTEGER else window.limit
        items, total = listing.page_with_total(self.table, queries, ascending=False,
                                               filter_builder=requests.condition_filter(condition),
                                               offset=window.offset, limit=limit)
        total = total or 0
        return ScoresPage(
            scores=[ScoreItem.record_from_raw(i) for i in items],
            pagination=PaginationInfo(total=total, page=window.page, per_page=window.per_page,
                                      has_more=window.has_more(total)),
        )

    @staticmethod
    def _tenancy(filters: TenancyFilters | Mapping[str, Any] | None) -> Filters:
        tf = coerce(TenancyFilters, filters or {}, what="filters")
        return [(ScoreItem.organization_id, tf.organization_id), (ScoreItem.project_id, tf.project_id)]

    def list_scores_by_scorer_id(self, *, scorer_id: str, pagination: Any = None, entity_id: str | None = None,
                                 entity_type: str | None = None, source: str | None = None,
                                 filters: Any = None) -> ScoresPage:
        require_id(scorer_id, field="scorer_id")
        queries = [listing.PartitionQuery(*requests.index_keys(ScoreItem.gsi1), keys.scores_by_scorer_pk(scorer_id))]
        return self._list(queries, pagination, [(ScoreItem.entity_id, entity_id), (ScoreItem.entity_type, entity_type),
                                                (ScoreItem.source, source), *self._tenancy(filters)])

    def list_scores_by_run_id(self, *, run_id: str, pagination: Any = None, filters: Any = None) -> ScoresPage:
        require_id(run_id, field="run_id")
        queries = [listing.PartitionQuery(*requests.index_keys(ScoreItem.gsi2), keys.scores_by_run_pk(run_id))]
        return self._list(queries, pagination, self._tenancy(filters))

    def list_scores_by_entity_id(self, *, entity_id: str, entity_type: str, pagination: Any = None,
                                 filters: Any = None) -> ScoresPage:
        require_id(entity_id, field="entity_id")
        require_id(entity_type, field="entity_type")
        queries = [listing.PartitionQuery(*requests.index_keys(ScoreItem.gsi3),
                                          keys.scores_by_entity_pk(entity_type, entity_id))]
        return self._list(queries, pagination, self._tenancy(filters))

    def list_scores_by_span(self, *, trace_id: str, span_id: str, pagination: Any = None,
                            filters: Any = None) -> ScoresPage:
        require_id(trace_id, field="trace_id")
        require_id(span_id, field="span_id")
        queries = [listing.PartitionQuery(*requests.index_keys(ScoreItem.gsi4),
                                          keys.scores_by_span_pk(trace_id, span_id))]
        return self._list(queries, pagination, self._tenancy(filters))

    def dangerously_clear_all(self) -> None:
        """Delete every score of this table. Admin only: reads the whole table with a Scan."""
        from mastra_dynamo.admin import scan_entities  # admin: not a request path

        self.table.batch_write(deletes=list(scan_entities(self.table, (ENTITY_SCORE,))))
