"""Packaging and import cost: the base package stays light for Lambda."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_pulls_in_no_driver_or_optional_dependency() -> None:
    code = (
        "import sys, mastra_dynamo\n"
        "heavy = [m for m in ('boto3', 'botocore', 'pynamodb', 'chdb', 'clickhouse_connect', 'aws_cdk', 'moto')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_wheel_holds_the_library_packages_only(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path),
         str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    tops = {name.split("/")[0] for name in zipfile.ZipFile(wheel).namelist() if not name.endswith("dist-info/")}
    tops = {t for t in tops if not t.endswith(".dist-info")}
    assert tops == {"mastra_dynamo", "composite"}
    names = zipfile.ZipFile(wheel).namelist()
    assert "mastra_dynamo/py.typed" in names
