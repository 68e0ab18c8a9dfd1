"""`mastra-dynamo export` / `mastra-dynamo import`: every domain to and from JSON Lines in Mastra's JSON shapes.

Layout of an export directory::

    manifest.json               format, source table, record count per file (written last: a directory
                                without it holds an unfinished export)
    threads.jsonl ...           one file per entity kind, one record per line (Mastra's JSON, sorted keys)
    .checkpoints/export/*.json  per kind: lines and bytes written, the key of the last record, done
    .checkpoints/import-<table>-<hash>/*.json   per import step and target table: lines imported, done

**Export** streams: every kind is read page by page with the same Queries the domains' listings use (the
write-sharded global partitions merged in index order, each parent's item collection for its children), so
memory stays constant whatever the table's size. Scores have no global listing; they are read with an
admin Scan of their entity stamp (``mastra_dynamo.cli.admin``: the whole table is read once). Each kind's
checkpoint is updated every few hundred lines: an interrupted export resumes after the last checkpointed key
(the file is cut back to the checkpointed size first); a finished one is exported again from the start.
Expired items (TTL passed) are not exported.

**Import** replays the files in dependency order. Every write is an upsert (an UpdateItem through the
domain's own save method, or a PutItem of the item the domain itself would store), so running it again, whole
or resumed after the last checkpointed line, leaves the same table. Records keep their ids and timestamps;
retention (``ttl``) comes from the target's ``--ttl`` policy, as for new writes. Counters the JSON shapes do
not carry (dataset item and version counts, experiment result counters and result slots) are recomputed from
the imported rows in a last step per domain.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mastra_dynamo.cli.common import (
    EXIT_FAILURE,
    EXIT_USAGE,
    connection_options,
    console,
    escape,
    fail,
    handle_storage_errors,
    local_credentials,
    resolve_region,
    table_option,
    where,
)
from mastra_dynamo.dynamo.client import key_attr
from mastra_dynamo.dynamo.codec import Item, check_item_size
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.errors import StorageError
from mastra_dynamo.schema import keys
from mastra_dynamo.stores import listing

if TYPE_CHECKING:
    from rich.progress import Progress

    from mastra_dynamo.store import DynamoDBStore

FORMAT = "mastra-dynamo-export"
FORMAT_VERSION = 1
CHECKPOINT_EVERY = 200
PAGE_LIMIT = 500
Position = list[str]
Record = dict[str, Any]


# ---------------------------------------------------------------- kinds
@dataclass(frozen=True)
class Kind:
    name: str
    domain: str
    description: str

    @property
    def file(self) -> str:
        return f"{self.name}.jsonl"


KINDS: tuple[Kind, ...] = (
    Kind("threads", "memory", "threads (StorageThreadType)"),
    Kind("messages", "memory", "messages (MastraDBMessage, v2 content)"),
    Kind("resources", "memory", "resources with working memory (StorageResourceType)"),
    Kind("workflow_runs", "workflows", "workflow runs with their snapshots (WorkflowRun)"),
    Kind("scores", "scores", "scores (ScoreRowData)"),
    Kind("agents", "agents", "stored agents (StorageAgentType)"),
    Kind("agent_versions", "agents", "agent versions (snapshot configs)"),
    Kind("datasets", "datasets", "datasets (DatasetRecord)"),
    Kind("dataset_items", "datasets", "dataset item history rows (SCD-2: validTo, isDeleted)"),
    Kind("dataset_versions", "datasets", "dataset versions"),
    Kind("experiments", "experiments", "experiments"),
    Kind("experiment_results", "experiments", "experiment results"),
)
KIND_NAMES = tuple(k.name for k in KINDS)


def dump_line(record: Mapping[str, Any]) -> bytes:
    """One JSON Lines record: compact, sorted keys (byte-stable for equal records), UTF-8."""
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n").encode("utf-8")


# ---------------------------------------------------------------- checkpoints
class Checkpoint:
    """A small JSON state file, replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def save(self, **state: Any) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, sort_keys=True), "utf-8")
        os.replace(tmp, self.path)

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


