"""Writing the table: records stored as the domains store them (upserts), counters recomputed from them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from mastra_dynamo.cli.transfer.format import PAGE_LIMIT, Record
from mastra_dynamo.dynamo.client import key_attr
from mastra_dynamo.dynamo.codec import Item, check_item_size
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.errors import ConflictError, StorageError
from mastra_dynamo.schema import keys
from mastra_dynamo.stores import listing

if TYPE_CHECKING:
    from mastra_dynamo.store import DynamoDBStore


class Target:
    """Writes records into a table as the domains store them (upserts: safe to repeat)."""

    def __init__(self, store: DynamoDBStore) -> None:
        self.store = store
        self.table = store.table
        self.memory = store.get_store("memory")
        self.workflows = store.get_store("workflows")
        self.scores = store.get_store("scores")
        self.agents = store.get_store("agents")
        self.datasets = store.get_store("datasets")
        self.experiments = store.get_store("experiments")
        self.spec = self.memory.spec
        self._parent_ttl: dict[tuple[str, str], int | None] = {}
        self._pointer: tuple[str, Item | None] | None = None
        self._last_item: tuple[str, str] | None = None

    # ------------------------------------------------------------ helpers
    def _ttl_of(self, key: keys.Key, what: str, ident: str) -> int | None:
        """The ``ttl`` of a parent already imported (children expire with it); caches one per parent."""
        cache_key = (key.pk, key.sk)
        if cache_key not in self._parent_ttl:
            item = self.memory.alive(self.table.get_item(key))
            if item is None:
                raise StorageError(f"{what} {ident!r} is not in the table: import its file first (kinds are "
                                   "imported in dependency order; was the export complete?)",
                                   code="PARENT_MISSING", details={"parent": ident})
            if len(self._parent_ttl) > 1024:
                self._parent_ttl.clear()
            ttl = item.get(self.spec.ttl_attribute)
            self._parent_ttl[cache_key] = int(ttl["N"]) if ttl is not None else None
        return self._parent_ttl[cache_key]

    def _put(self, items: Sequence[Item]) -> None:
        if items:
            self.table.batch_write(puts=list(items))

    # ------------------------------------------------------------ memory
    def threads(self, records: Sequence[Record]) -> None:
        for record in records:
            self.memory.save_thread(thread=record)

    def messages(self, records: Sequence[Record]) -> None:
        self.memory.save_messages(messages=list(records))

    def resources(self, records: Sequence[Record]) -> None:
        for record in records:
            self.memory.save_resource(resource=record)

    # ------------------------------------------------------------ workflows, scores
    def workflow_runs(self, records: Sequence[Record]) -> None:
        from mastra_dynamo.records.workflows import WorkflowRun

        for raw in records:
            run = WorkflowRun.model_validate(raw)
            self.workflows.persist_workflow_snapshot(
                workflow_name=run.workflow_name, run_id=run.run_id, snapshot=run.snapshot,
                resource_id=run.resource_id, created_at=run.created_at, updated_at=run.updated_at)

    def scores_(self, records: Sequence[Record]) -> None:
        self._put([score_item(self.scores, raw) for raw in records])

    # ------------------------------------------------------------ agents
    def agents_(self, records: Sequence[Record]) -> None:
        from mastra_dynamo.models.agents import AgentItem
        from mastra_dynamo.records.agents import Agent

        expires = self.agents.ttl.expires_at("agent")
        self._put([AgentItem.encode(Agent.model_validate(raw), expires_at=expires) for raw in records])

    def agent_versions(self, records: Sequence[Record]) -> None:
        from mastra_dynamo.models.agents import AgentVersionItem, AgentVersionRefItem
        from mastra_dynamo.records.agents import AgentVersion

        items: list[Item] = []
        for raw in records:
            version = AgentVersion.model_validate(raw)
            expires = self._ttl_of(keys.agent_key(version.agent_id), "agent", version.agent_id)
            items += [AgentVersionItem.encode(version, expires_at=expires),
                      AgentVersionRefItem.encode(version, expires_at=expires)]
        self._put(items)

    # ------------------------------------------------------------ datasets
    def datasets_(self, records: Sequence[Record]) -> None:
        from mastra_dynamo.models import datasets as di
        from mastra_dynamo.records.datasets import Dataset

        items = []
        for raw in records:
            record = Dataset.model_validate(raw)
            item = di.DatasetModel.encode_item(di.DatasetModel.values(
                record, item_count=0, version_count=0, rev=1, expires_at=self.datasets.ttl.expires_at("dataset")))
            check_item_size(item, entity="dataset", entity_id=record.id)
            items.append(item)
            self._parent_ttl.pop((item["pk"]["S"], item["sk"]["S"]), None)
        self._put(items)

    def dataset_items(self, records: Sequence[Record]) -> None:
        from mastra_dynamo.models import datasets as dm
        from mastra_dynamo.records.datasets import DatasetItemRow
        from mastra_dynamo.stores.datasets import items as di

        items: list[Item] = []
        for raw in records:
            row_record = DatasetItemRow.model_validate(raw)
            dataset_id, item_id = row_record.dataset_id, row_record.id
            expires = self._ttl_of(keys.dataset_key(dataset_id), "dataset", dataset_id)
            payload = di.payload_of(raw)
            metadata = raw.get("metadata")
            purged = isinstance(metadata, dict) and metadata.get("__purged") is True
            row = dm.ItemRowModel.encode_item(dm.ItemRowModel.values(
                dataset_id=dataset_id, item_id=item_id, version=row_record.dataset_version, payload=payload,
                external_id=row_record.external_id, organization_id=row_record.organization_id,
                project_id=row_record.project_id, created_at=row_record.created_at,
                updated_at=row_record.updated_at, is_deleted=row_record.is_deleted, purged=purged,
                valid_to=row_record.valid_to, expires_at=expires))
            check_item_size(row, entity="dataset item", entity_id=item_id)
            purged_at = str(metadata.get("purgedAt") or "") if purged and isinstance(metadata, dict) else None
            pointer = dm.ItemPointerModel.encode_item(dm.ItemPointerModel.values(
                dataset_id, item_id, purged_at=purged_at, expires_at=expires))
            # Rows come oldest first per item: the last one written is the current row.
            items += [row, dm.ItemCurrentModel.from_row(row), pointer]
            first_row = self._last_item != (dataset_id, item_id)
            self._last_item = (dataset_id, item_id)
            if first_row and row_record.external_id is not None:
                items.append(dm.ExternalIdModel.encode_item(dm.ExternalIdModel.values(
                    dataset_id, row_record.external_id, item_id, di.payload_hash(payload), expires_at=expires)))
        self._put(items)

    def dataset_versions(self, records: Sequence[Record]) -> None:
        from mastra_dynamo.models import datasets as di
        from mastra_dynamo.records.datasets import DatasetVersion

        items = []
        for raw in records:
            version = DatasetVersion.model_validate(raw)
            expires = self._ttl_of(keys.dataset_key(version.dataset_id), "dataset", version.dataset_id)
            items.append(di.DatasetVersionModel.encode_item(di.DatasetVersionModel.values(
                version.dataset_id, version.version, version.id, version.created_at, expires_at=expires)))
        self._put(items)

    def dataset_counters(self, records: Sequence[Record]) -> None:
        """itemCount (live current rows) and versionCount (version rows) from what is stored now."""
        for raw in records:
            dataset_id = str(raw["id"])
            pk = keys.dataset_key(dataset_id).pk
            expr = Expr()
            live = self.table.query_count(expr.apply({
                "KeyConditionExpression": f"{expr.name('pk')} = {expr.s(pk)} AND "
                                          f"begins_with({expr.name('sk')}, {expr.s(keys.DATASET_ITEM_CURRENT_PREFIX)})",
                "FilterExpression": f"{expr.name('isDeleted')} = {expr.value({'BOOL': False})}",
                "ConsistentRead": True}))
            expr = Expr()
            versions = self.table.query_count(expr.apply({
                "KeyConditionExpression": f"{expr.name('pk')} = {expr.s(pk)} AND "
                                          f"begins_with({expr.name('sk')}, {expr.s(keys.DATASET_VERSION_PREFIX)})",
                "ConsistentRead": True}))
            self._set_counters(keys.dataset_key(dataset_id), {"itemCount": live, "versionCount": versions})

    def _set_counters(self, key: keys.Key, counters: Mapping[str, int]) -> None:
        expr = Expr()
        sets = ", ".join(f"{expr.name(name)} = {expr.n(value)}" for name, value in counters.items())
        self.table.call("UpdateItem", **expr.apply({
            "TableName": self.table.table_name, "Key": key_attr(key), "UpdateExpression": f"SET {sets}",
            "ConditionExpression": f"attribute_exists({expr.name('pk')})"}))

    # ------------------------------------------------------------ experiments
    def experiments_(self, records: Sequence[Record]) -> None:
        from mastra_dynamo.models.experiments import ExperimentItem
        from mastra_dynamo.records.experiments import Experiment

        expires = self.experiments.ttl.expires_at("experiment")
        items = []
        for raw in records:
            item = ExperimentItem.serialized(Experiment.model_validate(raw), expires_at=expires)
            items.append(item)
            self._parent_ttl.pop((item["pk"]["S"], item["sk"]["S"]), None)
        self._put(items)

    def _dataset_pointer(self, item_id: str) -> Item | None:
        if self._pointer is None or self._pointer[0] != item_id:
            self._pointer = (item_id, self.memory.alive(self.table.get_item(keys.dataset_item_ref_key(item_id))))
        return self._pointer[1]

    def experiment_results(self, records: Sequence[Record]) -> None:
        from mastra_dynamo.models import experiments as ex
        from mastra_dynamo.records.experiments import ExperimentResult

        items: list[Item] = []
        for raw in records:
            result = ExperimentResult.model_validate(raw)
            expires = self._ttl_of(keys.experiment_key(result.experiment_id), "experiment", result.experiment_id)
            pointer = self._dataset_pointer(result.item_id)
            link_dataset = pointer["datasetId"]["S"] if pointer is not None and "datasetId" in pointer else None
            items.append(ex.ExperimentResultItem.serialized(result, rev=1, link_dataset_id=link_dataset,
                                                            expires_at=expires))
            items.append(ex.ExperimentResultRefItem.serialized(result, expires_at=expires))
            if pointer is not None and link_dataset is not None and not pointer.get("purged", {}).get("BOOL"):
                pointer_ttl = pointer.get(self.spec.ttl_attribute)
                items.append(ex.DatasetItemLinkItem.serialized(
                    link_dataset, result, expires_at=int(pointer_ttl["N"]) if pointer_ttl else None))
        self._put(items)

    def experiment_counters(self, records: Sequence[Record]) -> None:
        """Review counters and result slots ((item, attempt) -> newest result) from the stored results."""
        from mastra_dynamo.models.experiments import ExperimentResultSlotItem
        from mastra_dynamo.stores import experiments as ex

        for raw in records:
            experiment_id = str(raw["id"])
            expires = self._ttl_of(keys.experiment_key(experiment_id), "experiment", experiment_id)
            query = listing.PartitionQuery(None, "pk", "sk", keys.experiment_key(experiment_id).pk,
                                           sk_prefix=keys.EXPERIMENT_RESULT_PREFIX, consistent=True)
            counters = dict.fromkeys(ex.REVIEW_COUNTERS, 0)
            slots: dict[tuple[str, int], _Slot] = {}
            for item in listing.iterate(self.table, [query], ascending=True,
                                        filter_builder=self.memory.not_expired, page_limit=PAGE_LIMIT):
                counters["resultCount"] += 1
                status = item.get("status", {}).get("S")
                if status in ex.STATUS_COUNTERS:
                    counters[ex.STATUS_COUNTERS[status]] += 1
                slot = slots.setdefault((item["itemId"]["S"], int(item.get("attempt", {}).get("N", "0"))), _Slot())
                slot.add(item["createdAt"]["S"], item["id"]["S"])
            slot_items = []
            for (item_id, attempt), slot in slots.items():
                slot_items.append(ExperimentResultSlotItem.new(
                    experiment_id, item_id, attempt, result_id=slot.newest[1], result_ids=slot.ids,
                    expires_at=expires).serialize())
            self._put(slot_items)
            self._set_counters(keys.experiment_key(experiment_id), counters)


    # ------------------------------------------------------------ background tasks, observational memory
    def background_tasks(self, records: Sequence[Record]) -> None:
        tasks = self.store.get_store("backgroundTasks")
        for record in records:
            try:
                tasks.create_task(record)
            except ConflictError as exc:  # imported already (an import run again)
                if exc.code != "TASK_ALREADY_EXISTS":
                    raise

    def observational_memory(self, records: Sequence[Record]) -> None:
        for record in records:
            try:
                self.memory.insert_observational_memory_record(record)
            except ConflictError as exc:  # imported already (an import run again)
                if exc.code != "OM_RECORD_EXISTS":
                    raise


class _Slot:
    """The results of one (item, attempt) of an experiment: the newest names the slot."""

    def __init__(self) -> None:
        self.newest: tuple[str, str] = ("", "")
        self.ids: set[str] = set()

    def add(self, created_at: str, result_id: str) -> None:
        self.ids.add(result_id)
        self.newest = max(self.newest, (created_at, result_id))


def score_item(scores: Any, raw: Mapping[str, Any]) -> Item:
    """The item of a score in Mastra's JSON shape, keeping its id and both timestamps (``ScoreItem.from_mastra``),
    with the retention of ``scores`` (a scores store). Raises ItemTooLargeError when it does not fit."""
    from mastra_dynamo.models.scores import ScoreItem

    score = ScoreItem.from_mastra(raw, expires_at=scores.ttl.expires_at("score"))
    item = score.serialize()
    check_item_size(item, entity="score", entity_id=str(raw["id"]))
    return item
