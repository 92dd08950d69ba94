"""ED309 python-version-conflict and ED310 end-of-life-python, on the release calendar as of 2026-11-26."""

from __future__ import annotations

import pytest

DIGEST = "@sha256:" + "0123456789abcdef" * 4


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setenv("ENVDOCTOR_TODAY", "2026-11-26")


def hits(repo, codes, *args):
    return [(f["path"], f["line"], f["code"]) for f in repo.findings("--select", codes, *args)]


def pyproject(requires=None, extra=""):
    text = '[project]\nname = "inventory"\nversion = "1.0"\n'
    if requires is not None:
        text += f'requires-python = "{requires}"\n'
    return text + extra


def write(repo, files):
    for rel, text in files.items():
        repo.write(rel, text)


# --- ED309 -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("files", "expected"), [
    # .python-version against requires-python
    ({"pyproject.toml": pyproject(">=3.12"), ".python-version": "3.11\n"}, [(".python-version", 1)]),
    ({"pyproject.toml": pyproject(">=3.12"), ".python-version": "# pinned by uv\n\n3.11.9\n"}, [(".python-version", 3)]),
    ({"pyproject.toml": pyproject(">=3.12"), ".python-version": "3.11\n3.12\n"}, [(".python-version", 1)]),  # first decides
    ({"pyproject.toml": pyproject("<3.12"), ".python-version": "cpython-3.13.1-linux-x86_64-gnu\n"}, [(".python-version", 1)]),
    ({"pyproject.toml": pyproject("<3.12"), ".python-version": "pypy3.12\n"}, [(".python-version", 1)]),
    ({"pyproject.toml": pyproject("<3.12"), ".python-version": ">=3.13\n"}, [(".python-version", 1)]),
    ({"pyproject.toml": pyproject("==3.11.*"), ".python-version": "3.12\n"}, [(".python-version", 1)]),
    # Poetry's constraint alone, and against requires-python
    ({"pyproject.toml": '[tool.poetry.dependencies]\npython = "^3.12"\n', ".python-version": "3.11\n"},
     [(".python-version", 1)]),
    ({"pyproject.toml": pyproject(">=3.12", '[tool.poetry.dependencies]\npython = "~3.11"\n')}, [("pyproject.toml", 6)]),
    # the shipped image against requires-python and .python-version
    ({"pyproject.toml": pyproject(">=3.12"), "Dockerfile": f"FROM python:3.11-slim{DIGEST}\n"}, [("Dockerfile", 1)]),
    ({".python-version": "3.12\n", "Dockerfile": "FROM python:3.11.9-slim-bookworm\n"}, [("Dockerfile", 1)]),
    ({"pyproject.toml": pyproject(">=3.12"),
      "Dockerfile": "FROM python:3.12 AS build\nRUN true\nFROM python:3.11-slim\nCOPY --from=build /a /a\n"},
     [("Dockerfile", 3)]),
    ({"pyproject.toml": pyproject(">=3.12"),
      "Dockerfile": "ARG PY=3.11\nFROM python:${PY}-slim AS base\nFROM base AS final\nRUN true\n"}, [("Dockerfile", 2)]),
    ({"pyproject.toml": pyproject(">=3.12"), "Dockerfile": "FROM ghcr.io/astral-sh/uv:0.5-python3.11-bookworm-slim\n"},
     [("Dockerfile", 1)]),
    ({"pyproject.toml": pyproject(">=3.12"), "Dockerfile": "FROM scratch\nCOPY --chown=1:1 \\\n  x y\nFROM \\\n  python:3.10\n"},
     [("Dockerfile", 5)]),
    # tox environments against requires-python
    ({"pyproject.toml": pyproject(">=3.10"), "tox.ini": "[tox]\nenvlist =\n    py{39,310,311}\n    lint\n"},
     [("tox.ini", 3)]),
])
def test_ed309_flags(repo, files, expected):
    write(repo, files)
    assert [(p, line) for p, line, _ in hits(repo, "ED309")] == expected


def test_ed309_message_names_both_values_and_places(repo):
    write(repo, {"pyproject.toml": pyproject(">=3.12"), ".python-version": "3.11\n"})
    (finding,) = repo.findings("--select", "ED309")
    assert finding["severity"] == "error"
    assert finding["message"].startswith(
        ".python-version pins Python 3.11, but requires-python '>=3.12' at pyproject.toml:4 excludes it")


