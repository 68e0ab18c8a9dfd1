"""Reading conversation history: list_messages (pages, date ranges, filters, include windows) and
list_messages_by_resource_id.

A thread's messages are read with strongly consistent Queries of the base table on the sort-key range
``M#<start> .. M#<end>`` (date bounds, exclusive or inclusive, are part of the key condition). A page reads one
item more than it returns, so a total is only needed when more items follow. For one thread's whole history
(no date range, no metadata filter) it comes from the counters on the thread item (``counts``); otherwise it is
a server-side COUNT over the same range (one request per MB read), and with a metadata filter the complete
range is evaluated on the client.

A resource's messages across threads are the histories of the threads linked to it (``ResourceLinkItem``: one
gsi5 entry per thread that holds messages of the resource), read as one merged listing filtered by the
resource: one Query for the links, then per thread one Query for the page (and one COUNT when a total is
needed past the page). Messages are in no index, so saving one pays for no index entry.

Filters (not expired, of a resource) are PynamoDB conditions on ``MessageItem`` serialized once per shape
(stores/memory/templates.py); items are decoded by ``MessageItem``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pynamodb.expressions.condition import Condition

from mastra_dynamo.dynamo.codec import Item, string_of
from mastra_dynamo.errors import ValidationError
from mastra_dynamo.models.memory import IS_THREAD, MemoryItem, MessageItem, ResourceLinkItem
from mastra_dynamo.pagination import Pagination, paginate
from mastra_dynamo.records.base import PerPage, coerce
from mastra_dynamo.records.memory import IncludeItem, MessageFilter, MessagePage
from mastra_dynamo.schema import keys
from mastra_dynamo.stores import listing
from mastra_dynamo.stores.memory import counts, templates
from mastra_dynamo.stores.memory.messages import MessageOps
from mastra_dynamo.stores.memory.templates import slot
from mastra_dynamo.validate import check_metadata_filter, is_list, matches_metadata, require_id, resolve_order

DEFAULT_MESSAGES_PER_PAGE = 40
THREAD_ID_ERROR = "threadId must be a non-empty string or array of non-empty strings"


def _thread_ids(thread_id: str | Sequence[str]) -> list[str]:
    if isinstance(thread_id, str):
        ids = [thread_id]
    elif isinstance(thread_id, Sequence) and thread_id:
        ids = list(thread_id)
    else:
        raise ValidationError(THREAD_ID_ERROR, code="INVALID_THREAD_ID")
    for value in ids:
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(THREAD_ID_ERROR, code="INVALID_THREAD_ID")
        require_id(value, field="thread_id")
    return list(dict.fromkeys(ids))


def _content_metadata(item: Item) -> Any:
    content = MessageItem.content_of(item)
    return content.get("metadata") if isinstance(content, dict) else None


def _alive() -> Condition:
    return MessageItem.not_expired(slot("now", MessageItem.ttl))


def _of_resource() -> Condition:
    return MessageItem.resource_id.equals(slot("resource", MessageItem.resource_id.text))


def _resource_of(item: Item) -> str | None:
    value: str | None = MessageItem.decode_present(item, (("r", "resource_id"),)).get("r")
    return value


def _no_filter(_expr: Any) -> None:
    return None


class HistoryOps(MessageOps):
    def _alive_filter(self) -> listing.FilterBuilder:
        """Filter: the item has not expired."""
        return templates.listing_filter("alive", _alive, now=self.ttl.now_epoch())

    def _resource_filter(self, resource_id: str | None) -> listing.FilterBuilder:
        """Filter: not expired, and of ``resource_id`` when given."""
        if resource_id is None:
            return self._alive_filter()
        return templates.listing_filter("alive, of resource", lambda: _alive() & _of_resource(),
                                        now=self.ttl.now_epoch(), resource=resource_id)

    def list_messages(
        self,
        *,
        thread_id: str | Sequence[str],
        resource_id: str | None = None,
        include: Sequence[IncludeItem | Mapping[str, Any]] | None = None,
        per_page: PerPage | None = None,
        page: int = 0,
        filter: MessageFilter | Mapping[str, Any] | None = None,
        order_by: Any = None,
        include_total: bool = True,
    ) -> MessagePage:
        threads = _thread_ids(thread_id)
        flt = coerce(MessageFilter, filter or {}, what="filter")
        metadata = check_metadata_filter(flt.metadata, scalar_values=True)
        pagination = paginate(page, per_page, default=DEFAULT_MESSAGES_PER_PAGE)
        if resource_id is not None:
            require_id(resource_id, field="resource_id")
        includes = self._includes(include)
        _, direction = resolve_order(order_by, allowed=("createdAt",), default_field="createdAt",
                                     default_direction="ASC", strict=False)
        return self._history([keys.thread_pk(t) for t in threads], resource_id, includes, flt, metadata, pagination,
                             direction == "ASC", include_total, single=threads[0] if len(threads) == 1 else None)

    def _history(self, pks: list[str], resource_id: str | None, includes: list[IncludeItem], flt: MessageFilter,
                 metadata: dict[str, Any], pagination: Pagination, ascending: bool, include_total: bool, *,
                 single: str | None) -> MessagePage:
        """A page of the messages of the threads ``pks`` (their partition keys; ``single``: the one thread's id)
        of ``resource_id`` (any when None), with the include windows."""
        rng = flt.date_range
        bounds = keys.message_sk_bounds(
            rng.start if rng else None, rng.end if rng else None,
            start_exclusive=bool(rng and rng.start_exclusive), end_exclusive=bool(rng and rng.end_exclusive),
        )
        queries = [listing.PartitionQuery(None, "pk", "sk", pk, sk_between=bounds, consistent=True) for pk in pks]
        filter_builder = self._resource_filter(resource_id)

        def predicate(item: Item) -> bool:
            return matches_metadata(_content_metadata(item), metadata)

        pred = predicate if metadata else None
        page_items: list[Item] = []
        total = 0
        whole_thread = single is not None and not metadata and bounds == keys.message_sk_bounds(None, None)
        if single is not None and whole_thread and pagination.limit:
            page_items, total = self._thread_page(single, resource_id, ascending=ascending,
                                                  offset=pagination.offset, limit=pagination.limit,
                                                  include_total=include_total)
        elif pagination.limit != 0:
            page_items, counted = listing.page_with_total(
                self.table, queries, ascending=ascending, filter_builder=filter_builder, offset=pagination.offset,
                limit=pagination.limit, predicate=pred, with_total=include_total,
            )
            if counted is None and not page_items and pagination.offset:
                counted = listing.count(self.table, queries, filter_builder=filter_builder)  # page past the end
            # include_total=False: no COUNT; the total is then a lower bound that still drives has_more
            total = counted if counted is not None else pagination.offset + len(page_items)
        by_id: dict[str | None, Item] = {MessageItem.id_of(item): item for item in page_items}
        page_ids = set(by_id)
        for item in self._include_windows(includes, resource_id):
            by_id.setdefault(MessageItem.id_of(item), item)
        ordered = sorted(by_id.values(), key=MemoryItem.sort_key, reverse=not ascending)
        messages = [MessageItem.record_from_raw(item) for item in self.complete(ordered)]

        has_more = pagination.has_more(total)
        if has_more:
            candidates = len(page_ids) + sum(
                1 for mid, item in by_id.items()
                if mid not in page_ids and self._is_candidate(item, pks, resource_id, bounds, metadata)
            )
            if candidates >= total:
                has_more = False
        return MessagePage(messages=messages, total=total, page=pagination.page, per_page=pagination.per_page,
                           has_more=has_more)

    @staticmethod
    def _includes(include: Sequence[IncludeItem | Mapping[str, Any]] | None) -> list[IncludeItem]:
        if include is not None and not is_list(include):
            raise ValidationError("include must be a list", code="INVALID_INPUT")
        includes = [coerce(IncludeItem, raw, what="include[]") for raw in (include or [])]
        for inc in includes:
            require_id(inc.id, field="include[].id")
        return includes

    def _thread_page(self, thread_id: str, resource_id: str | None, *, ascending: bool, offset: int, limit: int,
                     include_total: bool) -> tuple[list[Item], int]:
        """A page of one thread's whole history and its total, from the thread's message counters.

        Newest first, the thread item (sort key ``T``, after every ``M#`` key) is read by the same Query as
        the page: one request. It reads one message more than the page, to know whether more follow, unless
        this process last saw the thread with stored counters (then the thread item's counters tell). Oldest
        first, a GetItem of the thread follows when the page is not the end. No counters (not built yet,
        messages with a TTL, ...): the total comes from :func:`counts.rebuild`, unless the page is the whole
        history (then the next message write of this process stores them).
        """
        pk = keys.thread_pk(thread_id)
        low, high = keys.message_sk_bounds(None, None)
        thread_sk = keys.thread_key(thread_id).sk
        fetched_thread = not ascending
        query = listing.PartitionQuery(None, "pk", "sk", pk, sk_between=(low, thread_sk if fetched_thread else high),
                                       consistent=True)
        hint = self.hints.get(thread_id)
        by_counters = fetched_thread and isinstance(hint, counts.Counters) and hint.matching(resource_id) is not None

        now = self.ttl.now_epoch()  # epoch seconds: the TTL slot stores them as epoch_datetime(now)
        if resource_id is None:
            flt = self._alive_filter()
        else:  # keys can't be filtered: the thread item passes the resource filter
            flt = templates.listing_filter("alive, of resource or thread",
                                           lambda: _alive() & (_of_resource() | IS_THREAD), now=now,
                                           resource=resource_id)
        items = listing.collect(self.table, [query], ascending=ascending, filter_builder=flt, offset=0,
                                limit=offset + limit + (1 if fetched_thread else 0) + (0 if by_counters else 1))
        thread_item: Item | None = None
        if items and MemoryItem.sort_key(items[0]) == thread_sk:
            thread_item = self.hints.seen(thread_id, items.pop(0))
        messages = [item for item in items if MemoryItem.sort_key(item).startswith(keys.MESSAGE_SK_PREFIX)]
        page = messages[offset:offset + limit]
        if by_counters:
            counters = counts.read(thread_item)
            total = None if counters is None else counters.matching(resource_id)
            if total is not None:  # a concurrent write can land between the thread item and the page
                return page, max(total, len(messages))
            if len(messages) == offset + limit:  # the counters are gone (the hint was stale): count
                return page, max(counts.rebuild(self, thread_id, thread_item, resource_id, self.hints),
                                 len(messages))
        more = len(messages) > offset + limit
        if not more and (page or offset == 0):
            if thread_item is not None and resource_id is None and counts.read(thread_item) is None:
                self.hints.note(thread_id, counts.counted(thread_item, messages))  # the whole history: exact
            return page, offset + len(page)
        if more and not include_total:
            return page, offset + len(page) + 1  # a lower bound that still drives has_more
        if not fetched_thread:
            thread_item = self.hints.seen(thread_id, self.get_item(keys.thread_key(thread_id), consistent=True))
        counters = counts.read(thread_item)
        total = counters.matching(resource_id) if counters is not None else None
        if total is None:
            total = counts.rebuild(self, thread_id, thread_item, resource_id, self.hints)
        # a concurrent write can land between the page and the total: never report fewer than were seen
        return page, max(total, len(messages))

    def _is_candidate(self, item: Item, pks: list[str], resource_id: str | None,
                      bounds: tuple[str, str], metadata: dict[str, Any]) -> bool:
        if MemoryItem.key_of(item).pk not in pks:
            return False
        if resource_id is not None and _resource_of(item) != resource_id:
            return False
        if not bounds[0] <= MemoryItem.sort_key(item) <= bounds[1]:
            return False
        return not metadata or matches_metadata(_content_metadata(item), metadata)

    def _include_windows(self, includes: list[IncludeItem], resource_id: str | None) -> list[Item]:
        """Target messages plus N previous / M next messages of the target's own thread."""
        if not includes:
            return []
        locations = self.locate(inc.id for inc in includes)
        out: list[Item] = []
        for inc in includes:
            loc = locations.get(inc.id)
            if loc is None:
                continue
            pk = keys.thread_pk(loc.thread_id)
            before = self._window(pk, ("M#", loc.sk), ascending=False, count=inc.with_previous_messages + 1)
            if not before or MemoryItem.sort_key(before[0]) != loc.sk:
                continue  # the target itself is gone (deleted or expired)
            target = before[0]
            if resource_id is not None and _resource_of(target) != resource_id:
                continue  # another tenant's message: not visible through this call
            window = before
            if inc.with_next_messages:
                window = window + self._window(pk, (loc.sk, "M$"), ascending=True,
                                               count=inc.with_next_messages + 1)[1:]
            if resource_id is not None:
                window = [m for m in window if _resource_of(m) == resource_id]
            out.extend(window)
        return out

    def _window(self, pk: str, between: tuple[str, str], *, ascending: bool, count: int) -> list[Item]:
        query = listing.PartitionQuery(None, "pk", "sk", pk, sk_between=between, consistent=True)
        return listing.collect(self.table, [query], ascending=ascending, filter_builder=self._alive_filter(),
                               offset=0, limit=count)

    def list_messages_by_resource_id(
        self,
        *,
        resource_id: str,
        include: Sequence[IncludeItem | Mapping[str, Any]] | None = None,
        per_page: PerPage | None = None,
        page: int = 0,
        filter: MessageFilter | Mapping[str, Any] | None = None,
        order_by: Any = None,
        include_total: bool = True,
    ) -> MessagePage:
        """All messages of a resource across threads: the threads linked to the resource (one Query of their
        gsi5 link entries), then their histories as one listing filtered by the resource."""
        require_id(resource_id, field="resource_id")
        flt = coerce(MessageFilter, filter or {}, what="filter")
        metadata = check_metadata_filter(flt.metadata, scalar_values=True)
        pagination = paginate(page, per_page, default=DEFAULT_MESSAGES_PER_PAGE)
        includes = self._includes(include)
        _, direction = resolve_order(order_by, allowed=("createdAt",), default_field="createdAt",
                                     default_direction="ASC", strict=False)
        links = listing.PartitionQuery("gsi5", "gsi5pk", "gsi5sk", keys.messages_by_resource_pk(resource_id))
        entries = listing.collect(self.table, [links], ascending=True, filter_builder=_no_filter, offset=0,
                                  limit=None)
        pks = list(dict.fromkeys(string_of(e, ResourceLinkItem.gsi5sk.attr_name) for e in entries))
        if not pks:  # no thread ever held a message of the resource
            return MessagePage(messages=[], total=0, page=pagination.page, per_page=pagination.per_page,
                               has_more=False)
        return self._history(pks, resource_id, includes, flt, metadata, pagination, direction == "ASC",
                             include_total, single=None)
