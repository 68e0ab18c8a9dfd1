"""Whole-table reads of the command line tools (export, migration, exact item counts): admin operations only.

Like ``mastra_dynamo.admin``, nothing here is on a request path of the library. A Scan reads every item of a
table (one request per MB); run these commands with an operator's credentials (the application's IAM grant
leaves out ``dynamodb:Scan``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from mastra_dynamo.dynamo.client import TableClient
from mastra_dynamo.dynamo.codec import Item


def scan_items(table: TableClient, *, filter_expression: str | None = None,
               names: Mapping[str, str] | None = None, values: Mapping[str, Any] | None = None,
               projection: str | None = None, start_key: Item | None = None,
               page_size: int | None = None) -> Iterator[Item]:  # admin: export / migration / counts
    """Every item of the table that matches the filter, page by page (constant memory).

    ``start_key`` resumes after that item (a key returned earlier): DynamoDB continues the Scan from it.
    """
    params: dict[str, Any] = {"TableName": table.table_name}
    if filter_expression:
        params["FilterExpression"] = filter_expression
    if projection:
        params["ProjectionExpression"] = projection
    if names:
        params["ExpressionAttributeNames"] = dict(names)
    if values:
        params["ExpressionAttributeValues"] = dict(values)
    if start_key:
        params["ExclusiveStartKey"] = start_key
    if page_size:
        params["Limit"] = page_size
    while True:
        page = table.call("Scan", **params)  # admin: whole-table read for export / migration / counts
        yield from page.get("Items", [])
        last = page.get("LastEvaluatedKey")
        if not last:
            return
        params["ExclusiveStartKey"] = last


def count_by_attribute(table: TableClient, attribute: str, *,
                       progress: Callable[[int], None] | None = None) -> dict[str, int]:  # admin: exact counts
    """Number of items per value of ``attribute`` (items without it count under ``""``); ``progress`` is told
    the number of items counted so far every 1,000 items."""
    counts: dict[str, int] = {}
    for seen, item in enumerate(scan_items(table, projection="#a", names={"#a": attribute}), start=1):
        value = item.get(attribute, {})
        key = str(value.get("S", "")) if isinstance(value, dict) else ""
        counts[key] = counts.get(key, 0) + 1
        if progress is not None and seen % 1000 == 0:
            progress(seen)
    return counts