def test_ed309_image_against_python_version_message(repo):
    write(repo, {".python-version": "3.12\n", "Dockerfile": "FROM python:3.11\n"})
    (finding,) = repo.findings("--select", "ED309")
    assert finding["message"].startswith(
        "Base image 'python:3.11' ships Python 3.11, but .python-version (3.12) at .python-version:1 asks for another")


def test_ed309_monorepo_each_project_with_its_own_files(repo):
    write(repo, {
        ".python-version": "3.12\n",
        "pyproject.toml": pyproject(">=3.12"),
        "services/api/pyproject.toml": pyproject(">=3.13"),  # root .python-version applies here too
        "services/api/Dockerfile": "FROM python:3.13-slim\n",  # agrees with its requires-python: fine
        "services/worker/pyproject.toml": pyproject(">=3.11"),
        "services/worker/.python-version": "3.11\n",
        "services/worker/Dockerfile": "FROM python:3.10-slim\n",
    })
    findings = repo.findings("--select", "ED309")
    assert [(f["path"], f["line"]) for f in findings] == [
        (".python-version", 1), ("services/worker/Dockerfile", 1)]
    assert "services/api/pyproject.toml:4" in findings[0]["message"]


def test_ed309_docker_target_option(repo):
    write(repo, {"pyproject.toml": pyproject(">=3.12"),
                 "Dockerfile": "FROM python:3.11 AS legacy\nFROM python:3.12 AS app\nFROM python:3.13 AS test\n"})
    assert hits(repo, "ED309") == []
    repo.write("envdoctor.toml", '[docker]\ntarget = "legacy"\n')
    assert hits(repo, "ED309") == [("Dockerfile", 1, "ED309")]


@pytest.mark.parametrize("files", [
    {"pyproject.toml": pyproject(">=3.11"), ".python-version": "3.12\n"},
    {"pyproject.toml": pyproject(">=3.12.1"), ".python-version": "3.12\n"},  # some 3.12.x satisfies both
    {"pyproject.toml": pyproject(">=3.11"), ".python-version": "3.12\n3.9\n"},  # only the first decides
    {"pyproject.toml": pyproject(">=3.11"), ".python-version": "system\n"},
    {"pyproject.toml": pyproject(">=3.11"), ".python-version": "miniconda3-latest\n"},
    {"pyproject.toml": pyproject(">=3.11"), ".python-version": "pypy3.11\n"},
    {"pyproject.toml": pyproject(">=3.11"), ".python-version": ">=3.12\n"},
    {"pyproject.toml": pyproject("not a specifier"), ".python-version": "3.9\n"},
    {"pyproject.toml": pyproject(None), ".python-version": "3.9\n"},
    {"pyproject.toml": pyproject(">=3.11", '[tool.poetry.dependencies]\npython = "^3.9"\n')},  # overlap
    {"pyproject.toml": '[tool.poetry.dependencies]\npython = { version = "^3.11" }\n', ".python-version": "3.12\n"},
    {"pyproject.toml": '[tool.poetry.dependencies]\npython = "3.12.*"\n', ".python-version": "3.12.4\n"},
    # images: same branch (patch levels differ), unknown version, build argument, builder stage only
    {".python-version": "3.12.1\n", "Dockerfile": "FROM python:3.12.4-slim\n"},
    {"pyproject.toml": pyproject(">=3.12"), "Dockerfile": "FROM python:slim\n"},
    {"pyproject.toml": pyproject(">=3.12"), "Dockerfile": "FROM python:3-slim\n"},
    {"pyproject.toml": pyproject(">=3.12"), "Dockerfile": "ARG PY\nFROM python:${PY}-slim\n"},
    {"pyproject.toml": pyproject(">=3.12"), "Dockerfile": "FROM python:3.9 AS build\nFROM python:3.12-slim\n"},
    {"pyproject.toml": pyproject(">=3.12"), "Dockerfile": "FROM debian:12\n"},
    {"pyproject.toml": pyproject(">=3.12"), "Dockerfile": "FROM mypython:3.9\n"},
    # a Dockerfile in another folder than the project's
    {"pyproject.toml": pyproject(">=3.12"), "docker/legacy/Dockerfile": "FROM python:3.9\n"},
    # tox: unversioned and matching environments
    {"pyproject.toml": pyproject(">=3.11"), "tox.ini": "[tox]\nenvlist = py3, lint, py{311,312}-django{42,50}\n"},
    {"pyproject.toml": pyproject(">=3.11"), "tox.ini": "[testenv:py39]\ncommands = true\n"},
])
def test_ed309_near_misses(repo, files):
    write(repo, files)
    assert hits(repo, "ED309") == []


