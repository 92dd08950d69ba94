"""The result cache (envdoctor/cache.py): a repeated `check` replays its output only while nothing it read
has changed. Each test primes a repository, checks that the next run is a hit with the same output, then
makes one change a user could make and checks that the run after it is a miss.

Runs go through `python -m envdoctor` in a subprocess, as the console script runs. The cache does not
trust inputs changed in the two seconds before a run ends, so the repositories are back-dated and the
fixture waits that long once for all of them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from envdoctor import cache

HOUR_AGO = time.time() - 3600

DOCKERFILE = "FROM python:latest\nCOPY . /app\nRUN pip install /app\n"
PYPROJECT = '[project]\nname = "demo"\nversion = "1"\nrequires-python = ">=3.11"\ndependencies = ["attrs>=23"]\n'
UV_LOCK = '''version = 1
revision = 3
requires-python = ">=3.11"

[[package]]
name = "attrs"
version = "23.2.0"
source = { registry = "https://index.example.invalid/simple" }
sdist = { url = "https://index.example.invalid/files/attrs-23.2.0.tar.gz", hash = "sha256:00", size = 1 }

[[package]]
name = "demo"
version = "1"
source = { editable = "." }
dependencies = [{ name = "attrs" }]

[package.metadata]
requires-dist = [{ name = "attrs", specifier = ">=23" }]
'''

SCENARIOS = ("hit", "same-size-edit", "new-dockerfile", "gitignore", "git-add", "config", "env-today",
             "installed-package", "base-python-gone", "argv", "corrupt-entry", "racy")


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid",
                            GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid"))


def _make_repo(root: Path, base_python: Path) -> None:
    root.mkdir(parents=True)
    (root / "Dockerfile").write_text(DOCKERFILE)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "uv.lock").write_text(UV_LOCK)
    site = root / ".venv" / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    (root / ".venv" / "pyvenv.cfg").write_text(f"home = {base_python}\nversion_info = 3.11.7\n")
    (site / "attrs-23.2.0.dist-info").mkdir()
    (site / "attrs-23.2.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: attrs\nVersion: 23.2.0\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "Dockerfile", "pyproject.toml")
    _git(root, "commit", "-q", "-m", "initial")


def _backdate(root: Path, when: float = HOUR_AGO) -> None:
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            os.utime(os.path.join(folder, name), (when, when), follow_symlinks=False)
    os.utime(root, (when, when))


def run(root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """(exit code, stdout, what the cache said: 'hit', 'miss, stored' or 'miss, <why not stored>')."""
    done = subprocess.run([sys.executable, "-m", "envdoctor", "check", str(root), "--format", "json", *args],
                          capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, ENVDOCTOR_CACHE_TRACE="1", **(env or {})))
    said = [line.split("cache: ", 1)[1] for line in done.stderr.splitlines() if "envdoctor: cache: " in line]
    return done.returncode, done.stdout, said[-1] if said else "not asked"


def fresh(root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    code, out, said = run(root, *args, env=dict(env or {}, ENVDOCTOR_NO_CACHE="1"))
    assert said == "not asked"
    return code, out


@pytest.fixture(scope="module")
def primed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One primed repository per scenario: its second run was a hit."""
    base = tmp_path_factory.mktemp("cache")
    repos = {}
    for name in SCENARIOS:
        python = base / f"python-{name}" / "bin"
        python.mkdir(parents=True)
        _make_repo(base / name, python)
        if name == "gitignore":  # a second environment, in a folder whose .gitignore will be edited
            (base / name / "svc" / "venv").mkdir(parents=True)
            (base / name / "svc" / "venv" / "pyvenv.cfg").write_text(f"home = {python}\n")
            (base / name / "svc" / ".gitignore").write_text("# nothing yet\n")
        _backdate(base / name)
        repos[name] = base / name
    time.sleep(cache.RACY_NS / 1e9 + 0.2)
    for root in repos.values():
        first = run(root)
        assert first[2].endswith(", stored"), first
        second = run(root)
        assert second[2] == "hit", second
        assert second[:2] == first[:2]
    return repos


def codes(out: str) -> list[str]:
    return sorted(f["code"] for f in json.loads(out)["findings"])


def test_a_hit_replays_the_output_and_exit_code_of_a_fresh_run(primed):
    root = primed["hit"]
    code, out, said = run(root)
    assert said == "hit"
    assert (code, out) == fresh(root)
    assert code == 1 and "ED101" in codes(out)


