"""The export format: format constants, entity kinds and their files, JSON Lines records, the manifest and
checkpoint files."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mastra_dynamo.cli.common import EXIT_USAGE, fail

FORMAT = "mastra-dynamo-export"
FORMAT_VERSION = 1
PAGE_LIMIT = 500
Position = list[str]
Record = dict[str, Any]


# ---------------------------------------------------------------- kinds
@dataclass(frozen=True)
class Kind:
    name: str
    domain: str
    description: str
    optional: bool = False
    """Added after the first exports: an export without this file imports as if it were empty."""

    @property
    def file(self) -> str:
        return f"{self.name}.jsonl"


KINDS: tuple[Kind, ...] = (
    Kind("threads", "memory", "threads (StorageThreadType)"),
    Kind("messages", "memory", "messages (MastraDBMessage, v2 content)"),
    Kind("resources", "memory", "resources with working memory (StorageResourceType)"),
    Kind("workflow_runs", "workflows", "workflow runs with their snapshots (WorkflowRun)"),
    Kind("scores", "scores", "scores (ScoreRowData)"),
    Kind("agents", "agents", "stored agents (StorageAgentType)"),
    Kind("agent_versions", "agents", "agent versions (snapshot configs)"),
    Kind("datasets", "datasets", "datasets (DatasetRecord)"),
    Kind("dataset_items", "datasets", "dataset item history rows (SCD-2: validTo, isDeleted)"),
    Kind("dataset_versions", "datasets", "dataset versions"),
    Kind("experiments", "experiments", "experiments"),
    Kind("experiment_results", "experiments", "experiment results"),
    Kind("background_tasks", "backgroundTasks", "background tasks (BackgroundTask)", optional=True),
    Kind("observational_memory", "memory", "observational memory records with their buffered chunks "
         "(ObservationalMemoryRecord)", optional=True),
)
KIND_NAMES = tuple(k.name for k in KINDS)


def dump_line(record: Mapping[str, Any]) -> bytes:
    """One JSON Lines record: compact, sorted keys (byte-stable for equal records), UTF-8."""
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n").encode("utf-8")


# ---------------------------------------------------------------- checkpoints
class Checkpoint:
    """A small JSON state file, replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def save(self, **state: Any) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, sort_keys=True), "utf-8")
        os.replace(tmp, self.path)

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


# ---------------------------------------------------------------- manifest
def read_manifest(in_dir: Path) -> dict[str, Any]:
    path = in_dir / "manifest.json"
    if not path.is_file():
        partial = (in_dir / ".checkpoints" / "export").is_dir()
        fail(f"{in_dir} holds no finished export (no manifest.json)",
             hint="run `mastra-dynamo export --out DIR` again to finish it (it resumes)" if partial else
             "pass the directory written by `mastra-dynamo export --out DIR`", exit_code=EXIT_USAGE)
    try:
        manifest: dict[str, Any] = json.loads(path.read_text("utf-8"))
    except ValueError as exc:
        fail(f"{path} is not valid JSON: {exc}", hint="re-run the export", exit_code=EXIT_USAGE)
    if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
        fail(f"{path} is not a {FORMAT} v{FORMAT_VERSION} manifest",
             hint="export the table again with this version of mastra-dynamo", exit_code=EXIT_USAGE)
    for kind in KINDS:
        if kind.optional and kind.name not in manifest.get("kinds", {}):
            continue
        if kind.name not in manifest.get("kinds", {}) or not (in_dir / kind.file).is_file():
            fail(f"{in_dir} lacks {kind.file}", hint="re-run the export with --restart", exit_code=EXIT_USAGE)
    return manifest
