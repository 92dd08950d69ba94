"""ED307 virtualenv-committed and ED308 virtualenv-not-ignored: real git repositories, tracked or not."""

from __future__ import annotations

import shutil

import json

import pytest
from conftest import run_cli

CFG = "home = /usr/local/bin\ninclude-system-site-packages = false\nversion = 3.12.7\n"


def hits(repo, codes, *args):
    return [(f["path"], f["code"]) for f in repo.findings("--select", codes, *args)]


def make_venv(repo, folder):
    repo.write(f"{folder}/pyvenv.cfg", CFG)
    repo.write(f"{folder}/bin/activate", "VIRTUAL_ENV=/home/dev/app/venv\n")
    repo.write(f"{folder}/lib/python3.12/site-packages/six.py", "")


def make_conda_prefix(repo, folder):
    repo.write(f"{folder}/conda-meta/history", "==> 2026-01-01 <==\n")
    repo.write(f"{folder}/conda-meta/numpy-1.26.4-py312h0_0.json", "{}\n")
    repo.write(f"{folder}/lib/libpython3.12.so", "")


# --- ED307 -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("folder", ["venv", ".venv", "env", "tools/build-env"])
def test_ed307_flags_a_committed_virtualenv(repo, folder):
    make_venv(repo, folder)
    repo.write("app.py", "")
    repo.init_git()
    findings = repo.findings("--select", "ED307,ED308")
    assert [(f["path"], f["code"], f["severity"]) for f in findings] == [(folder, "ED307", "error")]
    assert f"'{folder}/' is tracked by git (3 files)" in findings[0]["message"]
    assert f"git rm -r --cached {folder}" in findings[0]["fix_hint"]


def test_ed307_flags_a_committed_conda_prefix(repo):
    make_conda_prefix(repo, "condaenv")
    repo.init_git()
    assert hits(repo, "ED307") == [("condaenv", "ED307")]


def test_ed307_flags_a_committed_environment_deleted_from_disk(repo):
    make_venv(repo, "env")
    repo.init_git()
    shutil.rmtree(repo.root / "env")
    assert hits(repo, "ED307") == [("env", "ED307")]


def test_ed307_respects_the_scanned_paths(repo):
    make_venv(repo, "a/env")
    repo.write("b/app.py", "")
    repo.init_git()
    result = run_cli("check", str(repo.root / "b"), "--select", "ED307", "--format", "json")
    assert json.loads(result.stdout)["findings"] == []
    result = run_cli("check", str(repo.root / "a"), "--select", "ED307", "--format", "json")
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["a/env"]


@pytest.mark.parametrize("setup", ["untracked", "fixture", "no-git", "ignored-dir"])
def test_ed307_near_misses(repo, setup):
    if setup == "untracked":
        repo.write(".gitignore", "venv/\n")
        make_venv(repo, "venv")
        repo.init_git()
    elif setup == "fixture":
        # a test fixture: a pyvenv.cfg and a conda-meta/ alone, no interpreter or library files
        repo.write("tests/fixtures/fake-venv/pyvenv.cfg", CFG)
        repo.write("tests/fixtures/fake-conda/conda-meta/history", "")
        repo.init_git()
    elif setup == "no-git":
        make_venv(repo, "venv")
    else:  # tracked under a folder excluded from the scan, and gone from disk
        make_venv(repo, ".tox/py312")
        repo.init_git()
        shutil.rmtree(repo.root / ".tox")
    assert hits(repo, "ED307") == []


# --- ED308 -------------------------------------------------------------------------------------------------


def test_ed308_flags_an_unignored_virtualenv(repo):
    repo.write("app.py", "")
    repo.init_git()
    make_venv(repo, ".venv")
    findings = repo.findings("--select", "ED307,ED308")
    assert [(f["path"], f["code"], f["severity"]) for f in findings] == [(".venv", "ED308", "warning")]
    assert "`.venv/` to .gitignore" in findings[0]["fix_hint"]


def test_ed308_flags_an_unignored_conda_prefix_and_a_second_env(repo):
    repo.write(".gitignore", "*.pyc\n")
    repo.init_git()
    make_conda_prefix(repo, "prefix")
    make_venv(repo, "venv2")
    assert hits(repo, "ED308") == [("prefix", "ED308"), ("venv2", "ED308")]


@pytest.mark.parametrize("setup", ["gitignore", "gitignore-no-slash", "inner-gitignore", "info-exclude",
                                   "tracked", "no-git", "conda-ignored"])
def test_ed308_near_misses(repo, setup):
    if setup == "gitignore":
        repo.write(".gitignore", ".venv/\n")
    elif setup == "gitignore-no-slash":
        repo.write(".gitignore", "/.venv\n")
    elif setup == "inner-gitignore":  # uv and Python 3.13's venv write this
        repo.write(".venv/.gitignore", "*\n")
    elif setup == "conda-ignored":
        repo.write(".gitignore", "prefix/\n")
        make_conda_prefix(repo, "prefix")
    if setup != "no-git":
        repo.init_git(commit=setup == "tracked")
    if setup == "tracked":
        repo.git("add", "-A")
        repo.git("commit", "-q", "-m", "init", "--allow-empty")
    if setup == "info-exclude":
        (repo.root / ".git" / "info").mkdir(exist_ok=True)
        (repo.root / ".git" / "info" / "exclude").write_text(".venv\n")
    if setup == "tracked":
        make_venv(repo, "venv")
        repo.git("add", "-A")
        repo.git("commit", "-q", "-m", "venv")
    elif setup != "conda-ignored":
        make_venv(repo, ".venv")
    assert hits(repo, "ED308") == []
