"""Reuse the datasets fixtures (experiments reference dataset items)."""

from tests.conformance.datasets.conftest import clocked, datasets, experiments

__all__ = ["clocked", "datasets", "experiments"]
