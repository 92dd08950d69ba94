"""Realistic seed files for the robustness suite, and the mutations applied to them.

The seeds are small projects shaped like real ones (written for these tests; the lockfiles are the
project's own fixtures in tests/fixtures/lockfiles, generated against a local index with invented hosts).
Mutations work on lines, the way broken files happen: lines deleted, duplicated, swapped or cut short,
odd tokens inserted, line ends changed, control characters and suppression comments sprinkled in.
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import strategies as st

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "lockfiles"


def _fixture(project: str, rel: str) -> str:
    return (FIXTURES / project / f"{rel}.fixture").read_text(encoding="utf-8")


DOCKERFILE = """\
# syntax=docker/dockerfile:1
ARG PYTHON_VERSION=3.12
FROM python:${PYTHON_VERSION}-slim AS build
ENV UV_LINK_MODE=copy \\
    UV_COMPILE_BYTECODE=1
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \\
    uv sync --locked --no-install-project --no-dev
COPY . .
RUN pip install -r requirements.txt && \\
    pip install -e . \\
    # a comment inside the continuation
    && rm -rf /tmp/*
RUN <<EOF
pip install flask
uv pip install --system gunicorn==23.0.0
EOF

FROM python:latest AS final
COPY --from=build /app /app
USER 1000
CMD ["python", "-m", "app"]
"""

PYPROJECT = """\
[project]
name = "service"
version = "0.3.0"
requires-python = ">=3.10"
dependencies = [
    "flask>=3.0",  # web
    "httpx",
    "attrs==23.2.0",
]

[project.optional-dependencies]
test = ["pytest>=8"]

[dependency-groups]
dev = ["ruff"]

[tool.uv]
package = true

[[tool.uv.index]]
name = "internal"
url = "https://index.example.invalid/simple"

[tool.envdoctor]
extend-select = ["ED304"]
"""

REQUIREMENTS = """\
# pinned by hand
-r base.txt
--index-url https://index.example.invalid/simple
flask==3.0.3 \\
    --hash=sha256:0000000000000000000000000000000000000000000000000000000000000000
requests>=2
-e ./libs/helper
git+https://git.example.invalid/org/repo.git@main#egg=repo
numpy ; python_version < "3.13"
"""

DOCKERIGNORE = """\
# keep the context small
.git
.venv
**/__pycache__
*.pyc
!keep.pyc
build/
"""

GITHUB_WORKFLOW = """\
name: ci
on: [push, pull_request]
env:
  UV_NO_SYNC: "0"
jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        python: ["3.11", "3.12"]
    steps:
      - uses: actions/checkout@v4
      - uses: astral-sh/setup-uv@v5
      - run: |
          pip install -r requirements.txt
          uv sync
          uv run pytest
      - name: lint
        run: pipx run ruff check .
"""

GITLAB_CI = """\
image: python:3.12
stages: [test]
test:
  stage: test
  script:
    - pip install poetry
    - poetry install
    - poetry run pytest
"""

PYVENV_CFG = """\
home = /usr/local/bin
include-system-site-packages = false
version = 3.12.4
executable = /usr/local/bin/python3.12
command = /usr/local/bin/python3 -m venv /src/.venv
"""

ENVIRONMENT_YML = """\
name: service
channels: [conda-forge]
dependencies:
  - python=3.12
  - pip
  - pip:
      - flask==3.0.3
"""

PRE_COMMIT = """\
repos:
  - repo: https://git.example.invalid/hooks
    rev: v1.0.0
    hooks: [{id: lint}]