# ---------------------------------------------------------------- reading the table
class Source:
    """Streams every kind out of a table (Queries page by page; a Scan only for scores)."""

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
        from mastra_dynamo.stores.memory import items as mi

        for sk, item in self.global_stream("gsi3", keys.threads_global_pk, mi.ENTITY_THREAD, _first(after)):
            yield [sk], mi.decode_thread(item).to_mastra()

    def messages(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        from mastra_dynamo.stores.memory import items as mi

        parents = self.global_stream("gsi3", keys.threads_global_pk, mi.ENTITY_THREAD, _first(after), inclusive=True)
        yield from self.children(parents, after, lambda t: (t["pk"]["S"], keys.MESSAGE_SK_PREFIX),
                                 lambda _t, m: mi.decode_message(m).to_mastra())

    def resources(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        from mastra_dynamo.stores.memory import items as mi

        for sk, item in self.global_stream("gsi3", keys.resources_global_pk, mi.ENTITY_RESOURCE, _first(after)):
            yield [sk], mi.decode_resource(item).to_mastra()

    def workflow_runs(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        # the runs listing holds index entries (and heads of the older layout): resolve them 100 at a time
        batch: list[tuple[str, Item]] = []

        def flush() -> Iterator[tuple[Position, Record]]:
            runs = {(r.workflow_name, r.run_id): r for r in self.workflows.runs_of([e for _, e in batch])}
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
        from mastra_dynamo.stores.scores import ENTITY_SCORE

        expr = Expr()
        flt = f"{expr.name(self.spec.entity_attribute)} = {expr.s(ENTITY_SCORE)} AND {self.memory.not_expired(expr)}"
        start = {"pk": {"S": after[0]}, "sk": {"S": after[1]}} if after else None
        for item in scan_items(self.table, filter_expression=flt, names=expr.names, values=expr.values,
                               start_key=start):  # admin: export of scores (no global listing exists)
            yield [item["pk"]["S"], item["sk"]["S"]], self.scores._decode(item).to_mastra()

    def agents_(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        from mastra_dynamo.stores.agents import ENTITY_AGENT

        for sk, item in self.global_stream("gsi3", keys.agents_global_pk, ENTITY_AGENT, _first(after)):
            yield [sk], self.agents._decode_agent(item).to_mastra()

    def agent_versions(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        from mastra_dynamo.stores.agents import ENTITY_AGENT

        parents = self.global_stream("gsi3", keys.agents_global_pk, ENTITY_AGENT, _first(after), inclusive=True)
        yield from self.children(parents, after, lambda a: (a["pk"]["S"], "V#"),
                                 lambda _a, v: self.agents._decode_version(v).to_mastra())

    def datasets_(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        from mastra_dynamo.stores.datasets import items as di

        for sk, item in self.global_stream("gsi3", keys.datasets_global_pk, di.ENTITY_DATASET, _first(after)):
            yield [sk], di.decode_dataset(item).to_mastra()

    def dataset_items(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        from mastra_dynamo.stores.datasets import items as di

        def decode(dataset: Item, row: Item) -> Record | None:
            committed = di.n(dataset, "version")
            if di.n(row, "datasetVersion") > committed:
                return None  # staged by a batch that has not committed: not part of the dataset yet
            return di.decode_row(row, committed=committed).to_mastra()

        parents = self.global_stream("gsi3", keys.datasets_global_pk, di.ENTITY_DATASET, _first(after),
                                     inclusive=True)
        yield from self.children(parents, after, lambda d: (d["pk"]["S"], keys.DATASET_ITEM_ROW_PREFIX), decode)

    def dataset_versions(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        from mastra_dynamo.stores.datasets import items as di

        parents = self.global_stream("gsi3", keys.datasets_global_pk, di.ENTITY_DATASET, _first(after),
                                     inclusive=True)
        yield from self.children(parents, after, lambda d: (d["pk"]["S"], keys.DATASET_VERSION_PREFIX),
                                 lambda _d, v: di.decode_version(v).to_mastra())

    def experiments_(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        from mastra_dynamo.stores.experiments import ENTITY_EXPERIMENT

        for sk, item in self.global_stream("gsi3", keys.experiments_global_pk, ENTITY_EXPERIMENT, _first(after)):
            yield [sk], self.experiments._decode_experiment(item).to_mastra()

    def experiment_results(self, after: Position | None) -> Iterator[tuple[Position, Record]]:
        from mastra_dynamo.stores.experiments import ENTITY_EXPERIMENT

        parents = self.global_stream("gsi3", keys.experiments_global_pk, ENTITY_EXPERIMENT, _first(after),
                                     inclusive=True)
        yield from self.children(parents, after, lambda e: (e["pk"]["S"], keys.EXPERIMENT_RESULT_PREFIX),
                                 lambda _e, r: self.experiments._decode_result(r).to_mastra())

    def stream(self, kind: str, after: Position | None) -> Iterator[tuple[Position, Record]]:
        readers: dict[str, Callable[[Position | None], Iterator[tuple[Position, Record]]]] = {
            "threads": self.threads, "messages": self.messages, "resources": self.resources,
            "workflow_runs": self.workflow_runs, "scores": self.scores_, "agents": self.agents_,
            "agent_versions": self.agent_versions, "datasets": self.datasets_,
            "dataset_items": self.dataset_items, "dataset_versions": self.dataset_versions,
            "experiments": self.experiments_, "experiment_results": self.experiment_results,
        }
        return readers[kind](after)


def _first(after: Position | None) -> str | None:
    return after[0] if after else None


# ---------------------------------------------------------------- writing the table
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
        from mastra_dynamo.records.agents import Agent

        expires = self.agents.ttl.expires_at("agent")
        self._put([self.agents._agent_item(Agent.model_validate(raw), expires) for raw in records])

    def agent_versions(self, records: Sequence[Record]) -> None:
        from mastra_dynamo.records.agents import AgentVersion

        items: list[Item] = []
        for raw in records:
            version = AgentVersion.model_validate(raw)
            expires = self._ttl_of(keys.agent_key(version.agent_id), "agent", version.agent_id)
            items += [self.agents._version_item(version, expires), self.agents._ref_item(version, expires)]
        self._put(items)

    # ------------------------------------------------------------ datasets
    def datasets_(self, records: Sequence[Record]) -> None:
        from mastra_dynamo.records.datasets import Dataset
        from mastra_dynamo.stores.datasets import items as di

        items = []
        for raw in records:
            record = Dataset.model_validate(raw)
            item = self.datasets.stamp(di.dataset_item(record, item_count=0, version_count=0, rev=1),
                                       di.ENTITY_DATASET, ttl_entity="dataset")
            check_item_size(item, entity="dataset", entity_id=record.id)
            items.append(item)
            self._parent_ttl.pop((item["pk"]["S"], item["sk"]["S"]), None)
        self._put(items)

    def dataset_items(self, records: Sequence[Record]) -> None:
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
            row = di.row_item(
                dataset_id=dataset_id, item_id=item_id, version=row_record.dataset_version, payload=payload,
                external_id=row_record.external_id, organization_id=row_record.organization_id,
                project_id=row_record.project_id, created_at=keys.ts(row_record.created_at),
                updated_at=keys.ts(row_record.updated_at), is_deleted=row_record.is_deleted, purged=purged)
            if row_record.valid_to is not None:
                row["validTo"] = {"N": str(row_record.valid_to)}
            row = self.datasets.stamp(row, di.ENTITY_ROW, expires_at=expires)
            check_item_size(row, entity="dataset item", entity_id=item_id)
            pointer = self.datasets.stamp(di.pointer_item(dataset_id, item_id), di.ENTITY_ITEM_REF,
                                          expires_at=expires)
            if purged and isinstance(metadata, dict):
                pointer["purged"] = {"BOOL": True}
                pointer["purgedAt"] = {"S": str(metadata.get("purgedAt") or "")}
            # Rows come oldest first per item: the last one written is the current row.
            items += [row, self.datasets._current(row), pointer]
            first_row = self._last_item != (dataset_id, item_id)
            self._last_item = (dataset_id, item_id)
            if first_row and row_record.external_id is not None:
                items.append(self.datasets.stamp(
                    di.external_id_item(dataset_id, row_record.external_id, item_id, di.payload_hash(payload)),
                    di.ENTITY_EXTERNAL_ID, expires_at=expires))
        self._put(items)

    def dataset_versions(self, records: Sequence[Record]) -> None:
        from mastra_dynamo.records.datasets import DatasetVersion
        from mastra_dynamo.stores.datasets import items as di

        items = []
        for raw in records:
            version = DatasetVersion.model_validate(raw)
            expires = self._ttl_of(keys.dataset_key(version.dataset_id), "dataset", version.dataset_id)
            items.append(self.datasets.stamp(
                di.version_item(version.dataset_id, version.version, version.id, keys.ts(version.created_at)),
                di.ENTITY_VERSION, expires_at=expires))
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
        from mastra_dynamo.records.experiments import Experiment

        expires = self.experiments.ttl.expires_at("experiment")
        items = []
        for raw in records:
            item = self.experiments._experiment_item(Experiment.model_validate(raw), expires_at=expires)
            check_item_size(item, entity="experiment", entity_id=str(raw.get("id")))
            items.append(item)
            self._parent_ttl.pop((item["pk"]["S"], item["sk"]["S"]), None)
        self._put(items)

    def _dataset_pointer(self, item_id: str) -> Item | None:
        if self._pointer is None or self._pointer[0] != item_id:
            self._pointer = (item_id, self.memory.alive(self.table.get_item(keys.dataset_item_ref_key(item_id))))
        return self._pointer[1]

    def experiment_results(self, records: Sequence[Record]) -> None:
        from mastra_dynamo.records.experiments import ExperimentResult
        from mastra_dynamo.stores import experiments as ex

        items: list[Item] = []
        for raw in records:
            result = ExperimentResult.model_validate(raw)
            expires = self._ttl_of(keys.experiment_key(result.experiment_id), "experiment", result.experiment_id)
            pointer = self._dataset_pointer(result.item_id)
            link_dataset = pointer["datasetId"]["S"] if pointer is not None and "datasetId" in pointer else None
            items.append(self.experiments._result_item(result, rev=1, link_dataset_id=link_dataset,
                                                       expires_at=expires))
            items.append(self.experiments.stamp(
                {**key_attr(keys.experiment_result_ref_key(result.id)), "experimentId": {"S": result.experiment_id},
                 "itemId": {"S": result.item_id}, "attempt": {"N": str(result.attempt)}},
                ex.ENTITY_RESULT_REF, expires_at=expires))
            if pointer is not None and link_dataset is not None and not pointer.get("purged", {}).get("BOOL"):
                pointer_ttl = pointer.get(self.spec.ttl_attribute)
                items.append(self.experiments.stamp(
                    {**key_attr(keys.dataset_item_link_key(link_dataset, result.item_id, result.experiment_id,
                                                           result.id)),
                     "datasetId": {"S": link_dataset}, "itemId": {"S": result.item_id},
                     "experimentId": {"S": result.experiment_id}, "resultId": {"S": result.id}},
                    ex.ENTITY_ITEM_LINK, expires_at=int(pointer_ttl["N"]) if pointer_ttl else None))
        self._put(items)

    def experiment_counters(self, records: Sequence[Record]) -> None:
        """Review counters and result slots ((item, attempt) -> newest result) from the stored results."""
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
                slot_items.append(self.experiments.stamp(
                    {**key_attr(keys.experiment_result_slot_key(experiment_id, item_id, attempt)),
                     "resultId": {"S": slot.newest[1]}, "itemId": {"S": item_id}, "attempt": {"N": str(attempt)},
                     "resultIds": {"SS": sorted(slot.ids)}}, ex.ENTITY_SLOT, expires_at=expires))
            self._put(slot_items)
            self._set_counters(keys.experiment_key(experiment_id), counters)


class _Slot:
    """The results of one (item, attempt) of an experiment: the newest names the slot."""

    def __init__(self) -> None:
        self.newest: tuple[str, str] = ("", "")
        self.ids: set[str] = set()

    def add(self, created_at: str, result_id: str) -> None:
        self.ids.add(result_id)
        self.newest = max(self.newest, (created_at, result_id))


def score_item(scores: Any, raw: Mapping[str, Any]) -> Item:
    """The item ``save_score`` would store for this score, keeping its id and both timestamps."""
    from mastra_dynamo.clock import parse_datetime
    from mastra_dynamo.records.base import coerce
    from mastra_dynamo.records.scores import ScorePayload

    created = parse_datetime(raw["createdAt"])
    updated = raw.get("updatedAt")
    payload = coerce(ScorePayload, {k: v for k, v in raw.items() if k not in ("createdAt", "updatedAt")},
                     what="score")
    data = payload.model_dump(by_alias=True, exclude_unset=True, mode="json")
    data["id"] = str(raw["id"])
    item: Item = scores._item(data["id"], data, keys.ts(created))
    if updated is None:
        item.pop("updatedAt", None)
    else:
        item["updatedAt"] = {"S": keys.ts(parse_datetime(updated))}
    check_item_size(item, entity="score", entity_id=data["id"])
    return item


@dataclass(frozen=True)
class Step:
    """One import step: a file replayed through one writer (``kind`` names the file)."""

    name: str
    kind: str
    label: str
    batch: int
    method: str
    """The Target method that writes a batch of records."""


IMPORT_STEPS: tuple[Step, ...] = (
    # Messages first: a message written before its thread exists does not touch the thread's updatedAt, and
    # saving the thread afterwards sets updatedAt to the exported value even when the thread existed already.
    Step("messages", "messages", "messages", 100, "messages"),
    Step("threads", "threads", "threads", 25, "threads"),
    Step("resources", "resources", "resources", 25, "resources"),
    Step("workflow_runs", "workflow_runs", "workflow runs", 10, "workflow_runs"),
    Step("scores", "scores", "scores", 25, "scores_"),
    Step("agents", "agents", "agents", 25, "agents_"),
    Step("agent_versions", "agent_versions", "agent versions", 12, "agent_versions"),
    Step("datasets", "datasets", "datasets", 25, "datasets_"),
    Step("dataset_items", "dataset_items", "dataset item rows", 8, "dataset_items"),
    Step("dataset_versions", "dataset_versions", "dataset versions", 25, "dataset_versions"),
    Step("dataset-counters", "datasets", "datasets (item and version counters)", 25, "dataset_counters"),
    Step("experiments", "experiments", "experiments", 25, "experiments_"),
    Step("experiment_results", "experiment_results", "experiment results", 8, "experiment_results"),
    Step("experiment-counters", "experiments", "experiments (review counters, result slots)", 25,
         "experiment_counters"),
)


# ---------------------------------------------------------------- engines
def _progress() -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description:<48}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console(stderr=True), transient=False)


def export_table(store: DynamoDBStore, out_dir: Path, *, restart: bool = False,
                 progress: Progress | None = None) -> dict[str, int]:
    """Export every kind into ``out_dir``; returns the record count per kind. Resumes unless ``restart``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / "manifest.json"
    if manifest_path.exists():
        restart = True  # a finished export is exported again; checkpoints only resume an unfinished one
    if restart:
        with contextlib.suppress(FileNotFoundError):
            manifest_path.unlink()
    source = Source(store)
    counts: dict[str, int] = {}
    for kind in KINDS:
        task = progress.add_task(f"export {kind.name}", total=None) if progress else None
        counts[kind.name] = _export_kind(source, kind, out_dir, restart=restart, progress=progress, task=task)
        if progress is not None and task is not None:
            progress.update(task, total=counts[kind.name], completed=counts[kind.name])
    manifest = {
        "format": FORMAT, "version": FORMAT_VERSION, "table": store.table_name,
        "exportedAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "kinds": {k.name: {"file": k.file, "records": counts[k.name], "domain": k.domain,
                           "description": k.description} for k in KINDS},
    }
    tmp = manifest_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", "utf-8")
    os.replace(tmp, manifest_path)
    return counts


def _export_kind(source: Source, kind: Kind, out_dir: Path, *, restart: bool, progress: Progress | None,
                 task: Any) -> int:
    data_path = out_dir / kind.file
    checkpoint = Checkpoint(out_dir / ".checkpoints" / "export" / f"{kind.name}.json")
    state = None if restart else checkpoint.load()
    if state and state.get("done") and data_path.exists() and data_path.stat().st_size == state.get("bytes"):
        return int(state["lines"])  # finished by an earlier run
    lines, after, mode = 0, None, "wb"
    if state and data_path.exists() and data_path.stat().st_size >= int(state.get("bytes", 0)):
        lines, after, mode = int(state["lines"]), state.get("last"), "r+b"
    with open(data_path, mode) as handle:
        if mode == "r+b":
            handle.truncate(int(state["bytes"]) if state else 0)
            handle.seek(0, os.SEEK_END)
        if progress is not None and lines:
            progress.update(task, completed=lines)
        last = after
        for position, record in source.stream(kind.name, after):
            handle.write(dump_line(record))
            lines += 1
            last = position
            if progress is not None:
                progress.advance(task)
            if lines % CHECKPOINT_EVERY == 0:
                handle.flush()
                os.fsync(handle.fileno())
                checkpoint.save(kind=kind.name, lines=lines, bytes=handle.tell(), last=last, done=False)
        handle.flush()
        os.fsync(handle.fileno())
        checkpoint.save(kind=kind.name, lines=lines, bytes=handle.tell(), last=last, done=True)
    return lines


def read_manifest(in_dir: Path) -> dict[str, Any]:
    path = in_dir / "manifest.json"
    if not path.is_file():
        partial = (in_dir / ".checkpoints" / "export").is_dir()
        fail(f"{in_dir} holds no finished export (no manifest.json)",
             hint="run `mastra-dynamo export --out DIR` again to finish it (it resumes)" if partial else
             "pass the directory written by `mastra-dynamo export --out DIR`", exit_code=EXIT_USAGE)
    try:
        manifest: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except ValueError as exc:
        fail(f"{path} is not valid JSON: {exc}", hint="re-run the export", exit_code=EXIT_USAGE)
    if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
        fail(f"{path} is not a {FORMAT} v{FORMAT_VERSION} manifest",
             hint="export the table again with this version of mastra-dynamo", exit_code=EXIT_USAGE)
    for kind in KINDS:
        if kind.name not in manifest.get("kinds", {}) or not (in_dir / kind.file).is_file():
            fail(f"{in_dir} lacks {kind.file}", hint="re-run the export with --restart", exit_code=EXIT_USAGE)
    return manifest


def import_dir(store: DynamoDBStore, in_dir: Path, *, restart: bool = False, checkpoint_dir: Path | None = None,
               progress: Progress | None = None) -> dict[str, int]:
    """Replay an export into ``store``'s table; returns the records applied per step (resumes unless
    ``restart``). Raises CliError when a file does not hold the number of records its manifest names."""
    manifest = read_manifest(in_dir)
    target = Target(store)
    location = f"{store.table_name}|{store.endpoint_url or store.region}"
    tag = f"import-{store.table_name}-{hashlib.sha256(location.encode()).hexdigest()[:8]}"
    base = (checkpoint_dir or in_dir / ".checkpoints") / tag
    if (Checkpoint(base / f"{IMPORT_STEPS[-1].name}.json").load() or {}).get("done"):
        restart = True  # a finished import runs again (upserts); checkpoints only resume an unfinished one
    applied: dict[str, int] = {}
    for step in IMPORT_STEPS:
        expected = int(manifest["kinds"][step.kind]["records"])
        task = progress.add_task(f"import {step.label}", total=expected) if progress else None
        applied[step.name] = _import_step(target, step, in_dir / f"{step.kind}.jsonl", Checkpoint(
            base / f"{step.name}.json"), restart=restart, progress=progress, task=task)
        if applied[step.name] != expected:
            fail(f"{step.kind}.jsonl holds {applied[step.name]} records but the manifest says {expected}",
                 hint="the export directory was changed or truncated: export the table again")
    return applied


def _import_step(target: Target, step: Step, path: Path, checkpoint: Checkpoint, *, restart: bool,
                 progress: Progress | None, task: Any) -> int:
    state = None if restart else checkpoint.load()
    if state and state.get("done"):
        if progress is not None:
            progress.update(task, completed=int(state["lines"]))
        return int(state["lines"])
    skip = int(state["lines"]) if state else 0
    batch: list[Record] = []
    lines = 0

    def flush() -> None:
        if batch:
            getattr(target, step.method)(batch)
            if progress is not None:
                progress.advance(task, len(batch))
            batch.clear()
        checkpoint.save(step=step.name, lines=lines, done=False)

    if progress is not None and skip:
        progress.update(task, completed=skip)
    with open(path, "rb") as handle:
        for raw in handle:
            lines += 1
            if lines <= skip or not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError as exc:
                fail(f"{path.name} line {lines} is not JSON: {exc}", hint="export the table again")
            batch.append(record)
            if len(batch) >= step.batch:
                flush()
        flush()
    checkpoint.save(step=step.name, lines=lines, done=True)
    return lines


# ---------------------------------------------------------------- commands
def _open(table: str, region: str | None, endpoint_url: str | None, ttl: str | None = None) -> DynamoDBStore:
    from mastra_dynamo.cli.common import explain
    from mastra_dynamo.store import DynamoDBStore

    local_credentials(endpoint_url)
    policy = None
    if ttl:
        try:
            policy = json.loads(ttl)
        except ValueError as exc:
            fail(f"--ttl is not JSON: {exc}", hint='e.g. --ttl \'{"message": {"enabled": true, '
                 '"defaultTtlSeconds": 2592000}}\'', exit_code=EXIT_USAGE)
    try:
        store = DynamoDBStore(id="cli-transfer", table_name=table, region=resolve_region(region, endpoint_url),
                              endpoint_url=endpoint_url, ttl=policy)
        store.init()
    except StorageError as exc:
        raise explain(exc, table=table) from exc
    return store


def _summary(title: str, rows: list[tuple[str, str, int]], requests: Mapping[str, int]) -> None:
    from rich.table import Table

    grid = Table(title=title, title_justify="left")
    grid.add_column("kind")
    grid.add_column("file")
    grid.add_column("records", justify="right")
    for name, file, number in rows:
        grid.add_row(name, file, str(number))
    out = console()
    out.print(grid)
    out.print("DynamoDB requests: " + ", ".join(f"{op} {n}" for op, n in sorted(requests.items())))


@click.command("export", short_help="Export every domain to JSON Lines (Mastra shapes).")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for the JSON Lines files (created; an unfinished export there is resumed).")
@table_option(help="The table to export.")
@connection_options
@click.option("--restart", is_flag=True,
              help="Ignore the checkpoints of an unfinished export and start over (a finished one is always redone).")
@handle_storage_errors
def export_command(out: Path, table: str, region: str | None, endpoint_url: str | None, restart: bool) -> None:
    """Export every domain of a table to JSON Lines in Mastra's JSON shapes (one file per entity kind).

    An interrupted export resumes from its checkpoints when run again with the same --out.

    \b
    Files: threads, messages, resources, workflow_runs, scores, agents, agent_versions, datasets,
    dataset_items (history rows), dataset_versions, experiments, experiment_results (.jsonl) and
    manifest.json. Streaming (constant memory), resumable (checkpoints in DIR/.checkpoints), admin only:
    scores are read with a Scan of the table.
    """
    store = _open(table, region, endpoint_url)
    try:
        with _progress() as progress:
            counts = export_table(store, out, restart=restart, progress=progress)
        requests = store.request_counts()
    finally:
        store.close()
    _summary(f"Exported {where(table, endpoint_url, region)} to {out}",
             [(k.name, k.file, counts[k.name]) for k in KINDS], requests)


@click.command("import", short_help="Import an export directory (upserts, resumable).")
@click.option("--from", "source", required=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A directory written by `mastra-dynamo export`.")
@table_option(help="The table to import into (it must exist: `mastra-dynamo table create` for local use).")
@connection_options
@click.option("--restart", is_flag=True,
              help="Ignore the checkpoints of an unfinished import and start over (a finished one is always redone).")
@click.option("--ttl", "ttl", help="Retention of the imported records as JSON, like DynamoDBStore(ttl=...), "
              'e.g. \'{"message": {"enabled": true, "defaultTtlSeconds": 2592000}}\'. Default: none.')
@click.option("--checkpoint-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where to keep the import checkpoints (default: DIR/.checkpoints).")
@handle_storage_errors
def import_command(source: Path, table: str, region: str | None, endpoint_url: str | None, restart: bool,
                   ttl: str | None, checkpoint_dir: Path | None) -> None:
    """Import an export directory into a table (upserts: re-running it gives the same table).

    Records keep their ids and timestamps. An interrupted import resumes after the last checkpointed line; a
    finished one runs again from the start.
    """
    manifest = read_manifest(source)
    store = _open(table, region, endpoint_url, ttl)
    try:
        with _progress() as progress:
            applied = import_dir(store, source, restart=restart, checkpoint_dir=checkpoint_dir, progress=progress)
        requests = store.request_counts()
    finally:
        store.close()
    rows = [(k.name, k.file, applied[k.name]) for k in KINDS]
    _summary(f"Imported {source} (from table {manifest.get('table')!r}) into {where(table, endpoint_url, region)}",
             rows, requests)
    missing = [k.name for k in KINDS if applied[k.name] != manifest["kinds"][k.name]["records"]]
    if missing:
        console(stderr=True).print(f"[red]record counts differ for {escape(', '.join(missing))}[/]")
        raise click.exceptions.Exit(EXIT_FAILURE)
