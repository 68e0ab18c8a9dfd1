"""ScoreItem: the stored form of one eval score (docs/access-patterns.md 2.3).

One item ``S#<id>`` / ``S``, kept small because every score is in up to four ALL-projection indexes (a write
costs one unit per started KB on the table and again on each index):

* ``data``: the record as JSON (exact round trip of every field), zlib-compressed from
  :data:`DATA_COMPRESS_MIN_BYTES` on when that is smaller;
* ``updatedAt``; ``createdAt`` is not stored apart: it is the sort key of gsi1, ``ts(createdAt)``, which
  every score has (see :class:`ScoreItem`);
* copies of the fields the listings filter on (``entityId``, ``entityType``, ``source``, ``organizationId``,
  ``projectId``); ``scorerId``, ``runId``, ``traceId`` and ``spanId`` are only in ``data`` and in the index
  partition keys, which is all that reads them;
* the keys of the four indexes that list scores newest first (by scorer, run, entity, span). Their sort keys
  are ``ts(createdAt)`` alone: scores created in the same microsecond share a sort key, and DynamoDB keeps
  entries with equal index keys in one fixed order (by their table key), so pages of one listing still
  follow one order. Optional copies and index keys are absent, never empty strings, so ``gsi3``/``gsi4``
  stay sparse.

Each save also stores its write stamp ``_w`` (:func:`write_stamp_for`: the save's write time, fixed-width, then a
random write id per call, the same on botocore's resends of that call). The upsert is conditioned on it
(:meth:`ScoreItem.upsert_condition`): a request delivered late, after a newer save of the same id was
acknowledged, fails its condition instead of overwriting the newer score; a resend of the same request passes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, cast

from pynamodb.attributes import UnicodeAttribute
from pynamodb.constants import STRING
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.operand import Value

from mastra_dynamo.clock import parse_datetime, to_utc
from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.errors import ValidationError
from mastra_dynamo.models.attributes import JsonAttribute, TimestampAttribute
from mastra_dynamo.models.base import TableItem, epoch_datetime
from mastra_dynamo.models.layout import Stored, layout_of
from mastra_dynamo.records.base import coerce, validated
from mastra_dynamo.records.scores import Score, ScorePayload
from mastra_dynamo.schema import keys

ENTITY = "score"
DATA_COMPRESS_MIN_BYTES = 256
"""A score's JSON of at least this many bytes (UTF-8) is stored zlib-compressed when that is smaller."""

_STAMP_ORIGIN = datetime(1, 1, 1, tzinfo=UTC)
_STAMP_TIME_DIGITS = 15
"""Hex digits of the write time in a stamp: microseconds since 0001-01-01, enough for any year of datetime."""
_MICROSECOND = timedelta(microseconds=1)


def write_stamp_for(write_time: datetime, write_id: str) -> str:
    """The ``_w`` of a save: its write time (microseconds since 0001-01-01 as 15 lower-case hex digits) and its
    write id. Fixed width, so text order is write-time order (equal times: ordered by write id)."""
    return f"{(to_utc(write_time) - _STAMP_ORIGIN) // _MICROSECOND:0{_STAMP_TIME_DIGITS}x}{write_id}"


def stamp_time(stamp: str) -> datetime:
    """The write time a stamp names."""
    return _STAMP_ORIGIN + int(stamp[:_STAMP_TIME_DIGITS], 16) * _MICROSECOND


class _IndexTimestampAttribute(TimestampAttribute):
    """A creation time stored as an index sort key (``keys.ts`` text). A sort key of an earlier write of this
    layout ended in ``#<id>``: the time is the text before the first ``#`` (``ts()`` has none)."""

    def deserialize(self, value: str) -> datetime:
        return super().deserialize(value.partition(keys.SEP)[0])


