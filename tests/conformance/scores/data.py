"""Builders shared by the scores conformance cases."""

from __future__ import annotations

import uuid
from typing import Any

from mastra_dynamo.records.scores import Score, ScoresPage
from mastra_dynamo.stores.scores import DynamoScoresStore
from tests.conftest import FakeClock


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def payload(**overrides: Any) -> dict[str, Any]:
    """A complete camelCase ``SaveScorePayload``; ``overrides`` replace fields (value ``...`` removes one)."""
    data: dict[str, Any] = {
        "scorerId": "scorer-1",
        "entityId": "agent-1",
        "entityType": "AGENT",
        "runId": "run-1",
        "score": 0.75,
        "reason": "mostly helpful",
        "scorer": {"id": "scorer-1", "name": "Helpfulness", "description": "rates helpfulness"},
        "source": "LIVE",
        "entity": {"id": "agent-1", "name": "Support agent"},
        "input": [{"role": "user", "content": "hi"}],
        "output": {"text": "hello"},
        "metadata": {"model": "gpt", "tokens": 12},
    }
    for key, value in overrides.items():
        if value is ...:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def save(sc: DynamoScoresStore, clock: FakeClock, **overrides: Any) -> Score:
    """Save a score, then move the clock one second on (each score has its own creation time)."""
    score = sc.save_score(score=payload(**overrides)).score
    clock.advance(seconds=1)
    return score


def ids(page: ScoresPage) -> list[str]:
    return [s.id for s in page.scores]
