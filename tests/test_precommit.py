"""The pre-commit hook (.pre-commit-hooks.yaml): its declaration, its `files` pattern against the files
envdoctor reads, and a real `pre-commit try-repo` run against a temporary git repository."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from envdoctor.files import path_kind

REPO_ROOT = Path(__file__).resolve().parent.parent
MANIFEST = REPO_ROOT / ".pre-commit-hooks.yaml"
PINNED = "python:3.12-slim@sha256:" + "ab" * 32


def hook() -> dict:
    (declared,) = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return declared


def test_manifest_is_valid_for_pre_commit_and_declares_a_whole_repository_hook():
    from pre_commit.clientlib import load_manifest

    (loaded,) = load_manifest(str(MANIFEST))  # pre-commit's own schema check
    declared = hook()
    assert loaded["id"] == declared["id"] == "envdoctor"
    assert declared["entry"] == "envdoctor check"
    assert declared["language"] == "python"
    assert declared["pass_filenames"] is False  # envdoctor judges the repository, not single files
    assert declared["require_serial"] is True
    assert "always_run" not in declared  # runs only when a relevant file changes


# Paths of every kind envdoctor reads (and of kinds it might), each also tried inside a sub-folder.
CANDIDATES = [
    "Dockerfile", "Containerfile", "dockerfile", "Dockerfile.dev", "api.Dockerfile", "worker.containerfile",
    ".dockerignore", "Dockerfile.dockerignore", "pyproject.toml", "envdoctor.toml", ".envdoctor.toml", "uv.toml",
    ".python-version", ".gitignore", "uv.lock", "poetry.lock", "pdm.lock", "Pipfile", "Pipfile.lock",
    "pylock.toml", "pylock.dev.toml", "conda-lock.yml", "app.conda-lock.yml", "conda-linux-64.lock",
    "spec-file.txt", "explicit.txt", "environment.yml", "environment.yaml", "dev-environment.yml",
    "requirements.txt", "requirements.in", "requirements-dev.txt", "dev_requirements.txt", "requirements/base.txt",
    "constraints.txt", "constraints-py311.txt", ".github/workflows/ci.yml", ".github/workflows/release.yaml",
    "action.yml", ".github/actions/setup/action.yml", ".github/actions/py/setup/action.yaml",
    ".circleci/config.yml", ".gitlab-ci.yml", ".gitlab-ci.yaml", "azure-pipelines.yml", "tox.ini",
    "noxfile.py", ".pre-commit-config.yaml", "scripts/setup.sh", "install.bash", "Makefile", "GNUmakefile",
    "justfile", "README.md", "readme.md", "docs/install.md", "docs/guide/setup.md",
]
# Files envdoctor does not read: a commit of only these must not run the hook.
NEAR_MISSES = [
    "src/app/main.py", "src/requirements.py", "docs/requirements.rst", "CHANGELOG.md", "src/app/notes.md",
    "mypyproject.toml", "pyproject.toml.bak", "setup.py", "setup.cfg", "docker-compose.yml",
    ".github/dependabot.yml", "tests/test_lock.py", "uv.lockfile", "notes/ci.yml", "src/app/shell.py",
]


def test_files_pattern_matches_every_file_envdoctor_reads():
    pattern = re.compile(hook()["files"])  # pre-commit applies it with re.search to repository paths
    read = [rel for name in CANDIDATES for rel in (name, f"services/api/{name}") if path_kind(rel)]
    assert len(read) > 60
    missed = [rel for rel in read if not pattern.search(rel)]
    assert missed == [], "files envdoctor reads but the hook would not run for"


def test_files_pattern_matches_a_committed_environment():
    # ED307 (a virtual environment tracked by git) is about the very commit that adds one: `git add .venv`
    # always stages its pyvenv.cfg, a conda environment its conda-meta/ records.
    pattern = re.compile(hook()["files"])
    for rel in (".venv/pyvenv.cfg", "services/api/venv/pyvenv.cfg", "env/conda-meta/history",
                "env/conda-meta/numpy-1.26.4-py312h0.json"):
        assert pattern.search(rel), rel
    for rel in (".venv/lib/python3.12/site-packages/six.py", "notes/pyvenv.cfg.txt", "conda-meta.txt"):
        assert not pattern.search(rel), rel


def test_files_pattern_matches_every_file_envdoctor_reads_in_this_repository():
    pattern = re.compile(hook()["files"])
    read = []
    for folder, dirs, names in os.walk(REPO_ROOT):
        dirs[:] = [d for d in dirs if d not in (".git", ".venv", "__pycache__", ".pytest_cache")]
        rel_folder = Path(folder).relative_to(REPO_ROOT).as_posix()
        read += [rel for name in names if path_kind(rel := name if rel_folder == "." else f"{rel_folder}/{name}")]
    assert read, "this repository has a pyproject.toml at least"
    assert [rel for rel in read if not pattern.search(rel)] == []


def test_files_pattern_leaves_other_files_alone():
    pattern = re.compile(hook()["files"])
    assert [rel for rel in NEAR_MISSES if path_kind(rel) is None] == NEAR_MISSES
    assert [rel for rel in NEAR_MISSES if pattern.search(rel)] == []


# --- the real thing -----------------------------------------------------------------------------------

# What pip prints when it cannot reach a package index: only then is the try-repo test skipped.
_OFFLINE = ("Failed to establish a new connection", "Temporary failure in name resolution", "Network is unreachable",
            "No matching distribution found", "Could not find a version that satisfies", "ProxyError",
            "Max retries exceeded", "Connection refused")


def _git(cwd: Path, *args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True).stdout


def _new_repo(path: Path) -> Path:
    path.mkdir()
    _git(path, "init", "-q", "-b", "main")
    _git(path, "config", "user.email", "test@example.invalid")
    _git(path, "config", "user.name", "test")
    return path


def _snapshot(tmp_path: Path) -> Path:
    """This repository as it is on disk (tracked and new files, not ignored ones), committed in a temporary
    repository: what `pre-commit try-repo` installs is then exactly the code under test, whether or not
    all of it is committed yet (try-repo on a working tree would leave new, unstaged files out)."""
    try:
        listed = _git(REPO_ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("the envdoctor sources are not a git checkout, and try-repo needs one")
    snapshot = _new_repo(tmp_path / "envdoctor")
    for name in filter(None, listed.split(b"\0")):
        source = REPO_ROOT / os.fsdecode(name)
        if source.is_file() and not source.is_symlink():
            target = snapshot / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    _git(snapshot, "add", "-A")
    _git(snapshot, "commit", "-q", "-m", "snapshot")
    return snapshot


@pytest.mark.slow
def test_pre_commit_try_repo_fails_on_a_bad_dockerfile_and_passes_once_fixed(tmp_path):
    pre_commit = Path(sys.executable).parent / "pre-commit"
    if not pre_commit.exists():
        pytest.skip("pre-commit is not installed beside this Python (it is a dev dependency)")
    envdoctor = _snapshot(tmp_path)
    work = _new_repo(tmp_path / "work")
    (work / "Dockerfile").write_text("FROM python:latest\nRUN echo hi\n", encoding="utf-8")
    (work / "app.py").write_text("print('hi')\n", encoding="utf-8")
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "initial")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "PRE_COMMIT_COLOR": "never",
           "NO_COLOR": "1", "SKIP": ""}

    def try_repo() -> subprocess.CompletedProcess:
        # Without --all-files pre-commit runs the hook only if a staged file matches its `files`.
        proc = subprocess.run([str(pre_commit), "try-repo", str(envdoctor), "envdoctor"], cwd=work, env=env,
                              capture_output=True, text=True, timeout=900)
        if re.search(r"An (unexpected )?error has occurred", proc.stdout + proc.stderr):
            if any(marker in proc.stdout + proc.stderr for marker in _OFFLINE):
                pytest.skip("pre-commit could not install envdoctor's dependencies into its own environment: "
                            "no package index is reachable from here (offline CI)")
            pytest.fail(f"pre-commit failed to run the hook:\n{proc.stdout}\n{proc.stderr}")
        return proc

    # A requirements change is staged; the Dockerfile, already committed, floats: the hook checks the
    # whole repository (pass_filenames: false), so it fails on the Dockerfile.
    (work / "requirements.txt").write_text("click==8.1.7\n", encoding="utf-8")
    _git(work, "add", "requirements.txt")
    failed = try_repo()
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert re.search(r"^envdoctor\.+Failed$", failed.stdout, re.MULTILINE), failed.stdout
    assert "- exit code: 1" in failed.stdout
    assert "Dockerfile" in failed.stdout and "ED101 base-image-latest" in failed.stdout
    assert "Base image 'python:latest' floats" in failed.stdout

    # Fixed and staged: the hook passes.
    (work / "Dockerfile").write_text(f"FROM {PINNED}\nRUN echo hi\n", encoding="utf-8")
    _git(work, "add", "Dockerfile")
    passed = try_repo()
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert re.search(r"^envdoctor\.+Passed$", passed.stdout, re.MULTILINE), passed.stdout
    assert "ED101" not in passed.stdout
    _git(work, "commit", "-q", "-m", "pin the base image")

    # A commit of files envdoctor does not read does not run it at all.
    (work / "app.py").write_text("print('hello')\n", encoding="utf-8")
    _git(work, "add", "app.py")
    skipped = try_repo()
    assert skipped.returncode == 0, skipped.stdout + skipped.stderr
    assert re.search(r"^envdoctor\.+\(no files to check\)Skipped$", skipped.stdout, re.MULTILINE), skipped.stdout
