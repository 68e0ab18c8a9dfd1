"""Run fencing items (docs/access-patterns.md, run fencing).

* ``RunOwnerItem`` (``RO#<runId>`` / ``RO``): a workflow run's claim: ``generation`` (grows by one per claim,
  the first seeded from the clock in milliseconds so that it keeps growing even after the item was deleted),
  ``ownerId`` (kept after release), ``leaseExpiresAt`` (epoch ms; absent once released), ``updatedAt``.
* ``MemoryRunFenceItem`` (``RF#<runId>`` / ``RF``): the memory domain's fence of a run: ``generation``,
  ``ownerId`` and ``retiredAt`` (epoch ms, set when the execution settled).

A fenced write is a transaction of the write and a ``ConditionCheck`` of the run's item: generation and owner
equal to the fence's.
"""

from __future__ import annotations

from typing import cast

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.expressions.condition import Condition

from mastra_dynamo.models.base import TableItem
from mastra_dynamo.records.run_fencing import RunFence


class _FenceItem(TableItem):
    generation = NumberAttribute()
    owner_id = UnicodeAttribute(attr_name="ownerId")

    @classmethod
    def holds(cls, fence: RunFence) -> Condition:
        """The item is the fence's claim: same generation, same owner."""
        return cast(Condition, (cls.generation == fence.generation) & (cls.owner_id == fence.owner_id))


class RunOwnerItem(_FenceItem, discriminator="workflow_run_owner"):
    lease_expires_at = NumberAttribute(null=True, attr_name="leaseExpiresAt")
    updated_at = NumberAttribute(attr_name="updatedAt")


class MemoryRunFenceItem(_FenceItem, discriminator="memory_run_fence"):
    retired_at = NumberAttribute(null=True, attr_name="retiredAt")
