"""ScoreItem: the stored form of one eval score (docs/access-patterns.md 2.3).

One item ``S#<id>`` / ``S``: the record as JSON in ``data`` (exact round trip of every field), ``createdAt`` and
``updatedAt``, top-level copies of the fields listings filter on, and the keys of the four indexes that list
scores newest first (by scorer, run, entity, span). Optional copies and index keys are absent, never empty
strings, so ``gsi3``/``gsi4`` stay sparse.

Each save also stores its write id ``_wid`` (a UUID per call, the same on botocore's resends of that call) and
write time ``_wt`` (fixed-width UTC timestamp, microseconds). The upsert is conditioned on them
(:meth:`ScoreItem.upsert_condition`): a request delivered late, after a newer save of the same id was
acknowledged, fails its condition instead of overwriting the newer score; a resend of the same request passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, cast

from pynamodb.attributes import UnicodeAttribute
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Value

from mastra_dynamo.clock import parse_datetime, to_utc
from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.errors import ValidationError
from mastra_dynamo.models.attributes import JsonAttribute, TimestampAttribute
from mastra_dynamo.models.base import TableItem, epoch_datetime
from mastra_dynamo.records.base import coerce
from mastra_dynamo.records.scores import Score, ScorePayload
from mastra_dynamo.schema import keys

ENTITY = "score"


class ScoreItem(TableItem, discriminator=ENTITY):
    """One score. Build it with :meth:`new`; read a stored item with ``ScoreItem.from_raw_data(item)`` (every
    attribute) or straight into its record with :meth:`record_from_raw` (what the store's reads do)."""

    data = JsonAttribute(field="score")
    created_at = TimestampAttribute(attr_name="createdAt")
    updated_at = TimestampAttribute(null=True, attr_name="updatedAt")

    # the save that wrote the item: its id (uuid4 per call) and write time (keys.ts, strictly increasing per
    # store); absent on items written before write guards
    write_id = UnicodeAttribute(null=True, attr_name="_wid")
    write_time = UnicodeAttribute(null=True, attr_name="_wt")

    # copies of record fields, for FilterExpressions (attribute name = the record's camelCase field)
    scorer_id = UnicodeAttribute(null=True, attr_name="scorerId")
    entity_id = UnicodeAttribute(null=True, attr_name="entityId")
    entity_type = UnicodeAttribute(null=True, attr_name="entityType")
    run_id = UnicodeAttribute(null=True, attr_name="runId")
    trace_id = UnicodeAttribute(null=True, attr_name="traceId")
    span_id = UnicodeAttribute(null=True, attr_name="spanId")
    source = UnicodeAttribute(null=True, attr_name="source")
    organization_id = UnicodeAttribute(null=True, attr_name="organizationId")
    project_id = UnicodeAttribute(null=True, attr_name="projectId")

    # index keys: gsi1 by scorer, gsi2 by run, gsi3 by entity (when typed), gsi4 by span (when both ids)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    gsi4pk = UnicodeAttribute(null=True)
    gsi4sk = UnicodeAttribute(null=True)

    COPIED: ClassVar[tuple[str, ...]] = ("scorer_id", "entity_id", "entity_type", "run_id", "trace_id", "span_id",
                                         "source", "organization_id", "project_id")
    WRITE_ONCE: ClassVar[frozenset[str]] = frozenset({"created_at", "gsi1sk", "gsi2sk", "gsi3sk", "gsi4sk"})

    @classmethod
    def new(cls, score_id: str, data: dict[str, Any], *, created_at: datetime, expires_at: int | None = None,
            write_id: str | None = None, write_time: datetime | None = None) -> ScoreItem:
        """The item of score ``score_id`` with record ``data`` (camelCase JSON, ``id`` included), created and
        updated at ``created_at``, expiring at ``expires_at`` (epoch seconds; None: kept forever), written by
        the save ``write_id`` at ``write_time`` (both or neither; see :meth:`upsert_condition`)."""
        key = keys.score_key(score_id)
        created_at = to_utc(created_at)
        sk = f"{keys.ts(created_at)}#{keys.component(score_id)}"
        values: dict[str, Any] = {
            "data": data, "created_at": created_at, "updated_at": created_at,
            "gsi1pk": keys.scores_by_scorer_pk(data["scorerId"]), "gsi2pk": keys.scores_by_run_pk(data["runId"]),
            "gsi1sk": sk, "gsi2sk": sk, "gsi3sk": sk, "gsi4sk": sk,
        }
        for name, field in _COPIED:
            value = data.get(field)
            if isinstance(value, str):
                values[name] = value
        if "entity_type" in values:
            values["gsi3pk"] = keys.scores_by_entity_pk(values["entity_type"], data["entityId"])
        if "trace_id" in values and "span_id" in values:
            values["gsi4pk"] = keys.scores_by_span_pk(values["trace_id"], values["span_id"])
        if expires_at is not None:
            values["ttl"] = epoch_datetime(expires_at)
        if write_id is not None and write_time is not None:
            values["write_id"] = write_id
            values["write_time"] = keys.ts(to_utc(write_time))
        return cls(key.pk, key.sk, **values)

    @classmethod
    def from_mastra(cls, record: Mapping[str, Any], *, expires_at: int | None = None) -> ScoreItem:
        """The item of a stored score given in Mastra's JSON shape (a line of ``mastra-dynamo export``, a score of
        another store), keeping its ``id``, ``createdAt`` and ``updatedAt`` (absent or null: none). The other
        fields are validated as ``save_score`` validates its payload and stored as given. No write id or time:
        any later save of the id replaces the item.

        Raises: ValidationError when the record is not a score or lacks ``id`` or ``createdAt``."""
        if not isinstance(record.get("id"), str) or record.get("createdAt") is None:
            raise ValidationError("a stored score needs its id and createdAt", code="INVALID_INPUT",
                                  details={"what": "score"})
        payload = coerce(ScorePayload, {k: v for k, v in record.items() if k not in ("createdAt", "updatedAt")},
                         what="score")
        data = payload.model_dump(by_alias=True, exclude_unset=True, mode="json")
        score = cls.new(record["id"], data, created_at=parse_datetime(record["createdAt"]), expires_at=expires_at)
        updated = record.get("updatedAt")
        score.updated_at = None if updated is None else parse_datetime(updated)
        return score

    @classmethod
    def upsert_condition(cls, now: int | Value, serialized: Item) -> Condition:
        """The condition of the upsert of ``serialized`` at ``now`` (epoch seconds, or a serialized value).

        With a write id and time: ``attribute_not_exists(pk) OR _wid = :wid OR (not expired AND
        (attribute_not_exists(_wt) OR _wt < :wt))``: no item; or this very request applied already (a resend);
        or a live item written earlier. A request delivered after a newer save of the id fails. An expired item
        fails too (the store replaces it, :meth:`replace_condition`). Without them: :meth:`absent_or_alive`."""
        wid, wt = serialized.get("_wid"), serialized.get("_wt")
        if wid is None or wt is None:
            return cls.absent_or_alive(now)
        older = cls.write_time.does_not_exist() | (cls.write_time < Value(wt))
        return cast(Condition, cls.pk.does_not_exist() | (cls.write_id == Value(wid))
                    | (cls.not_expired(now) & older))

    @classmethod
    def replace_condition(cls, now: int, serialized: Item) -> Condition:
        """The condition of the PutItem that replaces an expired score by ``serialized``: no item, this very
        request applied already (a resend), or the item is still expired at ``now`` (epoch seconds)."""
        return cast(Condition, cls.pk.does_not_exist() | (cls.write_id == Value(serialized["_wid"]))
                    | (cls.ttl <= epoch_datetime(now)))

    @classmethod
    def written_by(cls, raw: Item) -> tuple[str | None, str | None]:
        """(``_wid``, ``_wt``) of a stored item (None when absent)."""
        wid, wt = raw.get("_wid"), raw.get("_wt")
        return (None if wid is None else wid.get("S"), None if wt is None else wt.get("S"))

    def record(self) -> Score:
        """The stored score as its record (the JSON document, with the item's timestamps)."""
        return _record(self.data, self.created_at, self.updated_at)

    @classmethod
    def record_from_raw(cls, raw: Item) -> Score:
        """``ScoreItem.from_raw_data(raw).record()``, decoding only the attributes the record is made of."""
        values = cls.decode_attributes(raw, _RECORD_ATTRIBUTES)
        return _record(values["data"], values["created_at"], values["updated_at"])


def _record(data: Mapping[str, Any], created_at: datetime, updated_at: datetime | None) -> Score:
    return Score.model_validate({**data, "createdAt": created_at, "updatedAt": updated_at})


_RECORD_ATTRIBUTES = ("data", "created_at", "updated_at")

_COPIED = tuple((name, ScoreItem.get_attributes()[name].attr_name) for name in ScoreItem.COPIED)
"""(attribute, record field) of each copied field."""
IS_SCORE: Condition = ScoreItem.item_type == ScoreItem
"""Filter condition: the item is a score (``_et = score``)."""
