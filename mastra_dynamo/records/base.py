"""Record base: strict fields, camelCase aliases, aware UTC datetimes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal, TypeVar

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticSerializationError

from mastra_dynamo.clock import parse_datetime
from mastra_dynamo.errors import ValidationError


def _coerce_datetime(value: Any) -> Any:
    if isinstance(value, datetime | str):
        try:
            return parse_datetime(value)
        except ValueError:
            return value  # pydantic reports it
    return value


UtcDatetime = Annotated[datetime, BeforeValidator(_coerce_datetime)]
"""A datetime normalised to aware UTC (naive values are taken as UTC; ISO strings accepted)."""

PerPage = int | Literal[False]


class Record(BaseModel):
    """Base of every record: accepts snake_case or camelCase input, rejects unknown fields."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        arbitrary_types_allowed=False,
        defer_build=True,
    )

    ALWAYS_SHOWN: ClassVar[frozenset[str]] = frozenset()
    """Fields ``to_mastra`` includes even when the caller did not set them (values the store assigns, such as
    ``created_at``)."""

    def to_mastra(self) -> dict[str, Any]:
        """Mastra's JSON shape: camelCase keys, the fields that are set (and the ``ALWAYS_SHOWN`` ones)."""
        if not self.ALWAYS_SHOWN:
            return self.model_dump(by_alias=True, exclude_unset=True, mode="json")
        return self.model_dump(by_alias=True, include=set(self.model_fields_set | self.ALWAYS_SHOWN), mode="json")


R = TypeVar("R", bound=BaseModel)


def coerce(model: type[R], value: Any, *, what: str) -> R:
    """Validate input (a record or a mapping in either key style) into ``model``; typed error on failure."""
    if isinstance(value, model):
        return value
    if isinstance(value, BaseModel):
        value = value.model_dump(exclude_unset=True)
    try:
        return model.model_validate(value)
    except pydantic.ValidationError as exc:
        raise ValidationError(f"invalid {what}: {describe_errors(exc, what=what)}", code="INVALID_INPUT",
                              details={"what": what}) from None


def validated(model: type[R], data: Any) -> R:
    """``model.model_validate(data)``: the call of the model's validator it makes (no options given), without
    its wrapper (read paths validate a record per item)."""
    record: R = model.__pydantic_validator__.validate_python(data)
    return record


def coerce_input(model: type[R], value: Any, fields: Mapping[str, Any], *, what: str) -> R:
    """An input object of a method Mastra gives one object (``initializeObservationalMemory(input)``), given
    positionally (a record or a mapping) or as keyword arguments, validated into ``model``."""
    if value is None:
        return coerce(model, dict(fields), what=what)
    if fields:
        raise ValidationError(f"{what}: pass the input object or keywords, not both", code="INVALID_INPUT")
    return coerce(model, value, what=what)


def json_data(record: BaseModel, *, what: str, **options: Any) -> dict[str, Any]:
    """``record.model_dump(mode="json", **options)``. A value pydantic cannot serialise (an arbitrary object in
    an ``Any`` field) raises ValidationError (code INVALID_JSON) instead of pydantic's own exception."""
    try:
        return record.model_dump(mode="json", **options)
    except (PydanticSerializationError, ValueError, TypeError, RecursionError):
        raise ValidationError(f"{what} holds a value that is not JSON-serializable", code="INVALID_JSON",
                              details={"what": what}) from None


def describe_errors(exc: BaseException, *, what: str) -> str:
    """Where and why validation failed: field paths and messages only, never the input values (pydantic's own
    ``str(exc)`` repeats them, and they may be payloads)."""
    if isinstance(exc, pydantic.ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or what}: {err['msg']}" for err in exc.errors()[:5]
        )
    return type(exc).__name__
