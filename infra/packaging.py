"""Stage the Lambda assets without Docker, so ``cdk synth`` works offline.

Two directories, each turned into an asset by the stack (``lambda_.Code.from_asset``):

* function code (:func:`stage_function_code`): this repository's ``mastra_dynamo`` package plus the modules of
  ``infra/handler/`` at the top level. Always offline, always deterministic.
* dependencies layer (:func:`stage_dependencies`): the library's runtime requirements from ``pyproject.toml``
  (pydantic + pydantic-core, pynamodb, boto3/botocore, jsonschema) and their requirements, at the versions of
  ``constraints/lock.txt``, under ``python/`` as a Lambda layer expects. The Python Lambda runtime does not ship
  pydantic, and pydantic-core is a compiled extension, so the layer must match the runtime's Python version
  (``mastra:lambdaPython``: 3.11, 3.12 or 3.13) and platform (x86_64; glibc 2.26 on python3.11's Amazon Linux 2,
  2.34 on python3.12/3.13's Amazon Linux 2023). Two sources:

  - ``lock`` (default): ``pip install --target`` for that Python and platform, constrained by the lock, from a
    wheelhouse (``mastra:wheelhouse``, offline; ``make wheelhouse`` fills ``.tools/wheelhouse``) or the index.
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
import tomllib
from collections.abc import Iterable
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


def dependency_closure(requirements: Iterable[Requirement], *, python: str = DEFAULT_PYTHON,
                       path: list[str] | None = None) -> list[metadata.Distribution]:
    """Installed distributions (in ``path``, default ``sys.path``) for ``requirements`` and, recursively, theirs
    (markers evaluated for the Lambda's Python, extras ignored). Raises IncompatibleDependencies for a missing or
    mismatched requirement."""
    env = _marker_environment(check_python(python))
    found_on_path = metadata.distributions(path=path) if path is not None else metadata.distributions()
    installed = {canonicalize_name(d.metadata["Name"]): d for d in reversed(list(found_on_path))}  # first wins
    found: dict[str, metadata.Distribution] = {}
    pending = list(requirements)
    while pending:
        req = pending.pop()
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        name = canonicalize_name(req.name)
        if name in found:
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


def pip_layer_arguments(python: str, target: Path, *, wheelhouse: Path | None = None) -> list[str]:
    """The ``pip install`` arguments that build the layer's ``python/`` directory for the runtime ``python``."""
    arguments = [
        "install", "--quiet", "--disable-pip-version-check", "--no-compile", "--target", str(target),
        "--implementation", "cp", "--python-version", python, *pip_platform_arguments(python),
        "--only-binary=:all:", "-c", str(LOCK_FILE),
    ]
    if wheelhouse is not None:
        arguments += ["--no-index", "--find-links", str(wheelhouse)]
    return arguments + [str(r) for r in runtime_requirements()]


def build_hint(python: str = DEFAULT_PYTHON) -> str:
    command = " ".join(f"'{a}'" if any(c in a for c in "<>=,") else a
                       for a in pip_layer_arguments(python, Path("DIR/python")) if a != "--quiet")
    return f"Build the layer directory with pip instead and pass it as -c mastra:lambdaDependencies=DIR: pip {command}"


def _fingerprint(python: str, dists: Iterable[metadata.Distribution]) -> str:
    """Identity of a vendored layer: the Python version and each distribution's RECORD (file hashes)."""
    digest = hashlib.sha256(f"vendor {python} {host_python()}".encode())
    for dist in dists:
        digest.update(f"{dist.metadata['Name']}=={dist.version}\n".encode())
        digest.update((dist.read_text("RECORD") or "").encode())
    return digest.hexdigest()


def _lock_fingerprint(python: str, interpreter: str | None) -> str:
    """Identity of a layer built from the lock: what pip installs (Python, platforms, requirements, the lock's
    content) and whether it was compiled; not where the wheels came from (a wheelhouse or the index)."""
    digest = hashlib.sha256(f"lock {python} {interpreter is not None}\n".encode())
    digest.update("\0".join(pip_layer_arguments(python, Path("python"))).encode())
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
                       wheelhouse: Path | None = None) -> Path:
    """Make ``dest`` a layer directory (``python/...``) of the library's runtime dependency closure for the Lambda
    runtime ``python``, at the lock's versions, precompiled when possible (see the module docstring for the two
    ``source`` values). Reuses ``dest`` when it already holds exactly these distributions (a stamp file next to
    it), so repeated synths do not install or copy ~40 MB again. Raises IncompatibleDependencies when the layer
    cannot be built here; the message says how to build it instead."""
    check_python(python)
    if source not in SOURCES:
        raise ValueError(f"source {source!r}: expected one of {', '.join(SOURCES)}")
    stamp = dest.with_name(dest.name + ".stamp")
    if source == "vendor":
        host = (sys.platform, platform.machine(), host_python())
        if host != ("linux", LAMBDA_MACHINE, python):
            raise IncompatibleDependencies(
                f"this interpreter ({host}) cannot vendor dependencies for the python{python} {LAMBDA_MACHINE} "
                f"runtime. {build_hint(python)}")
        dists = dependency_closure(runtime_requirements(), python=python)
        _check_against_lock(dists)
        for dist in dists:
            check_runs_on_lambda(dist, python)
        fingerprint = _fingerprint(python, dists)
    else:
        fingerprint = _lock_fingerprint(python, find_interpreter(python))
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
    else:
        _pip_install(pip_layer_arguments(python, target, wheelhouse=wheelhouse), python)
        shutil.rmtree(target / "bin", ignore_errors=True)  # console scripts: not importable, not needed on Lambda
        _check_against_lock(dependency_closure(runtime_requirements(), python=python, path=[str(target)]))
    compile_bytecode(target, runtime_dir="/opt/python", python=python)
    stamp.unlink(missing_ok=True)
    if dest.exists():
        shutil.rmtree(dest)
    work.rename(dest)
    stamp.write_text(fingerprint, encoding="utf-8")
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
