"""ED501/ED502 on whole workflows shaped like the ones real projects have (written for these tests): the
well-kept ones must come out clean, and the others must be flagged exactly where the problem is."""

from __future__ import annotations

PYPROJECT = """\
[project]
name = "shop"
version = "1.4.0"
requires-python = ">=3.11"
dependencies = ["httpx>=0.27", "pydantic>=2.7"]

[project.optional-dependencies]
docs = ["sphinx>=7"]

[dependency-groups]
dev = ["pytest>=8", "pytest-cov>=5", "ruff>=0.6"]

[tool.uv]
required-version = ">=0.5.1,<0.6"
"""
UV_LOCK = 'version = 1\nrevision = 3\nrequires-python = ">=3.11"\n'
HASH = "--hash=sha256:" + "c" * 64


def scan(repo, files):
    for rel, text in files.items():
        repo.write(rel, text)
    repo.init_git()
    return [(f["code"], f["path"], f["line"]) for f in repo.findings("--select", "ED501,ED502")]


UV_CI = """\
name: CI
on:
  push:
    branches: [main]
  pull_request:

concurrency:
  group: ${{ github.workflow }}-${{ github.ref }}
  cancel-in-progress: true

jobs:
  test:
    strategy:
      fail-fast: false
      matrix:
        os: [ubuntu-latest, windows-latest]
        python: ["3.11", "3.12", "3.13"]
    runs-on: ${{ matrix.os }}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2
      - name: Install uv
        uses: astral-sh/setup-uv@v6
        with:
          enable-cache: true
          python-version: ${{ matrix.python }}
      - name: Install the project
        run: uv sync --locked --all-extras --dev
      - name: Lint
        run: |
          uv run ruff check --output-format=github .
          uv run ruff format --check .
      - name: Test
        run: uv run pytest --cov --cov-report=xml
      - uses: codecov/codecov-action@v5
        with:
          files: coverage.xml

  minimum-versions:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: astral-sh/setup-uv@v6
      - run: uv sync --resolution lowest-direct
      - run: uv run --resolution lowest-direct pytest -x
"""


def test_well_kept_uv_project_is_clean(repo):
    # setup-uv reads `required-version` from [tool.uv]; the second job tests the lower bounds on purpose
    assert scan(repo, {"pyproject.toml": PYPROJECT, "uv.lock": UV_LOCK, ".github/workflows/ci.yml": UV_CI}) == []


PIP_TOOLS_CI = """\
name: tests
on: [push, pull_request]
jobs:
  pytest:
    runs-on: ubuntu-22.04
    defaults:
      run:
        shell: bash
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
          cache: pip
          cache-dependency-path: requirements/*.txt
      - name: Install
        run: |
          python -m pip install --upgrade pip wheel
          python -m pip install --require-hashes -r requirements/ci.txt
          python -m pip install --no-deps --editable .
      - run: python -m pytest -q
  docs:
    runs-on: ubuntu-22.04
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
      - run: pip install -r docs/requirements.txt
      - run: pip install .[docs]
      - run: sphinx-build -W docs docs/_build
  release:
    if: startsWith(github.ref, 'refs/tags/')
    needs: [pytest]
    runs-on: ubuntu-22.04
    steps:
      - uses: actions/checkout@v4
      - run: python -m pip install --upgrade pip build
      - run: python -m build
      - uses: pypa/gh-action-pypi-publish@release/v1
"""


def test_pip_tools_project(repo):
    files = {
        "pyproject.toml": PYPROJECT,
        "requirements/ci.txt": f"httpx==0.27.2 {HASH}\npydantic==2.9.2 {HASH}\npytest==8.3.3 {HASH}\n",
        "docs/requirements.txt": "sphinx>=7\nfuro\n",
        ".github/workflows/tests.yml": PIP_TOOLS_CI,
    }
    path = ".github/workflows/tests.yml"
    assert scan(repo, files) == [
        ("ED501", path, 27),  # docs/requirements.txt pins nothing
        ("ED501", path, 28),  # .[docs] after an unpinned file: resolved afresh
        ("ED502", path, 36),  # `build` unpinned (pip itself is not reported)
    ]


POETRY_CI = """\
name: ci
on: pull_request
env:
  POETRY_VERSION: "1.8.3"
jobs:
  check:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.12"
      - run: pipx install poetry==${{ env.POETRY_VERSION }}
      - run: poetry check --lock
      - run: poetry install --with dev --no-interaction
      - run: poetry run pytest
  nightly-deps:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pipx install poetry
      - run: poetry lock
      - run: poetry install
"""


def test_poetry_project(repo):
    files = {"pyproject.toml": '[tool.poetry]\nname = "app"\n[tool.poetry.dependencies]\npython = "^3.11"\n',
             "poetry.lock": "# poetry\n", ".github/workflows/ci.yml": POETRY_CI}
    path = ".github/workflows/ci.yml"
    assert scan(repo, files) == [("ED502", path, 21), ("ED501", path, 23)]


GITLAB_CI = """\
stages: [lint, test]

variables:
  PIP_CACHE_DIR: "$CI_PROJECT_DIR/.cache/pip"

.python: &python
  image: python:3.12-slim
  before_script:
    - python -m pip install --upgrade pip
    - pip install uv==0.5.11

lint:
  <<: *python
  stage: lint
  script:
    - uvx ruff@0.6.9 check .
    - uv tool run pre-commit run --all-files

test:
  extends: .python
  stage: test
  variables:
    UV_FROZEN: "1"
  script:
    - uv sync
    - uv run pytest

integration:
  extends: .python
  stage: test
  script:
    - uv sync --all-extras
"""


def test_gitlab_pipeline(repo):
    files = {"pyproject.toml": PYPROJECT, "uv.lock": UV_LOCK, ".gitlab-ci.yml": GITLAB_CI}
    # the `test` job is frozen by its variables; `integration` is not
    assert scan(repo, files) == [("ED502", ".gitlab-ci.yml", 17), ("ED501", ".gitlab-ci.yml", 32)]


def test_control_character_in_a_workflow_is_ed001_at_its_place(repo):
    # A C1 control (U+009B) inside a `run:` string: PyYAML's reader error has no line, only an offset.
    workflow = ("name: CI\non: push\njobs:\n  t:\n    runs-on: ubuntu-latest\n    steps:\n"
                "      - run: echo hi\n      - run: pip install \"a\u009bb\"\n")
    repo.write(".github/workflows/ci.yml", workflow)
    repo.init_git()
    (finding,) = repo.findings("--select", "ED001")
    assert (finding["line"], finding["column"]) == (8, 28)
    assert "U+009B" in finding["message"] and "<unicode string>" not in finding["message"]
    assert "position" not in finding["message"]
    # a syntax error is placed as before
    repo.write(".github/workflows/ci.yml", workflow.replace('"a\u009bb"', "a: b"))
    (finding,) = repo.findings("--select", "ED001")
    assert (finding["line"], finding["column"]) == (8, 27) and "U+" not in finding["message"]
    assert "mapping values are not allowed here (line 8, column 27)" in finding["message"]
