"""The built wheel as users install it: its metadata, a base install, and an install next to other versions.

The wheel is built once per session (``pip wheel --no-build-isolation``, a few seconds). The installs go into fresh
virtualenvs under the session's temporary directory, offline: ``make test`` runs pytest in a network namespace,
so the dependencies come from the wheelhouse ``make wheelhouse`` fills (``.tools/wheelhouse``: the lock's
runtime wheels and constraints/compat.txt's newer boto3 and older pydantic). Each install then runs a session in
every storage domain against moto in-process (``mock_aws``); moto itself is not part of a base install, so the
smoke script borrows it (appended to ``sys.path``, after the virtualenv's own packages) from the test environment.
"""

from __future__ import annotations

import email.parser
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from email.message import Message
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[2]
WHEELHOUSE = Path(os.environ.get("MASTRA_DYNAMO_WHEELHOUSE") or ROOT / ".tools" / "wheelhouse")
LOCK = ROOT / "constraints" / "lock.txt"
BASE = {"boto3", "botocore", "pynamodb", "pydantic", "jsonschema"}
DOMAINS = ["agents", "backgroundTasks", "datasets", "experiments", "memory", "scores", "workflows"]

SMOKE = """
import io, json, os, sys
from importlib import metadata
import mastra_dynamo
lean = not any(m in sys.modules for m in ("boto3", "pynamodb", "mastra_dynamo.composite"))
import mastra_dynamo.composite
sys.path.append({moto_path!r})  # moto and its requirements, after this environment's own packages
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
from moto import mock_aws
from mastra_dynamo import DynamoDBStore
from mastra_dynamo.composite import MastraCompositeStore
from mastra_dynamo.demo import PlainOutput, run_session
with mock_aws():
    store = DynamoDBStore(id="smoke", table_name="smoke", region="us-east-1")
    store.create_table()
    out = io.StringIO()
    summary = run_session(MastraCompositeStore(id="smoke", default=store), store, PlainOutput(out), traces=False)
    store.close()
print(json.dumps({{
    "domains": sorted({{s.domain for s in summary.sections}}),
    "reads": sum(len(s.read) for s in summary.sections),
    "file": mastra_dynamo.__file__,
    "composite": mastra_dynamo.composite.__file__,
    "lean_import": lean,
    "rich": "rich" in sys.modules,
    "versions": {{n: metadata.version(n) for n in ("boto3", "botocore", "pydantic", "pynamodb", "jsonschema")}},
}}))
"""


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a clean copy of the sources (setuptools' build/ directory of the checkout may hold
    modules that no longer exist)."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copyfile(ROOT / name, source / name)
    for name in ("mastra_dynamo", "composite"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(source)], check=True, capture_output=True)
    (built,) = out.glob("mastra_dynamo-*.whl")
    return built


@pytest.fixture(scope="session")
def wheelhouse() -> Path:
    if not WHEELHOUSE.is_dir():
        if os.environ.get("MASTRA_DYNAMO_REQUIRE_ALL_BACKENDS") == "1":
            pytest.fail(f"{WHEELHOUSE} is missing (make test fills it: `make wheelhouse`)")
        pytest.skip(f"no wheelhouse at {WHEELHOUSE} (`make wheelhouse`)")
    return WHEELHOUSE


