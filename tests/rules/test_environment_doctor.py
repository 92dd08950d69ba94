"""The doctor's rules (ED401-ED404, ED410, ED411): they judge the interpreter in use, which is probed only
when asked for. Here the probe's answer is given (tests/probe_support.py); tests/test_probe.py runs it."""

from __future__ import annotations

import pytest
from probe_support import use_probe, write_dist, write_venv

PYPROJECT = '[project]\nname = "inventory"\nversion = "1.0"\nrequires-python = ">=3.12"\ndependencies = ["httpx>=0.27"]\n'
GLOBAL = {"executable": "/usr/bin/python3", "prefix": "/usr", "in_venv": False}


def venv_probe(prefix: str, **more) -> dict:
    return {"executable": f"{prefix}/bin/python", "prefix": prefix, "base_prefix": "/usr", "in_venv": True, **more}


def findings(repo, monkeypatch, probe: dict, *codes: str, environ: dict | None = None) -> list[dict]:
    python = use_probe(monkeypatch, repo.root, probe, environ)
    return repo.findings("--select", ",".join(codes), "--python", python)


def codes(repo, monkeypatch, probe: dict, *selected: str, environ: dict | None = None) -> list[str]:
    return [f["code"] for f in findings(repo, monkeypatch, probe, *selected, environ=environ)]


