"""Stacks: each composes constructs from ``infra.components`` and wires them (grants, outputs)."""

from infra.stacks.memory_function_stack import MemoryFunctionStack
from infra.stacks.storage_stack import StorageStack

__all__ = ["MemoryFunctionStack", "StorageStack"]
