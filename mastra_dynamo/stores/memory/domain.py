"""What the memory domain's operations share: the counters' hints and reads of one item by key."""

from __future__ import annotations

from mastra_dynamo.dynamo.codec import Item
from mastra_dynamo.models import requests
from mastra_dynamo.models.base import UNBOUND_TABLE_NAME, TableItem, epoch_datetime
from mastra_dynamo.models.memory import ResourceItem, ThreadItem
from mastra_dynamo.schema.keys import Key
from mastra_dynamo.stores.base import DynamoDomain
from mastra_dynamo.stores.memory import counts, templates
from mastra_dynamo.stores.memory.templates import MARKER_KEY


class MemoryDomain(DynamoDomain):
    hints: counts.Hints

    def get_item(self, key: Key, *, consistent: bool) -> Item | None:
        """The item at ``key`` (one GetItem), None when it is missing or expired."""
        template = templates.request(("get", consistent), lambda: requests.get_item(
            UNBOUND_TABLE_NAME, MARKER_KEY, consistent=consistent))
        item: Item | None = self.table.call("GetItem", **template.bind(self.table.table_name, key=key)).get("Item")
        return self.alive(item)

    def replace_expired(self, item: ThreadItem | ResourceItem) -> None:
        """Replace a logically expired item with ``item`` at revision 1 (createdAt restarts: the old one is
        gone); ConflictError when the item under the key is alive."""
        item.revision = 1
        condition = TableItem.pk.does_not_exist() | (TableItem.ttl <= epoch_datetime(self.ttl.now_epoch()))
        self.table.call("PutItem", **requests.put_item(self.table.table_name, item, condition=condition))
