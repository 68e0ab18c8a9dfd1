"""Datasets domain on DynamoDB: datasets, SCD-2 versioned items, dataset versions."""

from mastra_dynamo.stores.datasets.store import DynamoDatasetsStore

__all__ = ["DynamoDatasetsStore"]
