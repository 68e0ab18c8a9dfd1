"""Expression building with generated placeholders (never user text inside an expression)."""

from __future__ import annotations

from typing import Any

from mastra_dynamo.dynamo.codec import AttributeValue


class Expr:
    """Collects ExpressionAttributeNames/Values for one request; hands out placeholders."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, AttributeValue] = {}
        self._name_ids: dict[str, str] = {}

    def name(self, attribute: str) -> str:
        placeholder = self._name_ids.get(attribute)
        if placeholder is None:
            placeholder = f"#n{len(self._name_ids)}"
            self._name_ids[attribute] = placeholder
            self.names[placeholder] = attribute
        return placeholder

    def value(self, attr_value: AttributeValue) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = attr_value
        return placeholder

    def s(self, text: str) -> str:
        return self.value({"S": text})

    def n(self, number: int | str) -> str:
        return self.value({"N": str(number)})

    def apply(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.names:
            params["ExpressionAttributeNames"] = self.names
        if self.values:
            params["ExpressionAttributeValues"] = self.values
        return params

    def not_expired(self, ttl_attribute: str, now_epoch: int) -> str:
        """Condition/filter: the item has no TTL or its TTL lies in the future."""
        t = self.name(ttl_attribute)
        return f"(attribute_not_exists({t}) OR {t} > {self.n(now_epoch)})"
