"""The export engine: every kind written to its JSON Lines file with checkpoints, then the manifest."""

from __future__ import annotations

import contextlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mastra_dynamo.cli.transfer.format import FORMAT, FORMAT_VERSION, KINDS, Checkpoint, Kind, dump_line
from mastra_dynamo.cli.transfer.source import Source

if TYPE_CHECKING:
    from rich.progress import Progress

    from mastra_dynamo.store import DynamoDBStore


def export_table(store: DynamoDBStore, out_dir: Path, *, restart: bool = False,
                 progress: Progress | None = None) -> dict[str, int]:
    """Export every kind into ``out_dir``; returns the record count per kind. Resumes unless ``restart``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / "manifest.json"
    if manifest_path.exists():
        restart = True  # a finished export is exported again; checkpoints only resume an unfinished one
    if restart:
        with contextlib.suppress(FileNotFoundError):
            manifest_path.unlink()
    source = Source(store)
    counts: dict[str, int] = {}
    for kind in KINDS:
        task = progress.add_task(f"export {kind.name}", total=None) if progress else None
        counts[kind.name] = _export_kind(source, kind, out_dir, restart=restart, progress=progress, task=task)
        if progress is not None and task is not None:
            progress.update(task, total=counts[kind.name], completed=counts[kind.name])
    manifest = {
        "format": FORMAT, "version": FORMAT_VERSION, "table": store.table_name,
        "exportedAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "kinds": {k.name: {"file": k.file, "records": counts[k.name], "domain": k.domain,
                           "description": k.description} for k in KINDS},
    }
    tmp = manifest_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", "utf-8")
    os.replace(tmp, manifest_path)
    return counts


def _export_kind(source: Source, kind: Kind, out_dir: Path, *, restart: bool, progress: Progress | None,
                 task: Any) -> int:
    from mastra_dynamo.cli import transfer  # CHECKPOINT_EVERY is a setting of the package, read at call time

    data_path = out_dir / kind.file
    checkpoint = Checkpoint(out_dir / ".checkpoints" / "export" / f"{kind.name}.json")
    state = None if restart else checkpoint.load()
    if state and state.get("done") and data_path.exists() and data_path.stat().st_size == state.get("bytes"):
        return int(state["lines"])  # finished by an earlier run
    lines, after, mode = 0, None, "wb"
    if state and data_path.exists() and data_path.stat().st_size >= int(state.get("bytes", 0)):
        lines, after, mode = int(state["lines"]), state.get("last"), "r+b"
    with open(data_path, mode) as handle:
        if mode == "r+b":
            handle.truncate(int(state["bytes"]) if state else 0)
            handle.seek(0, os.SEEK_END)
        if progress is not None and lines:
            progress.update(task, completed=lines)
        last = after
        for position, record in source.stream(kind.name, after):
            handle.write(dump_line(record))
            lines += 1
            last = position
            if progress is not None:
                progress.advance(task)
            if lines % transfer.CHECKPOINT_EVERY == 0:
                handle.flush()
                os.fsync(handle.fileno())
                checkpoint.save(kind=kind.name, lines=lines, bytes=handle.tell(), last=last, done=False)
        handle.flush()
        os.fsync(handle.fileno())
        checkpoint.save(kind=kind.name, lines=lines, bytes=handle.tell(), last=last, done=True)
    return lines