class ScoreItem(TableItem, discriminator=ENTITY):
    """One score. Build it with :meth:`new`; read a stored item with ``ScoreItem.from_raw_data(item)`` (every
    attribute) or straight into its record with :meth:`record_from_raw` (what the store's reads do)."""

    data = JsonAttribute(field="score", compress_min=DATA_COMPRESS_MIN_BYTES)
    created_at = _IndexTimestampAttribute(attr_name="gsi1sk")
    """``createdAt``, stored once: as the sort key of gsi1 (which every score is in: ``scorerId`` is required)."""
    updated_at = TimestampAttribute(null=True, attr_name="updatedAt")

    write_stamp = UnicodeAttribute(null=True, attr_name="_w")
    """The save that wrote the item (:func:`write_stamp_for`); absent on items written without a guard (imports)."""

    # copies of record fields that listings filter on (attribute name = the record's camelCase field)
    entity_id = UnicodeAttribute(null=True, attr_name="entityId")
    entity_type = UnicodeAttribute(null=True, attr_name="entityType")
    source = UnicodeAttribute(null=True, attr_name="source")
    organization_id = UnicodeAttribute(null=True, attr_name="organizationId")
    project_id = UnicodeAttribute(null=True, attr_name="projectId")

    # index keys: gsi1 by scorer (its sort key is ``created_at``), gsi2 by run, gsi3 by entity (when typed),
    # gsi4 by span (when both ids); every sort key is ts(createdAt)
    gsi1pk = UnicodeAttribute(null=True)
    gsi2pk = UnicodeAttribute(null=True)
    gsi2sk = UnicodeAttribute(null=True)
    gsi3pk = UnicodeAttribute(null=True)
    gsi3sk = UnicodeAttribute(null=True)
    gsi4pk = UnicodeAttribute(null=True)
    gsi4sk = UnicodeAttribute(null=True)

    COPIED: ClassVar[tuple[str, ...]] = ("entity_id", "entity_type", "source", "organization_id", "project_id")
    WRITE_ONCE: ClassVar[frozenset[str]] = frozenset({"created_at", "gsi2sk", "gsi3sk", "gsi4sk"})

    @classmethod
    def new(cls, score_id: str, data: dict[str, Any], *, created_at: datetime, expires_at: int | None = None,
            write_id: str | None = None, write_time: datetime | None = None) -> ScoreItem:
        """The item of score ``score_id`` with record ``data`` (camelCase JSON, ``id`` included), created and
        updated at ``created_at``, expiring at ``expires_at`` (epoch seconds; None: kept forever), written by
        the save ``write_id`` at ``write_time`` (both or neither; see :func:`write_stamp_for`)."""
        created_at = to_utc(created_at)
        values = cls._values(data, keys.ts(created_at), created_at, write_id, write_time)
        if expires_at is not None:
            values["ttl"] = epoch_datetime(expires_at)
        return cls.build(keys.score_key(score_id), values)

    @classmethod
    def item_of(cls, score_id: str, data: dict[str, Any], *, created_at: datetime, expires_at: int | None = None,
                write_id: str | None = None, write_time: datetime | None = None) -> Item:
        """``new(score_id, data, ...).serialize()`` without the model instance."""
        sk = keys.ts(to_utc(created_at))
        values = cls._values(data, sk, Stored({STRING: sk}), write_id, write_time)  # createdAt's text: sk
        key = keys.score_key(score_id)
        values["pk"], values["sk"] = key.pk, key.sk
        if expires_at is not None:
            values["ttl"] = expires_at  # epoch seconds: what TTLAttribute stores for epoch_datetime(expires_at)
        return _LAYOUT.encode_item(values)

    @staticmethod
    def _values(data: dict[str, Any], sk: str, created_at: Any, write_id: str | None,
                write_time: datetime | None) -> dict[str, Any]:
        """The model values of a score's item (its key and expiry aside); ``sk``: ``ts(createdAt)``."""
        values: dict[str, Any] = {
            "data": data, "created_at": created_at, "updated_at": created_at,
            "gsi1pk": keys.scores_by_scorer_pk(data["scorerId"]), "gsi2pk": keys.scores_by_run_pk(data["runId"]),
            "gsi2sk": sk, "gsi3sk": sk, "gsi4sk": sk,
        }
        for name, field in _COPIED:
            value = data.get(field)
            if isinstance(value, str):
                values[name] = value
        entity_type, trace_id, span_id = data.get("entityType"), data.get("traceId"), data.get("spanId")
        if isinstance(entity_type, str):
            values["gsi3pk"] = keys.scores_by_entity_pk(entity_type, data["entityId"])
        if isinstance(trace_id, str) and isinstance(span_id, str):
            values["gsi4pk"] = keys.scores_by_span_pk(trace_id, span_id)
        if write_id is not None and write_time is not None:
            values["write_stamp"] = write_stamp_for(write_time, write_id)
        return values

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

        With a write stamp: ``attribute_not_exists(pk) OR _w = :w OR (not expired AND (attribute_not_exists(_w)
        OR _w < :w))``: no item; or this very request applied already (a resend); or a live item written earlier
        (or without a stamp). A request delivered after a newer save of the id fails. An expired item fails too
        (the store replaces it, :meth:`replace_condition`). Without a stamp: :meth:`absent_or_alive`."""
        stamp = serialized.get(_STAMP)
        if stamp is None:
            return cls.absent_or_alive(now)
        older = cls.write_stamp.does_not_exist() | (cls.write_stamp < Value(stamp))
        return cast(Condition, cls.pk.does_not_exist() | (cls.write_stamp == Value(stamp))
                    | (cls.not_expired(now) & older))

    @classmethod
    def replace_condition(cls, now: int, serialized: Item) -> Condition:
        """The condition of the PutItem that replaces an expired score by ``serialized``: no item, this very
        request applied already (a resend), or the item is still expired at ``now`` (epoch seconds)."""
        return cast(Condition, cls.pk.does_not_exist() | (cls.write_stamp == Value(serialized[_STAMP]))
                    | (cls.ttl <= epoch_datetime(now)))

    @classmethod
    def written_by(cls, raw: Item) -> str | None:
        """The write stamp (``_w``) of a stored or serialized item (None when it has none)."""
        stamp = raw.get(_STAMP)
        return None if stamp is None else stamp.get("S")

    def record(self) -> Score:
        """The stored score as its record (the JSON document, with the item's timestamps)."""
        return _record(self.data, self.created_at, self.updated_at)

    @classmethod
    def record_from_raw(cls, raw: Item) -> Score:
        """``ScoreItem.from_raw_data(raw).record()``, decoding only the attributes the record is made of."""
        values = _LAYOUT.decode(raw, _RECORD_ATTRIBUTES)
        data = values["data"]
        if type(data) is dict:  # decoded for this record alone: completed in place
            data["createdAt"], data["updatedAt"] = values["created_at"], values["updated_at"]
            return validated(Score, data)
        return _record(data, values["created_at"], values["updated_at"])

    @classmethod
    def record_of_write(cls, data: Mapping[str, Any], stored: Item) -> Score:
        """The record of ``stored``, the item a write of record ``data`` returned (``ALL_NEW``, or the item it
        put): its ``data`` is ``data`` itself, so only the timestamps are decoded (not the JSON again)."""
        values = cls.decode_attributes(stored, _TIMESTAMPS)
        return _record(data, values["created_at"], values["updated_at"])


def _record(data: Mapping[str, Any], created_at: datetime, updated_at: datetime | None) -> Score:
    return validated(Score, {**data, "createdAt": created_at, "updatedAt": updated_at})


_LAYOUT = layout_of(ScoreItem)
_RECORD_ATTRIBUTES = ("data", "created_at", "updated_at")
_TIMESTAMPS = ("created_at", "updated_at")
_STAMP = ScoreItem.write_stamp.attr_name

_COPIED = tuple((name, ScoreItem.get_attributes()[name].attr_name) for name in ScoreItem.COPIED)
"""(attribute, record field) of each copied field."""
IS_SCORE: Condition = ScoreItem.item_type == ScoreItem
"""Filter condition: the item is a score (``_et = score``)."""
