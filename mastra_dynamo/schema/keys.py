"""Key builders for every entity on the table: pure functions, one prefix per entity.

Layout (see docs/access-patterns.md for the access patterns each key serves):

* Every user-supplied value becomes a key *component* through :func:`component`, which percent-escapes
  ``%``, ``#`` and ``~``. The separator ``#`` therefore never appears inside a component, so no id can
  forge another entity's key or reach into another item collection. Components longer than
  :data:`MAX_COMPONENT_BYTES` (UTF-8) are replaced by ``~`` + SHA-256 hex; an escaped component never
  starts with ``~``, so hashed and plain components cannot collide.
* Timestamps are fixed-width ISO-8601 UTC with microseconds (``2026-01-02T03:04:05.123456Z``) so that
  lexical order is time order; every time-ordered sort key ends with the entity id as tiebreaker.
* Global listings (all threads, all runs, ...) are write-sharded: the shard is a stable hash of the item id.
  Listings under one parent (runs of one workflow, scores of one scorer) are one partition each: DynamoDB
  splits a hot partition by sort-key range by itself (see docs/access-patterns.md 1.7).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

SEP = "#"
MAX_COMPONENT_BYTES = 256
GLOBAL_SHARDS = 8
"""Shards of every global listing partition (threads, runs, agents, datasets, experiments, resources)."""

_ESCAPES = str.maketrans({"%": "%25", "#": "%23", "~": "%7E"})


def component(value: str) -> str:
    """Escape one user-supplied value for use inside a key."""
    escaped = value.translate(_ESCAPES)
    if len(escaped) * 4 > MAX_COMPONENT_BYTES and len(escaped.encode("utf-8")) > MAX_COMPONENT_BYTES:
        return "~" + hashlib.sha256(value.encode("utf-8")).hexdigest()
    return escaped


def value_of(text: str) -> str | None:
    """The value a :func:`component` holds; None for a hashed one (it cannot be given back). Every ``%`` of an
    escaped component starts one of its three escapes, so they are undone one kind at a time, ``%25`` last."""
    if text.startswith("~"):
        return None
    if "%" not in text:
        return text
    return text.replace("%23", "#").replace("%7E", "~").replace("%25", "%")


def shard_of(value: str, shards: int) -> str:
    """Stable shard label (two digits) of an id."""
    digest = hashlib.sha256(value.encode("utf-8")).digest()
    return f"{int.from_bytes(digest[:4], 'big') % shards:02d}"


def all_shards(shards: int) -> list[str]:
    return [f"{i:02d}" for i in range(shards)]


def ts(value: datetime) -> str:
    """Fixed-width sortable UTC timestamp (the caller passes an aware UTC datetime). The year is always four
    digits (years before 1000 are zero-padded, which keeps both order and parsing)."""
    return (f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:{value.minute:02d}:"
            f"{value.second:02d}.{value.microsecond:06d}Z")


_TS_WIDTH = len("0001-01-01T00:00:00.000000Z")
"""Characters of every :func:`ts` text."""


@dataclass(frozen=True)
class Key:
    pk: str
    sk: str

    def as_dict(self) -> dict[str, str]:
        return {"pk": self.pk, "sk": self.sk}


# ---------------------------------------------------------------- memory
def thread_key(thread_id: str) -> Key:
    return Key(f"T#{component(thread_id)}", "T")


def thread_pk(thread_id: str) -> str:
    return f"T#{component(thread_id)}"


MESSAGE_SK_PREFIX = "M#"


def message_sk(created_at: datetime, message_id: str) -> str:
    return f"M#{ts(created_at)}#{component(message_id)}"


def message_sk_of_stamp(stamp: str, message_id: str) -> str:
    """:func:`message_sk` of the time whose :func:`ts` is ``stamp``."""
    return f"M#{stamp}#{component(message_id)}"


def message_time(sk: str) -> datetime:
    """The ``createdAt`` a message sort key (:func:`message_sk`) holds."""
    return datetime.fromisoformat(sk[len(MESSAGE_SK_PREFIX):len(MESSAGE_SK_PREFIX) + _TS_WIDTH])


def message_id_of(sk: str) -> str | None:
    """The message id a message sort key holds (None when it holds a hashed one)."""
    return value_of(sk[len(MESSAGE_SK_PREFIX) + _TS_WIDTH + 1:])


def thread_id_of(pk: str) -> str | None:
    """The thread id a thread partition key (:func:`thread_pk`) holds (None when it holds a hashed one)."""
    return value_of(pk[2:])


def message_key(thread_id: str, created_at: datetime, message_id: str) -> Key:
    return Key(thread_pk(thread_id), message_sk(created_at, message_id))


def message_sk_bounds(
    start: datetime | None, end: datetime | None, *, start_exclusive: bool = False, end_exclusive: bool = False
) -> tuple[str, str]:
    """Inclusive BETWEEN bounds on message sort keys for a createdAt range.

    ``$`` sorts right after ``#``, so ``M#<t>$`` is above every key at time ``t`` and ``M#<t>`` is below
    every key at ``t``; neither can equal a real key, so BETWEEN expresses all four bound kinds.
    """
    low = "M#" if start is None else f"M#{ts(start)}$" if start_exclusive else f"M#{ts(start)}"
    high = "M$" if end is None else f"M#{ts(end)}" if end_exclusive else f"M#{ts(end)}$"
    return low, high


def message_parts_pk(message_id: str) -> str:
    """The content parts of a message too large for one item (every generation of them)."""
    return f"MC#{component(message_id)}"


def message_part_key(message_id: str, generation: str, index: int) -> Key:
    return Key(message_parts_pk(message_id), f"{generation}#{index:04d}")


def message_ref_key(message_id: str) -> Key:
    """Pointer item: message id -> (thread, sort key). Strongly consistent by-id lookups."""
    return Key(f"MI#{component(message_id)}", "MI")


def resource_key(resource_id: str) -> Key:
    return Key(f"R#{component(resource_id)}", "R")


def threads_by_resource_pk(resource_id: str) -> str:
    """gsi1 (by createdAt) and gsi2 (by updatedAt) partition of a resource's threads."""
    return f"TR#{component(resource_id)}"


