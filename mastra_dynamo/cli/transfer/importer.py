"""The import engine: the import steps in dependency order, each file replayed in batches with checkpoints."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mastra_dynamo.cli.common import fail
from mastra_dynamo.cli.transfer.format import Checkpoint, Record, read_manifest
from mastra_dynamo.cli.transfer.target import Target

if TYPE_CHECKING:
    from rich.progress import Progress

    from mastra_dynamo.store import DynamoDBStore


@dataclass(frozen=True)
class Step:
    """One import step: a file replayed through one writer (``kind`` names the file)."""

    name: str
    kind: str
    label: str
    batch: int
    method: str
    """The Target method that writes a batch of records."""


IMPORT_STEPS: tuple[Step, ...] = (
    # Messages first: a message written before its thread exists does not touch the thread's updatedAt, and
    # saving the thread afterwards sets updatedAt to the exported value even when the thread existed already.
    Step("messages", "messages", "messages", 100, "messages"),
    Step("threads", "threads", "threads", 25, "threads"),
    Step("resources", "resources", "resources", 25, "resources"),
    Step("workflow_runs", "workflow_runs", "workflow runs", 10, "workflow_runs"),
    Step("scores", "scores", "scores", 25, "scores_"),
    Step("agents", "agents", "agents", 25, "agents_"),
    Step("agent_versions", "agent_versions", "agent versions", 12, "agent_versions"),
    Step("datasets", "datasets", "datasets", 25, "datasets_"),
    Step("dataset_items", "dataset_items", "dataset item rows", 8, "dataset_items"),
    Step("dataset_versions", "dataset_versions", "dataset versions", 25, "dataset_versions"),
    Step("dataset-counters", "datasets", "datasets (item and version counters)", 25, "dataset_counters"),
    Step("experiments", "experiments", "experiments", 25, "experiments_"),
    Step("experiment_results", "experiment_results", "experiment results", 8, "experiment_results"),
    Step("experiment-counters", "experiments", "experiments (review counters, result slots)", 25,
         "experiment_counters"),
    Step("background_tasks", "background_tasks", "background tasks", 25, "background_tasks"),
    Step("observational_memory", "observational_memory", "observational memory records", 10,
         "observational_memory"),
)


def import_dir(store: DynamoDBStore, in_dir: Path, *, restart: bool = False, checkpoint_dir: Path | None = None,
               progress: Progress | None = None) -> dict[str, int]:
    """Replay an export into ``store``'s table; returns the records applied per step (resumes unless
    ``restart``). Raises CliError when a file does not hold the number of records its manifest names."""
    manifest = read_manifest(in_dir)
    target = Target(store)
    location = f"{store.table_name}|{store.endpoint_url or store.region}"
    tag = f"import-{store.table_name}-{hashlib.sha256(location.encode()).hexdigest()[:8]}"
    base = (checkpoint_dir or in_dir / ".checkpoints") / tag
    if (Checkpoint(base / f"{IMPORT_STEPS[-1].name}.json").load() or {}).get("done"):
        restart = True  # a finished import runs again (upserts); checkpoints only resume an unfinished one
    applied: dict[str, int] = {}
    for step in IMPORT_STEPS:
        if step.kind not in manifest["kinds"]:  # an optional kind an older export does not have
            applied[step.name] = 0
            continue
        expected = int(manifest["kinds"][step.kind]["records"])
        task = progress.add_task(f"import {step.label}", total=expected) if progress else None
        applied[step.name] = _import_step(target, step, in_dir / f"{step.kind}.jsonl", Checkpoint(
            base / f"{step.name}.json"), restart=restart, progress=progress, task=task)
        if applied[step.name] != expected:
            fail(f"{step.kind}.jsonl holds {applied[step.name]} records but the manifest says {expected}",
                 hint="the export directory was changed or truncated: export the table again")
    return applied


def _import_step(target: Target, step: Step, path: Path, checkpoint: Checkpoint, *, restart: bool,
                 progress: Progress | None, task: Any) -> int:
    state = None if restart else checkpoint.load()
    if state and state.get("done"):
        if progress is not None:
            progress.update(task, completed=int(state["lines"]))
        return int(state["lines"])
    skip = int(state["lines"]) if state else 0
    batch: list[Record] = []
    lines = 0

    def flush() -> None:
        if batch:
            getattr(target, step.method)(batch)
            if progress is not None:
                progress.advance(task, len(batch))
            batch.clear()
        checkpoint.save(step=step.name, lines=lines, done=False)

    if progress is not None and skip:
        progress.update(task, completed=skip)
    with open(path, "rb") as handle:
        for raw in handle:
            lines += 1
            if lines <= skip or not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except ValueError as exc:
                fail(f"{path.name} line {lines} is not JSON: {exc}", hint="export the table again")
            batch.append(record)
            if len(batch) >= step.batch:
                flush()
        flush()
    checkpoint.save(step=step.name, lines=lines, done=True)
    return lines
