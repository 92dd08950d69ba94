"""Adversarial files: each finishes in bounded time and memory with a clear finding (ED001) or message,
never an internal error or a traceback (docs/limits.md lists what happens to each).

Sizes: over-limit files are written sparse (a 200 MB file costs no disk and is never read); the
100,000-line and 10,000-continuation-line Dockerfiles are in test_scaling.py.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import time
from pathlib import Path

import pytest

from envdoctor.files import MAX_FILE_BYTES
from envdoctor.project import Project
from envdoctor.config import Config
from robust_support import line_count, run_cli, scan_all

# Every kind of file envdoctor reads, by a name it is known by.
KINDS = [
    "Dockerfile", "pyproject.toml", "uv.lock", "poetry.lock", "pdm.lock", "pylock.toml", "Pipfile.lock", "Pipfile",
    "requirements.txt", ".dockerignore", ".github/workflows/ci.yml", ".gitlab-ci.yml", "azure-pipelines.yml",
    ".circleci/config.yml", "environment.yml", "conda-lock.yml", "spec-file.txt", ".python-version", "tox.ini",
    "noxfile.py", ".pre-commit-config.yaml", "uv.toml", "Makefile", "justfile", "README.md", "build.sh",
    "docs/install.md", ".gitignore",
]

DEEP = 10_000
CONTENTS = {
    "nul": b"FROM python:3.12\x00\nRUN pip install x\n",
    "utf16-bom": "FROM python:3.12\n[project]\nname = 'x'\n".encode("utf-16"),
    "utf16-be-bom": "FROM python:3.12\n".encode("utf-16-be").join([b"\xfe\xff", b""]),
    "utf8-bom": b"\xef\xbb\xbfFROM python:3.12\n",
    "crlf": b"FROM python:3.12\r\nRUN pip install flask\r\n[project]\r\nname = \"x\"\r\n",
    "cr-only": b"FROM python:3.12\rRUN pip install flask\r",
    "latin-1": b"name = \"caf\xe9\"\n",
    "deep-toml-arrays": b"a = " + b"[" * DEEP + b"]" * DEEP + b"\n",
    "deep-toml-tables": b"a = " + b"{b=" * DEEP + b"1" + b"}" * DEEP + b"\n",
    "deep-json": b"[" * DEEP + b"]" * DEEP,
    "deep-yaml-flow": b"a: " + b"[" * DEEP + b"]" * DEEP + b"\n",
    "deep-yaml-block": "".join("  " * i + f"k{i}:\n" for i in range(3000)).encode(),
    "yaml-alias-bomb": ("a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n" for i in range(1, 25))).encode(),
    "control-characters": "".join(chr(c) for c in range(1, 32) if c != 10).encode() + b"\n\x7f\xc2\x85\n",
    "unicode-line-separators": "FROM python:3.12\u2028RUN x\u2029\x0c\x0b\x1c\n".encode(),
    "empty": b"",
    "only-newlines": b"\n" * 1000,
    "one-long-line": b"x" * (4 * 2**20),
}


def _assert_clean_scan(root: Path, seconds: float = 60):
    start = time.perf_counter()
    result = scan_all(root)
    assert time.perf_counter() - start < seconds
    assert result.internal_errors == []
    for finding in result.findings:
        path = root / finding.path
        assert not finding.path.startswith("/") and ".." not in finding.path.split("/"), finding
        if finding.path != "." and path.is_file() and not path.is_symlink():
            assert 1 <= finding.line <= line_count(path), finding
    return result


@pytest.mark.parametrize("content", sorted(CONTENTS))
def test_odd_content_in_every_kind_of_file(tmp_path, content):
    for kind in KINDS:
        path = tmp_path / kind
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(CONTENTS[content])
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "pyvenv.cfg").write_bytes(CONTENTS[content])
    result = _assert_clean_scan(tmp_path)
    for finding in result.findings:
        assert "\n" not in finding.message and "\r" not in finding.message, finding


@pytest.mark.parametrize("content,reason", [
    ("nul", "holds NUL bytes"), ("utf16-bom", "UTF-16"), ("utf16-be-bom", "UTF-16"), ("latin-1", "not valid UTF-8"),
])
def test_undecodable_files_are_one_ed001_each(tmp_path, content, reason):
    for kind in ("Dockerfile", "pyproject.toml", "uv.lock", "requirements.txt", ".github/workflows/ci.yml"):
        path = tmp_path / kind
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(CONTENTS[content])
    findings = scan_all(tmp_path).findings
    for kind in ("Dockerfile", "pyproject.toml", "uv.lock", "requirements.txt", ".github/workflows/ci.yml"):
        mine = [f for f in findings if f.path == kind]
        assert [f.code for f in mine] == ["ED001"], (kind, mine)
        assert reason in mine[0].message


@pytest.mark.parametrize("name", ["pyproject.toml", "uv.lock", "poetry.lock", "pdm.lock", "pylock.toml"])
@pytest.mark.parametrize("content", ["deep-toml-arrays", "deep-toml-tables"])
def test_deeply_nested_toml_is_ed001_not_a_recursion_error(tmp_path, name, content):
    (tmp_path / name).write_bytes(CONTENTS[content])
    ed001 = [f for f in _assert_clean_scan(tmp_path).findings if f.code == "ED001"]
    assert [(f.path, "nested too deeply" in f.message) for f in ed001] == [(name, True)]


def test_deeply_nested_json_and_yaml_are_ed001(tmp_path):
    (tmp_path / "Pipfile.lock").write_bytes(CONTENTS["deep-json"])
    (tmp_path / ".gitlab-ci.yml").write_bytes(CONTENTS["deep-yaml-flow"])
    (tmp_path / "environment.yml").write_bytes(CONTENTS["deep-yaml-flow"])
    ed001 = {f.path for f in _assert_clean_scan(tmp_path).findings if f.code == "ED001"}
    assert ed001 == {"Pipfile.lock", ".gitlab-ci.yml", "environment.yml"}


def test_an_error_at_the_end_of_a_file_points_at_its_last_line(tmp_path):
    # json and tomllib place "unexpected end" after the final newline: a line no editor shows.
    (tmp_path / "Pipfile.lock").write_text('{\n  "_meta": {\n    "hash": {}\n', encoding="utf-8")
    (tmp_path / "uv.lock").write_text('version = 1\n[[package]]\nname = "a"\nsource = { registry = "x"\n',
                                      encoding="utf-8")
    found = {f.path: f.line for f in scan_all(tmp_path).findings if f.code == "ED001"}
    assert found == {"Pipfile.lock": 3, "uv.lock": 4}


# --- configuration files ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name,text,message", [
    ("envdoctor.toml", "tool = 5\n", "'tool' in config file"),
    ("envdoctor.toml", "a = " + "[" * DEEP + "]" * DEEP + "\n", "nested too deeply"),
    ("envdoctor.toml", b"\xff\xfe".decode("latin-1") + "x", "invalid TOML in config file"),
])
def test_a_broken_config_file_is_one_line_and_exit_2(tmp_path, name, text, message):
    (tmp_path / name).write_text(text, encoding="latin-1" if text.startswith("\xff") else "utf-8")
    result = run_cli("check", str(tmp_path))
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output and "internal error" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_deeply_nested_pyproject_is_no_config_error(tmp_path):
    # find_config_file reads pyproject.toml to look for [tool.envdoctor]: a broken one is the scan's ED001.
    (tmp_path / "pyproject.toml").write_bytes(CONTENTS["deep-toml-arrays"])
    result = run_cli("check", str(tmp_path), "--format", "json")
    assert result.exit_code == 1, result.output
    assert [f["code"] for f in json.loads(result.stdout)["findings"]] == ["ED001"]


def test_a_config_file_over_the_size_limit_is_not_read(tmp_path):
    with open(tmp_path / "envdoctor.toml", "wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)  # sparse
    result = run_cli("check", str(tmp_path))
    assert result.exit_code == 2 and "limit" in result.stderr


# --- sizes ----------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", ["uv.lock", "Dockerfile", "requirements.txt", "pyproject.toml", ".github/workflows/ci.yml"])
def test_a_200_mb_file_is_ed001_over_the_limit(tmp_path, name):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:  # sparse: no disk, and envdoctor must not read it
        handle.write(b"version = 1\n")
        handle.truncate(200 * 2**20)
    result = _assert_clean_scan(tmp_path, seconds=20)
    mine = [f for f in result.findings if f.path == name]
    assert [f.code for f in mine] == ["ED001"] and "200 MiB, over the 64 MiB limit" in mine[0].message


@pytest.mark.slow
def test_a_file_just_under_the_limit_is_read(tmp_path):
    # A large but legal lockfile: streamed to disk in chunks, read and parsed in bounded time.
    entry = ('[[package]]\nname = "pkg{0}"\nversion = "1.0"\nsource = {{ registry = '
             '"https://index.example.invalid/simple" }}\n\n')
    with open(tmp_path / "uv.lock", "w", encoding="utf-8") as handle:
        handle.write("version = 1\nrequires-python = \">=3.10\"\n\n")
        for chunk in range(40):
            handle.write("".join(entry.format(chunk * 5000 + i) for i in range(5000)))
    assert (tmp_path / "uv.lock").stat().st_size < MAX_FILE_BYTES
    result = _assert_clean_scan(tmp_path, seconds=120)
    assert not [f for f in result.findings if f.code == "ED001"]


# --- special files --------------------------------------------------------------------------------------


def test_a_fifo_named_like_each_kind_is_reported_not_opened(tmp_path):
    for kind in ("Dockerfile", "pyproject.toml", "uv.lock", "requirements.txt", ".github/workflows/ci.yml",
                 "envdoctor.toml", ".dockerignore"):
        (tmp_path / kind).parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(tmp_path / kind)  # opening one for reading would block forever
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "Dockerfile").write_text("FROM python:latest\n", encoding="utf-8")
    result = _assert_clean_scan(tmp_path, seconds=20)
    ed001 = {f.path for f in result.findings if f.code == "ED001"}
    assert {"Dockerfile", "pyproject.toml", "uv.lock", "requirements.txt", ".github/workflows/ci.yml"} <= ed001
    assert any(f.path == "sub/Dockerfile" and f.code == "ED101" for f in result.findings)  # the scan went on


def test_a_character_device_named_dockerfile(tmp_path):
    try:
        os.mknod(tmp_path / "Dockerfile", stat.S_IFCHR | 0o600, os.makedev(1, 3))  # /dev/null's numbers
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot create a device here: {exc}")
    result = _assert_clean_scan(tmp_path, seconds=20)
    assert [(f.code, "not a regular file" in f.message) for f in result.findings if f.path == "Dockerfile"] == \
        [("ED001", True)]


def test_links_out_of_the_root_and_loops_are_never_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "Dockerfile").write_text("FROM python:latest\n", encoding="utf-8")
    root = tmp_path / "repo"
    (root / "sub").mkdir(parents=True)
    (root / "Dockerfile").symlink_to(outside / "Dockerfile")  # a file outside
    (root / "sub" / "out").symlink_to(outside)  # a folder outside
    (root / "sub" / "up").symlink_to(root)  # a folder loop
    (root / "pyproject.toml").symlink_to("pyproject.toml")  # a self loop
    (root / "uv.lock").symlink_to("poetry.lock")
    (root / "poetry.lock").symlink_to("uv.lock")  # a two-link loop
    (root / "requirements.txt").symlink_to("missing.txt")  # dangling
    (root / "pdm.lock").symlink_to("/dev/zero")  # a device outside
    result = _assert_clean_scan(root, seconds=20)
    assert not [f for f in result.findings if f.code == "ED101"]  # nothing outside was read
    ed001 = {f.path: f.message for f in result.findings if f.code == "ED001"}
    assert set(ed001) == {"pyproject.toml", "uv.lock", "poetry.lock", "requirements.txt"}
    assert all("link" in message for message in ed001.values())
    for finding in result.findings:
        assert not finding.path.startswith(("sub/out/", "sub/up/")), finding


def test_a_folder_that_cannot_be_listed(tmp_path, monkeypatch):
    # Root can list any folder, so the refusal is made by hand for the one folder (as an unprivileged user
    # gets it from a chmod 000 folder: see the next test).
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "Dockerfile").write_text("FROM python:latest\n", encoding="utf-8")
    (tmp_path / "Dockerfile").write_text("FROM python:latest\n", encoding="utf-8")
    real_scandir = os.scandir

    def scandir(path):
        if Path(path).name == "secret":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = _assert_clean_scan(tmp_path, seconds=20)
    assert [(f.path, f.code) for f in result.findings if f.code == "ED001"] == [("secret", "ED001")]
    assert any(f.path == "Dockerfile" and f.code == "ED101" for f in result.findings)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads folders and files whatever their mode")
def test_unreadable_folder_and_file_for_real(tmp_path):
    (tmp_path / "secret").mkdir()
    (tmp_path / "Dockerfile").write_text("FROM python:latest\n", encoding="utf-8")
    (tmp_path / "secret").chmod(0)
    (tmp_path / "Dockerfile").chmod(0)
    try:
        result = _assert_clean_scan(tmp_path, seconds=20)
        ed001 = {f.path: f.message for f in result.findings if f.code == "ED001"}
        assert "permission denied" in ed001["secret"] and "permission denied" in ed001["Dockerfile"]
    finally:
        (tmp_path / "secret").chmod(0o755)
        (tmp_path / "Dockerfile").chmod(0o644)


def test_a_file_replaced_by_a_fifo_after_the_walk_does_not_block(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM python:latest\n", encoding="utf-8")
    project = Project(tmp_path, Config(select=("ALL",)))
    assert project.files("dockerfile") == ["Dockerfile"]
    (tmp_path / "Dockerfile").unlink()
    os.mkfifo(tmp_path / "Dockerfile")
    assert project.text("Dockerfile") is None  # an ED001, not a read that waits for a writer
    assert [f.code for f in project.problems] == ["ED001"]


def test_a_distribution_with_deeply_nested_direct_url_json(tmp_path):
    site = tmp_path / ".venv" / "lib" / "python3.12" / "site-packages"
    dist = site / "pkg-1.0.dist-info"
    dist.mkdir(parents=True)
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.12.1\n", encoding="utf-8")
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n", encoding="utf-8")
    (dist / "INSTALLER").write_text("pip\n", encoding="utf-8")
    (dist / "direct_url.json").write_bytes(b"[" * 20_000 + b"]" * 20_000)  # within the 64 KiB small-file read
    project = Project(tmp_path, Config(select=("ALL",)))
    environments = [item.view for item in project.items("environment")]
    distributions = [d for env in environments for d in env.distributions]
    assert [d.editable for d in distributions] == [False]  # unreadable: not editable, and no RecursionError
    _assert_clean_scan(tmp_path)
