"""Policies about this repository itself: what may be committed, and docs that must agree with the code."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

import pytest

from envdoctor.registry import load_rules

ROOT = Path(__file__).resolve().parent.parent

# The workplace forbids naming the package registries' hosts in any committed file. Only their hashes
# stand here (first 16 hex digits of sha256), so that this test does not name them either.
FORBIDDEN_HOST_HASHES = {
    "a4aa2ac280bb8d1a", "c899567ee9068517", "d6d7019ca9fcbf07", "9495278a74715c7e", "0dc11026ac75c015",
    "e680c440a2e92079", "1ba4e37997a2e986", "c2b35955576ffa71", "70bb4000cd2fab03", "9ab2ad663f3d2a5e",
}
HOST_RE = re.compile(rb"[a-z0-9][a-z0-9.-]*\.(?:org|com|net|io)\b")


def _tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return [ROOT / p.decode() for p in out.split(b"\0") if p]


def test_no_registry_host_is_named_in_a_committed_file():
    offenders = []
    for path in _tracked_files():
        if not path.is_file():
            continue
        for host in set(HOST_RE.findall(path.read_bytes().lower())):
            if hashlib.sha256(host).hexdigest()[:16] in FORBIDDEN_HOST_HASHES:
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_uv_lock_is_not_tracked_and_the_export_is():
    tracked = {p.relative_to(ROOT).as_posix() for p in _tracked_files()}
    assert "uv.lock" not in tracked
    assert "requirements.lock.txt" in tracked


def test_docs_rules_index_lists_every_rule_as_the_registry_says():
    rows = {}
    for line in (ROOT / "docs" / "rules.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and re.fullmatch(r"ED\d{3}", cells[0]):
            rows[cells[0]] = (cells[1], cells[2], cells[3])
    expected = {r.code: (r.name, r.severity.label, "yes" if r.default_enabled else "no")
                for r in load_rules(plugins=False)}
    assert rows == expected


def test_version_agrees_between_pyproject_and_package():
    import envdoctor
    from envdoctor.config import load_toml

    assert load_toml(ROOT / "pyproject.toml")["project"]["version"] == envdoctor.__version__
