"""Shared base of the DynamoDB domain stores: client, TTL policy, clock, item stamping."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from mastra_dynamo.clock import Clock
from mastra_dynamo.dynamo.bridge import pause
from mastra_dynamo.dynamo.client import TableClient
from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.schema.table import TABLE_SPEC
from mastra_dynamo.ttl import TtlPolicy

MAX_CONFLICT_RETRIES = 12
MIN_BUMP = timedelta(milliseconds=1)


def contention_pause(attempt: int) -> None:
    """Jittered exponential pause before re-reading after a lost race (2 ms .. 250 ms), so that writers of one
    hot item spread out instead of colliding again at once."""
    pause(random.uniform(0, min(0.25, 0.002 * (2 ** min(attempt, 7)))))


class DynamoDomain:
    """State every domain store shares. Domains never talk to botocore directly: only through ``table``."""

    def __init__(self, *, table: TableClient, ttl: TtlPolicy, clock: Clock, consistent_reads: bool = False) -> None:
        self.table = table
        self.ttl = ttl
        self.clock = clock
        self.consistent_reads = consistent_reads
        """Strongly consistent reads of records by id and of listed records (eventually consistent, at half
        the read capacity, by default). Histories and the reads that plan a conditional write are always
        strongly consistent."""
        self.spec = TABLE_SPEC
        self.owner_init: Callable[[], None] | None = None
        """The owning DynamoDBStore's init (table check), so a domain used on its own still checks it."""

    def init(self) -> None:
        """Check the table through the owning DynamoDBStore (cached there); nothing else to set up."""
        if self.owner_init is not None:
            self.owner_init()

    def now(self) -> datetime:
        return self.clock()

    def bumped(self, previous: datetime | None) -> datetime:
        """A new ``updatedAt``: now, but always at least 1 ms after the previous value (saturating at the last
        representable instant: a stored ``updatedAt`` at the end of year 9999 stays there)."""
        now = self.now()
        if previous is None:
            return now
        try:
            floor = previous + MIN_BUMP
        except OverflowError:
            return previous
        return floor if now < floor else now

    def alive(self, item: Item | None) -> Item | None:
        return self.ttl.alive(item)

    def not_expired(self, expr: Expr) -> str:
        return expr.not_expired(self.spec.ttl_attribute, self.ttl.now_epoch())
