"""Observational memory records (spec 3.10): the per-thread or per-resource record, its buffered chunks, the
inputs of the record-addressed operations and the swap result."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from mastra_dynamo.clock import utc_now
from mastra_dynamo.records.base import Record, UtcDatetime

Scope = Literal["thread", "resource"]


class BufferedChunkInput(Record):
    """A chunk of observations produced by one buffering cycle (``BufferedObservationChunkInput``)."""

    model_config = Record.model_config | {"extra": "allow"}

    cycle_id: str
    observations: str
    token_count: int
    message_ids: list[str] = Field(default_factory=list)
    message_tokens: int = 0
    last_observed_at: UtcDatetime
    suggested_continuation: str | None = None
    current_task: str | None = None
    thread_title: str | None = None
    extracted_values: dict[str, Any] | None = None
    extraction_failures: list[dict[str, Any]] | None = None


class BufferedChunk(BufferedChunkInput):
    """A stored chunk: the input plus the id and creation time the store gave it."""

    id: str
    created_at: UtcDatetime


class ObservationalMemoryRecord(Record):
    """``ObservationalMemoryRecord`` (31 fields in Mastra 1.71.0)."""

    id: str
    scope: Scope
    thread_id: str | None
    resource_id: str
    created_at: UtcDatetime = Field(default_factory=utc_now)
    updated_at: UtcDatetime = Field(default_factory=utc_now)
    last_observed_at: UtcDatetime | None = None
    origin_type: Literal["initial", "reflection"] = "initial"
    generation_count: int = 0
    active_observations: str = ""
    buffered_observation_chunks: list[BufferedChunk] | None = None
    buffered_reflection: str | None = None
    buffered_reflection_tokens: int | None = None
    buffered_reflection_input_tokens: int | None = None
    reflected_observation_line_count: int | None = None
    observed_message_ids: list[str] | None = None
    observed_timezone: str | None = None
    buffered_observations: str | None = None
    buffered_observation_tokens: int | None = None
    buffered_message_ids: list[str] | None = None
    total_tokens_observed: int = 0
    observation_token_count: int = 0
    pending_message_tokens: int = 0
    is_reflecting: bool = False
    is_observing: bool = False
    is_buffering_observation: bool = False
    is_buffering_reflection: bool = False
    last_buffered_at_tokens: int = 0
    last_buffered_at_time: UtcDatetime | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] | None = None

    def to_mastra(self) -> dict[str, Any]:
        """Mastra's shape: every field, ``threadId`` and ``lastBufferedAtTime`` as null when unset, optional
        fields absent when unset."""
        data = self.model_dump(by_alias=True, mode="json", exclude_none=True)
        data["threadId"] = self.thread_id
        data["lastBufferedAtTime"] = None if self.last_buffered_at_time is None else data["lastBufferedAtTime"]
        return data


class InitializeInput(Record):
    thread_id: str | None = None
    resource_id: str
    scope: Scope
    config: dict[str, Any] = Field(default_factory=dict)
    observed_timezone: str | None = None


class UpdateActiveInput(Record):
    id: str
    observations: str
    token_count: int
    last_observed_at: UtcDatetime
    observed_message_ids: list[str] | None = None
    observed_timezone: str | None = None


class UpdateBufferedInput(Record):
    id: str
    chunk: BufferedChunkInput
    last_buffered_at_time: UtcDatetime | None = None


class ChunkWeight(Record):
    """A chunk of ``bufferedChunks`` in a swap: only ``id`` and ``messageTokens`` are used."""

    model_config = Record.model_config | {"extra": "allow"}

    id: str | None = None
    message_tokens: int | None = None


class SwapInput(Record):
    id: str
    activation_ratio: float
    message_tokens_threshold: float
    current_pending_tokens: float
    force_max_activation: bool = False
    last_observed_at: UtcDatetime | None = None
    buffered_chunks: list[ChunkWeight] | None = None


class ChunkActivation(Record):
    cycle_id: str
    message_tokens: int
    observation_tokens: int
    message_count: int
    observations: str


class SwapResult(Record):
    """``SwapBufferedToActiveResult``."""

    chunks_activated: int = 0
    message_tokens_activated: int = 0
    observation_tokens_activated: int = 0
    messages_activated: int = 0
    activated_cycle_ids: list[str] = Field(default_factory=list)
    activated_message_ids: list[str] = Field(default_factory=list)
    observations: str | None = None
    per_chunk: list[ChunkActivation] | None = None
    suggested_continuation: str | None = None
    current_task: str | None = None


class ReflectionInput(Record):
    current_record: ObservationalMemoryRecord
    reflection: str
    token_count: int


class BufferedReflectionInput(Record):
    id: str
    reflection: str
    token_count: int
    input_token_count: int
    reflected_observation_line_count: int


class SwapReflectionInput(Record):
    current_record: ObservationalMemoryRecord
    token_count: int


class ConfigInput(Record):
    id: str
    config: dict[str, Any]


class HistoryOptions(Record):
    from_: UtcDatetime | None = Field(default=None, alias="from")
    to: UtcDatetime | None = None
    offset: int | None = Field(default=None, ge=0)


def lookup_key(thread_id: str | None, resource_id: str) -> str:
    """``thread:<threadId>`` when a thread is given, else ``resource:<resourceId>`` (spec 3.10.3)."""
    return f"thread:{thread_id}" if thread_id else f"resource:{resource_id}"


__all__ = [
    "BufferedChunk", "BufferedChunkInput", "BufferedReflectionInput", "ChunkActivation", "ChunkWeight",
    "ConfigInput", "HistoryOptions", "InitializeInput", "ObservationalMemoryRecord", "ReflectionInput", "Scope",
    "SwapInput", "SwapReflectionInput", "SwapResult", "UpdateActiveInput", "UpdateBufferedInput", "lookup_key",
]
