"""Time: timezone-aware UTC everywhere, one injectable clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


LATEST = datetime(9999, 1, 1, tzinfo=UTC)
"""Times at or after this are refused: a record's ``updatedAt`` moves forward by at least 1 ms on every write,
and the year 9999 leaves room for 3 * 10**10 such writes before the last representable instant."""


def to_utc(value: datetime) -> datetime:
    """Aware UTC datetime; a naive datetime is taken to be UTC already. A time whose UTC form is outside
    years 1..9998 raises ValidationError (a ValueError)."""
    if value.tzinfo is UTC and value.year < LATEST.year:
        return value
    try:
        utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        utc = LATEST
    if utc >= LATEST:
        from mastra_dynamo.errors import ValidationError

        raise ValidationError("datetime is out of range: times from the year 9999 on are not supported",
                              code="INVALID_DATETIME")
    return utc


def to_utc_unchanged(value: datetime) -> bool:
    """``to_utc(value)`` is ``value`` itself (an aware UTC datetime before the last year)."""
    return value.tzinfo is UTC and value.year < LATEST.year


def parse_datetime(value: datetime | str) -> datetime:
    """Accept a datetime or an ISO-8601 string (``Z`` suffix allowed); return aware UTC. Anything else
    raises ValidationError (a ValueError); the message never repeats the value."""
    if isinstance(value, datetime):
        return to_utc(value)
    if isinstance(value, str):
        try:
            parsed: datetime | None = datetime.fromisoformat(value)  # "Z" and "z" included
        except ValueError:
            parsed = None
        if parsed is not None:
            return to_utc(parsed)
    from mastra_dynamo.errors import ValidationError

    if not isinstance(value, str):
        raise ValidationError(f"expected a datetime or an ISO-8601 string, not {type(value).__name__}",
                              code="INVALID_DATETIME")
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError("not an ISO-8601 datetime", code="INVALID_DATETIME") from None
    return to_utc(parsed)
