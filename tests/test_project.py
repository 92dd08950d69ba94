"""Discovery and safe reading: what the walk visits, skips and reports, and files that cannot be read."""

from __future__ import annotations

import os

import pytest

from envdoctor.config import Config
from envdoctor.files import SourceError, decode, file_kind, is_dockerfile, split_lines
from envdoctor.project import Project, compile_glob


@pytest.mark.parametrize("name", ["Dockerfile", "dockerfile", "Containerfile", "Dockerfile.prod",
                                  "api.Dockerfile", "DOCKERFILE", "Containerfile.gpu", "build.containerfile"])
def test_dockerfile_names(name):
    assert is_dockerfile(name)


@pytest.mark.parametrize("name", ["Dockerfile.dockerignore", "Dockerfile.j2", "Dockerfile.in", "Dockerfile.md",
                                  "Dockerfiles", "mydockerfile", "docker-compose.yml", "Dockerfile.bak",
                                  "dockerfile.py", "test_dockerfile.py", "Dockerfile.yaml", "dockerfile.json"])
def test_not_dockerfile_names(name):
    assert not is_dockerfile(name)


def test_file_kinds():
    assert file_kind("requirements.txt") == "requirements"
    assert file_kind("requirements-dev.in") == "requirements"
    assert file_kind("dev-requirements.txt") == "requirements"
    assert file_kind("requirements.lock.txt") == "requirements"
    assert file_kind("notes.txt") is None
    assert file_kind("uv.lock") == "lockfile"
    assert file_kind("pylock.dev.toml") == "lockfile"


def test_walk_skips_vcs_environments_caches_and_build_output(repo):
    for rel in ["Dockerfile", ".git/Dockerfile", "node_modules/x/Dockerfile", "build/Dockerfile",
                ".tox/py/Dockerfile", "pkg.egg-info/Dockerfile", "env1/Dockerfile", "src/app/Dockerfile"]:
        repo.write(rel, "FROM scratch\n")
    repo.write("env1/pyvenv.cfg", "home = /usr/bin\n")
    repo.write("conda/conda-meta/history", "")
    repo.write(".venv/pyvenv.cfg", "home = /usr/bin\n")  # excluded by default, still an environment
    repo.write(".venv/lib/Dockerfile", "FROM scratch\n")
    repo.write("venv/not-an-env.txt", "")
    project = Project(repo.root, Config())
    assert project.files("dockerfile") == ["Dockerfile", "src/app/Dockerfile"]
    assert project.environments == [".venv", "conda", "env1"]


def test_exclude_replaces_defaults_and_extend_exclude_adds(repo):
    repo.write("build/Dockerfile", "FROM scratch\n")
    repo.write("legacy/Dockerfile", "FROM scratch\n")
    assert Project(repo.root, Config(exclude=("legacy",))).files("dockerfile") == ["build/Dockerfile"]
    assert Project(repo.root, Config(extend_exclude=("legacy",))).files("dockerfile") == []


def test_compile_glob():
    assert compile_glob("legacy").match("a/legacy/Dockerfile")
    assert compile_glob("docs/*.Dockerfile").match("docs/x.Dockerfile")
    assert not compile_glob("docs/*.Dockerfile").match("sub/docs/x.Dockerfile")
    assert compile_glob("**/tmp").match("a/b/tmp/c")
    assert not compile_glob("tmp").match("tmpfiles/x")