def threads_global_pk(shard: str) -> str:
    """gsi3 (by createdAt) and gsi4 (by updatedAt) partition of all threads, one per shard."""
    return f"TA#{shard}"


def messages_by_resource_pk(resource_id: str) -> str:
    """gsi5 partition of the threads that hold messages of a resource (their link items)."""
    return f"MR#{component(resource_id)}"


LINK_SK_PREFIX = "L#"
"""Sort-key prefix of a thread's resource links (before its messages, ``M#``, and the thread item, ``T``)."""


def resource_link_key(thread_id: str, resource_id: str) -> Key:
    """Link item: the thread holds (or held) messages of the resource (listed by resource on gsi5)."""
    return Key(thread_pk(thread_id), f"{LINK_SK_PREFIX}{component(resource_id)}")


def resources_global_pk(shard: str) -> str:
    """gsi3 partition of all resources (admin listing / export)."""
    return f"RA#{shard}"


def time_sk(at: datetime, *ids: str) -> str:
    """Generic time-ordered index sort key: ``<ts>#<id>[#<id>...]``."""
    return SEP.join([ts(at), *(component(i) for i in ids)])


# ---------------------------------------------------------------- workflows
def run_pk(run_id: str) -> str:
    return f"W#{component(run_id)}"


RUN_HEAD_PREFIX = "N#"


def run_key(workflow_name: str, run_id: str) -> Key:
    """Head item of a workflow run (snapshot inline, or the manifest of its chunks)."""
    return Key(run_pk(run_id), f"N#{component(workflow_name)}")


def run_index_key(workflow_name: str, run_id: str) -> Key:
    """Index entry of a workflow run: the fields its listings filter on, and the index keys. The head itself
    is not indexed, so snapshot writes do not rewrite index copies."""
    return Key(run_pk(run_id), f"I#{component(workflow_name)}")


def run_chunk_prefix(workflow_name: str, generation: str | None = None) -> str:
    """Sort-key prefix of a run's snapshot chunks (of one generation when given)."""
    base = f"C#{component(workflow_name)}#"
    return base if generation is None else f"{base}{generation}#"


def run_chunk_key(workflow_name: str, run_id: str, generation: str, index: int) -> Key:
    """One chunk of a large snapshot. Each write of a chunked snapshot uses a new ``generation``; the head
    names the generation that is live, so readers never mix chunks of two writes."""
    return Key(run_pk(run_id), f"{run_chunk_prefix(workflow_name, generation)}{index:05d}")