# --- ED310 -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("files", "expected"), [
    ({".python-version": "3.10\n"}, [(".python-version", 1)]),  # end of life 2026-10-31
    ({".python-version": "3.8.18\n"}, [(".python-version", 1)]),
    ({".python-version": "2.7\n"}, [(".python-version", 1)]),
    ({".python-version": ">=3.8,<3.10\n"}, [(".python-version", 1)]),
    ({"Dockerfile": f"FROM python:3.9-slim{DIGEST}\n"}, [("Dockerfile", 1)]),
    ({"Dockerfile": "FROM ghcr.io/astral-sh/uv:python3.9-bookworm-slim\n"}, [("Dockerfile", 1)]),
    ({"Dockerfile": "FROM python:3.12 AS build\nFROM python:3.9-slim\nCOPY --from=build /a /a\n"}, [("Dockerfile", 2)]),
    ({"pyproject.toml": pyproject("<3.11")}, [("pyproject.toml", 4)]),
    ({"pyproject.toml": pyproject("~=3.9.0")}, [("pyproject.toml", 4)]),
    ({"pyproject.toml": pyproject(">=3.8,<3.10")}, [("pyproject.toml", 4)]),
    ({"pyproject.toml": '[tool.poetry.dependencies]\npython = "~3.9"\n'}, [("pyproject.toml", 2)]),
    ({"environment.yml": "dependencies:\n  - python=3.9\n  - numpy=1.26.4\n"}, [("environment.yml", 2)]),
    ({"environment.yml": "dependencies:\n  - python>=3.8,<3.10\n"}, [("environment.yml", 2)]),
    ({"environment.yml": "dependencies:\n  - python[version='>=3.8,<3.10']\n"}, [("environment.yml", 2)]),
    ({"Pipfile": '[packages]\nhttpx = "*"\n\n[requires]\npython_version = "3.8"\n'}, [("Pipfile", 5)]),
])
def test_ed310_flags(repo, files, expected):
    write(repo, files)
    assert [(p, line) for p, line, _ in hits(repo, "ED310")] == expected


def test_ed310_message_gives_the_date_and_the_supported_versions(repo):
    repo.write(".python-version", "3.9\n")
    (finding,) = repo.findings("--select", "ED310")
    assert finding["message"] == (".python-version pins Python 3.9, which reached its end of life on 2025-10-31: "
                                  "no security fixes any more.")
    assert "3.11 to 3.15 on 2026-11-26" in finding["fix_hint"]


def test_ed310_requires_python_message(repo):
    repo.write("pyproject.toml", pyproject(">=3.8,<3.11"))
    (finding,) = repo.findings("--select", "ED310")
    assert finding["message"].startswith("requires-python '>=3.8,<3.11' admits only Python 3.10 and older, all past "
                                         "their end of life (3.10 on 2026-10-31)")


@pytest.mark.parametrize(("day", "flagged"), [("2026-10-31", False), ("2026-11-01", True)])
def test_ed310_end_of_life_day_is_the_last_supported_day(repo, monkeypatch, day, flagged):
    monkeypatch.setenv("ENVDOCTOR_TODAY", day)
    repo.write(".python-version", "3.10\n")
    assert (hits(repo, "ED310") != []) is flagged


@pytest.mark.parametrize("files", [
    {".python-version": "3.11\n"},
    {".python-version": "3.17\n"},  # newer than the calendar: supported as far as envdoctor knows
    {".python-version": "pypy3.9\n"},  # PyPy's own calendar
    {".python-version": "system\n"},
    {"pyproject.toml": pyproject(">=3.9")},  # a library that also supports current versions
    {"pyproject.toml": pyproject(">=3.8,<4")},
    {"pyproject.toml": pyproject(">=3.9", '[tool.poetry.dependencies]\npython = "~3.9"\n')},  # requires-python decides
    {"pyproject.toml": pyproject("garbage")},
    {"tox.ini": "[tox]\nenvlist = py38, py39, py313\n"},  # testing on old versions is fine
    {"Dockerfile": "FROM python:3.8 AS build\nFROM python:3.13-slim\n"},  # only the shipped stage
    {"Dockerfile": "FROM pypy:3.9\n"},
    {"environment.yml": "dependencies:\n  - python>=3.9\n"},
    {"environment.yml": "dependencies:\n  - python\n  - python_abi=3.9\n"},
    {"Pipfile": '[requires]\npython_version = "3.12"\n'},
    {"Pipfile": '[requires]\npython_version = 3.8\n'},  # wrong type: not read
])
def test_ed310_near_misses(repo, files):
    write(repo, files)
    assert hits(repo, "ED310") == []


