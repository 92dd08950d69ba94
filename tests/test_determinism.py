"""The same repository gives the same report, byte for byte, whatever the interpreter's hash seed: no
message or order may depend on set or dict iteration of strings (PYTHONHASHSEED differs per process)."""

from __future__ import annotations

import os
import subprocess
import sys

PYPROJECT = """[project]
name = "svc"
version = "1"
requires-python = ">=3.12"
dependencies = ["fastapi>=0.110", "sqlalchemy>=2.0", "psycopg[binary]>=3.1", "httpx", "rich>=13"]

[project.optional-dependencies]
cli = ["click>=8", "typer"]

[dependency-groups]
dev = ["pytest>=8", "ruff", "mypy"]
"""
UV_LOCK = """version = 1
revision = 3
requires-python = ">=3.12"

[[package]]
name = "svc"
version = "1"
source = { virtual = "." }
"""


def test_reports_do_not_depend_on_the_hash_seed(repo):
    repo.write("pyproject.toml", PYPROJECT)
    repo.write("uv.lock", UV_LOCK)  # stale: every declared requirement was added since
    repo.write("Dockerfile", "FROM python:3.12\nCOPY . .\nRUN pip install -e . fastapi uvicorn\n")
    repo.write("requirements.txt", "fastapi\nhttpx>=0.27\n")
    repo.write("environment.yml", "name: svc\ndependencies:\n  - python\n  - numpy\n  - pip:\n    - torch\n")
    outputs = set()
    for seed in ("1", "2", "3", "4"):
        done = subprocess.run([sys.executable, "-m", "envdoctor", "check", str(repo.root), "--format", "json",
                               "--no-cache"], capture_output=True, text=True, timeout=60,
                              env=dict(os.environ, PYTHONHASHSEED=seed))
        assert done.returncode == 1, done.stderr
        outputs.add(done.stdout)
    assert len(outputs) == 1