def runs_by_workflow_pk(workflow_name: str) -> str:
    """gsi1 partition of a workflow's runs (one partition, not sharded)."""
    return f"WN#{component(workflow_name)}"


def runs_by_resource_pk(resource_id: str) -> str:
    return f"WR#{component(resource_id)}"


def runs_global_pk(shard: str) -> str:
    return f"WA#{shard}"


def runs_by_status_pk(status: str, shard: str) -> str:
    return f"WS#{component(status)}#{shard}"


# ---------------------------------------------------------------- scores
def score_key(score_id: str) -> Key:
    return Key(f"S#{component(score_id)}", "S")


def scores_by_scorer_pk(scorer_id: str) -> str:
    """gsi1 partition of a scorer's scores (one partition, not sharded)."""
    return f"SC#{component(scorer_id)}"


def scores_by_run_pk(run_id: str) -> str:
    return f"SR#{component(run_id)}"


def scores_by_entity_pk(entity_type: str, entity_id: str) -> str:
    return f"SE#{component(entity_type)}#{component(entity_id)}"


def scores_by_span_pk(trace_id: str, span_id: str) -> str:
    return f"SS#{component(trace_id)}#{component(span_id)}"


# ---------------------------------------------------------------- agents
def agent_key(agent_id: str) -> Key:
    return Key(f"A#{component(agent_id)}", "A")


def agent_version_key(agent_id: str, version_number: int) -> Key:
    return Key(f"A#{component(agent_id)}", f"V#{version_number:010d}")


def agent_version_ref_key(version_id: str) -> Key:
    """Pointer item: version id -> agent; its conditional create makes version ids unique."""
    return Key(f"AV#{component(version_id)}", "AV")


def agents_global_pk(shard: str) -> str:
    return f"AA#{shard}"


def agents_by_author_pk(author_id: str) -> str:
    return f"AU#{component(author_id)}"


# ---------------------------------------------------------------- datasets
def dataset_key(dataset_id: str) -> Key:
    return Key(f"D#{component(dataset_id)}", "D")


def dataset_item_row_key(dataset_id: str, item_id: str, dataset_version: int) -> Key:
    """One SCD-2 history row of an item (valid from ``dataset_version``)."""
    return Key(f"D#{component(dataset_id)}", f"I#{component(item_id)}#{dataset_version:010d}")


def dataset_item_current_key(dataset_id: str, item_id: str) -> Key:
    """The current row of an item (a copy of its newest history row)."""
    return Key(f"D#{component(dataset_id)}", f"IC#{component(item_id)}")


def dataset_version_key(dataset_id: str, version: int) -> Key:
    return Key(f"D#{component(dataset_id)}", f"V#{version:010d}")


def dataset_external_id_key(dataset_id: str, external_id: str) -> Key:
    """Idempotency record for ``external_id`` inside one dataset (conditional create)."""
    return Key(f"D#{component(dataset_id)}", f"X#{component(external_id)}")


def dataset_item_ref_key(item_id: str) -> Key:
    return Key(f"DI#{component(item_id)}", "DI")


def dataset_items_pk(dataset_id: str) -> str:
    """gsi1 partition of a dataset's current items, by createdAt."""
    return f"DC#{component(dataset_id)}"


def datasets_global_pk(shard: str) -> str:
    return f"DA#{shard}"


DATASET_ITEM_ROW_PREFIX = "I#"
"""Sort-key prefix of every SCD-2 history row of a dataset (``I#`` never matches ``IC#``)."""
DATASET_ITEM_CURRENT_PREFIX = "IC#"
DATASET_VERSION_PREFIX = "V#"
DATASET_EXTERNAL_ID_PREFIX = "X#"
DATASET_ITEM_LINK_PREFIX = "L#"


def dataset_item_rows_prefix(item_id: str) -> str:
    """Sort-key prefix of the history rows of one item."""
    return f"I#{component(item_id)}#"


def dataset_item_link_key(dataset_id: str, item_id: str, experiment_id: str, result_id: str) -> Key:
    """Link from a dataset item to one experiment result that references it, in the dataset's collection.

    Written in the same transaction as the result (with a condition that the item is not purged), so
    ``purge_item`` finds every result of the item with one strongly consistent Query after it has set
    the purge flag."""
    return Key(f"D#{component(dataset_id)}",
               f"L#{component(item_id)}#{component(experiment_id)}#{component(result_id)}")


