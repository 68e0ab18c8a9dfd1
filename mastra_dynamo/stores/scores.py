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

import secrets
import threading
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.constants import ALL_NEW, ALL_OLD
from pynamodb.expressions.condition import Condition

from mastra_dynamo.dynamo.client import failed_condition_item
from mastra_dynamo.dynamo.codec import Item, check_item_size
from mastra_dynamo.errors import ConflictError, ValidationError
from mastra_dynamo.models import requests, templates
from mastra_dynamo.models.base import TableItem
from mastra_dynamo.models.scores import ENTITY, IS_SCORE, ScoreItem, stamp_time
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
_MAX_ATTEMPTS = 4
"""Upserts of one save at most (each failed one is followed by a replace of an expired item that lost a race)."""
_WRITE_TIME_STEP = timedelta(microseconds=1)
_WRITE_ID_BYTES = 8
"""Random bytes of a save's write id (16 hex digits in its write stamp): it tells a resend of a save from
another save stamped in the same microsecond."""
_write_time_lock = threading.Lock()
Filters = list[tuple[Attribute[str], str | None]]
"""Equality filters of a listing: (model attribute, value); ``None`` values are left out."""


def _filter(*names: str) -> templates.ConditionTemplate:
    """The filter of a score listing with equality filters on the attributes ``names`` (stored names)."""
    by_name = {attr.attr_name: attr for attr in ScoreItem.get_attributes().values()}

    def build(slots: templates.Slots) -> Condition:
        condition: Condition = IS_SCORE & ScoreItem.not_expired(slots("now", TableItem.ttl))
        for name in names:
            condition &= by_name[name] == slots(name, by_name[name])
        return condition

    return templates.ConditionTemplate(build)


_FILTERS: templates.TemplateCache[templates.ConditionTemplate] = templates.TemplateCache(_filter)
"""Score listing filters by the attributes they filter on."""


class DynamoScoresStore(DynamoDomain):
    """Eval scores. See docs/access-patterns.md for the requests behind each method."""

    supports_list_scores_by_span = True
    _last_write_time: datetime | None = None

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
        serialized = ScoreItem.item_of(score_id, data, created_at=now, expires_at=self.ttl.expires_at("score"),
                                       write_id=secrets.token_hex(_WRITE_ID_BYTES), write_time=self._write_time(now))
        check_item_size(serialized, entity="score", entity_id=score_id)
        return SaveScoreResult(score=ScoreItem.record_of_write(data, self._upsert(score_id, serialized)))

    def _write_time(self, now: datetime) -> datetime:
        """The write time of a save: now, but always after the previous save of this store (a clock that stands
        still or steps back never makes a later save look older than an earlier one)."""
        with _write_time_lock:
            last = self._last_write_time
            wt = now if last is None or now > last else last + _WRITE_TIME_STEP
            self._last_write_time = wt
        return wt

    def _upsert(self, score_id: str, serialized: Item) -> Item:
        """Write ``serialized`` (the item of score ``score_id``: one UpdateItem normally) and return the stored
        item.

        The upsert is conditioned on the stored state (``ScoreItem.upsert_condition``): absent, written by this
        very request (a resend), or alive and written earlier. When the condition fails, the item it saw
        (ALL_OLD) tells why: a live item written by a later save raises ConflictError SCORE_NEWER_WRITE and
        nothing is written; an expired item is replaced by a PutItem conditioned on it still being expired."""
        table = self.table.table_name
        stamp = ScoreItem.written_by(serialized)
        for _ in range(_MAX_ATTEMPTS):
            now_epoch = self.ttl.now_epoch()
            request = requests.upsert_item(table, ScoreItem, serialized, now_epoch=now_epoch, return_values=ALL_NEW)
            request["ReturnValuesOnConditionCheckFailure"] = ALL_OLD
            try:
                # upsert: createdAt and the index sort keys are write-once, absent copies and ttl are removed
                stored: Item = self.table.call("UpdateItem", **request)["Attributes"]
                return stored
            except ConflictError as exc:
                old = failed_condition_item(exc)
            if old is None:  # a backend that does not return the item: read it
                old = self.table.call("GetItem", **requests.get_item(table, keys.score_key(score_id),
                                                                     consistent=True)).get("Item")
                if old is None:
                    continue  # gone since: upsert again
            expires = old.get(self.spec.ttl_attribute, {}).get("N")
            if expires is not None and int(float(expires)) <= now_epoch:  # as the condition saw it
                try:
                    # an expired score with this id: replace it (its createdAt is gone with it)
                    keyed = ScoreItem.build(keys.score_key(score_id), {})  # put_item takes the key from it
                    self.table.call("PutItem", **requests.put_item(
                        table, keyed, serialized=serialized, condition=ScoreItem.replace_condition(now_epoch,
                                                                                                   serialized)))
                    return serialized
                except ConflictError:
                    continue  # written again meanwhile: upsert again
            old_stamp = ScoreItem.written_by(old)
            if stamp is not None and old_stamp is not None and old_stamp != stamp and old_stamp >= stamp:
                stored_at, written_at = keys.ts(stamp_time(old_stamp)), keys.ts(stamp_time(stamp))
                raise ConflictError(
                    f"save_score: score {score_id!r} was saved by a later write (write time {stored_at}, this save "
                    f"{written_at}); nothing was written", code="SCORE_NEWER_WRITE",
                    details={"id": score_id, "stored_write_time": stored_at, "write_time": written_at})
        raise ConflictError(f"save_score: score {score_id!r} kept changing during the save; nothing was written",
                            code="SCORE_WRITE_CONFLICT", details={"id": score_id})

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
        condition = _FILTERS(*(attr.attr_name for attr, _ in active))
        values: dict[str, Any] = {attr.attr_name: value for attr, value in active}

        def bound() -> dict[str, Any]:
            """Scores only, not expired (now: when each Query is sent), and the equality filters given."""
            return {**values, "now": self.ttl.now_epoch()}

        limit = None if window.limit is not None and window.limit >= MAX_SAFE_INTEGER else window.limit
        items, total = listing.page_with_total(self.table, queries, ascending=False,
                                               filter_builder=condition.filter(bound),
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