def metadata_of(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return email.parser.Parser().parsestr(archive.read(name).decode())


def install(wheel: Path, wheelhouse: Path, venv: Path, *requirements: str, constraints: Path | None = None) -> Path:
    """A fresh virtualenv (no pip of its own) with ``wheel`` and ``requirements`` installed offline by this
    environment's pip; returns its interpreter."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    command = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--disable-pip-version-check",
               "--no-index", "--find-links", str(wheelhouse), str(wheel), *requirements]
    if constraints is not None:
        command += ["-c", str(constraints)]
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    check = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "check"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    return python


def installed(python: Path) -> set[str]:
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "list", "--format", "json"],
                          capture_output=True, text=True, check=True)
    return {p["name"].lower().replace("_", "-") for p in json.loads(done.stdout)}


def smoke(python: Path, cwd: Path) -> dict[str, object]:
    """Run a session in every domain with the installed package (``-I``: not the checkout, no PYTHONPATH)."""
    moto_path = sysconfig.get_paths()["purelib"]
    done = subprocess.run([str(python), "-I", "-c", SMOKE.format(moto_path=moto_path)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_wheel_metadata(wheel: Path) -> None:
    meta = metadata_of(wheel)
    requires = [Requirement(r) for r in meta.get_all("Requires-Dist") or []]
    assert requires and not [r for r in requires if any(s.operator in {"==", "==="} for s in r.specifier)]
    base = {r.name: r for r in requires if r.marker is None}
    assert set(base) == BASE
    for requirement in base.values():  # a range: a tested lower bound and the next major version excluded
        assert {s.operator for s in requirement.specifier} == {">=", "<"}, requirement
    extras = set(meta.get_all("Provides-Extra") or [])
    assert extras == {"cli", "async", "clickhouse", "chdb", "local"}  # no published dev tools
    cli = {r.name for r in requires if r.marker is not None and r.marker.evaluate({"extra": "cli"})}
    assert {"click", "rich"} <= cli
    assert not {"click", "rich"} & set(base)
    assert SpecifierSet(meta["Requires-Python"]) == SpecifierSet(">=3.11,<3.14")
    assert meta["License-Expression"] == "Apache-2.0"
    assert meta.get_all("License-File") == ["LICENSE"]
    classifiers = set(meta.get_all("Classifier") or [])
    assert {f"Programming Language :: Python :: 3.{m}" for m in (11, 12, 13)} <= classifiers
    assert not [c for c in classifiers if c.startswith("License ::")]  # the SPDX expression replaces them
    assert meta.get_all("Project-URL")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        tops = {n.split("/")[0] for n in names}
        entry_points = archive.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
        license_text = archive.read(next(n for n in names if n.endswith(".dist-info/licenses/LICENSE"))).decode()
    assert {t for t in tops if not t.endswith(".dist-info")} == {"mastra_dynamo"}  # no top-level `composite`
    assert "mastra_dynamo/composite/__init__.py" in names
    assert "mastra-dynamo = mastra_dynamo.cli:main" in entry_points
    assert "Apache License" in license_text and "Version 2.0" in license_text


def test_base_install_runs_every_domain(wheel: Path, wheelhouse: Path, tmp_path: Path) -> None:
    python = install(wheel, wheelhouse, tmp_path / "venv", constraints=LOCK)
    packages = installed(python)
    assert not packages & {"click", "rich", "pygments", "markdown-it-py", "moto", "chdb", "clickhouse-connect"}
    result = smoke(python, tmp_path)
    assert result["domains"] == DOMAINS and result["reads"]
    assert str(result["file"]).startswith(str(tmp_path / "venv"))
    assert str(result["composite"]).startswith(str(tmp_path / "venv"))
    assert result["lean_import"] is True and result["rich"] is False
    pins = {line.split("==")[0].lower(): line.split("==")[1] for line in LOCK.read_text().splitlines()
            if "==" in line and not line.startswith("#")}
    versions = result["versions"]
    assert isinstance(versions, dict)
    assert versions == {name: pins[name] for name in versions}
    # The console script is declared, but the command line is the `cli` extra: one line says how to get it.
    script = subprocess.run([str(tmp_path / "venv" / "bin" / "mastra-dynamo"), "--help"], capture_output=True,
                            text=True, timeout=60)
    assert script.returncode == 1
    assert script.stderr.strip().splitlines() == [
        "mastra-dynamo: the command line needs the 'cli' extra: pip install 'mastra-dynamo[cli]'"]


def test_install_next_to_a_newer_boto3_and_an_older_pydantic(wheel: Path, wheelhouse: Path, tmp_path: Path) -> None:
    python = install(wheel, wheelhouse, tmp_path / "venv", "boto3>=1.41", "pydantic<2.14")
    result = smoke(python, tmp_path)
    assert result["domains"] == DOMAINS
    versions = result["versions"]
    assert isinstance(versions, dict)
    boto3 = tuple(int(p) for p in versions["boto3"].split(".")[:2])
    pydantic = tuple(int(p) for p in versions["pydantic"].split(".")[:2])
    assert boto3 >= (1, 41) and pydantic < (2, 14), versions