def dataset_item_links_prefix(item_id: str) -> str:
    return f"L#{component(item_id)}#"


# ---------------------------------------------------------------- experiments
def experiment_key(experiment_id: str) -> Key:
    return Key(f"E#{component(experiment_id)}", "E")


def experiment_result_key(experiment_id: str, result_id: str) -> Key:
    return Key(f"E#{component(experiment_id)}", f"ER#{component(result_id)}")


def experiment_result_slot_key(experiment_id: str, item_id: str, attempt: int) -> Key:
    """Uniqueness record for (experiment_id, item_id, attempt): upserts find their result here."""
    return Key(f"E#{component(experiment_id)}", f"EK#{component(item_id)}#{attempt:06d}")


def experiment_result_ref_key(result_id: str) -> Key:
    return Key(f"EI#{component(result_id)}", "EI")


def experiment_results_pk(experiment_id: str) -> str:
    """gsi1 partition of an experiment's results, by startedAt."""
    return f"EX#{component(experiment_id)}"


def experiments_by_dataset_pk(dataset_id: str) -> str:
    return f"ED#{component(dataset_id)}"


def experiments_global_pk(shard: str) -> str:
    return f"EA#{shard}"


EXPERIMENT_RESULT_PREFIX = "ER#"
EXPERIMENT_SLOT_PREFIX = "EK#"


# ------------------------------------------------------------------ background tasks
def background_task_key(task_id: str) -> Key:
    return Key(f"BT#{component(task_id)}", "BT")


def tasks_by_status_pk(status: str) -> str:
    """gsi5: the tasks of one status; sort key :func:`tasks_by_status_sk` (agent, then creation time)."""
    return f"BTS#{status}"


def tasks_by_status_sk(agent_id: str, created_at: datetime, task_id: str) -> str:
    return f"{component(agent_id)}{SEP}{ts(created_at)}{SEP}{component(task_id)}"


def tasks_of_agent_prefix(agent_id: str) -> str:
    """gsi5 sort-key prefix of one agent's tasks inside a status partition."""
    return f"{component(agent_id)}{SEP}"


def tasks_by_run_pk(run_id: str) -> str:
    """gsi6: the tasks of one run, by creation time (:func:`time_sk`)."""
    return f"BTR#{component(run_id)}"


# ------------------------------------------------------------------ observational memory
def om_pk(lookup_key: str) -> str:
    """Every generation of one observational-memory key (``thread:<id>`` / ``resource:<id>``) and their
    buffered chunks: one item collection."""
    return f"OM#{component(lookup_key)}"


def om_record_prefix(generation: int, created_at: datetime, record_id: str) -> str:
    """Sort-key prefix of one record and its chunks: generation, then creation time, then id. The id
    component never holds ``#``, so the prefix names exactly one record."""
    return f"G#{generation:010d}{SEP}{ts(created_at)}{SEP}{component(record_id)}{SEP}"


def om_record_sk(prefix: str) -> str:
    """The record item (after its chunks in ascending order: ``R`` > ``B``)."""
    return prefix + "R"


def om_chunk_sk(prefix: str, cycle_id: str) -> str:
    """A buffered chunk of the record, keyed by its cycle id (an append of a known cycle is a no-op)."""
    return f"{prefix}B{SEP}{component(cycle_id)}"


def om_ref_key(record_id: str) -> Key:
    """Where record ``record_id`` lives (its collection and sort-key prefix)."""
    return Key(f"OMR#{component(record_id)}", "OMR")


def om_text_part_sk(prefix: str, generation: str, index: int) -> str:
    """Slice ``index`` of text generation ``generation`` of the record (after the record: ``T`` > ``R``)."""
    return f"{prefix}T{SEP}{generation}{SEP}{index:05d}"


# ------------------------------------------------------------------ run fencing
def run_owner_key(run_id: str) -> Key:
    """The workflow run's ownership claim (generation, owner, lease)."""
    return Key(f"RO#{component(run_id)}", "RO")


def memory_run_fence_key(run_id: str) -> Key:
    """The memory domain's fence of a run (generation, owner, retiredAt)."""
    return Key(f"RF#{component(run_id)}", "RF")