def test_links_never_lead_out_of_the_root_and_loops_do_not_hang(repo, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Dockerfile").write_text("FROM python\n")
    os.symlink(outside, repo.root / "linked-dir")
    os.symlink(outside / "Dockerfile", repo.root / "Dockerfile")
    os.symlink("loop-b", repo.root / "Containerfile")
    os.symlink("Containerfile", repo.root / "loop-b")
    os.symlink(".", repo.root / "self")
    repo.write("inner/real.Dockerfile", "FROM python\n")
    os.symlink("inner/real.Dockerfile", repo.root / "linked.Dockerfile")
    findings = repo.findings("--verbose")
    assert [(f["path"], f["code"]) for f in findings] == [
        ("Containerfile", "ED001"), ("inner/real.Dockerfile", "ED101"), ("linked.Dockerfile", "ED101")]
    assert "loops" in findings[0]["message"]
    assert "outside the scanned root" in repo.check("--verbose").stdout


def test_special_and_bad_files_each_become_one_finding_and_the_scan_goes_on(repo):
    os.mkfifo(repo.root / "Dockerfile")  # a FIFO: opening it would block forever
    repo.write("a/Dockerfile", b"\x7fELF\x02\x01\x01\x00\x00\x00binary")
    repo.write("b/Dockerfile", b"FROM python\n\xff\xfe bad utf-8\n")
    repo.write("c/Dockerfile", "FROM python\n".encode("utf-16"))
    (repo.root / "d" / "Dockerfile").mkdir(parents=True)
    repo.write("e/Dockerfile", b"\xef\xbb\xbfFROM python:latest\r\n")  # BOM + CRLF: fine
    findings = [(f["path"], f["code"], f["message"]) for f in repo.findings()]
    assert [(p, c) for p, c, _ in findings] == [
        ("Dockerfile", "ED001"), ("a/Dockerfile", "ED001"), ("b/Dockerfile", "ED001"), ("c/Dockerfile", "ED001"),
        ("d/Dockerfile", "ED001"), ("e/Dockerfile", "ED101")]
    messages = [m for _, _, m in findings]
    assert "not a regular file" in messages[0]
    assert "NUL bytes" in messages[1]
    assert "not valid UTF-8 (byte 0xff on line 2)" in messages[2]
    assert "UTF-16" in messages[3]
    assert "directory" in messages[4]


def test_unlistable_folder_is_reported(repo, monkeypatch):
    # Tests run as root in CI, where chmod 000 does not stop reads: simulate the denial instead.
    repo.write("secret/Dockerfile", "FROM python\n")
    repo.write("Dockerfile", "FROM python\n")
    real_scandir = os.scandir

    def scandir(path):
        if str(path).endswith("secret"):
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    findings = [(f["path"], f["code"]) for f in repo.findings()]
    assert findings == [("Dockerfile", "ED101"), ("secret", "ED001")]


def test_oversized_file(repo, monkeypatch):
    import envdoctor.files

    monkeypatch.setattr(envdoctor.files, "MAX_FILE_BYTES", 10)
    repo.write("Dockerfile", "FROM python:3.12-slim\n")
    finding = repo.findings()[0]
    assert finding["code"] == "ED001" and "over the" in finding["message"]


def test_decode_and_split_lines():
    assert decode(b"\xef\xbb\xbfa") == "a"
    with pytest.raises(SourceError):
        decode(b"\xfe\xff\x00a")
    assert split_lines("a\r\nb\x0cc\nd") == ["a", "b\x0cc", "d"]


def test_broken_toml_reports_line(repo):
    from envdoctor.sources.pyproject import parse_pyproject
    from envdoctor.sources.toml import TomlError

    with pytest.raises(TomlError) as info:
        parse_pyproject('[project]\nname = "x"\nversion = \n', "pyproject.toml")
    assert info.value.position[0] == 3
    assert "line 3" in str(info.value)


def test_what_the_project_hands_out_and_what_failed(tmp_path):
    """The public record parallel.py merges two processes by: uses since `watch_uses`, `failed`,
    `adopt_problems`, and the path of each parsed view (`path_of`)."""
    from envdoctor.files import SourceError
    from envdoctor.findings import Finding, Severity

    (tmp_path / "a.txt").write_text("a\n")
    (tmp_path / "b.txt").write_text("b\n")
    (tmp_path / "c.txt").write_text("c\n")
    project = Project(tmp_path, Config())
    early = project.parsed("kind", "a.txt", lambda text, rel: [text])
    assert project.path_of(early) == "a.txt" and project.path_of([("a\n")]) is None

    def broken(text, rel):
        raise SourceError("is broken")

    uses = project.watch_uses()
    assert project.parsed("kind", "a.txt", lambda text, rel: 1 / 0) is early  # cached: not a use
    assert uses == set()
    project.parsed("other", "b.txt", lambda text, rel: [text])  # a fresh view; its own read does not count
    assert uses == {"b.txt"}
    assert project.text("a.txt") == "a\n"  # text handed out
    assert uses == {"a.txt", "b.txt"}
    assert project.parsed("kind", "c.txt", broken) is None  # failed: not a use, and failed from now on
    assert uses == {"a.txt", "b.txt"} and project.failed == {"c.txt"}
    assert project.text("c.txt") is None
    project.unwatch_uses()
    project.text("b.txt")
    assert uses == {"a.txt", "b.txt"} and project.watch_uses() == set()

    elsewhere = Finding("ED001", "unparsable-file", Severity.ERROR, "File is broken.", "b.txt")
    project.adopt_problems([elsewhere])
    assert project.failed == {"b.txt", "c.txt"} and project.problems[-1] is elsewhere
    assert project.text("b.txt") is None
    with pytest.raises(AttributeError):
        project.failed = frozenset()  # read-only
