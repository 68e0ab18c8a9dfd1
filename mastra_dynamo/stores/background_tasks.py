"""Background tasks domain (spec 3.11) on the table.

A task is one item (``BackgroundTaskItem``, models/background_tasks.py) with an entry in two small indexes: by
status (``gsi5``, agent then creation time inside a status) and by run (``gsi6``). What each call sends:

* ``create_task``: one conditional PutItem (a live task with the same id is a ConflictError, never
  overwritten).
* ``update_task``: one conditional UpdateItem of the named fields; the condition holds the task's existence
  and every expectation (status, owner, lease), so exactly one of N concurrent claimers wins and a refused
  update writes nothing. An update that names no field is one strongly consistent GetItem.
* ``get_task``: one GetItem. ``get_running_count[_by_agent]``: one COUNT Query of the ``running`` partition
  (of one agent's prefix in it): index entries of running tasks only, never every task.
* ``list_tasks`` / ``delete_tasks``: the index entries of the narrowest path (run, else each wanted status,
  narrowed to the agent), then the records. When the filter and order need only what the entries hold
  (status, agent, run, creation time), the page is cut from the entries and only its records are read
  (BatchGetItem); otherwise every candidate record is read, filtered, ordered and paged in memory.

Semantics follow Mastra's in-memory reference (ordering, paging, clearing with None); where the stores
disagree this store takes the safe side: a duplicate id is refused, the status condition is atomic.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from mastra_dynamo.dynamo.codec import Item, check_item_size
from mastra_dynamo.errors import ConflictError, ValidationError
from mastra_dynamo.models import requests
from mastra_dynamo.models.background_tasks import ENTITY, IS_TASK, BackgroundTaskItem
from mastra_dynamo.models.base import epoch_datetime
from mastra_dynamo.records.background_tasks import (
    TASK_STATUSES,
    BackgroundTask,
    TaskFilter,
    TaskListResult,
    TaskUpdate,
    TaskUpdateOptions,
)
from mastra_dynamo.records.base import coerce
from mastra_dynamo.schema import keys
from mastra_dynamo.stores import listing
from mastra_dynamo.stores.base import DynamoDomain
from mastra_dynamo.validate import optional_id, require_id


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()
"""An expectation that is not checked (None would mean "must be absent")."""

_REQUIRED = frozenset({"status", "retry_count", "max_retries", "timeout_ms"})
"""Update fields a task always has: None leaves them as they are."""
_KEY_FIELDS = frozenset({"status", "agent_id", "run_id"})
_STATUS_INDEX = requests.index_keys(BackgroundTaskItem.gsi5)
_RUN_INDEX = requests.index_keys(BackgroundTaskItem.gsi6)
_EPOCH = datetime.fromtimestamp(0, tz=UTC)


class DynamoBackgroundTasksStore(DynamoDomain):
    """Background tasks. See docs/access-patterns.md for the requests behind each method."""

    # ------------------------------------------------------------------ writes
    def create_task(self, task: BackgroundTask | Mapping[str, Any]) -> BackgroundTask:
        """Store a new task and return it as stored.

        Raises: ValidationError (invalid task), ConflictError ``TASK_ALREADY_EXISTS`` (a live task has this id;
        nothing is written), ItemTooLargeError."""
        record = coerce(BackgroundTask, task, what="background task")
        for name in ("id", "tool_name", "tool_call_id", "agent_id", "run_id"):
            require_id(getattr(record, name), field=name)
        for name in ("thread_id", "resource_id", "owner_id"):
            optional_id(getattr(record, name), field=name)
        expires = self.ttl.expires_at(ENTITY) if record.completed_at is not None else None
        item = BackgroundTaskItem.new(record, expires_at=expires)
        serialized = item.serialize()
        check_item_size(serialized, entity=ENTITY, entity_id=record.id)
        now = self.ttl.now_epoch()
        condition = BackgroundTaskItem.pk.does_not_exist() | (BackgroundTaskItem.ttl <= epoch_datetime(now))
        try:
            self.table.call("PutItem", **requests.put_item(self.table.table_name, item, serialized=serialized,
                                                            condition=condition))
        except ConflictError:
            raise ConflictError(f"create_task: a task with id {record.id!r} already exists; nothing was written",
                                code="TASK_ALREADY_EXISTS", details={"id": record.id}) from None
        return BackgroundTaskItem.record_from_raw(serialized)

    def update_task(self, task_id: str, update: TaskUpdate | Mapping[str, Any],
                    options: TaskUpdateOptions | Mapping[str, Any] | None = None, *,
                    expected_status: Any = UNSET, expected_owner_id: Any = UNSET,
                    expected_lease_expires_at: Any = UNSET) -> bool:
        """Apply a partial update; False (nothing written) when the task does not exist or an expectation
        fails. Expectations come from ``options`` (Mastra's ``{expectedStatus, expectedOwnerId,
        expectedLeaseExpiresAt}``) or the keywords; ``expected_owner_id=None`` means "no owner"."""
        require_id(task_id, field="task_id")
        changes = coerce(TaskUpdate, update, what="task update")
        expect = self._expectations(options, expected_status=expected_status, expected_owner_id=expected_owner_id,
                                    expected_lease_expires_at=expected_lease_expires_at)
        actions = self._actions(changes)
        key = keys.background_task_key(task_id)
        now = self.ttl.now_epoch()
        if not actions:
            raw = self.table.call("GetItem", **requests.get_item(self.table.table_name, key, consistent=True))
            item = self.alive(raw.get("Item"))
            return item is not None and _meets(BackgroundTaskItem.record_from_raw(item), expect)
        condition = BackgroundTaskItem.pk.exists() & BackgroundTaskItem.not_expired(now)
        for cond in _conditions(expect):
            condition &= cond
        try:
            self.table.call("UpdateItem", **requests.update_key(self.table.table_name, key, actions,
                                                                condition=condition))
        except ConflictError:
            return False
        return True

    def _actions(self, changes: TaskUpdate) -> list[Action]:
        item = BackgroundTaskItem
        attributes = item.get_attributes()
        actions: list[Action] = []
        for name in sorted(changes.model_fields_set):
            value = getattr(changes, name)
            attr = attributes[name]
            if value is None:
                if name not in _REQUIRED:
                    actions.append(attr.remove())
                continue
            if name == "error":
                value = value.model_dump(mode="json", exclude_unset=True)
            actions.append(attr.set(value))
            if name == "status":
                actions.append(item.gsi5pk.set(keys.tasks_by_status_pk(value)))
        if "completed_at" in changes.model_fields_set:
            expires = self.ttl.expires_at(ENTITY) if changes.completed_at is not None else None
            actions.append(item.ttl.remove() if expires is None else item.ttl.set(epoch_datetime(expires)))
        return actions

    @staticmethod
    def _expectations(options: TaskUpdateOptions | Mapping[str, Any] | None, **keywords: Any) -> TaskUpdateOptions:
        if options is None:
            given: dict[str, Any] = {}
        elif isinstance(options, TaskUpdateOptions):
            given = options.model_dump(exclude_unset=True)
        elif isinstance(options, Mapping):
            given = dict(options)
        else:
            raise ValidationError("options must be an object", code="INVALID_INPUT")
        given.update({name: value for name, value in keywords.items() if value is not UNSET})
        return coerce(TaskUpdateOptions, given, what="update options")

    def delete_task(self, task_id: str) -> None:
        """Delete a task (an unknown id is not an error)."""
        require_id(task_id, field="task_id")
        self.table.call("DeleteItem", **requests.delete_item(self.table.table_name,
                                                             keys.background_task_key(task_id)))

    def delete_tasks(self, /, filter: TaskFilter | Mapping[str, Any] | None = None, **criteria: Any) -> None:
        """Delete the tasks ``list_tasks(filter)`` returns (paging included; an empty filter deletes every
        task, as in Mastra's reference store). BatchWriteItem, 25 keys per request."""
        tasks = self.list_tasks(filter, **criteria).tasks
        self.table.batch_write(deletes=[keys.background_task_key(t.id) for t in tasks])

    def dangerously_clear_all(self) -> None:
        """Delete every task of this table. Admin only: reads the whole table with a Scan."""
        from mastra_dynamo.admin import scan_entities  # admin: not a request path

        self.table.batch_write(deletes=list(scan_entities(self.table, (ENTITY,))))

    # ------------------------------------------------------------------ reads
    def get_task(self, task_id: str) -> BackgroundTask | None:
        require_id(task_id, field="task_id")
        request = requests.get_item(self.table.table_name, keys.background_task_key(task_id),
                                    consistent=self.consistent_reads)
        item = self.alive(self.table.call("GetItem", **request).get("Item"))
        return None if item is None else BackgroundTaskItem.record_from_raw(item)

    def get_running_count(self) -> int:
        """Number of running tasks: one COUNT Query of the running partition of the status index."""
        return self._count_running(None)

    def get_running_count_by_agent(self, agent_id: str) -> int:
        """Number of running tasks of one agent (0 for an unknown agent)."""
        require_id(agent_id, field="agent_id")
        return self._count_running(agent_id)

    def _count_running(self, agent_id: str | None) -> int:
        query = self._status_query("running", agent_id)
        return listing.count(self.table, [query], filter_builder=self._live_entries())

    def list_tasks(self, /, filter: TaskFilter | Mapping[str, Any] | None = None, **criteria: Any) -> TaskListResult:
        """Tasks matching every given field of ``filter`` (or the keyword criteria), ordered by ``order_by``
        (``createdAt`` by default, a missing date first in ascending order), with the total before paging:
        ``page`` and ``per_page`` cut one page, ``per_page`` alone the first ``per_page``, neither: all."""
        f = self._filter(filter, criteria)
        entries = list(listing.iterate(self.table, self._queries(f), ascending=True,
                                       filter_builder=self._live_entries()))
        if self._keys_suffice(f):
            return self._page_from_entries(f, entries)
        records = [BackgroundTaskItem.record_from_raw(i) for i in listing.records_of(
            self.table, _unique(entries), consistent=self.consistent_reads, alive=self.alive)]
        matching = [t for t in records if _matches(t, f)]
        order = _date_field(f.order_by)
        matching.sort(key=lambda t: (getattr(t, order) or _EPOCH, t.created_at, t.id),
                      reverse=f.order_direction == "desc")
        start, end = _window(f)
        return TaskListResult(tasks=matching[start:end], total=len(matching))

    # ------------------------------------------------------------------ listing helpers
    @staticmethod
    def _filter(filter: TaskFilter | Mapping[str, Any] | None, criteria: Mapping[str, Any]) -> TaskFilter:
        if isinstance(filter, TaskFilter):
            base: dict[str, Any] = filter.model_dump(exclude_unset=True)
        elif filter is None:
            base = {}
        elif isinstance(filter, Mapping):
            base = dict(filter)
        else:
            raise ValidationError("filter must be an object", code="INVALID_INPUT")
        f = coerce(TaskFilter, {**base, **criteria}, what="task filter")
        for name in ("agent_id", "thread_id", "resource_id", "tool_name", "tool_call_id", "run_id"):
            optional_id(getattr(f, name), field=name)
        return f

    def _live_entries(self) -> Any:
        return requests.condition_filter(lambda: IS_TASK & BackgroundTaskItem.not_expired(self.ttl.now_epoch()))

    @staticmethod
    def _status_query(status: str, agent_id: str | None) -> listing.PartitionQuery:
        prefix = None if agent_id is None else keys.tasks_of_agent_prefix(agent_id)
        return listing.PartitionQuery(*_STATUS_INDEX, keys.tasks_by_status_pk(status), sk_prefix=prefix)

    def _queries(self, f: TaskFilter) -> list[listing.PartitionQuery]:
        """The index partitions that hold every candidate: the run's, else one per wanted status."""
        if f.run_id is not None:
            return [listing.PartitionQuery(*_RUN_INDEX, keys.tasks_by_run_pk(f.run_id))]
        return [self._status_query(s, f.agent_id) for s in (f.statuses() or TASK_STATUSES)]

    @staticmethod
    def _keys_suffice(f: TaskFilter) -> bool:
        """Whether the index entries alone decide membership and order (then only the page is read)."""
        if any(getattr(f, name) is not None for name in ("thread_id", "resource_id", "tool_name", "tool_call_id")):
            return False
        if f.order_by != "createdAt":
            return False
        if (f.from_date is not None or f.to_date is not None) and f.date_filter_by != "createdAt":
            return False
        # the run index holds neither status nor agent
        return f.run_id is None or (f.status is None and f.agent_id is None)

    def _page_from_entries(self, f: TaskFilter, entries: list[Item]) -> TaskListResult:
        run_index = f.run_id is not None
        sk_name = "gsi6sk" if run_index else "gsi5sk"
        low = None if f.from_date is None else keys.ts(f.from_date)
        high = None if f.to_date is None else keys.ts(f.to_date)
        ordered: list[tuple[str, str, Item]] = []
        for entry in _unique(entries):
            values = BackgroundTaskItem.decode_attributes(entry, ("pk", sk_name))
            parts = values[sk_name].split(keys.SEP)
            created = parts[0] if run_index else parts[1]
            if (low is None or created >= low) and (high is None or created < high):
                ordered.append((created, values["pk"], entry))
        ordered.sort(key=lambda t: (t[0], t[1]), reverse=f.order_direction == "desc")
        start, end = _window(f)
        page = [entry for _, _, entry in ordered[start:end]]
        records = listing.records_of(self.table, page, consistent=self.consistent_reads, alive=self.alive)
        return TaskListResult(tasks=[BackgroundTaskItem.record_from_raw(i) for i in records], total=len(ordered))


# ---------------------------------------------------------------------- pure helpers
def _unique(entries: list[Item]) -> list[Item]:
    """Entries by table key, first seen wins (a task moving between status partitions during a listing may be
    read twice)."""
    seen: dict[tuple[str, str], Item] = {}
    for entry in entries:
        values = BackgroundTaskItem.decode_attributes(entry, ("pk", "sk"))
        seen.setdefault((values["pk"], values["sk"]), entry)
    return list(seen.values())


def _date_field(name: str) -> str:
    return {"createdAt": "created_at", "startedAt": "started_at", "suspendedAt": "suspended_at",
            "completedAt": "completed_at"}[name]


def _window(f: TaskFilter) -> tuple[int, int | None]:
    if f.per_page is None:
        return 0, None
    start = (f.page or 0) * f.per_page
    return start, start + f.per_page


def _matches(task: BackgroundTask, f: TaskFilter) -> bool:
    statuses = f.statuses()
    if statuses is not None and task.status not in statuses:
        return False
    for name in ("agent_id", "thread_id", "resource_id", "tool_name", "tool_call_id", "run_id"):
        wanted = getattr(f, name)
        if wanted is not None and getattr(task, name) != wanted:
            return False
    if f.from_date is not None or f.to_date is not None:
        value = getattr(task, _date_field(f.date_filter_by))
        if value is None:
            return False
        if f.from_date is not None and value < f.from_date:
            return False
        if f.to_date is not None and value >= f.to_date:
            return False
    return True


def _conditions(expect: TaskUpdateOptions) -> list[Condition]:
    item = BackgroundTaskItem
    given = expect.model_fields_set
    out: list[Condition] = []
    if expect.expected_status is not None:
        out.append(item.status == expect.expected_status)
    if "expected_owner_id" in given:
        out.append(item.owner_id.does_not_exist() if expect.expected_owner_id is None
                   else item.owner_id == expect.expected_owner_id)
    if "expected_lease_expires_at" in given:
        lease = expect.expected_lease_expires_at
        out.append(item.lease_expires_at.does_not_exist() if lease is None
                   else item.lease_expires_at == lease)
    return out


def _meets(task: BackgroundTask, expect: TaskUpdateOptions) -> bool:
    given = expect.model_fields_set
    if expect.expected_status is not None and task.status != expect.expected_status:
        return False
    if "expected_owner_id" in given and task.owner_id != expect.expected_owner_id:
        return False
    return "expected_lease_expires_at" not in given or task.lease_expires_at == expect.expected_lease_expires_at


__all__ = ["UNSET", "DynamoBackgroundTasksStore"]
