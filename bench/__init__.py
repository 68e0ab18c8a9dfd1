"""Benchmarks of mastra-dynamo (``make bench``; results and method in docs/performance.md).

``run`` drives the parts: ``side_by_side`` (the agent workload of ``plan`` through ``workload`` and the
TypeScript peer ``node/workload.mjs``, counted by ``proxy``, compared with ``minimums``), ``cpu``, ``coldstart``,
``scale`` and ``chdb_scale``; ``report`` renders the results as markdown.
"""
