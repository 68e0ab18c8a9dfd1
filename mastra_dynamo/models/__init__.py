"""PynamoDB models of the table, derived from the TableSpec: the data layer of the domains.

* ``models.base.TableItem``: what every item has (keys, ``_et`` discriminator, ``_sv``, ``ttl``, the GSIs);
  entity models subclass it (``models.scores.ScoreItem``, ...).
* ``models.requests``: DynamoDB requests built from the models by PynamoDB, sent by ``TableClient``.
* ``models.table``: the CreateTable request of the models' table (``DynamoDBStore.create_table``).

``import mastra_dynamo`` does not import this package (nor PynamoDB); the domain stores that use it do.
"""

from mastra_dynamo.models.table import create_table_request, model_schema

__all__ = ["create_table_request", "model_schema"]
