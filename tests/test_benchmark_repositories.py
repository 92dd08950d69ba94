"""benchmarks/run.py's generated repositories are what it says: realistic services whose lock is current
and whose .dockerignore keeps the virtual environment out, so a benchmark times the path a maintained
repository takes, not the reporting of a stale lock. Their one deliberate problem is the tag-only base image
(ED102), which hadolint's timing does not depend on."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import Repo

from envdoctor.sources.lockfiles import parse_uv_lock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import run  # noqa: E402  (benchmarks/ is not a package)


def test_generated_services_have_a_current_lock_and_only_tag_only_bases(repo: Repo) -> None:
    run.generate(repo.root, dockerfiles=3, pyprojects=3, lock_packages=60)
    repo.init_git()
    findings = repo.findings()
    assert {f["code"] for f in findings} == {"ED102"}
    assert len(findings) == 6  # two FROM lines in each of three Dockerfiles


def test_the_generated_lock_is_stale_once_its_project_changes(repo: Repo) -> None:
    """Near-miss: the lock is current because it matches PYPROJECT, not because ED203 passes anything."""
    run.generate(repo.root, dockerfiles=1, lock_packages=20)
    pyproject = repo.root / "services" / "service0" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"pytest>=8"', '"pytest>=8", "ruff"'))
    repo.init_git()
    assert "ED203" in repo.codes()


def test_every_locked_package_is_reachable_from_the_project() -> None:
    lock = parse_uv_lock(run.uv_lock(0, 150), "uv.lock")
    assert len(lock.packages) == 150 + 1
    edges = {p.name: list(p.dependencies) for p in lock.packages}
    seen, todo = set(), ["service0"]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(edges.get(name, []))
            if name == "psycopg":
                todo.append("psycopg-binary")  # through the `binary` extra
            if name == "service0":
                todo.append("pytest")  # through the dev group
    assert seen == set(edges)
