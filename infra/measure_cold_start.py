"""Size of the Lambda assets and the handler's cold import: ``python -m infra.measure_cold_start``.

The README's figures come from this command (``make layer-report`` runs it). It stages the function code and the
dependency layer exactly as ``cdk synth`` does (``infra.packaging``, source ``lock``, from ``.tools/wheelhouse``
when ``make wheelhouse`` filled it: no network), in both variants: the default (the AWS SDK left to the runtime)
and ``mastra:layerBoto=true`` (the lock's boto3/botocore bundled). For each it reports the file count, the
unzipped size (the sum of the file sizes, what Lambda's 250 MB quota counts) and the size of a deflate zip.

Then, when this machine has an interpreter of the runtime's Python (this one when it matches, else
``pythonX.Y`` on PATH or under pyenv; ``infra.packaging.find_interpreter``), it times ``import memory_api`` in N
fresh interpreters started like the Lambda runtime: ``-S`` (no site-packages), ``-B`` (``/var/task`` and
``/opt`` are read-only, nothing is cached), ``sys.path`` = function code, layer, then a stand-in for the
runtime's own SDK (the boto3/botocore of this environment, precompiled: ``stage_runtime_sdk``). That import is
the whole INIT phase of the handler: the library, pydantic, botocore and the one ``DynamoDBStore`` (botocore
client) per container. No network, no credentials needed. ``--importtime`` adds one ``-X importtime`` run and
lists the most expensive imports.

The Lambda runtime's own start (~100 ms) and the container's CPU share (memory size) come on top; numbers are
from this machine, so compare them with each other, not with AWS.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from infra.packaging import (
    DEFAULT_PYTHON,
    LAYER_SIZE_GOAL,
    REPO_ROOT,
    SUPPORTED_PYTHONS,
    LayerSize,
    find_interpreter,
    layer_size,
    stage_dependencies,
    stage_function_code,
    stage_runtime_sdk,
)

WHEELHOUSE = REPO_ROOT / ".tools" / "wheelhouse"
VARIANTS = {"default (SDK from the runtime)": False, "mastra:layerBoto=true": True}

_PROBE = (
    "import sys, time, json\n"
    "sys.path[:0] = {path!r}\n"
    "t0 = time.perf_counter()\n"
    "import memory_api\n"
    "elapsed = (time.perf_counter() - t0) * 1000\n"
    "print(json.dumps({{'ms': elapsed, 'botocore': sys.modules['botocore'].__file__}}))\n"
)


@dataclass(frozen=True)
class Variant:
    name: str
    size: LayerSize
    timings: list[float]
    botocore: str | None
    """Where ``import memory_api`` found botocore: the layer or the runtime stand-in."""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AWS_"))}
    env.update({"MASTRA_TABLE_NAME": "mastra-cold-start", "AWS_REGION": "us-east-1", "PYTHONHASHSEED": "0"})
    return env


def _drop_bytecode(*roots: Path) -> None:
    for root in roots:
        for cache in list(root.rglob("__pycache__")):
            shutil.rmtree(cache)


def _time_import(interpreter: str, path: list[str]) -> tuple[float, str]:
    """One cold ``import memory_api``: milliseconds, and where botocore came from."""
    done = subprocess.run([interpreter, "-S", "-B", "-c", _PROBE.format(path=path)], env=_env(),
                          capture_output=True, text=True, check=True)
    result = json.loads(done.stdout)
    return float(result["ms"]), str(result["botocore"])


def _import_trace(interpreter: str, path: list[str]) -> list[tuple[int, str]]:
    probe = _PROBE.format(path=path)
    trace = subprocess.run([interpreter, "-S", "-B", "-X", "importtime", "-c", probe], env=_env(),
                           capture_output=True, text=True, check=True).stderr
    top: list[tuple[int, str]] = []
    for line in trace.splitlines():
        parts = line.split("|")
        name = parts[2] if len(parts) == 3 else ""
        depth = (len(name) - len(name.lstrip())) // 2
        if parts[1:] and parts[1].strip().isdigit() and depth <= 2:
            top.append((int(parts[1]), "  " * (depth - 1) + name.strip()))  # cumulative microseconds
    return sorted(top, reverse=True)[:12]


def measure(workdir: Path, *, python: str = DEFAULT_PYTHON, runs: int = 10, wheelhouse: Path | None = None,
            bytecode: bool = True, importtime: bool = False) -> tuple[LayerSize, list[Variant], str | None,
                                                                     list[tuple[int, str]]]:
    """Stage both layer variants for ``python`` under ``workdir``; size them and, with an interpreter of that
    Python here, time the handler's cold import ``runs`` times with each (the variants take turns, so a busy
    machine slows both alike). Returns the function code's size, the variants, the interpreter used (None: no
    timings) and the ``-X importtime`` top list (default layer)."""
    code = stage_function_code(workdir / "function", python=python)
    layers = {name: stage_dependencies(workdir / f"layer-{include_boto}", python=python, source="lock",
                                       wheelhouse=wheelhouse, include_boto=include_boto)
              for name, include_boto in VARIANTS.items()}
    if not bytecode:
        _drop_bytecode(code, *layers.values())
    interpreter = find_interpreter(python)
    timings: dict[str, list[float]] = {name: [] for name in layers}
    locations: dict[str, str] = {}
    trace: list[tuple[int, str]] = []
    if interpreter is not None:
        runtime = stage_runtime_sdk(workdir / "runtime", python=python)
        paths = {name: [str(code), str(layer / "python"), str(runtime)] for name, layer in layers.items()}
        for _ in range(runs):
            for name, path in paths.items():
                elapsed, locations[name] = _time_import(interpreter, path)
                timings[name].append(elapsed)
        if importtime:
            trace = _import_trace(interpreter, next(iter(paths.values())))
    variants = [Variant(name=name, size=layer_size(layer, zipped=True), timings=timings[name],
                        botocore=locations.get(name)) for name, layer in layers.items()]
    return layer_size(code, zipped=True), variants, interpreter, trace


def _mb(size: int | None) -> str:
    return "-" if size is None else f"{size / 1e6:.1f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--python", default=DEFAULT_PYTHON, choices=SUPPORTED_PYTHONS,
                        help="the runtime's Python (mastra:lambdaPython); default %(default)s")
    parser.add_argument("--runs", type=int, default=10, help="fresh interpreters per variant; default %(default)s")
    parser.add_argument("--wheelhouse", type=Path, default=WHEELHOUSE if WHEELHOUSE.is_dir() else None,
                        help="wheels for pip (offline); default .tools/wheelhouse when it exists, else the index")
    parser.add_argument("--without-bytecode", action="store_true",
                        help="drop the precompiled .pyc files of the assets first (shows what precompiling saves)")
    parser.add_argument("--importtime", action="store_true", help="list the most expensive imports (one run)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mastra-layer-") as tmp:
        code, variants, interpreter, trace = measure(
            Path(tmp), python=args.python, runs=args.runs, wheelhouse=args.wheelhouse,
            bytecode=not args.without_bytecode, importtime=args.importtime)
    label = "sources only" if args.without_bytecode else "precompiled bytecode"
    print(f"python{args.python} assets ({label}); cold import: "
          + (f"{interpreter}, median of {args.runs} fresh interpreters" if interpreter
             else f"not measured (no python{args.python} on this machine)"))
    print()
    print("| asset | files | unzipped | zipped | cold import (median, min-max) |")
    print("|---|---:|---:|---:|---:|")
    print(f"| function code | {code.files} | {_mb(code.unzipped)} | {_mb(code.zipped)} | |")
    for variant in variants:
        timing = (f"{statistics.median(variant.timings):.0f} ms ({min(variant.timings):.0f}-"
                  f"{max(variant.timings):.0f})" if variant.timings else "-")
        print(f"| layer, {variant.name} | {variant.size.files} | {_mb(variant.size.unzipped)} "
              f"| {_mb(variant.size.zipped)} | {timing} |")
    print()
    default = variants[0].size.unzipped
    print(f"default layer: {_mb(default)} unzipped, goal {_mb(LAYER_SIZE_GOAL)}: "
          + ("met" if default <= LAYER_SIZE_GOAL else "NOT met"))
    for variant in variants:
        if variant.botocore:
            print(f"{variant.name}: botocore imported from {variant.botocore}")
    if trace:
        print("largest top-level imports of the default layer (cumulative, one -X importtime run):")
        for micros, name in trace:
            print(f"  {micros / 1000:8.1f} ms  {name}")


if __name__ == "__main__":
    main()
