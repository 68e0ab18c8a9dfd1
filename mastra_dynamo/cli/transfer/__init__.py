"""`mastra-dynamo export` / `mastra-dynamo import`: every domain to and from JSON Lines in Mastra's JSON shapes.

Layout of an export directory::

    manifest.json               format, source table, record count per file (written last: a directory
                                without it holds an unfinished export)
    threads.jsonl ...           one file per entity kind, one record per line (Mastra's JSON, sorted keys)
    .checkpoints/export/*.json  per kind: lines and bytes written, the key of the last record, done
    .checkpoints/import-<table>-<hash>/*.json   per import step and target table: lines imported, done

**Export** streams: every kind is read page by page with the same Queries the domains' listings use (the
write-sharded global partitions merged in index order, each parent's item collection for its children), so
memory stays constant whatever the table's size. Scores have no global listing; they are read with an
admin Scan of their entity stamp (``mastra_dynamo.cli.admin``: the whole table is read once). Each kind's
checkpoint is updated every few hundred lines: an interrupted export resumes after the last checkpointed key
(the file is cut back to the checkpointed size first); a finished one is exported again from the start.
Expired items (TTL passed) are not exported.

**Import** replays the files in dependency order. Every write is an upsert (an UpdateItem through the
domain's own save method, or a PutItem of the item the domain itself would store), so running it again, whole
or resumed after the last checkpointed line, leaves the same table. Records keep their ids and timestamps;
retention (``ttl``) comes from the target's ``--ttl`` policy, as for new writes. Counters the JSON shapes do
not carry (dataset item and version counts, experiment result counters and result slots) are recomputed from
the imported rows in a last step per domain.

The package: ``format`` (kinds, files, manifest, checkpoints), ``source`` (reading the table), ``target``
(writing the table), ``export`` and ``importer`` (the two engines), ``commands`` (the click commands).
"""

from __future__ import annotations

from mastra_dynamo.cli.transfer.commands import _open, export_command, import_command
from mastra_dynamo.cli.transfer.export import export_table
from mastra_dynamo.cli.transfer.format import (
    FORMAT,
    FORMAT_VERSION,
    KIND_NAMES,
    KINDS,
    PAGE_LIMIT,
    Checkpoint,
    Kind,
    Position,
    Record,
    dump_line,
    read_manifest,
)
from mastra_dynamo.cli.transfer.importer import IMPORT_STEPS, Step, import_dir
from mastra_dynamo.cli.transfer.source import Source
from mastra_dynamo.cli.transfer.target import Target, score_item

CHECKPOINT_EVERY = 200
"""Lines written to an export file between two of its checkpoints (``export`` reads it here, at call time)."""

__all__ = [
    "CHECKPOINT_EVERY",
    "FORMAT",
    "FORMAT_VERSION",
    "IMPORT_STEPS",
    "KINDS",
    "KIND_NAMES",
    "PAGE_LIMIT",
    "Checkpoint",
    "Kind",
    "Position",
    "Record",
    "Source",
    "Step",
    "Target",
    "_open",
    "dump_line",
    "export_command",
    "export_table",
    "import_command",
    "import_dir",
    "read_manifest",
    "score_item",
]
