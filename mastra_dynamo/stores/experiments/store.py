"""Experiments domain (spec 3.7) on the table: experiments and their per-item results.

An experiment is the item collection ``E#<experimentId>``: the experiment item ``E`` (fields as plain
attributes, JSON fields as JSON text, plus review counters), its results ``ER#<resultId>`` (gsi1
``EX#<experimentId>`` by ``startedAt``), and one slot per ``(itemId, attempt)`` ``EK#<item>#<attempt>``
naming the result that upserts replace. A pointer ``EI#<resultId>`` resolves a result id without its
experiment. Experiments are listed through gsi3 (``EA#<shard>``, all experiments by ``createdAt``,
write-sharded) or gsi2 (``ED#<datasetId>``).

Every result write is one transaction with the experiment's counters (``resultCount``, ``needsReview``,
``reviewed``, ``complete``), so ``get_review_summary`` reads experiment items only. When the result's item
is a dataset item, the transaction also checks that the item is not purged and writes a link row into the
dataset's collection; ``purge_item`` sets the purge flag first and then follows the links, so no result can
escape the scrub (results written after the flag are stored scrubbed).

Every item is a PynamoDB model of ``models/experiments.py`` (``ExperimentItem``, ``ExperimentResultItem``,
``ExperimentResultSlotItem``, ``ExperimentResultRefItem``, ``DatasetItemLinkItem``; the layout is described
there). Items, conditions, update actions and filters are serialized by PynamoDB through the models, requests
are built by ``models/requests.py`` (once per request shape, ``shapes.py``) and sent through ``self.table``.
"""

from __future__ import annotations

from mastra_dynamo.stores.experiments import items as it
from mastra_dynamo.stores.experiments.result_reads import ResultReads
from mastra_dynamo.stores.experiments.result_writes import ResultWrites
from mastra_dynamo.stores.experiments.runs import ExperimentRuns


class DynamoExperimentsStore(ExperimentRuns, ResultWrites, ResultReads):
    """Experiments and results. See docs/access-patterns.md for the requests behind each method."""

    def dangerously_clear_all(self) -> None:
        """Delete every experiment item of this table. Admin only: reads the whole table with a Scan."""
        from mastra_dynamo.admin import scan_entities  # admin: not a request path

        self.table.batch_write(deletes=list(scan_entities(
            self.table, (it.ENTITY_EXPERIMENT, it.ENTITY_RESULT, it.ENTITY_SLOT, it.ENTITY_RESULT_REF,
                         it.ENTITY_ITEM_LINK))))
