"""The item collection ``E#<experimentId>`` bound to the store: building and decoding experiment and result
items, and deleting the items an experiment's results leave (results, slots, pointers, dataset links).
"""

from __future__ import annotations

from mastra_dynamo.dynamo.codec import Item, check_item_size
from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.records.experiments import Experiment, ExperimentResult
from mastra_dynamo.schema import keys
from mastra_dynamo.schema.keys import Key
from mastra_dynamo.stores import listing
from mastra_dynamo.stores.base import DynamoDomain
from mastra_dynamo.stores.experiments import items as it


class ExperimentCollection(DynamoDomain):
    """Item building and decoding bound to the store, and the delete of an experiment's children."""

    def _experiment_item(self, record: Experiment, *, expires_at: int | None) -> Item:
        key = keys.experiment_key(record.id)
        item: Item = {"pk": {"S": key.pk}, "sk": {"S": key.sk},
                      **it.encode_fields(record, it.EXPERIMENT_FIELDS, entity="experiment")}
        for counter in it.REVIEW_COUNTERS:
            item[counter] = {"N": "0"}
        sk = keys.time_sk(record.created_at, record.id)
        item["gsi3pk"] = {"S": keys.experiments_global_pk(keys.shard_of(record.id, keys.GLOBAL_SHARDS))}
        item["gsi3sk"] = {"S": sk}
        if record.dataset_id is not None:
            item["gsi2pk"] = {"S": keys.experiments_by_dataset_pk(record.dataset_id)}
            item["gsi2sk"] = {"S": sk}
        return self.stamp(item, it.ENTITY_EXPERIMENT, expires_at=expires_at)

    @staticmethod
    def _decode_experiment(item: Item) -> Experiment:
        return Experiment.model_validate(it.decode_fields(item, it.EXPERIMENT_FIELDS))

    def _result_item(self, record: ExperimentResult, *, rev: int, link_dataset_id: str | None,
                     expires_at: int | None) -> Item:
        key = keys.experiment_result_key(record.experiment_id, record.id)
        item: Item = {"pk": {"S": key.pk}, "sk": {"S": key.sk},
                      **it.encode_fields(record, it.RESULT_FIELDS, entity="result")}
        if record.tags:
            item["tagSet"] = {"SS": sorted(set(record.tags))}
        if link_dataset_id is not None:
            item["linkDatasetId"] = {"S": link_dataset_id}
        item[self.spec.revision_attribute] = {"N": str(rev)}
        item["gsi1pk"] = {"S": keys.experiment_results_pk(record.experiment_id)}
        item["gsi1sk"] = {"S": keys.time_sk(record.started_at, record.id)}
        item = self.stamp(item, it.ENTITY_RESULT, expires_at=expires_at)
        check_item_size(item, entity="experiment result", entity_id=record.id)
        return item

    @staticmethod
    def _decode_result(item: Item) -> ExperimentResult:
        return ExperimentResult.model_validate(it.decode_fields(item, it.RESULT_FIELDS))

    def _delete_children(self, experiment_id: str) -> None:
        """Delete results, slots, result pointers and dataset links of an experiment."""
        query = listing.PartitionQuery(None, "pk", "sk", keys.experiment_key(experiment_id).pk,
                                       sk_between=(keys.EXPERIMENT_SLOT_PREFIX, "ER$"), consistent=True)
        expr = Expr()
        params = expr.apply({**query.params(ascending=True, expr=expr, filter_expression=None, limit=None),
                             "ProjectionExpression": ", ".join(expr.name(a) for a in (
                                 "pk", "sk", "id", "itemId", "linkDatasetId"))})
        deletes: list[Key] = []
        for row in self.table.query_items(params):
            deletes.append(Key(row["pk"]["S"], row["sk"]["S"]))
            if row["sk"]["S"].startswith(keys.EXPERIMENT_RESULT_PREFIX) and "id" in row:
                result_id = row["id"]["S"]
                deletes.append(keys.experiment_result_ref_key(result_id))
                dataset_id, item_id = it.s(row, "linkDatasetId"), it.s(row, "itemId")
                if dataset_id is not None and item_id is not None:
                    deletes.append(keys.dataset_item_link_key(dataset_id, item_id, experiment_id, result_id))
        self.table.batch_write(deletes=deletes)
