"""export / import: JSON Lines in Mastra's shapes, round trip, idempotence, resumption."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mastra_dynamo import DynamoDBStore
from mastra_dynamo.cli import transfer
from tests.conftest import Backend, make_store

from .conftest import populate, read_lines, run


@pytest.fixture
def second_table(backend: Backend) -> Any:
    store = make_store(backend)
    store.create_table()
    store.init()
    try:
        yield store
    finally:
        store.delete_table()
        store.close()


def export(runner: CliRunner, backend: Backend, table: str, out: Path, *extra: str) -> Any:
    return run(runner, backend, "export", "--out", str(out), "--table", table, extra=extra)


def import_(runner: CliRunner, backend: Backend, table: str, source: Path, *extra: str) -> Any:
    return run(runner, backend, "import", "--from", str(source), "--table", table, extra=extra)


def assert_same_files(a: Path, b: Path) -> None:
    for kind in transfer.KINDS:
        assert (a / kind.file).read_bytes() == (b / kind.file).read_bytes(), kind.name


def test_round_trip_every_domain_and_idempotent_import(runner: CliRunner, backend: Backend, store: DynamoDBStore,
                                 second_table: DynamoDBStore, tmp_path: Path) -> None:
    populate(store)
    first, second = tmp_path / "a", tmp_path / "b"
    result = export(runner, backend, store.table_name, first)
    assert result.exit_code == 0, result.output
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["format"] == "mastra-dynamo-export" and manifest["table"] == store.table_name
    counts = {k: v["records"] for k, v in manifest["kinds"].items()}
    assert all(counts[k.name] > 0 for k in transfer.KINDS), counts
    assert counts["threads"] == 11 and counts["messages"] == 4 + 10 * 2 + 1 and counts["scores"] == 7
    for kind in transfer.KINDS:
        assert len(read_lines(first / kind.file)) == counts[kind.name]

    result = import_(runner, backend, second_table.table_name, first)
    assert result.exit_code == 0, result.output
    assert "Imported" in result.output
    result = export(runner, backend, second_table.table_name, second)
    assert result.exit_code == 0, result.output
    assert_same_files(first, second)

    # The recomputed counters and pointers work through the domains' own reads on the imported table.
    source, target = store, second_table
    if True:
        ds_a, ds_b = source.get_store("datasets"), target.get_store("datasets")
        page_a = ds_a.list_items(dataset_id="ds-t1")
        page_b = ds_b.list_items(dataset_id="ds-t1")
        assert page_b.pagination.total == page_a.pagination.total == 3  # 4 added, 1 deleted (1 purged stays)
        assert [i.id for i in page_b.items] == [i.id for i in page_a.items]
        versions = ds_b.list_dataset_versions(dataset_id="ds-t1")
        assert versions.pagination.total == ds_a.list_dataset_versions(dataset_id="ds-t1").pagination.total
        item = page_a.items[0]
        assert ds_b.get_item_by_id(id=item.id) == ds_a.get_item_by_id(id=item.id)
        ex_a, ex_b = source.get_store("experiments"), target.get_store("experiments")
        summary_a = sorted((r.model_dump() for r in ex_a.get_review_summary()), key=lambda r: r["experiment_id"])
        summary_b = sorted((r.model_dump() for r in ex_b.get_review_summary()), key=lambda r: r["experiment_id"])
        assert summary_b == summary_a and len(summary_a) == 2
        memory = target.get_store("memory")
        assert memory.list_messages(thread_id="t-t1-0", per_page=False).total == 3
        assert memory.list_messages_by_id(message_ids=["m-t1-1-1"]).messages[0].thread_id == "t-t1-1"
        wf = target.get_store("workflows").load_workflow_snapshot(workflow_name="big", run_id="big-t1")
        assert len(wf["context"]["blob"]) == 9_000
        agents = target.get_store("agents")
        resolved = agents.get_by_id_resolved(id="trip-agent-t1")
        assert resolved is not None and resolved.status == "published"
        assert agents.get_version(id=resolved.resolved_version_id or "") is not None

    # Idempotent: running the finished import again upserts every record once more and gives the same table.
    result = import_(runner, backend, second_table.table_name, first)
    assert result.exit_code == 0, result.output
    result = export(runner, backend, second_table.table_name, tmp_path / "c")
    assert result.exit_code == 0, result.output
    assert_same_files(first, tmp_path / "c")


class Boom(RuntimeError):
    pass


def test_export_and_import_resume_after_a_failure(runner: CliRunner, backend: Backend, store: DynamoDBStore,
                                                   second_table: DynamoDBStore, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    populate(store)
    assert export(runner, backend, store.table_name, tmp_path / "reference").exit_code == 0
    monkeypatch.setattr(transfer, "CHECKPOINT_EVERY", 5)
    original = transfer.Source.stream

    def failing(self: transfer.Source, kind: str, after: Any) -> Any:
        for n, entry in enumerate(original(self, kind, after)):
            if kind == "messages" and after is None and n == 17:
                raise Boom("connection lost")
            yield entry

    monkeypatch.setattr(transfer.Source, "stream", failing)
    with pytest.raises(Boom):
        export(runner, backend, store.table_name, tmp_path / "a")
    assert not (tmp_path / "a" / "manifest.json").exists()
    result = import_(runner, backend, second_table.table_name, tmp_path / "a")
    assert result.exit_code == 2 and "no finished export" in result.output
    checkpoint = json.loads((tmp_path / "a" / ".checkpoints" / "export" / "messages.json").read_text())
    assert checkpoint["lines"] == 15 and not checkpoint["done"]
    result = export(runner, backend, store.table_name, tmp_path / "a")  # resumes
    assert result.exit_code == 0, result.output
    assert_same_files(tmp_path / "reference", tmp_path / "a")
    monkeypatch.setattr(transfer.Source, "stream", original)

    calls = {"n": 0}
    original_write = transfer.Target.dataset_items

    def flaky(self: transfer.Target, records: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise Boom("throttled")
        original_write(self, records)

    monkeypatch.setattr(transfer.Target, "dataset_items", flaky)
    with pytest.raises(Boom):
        import_(runner, backend, second_table.table_name, tmp_path / "a")
    result = import_(runner, backend, second_table.table_name, tmp_path / "a")
    assert result.exit_code == 0, result.output
    assert export(runner, backend, second_table.table_name, tmp_path / "b").exit_code == 0
    assert_same_files(tmp_path / "reference", tmp_path / "b")


def test_import_into_a_missing_table_says_what_to_do(runner: CliRunner, backend: Backend, store: DynamoDBStore,
                                                    tmp_path: Path) -> None:
    assert export(runner, backend, store.table_name, tmp_path / "a").exit_code == 0
    missing = f"missing-{uuid.uuid4().hex[:8]}"
    result = import_(runner, backend, missing, tmp_path / "a")
    assert result.exit_code == 1
    assert "table create" in result.output


def test_import_rejects_a_directory_without_an_export(runner: CliRunner, backend: Backend, store: DynamoDBStore,
                                                      tmp_path: Path) -> None:
    result = import_(runner, backend, store.table_name, tmp_path)
    assert result.exit_code == 2
    assert "manifest.json" in result.output
