"""JSON-Schema validation of dataset items against the dataset's schemas.

Uses the ``jsonschema`` library (imported lazily; the draft is taken from ``$schema`` and defaults to
draft 7, the dialect Mastra's zod-to-JSON-schema output uses). Errors name the failing field, the JSON
path and the schema keyword, never the offending value: error details carry no payload.
"""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Mapping
from typing import Any

from mastra_dynamo.errors import ConfigurationError, ValidationError

MAX_REPORTED_ERRORS = 10
_CACHE_LIMIT = 256
_cache: dict[str, Any] = {}
_lock = threading.Lock()


def _jsonschema() -> Any:
    try:
        return importlib.import_module("jsonschema")
    except ImportError:
        raise ConfigurationError("validating dataset items against JSON schemas needs the 'jsonschema' package "
                                 "(pip install jsonschema)", code="MISSING_DEPENDENCY") from None


def _validator(schema: Mapping[str, Any], *, field: str) -> Any:
    text = json.dumps(schema, sort_keys=True, separators=(",", ":"), default=str)
    with _lock:
        cached = _cache.get(text)
    if cached is not None:
        return cached
    lib = _jsonschema()
    cls = lib.validators.validator_for(schema, default=lib.Draft7Validator)
    try:
        cls.check_schema(schema)
    except lib.exceptions.SchemaError as exc:
        raise ValidationError(f"{field} is not a valid JSON Schema ({exc.validator} at "
                              f"/{'/'.join(str(p) for p in exc.absolute_path)})",
                              code="INVALID_SCHEMA", details={"field": field}) from None
    validator = cls(schema)
    with _lock:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        _cache[text] = validator
    return validator


def check_schema(schema: Any, *, field: str) -> None:
    """Raise ValidationError (INVALID_SCHEMA) unless ``schema`` is None or a valid JSON Schema object."""
    if schema is None:
        return
    if not isinstance(schema, Mapping):
        raise ValidationError(f"{field} must be a JSON Schema object", code="INVALID_SCHEMA",
                              details={"field": field})
    try:
        _validator(schema, field=field)
    except RecursionError:
        raise ValidationError(f"{field} is nested too deep to be a usable JSON Schema", code="INVALID_SCHEMA",
                              details={"field": field}) from None


def schema_errors(value: Any, schema: Mapping[str, Any], *, field: str) -> list[dict[str, str]]:
    """The (first few) violations of ``value`` against ``schema``: ``[{path, keyword}]``."""
    validator = _validator(schema, field=field)
    errors: list[dict[str, str]] = []
    try:
        for error in validator.iter_errors(value):
            path = "/" + "/".join(str(p) for p in error.absolute_path)
            errors.append({"path": path, "keyword": str(error.validator)})
            if len(errors) >= MAX_REPORTED_ERRORS:
                break
    except RecursionError:
        return [{"path": "/", "keyword": "maxDepth"}]  # too deep to check: reported as a violation
    return errors


def validate_value(value: Any, schema: Mapping[str, Any] | None, *, field: str, index: int | None = None,
                   item_id: str | None = None) -> None:
    """Raise ValidationError (SCHEMA_VALIDATION_FAILED) when ``value`` does not match ``schema``."""
    if schema is None:
        return
    errors = schema_errors(value, schema, field=field)
    if not errors:
        return
    where = f"items[{index}]." if index is not None else ""
    summary = "; ".join(f"{e['path']} ({e['keyword']})" for e in errors[:3])
    details: dict[str, Any] = {"field": field, "errors": errors}
    if index is not None:
        details["index"] = index
    if item_id is not None:
        details["item_id"] = item_id
    raise ValidationError(f"Validation failed for {where}{field}: {summary}", code="SCHEMA_VALIDATION_FAILED",
                          details=details)
