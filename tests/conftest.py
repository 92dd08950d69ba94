"""Shared test helpers: temporary repositories written file by file, and the CLI run in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings

from envdoctor.cli import cli


class Repo:
    """A temporary repository: `repo.write("Dockerfile", "FROM python\\n")`, then `repo.check()`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, rel: str, text: str | bytes) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    def git(self, *args: str) -> str:
        return subprocess.run(["git", "-C", str(self.root), *args], check=True, capture_output=True,
                              text=True).stdout

    def init_git(self, commit: bool = True) -> None:
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "test@example.invalid")
        self.git("config", "user.name", "test")
        if commit:
            self.git("add", "-A")
            self.git("commit", "-q", "-m", "initial", "--allow-empty")

    def check(self, *args: str) -> "Result":
        return run_cli("check", str(self.root), *args)

    def findings(self, *args: str) -> list[dict]:
        result = self.check("--format", "json", *args)
        assert result.exit_code in (0, 1), result.output
        return json.loads(result.stdout)["findings"]

    def codes(self, *args: str) -> list[str]:
        return [f["code"] for f in self.findings(*args)]


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(*args: str, env: dict[str, str] | None = None) -> Result:
    runner = CliRunner()
    outcome = runner.invoke(cli, list(args), env=env, catch_exceptions=False)
    return Result(outcome.exit_code, outcome.stdout, outcome.stderr)


def run_subprocess(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "envdoctor", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60)


# The robustness suite's hypothesis profile (tests/robustness/robust_support.py uses it through
# `robust(...)`): deterministic (derandomized, no example database), no deadline (a scan takes tens of
# milliseconds, more on a busy CI machine). Registered here, not loaded: other suites keep hypothesis'
# defaults. It lives in this file because a second conftest.py would shadow this one's `from conftest
# import ...` helpers (tests import them by module name).
settings.register_profile(
    "envdoctor-robustness",
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                           HealthCheck.function_scoped_fixture],
)


@pytest.fixture(autouse=True, scope="session")
def _result_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """`python -m envdoctor check` in a subprocess may use the result cache (envdoctor/cache.py): keep it
    in a folder of this test session, not in the user's cache."""
    os.environ["ENVDOCTOR_CACHE_DIR"] = str(tmp_path_factory.mktemp("envdoctor-cache"))


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    root = tmp_path / "repo"
    root.mkdir()
    return Repo(root)
