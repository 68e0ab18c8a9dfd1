"""Complete, ordered listings over one or many index partitions (write-sharded listings merge here).

Each partition is read lazily page by page (``LastEvaluatedKey`` is always followed, so no page is ever
mistaken for the whole result); partitions are merged with ``heapq.merge`` on the index sort key, which is
time-ordered with an id tiebreaker, so the order is total and deterministic.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from mastra_dynamo.dynamo.client import TableClient, key_of
from mastra_dynamo.dynamo.codec import Item, string_of
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.schema.keys import Key

Predicate = Callable[[Item], bool]


@dataclass
class PartitionQuery:
    """One key condition on the table or an index; ``build`` adds the caller's filter to a fresh Expr."""

    index: str | None
    pk_attr: str
    sk_attr: str
    pk: str
    sk_between: tuple[str, str] | None = None
    sk_prefix: str | None = None
    consistent: bool = False

    @property
    def empty(self) -> bool:
        """An inverted range (e.g. start after end) matches nothing; DynamoDB would reject the BETWEEN."""
        return self.sk_between is not None and self.sk_between[0] > self.sk_between[1]

    def params(self, *, ascending: bool, expr: Expr, filter_expression: str | None,
               limit: int | None) -> dict[str, Any]:
        condition = f"{expr.name(self.pk_attr)} = {expr.s(self.pk)}"
        if self.sk_between is not None:
            lo, hi = self.sk_between
            condition += f" AND {expr.name(self.sk_attr)} BETWEEN {expr.s(lo)} AND {expr.s(hi)}"
        elif self.sk_prefix is not None:
            condition += f" AND begins_with({expr.name(self.sk_attr)}, {expr.s(self.sk_prefix)})"
        params: dict[str, Any] = {"KeyConditionExpression": condition, "ScanIndexForward": ascending}
        if self.index:
            params["IndexName"] = self.index
        elif self.consistent:
            params["ConsistentRead"] = True
        if filter_expression:
            params["FilterExpression"] = filter_expression
        if limit:
            params["Limit"] = limit
        return params


FilterBuilder = Callable[[Expr], str | None]


def _partition_items(table: TableClient, query: PartitionQuery, *, ascending: bool,
                     filter_builder: FilterBuilder, page_limit: int | None) -> Iterator[Item]:
    if query.empty:
        return
    expr = Expr()
    filter_expression = filter_builder(expr)
    params = expr.apply(query.params(ascending=ascending, expr=expr, filter_expression=filter_expression,
                                     limit=page_limit))
    yield from table.query_items(params)


def iterate(table: TableClient, queries: list[PartitionQuery], *, ascending: bool,
            filter_builder: FilterBuilder, predicate: Predicate | None = None,
            page_limit: int | None = None) -> Iterator[Item]:
    """Items of all partitions in one order (merged by each partition's sort key)."""
    streams = [
        _partition_items(table, q, ascending=ascending, filter_builder=filter_builder, page_limit=page_limit)
        for q in queries
    ]
    if len(streams) == 1:
        merged: Iterator[Item] = streams[0]
    else:
        sk_attr = queries[0].sk_attr
        merged = heapq.merge(*streams, key=lambda item: string_of(item, sk_attr), reverse=not ascending)
    if predicate is None:
        return merged
    return (item for item in merged if predicate(item))


def collect(table: TableClient, queries: list[PartitionQuery], *, ascending: bool, filter_builder: FilterBuilder,
            offset: int, limit: int | None, predicate: Predicate | None = None) -> list[Item]:
    """The items at positions [offset, offset+limit) of the merged listing (all when ``limit`` is None)."""
    if limit == 0:
        return []
    need = None if limit is None else offset + limit
    page_limit = None if need is None else min(max(need, 10), 1000)
    stream = iterate(table, queries, ascending=ascending, filter_builder=filter_builder, predicate=predicate,
                     page_limit=page_limit)
    return list(itertools.islice(stream, offset, need))


def count(table: TableClient, queries: list[PartitionQuery], *, filter_builder: FilterBuilder,
          predicate: Predicate | None = None) -> int:
    """Number of matching items: server-side COUNT when there is no in-memory predicate."""
    if predicate is not None:
        return sum(1 for _ in iterate(table, queries, ascending=True, filter_builder=filter_builder,
                                      predicate=predicate))
    total = 0
    for query in queries:
        if query.empty:
            continue
        expr = Expr()
        filter_expression = filter_builder(expr)
        params = expr.apply(query.params(ascending=True, expr=expr, filter_expression=filter_expression,
                                         limit=None))
        total += table.query_count(params)
    return total


def page_with_total(table: TableClient, queries: list[PartitionQuery], *, ascending: bool,
                    filter_builder: FilterBuilder, offset: int, limit: int | None,
                    predicate: Predicate | None = None, with_total: bool = True) -> tuple[list[Item], int | None]:
    """A page and the total number of matches, reading as little as possible:

    * an in-memory predicate needs the complete range once: total and page come from that one pass;
    * ``limit`` None (everything): the page is the whole range;
    * otherwise ``limit + 1`` items are read; when the extra item is absent the total follows from the page
      (no COUNT); when it exists and ``with_total``, a server-side COUNT adds the total;
    * without ``with_total`` the total is a lower bound (``offset + len(page) + 1`` when more follow) or None
      for an empty page past the end, which the caller resolves.
    """
    if limit == 0:
        return [], (count(table, queries, filter_builder=filter_builder, predicate=predicate)
                    if with_total else None)
    if predicate is not None:
        everything = collect(table, queries, ascending=ascending, filter_builder=filter_builder, offset=0,
                             limit=None, predicate=predicate)
        end = None if limit is None else offset + limit
        return everything[offset:end], len(everything)
    if limit is None:
        items = collect(table, queries, ascending=ascending, filter_builder=filter_builder, offset=offset,
                        limit=None)
        return items, offset + len(items)
    # one item more than the page tells whether anything follows: no COUNT when nothing does
    items = collect(table, queries, ascending=ascending, filter_builder=filter_builder, offset=offset,
                    limit=limit + 1)
    more = len(items) > limit
    items = items[:limit]
    if not more and (items or offset == 0):
        return items, offset + len(items)
    if not with_total:
        return items, (offset + len(items) + 1) if more else None
    return items, count(table, queries, filter_builder=filter_builder)


def records_of(table: TableClient, entries: list[Item], *, consistent: bool,
               alive: Callable[[Item | None], Item | None]) -> list[Item]:
    """The base-table items of index entries that project only keys (and a few attributes), in the entries'
    order: BatchGetItem, 100 keys per request. Items deleted or expired since the entry was read are left out."""
    found = table.batch_get([Key(*key_of(e)) for e in entries], consistent=consistent)
    items = (alive(found.get(key_of(e))) for e in entries)
    return [item for item in items if item is not None]
