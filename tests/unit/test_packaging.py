"""Packaging and import cost: the base package stays light for Lambda."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_pulls_in_no_driver_or_optional_dependency() -> None:
    code = (
        "import sys, mastra_dynamo\n"
        "heavy = [m for m in ('boto3', 'botocore', 'pynamodb', 'chdb', 'clickhouse_connect', 'aws_cdk', 'moto',"
        " 'mastra_dynamo.composite', 'click', 'rich') if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_wheel_holds_the_library_packages_only(tmp_path: Path) -> None:
    # built from a copy of what the build reads: setuptools writes build/ and *.egg-info into the source tree,
    # and builds of the same tree by other interpreters running at the same time would mix into this one
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    for name in ("mastra_dynamo", "composite"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
         str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = out.glob("*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist() if not name.endswith("dist-info/")}
    tops = {t for t in tops if not t.endswith(".dist-info")}
    assert tops == {"mastra_dynamo"}  # the composite store is mastra_dynamo.composite, never a top-level package
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"mastra_dynamo/py.typed", "mastra_dynamo/composite/py.typed"} <= names
    sources = {f"mastra_dynamo/{p.relative_to(ROOT / 'mastra_dynamo').as_posix()}"
               for p in (ROOT / "mastra_dynamo").rglob("*.py") if "__pycache__" not in p.parts}
    sources |= {f"mastra_dynamo/composite/{p.relative_to(ROOT / 'composite').as_posix()}"
                for p in (ROOT / "composite").rglob("*.py") if "__pycache__" not in p.parts}
    assert sources - names == set(), "a package is missing from [tool.setuptools] packages in pyproject.toml"
