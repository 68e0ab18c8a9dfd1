"""Stage the Lambda assets without Docker, so ``cdk synth`` works offline.

Two directories, each turned into an asset by the stack (``lambda_.Code.from_asset``):

* function code (:func:`stage_function_code`): this repository's ``mastra_dynamo`` package plus the modules of
  ``infra/handler/`` at the top level. Always offline, always deterministic.
* dependencies layer (:func:`stage_dependencies`): the library's runtime requirements from ``pyproject.toml``
  (pydantic + pydantic-core, pynamodb, the pinned boto3/botocore, ...) and their requirements, under
  ``python/`` as a Lambda layer expects. The Python Lambda runtime does not ship pydantic, and pydantic-core is a
  compiled extension, so this must match the Lambda platform: ``vendor`` mode copies the distributions from
  the running interpreter's environment (offline) after checking that every wheel is pure Python or a
  CPython 3.11 manylinux x86_64 build that runs on the python3.11 runtime (Amazon Linux 2, glibc 2.26). On
  any other host (macOS, arm64, musl) it stops with the one-line ``pip install --platform ...`` command that
  builds the directory instead; pass that directory as ``mastra:lambdaDependencies``.

Both are precompiled to bytecode (:func:`compile_bytecode`): it halves the handler's cold import.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path, PurePosixPath

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parents[1]
HANDLER_DIR = Path(__file__).resolve().parent / "handler"
LIBRARY_PACKAGE = "mastra_dynamo"
LAMBDA_PYTHON = (3, 11)
LAMBDA_GLIBC = (2, 26)
"""glibc of the python3.11 Lambda runtime (Amazon Linux 2): manylinux wheels up to 2_26 run there."""
LAMBDA_MACHINE = "x86_64"

_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_(\w+)$")


class IncompatibleDependencies(RuntimeError):
    """The installed distributions cannot run on the Lambda runtime; the message says how to build them."""


def stage_function_code(dest: Path, *, repo_root: Path = REPO_ROOT) -> Path:
    """Replace ``dest`` with the library package and the handler modules (top level). Returns ``dest``."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copytree(repo_root / LIBRARY_PACKAGE, dest / LIBRARY_PACKAGE, ignore=_IGNORE)
    for module in sorted(HANDLER_DIR.glob("*.py")):
        if module.name != "__init__.py":
            shutil.copyfile(module, dest / module.name)
    compile_bytecode(dest, runtime_dir="/var/task")
    return dest


def compile_bytecode(root: Path, *, runtime_dir: str) -> None:
    """Precompile every module under ``root`` for the Lambda's Python (when this interpreter is that Python).

    ``/var/task`` and ``/opt`` are read-only on Lambda, so without shipped bytecode every cold start compiles
    every imported module again. Unchecked-hash pycs are used as-is (zip extraction does not keep the source
    mtimes a timestamp pyc would be validated against) and depend only on the source; file names are recorded
    as ``runtime_dir/...`` (where Lambda unpacks the asset), so tracebacks are right and the asset hash does not
    depend on where it was staged.
    """
    if sys.version_info[:2] != LAMBDA_PYTHON:
        return
    # A fixed hash seed: marshalled set constants follow string-hash order, and the asset hash must not vary.
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "-q", "-d", runtime_dir,
         "--invalidation-mode", "unchecked-hash", str(root)],
        env=env, check=True,
    )