def test_without_python_the_doctor_rules_run_nothing(repo, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a static scan must not run an interpreter")

    monkeypatch.setattr("envdoctor.doctor.run_probe", refuse)
    repo.write("pyproject.toml", PYPROJECT)
    assert [c for c in repo.codes("--select", "ALL") if c.startswith("ED4")] == []


def test_the_probe_runs_once_per_scan(repo, monkeypatch):
    calls = []
    python = use_probe(monkeypatch, repo.root, GLOBAL)
    import envdoctor.doctor as doctor

    answer = doctor.run_probe

    def counting(*args, **kwargs):
        calls.append(args)
        return answer(*args, **kwargs)

    monkeypatch.setattr("envdoctor.doctor.run_probe", counting)
    repo.write("pyproject.toml", PYPROJECT)
    repo.findings("--select", "ALL", "--python", python)
    assert len(calls) == 1


# --- ED401 no-project-environment ---------------------------------------------------------------------------


def test_ed401_flags_dependencies_without_any_environment(repo, monkeypatch):
    repo.write("pyproject.toml", PYPROJECT)
    found = findings(repo, monkeypatch, GLOBAL, "ED401")
    assert [(f["code"], f["path"], f["line"], f["severity"]) for f in found] == [("ED401", "pyproject.toml", 5, "info")]
    assert "[project] dependencies" in found[0]["message"]
    assert "uv sync" in found[0]["fix_hint"]


def test_ed401_flags_a_requirements_only_project(repo, monkeypatch):
    repo.write("requirements.txt", "httpx==0.27.2\n")
    found = findings(repo, monkeypatch, GLOBAL, "ED401")
    assert [(f["path"], f["line"]) for f in found] == [("requirements.txt", 1)]


@pytest.mark.parametrize("setup", ["no-deps", "env-in-tree", "poetry-env", "active-own-venv", "active-inside"])
def test_ed401_near_misses(repo, monkeypatch, setup):
    probe = GLOBAL
    if setup == "no-deps":
        repo.write("pyproject.toml", '[project]\nname = "inventory"\nversion = "1.0"\ndependencies = []\n')
    else:
        repo.write("pyproject.toml", PYPROJECT)
    if setup == "env-in-tree":
        write_venv(repo.root, "venv")
    elif setup == "poetry-env":
        (repo.root.parent / "home/.cache/pypoetry/virtualenvs/inventory-Ab_d-234-py3.12").mkdir(parents=True)
    elif setup == "active-own-venv":
        probe = venv_probe(str(repo.root.parent / "venvs" / "inventory"))
    elif setup == "active-inside":
        probe = venv_probe("build/env")
    assert codes(repo, monkeypatch, probe, "ED401") == []


def test_ed401_another_projects_poetry_env_does_not_count(repo, monkeypatch):
    repo.write("pyproject.toml", PYPROJECT)
    (repo.root.parent / "home/.cache/pypoetry/virtualenvs/billing-Ab_d-234-py3.12").mkdir(parents=True)
    assert codes(repo, monkeypatch, GLOBAL, "ED401") == ["ED401"]


# --- ED402 global-interpreter -------------------------------------------------------------------------------


def test_ed402_flags_a_base_interpreter(repo, monkeypatch):
    found = findings(repo, monkeypatch, GLOBAL, "ED402")
    assert [(f["code"], f["severity"], f["path"]) for f in found] == [("ED402", "error", ".")]
    assert "/usr/bin/python3 (CPython 3.12.4), is not a virtual environment" in found[0]["message"]


def test_ed402_flags_conda_base(repo, monkeypatch):
    base = repo.root.parent / "miniforge3"
    (base / "conda-meta").mkdir(parents=True)
    (base / "condabin").mkdir()
    found = findings(repo, monkeypatch, {"executable": f"{base}/bin/python", "prefix": str(base), "in_venv": False},
                     "ED402")
    assert len(found) == 1 and "conda's `base` environment" in found[0]["message"]
    assert "conda create" in found[0]["fix_hint"]


@pytest.mark.parametrize("kind", ["venv", "conda-named"])
def test_ed402_near_misses(repo, monkeypatch, kind):
    if kind == "venv":
        probe = venv_probe(".venv")
    else:
        env = repo.root.parent / "miniforge3" / "envs" / "inventory"
        (env / "conda-meta").mkdir(parents=True)
        probe = {"executable": f"{env}/bin/python", "prefix": str(env), "in_venv": False}
    assert codes(repo, monkeypatch, probe, "ED402") == []


# --- ED403 user-site-packages -------------------------------------------------------------------------------

USER_SITE = "home/.local/lib/python3.12/site-packages"


def test_ed403_lists_the_user_site(repo, monkeypatch):
    write_dist(repo.root, USER_SITE, "httpie", "3.2.3")
    write_dist(repo.root, USER_SITE, "Black", "24.10.0")
    found = findings(repo, monkeypatch, {**GLOBAL, "user_site": USER_SITE}, "ED403")
    assert len(found) == 1
    message = found[0]["message"]
    assert message.startswith(f"2 distributions installed in the user site {repo.root / USER_SITE}")
    assert "black 24.10.0, httpie 3.2.3" in message
    assert "and to the interpreter in use" in message


def test_ed403_says_when_the_interpreter_in_use_does_not_see_them(repo, monkeypatch):
    write_dist(repo.root, USER_SITE, "httpie", "3.2.3")
    probe = venv_probe(".venv", user_site=USER_SITE, user_site_enabled=False)
    (message,) = [f["message"] for f in findings(repo, monkeypatch, probe, "ED403")]
    assert "the interpreter in use does not see them, but every other python3.12 does" in message


def test_ed403_pythonnousersite_hides_them_from_the_interpreter(repo, monkeypatch):
    write_dist(repo.root, USER_SITE, "httpie", "3.2.3")
    (message,) = [f["message"] for f in findings(repo, monkeypatch, {**GLOBAL, "user_site": USER_SITE}, "ED403",
                                                   environ={"PYTHONNOUSERSITE": "1"})]
    assert "does not see them" in message


@pytest.mark.parametrize("content", ["missing", "empty", "only-other-files"])
def test_ed403_near_misses(repo, monkeypatch, content):
    if content != "missing":
        (repo.root / USER_SITE).mkdir(parents=True)
    if content == "only-other-files":
        (repo.root / USER_SITE / "README.txt").write_text("x")
        (repo.root / USER_SITE / "__pycache__").mkdir()
    assert codes(repo, monkeypatch, {**GLOBAL, "user_site": USER_SITE}, "ED403") == []


# --- ED404 global-site-packages-polluted ---------------------------------------------------------------------

BASE_SITE = "base/lib/python3.12/site-packages"
BASE = {"executable": "/opt/py/bin/python3", "prefix": "base", "in_venv": False, "base_site_packages": [BASE_SITE]}


def test_ed404_lists_global_installs(repo, monkeypatch):
    for name, version in [("pip", "24.2"), ("setuptools", "75.1.0"), ("wheel", "0.44.0"), ("requests", "2.32.3")]:
        write_dist(repo.root, BASE_SITE, name, version)
    write_dist(repo.root, BASE_SITE, "ruff", "0.7.0", installer="uv")
    found = findings(repo, monkeypatch, BASE, "ED404")
    assert len(found) == 1
    assert "2 globally installed distributions" in found[0]["message"]
    assert "requests 2.32.3, ruff 0.7.0" in found[0]["message"]
    assert "pip 24.2" not in found[0]["message"]
    assert "use uv instead" in found[0]["fix_hint"]


def test_ed404_recognises_an_externally_managed_python_and_names_the_projects_tool(repo, monkeypatch):
    write_dist(repo.root, BASE_SITE, "requests", "2.32.3")
    repo.write("poetry.lock", "# generated by Poetry\n")
    (message, hint) = [(f["message"], f["fix_hint"]) for f in
                       findings(repo, monkeypatch, {**BASE, "externally_managed": True}, "ED404")][0]
    assert "externally managed system Python (PEP 668" in message
    assert "use poetry instead: `poetry install`" in hint


@pytest.mark.parametrize("installer", [None, "conda", "debian"])
def test_ed404_packages_of_the_system_or_conda_are_not_global_installs(repo, monkeypatch, installer):
    write_dist(repo.root, BASE_SITE, "requests", "2.32.3", installer=installer)
    write_dist(repo.root, BASE_SITE, "pip", "24.2")
    assert codes(repo, monkeypatch, BASE, "ED404") == []


def test_ed404_egg_info_of_the_system_is_not_reported(repo, monkeypatch):
    (repo.root / BASE_SITE / "PyYAML-6.0.egg-info").mkdir(parents=True)
    assert codes(repo, monkeypatch, BASE, "ED404") == []


# --- ED410 shared-environment -------------------------------------------------------------------------------


def test_ed410_flags_a_common_environment_outside_the_project(repo, monkeypatch):
    repo.write("pyproject.toml", PYPROJECT)
    found = findings(repo, monkeypatch, venv_probe("/home/dev/venvs/common"), "ED410")
    assert len(found) == 1
    assert "The active virtual environment /home/dev/venvs/common lives outside the project" in found[0]["message"]


def test_ed410_flags_a_tool_environment_of_another_project(repo, monkeypatch):
    repo.write("pyproject.toml", PYPROJECT)
    prefix = repo.root.parent / "home/.cache/pypoetry/virtualenvs/billing-x1Y2z3W4-py3.12"
    prefix.mkdir(parents=True)
    (message,) = [f["message"] for f in findings(repo, monkeypatch, venv_probe(str(prefix)), "ED410")]
    assert "created by poetry for the project 'billing', not for this one (inventory)" in message


def test_ed410_flags_a_shared_conda_environment(repo, monkeypatch):
    env = repo.root.parent / "miniforge3" / "envs" / "datascience"
    (env / "conda-meta").mkdir(parents=True)
    repo.write("pyproject.toml", PYPROJECT)
    probe = {"executable": f"{env}/bin/python", "prefix": str(env), "in_venv": False}
    (message,) = [f["message"] for f in findings(repo, monkeypatch, probe, "ED410")]
    assert "The active conda environment" in message


@pytest.mark.parametrize("where", ["inside", "poetry-own", "named", "prompt", "conda-named", "global"])
def test_ed410_near_misses(repo, monkeypatch, where):
    repo.write("pyproject.toml", PYPROJECT)
    outside = repo.root.parent
    if where == "inside":
        probe = venv_probe(".venv")
    elif where == "poetry-own":
        prefix = repo.root.parent / "home/.cache/pypoetry/virtualenvs/inventory-x1Y2z3W4-py3.12"
        prefix.mkdir(parents=True)
        probe = venv_probe(str(prefix))
    elif where == "named":
        probe = venv_probe(str(outside / ".virtualenvs" / "Inventory"))
    elif where == "prompt":
        prefix = outside / "envs" / "env-7"
        prefix.mkdir(parents=True)
        (prefix / "pyvenv.cfg").write_text("home = /usr/bin\nprompt = 'inventory'\n")
        probe = venv_probe(str(prefix), pyvenv_cfg=str(prefix / "pyvenv.cfg"))
    elif where == "conda-named":
        env = outside / "miniforge3" / "envs" / "stock"
        (env / "conda-meta").mkdir(parents=True)
        repo.write("environment.yml", "name: stock\ndependencies:\n  - python=3.12\n")
        probe = {"executable": f"{env}/bin/python", "prefix": str(env), "in_venv": False}
    else:
        probe = GLOBAL  # ED402's business
    assert codes(repo, monkeypatch, probe, "ED410") == []


# --- ED411 leaking-environment-variables --------------------------------------------------------------------


def test_ed411_flags_each_variable_quoting_its_value(repo, monkeypatch):
    environ = {"PYTHONPATH": "/home/dev/lib", "PIP_USER": "yes", "PIP_BREAK_SYSTEM_PACKAGES": "1",
               "UV_SYSTEM_PYTHON": "true"}
    found = findings(repo, monkeypatch, venv_probe(".venv"), "ED411", environ=environ)
    messages = sorted(f["message"] for f in found)
    assert len(messages) == 4
    assert messages[0].startswith("PIP_BREAK_SYSTEM_PACKAGES is set ('1'): it switches off PEP 668")
    assert messages[2].startswith("PYTHONPATH is set ('/home/dev/lib'): every interpreter")
    assert all("PIP_REQUIRE_VIRTUALENV=1" in f["fix_hint"] for f in found)


def test_ed411_hint_drops_the_suggestion_when_pip_already_requires_an_environment(repo, monkeypatch):
    found = findings(repo, monkeypatch, venv_probe(".venv"), "ED411",
                     environ={"PYTHONHOME": "/opt/py", "PIP_REQUIRE_VIRTUALENV": "1"})
    assert [f["fix_hint"] for f in found] == ["Unset PYTHONHOME (look in your shell profile, `.env` files and CI settings)."]


@pytest.mark.parametrize("environ", [{}, {"PYTHONPATH": ""}, {"PIP_USER": "0"}, {"PIP_USER": "false"},
                                     {"PIP_BREAK_SYSTEM_PACKAGES": "no"}, {"PIP_REQUIRE_VIRTUALENV": "1"},
                                     {"PYTHONNOUSERSITE": "1"}, {"PYTHONUSERBASE": "/tmp/ub"}])
def test_ed411_near_misses(repo, monkeypatch, environ):
    assert codes(repo, monkeypatch, venv_probe(".venv"), "ED411", environ=environ) == []


def test_ed411_a_long_value_is_shortened(repo, monkeypatch):
    (message,) = [f["message"] for f in findings(repo, monkeypatch, venv_probe(".venv"), "ED411",
                                                   environ={"PYTHONPATH": "/x" * 100})]
    assert "..." in message and len(message) < 300
