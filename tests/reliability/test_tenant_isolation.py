"""Tenant isolation: every read path that takes a resource_id / organization_id / project_id (include windows,
by-id lookups with a tenant, every page of a listing) returns only that tenant's data, and writes scoped by
a tenant cannot reach another tenant's records. Ids crafted to collide with another entity's key (separators,
escapes, the hash form of long ids, prefixes) address their own items, never the victim's.

Ids themselves are global (as in Mastra): a caller that passes another tenant's record id to a method that
takes no tenant argument addresses that record. Authorising callers is the application's job (SECURITY.md).
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mastra_dynamo import DynamoDBStore, NotFoundError
from mastra_dynamo.errors import ValidationError
from mastra_dynamo.schema import keys

from .conftest import SOAK, snapshot_table

BASE = datetime(2026, 3, 1, tzinfo=UTC)
LONG = "L" * 300
TENANTS = ["alice", "bob"]
CRAFTED = ["alice#", "alice%23", "alic", "ALICE", "alice ", "alice\x00", "alice#M#", "~" + "0" * 64,
           "~" + hashlib.sha256(LONG.encode()).hexdigest(), LONG, LONG + "x"]


def _seed(store: DynamoDBStore, tenant: str, n: int) -> dict[str, Any]:
    """Records of one tenant in every domain; returns their ids."""
    memory = store.get_store("memory")
    ids: dict[str, Any] = {"threads": [], "messages": [], "runs": [], "scores": []}
    for t in range(2):
        thread = f"{tenant}-t{t}"
        memory.save_thread(thread={"id": thread, "resourceId": tenant, "title": f"{tenant} title",
                                   "createdAt": BASE + timedelta(minutes=n * 10 + t)})
        ids["threads"].append(thread)
        batch = [{"id": f"{thread}-m{i}", "threadId": thread, "resourceId": tenant, "role": "user",
                  "content": f"{tenant} secret {i}", "createdAt": BASE + timedelta(seconds=n * 100 + t * 10 + i)}
                 for i in range(3)]
        memory.save_messages(messages=batch)
        ids["messages"] += [m["id"] for m in batch]
    memory.save_resource(resource={"id": tenant, "workingMemory": f"{tenant} memory"})
    wf = store.get_store("workflows")
    for r in range(2):
        wf.persist_workflow_snapshot(workflow_name="wf", run_id=f"{tenant}-run{r}", resource_id=tenant,
                                     snapshot={"status": "running", "owner": tenant})
        ids["runs"].append(f"{tenant}-run{r}")
    scores = store.get_store("scores")
    for s in range(2):
        scores.save_score(score={"id": f"{tenant}-s{s}", "scorerId": "shared-scorer", "entityId": "shared-agent",
                                 "entityType": "AGENT", "runId": "shared-run", "traceId": "tr", "spanId": "sp",
                                 "score": 0.1, "scorer": {}, "source": "TEST", "entity": {},
                                 "organizationId": tenant, "projectId": f"{tenant}-p"})
        ids["scores"].append(f"{tenant}-s{s}")
    datasets = store.get_store("datasets")
    datasets.create_dataset(id=f"{tenant}-ds", name="shared name", organization_id=tenant, project_id=f"{tenant}-p")
    item = datasets.add_item(dataset_id=f"{tenant}-ds", input={"owner": tenant})
    ids["item"] = item.id
    experiments = store.get_store("experiments")
    experiments.create_experiment(id=f"{tenant}-exp", dataset_id=f"{tenant}-ds", organization_id=tenant,
                                  project_id=f"{tenant}-p")
    experiments.add_experiment_result(id=f"{tenant}-res", experiment_id=f"{tenant}-exp", item_id=item.id,
                                      output={"owner": tenant}, status="needs-review")
    return ids


@pytest.fixture
def tenants(store: DynamoDBStore) -> dict[str, dict[str, Any]]:
    return {t: _seed(store, t, n) for n, t in enumerate(TENANTS)}


def _pages(fetch: Any, size: int) -> list[Any]:
    """Every record of a paginated listing, page by page."""
    out: list[Any] = []
    for page in itertools.count():
        got = fetch(page, size)
        out += got
        if len(got) < size:
            return out


def test_memory_reads_scoped_by_resource_see_only_that_resource(store: DynamoDBStore,
                                                                 tenants: dict[str, dict[str, Any]]) -> None:
    memory = store.get_store("memory")
    # a thread of alice that also holds one message of bob (Mastra allows it)
    memory.save_messages(messages=[{"id": "bob-in-alice", "threadId": "alice-t0", "resourceId": "bob",
                                    "role": "user", "content": "bob secret", "createdAt": BASE + timedelta(seconds=1)}])
    tenants["bob"]["messages"].append("bob-in-alice")
    for tenant, own in tenants.items():
        other = next(t for t in TENANTS if t != tenant)
        for size in (1, 2, 5):
            listed = _pages(lambda p, k, t=tenant: memory.list_threads(filter={"resourceId": t}, page=p,
                                                                        per_page=k).threads, size)
            assert sorted(t.id for t in listed) == sorted(own["threads"])
            by_resource = _pages(lambda p, k, t=tenant: memory.list_messages_by_resource_id(
                resource_id=t, page=p, per_page=k).messages, size)
            assert sorted(m.id for m in by_resource) == sorted(own["messages"])
        for thread in own["threads"] + tenants[other]["threads"]:
            scoped = memory.list_messages(thread_id=thread, resource_id=tenant, per_page=False).messages
            assert all(m.resource_id == tenant for m in scoped)
            assert memory.get_thread_by_id(thread_id=thread, resource_id=tenant) is None or thread in own["threads"]
        for message_id in own["messages"] + tenants[other]["messages"]:
            page = memory.list_messages(thread_id=own["threads"][0], resource_id=tenant, per_page=0, include=[
                {"id": message_id, "withPreviousMessages": 10, "withNextMessages": 10}])
            assert all(m.resource_id == tenant for m in page.messages)
            assert (message_id in [m.id for m in page.messages]) == (message_id in own["messages"])
        resource = memory.get_resource_by_id(resource_id=tenant)
        assert resource is not None and resource.working_memory == f"{tenant} memory"
    multi = memory.list_messages(thread_id=tenants["alice"]["threads"] + tenants["bob"]["threads"],
                                 resource_id="bob", per_page=False).messages
    assert sorted(m.id for m in multi) == sorted(tenants["bob"]["messages"])


def test_workflow_and_score_listings_scoped_by_tenant(store: DynamoDBStore,
                                                      tenants: dict[str, dict[str, Any]]) -> None:
    wf, scores = store.get_store("workflows"), store.get_store("scores")
    for tenant, own in tenants.items():
        for size in (1, 3):
            runs = _pages(lambda p, k, t=tenant: wf.list_workflow_runs(resource_id=t, page=p, per_page=k).runs, size)
            assert sorted(r.run_id for r in runs) == sorted(own["runs"])
            assert all(r.snapshot["owner"] == tenant for r in runs)
        for flt in ({"organizationId": tenant}, {"projectId": f"{tenant}-p"},
                    {"organizationId": tenant, "projectId": f"{tenant}-p"}):
            for listing in (
                lambda p, k, f=flt: scores.list_scores_by_scorer_id(scorer_id="shared-scorer", filters=f,
                                                                    pagination={"page": p, "perPage": k}).scores,
                lambda p, k, f=flt: scores.list_scores_by_run_id(run_id="shared-run", filters=f,
                                                                 pagination={"page": p, "perPage": k}).scores,
                lambda p, k, f=flt: scores.list_scores_by_entity_id(entity_id="shared-agent", entity_type="AGENT",
                                                                    filters=f,
                                                                    pagination={"page": p, "perPage": k}).scores,
                lambda p, k, f=flt: scores.list_scores_by_span(trace_id="tr", span_id="sp", filters=f,
                                                               pagination={"page": p, "perPage": k}).scores,
            ):
                assert sorted(s.id for s in _pages(listing, 1)) == sorted(own["scores"])
        mixed = scores.list_scores_by_run_id(run_id="shared-run", filters={"organizationId": tenant,
                                                                           "projectId": "bob-p"})
        assert mixed.scores == [] or tenant == "bob"


def test_dataset_and_experiment_reads_scoped_by_organization_and_project(
        store: DynamoDBStore, tenants: dict[str, dict[str, Any]]) -> None:
    datasets, experiments = store.get_store("datasets"), store.get_store("experiments")
    for tenant, own in tenants.items():
        other = next(t for t in TENANTS if t != tenant)
        theirs = tenants[other]
        for scope in ({"organizationId": tenant}, {"projectId": f"{tenant}-p"}):
            listed = datasets.list_datasets(filters=scope, pagination={"perPage": False}).datasets
            assert [d.id for d in listed] == [f"{tenant}-ds"]
            assert datasets.get_dataset_by_id(id=f"{other}-ds", filters=scope) is None
            assert datasets.list_items(dataset_id=f"{other}-ds", filters=scope).items == []
            assert datasets.list_items(dataset_id=f"{other}-ds", filters=scope, version=1).items == []
            assert datasets.get_items_by_version(dataset_id=f"{other}-ds", version=1, filters=scope) == []
            assert datasets.get_item_by_id(id=theirs["item"], filters=scope) is None
            assert datasets.get_item_by_id(id=theirs["item"], filters=scope, dataset_version=1) is None
            assert datasets.list_dataset_versions(dataset_id=f"{other}-ds", filters=scope).versions == []
            mine = datasets.get_item_by_id(id=own["item"], filters=scope)
            assert mine is not None and mine.input == {"owner": tenant}
            exps = experiments.list_experiments(filters=scope, pagination={"perPage": False}).experiments
            assert [e.id for e in exps] == [f"{tenant}-exp"]
            assert experiments.list_experiments(dataset_id=f"{other}-ds", filters=scope).experiments == []
            assert experiments.get_experiment_by_id(id=f"{other}-exp", filters=scope) is None
            assert experiments.get_experiment_result_by_id(id=f"{other}-res", filters=scope) is None
            assert experiments.list_experiment_results(experiment_id=f"{other}-exp", filters=scope).results == []
            summary = experiments.get_review_summary(filters=scope)
            assert [s.experiment_id for s in summary] == [f"{tenant}-exp"]


def test_writes_scoped_by_another_tenant_change_nothing(store: DynamoDBStore,
                                                        tenants: dict[str, dict[str, Any]]) -> None:
    datasets, experiments = store.get_store("datasets"), store.get_store("experiments")
    before = snapshot_table(store)
    scope = {"organizationId": "alice"}
    bob_item = tenants["bob"]["item"]
    for call in (
        lambda: datasets.update_dataset(id="bob-ds", name="pwned", filters=scope),
        lambda: datasets.add_item(dataset_id="bob-ds", input="pwned", filters=scope),
        lambda: datasets.batch_insert_items(dataset_id="bob-ds", items=[{"input": "pwned"}], filters=scope),
        lambda: datasets.update_item(id=bob_item, dataset_id="bob-ds", input="pwned", filters=scope),
        lambda: datasets.update_item(id=bob_item, dataset_id="alice-ds", input="pwned"),
        lambda: experiments.update_experiment(id="bob-exp", name="pwned", filters=scope),
    ):
        with pytest.raises(NotFoundError):
            call()
    datasets.delete_dataset(id="bob-ds", filters=scope)
    datasets.delete_item(id=bob_item, dataset_id="bob-ds", filters=scope)
    datasets.batch_delete_items(dataset_id="alice-ds", item_ids=[bob_item])
    datasets.purge_item(id=bob_item, dataset_id="bob-ds", filters=scope)
    experiments.delete_experiment(id="bob-exp", filters=scope)
    experiments.delete_experiment_results(experiment_id="bob-exp", filters=scope)
    with pytest.raises((ValidationError, NotFoundError)):
        experiments.add_experiment_result(experiment_id="bob-exp", item_id=bob_item, organization_id="alice")
    after = snapshot_table(store)
    assert after == before


def test_crafted_ids_address_their_own_items_never_the_victims(store: DynamoDBStore,
                                                               tenants: dict[str, dict[str, Any]]) -> None:
    memory, wf, datasets = store.get_store("memory"), store.get_store("workflows"), store.get_store("datasets")
    victim_thread, victim_message = tenants["alice"]["threads"][0], tenants["alice"]["messages"][0]
    victim = snapshot_table(store)
    crafted_threads = [victim_thread + "#", victim_thread + "#M#", victim_thread + "%23", victim_thread.upper(),
                       "~" + hashlib.sha256(victim_thread.encode()).hexdigest(), *CRAFTED]
    for n, crafted in enumerate(crafted_threads):
        assert memory.list_messages(thread_id=crafted, per_page=False).messages == []
        assert memory.get_thread_by_id(thread_id=crafted) is None
        memory.save_thread(thread={"id": crafted, "resourceId": "mallory", "title": "mallory"})
        memory.save_messages(messages=[{"id": f"mallory-{n}", "threadId": crafted, "resourceId": "mallory",
                                        "role": "user", "content": "mallory"}])
        memory.update_thread(id=crafted, title="mallory again", metadata={"x": 1})
        wf.persist_workflow_snapshot(workflow_name="wf", run_id=crafted, resource_id="mallory", snapshot={"m": 1})
        datasets.create_dataset(id=crafted, name="mallory", organization_id="mallory")
        memory.save_resource(resource={"id": crafted, "workingMemory": "mallory"})
    for crafted in ("alice-run0#", "alice-run0%23", "~" + hashlib.sha256(b"alice-run0").hexdigest()):
        assert wf.load_workflow_snapshot(workflow_name="wf", run_id=crafted) is None
    after = snapshot_table(store)
    changed = {k for k in victim if after.get(k) != victim[k]}
    assert changed == set(), f"crafted ids changed the victim's items: {sorted(changed)[:5]}"
    thread = memory.get_thread_by_id(thread_id=victim_thread)
    assert thread is not None and thread.title == "alice title"
    (message,) = memory.list_messages_by_id(message_ids=[victim_message]).messages
    assert message.thread_id == victim_thread
    assert sorted(m.id for m in memory.list_messages_by_resource_id(resource_id="alice", per_page=False).messages) \
        == sorted(tenants["alice"]["messages"])
    crafted_resources = {t.resource_id for t in memory.list_threads(filter={"resourceId": "alice"},
                                                                    per_page=False).threads}
    assert crafted_resources == {"alice"}


IDS = st.one_of(st.text(alphabet="ab#%~7E2c", max_size=8), st.text(max_size=6),
                st.sampled_from(["a" * 256, "a" * 257, "#" * 86, "~" + "0" * 64]),
                st.text(alphabet="ab#%~", min_size=250, max_size=300))


@settings(max_examples=1000 if SOAK else 200, deadline=None, database=None, derandomize=not SOAK)
@given(first=IDS, second=IDS)
def test_distinct_ids_never_share_a_key_and_components_never_hold_a_separator(first: str, second: str) -> None:
    """The key-level proof behind the database tests: escaping plus hashing is injective and separator-free."""
    assert "#" not in keys.component(first)
    if first == second:
        return
    builders = [keys.thread_key, keys.message_ref_key, keys.resource_key, keys.score_key, keys.agent_key,
                keys.dataset_key, keys.experiment_key, keys.dataset_item_ref_key, keys.experiment_result_ref_key,
                lambda i: keys.run_key("wf", i), lambda i: keys.message_key("t", BASE, i),
                lambda i: keys.dataset_item_current_key("d", i), lambda i: keys.experiment_result_key("e", i)]
    for build in builders:
        assert build(first) != build(second)
    assert keys.threads_by_resource_pk(first) != keys.threads_by_resource_pk(second)
    assert not keys.dataset_item_rows_prefix(first).startswith(keys.dataset_item_rows_prefix(second))
    assert keys.component(first) != keys.component(second)