# --- real-world shapes: healthy projects stay quiet -----------------------------------------------------

LIBRARY = {
    "pyproject.toml": (
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
        '[project]\nname = "tinyparse"\nversion = "2.1.0"\nrequires-python = ">=3.9"\n'
        'dependencies = ["typing-extensions>=4.6; python_version < \'3.11\'"]\n\n'
        '[project.optional-dependencies]\ntest = ["pytest>=8", "hypothesis"]\n\n'
        '[dependency-groups]\ndev = ["ruff", "mypy", {include-group = "docs"}]\ndocs = ["sphinx"]\n'
    ),
    "tox.ini": "[tox]\nenv_list =\n    py{39,310,311,312,313}\n    lint\n    type\n\n[testenv]\nextras = test\n",
    ".gitignore": ".venv/\n.tox/\n",
}

APP = {
    "pyproject.toml": (
        '[project]\nname = "orders"\nversion = "0.1.0"\nrequires-python = ">=3.12,<3.14"\n'
        'dependencies = ["fastapi>=0.110", "uvicorn[standard]>=0.29"]\n\n[dependency-groups]\n'
        'dev = ["pytest>=8", "pytest-asyncio", "ruff"]\n'
    ),
    ".python-version": "3.12\n",
    "Dockerfile": (
        "# syntax=docker/dockerfile:1\n"
        f"FROM ghcr.io/astral-sh/uv:0.5.11-python3.12-bookworm-slim{DIGEST} AS build\n"
        "WORKDIR /app\nCOPY pyproject.toml uv.lock ./\nRUN uv sync --locked --no-dev --no-install-project\n"
        f"FROM python:3.12.8-slim-bookworm{DIGEST}\nCOPY --from=build /app/.venv /app/.venv\n"
        'CMD ["/app/.venv/bin/uvicorn", "orders:app"]\n'
    ),
    ".gitignore": ".venv/\n",
}

SCIENCE = {
    "environment.yml": (
        "name: climate\nchannels:\n  - conda-forge\n  - nodefaults\ndependencies:\n  - python=3.12\n"
        "  - numpy=1.26\n  - xarray=2024.6\n  - netcdf4=1.7.1\n  - pip\n  - pip:\n      - cmocean==4.0.3\n"
    ),
    ".gitignore": "/.venv\n",
}


@pytest.mark.parametrize("files", [LIBRARY, APP, SCIENCE], ids=["library", "app", "science"])
def test_healthy_projects_have_no_project_findings(repo, files):
    write(repo, files)
    repo.init_git()
    (repo.root / ".venv").mkdir()
    (repo.root / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    assert repo.findings("--select", "ED3") == []


def test_test_and_fixture_folders_are_test_data(repo):
    # The red-team case: a fixture project with an old, contradicting .python-version.
    files = {"pyproject.toml": pyproject(">=3.12"),
             "tests/fixtures/proj/pyproject.toml": pyproject(">=3.8,<3.9"),
             "tests/fixtures/proj/.python-version": "3.7\n",
             "testdata/env/environment.yml": "dependencies:\n  - python=3.8\n",
             "fixtures/old/Pipfile": '[requires]\npython_version = "3.8"\n',
             "test/images/Dockerfile": f"FROM python:3.8{DIGEST}\n"}
    write(repo, files)
    assert hits(repo, "ED309,ED310") == []
    # Near-miss: the same project in an ordinary folder
    write(repo, {"services/proj/pyproject.toml": pyproject(">=3.8,<3.9"), "services/proj/.python-version": "3.7\n"})
    assert sorted(hits(repo, "ED309,ED310")) == [("services/proj/.python-version", 1, "ED309"),
                                                 ("services/proj/.python-version", 1, "ED310"),
                                                 ("services/proj/pyproject.toml", 4, "ED310")]
