"""Record-level helpers of the datasets domain: item payloads (canonical hash, purge scrub, search text).

The stored forms of the entities (dataset, history and current rows, versions, external-id records, item
pointers) are the PynamoDB models of ``mastra_dynamo.models.datasets``; this module re-exports their entity
stamps for the code that names them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mastra_dynamo.dynamo.codec import Item, dumps_json
from mastra_dynamo.models.datasets import (
    ENTITY_CURRENT,
    ENTITY_DATASET,
    ENTITY_EXTERNAL_ID,
    ENTITY_ITEM_LINK,
    ENTITY_ITEM_REF,
    ENTITY_ROW,
    ENTITY_VERSION,
    ItemPayloadModel,
)

__all__ = ["ENTITY_CURRENT", "ENTITY_DATASET", "ENTITY_EXTERNAL_ID", "ENTITY_ITEM_LINK", "ENTITY_ITEM_REF",
           "ENTITY_ROW", "ENTITY_VERSION", "IMMUTABLE_DATASET_FIELDS", "PAYLOAD_FIELDS", "SCRUBBED_FIELDS",
           "iso_ms", "payload_hash", "payload_of", "purge_marker", "row_payload", "scrub_payload", "search_text"]

PAYLOAD_FIELDS = (
    "input", "groundTruth", "expectedTrajectory", "toolMocks", "unmockedToolPolicy", "scorerIds",
    "requestContext", "metadata", "source",
)
"""The item payload (what external-id idempotency compares), in Mastra's camelCase."""
SCRUBBED_FIELDS = ("input", "groundTruth", "expectedTrajectory", "toolMocks", "requestContext")
"""Payload fields a purge removes (``metadata`` becomes the purge marker)."""
IMMUTABLE_DATASET_FIELDS = ("organizationId", "projectId", "candidateKey", "candidateId")
"""Descriptive fields a dataset keeps for life (a create with an existing id must match them)."""


# ---------------------------------------------------------------- canonical payloads
def _canonical(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def payload_hash(payload: Mapping[str, Any]) -> str:
    """Hash of the canonical payload: missing and null are equal, key order and 1 vs 1.0 do not matter."""
    try:
        canonical = {name: _canonical(payload.get(name)) for name in PAYLOAD_FIELDS}
    except RecursionError:
        from mastra_dynamo.errors import ValidationError

        raise ValidationError("item payload is nested too deep", code="INVALID_JSON") from None
    text = json.dumps(json.loads(dumps_json(canonical, field="item")), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def purge_marker(purged_at: str) -> dict[str, Any]:
    return {"__purged": True, "purgedAt": purged_at}


def scrub_payload(payload: Mapping[str, Any], purged_at: str) -> dict[str, Any]:
    """The payload of a purged item: personal data removed, ``metadata`` = the purge marker."""
    out = {k: v for k, v in payload.items() if k not in SCRUBBED_FIELDS}
    out["metadata"] = purge_marker(purged_at)
    return out


def iso_ms(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------- rows
def payload_of(value: Any) -> dict[str, Any]:
    """Mastra-JSON payload (camelCase, None fields omitted) of a payload record or mapping."""
    if hasattr(value, "model_dump"):
        raw = value.model_dump(by_alias=True, exclude_unset=True, exclude={"external_id"})
    else:
        raw = dict(value)
    return {name: raw[name] for name in PAYLOAD_FIELDS if raw.get(name) is not None}


def row_payload(item: Item) -> dict[str, Any]:
    """The payload (``data``) of a stored history or current row."""
    data: dict[str, Any] = ItemPayloadModel.decode_attributes(item, ("data",))["data"]
    return data


def search_text(item: Item) -> tuple[str, str]:
    payload = row_payload(item)
    value = payload.get("input")
    truth = payload.get("groundTruth")
    first = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    second = "" if not truth else truth if isinstance(truth, str) else json.dumps(
        truth, separators=(",", ":"), ensure_ascii=False)
    return first.lower(), second.lower()
