"""Measure the Lambda handler's cold import time: ``python -m infra.measure_cold_start [--runs N]``.

Stages the function code and the dependency layer exactly as the stack does (``infra.packaging``), then, in N
fresh interpreters started like the Lambda runtime (``-S``: no site-packages, ``sys.path`` = function code +
layer; ``-B``: the read-only ``/var/task`` cannot cache bytecode), times ``import memory_api`` with
``time.perf_counter``. That import is the whole INIT phase of the handler: the library, pydantic, botocore and
the one ``DynamoDBStore`` (boto3 client) per container. No network, no credentials needed. One extra run with
``-X importtime`` lists the most expensive imports.

The Lambda runtime's own start (~100 ms) and the container's CPU share (memory size) come on top; numbers are
from this machine, so compare them with each other, not with AWS.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from infra.packaging import host_python, stage_dependencies, stage_function_code

_PROBE = (
    "import sys, time\n"
    "sys.path[:0] = [{code!r}, {deps!r}]\n"
    "t0 = time.perf_counter()\n"
    "import memory_api\n"
    "print((time.perf_counter() - t0) * 1000)\n"
)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AWS_"))}
    env.update({"MASTRA_TABLE_NAME": "mastra-cold-start", "AWS_REGION": "us-east-1", "PYTHONHASHSEED": "0"})
    return env


def measure(runs: int, workdir: Path, *, bytecode: bool = True) -> tuple[list[float], list[tuple[int, str]]]:
    python = host_python()  # measured with this interpreter: its installed dependencies are the layer
    code = stage_function_code(workdir / "function", python=python)
    deps = stage_dependencies(workdir / "dependencies", python=python, source="vendor") / "python"
    if not bytecode:  # what a cold start costs when the asset ships sources only
        for cache in [*code.rglob("__pycache__"), *deps.rglob("__pycache__")]:
            shutil.rmtree(cache)
    probe = _PROBE.format(code=str(code), deps=str(deps))
    cmd = [sys.executable, "-S", "-B", "-c", probe]
    timings = [float(subprocess.run(cmd, env=_env(), capture_output=True, text=True, check=True).stdout)
               for _ in range(runs)]
    trace = subprocess.run([sys.executable, "-S", "-B", "-X", "importtime", "-c", probe], env=_env(),
                           capture_output=True, text=True, check=True).stderr
    top: list[tuple[int, str]] = []
    for line in trace.splitlines():
        parts = line.split("|")
        name = parts[2] if len(parts) == 3 else ""
        depth = (len(name) - len(name.lstrip())) // 2
        if parts[1:] and parts[1].strip().isdigit() and depth <= 2:
            top.append((int(parts[1]), "  " * (depth - 1) + name.strip()))  # cumulative microseconds
    return timings, sorted(top, reverse=True)[:12]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--without-bytecode", action="store_true",
                        help="drop the precompiled .pyc files first (shows what precompiling saves)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mastra-cold-") as tmp:
        timings, top = measure(args.runs, Path(tmp), bytecode=not args.without_bytecode)
    label = "sources only" if args.without_bytecode else "precompiled bytecode"
    print(f"import memory_api (cold, {label}, {args.runs} fresh interpreters): "
          f"median {statistics.median(timings):.0f} ms, min {min(timings):.0f} ms, max {max(timings):.0f} ms")
    print("largest top-level imports (cumulative, one -X importtime run):")
    for micros, name in top:
        print(f"  {micros / 1000:8.1f} ms  {name}")


if __name__ == "__main__":
    main()