def test_an_edit_that_keeps_size_and_mtime_is_still_seen(primed):
    root = primed["same-size-edit"]
    path = root / "Dockerfile"
    before = codes(run(root)[1])
    path.write_text(DOCKERFILE.replace("latest", "3.12.1"))  # same length
    os.utime(path, (HOUR_AGO, HOUR_AGO))
    code, out, said = run(root)
    assert not said.startswith("hit")
    assert (code, out) == fresh(root)
    assert codes(out) != before


def test_a_new_file_in_a_scanned_folder_is_seen(primed):
    root = primed["new-dockerfile"]
    (root / "svc").mkdir()
    (root / "svc" / "Dockerfile").write_text("FROM node:latest\n")
    code, out, said = run(root)
    assert not said.startswith("hit")
    assert any(f["path"] == "svc/Dockerfile" for f in json.loads(out)["findings"])


def test_a_gitignore_edit_is_seen(primed):
    root = primed["gitignore"]
    def unignored(out: str) -> list[str]:
        return [f["path"] for f in json.loads(out)["findings"] if f["code"] == "ED308"]
    assert "svc/venv" in unignored(run(root)[1])
    with open(root / "svc" / ".gitignore", "a") as handle:  # an edit: no folder listing changes
        handle.write("venv/\n")
    code, out, said = run(root)
    assert not said.startswith("hit")
    assert "svc/venv" not in unignored(out)
    assert (code, out) == fresh(root)


def test_staging_a_file_is_seen(primed):
    root = primed["git-add"]
    assert "ED202" in codes(run(root)[1])  # uv.lock is not committed
    _git(root, "add", "uv.lock")
    code, out, said = run(root)
    assert not said.startswith("hit")
    assert (code, out) == fresh(root)
    assert "ED202" not in codes(out)


def test_a_configuration_change_is_seen(primed):
    root = primed["config"]
    with open(root / "pyproject.toml", "a") as handle:
        handle.write('\n[tool.envdoctor]\nignore = ["ED101"]\n')
    code, out, said = run(root)
    assert not said.startswith("hit")
    assert "ED101" not in codes(out)


def test_the_date_and_environment_are_part_of_the_key(primed):
    root = primed["env-today"]
    code, out, said = run(root, env={"ENVDOCTOR_TODAY": "2031-01-01"})
    assert said.startswith("miss")
    assert (code, out) == fresh(root, env={"ENVDOCTOR_TODAY": "2031-01-01"})


def test_a_package_installed_into_the_environment_is_seen(primed):
    root = primed["installed-package"]
    site = root / ".venv" / "lib" / "python3.11" / "site-packages"
    (site / "extra-1.0.dist-info").mkdir()
    (site / "extra-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: extra\nVersion: 1.0\n")
    code, out, said = run(root)
    assert not said.startswith("hit")
    assert (code, out) == fresh(root)


def test_the_environments_base_python_removed_outside_the_root_is_seen(primed):
    root = primed["base-python-gone"]
    assert "ED406" not in codes(run(root)[1])
    shutil.rmtree(root.parent / "python-base-python-gone")
    code, out, said = run(root)
    assert not said.startswith("hit")
    assert "ED406" in codes(out)


def test_other_arguments_are_another_entry(primed):
    root = primed["argv"]
    code, out, said = run(root, "--select", "ED1")
    assert said.startswith("miss")
    assert set(codes(out)) <= {c for c in codes(out) if c.startswith("ED1")}


def test_a_corrupt_entry_is_a_miss(primed, tmp_path):
    root = primed["corrupt-entry"]
    own = {"ENVDOCTOR_CACHE_DIR": str(tmp_path / "cache")}
    assert run(root, env=own)[2].endswith(", stored")
    assert run(root, env=own)[2] == "hit"
    for entry in (tmp_path / "cache").glob("*.bin"):
        entry.write_bytes(entry.read_bytes()[:40])  # truncated
    code, out, said = run(root, env=own)
    assert said.endswith(", stored")
    assert (code, out) == fresh(root)
    for entry in (tmp_path / "cache").glob("*.bin"):
        entry.write_bytes(b"\x00garbage")
    assert run(root, env=own)[2].endswith(", stored")


def test_inputs_changed_just_before_a_run_are_not_trusted(primed):
    root = primed["racy"]
    (root / "Dockerfile").write_text(DOCKERFILE + "USER app\n")
    said = run(root)[2]
    assert said.startswith("miss (") and said.endswith("Dockerfile changed during the run or less than 2 s before its end")


