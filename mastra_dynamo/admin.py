"""Administrative whole-table operations (clear, export). Never used by request paths."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from mastra_dynamo.dynamo.client import TableClient
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.schema.keys import Key
from mastra_dynamo.schema.table import TABLE_SPEC


def scan_entities(table: TableClient, entities: Iterable[str]) -> Iterator[Key]:  # admin
    """Keys of every item whose entity stamp is in ``entities`` (a full-table Scan: admin only)."""
    expr = Expr()
    values = ", ".join(expr.s(e) for e in entities)
    params = expr.apply({
        "TableName": table.table_name,
        "FilterExpression": f"{expr.name(TABLE_SPEC.entity_attribute)} IN ({values})",
        "ProjectionExpression": f"{expr.name('pk')}, {expr.name('sk')}",
    })
    while True:
        page = table.call("Scan", **params)  # admin
        for item in page.get("Items", []):
            yield Key(item["pk"]["S"], item["sk"]["S"])
        last = page.get("LastEvaluatedKey")
        if not last:
            return
        params["ExclusiveStartKey"] = last
