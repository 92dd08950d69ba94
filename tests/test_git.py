"""Git facts are read without running anything the scanned repository configures."""

from __future__ import annotations

import shutil

import pytest

from envdoctor.git import GitFacts, blob_id

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def _hostile_repo(repo, marker):
    repo.write(".gitattributes", "*.lock filter=evil diff=evil\n")
    repo.write("uv.lock", "version = 1\n")
    repo.write(".gitignore", ".venv/\n")
    repo.init_git()
    command = f"sh -c 'echo ran >> {marker}'"
    for key in ("core.fsmonitor", "filter.evil.clean", "filter.evil.smudge", "diff.evil.textconv",
                "diff.external", "core.pager", "core.sshCommand"):
        repo.git("config", key, command)
    repo.write(".git/hooks/post-checkout", f"#!/bin/sh\necho ran >> {marker}\n")
    (repo.root / ".git/hooks/post-checkout").chmod(0o755)
    repo.write("uv.lock", "version = 1\nrevision = 3\n")  # modified: `git status` would run the clean filter


def test_no_repository_configured_command_runs(repo, tmp_path):
    marker = tmp_path / "marker"
    _hostile_repo(repo, marker)
    facts = GitFacts.read(repo.root)
    assert facts.available
    assert facts.tracked("uv.lock")
    assert facts.modified("uv.lock") is True
    assert facts.ignored([".venv/", "other"]) == {".venv/"}
    assert facts.staged == set()
    # the whole scan too
    assert repo.check("--select", "ALL").exit_code in (0, 1)
    assert not marker.exists(), "a command configured by the scanned repository ran"


def test_modified_and_staged(repo):
    repo.write("pyproject.toml", "[project]\nname = 'x'\n")
    repo.init_git()
    facts = GitFacts.read(repo.root)
    assert facts.modified("pyproject.toml") is False
    assert facts.modified("missing") is None
    repo.write("pyproject.toml", "[project]\nname = 'y'\n")
    repo.git("add", "pyproject.toml")
    facts = GitFacts.read(repo.root)
    assert facts.modified("pyproject.toml") is False
    assert facts.staged == {"pyproject.toml"}


def test_outside_a_repository(tmp_path):
    facts = GitFacts.read(tmp_path)
    assert not facts.available and facts.reason
    assert facts.ignored(["x"]) == set()


def test_blob_id_matches_git(repo):
    repo.write("f", "hello\n")
    repo.init_git()
    assert GitFacts.read(repo.root).index["f"] == blob_id(b"hello\n")


def test_ignored_answers_like_git_check_ignore(repo):
    repo.write(".gitignore", "*.log\n!keep.log\n.venv/\n")
    for rel in ("a.log", "keep.log", "tracked.log", "t.txt", ".venv/pyvenv.cfg"):
        repo.write(rel, "")
    repo.init_git(commit=False)
    repo.git("add", ".gitignore", "t.txt")
    repo.git("add", "-f", "tracked.log")
    repo.git("commit", "-q", "-m", "x")
    facts = GitFacts.read(repo.root)
    asked = ["a.log", "keep.log", "tracked.log", "t.txt", ".venv/pyvenv.cfg", ".venv", "missing/b.log", "x"]
    assert facts.ignored(asked) == {"a.log", ".venv", ".venv/pyvenv.cfg", "missing/b.log"}
    assert facts.ignored(["a.log"]) == {"a.log"}  # from the cache
    facts.close()
    facts._ignore_cache.clear()
    facts.__dict__["_checker"] = None  # no long-lived process: the batch call answers the same
    assert facts.ignored(asked) == {"a.log", ".venv", ".venv/pyvenv.cfg", "missing/b.log"}
