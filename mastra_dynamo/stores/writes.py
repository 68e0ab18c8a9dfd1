"""Write patterns shared by the domains: write-once upserts, optimistic revisions, expired-item replacement."""

from __future__ import annotations

from typing import Any

from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.stores.base import DynamoDomain


def upsert_params(domain: DynamoDomain, item: Item, *, write_once: tuple[str, ...],
                  removable: tuple[str, ...]) -> dict[str, Any]:
    """UpdateItem that makes the stored item equal ``item`` (already stamped) except the ``write_once``
    attributes, which keep their stored value (``if_not_exists``). ``removable`` attributes absent from
    ``item`` are removed. The condition treats a logically expired item as absent (the caller then
    replaces it with a put)."""
    expr = Expr()
    sets: list[str] = []
    for name, value in item.items():
        if name in ("pk", "sk"):
            continue
        n = expr.name(name)
        v = expr.value(value)
        sets.append(f"{n} = if_not_exists({n}, {v})" if name in write_once else f"{n} = {v}")
    rev = expr.name(domain.spec.revision_attribute)
    sets.append(f"{rev} = if_not_exists({rev}, {expr.n(0)}) + {expr.n(1)}")
    removes = [expr.name(n) for n in removable if n not in item]
    if domain.spec.ttl_attribute not in item:
        removes.append(expr.name(domain.spec.ttl_attribute))
    update = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    condition = f"attribute_not_exists({expr.name('pk')}) OR {domain.not_expired(expr)}"
    return expr.apply({
        "Key": {"pk": item["pk"], "sk": item["sk"]},
        "UpdateExpression": update,
        "ConditionExpression": condition,
        "ReturnValues": "ALL_NEW",
    })


def revision_condition(domain: DynamoDomain, expr: Expr, item: Item) -> str:
    """Optimistic-concurrency condition: the item still has the revision that was read."""
    rev = expr.name(domain.spec.revision_attribute)
    old = item.get(domain.spec.revision_attribute)
    return f"{rev} = {expr.value(old)}" if old is not None else f"attribute_not_exists({rev})"


def put_replacing_expired(domain: DynamoDomain, item: Item) -> None:
    """Replace a logically expired item with a fresh one (createdAt restarts: the old one is gone)."""
    item = {**item, domain.spec.revision_attribute: {"N": "1"}}
    expr = Expr()
    t = expr.name(domain.spec.ttl_attribute)
    domain.table.call(
        "PutItem",
        **expr.apply({
            "TableName": domain.table.table_name,
            "Item": item,
            "ConditionExpression": (
                f"attribute_not_exists({expr.name('pk')}) OR {t} <= {expr.n(domain.ttl.now_epoch())}"
            ),
        }),
    )
