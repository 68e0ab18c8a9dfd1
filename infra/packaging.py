"""Stage the Lambda assets without Docker, so ``cdk synth`` works offline.

Two directories, each turned into an asset by the stack (``lambda_.Code.from_asset``):

* function code (:func:`stage_function_code`): this repository's ``mastra_dynamo`` package plus the modules of
  ``infra/handler/`` at the top level. Always offline, always deterministic.
* dependencies layer (:func:`stage_dependencies`): the library's runtime requirements from ``pyproject.toml``
  that the handler imports (pydantic + pydantic-core, pynamodb: :func:`layer_requirements`) and their
  requirements, at the versions of ``constraints/lock.txt``, under ``python/`` as a Lambda layer expects. Left
  out: the AWS SDK, which every Python runtime ships (boto3, botocore and their requirements:
  :data:`RUNTIME_PROVIDED`; ``include_boto=True``, context ``mastra:layerBoto=true``, bundles the lock's
  instead), and jsonschema, which the handler never imports (:data:`HANDLER_UNUSED`). Tests directories of the
  dependencies and bytecode for other Pythons are removed (:func:`strip_layer`). The runtime does not ship
  pydantic, and pydantic-core is a compiled extension, so the layer must match the runtime's Python version
  (``mastra:lambdaPython``: 3.11, 3.12 or 3.13) and platform (x86_64; glibc 2.26 on python3.11's Amazon Linux 2,
  2.34 on python3.12/3.13's Amazon Linux 2023). Two sources:

  - ``lock`` (default): ``pip install --target`` for that Python and platform, constrained by the lock, from a
    wheelhouse (``mastra:wheelhouse``, offline; ``make wheelhouse`` fills ``.tools/wheelhouse``) or the index;
    the distributions pip installed only for the runtime's SDK (botocore for pynamodb, ...) are removed again.
  - ``vendor``: copies the distributions installed in the running interpreter's environment (offline), after
    checking that the interpreter is the runtime's Python version, that every distribution has the lock's
    version and that every wheel is pure Python or a matching CPython manylinux x86_64 build.

  Either way the staged directory is reused while its inputs are unchanged (a stamp file next to it).

Both are precompiled to bytecode (:func:`compile_bytecode`) by an interpreter of the runtime's Python version when
one is found on this machine: it halves the handler's cold import.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parents[1]
HANDLER_DIR = Path(__file__).resolve().parent / "handler"
LOCK_FILE = REPO_ROOT / "constraints" / "lock.txt"
LIBRARY_PACKAGE = "mastra_dynamo"
SUPPORTED_PYTHONS = ("3.11", "3.12", "3.13")
"""Python versions of the library (``requires-python``) that have a Lambda runtime."""
DEFAULT_PYTHON = SUPPORTED_PYTHONS[-1]
LAMBDA_GLIBC = {"3.11": (2, 26), "3.12": (2, 34), "3.13": (2, 34)}
"""glibc of each Python Lambda runtime (python3.11: Amazon Linux 2; python3.12+: Amazon Linux 2023): manylinux
wheels up to that version run there."""
LAMBDA_MACHINE = "x86_64"
SOURCES = ("lock", "vendor")
RUNTIME_PROVIDED = ("boto3", "botocore")
"""The AWS SDK for Python, which every Python Lambda runtime ships with its requirements (s3transfer, jmespath,
python-dateutil, six, urllib3), in ``/var/lang/lib/python3.x/site-packages``, after the layer on ``sys.path``.
The layer leaves these distributions out, and every distribution that only they need: its other packages then
never mix with the runtime's SDK. Which version the runtime ships is not fixed: AWS updates it with the runtime
and says it depends on the runtime version and the Region (Lambda developer guide, "Runtime-included SDK
versions"). Reported figures: python3.11 boto3 1.27.1 / botocore 1.30.1 (AWS's runtime table as quoted on
2023-11-29 in boto/botocore#3082), python3.12 and python3.13 boto3/botocore 1.38.36 (2025-08-22, reported in
terricain/aioboto3#381). The handler checks the botocore it imports against the library's range at import time
(``infra/handler/memory_api.py``: ``check_botocore``); ``mastra:layerBoto=true`` bundles the lock's SDK."""
HANDLER_UNUSED = ("jsonschema",)
"""Runtime requirements of the library that the handler never imports, left out of the layer with everything only
they need (attrs, referencing, rpds-py, jsonschema-specifications): jsonschema validates dataset items against
their JSON schemas, is imported lazily (``mastra_dynamo/stores/datasets/schema_check.py``) and the memory handler
never reaches it. A function of your own that validates dataset items needs it in its layer: otherwise that call
raises ``ConfigurationError`` ``MISSING_DEPENDENCY``."""
LAYER_SIZE_GOAL = 15_000_000
"""Bytes (unzipped, the sum of the file sizes) the default layer stays under; the tests hold it to this."""
_LAYOUT = "layer-2: no runtime SDK, no unused requirements, stripped"
"""Part of the staged layer's fingerprint: a new layout invalidates layers staged by an older one."""

_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
_MANYLINUX = re.compile(r"^manylinux_(\d+)_(\d+)_(\w+)$")


def check_python(python: str) -> str:
    """``python`` if it is a supported Lambda Python version (``"3.13"``), else ValueError."""
    if python not in SUPPORTED_PYTHONS:
        raise ValueError(f"Python {python!r} is not supported; expected one of {', '.join(SUPPORTED_PYTHONS)}")
    return python


def _version_tuple(python: str) -> tuple[int, int]:
    major, minor = check_python(python).split(".")
    return int(major), int(minor)


def host_python() -> str:
    return "{}.{}".format(*sys.version_info[:2])


def find_interpreter(python: str) -> str | None:
    """An executable of CPython ``python`` on this machine: this one, ``pythonX.Y`` on PATH (a pyenv shim too),
    or one under ``$PYENV_ROOT/versions``; None when there is none."""
    if host_python() == python:
        return sys.executable
    candidates = [shutil.which(f"python{python}")]
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates += [str(d / "bin" / f"python{python}") for d in sorted(pyenv.glob(f"{python}.*"), reverse=True)]
    probe = f"import sys; assert '%d.%d' % sys.version_info[:2] == {python!r}; print(sys.executable)"
    for candidate in candidates:
        if not candidate:
            continue
        try:
            done = subprocess.run([candidate, "-c", probe], capture_output=True, text=True, timeout=30)
        except OSError:
            continue
        if done.returncode == 0 and done.stdout.strip():
            return done.stdout.strip()
    return None


class IncompatibleDependencies(RuntimeError):
    """The dependencies cannot be staged for the Lambda runtime; the message says how to build them."""


def stage_function_code(dest: Path, *, python: str = DEFAULT_PYTHON, repo_root: Path = REPO_ROOT) -> Path:
    """Replace ``dest`` with the library package and the handler modules (top level). Returns ``dest``."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copytree(repo_root / LIBRARY_PACKAGE, dest / LIBRARY_PACKAGE, ignore=_IGNORE)
    for module in sorted(HANDLER_DIR.glob("*.py")):
        if module.name != "__init__.py":
            shutil.copyfile(module, dest / module.name)
    compile_bytecode(dest, runtime_dir="/var/task", python=python)
    return dest


def compile_bytecode(root: Path, *, runtime_dir: str, python: str = DEFAULT_PYTHON) -> bool:
    """Precompile every module under ``root`` with an interpreter of the Lambda's Python (:func:`find_interpreter`);
    returns False (and compiles nothing) when this machine has none.

    ``/var/task`` and ``/opt`` are read-only on Lambda, so without shipped bytecode every cold start compiles
    every imported module again. Unchecked-hash pycs are used as-is (zip extraction does not keep the source
    mtimes a timestamp pyc would be validated against) and depend only on the source; file names are recorded
    as ``runtime_dir/...`` (where Lambda unpacks the asset), so tracebacks are right and the asset hash does not
    depend on where it was staged.
    """
    interpreter = find_interpreter(python)
    if interpreter is None:
        return False
    # A fixed hash seed: marshalled set constants follow string-hash order, and the asset hash must not vary.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")} | {"PYTHONHASHSEED": "0"}
    subprocess.run(
        [interpreter, "-m", "compileall", "-q", "-q", "-d", runtime_dir,
         "--invalidation-mode", "unchecked-hash", str(root)],
        env=env, check=True,
    )
    return True


def runtime_requirements(pyproject: Path = REPO_ROOT / "pyproject.toml") -> list[Requirement]:
    """``[project].dependencies`` of the library (no extras): what the Lambda needs besides the package."""
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return [Requirement(r) for r in data["project"]["dependencies"]]


def lock_pins(lock: Path = LOCK_FILE) -> dict[str, str]:
    """``{canonical name: version}`` of a constraints file of ``name==version`` lines."""
    pins: dict[str, str] = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        (spec,) = req.specifier
        if spec.operator != "==":
            raise ValueError(f"{lock}: {line!r} is not an exact pin")
        pins[canonicalize_name(req.name)] = spec.version
    return pins


def _marker_environment(python: str) -> dict[str, str]:
    env: dict[str, str] = {k: str(v) for k, v in default_environment().items()}
    return env | {
        "python_version": python,
        "python_full_version": f"{python}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "sys_platform": "linux",
        "os_name": "posix",
        "platform_system": "Linux",
        "platform_machine": LAMBDA_MACHINE,
        "extra": "",
    }


def layer_requirements(*, include_boto: bool = False,
                       pyproject: Path = REPO_ROOT / "pyproject.toml") -> list[Requirement]:
    """The requirements the layer is built from: :func:`runtime_requirements` without :data:`HANDLER_UNUSED` and,
    unless ``include_boto``, without the runtime's SDK (:data:`RUNTIME_PROVIDED`)."""
    leave_out = {canonicalize_name(name) for name in HANDLER_UNUSED}
    leave_out |= {canonicalize_name(name) for name in runtime_provided(include_boto)}
    return [r for r in runtime_requirements(pyproject) if canonicalize_name(r.name) not in leave_out]


def runtime_provided(include_boto: bool = False) -> tuple[str, ...]:
    """The distributions the layer takes from the runtime: :data:`RUNTIME_PROVIDED`, none with ``include_boto``."""
    return () if include_boto else RUNTIME_PROVIDED


def dependency_closure(requirements: Iterable[Requirement], *, python: str = DEFAULT_PYTHON,
                       path: list[str] | None = None,
                       provided: Iterable[str] = ()) -> list[metadata.Distribution]:
    """Installed distributions (in ``path``, default ``sys.path``) for ``requirements`` and, recursively, theirs
    (markers evaluated for the Lambda's Python, extras ignored). A requirement named in ``provided`` (the
    runtime's own) is not followed: neither it nor what only it requires is part of the closure. Raises
    IncompatibleDependencies for a missing or mismatched requirement."""
    env = _marker_environment(check_python(python))
    skip = {canonicalize_name(name) for name in provided}
    found_on_path = metadata.distributions(path=path) if path is not None else metadata.distributions()
    installed = {canonicalize_name(d.metadata["Name"]): d for d in reversed(list(found_on_path))}  # first wins
    found: dict[str, metadata.Distribution] = {}
    pending = list(requirements)
    while pending:
        req = pending.pop()
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        name = canonicalize_name(req.name)
        if name in found or name in skip:
            continue
        dist = installed.get(name)
        if dist is None:
            raise IncompatibleDependencies(f"{req.name} is not installed (needed by the Lambda layer)")
        if not req.specifier.contains(dist.version, prereleases=True):
            raise IncompatibleDependencies(f"installed {req.name} {dist.version} does not satisfy {req}")
        found[name] = dist
        pending.extend(Requirement(r) for r in dist.requires or [])
    return [found[n] for n in sorted(found)]


def _runs_on_lambda(tag: str, python: str = DEFAULT_PYTHON) -> bool:
    """Whether one wheel tag (``py3-none-any``, ``cp313-cp313-manylinux_2_17_x86_64``, ...) fits the runtime."""
    interpreter, abi, plat = tag.split("-")
    cp = "cp" + python.replace(".", "")
    glibc = LAMBDA_GLIBC[check_python(python)]
    if plat == "any":
        return interpreter.startswith(("py3", "py2.py3")) or interpreter == cp
    if interpreter != cp and not (abi == "abi3" and interpreter.startswith("cp3")
                                  and int(interpreter[3:]) <= int(cp[3:])):
        return False
    if abi not in {cp, "abi3"}:
        return False
    for legacy, version in _LEGACY_MANYLINUX.items():
        if plat == f"{legacy}_{LAMBDA_MACHINE}":
            return version <= glibc
    match = _MANYLINUX.match(plat)
    if match is None:
        return False
    return match[3] == LAMBDA_MACHINE and (int(match[1]), int(match[2])) <= glibc


def check_runs_on_lambda(dist: metadata.Distribution, python: str = DEFAULT_PYTHON) -> None:
    """Raise IncompatibleDependencies unless one of the distribution's wheel tags fits the Lambda runtime."""
    wheel = dist.read_text("WHEEL") or ""
    tags = [line.split(":", 1)[1].strip() for line in wheel.splitlines() if line.startswith("Tag:")]
    if not any(_runs_on_lambda(t, python) for tag in tags for t in _expand(tag)):
        name = dist.metadata["Name"]
        raise IncompatibleDependencies(
            f"{name} {dist.version} is installed as {tags or 'a non-wheel'}, which does not run on the "
            f"python{python} {LAMBDA_MACHINE} Lambda runtime. {build_hint(python)}"
        )


def _expand(tag: str) -> list[str]:
    """Compressed tag sets (``py2.py3-none-any``) to single tags."""
    interpreter, abi, plat = tag.split("-")
    return [f"{p}-{a}-{q}" for p in interpreter.split(".") for a in abi.split(".") for q in plat.split(".")]


def pip_platform_arguments(python: str) -> list[str]:
    """``--platform`` options for pip: every manylinux tag the runtime's glibc accepts (pip does not widen
    ``manylinux_2_34`` to older tags by itself)."""
    major, minor = LAMBDA_GLIBC[check_python(python)]
    tags = [f"manylinux_{major}_{m}_{LAMBDA_MACHINE}" for m in range(minor, 16, -1)]
    tags += [f"{legacy}_{LAMBDA_MACHINE}" for legacy in reversed(_LEGACY_MANYLINUX)]
    return [argument for tag in tags for argument in ("--platform", tag)]


def pip_layer_arguments(python: str, target: Path, *, wheelhouse: Path | None = None,
                        include_boto: bool = False) -> list[str]:
    """The ``pip install`` arguments that build the layer's ``python/`` directory for the runtime ``python``
    (:func:`layer_requirements`; pip also installs the SDK pieces they need, which :func:`stage_dependencies`
    removes again unless ``include_boto``)."""
    arguments = [
        "install", "--quiet", "--disable-pip-version-check", "--no-compile", "--target", str(target),
        "--implementation", "cp", "--python-version", python, *pip_platform_arguments(python),
        "--only-binary=:all:", "-c", str(LOCK_FILE),
    ]
    if wheelhouse is not None:
        arguments += ["--no-index", "--find-links", str(wheelhouse)]
    return arguments + [str(r) for r in layer_requirements(include_boto=include_boto)]


def build_hint(python: str = DEFAULT_PYTHON) -> str:
    command = " ".join(f"'{a}'" if any(c in a for c in "<>=,") else a
                       for a in pip_layer_arguments(python, Path("DIR/python")) if a != "--quiet")
    return f"Build the layer directory with pip instead and pass it as -c mastra:lambdaDependencies=DIR: pip {command}"


def _fingerprint(python: str, dists: Iterable[metadata.Distribution]) -> str:
    """Identity of a vendored layer: the layout, the Python version and each distribution's RECORD (file
    hashes)."""
    digest = hashlib.sha256(f"{_LAYOUT}\nvendor {python} {host_python()}".encode())
    for dist in dists:
        digest.update(f"{dist.metadata['Name']}=={dist.version}\n".encode())
        digest.update((dist.read_text("RECORD") or "").encode())
    return digest.hexdigest()


def _lock_fingerprint(python: str, interpreter: str | None, include_boto: bool) -> str:
    """Identity of a layer built from the lock: the layout, what pip installs (Python, platforms, requirements,
    the lock's content), what is removed again and whether it was compiled; not where the wheels came from (a
    wheelhouse or the index)."""
    digest = hashlib.sha256(f"{_LAYOUT}\nlock {python} {interpreter is not None} {include_boto}\n".encode())
    digest.update("\0".join(pip_layer_arguments(python, Path("python"), include_boto=include_boto)).encode())
    digest.update(LOCK_FILE.read_bytes())
    return digest.hexdigest()


def _check_against_lock(dists: Iterable[metadata.Distribution]) -> None:
    pins = lock_pins()
    for dist in dists:
        name = canonicalize_name(dist.metadata["Name"])
        if pins.get(name) != dist.version:
            raise IncompatibleDependencies(
                f"{dist.metadata['Name']} {dist.version} is not the version of {LOCK_FILE.name} "
                f"({pins.get(name, 'not pinned')}): install from the lock (make install-test) or use the 'lock' "
                "source (mastra:lambdaDependencies=lock)")


def stage_dependencies(dest: Path, *, python: str = DEFAULT_PYTHON, source: str = "lock",
                       wheelhouse: Path | None = None, include_boto: bool = False) -> Path:
    """Make ``dest`` a layer directory (``python/...``) of the handler's dependency closure
    (:func:`layer_requirements`) for the Lambda runtime ``python``, at the lock's versions, without the runtime's
    SDK unless ``include_boto``, stripped (:func:`strip_layer`) and precompiled when possible (see the module
    docstring for the two ``source`` values). Reuses ``dest`` when it already holds exactly these distributions
    (a stamp file next to it), so repeated synths do not install or copy it again. Raises
    IncompatibleDependencies when the layer cannot be built here; the message says how to build it instead."""
    check_python(python)
    if source not in SOURCES:
        raise ValueError(f"source {source!r}: expected one of {', '.join(SOURCES)}")
    requirements = layer_requirements(include_boto=include_boto)
    provided = runtime_provided(include_boto)
    stamp = dest.with_name(dest.name + ".stamp")
    if source == "vendor":
        host = (sys.platform, platform.machine(), host_python())
        if host != ("linux", LAMBDA_MACHINE, python):
            raise IncompatibleDependencies(
                f"this interpreter ({host}) cannot vendor dependencies for the python{python} {LAMBDA_MACHINE} "
                f"runtime. {build_hint(python)}")
        dists = dependency_closure(requirements, python=python, provided=provided)
        _check_against_lock(dists)
        for dist in dists:
            check_runs_on_lambda(dist, python)
        fingerprint = _fingerprint(python, dists)
    else:
        fingerprint = _lock_fingerprint(python, find_interpreter(python), include_boto)
    if dest.is_dir() and stamp.is_file() and stamp.read_text(encoding="utf-8") == fingerprint:
        return dest
    # Staged next to dest and swapped in at the end: a failed build leaves the previous layer in place.
    work = dest.with_name(dest.name + ".partial")
    if work.exists():
        shutil.rmtree(work)
    target = work / "python"
    target.mkdir(parents=True)
    if source == "vendor":
        _copy_distributions(dists, target)
        strip_layer(target)
    else:
        arguments = pip_layer_arguments(python, target, wheelhouse=wheelhouse, include_boto=include_boto)
        _pip_install(arguments, python)
        shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts: not importable, not needed on Lambda
        kept = dependency_closure(requirements, python=python, path=[str(target)], provided=provided)
        _check_against_lock(kept)
        strip_layer(target)
        _remove_other_distributions(target, kept)
    compile_bytecode(target, runtime_dir="/opt/python", python=python)
    stamp.unlink(missing_ok=True)
    if dest.exists():
        shutil.rmtree(dest)
    work.rename(dest)
    stamp.write_text(fingerprint, encoding="utf-8")
    return dest


def strip_layer(root: Path) -> None:
    """Remove what no import on the runtime needs from a staged ``python/`` directory: bytecode (``__pycache__``,
    ``*.pyc``: :func:`compile_bytecode` then writes the runtime Python's own) and the tests packages of the
    dependencies (a ``tests`` directory inside a package). Type stubs (``*.pyi``, ~0.1 MB) and the ``dist-info``
    metadata stay: ``importlib.metadata`` reads the latter."""
    doomed = [d for d in root.rglob("__pycache__") if d.is_dir()]
    doomed += [d for d in root.rglob("tests")
               if d.is_dir() and d.parent != root and (d.parent / "__init__.py").is_file()]
    for directory in doomed:
        shutil.rmtree(directory, ignore_errors=True)
    for pattern in ("*.pyc", "*.pyo"):
        for file in root.rglob(pattern):
            file.unlink(missing_ok=True)


def _remove_other_distributions(target: Path, kept: Iterable[metadata.Distribution]) -> None:
    """Uninstall (by their RECORD) the distributions in ``target`` that are not ``kept``: what pip installed
    only for the runtime's SDK (botocore for pynamodb, and botocore's own requirements)."""
    keep = {canonicalize_name(d.metadata["Name"]) for d in kept}
    for dist in list(metadata.distributions(path=[str(target)])):
        if canonicalize_name(dist.metadata["Name"]) in keep:
            continue
        if dist.files is None:
            raise IncompatibleDependencies(f"{dist.metadata['Name']} in {target} has no RECORD to remove it by")
        directories: set[Path] = set()
        for file in dist.files:
            relative = PurePosixPath(str(file))
            if relative.parts[0] == "..":
                continue  # console scripts outside the target (bin/ is gone already)
            path = target.joinpath(*relative.parts)
            path.unlink(missing_ok=True)
            directories.update(p for p in path.parents if p != target and target in p.parents)
        for directory in sorted(directories, key=lambda p: len(p.parts), reverse=True):
            if directory.is_dir() and not any(directory.iterdir()):
                directory.rmdir()


@dataclass(frozen=True)
class LayerSize:
    """Size of a staged directory: what Lambda's 250 MB unzipped quota counts, and its zip."""

    files: int
    unzipped: int
    """Sum of the file sizes, in bytes (``du`` counts disk blocks and shows more)."""
    zipped: int | None
    """Bytes of a deflate zip of the directory (as uploaded; CDK's own zip may differ by a few percent), when
    asked for."""


def layer_size(root: Path, *, zipped: bool = False) -> LayerSize:
    """The :class:`LayerSize` of ``root`` (a layer directory with ``python/``, or any staged asset)."""
    files = sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    unzipped = sum(p.stat().st_size for p in files)
    if not zipped:
        return LayerSize(files=len(files), unzipped=unzipped, zipped=None)
    with tempfile.TemporaryFile() as buffer:
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, path.relative_to(root).as_posix())
        return LayerSize(files=len(files), unzipped=unzipped, zipped=buffer.tell())


def stage_runtime_sdk(dest: Path, *, python: str | None = None) -> Path:
    """Replace ``dest`` with a stand-in for the SDK the Lambda runtime ships (:data:`RUNTIME_PROVIDED` and their
    requirements), copied from the running interpreter's environment (pure Python wheels, so any supported Python
    imports them), and precompiled for ``python`` when given. For tests and measurements that import the handler
    from the staged assets the way the runtime does: function code, then the layer, then this. Returns ``dest``."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    dists = dependency_closure([Requirement(name) for name in RUNTIME_PROVIDED], python=host_python())
    _copy_distributions(dists, dest)
    if python is not None:
        compile_bytecode(dest, runtime_dir=f"/var/lang/lib/python{python}/site-packages", python=python)
    return dest


def _pip_install(arguments: list[str], python: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-m", "pip", *arguments], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise IncompatibleDependencies(
            f"pip could not build the python{python} layer from {LOCK_FILE.name} (exit {done.returncode}): "
            f"{done.stderr.strip()[-1500:]}\nWith no network, fill a wheelhouse first (make wheelhouse) and pass it "
            "as -c mastra:wheelhouse=DIR.")


def _copy_distributions(dists: Iterable[metadata.Distribution], target: Path) -> None:
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