def runtime_requirements(pyproject: Path = REPO_ROOT / "pyproject.toml") -> list[Requirement]:
    """``[project].dependencies`` of the library (no extras): what the Lambda needs besides the package."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return [Requirement(r) for r in data["project"]["dependencies"]]


def dependency_closure(requirements: Iterable[Requirement]) -> list[metadata.Distribution]:
    """Installed distributions for ``requirements`` and, recursively, theirs (markers evaluated for the
    Lambda's Python, extras ignored). Raises IncompatibleDependencies for a missing or mismatched pin."""
    env: dict[str, str] = {k: str(v) for k, v in default_environment().items()}
    env |= {
        "python_version": "{}.{}".format(*LAMBDA_PYTHON),
        "sys_platform": "linux",
        "platform_system": "Linux",
        "platform_machine": LAMBDA_MACHINE,
        "extra": "",
    }
    found: dict[str, metadata.Distribution] = {}
    pending = list(requirements)
    while pending:
        req = pending.pop()
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        name = canonicalize_name(req.name)
        if name in found:
            continue
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError as exc:
            raise IncompatibleDependencies(f"{req.name} is not installed (needed by the Lambda layer)") from exc
        if not req.specifier.contains(dist.version, prereleases=True):
            raise IncompatibleDependencies(f"installed {req.name} {dist.version} does not satisfy {req}")
        found[name] = dist
        pending.extend(Requirement(r) for r in dist.requires or [])
    return [found[n] for n in sorted(found)]


def _runs_on_lambda(tag: str) -> bool:
    """Whether one wheel tag (``py3-none-any``, ``cp311-cp311-manylinux_2_17_x86_64``, ...) fits the runtime."""
    python, abi, plat = tag.split("-")
    cp = "cp{}{}".format(*LAMBDA_PYTHON)
    if plat == "any":
        return python.startswith(("py3", "py2.py3")) or python == cp
    if python != cp or abi not in {cp, "abi3"}:
        return False
    for legacy, glibc in _LEGACY_MANYLINUX.items():
        if plat == f"{legacy}_{LAMBDA_MACHINE}":
            return glibc <= LAMBDA_GLIBC
    match = _MANYLINUX.match(plat)
    if match is None:
        return False
    return match[3] == LAMBDA_MACHINE and (int(match[1]), int(match[2])) <= LAMBDA_GLIBC


def check_runs_on_lambda(dist: metadata.Distribution) -> None:
    """Raise IncompatibleDependencies unless one of the distribution's wheel tags fits the Lambda runtime."""
    wheel = dist.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]
    if not any(_runs_on_lambda(t) for tag in tags for t in _expand(tag)):
        name = dist.metadata["Name"]
        raise IncompatibleDependencies(
            f"{name} {dist.version} is installed as {tags or 'a non-wheel'}, which does not run on the "
            f"python{LAMBDA_PYTHON[0]}.{LAMBDA_PYTHON[1]} {LAMBDA_MACHINE} Lambda runtime. {build_hint()}"
        )


def _expand(tag: str) -> list[str]:
    """Compressed tag sets (``py2.py3-none-any``) to single tags."""
    python, abi, plat = tag.split("-")
    return [f"{p}-{a}-{q}" for p in python.split(".") for a in abi.split(".") for q in plat.split(".")]


def build_hint() -> str:
    reqs = " ".join(f"'{r}'" for r in runtime_requirements())
    return (
        "Build the layer directory with pip instead and pass it as -c mastra:lambdaDependencies=DIR: "
        f"pip install --target DIR/python --implementation cp --python-version "
        f"{LAMBDA_PYTHON[0]}.{LAMBDA_PYTHON[1]} --platform manylinux2014_{LAMBDA_MACHINE} --only-binary=:all: "
        f"{reqs}"
    )


def _fingerprint(dists: Iterable[metadata.Distribution]) -> str:
    """Identity of a staged layer: the Python version and each distribution's RECORD (file hashes)."""
    digest = hashlib.sha256(f"{sys.version_info[:2]}".encode())
    for dist in dists:
        digest.update(f"{dist.metadata['Name']}=={dist.version}\n".encode())
        digest.update((dist.read_text("RECORD") or "").encode())
    return digest.hexdigest()


def stage_dependencies(dest: Path) -> Path:
    """Make ``dest`` a layer directory (``python/...``) of the library's runtime dependency closure, copied
    from this interpreter's environment and precompiled. Reuses ``dest`` when it already holds exactly these
    distributions (a stamp file next to it), so repeated synths do not copy and compile ~40 MB again.
    Raises IncompatibleDependencies when the host's distributions cannot run on the Lambda runtime."""
    host = (sys.platform, platform.machine(), sys.version_info[:2])
    if host != ("linux", LAMBDA_MACHINE, LAMBDA_PYTHON):
        raise IncompatibleDependencies(f"this host ({host}) cannot vendor Lambda dependencies. {build_hint()}")
    dists = dependency_closure(runtime_requirements())
    for dist in dists:
        check_runs_on_lambda(dist)
    stamp = dest.with_name(dest.name + ".stamp")
    fingerprint = _fingerprint(dists)
    if dest.is_dir() and stamp.is_file() and stamp.read_text(encoding="utf-8") == fingerprint:
        return dest
    stamp.unlink(missing_ok=True)
    if dest.exists():
        shutil.rmtree(dest)
    target = dest / "python"
    target.mkdir(parents=True)
    for dist in dists:
        for file in dist.files or []:
            relative = PurePosixPath(str(file))
            if relative.parts[0] == ".." or "__pycache__" in relative.parts or relative.suffix == ".pyc":
                continue  # console scripts outside site-packages, bytecode caches
            source = Path(str(dist.locate_file(file)))
            if source.is_file():
                out = target.joinpath(*relative.parts)
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, out)
    compile_bytecode(target, runtime_dir="/opt/python")
    stamp.write_text(fingerprint, encoding="utf-8")
    return dest
