"""Experiments domain on DynamoDB: experiments and their per-item results (items: models/experiments.py)."""

from mastra_dynamo.models.experiments import (
    DatasetItemLinkItem,
    ExperimentItem,
    ExperimentResultItem,
    ExperimentResultRefItem,
    ExperimentResultSlotItem,
)
from mastra_dynamo.stores.experiments.items import (
    DEFAULT_PER_PAGE,
    ENTITY_EXPERIMENT,
    ENTITY_ITEM_LINK,
    ENTITY_RESULT,
    ENTITY_RESULT_REF,
    ENTITY_SLOT,
    MAX_WRITE_ATTEMPTS,
    PURGED_RESULT_FIELDS,
    REVIEW_COUNTERS,
    STATUS_COUNTERS,
    scrub_result,
)
from mastra_dynamo.stores.experiments.store import DynamoExperimentsStore

__all__ = [
    "DEFAULT_PER_PAGE",
    "ENTITY_EXPERIMENT",
    "ENTITY_ITEM_LINK",
    "ENTITY_RESULT",
    "ENTITY_RESULT_REF",
    "ENTITY_SLOT",
    "MAX_WRITE_ATTEMPTS",
    "PURGED_RESULT_FIELDS",
    "REVIEW_COUNTERS",
    "STATUS_COUNTERS",
    "DatasetItemLinkItem",
    "DynamoExperimentsStore",
    "ExperimentItem",
    "ExperimentResultItem",
    "ExperimentResultRefItem",
    "ExperimentResultSlotItem",
    "scrub_result",
]
