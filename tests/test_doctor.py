"""`envdoctor doctor`: which interpreter it inspects, its health report, and its exit codes."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
import venv
from pathlib import Path

import pytest
from conftest import run_cli
from probe_support import use_probe, write_dist, write_venv

from envdoctor.doctor import active_interpreter, recorded_project, run_doctor

PYPROJECT = '[project]\nname = "inventory"\nversion = "1.0"\nrequires-python = ">=3.8"\ndependencies = ["httpx"]\n'


def doctor(repo, *args: str, env: dict | None = None):
    return run_cli("doctor", str(repo.root), *args, env=env)


# --- which interpreter ------------------------------------------------------------------------------------------


def test_active_interpreter_order(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    python3 = bin_dir / "python3"
    python3.write_text("#!/bin/sh\n")
    python3.chmod(python3.stat().st_mode | stat.S_IXUSR)
    path = str(bin_dir)
    assert active_interpreter({"VIRTUAL_ENV": "/v", "CONDA_PREFIX": "/c", "PATH": path}) == (
        os.path.join("/v", "bin", "python") if os.name != "nt" else "/v\\Scripts\\python.exe", "$VIRTUAL_ENV")
    assert active_interpreter({"CONDA_PREFIX": "/c", "PATH": path})[1] == "$CONDA_PREFIX"
    assert active_interpreter({"PATH": path}) == (str(python3), "`python3` on PATH")
    assert active_interpreter({"PATH": str(tmp_path / "empty")}) == (None, "no python3 on PATH")


def test_recorded_project_of_tool_folders(tmp_path):
    environ = {"HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_DATA_HOME": str(tmp_path / "data")}
    if sys.platform == "darwin":
        pytest.skip("macOS keeps these under ~/Library")
    cases = {
        tmp_path / "cache/pypoetry/virtualenvs/my-app-AbC_-12x-py3.12": ("poetry", "my-app"),
        tmp_path / "data/virtualenvs/my-app-AbC_-12x": ("pipenv", "my-app"),
        tmp_path / "data/hatch/env/virtual/my-app/AbCd/default": ("hatch", "my-app"),
        tmp_path / "elsewhere/my-app": (None, None),
    }
    for prefix, expected in cases.items():
        assert recorded_project(prefix, environ) == expected


# --- the report ------------------------------------------------------------------------------------------------


def test_report_of_a_healthy_environment(repo, monkeypatch):
    repo.write("pyproject.toml", PYPROJECT)
    write_venv(repo.root)
    python = use_probe(monkeypatch, repo.root, {"executable": ".venv/bin/python", "prefix": ".venv",
                                                "base_prefix": "/usr", "in_venv": True})
    result = doctor(repo, "--python", python)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"envdoctor doctor  {repo.root}"
    assert lines[1] == f"Interpreter   {repo.root}/.venv/bin/python  (--python)"
    assert lines[2] == f"              CPython 3.12.4, virtual environment {repo.root}/.venv (base /usr)"
    assert "Environments  in the tree: .venv" in lines
    assert f" ✓ {'ED402 global-interpreter':<38}The interpreter in use is a virtual environment." in lines
    assert sum(line.startswith(" ✓ ED4") for line in lines) == 13
    assert lines[-1] == "Healthy: 13 checks passed."


def test_report_of_problems_with_fixes_and_exit_code(repo, monkeypatch):
    repo.write("pyproject.toml", PYPROJECT)
    python = use_probe(monkeypatch, repo.root, {"executable": "/usr/bin/python3", "prefix": "/usr", "in_venv": False},
                       environ={"PIP_USER": "1"})
    result = doctor(repo, "--python", python)
    assert result.exit_code == 1
    out = result.stdout
    assert f" ✗ {'ED402 global-interpreter':<38}1 finding" in out
    assert "      error   The interpreter in use, /usr/bin/python3 (CPython 3.12.4), is not a virtual environment" in out
    assert "              fix: Create the project's own environment" in out
    assert "      info    pyproject.toml:5: The project declares dependencies" in out
    assert f" – {'ED405 system-site-packages-visible':<38}no environment to inspect" in out
    assert f" – {'ED410 shared-environment':<38}no environment is active" in out
    assert out.splitlines()[-1] == ("Found 3 problems (1 error, 1 warning, 1 info). 1 below fail-on=warning do not "
                                    "fail the run.")


def test_fail_on_and_configuration_apply(repo, monkeypatch):
    repo.write("pyproject.toml", PYPROJECT + '\n[tool.envdoctor]\nignore = ["ED402"]\n')
    python = use_probe(monkeypatch, repo.root, {"executable": "/usr/bin/python3", "prefix": "/usr", "in_venv": False})
    result = doctor(repo, "--python", python)
    assert "ED402" not in result.stdout
    assert result.exit_code == 0  # only ED401, an info, remains
    assert "1 below fail-on=warning do not fail the run" in result.stdout
    assert doctor(repo, "--python", python, "--fail-on", "info").exit_code == 1


def test_json_format(repo, monkeypatch):
    python = use_probe(monkeypatch, repo.root, {"executable": "/usr/bin/python3", "prefix": "/usr", "in_venv": False})
    result = doctor(repo, "--python", python, "--format", "json")
    data = json.loads(result.stdout)
    assert [f["code"] for f in data["findings"]] == ["ED402"]


def test_ascii_fallback_when_the_output_cannot_show_check_marks(repo, monkeypatch):
    write_venv(repo.root)
    python = use_probe(monkeypatch, repo.root, {"executable": ".venv/bin/python", "prefix": ".venv", "in_venv": True})
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii", errors="strict")
    assert run_doctor(repo.root, python=python, stream=stream, color="never") == 0
    stream.flush()
    text = raw.getvalue().decode("ascii")
    assert " ok ED402 global-interpreter" in text and "✓" not in text


def test_colour_is_used_only_when_asked(repo, monkeypatch):
    python = use_probe(monkeypatch, repo.root, {"executable": "/usr/bin/python3", "prefix": "/usr", "in_venv": False})
    assert "\x1b[" in doctor(repo, "--python", python, "--color", "always").stdout
    assert "\x1b[" not in doctor(repo, "--python", python).stdout


def test_text_from_the_interpreter_is_escaped(repo, monkeypatch):
    python = use_probe(monkeypatch, repo.root, {"executable": "/tmp/py\x1b[31mthon", "prefix": "/usr", "in_venv": False})
    out = doctor(repo, "--python", python).stdout
    assert "\x1b[31m" not in out and "\\x1b[31m" in out


# --- failures are one line, exit code 2 ------------------------------------------------------------------------


def test_an_interpreter_that_cannot_be_probed(repo, tmp_path):
    result = doctor(repo, "--python", str(tmp_path / "nope" / "python"))
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"envdoctor: error: cannot inspect the interpreter: no interpreter at {tmp_path}/nope/python"]


def test_check_python_that_cannot_be_probed(repo, tmp_path):
    repo.write("pyproject.toml", PYPROJECT)
    result = run_cli("check", str(repo.root), "--python", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"envdoctor: error: no interpreter at {tmp_path}/nope"


def test_no_interpreter_at_all(repo):
    result = doctor(repo, env={"VIRTUAL_ENV": "", "CONDA_PREFIX": "", "PATH": str(repo.root / "empty")})
    assert result.exit_code == 2
    assert "no interpreter to inspect" in result.stderr


def test_a_missing_path(tmp_path):
    result = run_cli("doctor", str(tmp_path / "missing"), "--python", sys.executable)
    assert result.exit_code == 2 and "path does not exist" in result.stderr


# --- real interpreters ---------------------------------------------------------------------------------------------


@pytest.mark.skipif(os.name == "nt", reason="POSIX layout")
def test_doctor_on_a_real_project_environment(repo, tmp_path):
    repo.write("pyproject.toml", PYPROJECT)
    venv.EnvBuilder(with_pip=False, symlinks=True).create(repo.root / ".venv")
    env = {"HOME": str(tmp_path / "home"), "PYTHONPATH": "", "PIP_USER": "", "VIRTUAL_ENV": "", "CONDA_PREFIX": ""}
    result = doctor(repo, "--python", str(repo.root / ".venv" / "bin" / "python"), "--format", "json", env=env)
    assert result.exit_code in (0, 1), result.output
    codes = {f["code"] for f in json.loads(result.stdout)["findings"]}
    # The base interpreter may hold global installs on a developer's machine (ED404); nothing else fires.
    assert codes <= {"ED404"}


@pytest.mark.skipif(os.name == "nt", reason="POSIX layout")
def test_doctor_follows_virtual_env_and_flags_a_shared_environment(repo, tmp_path):
    repo.write("pyproject.toml", PYPROJECT)
    shared = tmp_path / "venvs" / "common"
    venv.EnvBuilder(with_pip=False, symlinks=True).create(shared)
    (site,) = shared.glob("lib/python3*/site-packages")
    write_dist(site.parent, "site-packages", "client", "1.0", requires=["helper>=2"])
    env = {"HOME": str(tmp_path / "home"), "VIRTUAL_ENV": str(shared), "CONDA_PREFIX": ""}
    result = doctor(repo, "--format", "json", env=env)
    findings = json.loads(result.stdout)["findings"]
    codes = {f["code"] for f in findings}
    assert {"ED410", "ED409"} <= codes
    (broken,) = [f for f in findings if f["code"] == "ED409"]
    assert broken["path"] == f"{site}/client-1.0.dist-info/METADATA"  # the active environment, outside the tree
    text = doctor(repo, env=env).stdout
    assert f"Interpreter   {shared}/bin/python  ($VIRTUAL_ENV)" in text