"""

SEEDS: dict[str, str] = {
    "Dockerfile": DOCKERFILE,
    "pyproject.toml": PYPROJECT,
    "requirements.txt": REQUIREMENTS,
    ".dockerignore": DOCKERIGNORE,
    ".github/workflows/ci.yml": GITHUB_WORKFLOW,
    ".gitlab-ci.yml": GITLAB_CI,
    ".venv/pyvenv.cfg": PYVENV_CFG,
    "environment.yml": ENVIRONMENT_YML,
    ".pre-commit-config.yaml": PRE_COMMIT,
    ".python-version": "3.12\n",
    "tox.ini": "[tox]\nenvlist = py311, py312\n[testenv]\ndeps = pytest\ncommands = pytest\n",
    "uv.lock": _fixture("uv-project", "uv.lock"),
    "poetry.lock": _fixture("poetry-project", "poetry.lock"),
    "pdm.lock": _fixture("pdm-project", "pdm.lock"),
    "Pipfile.lock": _fixture("pipenv-project", "Pipfile.lock"),
    "Pipfile": _fixture("pipenv-project", "Pipfile"),
    "pylock.toml": _fixture("uv-project", "pylock.toml"),
    "requirements.lock.txt": _fixture("uv-project", "requirements.lock.txt"),
    "requirements.in": _fixture("pip-compile", "requirements.in"),
    "services/api/Dockerfile": "FROM python:3.12-slim@sha256:" + "a" * 64 + "\nRUN pip install --no-cache-dir flask\n",
    "services/api/pyproject.toml": '[project]\nname = "api"\nversion = "1"\ndependencies = ["flask"]\n',
    "services/api/uv.lock": _fixture("uv-workspace", "uv.lock"),
}

# Files whose comments start with `#`, so that `# envdoctor: ignore[CODE]` can be written in them.
HASH_COMMENTS = ("Dockerfile", ".toml", ".lock", ".txt", ".in", ".yml", ".yaml", ".dockerignore", ".ini", ".cfg",
                 "Pipfile", ".python-version")

# Tokens that break parsers in interesting ways: half-open brackets and quotes, continuation characters,
# heredoc markers, YAML indicators, TOML headers, control and bidi characters, huge and odd numbers.
ODD_TOKENS = [
    "[", "]", "[[", "]]", "{", "}", '"', "'", '"""', "'''", "\\", "`", "<<EOF", "EOF", "<<-'X'", "&&", "||", ";",
    "|", ">", "$", "${", "${A:-", "$((1+", "#", "# envdoctor: ignore[", "# envdoctor: ignore[ED101]",
    "# envdoctor: ignore[ALL]", "# envdoctor: nonsense", "# escape=`", "# syntax=x", ":", "- ", "? ", "&a", "*a",
    "!!python/object", "<<: *a", "---", "...", "%TAG", "=", "==", "===", "~=", "@", "[tool.uv]", "[[package]]",
    "version = 99", "version = \"x\"", "name =", "a.b.c = 1", "1979-05-27T07:32:00Z", "inf", "nan", "-0",
    "0x_1", "9" * 40, "\t", "\x0c", "\x0b", "\x1b[31m", "\x1b]8;;http://x.invalid\x07", "\u202e", "\u2028",
    "\x85", "\ufeff", "\ud7ff", "é", "𝔭", "FROM", "RUN", "COPY", "ARG", "ENV", "ONBUILD", "FROM scratch",
    "RUN pip install", "COPY --from=", "--mount=type=bind,source=", "-r", "-c", "-e", "--hash=sha256:",
    "uv sync", "poetry install", "pip install .", "python -m pip install --user x", "sudo pip install x",
    "run: |", "script:", "steps:", "jobs:", "- run: pip install x", "uses: x@", "home =", "version_info =",
]


@st.composite
def mutated(draw, text: str) -> str:
    """`text` with a few line-level mutations."""
    lines = text.split("\n")
    for _ in range(draw(st.integers(0, 6))):
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "splice", "truncate", "crlf",
                                   "indent", "join", "empty"]))
        if not lines:
            lines = [""]
        i = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "insert":
            lines.insert(i, " ".join(draw(st.lists(st.sampled_from(ODD_TOKENS), min_size=1, max_size=4))))
        elif op == "splice":
            at = draw(st.integers(0, len(lines[i])))
            token = draw(st.sampled_from(ODD_TOKENS) | st.text(max_size=6))
            lines[i] = lines[i][:at] + token + lines[i][at:]
        elif op == "truncate":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
            if draw(st.booleans()):
                del lines[i + 1:]
        elif op == "crlf":
            lines[i] += "\r"
        elif op == "indent":
            lines[i] = draw(st.sampled_from(["  ", "\t", "    ", " "])) + lines[i]
        elif op == "join" and i + 1 < len(lines):
            lines[i:i + 2] = [lines[i] + " " + lines[i + 1]]
        elif op == "empty":
            lines.insert(i, "")
    return "\n".join(lines)


@st.composite
def repositories(draw, min_files: int = 2) -> dict[str, str]:
    """A small repository: some of the seed files, most of them mutated."""
    names = draw(st.lists(st.sampled_from(sorted(SEEDS)), min_size=min_files, max_size=8, unique=True))
    files = {}
    for name in names:
        text = SEEDS[name]
        files[name] = draw(mutated(text)) if draw(st.integers(0, 4)) else text
    return files