def test_the_hit_path_imports_neither_click_nor_the_engine(primed):
    root = primed["hit"]
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "envdoctor", "check", str(root), "--format",
                           "json"], capture_output=True, text=True, env=dict(os.environ, ENVDOCTOR_CACHE_TRACE="1"))
    assert "envdoctor: cache: hit" in done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time")}
    assert "envdoctor.cache" in imported
    assert not {"click", "envdoctor.cli", "envdoctor.engine", "envdoctor.project"} & imported


def test_a_run_that_fails_is_not_stored(repo):
    repo.write("Dockerfile", "FROM python:latest\n")
    _backdate(repo.root)
    code, _, said = run(repo.root, "--select", "NOPE999")
    assert code == 2 and said.endswith(", exit code 2")


@pytest.mark.parametrize("argv, allowed", [
    (["check", "."], True),
    (["check", ".", "--format", "sarif", "-q"], True),
    (["check", "--color", "never"], True),
    (["check", "--fix"], False),
    (["check", "--diff"], False),
    (["check", "-o", "report.json"], False),
    (["check", "-qo", "report.json"], False),
    (["check", "--output=report.json"], False),
    (["check", "--python", "/usr/bin/python3"], False),
    (["check", "--digest-map", "d.toml"], False),
    (["check", "--no-cache"], False),
    (["check", "--color", "always"], False),
    (["check", "--color=always"], False),
    (["check", "--", "--fix"], True),  # a path named --fix
    (["doctor"], False),
    (["rules"], False),
    ([], False),
])
def test_which_command_lines_may_be_cached(monkeypatch, argv, allowed):
    monkeypatch.delenv("ENVDOCTOR_NO_CACHE", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setattr(os, "isatty", lambda fd: False)
    assert cache.cacheable(argv) is allowed


def test_output_to_a_terminal_is_never_cached(monkeypatch):
    monkeypatch.delenv("ENVDOCTOR_NO_CACHE", raising=False)
    monkeypatch.setattr(os, "isatty", lambda fd: True)
    assert not cache.cacheable(["check", "."])


def test_the_recorder_sees_stats_listings_and_opens_then_restores_os(tmp_path):
    (tmp_path / "a").write_text("x")
    original = os.stat
    with cache.Recording(["check"]):
        os.path.exists(tmp_path / "missing")
        os.listdir(tmp_path)
        (tmp_path / "a").read_text()
        (tmp_path / "a").resolve()
        seen = set(cache._RECORDER.paths)
    assert os.stat is original
    assert {str(tmp_path / "missing"), str(tmp_path), str(tmp_path / "a")} <= seen
    assert str(tmp_path) in cache._RECORDER.listed


def test_a_folder_that_was_only_looked_at_is_not_judged_by_its_mtime(tmp_path):
    (tmp_path / "d").mkdir()
    looked = cache.signature(str(tmp_path / "d"), listed=False)
    listed = cache.signature(str(tmp_path / "d"), listed=True)
    (tmp_path / "d" / "new").write_text("")
    assert cache.signature(str(tmp_path / "d"), listed=False) == looked
    assert cache.signature(str(tmp_path / "d"), listed=True) != listed
    assert cache.signature(str(tmp_path / "nothing"), listed=False) is None


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root to hand a file to another user")
def test_an_entry_owned_by_another_user_is_not_read(primed, tmp_path):
    root = primed["hit"]
    own = {"ENVDOCTOR_CACHE_DIR": str(tmp_path / "own-cache")}
    assert run(root, env=own)[2].endswith(", stored")
    assert run(root, env=own)[2] == "hit"
    for entry in (tmp_path / "own-cache").glob("*.bin"):
        os.chown(entry, 4242, 4242)
    said = run(root, env=own)[2]
    assert said.startswith("miss (entry owned by another user)")


def test_asking_why_does_not_change_the_entry(primed, tmp_path):
    """ENVDOCTOR_CACHE_TRACE only explains: a run without it and one with it share their entry."""
    root = primed["hit"]
    own = {"ENVDOCTOR_CACHE_DIR": str(tmp_path / "own-cache")}
    done = subprocess.run([sys.executable, "-m", "envdoctor", "check", str(root), "--format", "json"],
                          capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in dict(os.environ, **own).items() if k != "ENVDOCTOR_CACHE_TRACE"})
    assert done.returncode == 1 and done.stderr == ""
    assert run(root, env=own)[2] == "hit"
