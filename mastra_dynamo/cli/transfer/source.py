"""Reading the table: every kind streamed out page by page, resumable from a position."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from mastra_dynamo.cli.transfer.format import PAGE_LIMIT, Position, Record
from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.errors import StorageError
from mastra_dynamo.schema import keys
from mastra_dynamo.stores import listing

if TYPE_CHECKING:
    from mastra_dynamo.store import DynamoDBStore


class Source:
    """Streams every kind out of a table (Queries page by page; a Scan only for scores)."""

    def __init__(self, store: DynamoDBStore) -> None:
        self.store = store
        self.table = store.table
        self.memory = store.get_store("memory")
        self.workflows = store.get_store("workflows")
        self.spec = self.memory.spec

    def _filter(self, entity: str | None) -> listing.FilterBuilder:
        def build(expr: Expr) -> str:
            alive = self.memory.not_expired(expr)
            if entity is None:
                return alive
            return f"{expr.name(self.spec.entity_attribute)} = {expr.s(entity)} AND {alive}"

        return build

    def global_stream(self, index: str, partition: Callable[[str], str], entity: str | None, after: str | None, *,
                      inclusive: bool = False) -> Iterator[tuple[str, Item]]:
        """Items of a write-sharded global listing, merged in index sort-key order, from ``after`` on."""
        between = (after, "~") if after is not None else None
        queries = [listing.PartitionQuery(index, f"{index}pk", f"{index}sk", partition(shard), sk_between=between)
                   for shard in keys.all_shards(keys.GLOBAL_SHARDS)]
        sk_attr = f"{index}sk"
        for item in listing.iterate(self.table, queries, ascending=True, filter_builder=self._filter(entity),
                                    page_limit=PAGE_LIMIT):
            sk = item[sk_attr]["S"]
            if after is not None and (sk < after or (sk == after and not inclusive)):
                continue
            yield sk, item

    def resolved_stream(self, index: str, partition: Callable[[str], str], entity: str, after: str | None, *,
                        inclusive: bool = False) -> Iterator[tuple[str, Item]]:
        """Like :meth:`global_stream` over an index of small entries: each entry is replaced by its item
        (one BatchGetItem per 100 entries; items deleted meanwhile are left out)."""
        batch: list[tuple[str, Item]] = []

        def flush() -> Iterator[tuple[str, Item]]:
            records = listing.records_of(self.table, [e for _, e in batch], consistent=True,
                                         alive=self.memory.alive)
            by_key = {(r["pk"]["S"], r["sk"]["S"]): r for r in records}
            for sk, entry in batch:
                item = by_key.get((entry["pk"]["S"], entry["sk"]["S"]))
                if item is not None:
                    yield sk, item
            batch.clear()

        for sk, entry in self.global_stream(index, partition, entity, after, inclusive=inclusive):
            batch.append((sk, entry))
            if len(batch) >= 100:
                yield from flush()
        yield from flush()

    def collection_stream(self, pk: str, prefix: str, after: str | None) -> Iterator[tuple[str, Item]]:
        """Items of one item collection whose sort key starts with ``prefix`` (ending in '#'), in key order."""
        upper = prefix[:-1] + "$"
        query = listing.PartitionQuery(None, "pk", "sk", pk, sk_between=(after or prefix, upper), consistent=True)
        for item in listing.iterate(self.table, [query], ascending=True, filter_builder=self._filter(None),
                                    page_limit=PAGE_LIMIT):
            sk = item["sk"]["S"]
            if after is not None and sk <= after:
                continue
            yield sk, item

    def children(self, parents: Iterator[tuple[str, Item]], after: Position | None,
                 collection: Callable[[Item], tuple[str, str]],
                 decode: Callable[[Item, Item], Record | None]) -> Iterator[tuple[Position, Record]]:
        """Children of each parent (in its item collection: the parent item's own ``pk``), resuming inside the
        parent of ``after``."""
        for parent_sk, parent in parents:
            child_after = after[1] if after is not None and parent_sk == after[0] else None
            pk, prefix = collection(parent)
            for sk, item in self.collection_stream(pk, prefix, child_after):
                record = decode(parent, item)
                if record is not None:
                    yield [parent_sk, sk], record

    # ------------------------------------------------------------ kinds
    def threads(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        from mastra_dynamo.models.memory import ENTITY_THREAD, ThreadItem

        for sk, item in self.resolved_stream("gsi6", keys.threads_global_pk, ENTITY_THREAD, _first(after)):
            yield [sk], ThreadItem.record_from_raw(item).to_mastra()

    def messages(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        from mastra_dynamo.models.memory import ENTITY_THREAD, MessageItem

        parents = self.global_stream("gsi6", keys.threads_global_pk, ENTITY_THREAD, _first(after), inclusive=True)
        def message(_thread: Item, item: Item) -> Record | None:
            whole = self.memory.complete([item])  # content parts of a large message put back
            return MessageItem.record_from_raw(whole[0]).to_mastra() if whole else None

        yield from self.children(parents, after, lambda t: (t["pk"]["S"], keys.MESSAGE_SK_PREFIX), message)

    def resources(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        from mastra_dynamo.models.memory import ENTITY_RESOURCE, ResourceItem

        for sk, item in self.resolved_stream("gsi6", keys.resources_global_pk, ENTITY_RESOURCE, _first(after)):
            yield [sk], ResourceItem.record_from_raw(item).to_mastra()

    def workflow_runs(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        # the runs listing holds index entries (and heads of the older layout): resolve them 100 at a time
        batch: list[tuple[str, Item]] = []

        def flush() -> Iterator[tuple[Position, Record]]:
            found = self.workflows.runs_of([e for _, e in batch], consistent=True)  # an export reads strongly
            runs = {(r.workflow_name, r.run_id): r for r in found}
            for sk, entry in batch:
                run = runs.get((entry["workflowName"]["S"], entry["runId"]["S"]))
                if run is not None:
                    yield [sk], run.to_mastra()
            batch.clear()

        for sk, entry in self.global_stream("gsi3", keys.runs_global_pk, None, _first(after)):
            batch.append((sk, entry))
            if len(batch) >= 100:
                yield from flush()
        yield from flush()

    def scores_(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        from mastra_dynamo.cli.admin import scan_items
        from mastra_dynamo.models.scores import ScoreItem
        from mastra_dynamo.stores.scores import ENTITY_SCORE

        expr = Expr()
        flt = f"{expr.name(self.spec.entity_attribute)} = {expr.s(ENTITY_SCORE)} AND {self.memory.not_expired(expr)}"
        start = {"pk": {"S": after[0]}, "sk": {"S": after[1]}} if after else None
        for item in scan_items(self.table, filter_expression=flt, names=expr.names, values=expr.values,
                               start_key=start):  # admin: export of scores (no global listing exists)
            yield [item["pk"]["S"], item["sk"]["S"]], ScoreItem.record_from_raw(item).to_mastra()

    def agents_(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        from mastra_dynamo.models.agents import ENTITY_AGENT, AgentItem

        for sk, item in self.global_stream("gsi3", keys.agents_global_pk, ENTITY_AGENT, _first(after)):
            yield [sk], AgentItem.record_from_raw(item).to_mastra()

    def agent_versions(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        from mastra_dynamo.models.agents import ENTITY_AGENT, AgentVersionItem

        parents = self.global_stream("gsi3", keys.agents_global_pk, ENTITY_AGENT, _first(after), inclusive=True)
        yield from self.children(parents, after, lambda a: (a["pk"]["S"], "V#"),
                                 lambda _a, v: AgentVersionItem.record_from_raw(v).to_mastra())

    def datasets_(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        from mastra_dynamo.models import datasets as di

        for sk, item in self.global_stream("gsi3", keys.datasets_global_pk, di.ENTITY_DATASET, _first(after)):
            yield [sk], di.DatasetModel.record_from_raw(item).to_mastra()

    def dataset_items(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        from mastra_dynamo.models import datasets as di

        def decode(dataset: Item, row: Item) -> Record | None:
            committed = di.DatasetModel.decode_attributes(dataset, ("version",))["version"] or 0
            if (di.ItemRowModel.decode_attributes(row, ("dataset_version",))["dataset_version"] or 0) > committed:
                return None  # staged by a batch that has not committed: not part of the dataset yet
            return di.ItemRowModel.row_from_raw(row, committed=committed).to_mastra()

        parents = self.global_stream("gsi3", keys.datasets_global_pk, di.ENTITY_DATASET, _first(after),
                                     inclusive=True)
        yield from self.children(parents, after, lambda d: (d["pk"]["S"], keys.DATASET_ITEM_ROW_PREFIX), decode)

    def dataset_versions(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        from mastra_dynamo.models import datasets as di

        parents = self.global_stream("gsi3", keys.datasets_global_pk, di.ENTITY_DATASET, _first(after),
                                     inclusive=True)
        yield from self.children(parents, after, lambda d: (d["pk"]["S"], keys.DATASET_VERSION_PREFIX),
                                 lambda _d, v: di.DatasetVersionModel.record_from_raw(v).to_mastra())

    def experiments_(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        from mastra_dynamo.models.experiments import ENTITY_EXPERIMENT, ExperimentItem

        for sk, item in self.global_stream("gsi3", keys.experiments_global_pk, ENTITY_EXPERIMENT, _first(after)):
            yield [sk], ExperimentItem.record_from_raw(item).to_mastra()

    def experiment_results(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        from mastra_dynamo.models.experiments import ENTITY_EXPERIMENT, ExperimentResultItem

        parents = self.global_stream("gsi3", keys.experiments_global_pk, ENTITY_EXPERIMENT, _first(after),
                                     inclusive=True)
        yield from self.children(parents, after, lambda e: (e["pk"]["S"], keys.EXPERIMENT_RESULT_PREFIX),
                                 lambda _e, r: ExperimentResultItem.record_from_raw(r).to_mastra())

    def background_tasks(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        """Every task, status partition by status partition of the status index (records read 100 at a time)."""
        from mastra_dynamo.models.background_tasks import BackgroundTaskItem
        from mastra_dynamo.records.background_tasks import TASK_STATUSES

        order: list[str] = list(TASK_STATUSES)
        first = 0 if after is None else order.index(after[0])

        def pk_of(raw: Item) -> str:
            value: str = BackgroundTaskItem.decode_attributes(raw, ("pk",))["pk"]
            return value

        for status in order[first:]:
            resume = after[1] if after is not None and after[0] == status else None
            partition = listing.PartitionQuery("gsi5", "gsi5pk", "gsi5sk", keys.tasks_by_status_pk(status),
                                               sk_between=(resume, "~") if resume is not None else None)
            entries = [(BackgroundTaskItem.decode_attributes(e, ("gsi5sk",))["gsi5sk"], e)
                       for e in listing.iterate(self.table, [partition], ascending=True,
                                                filter_builder=self._filter("background_task"),
                                                page_limit=PAGE_LIMIT)]
            entries = [(sk, e) for sk, e in entries if resume is None or sk > resume]
            for start in range(0, len(entries), 100):
                batch = entries[start:start + 100]
                records = {pk_of(r): r for r in listing.records_of(
                    self.table, [e for _, e in batch], consistent=True, alive=self.memory.alive)}
                for sk, entry in batch:
                    raw = records.get(pk_of(entry))
                    if raw is not None:
                        yield [status, sk], BackgroundTaskItem.record_from_raw(raw).to_mastra()

    def observational_memory(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        """Every observational memory record with its chunks: a Scan for the records (no listing spans the
        keys; admin export), then the Query of each record's collection prefix."""
        from mastra_dynamo.cli.admin import scan_items

        expr = Expr()
        flt = f"{expr.name(self.spec.entity_attribute)} = {expr.s('observational_memory')}"
        start = {"pk": {"S": after[0]}, "sk": {"S": after[1]}} if after else None
        for item in scan_items(self.table, filter_expression=flt, names=expr.names, values=expr.values,
                               start_key=start):  # admin: export of observational memory
            record_id = item["id"]["S"]
            try:
                record = self.memory.get_observational_memory_record(record_id)
            except StorageError:
                continue  # cleared since the Scan saw it
            yield [item["pk"]["S"], item["sk"]["S"]], record.to_mastra()

    def stream(self, kind: str, after: Position | None) -> Iterator[tuple[Position, Record]]:
        readers: dict[str, Callable[[Position | None], Iterator[tuple[Position, Record]]]] = {
            "threads": self.threads, "messages": self.messages, "resources": self.resources,
            "workflow_runs": self.workflow_runs, "scores": self.scores_, "agents": self.agents_,
            "agent_versions": self.agent_versions, "datasets": self.datasets_,
            "dataset_items": self.dataset_items, "dataset_versions": self.dataset_versions,
            "experiments": self.experiments_, "experiment_results": self.experiment_results,
            "background_tasks": self.background_tasks, "observational_memory": self.observational_memory,
        }
        return readers[kind](after)


def _first(after: Position | None) -> str | None:
    return after[0] if after else None
