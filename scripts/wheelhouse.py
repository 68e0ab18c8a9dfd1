"""Fill a wheelhouse for the offline tests and the Lambda layer: ``python scripts/wheelhouse.py DIR``.

``make test`` runs pytest inside a network namespace with no route out, so what the packaging tests and the
layer build install must be on disk first. Downloads (pip's cache makes repeated runs cheap), into DIR:

* the runtime requirements at the lock's versions for this interpreter (a base install of the built wheel);
* the same for the default Lambda runtime (CPython 3.13, manylinux x86_64, glibc 2.34): the layer;
* the runtime requirements with the versions of constraints/compat.txt (a newer boto3, an older pydantic).
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra.packaging import DEFAULT_PYTHON, pip_platform_arguments  # noqa: E402


def main(dest: Path) -> None:
    requirements = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    pip = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--only-binary=:all:",
           "--dest", str(dest)]
    lock, compat = ["-c", str(ROOT / "constraints/lock.txt")], ["-c", str(ROOT / "constraints/compat.txt")]
    runs = [
        [*pip, *lock, *requirements],
        [*pip, *lock, "--implementation", "cp", "--python-version", DEFAULT_PYTHON,
         *pip_platform_arguments(DEFAULT_PYTHON), *requirements],
        [*pip, *compat, *requirements, "boto3>=1.41", "pydantic<2.14"],
    ]
    for command in runs:
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
