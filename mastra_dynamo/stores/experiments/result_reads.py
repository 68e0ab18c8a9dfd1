"""Result reads: a result by id, the results of an experiment, and the review summary."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mastra_dynamo.dynamo.expressions import Expr
from mastra_dynamo.errors import ValidationError
from mastra_dynamo.records.datasets import DatasetTenancyFilters, ListPagination
from mastra_dynamo.records.experiments import ExperimentResult, ExperimentResultsPage, ExperimentReviewCounts
from mastra_dynamo.schema import keys
from mastra_dynamo.stores import listing
from mastra_dynamo.stores.experiments import items as it
from mastra_dynamo.stores.experiments.collection import ExperimentCollection
from mastra_dynamo.validate import is_list, require_id, resolve_order


class ResultReads(ExperimentCollection):
    """Result reads and the review summary."""

    def get_experiment_result_by_id(self, *, id: str, filters: DatasetTenancyFilters | Mapping[str, Any] | None = None
                                    ) -> ExperimentResult | None:
        """The result, or None when missing, expired or outside the tenancy filters."""
        require_id(id, field="id")
        scope = it.scope(filters)
        ref = self.alive(self.table.get_item(keys.experiment_result_ref_key(id)))
        owner = it.s(ref, "experimentId") if ref is not None else None
        if owner is None:
            return None
        stored = self.alive(self.table.get_item(keys.experiment_result_key(owner, id)))
        if stored is None or not it.in_scope(stored, scope):
            return None
        return self._decode_result(stored)

    def list_experiment_results(
        self,
        *,
        experiment_id: str,
        trace_id: str | None = None,
        status: str | None = None,
        tags: Sequence[str] | None = None,
        filters: DatasetTenancyFilters | Mapping[str, Any] | None = None,
        pagination: ListPagination | Mapping[str, Any] | None = None,
        order_by: Any = None,
    ) -> ExperimentResultsPage:
        """Results of an experiment (by ``startedAt`` ascending by default; ``order_by`` field startedAt or
        createdAt). ``tags``: results carrying all of them."""
        require_id(experiment_id, field="experiment_id")
        if tags is not None and not is_list(tags):
            raise ValidationError("tags must be a list", code="INVALID_INPUT")
        scope = it.scope(filters)
        page = it.window(pagination)
        field, direction = resolve_order(order_by, allowed=("startedAt", "createdAt"), default_field="startedAt",
                                         default_direction="ASC", strict=True)
        equal = {"traceId": trace_id, "status": status, "organizationId": scope.organization_id,
                 "projectId": scope.project_id}

        def flt(expr: Expr) -> str:
            clauses = [f"{expr.name(self.spec.entity_attribute)} = {expr.s(it.ENTITY_RESULT)}", self.not_expired(expr)]
            clauses += [f"{expr.name(a)} = {expr.s(v)}" for a, v in equal.items() if v is not None]
            clauses += [f"contains({expr.name('tagSet')}, {expr.s(t)})" for t in (tags or [])]
            return " AND ".join(clauses)

        if field == "createdAt":
            query = listing.PartitionQuery(None, "pk", "sk", keys.experiment_key(experiment_id).pk,
                                           sk_prefix=keys.EXPERIMENT_RESULT_PREFIX, consistent=True)
            rows = listing.collect(self.table, [query], ascending=True, filter_builder=flt, offset=0, limit=None)
            rows.sort(key=lambda r: f"{r['createdAt']['S']}#{keys.component(r['id']['S'])}",
                      reverse=direction == "DESC")
            return ExperimentResultsPage(results=[self._decode_result(r) for r in rows[page.offset:page.end]],
                                         pagination=it.info(page, len(rows)))
        queries = [listing.PartitionQuery("gsi1", "gsi1pk", "gsi1sk", keys.experiment_results_pk(experiment_id))]
        items, total = listing.page_with_total(self.table, queries, ascending=direction == "ASC", filter_builder=flt,
                                               offset=page.offset, limit=page.limit)
        return ExperimentResultsPage(results=[self._decode_result(r) for r in items],
                                     pagination=it.info(page, total or 0))

    def get_review_summary(self, *, filters: DatasetTenancyFilters | Mapping[str, Any] | None = None
                           ) -> list[ExperimentReviewCounts]:
        """Per experiment with results: ``{experiment_id, total, needs_review, reviewed, complete}`` (from
        counters kept in the same transactions as the results)."""
        scope = it.scope(filters)
        queries = [listing.PartitionQuery("gsi3", "gsi3pk", "gsi3sk", keys.experiments_global_pk(s))
                   for s in keys.all_shards(keys.GLOBAL_SHARDS)]

        def flt(expr: Expr) -> str:
            clauses = [f"{expr.name(self.spec.entity_attribute)} = {expr.s(it.ENTITY_EXPERIMENT)}",
                       self.not_expired(expr), f"{expr.name('resultCount')} > {expr.n(0)}"]
            for attr, value in (("organizationId", scope.organization_id), ("projectId", scope.project_id)):
                if value is not None:
                    clauses.append(f"{expr.name(attr)} = {expr.s(value)}")
            return " AND ".join(clauses)

        rows = listing.collect(self.table, queries, ascending=True, filter_builder=flt, offset=0, limit=None)
        return [ExperimentReviewCounts(experiment_id=r["id"]["S"], total=it.n(r, "resultCount"),
                                       needs_review=it.n(r, "needsReview"), reviewed=it.n(r, "reviewed"),
                                       complete=it.n(r, "complete")) for r in rows]
