"""Helpers of the robustness suite (tests/robustness): the hypothesis profile and whole-repository scans."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import settings

from envdoctor.config import Config
from envdoctor.engine import ScanResult, scan
from envdoctor.registry import Registry, load_rules

PROFILE = "envdoctor-robustness"  # registered in tests/conftest.py
SCALE = max(float(os.environ.get("ENVDOCTOR_ROBUST_EXAMPLES", "1")), 0.01)

_REGISTRY: Registry | None = None


def robust(max_examples: int) -> settings:
    """The suite's profile with `max_examples` (times ENVDOCTOR_ROBUST_EXAMPLES)."""
    return settings(settings.get_profile(PROFILE), max_examples=max(1, int(max_examples * SCALE)))


def registry() -> Registry:
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = load_rules(plugins=False)
    return _REGISTRY


def scan_all(root: Path, **config: object) -> ScanResult:
    """Every rule, as `envdoctor check --select ALL` runs them (no interpreter probe, no plugins)."""
    return scan(root, Config(select=("ALL",), **config), registry())  # type: ignore[arg-type]


def line_count(path: Path) -> int:
    """Lines as envdoctor counts them: `\\n`-separated (a final newline ends the last line)."""
    data = path.read_bytes()
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = REPOSITORY_ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"


def run_cli(*args: str):
    """The CLI in-process, as tests/conftest.py's run_cli (kept here so that this folder needs no conftest)."""
    from click.testing import CliRunner

    from envdoctor.cli import cli

    outcome = CliRunner().invoke(cli, list(args), catch_exceptions=False)

    class Result:
        exit_code = outcome.exit_code
        stdout = outcome.stdout
        stderr = outcome.stderr
        output = outcome.stdout + outcome.stderr

    return Result()
