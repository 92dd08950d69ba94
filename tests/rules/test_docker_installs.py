"""ED105 editable-install-in-image, ED106 image-ignores-lockfile, ED107 unpinned-package-install and
ED112 system-python-install: must flag, and the near-misses."""

from __future__ import annotations

import pytest

PACKAGED = """\
[project]
name = "app"
version = "1.0"
dependencies = ["fastapi>=0.110"]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
"""
VIRTUAL = '[project]\nname = "app"\nversion = "1.0"\ndependencies = ["fastapi>=0.110"]\n'
POETRY_APP = """\
[tool.poetry]
name = "app"
version = "1.0"

[tool.poetry.dependencies]
python = "^3.12"

[build-system]
requires = ["poetry-core"]
build-backend = "poetry.core.masonry.api"
"""
POETRY_NO_PACKAGE = '[tool.poetry]\npackage-mode = false\n\n[tool.poetry.dependencies]\npython = "^3.12"\n'
DIGEST = "@sha256:" + "0123456789abcdef" * 4


def results(repo, dockerfile, select, files=None, *, pyproject=PACKAGED):
    repo.write("Dockerfile", dockerfile)
    base = {"pyproject.toml": pyproject, "uv.lock": "version = 1\n", "src/app/__init__.py": "",
            "requirements.txt": "flask==3.0.3\nitsdangerous==2.2.0\n"}
    for path, text in {**base, **(files or {})}.items():
        repo.write(path, text)
    repo.init_git()
    return [(f["code"], f["line"]) for f in repo.findings("--select", select)]


UV = f"FROM python:3.12-slim{DIGEST}\nCOPY --from=ghcr.io/astral-sh/uv:0.5.9{DIGEST} /uv /bin/\nWORKDIR /app\n"

# --- ED105 ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("dockerfile", "expected"), [
    (UV + "COPY . .\nRUN uv sync --locked\n", [5]),
    (UV + "COPY . .\nRUN pip install --no-cache-dir -e .\n", [5]),
    (UV + "COPY . .\nRUN pip install --no-cache-dir --editable=.[web]\n", [5]),
    (UV + "COPY . .\nRUN uv pip install --system -e .\n", [5]),
    (UV + "COPY . .\nRUN python3 -m pip install --no-cache-dir -e .\n", [5]),
    # a requirements file that installs the project editable
    (UV + "COPY . .\nRUN pip install --no-cache-dir -r requirements-dev.txt\n", [5]),
    # a builder makes an editable venv and the final stage copies it
    (f"FROM python:3.12-slim{DIGEST} AS builder\nWORKDIR /app\nCOPY . .\nRUN uv sync --locked\n"
     f"FROM python:3.12-slim{DIGEST}\nCOPY --from=builder /app/.venv /app/.venv\n", [4]),
    (f"FROM python:3.12-slim{DIGEST} AS builder\nWORKDIR /app\nCOPY . .\nRUN uv sync --locked\n"
     f"FROM python:3.12-slim{DIGEST}\nCOPY --from=builder /app /app\n", [4]),
    (f"FROM python:3.12-slim{DIGEST} AS builder\nRUN python -m venv /opt/venv\nCOPY . /src\n"
     f"RUN /opt/venv/bin/pip install --no-cache-dir -e /src\n"
     f"FROM python:3.12-slim{DIGEST}\nCOPY --from=builder /opt/venv /opt/venv\n", [4]),
    # UV_PROJECT_ENVIRONMENT moves the venv; the final stage copies it from there
    (f"FROM python:3.12-slim{DIGEST} AS builder\nENV UV_PROJECT_ENVIRONMENT=/opt/venv\nWORKDIR /app\nCOPY . .\n"
     f"RUN uv sync --locked\nFROM python:3.12-slim{DIGEST}\nCOPY --from=builder /opt/venv /opt/venv\n", [5]),
    # the final stage copies the venv from a stage built FROM the builder: the builder's editable install is in it
    (f"FROM python:3.12-slim{DIGEST} AS builder\nWORKDIR /app\nCOPY . .\nRUN uv sync --locked\nFROM builder AS tested\n"
     f"RUN echo tested\nFROM python:3.12-slim{DIGEST}\nCOPY --from=tested /app/.venv /app/.venv\n", [4]),
])
def test_ed105_must_flag(repo, dockerfile, expected):
    files = {"requirements-dev.txt": "-e .\npytest==8.3.2\n"}
    assert results(repo, dockerfile, "ED105", files) == [("ED105", line) for line in expected]


@pytest.mark.parametrize("dockerfile", [
    UV + "COPY . .\nRUN uv sync --locked --no-editable\n",
    UV + "ENV UV_NO_EDITABLE=1\nCOPY . .\nRUN uv sync --locked\n",
    UV + "COPY pyproject.toml uv.lock ./\nRUN uv sync --locked --no-install-project\n",
    UV + "COPY . .\nRUN pip install --no-cache-dir .\n",
    # the builder's editable venv is not what the final stage copies
    f"FROM python:3.12-slim{DIGEST} AS builder\nWORKDIR /app\nCOPY . .\nRUN uv sync --locked && uv build --wheel\n"
    f"FROM python:3.12-slim{DIGEST}\nCOPY --from=builder /app/dist /dist\nRUN pip install --no-cache-dir /dist/*.whl\n",
    # the final stage copies the venv from a sibling of the editable stage (both built FROM one base), and only
    # wheels from the editable stage itself
    f"FROM python:3.12-slim{DIGEST} AS base\nWORKDIR /app\nFROM base AS dev\nCOPY . .\n"
    f"RUN uv sync --locked && uv build --wheel -o /wheels\nFROM base AS prod\nCOPY . .\nRUN uv sync --locked --no-editable\n"
    f"FROM python:3.12-slim{DIGEST}\nCOPY --from=prod /app/.venv /app/.venv\nCOPY --from=dev /wheels /wheels\n",
    # a test stage that is not shipped
    f"FROM python:3.12-slim{DIGEST} AS test\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -e .\n"
    f"FROM python:3.12-slim{DIGEST}\nCMD [\"python\"]\n",
    # a comment or an echo is no install
    UV + "COPY . .\n# RUN pip install -e .\nRUN echo 'pip install -e .'\n",
])
def test_ed105_must_not_flag(repo, dockerfile):
    assert results(repo, dockerfile, "ED105") == []


def test_ed105_uv_sync_of_a_virtual_project_installs_no_project(repo):
    assert results(repo, UV + "COPY . .\nRUN uv sync --locked\n", "ED105", pyproject=VIRTUAL) == []


def test_ed105_uv_package_true_makes_it_packaged(repo):
    pyproject = VIRTUAL + "\n[tool.uv]\npackage = true\n"
    assert results(repo, UV + "COPY . .\nRUN uv sync --locked\n", "ED105", pyproject=pyproject) == [("ED105", 5)]


def test_ed105_poetry_root_install_and_package_mode(repo):
    dockerfile = (UV + "COPY pyproject.toml poetry.lock ./\nRUN poetry install --no-root\n"
                  "COPY . .\nRUN poetry install --only main\n")
    assert results(repo, dockerfile, "ED105", {"poetry.lock": ""}, pyproject=POETRY_APP) == [("ED105", 7)]


def test_ed105_poetry_package_mode_false_has_no_root(repo):
    dockerfile = UV + "COPY . .\nRUN poetry install --only main\n"
    assert results(repo, dockerfile, "ED105", {"poetry.lock": ""}, pyproject=POETRY_NO_PACKAGE) == []


def test_ed105_poetry_message_names_the_stage_first(repo):
    dockerfile = (f"FROM python:3.12-slim{DIGEST} AS builder\nENV POETRY_VIRTUALENVS_IN_PROJECT=1\nWORKDIR /app\n"
                  f"COPY . .\nRUN poetry install --only main\n"
                  f"FROM python:3.12-slim{DIGEST}\nCOPY --from=builder /app/.venv /app/.venv\n")
    assert results(repo, dockerfile, "ED105", {"poetry.lock": ""}, pyproject=POETRY_APP) == [("ED105", 5)]
    (finding,) = repo.findings("--select", "ED105")
    assert finding["message"].startswith("'poetry install --only main' in stage 'builder', whose environment the "
                                         "final image copies (line 7), installs the project in development")


def test_ed105_message_names_the_builder_and_the_copy(repo):
    dockerfile = (f"FROM python:3.12-slim{DIGEST} AS builder\nWORKDIR /app\nCOPY . .\nRUN uv sync --locked\n"
                  f"FROM python:3.12-slim{DIGEST}\nCOPY --from=builder /app/.venv /app/.venv\n")
    results(repo, dockerfile, "ED105")
    (finding,) = repo.findings("--select", "ED105")
    assert "in stage 'builder', whose environment the final image copies (line 6)" in finding["message"]


@pytest.mark.parametrize("dockerfile", [
    UV + "COPY requirements-dev.txt .\nRUN uv pip install --system --no-editable -r requirements-dev.txt\n",
    UV + "COPY requirements-dev.txt .\nRUN UV_NO_EDITABLE=1 uv pip install --system -r requirements-dev.txt\n",
    UV + "ENV UV_NO_EDITABLE=1\nCOPY requirements-dev.txt .\nRUN uv pip install --system -r requirements-dev.txt\n",
    UV + "ARG UV_NO_EDITABLE=1\nCOPY requirements-dev.txt .\nRUN uv pip install --system -r requirements-dev.txt\n",
])
def test_ed105_uv_pip_install_no_editable_covers_requirements_file_lines(repo, dockerfile):
    assert results(repo, dockerfile, "ED105", {"requirements-dev.txt": "-e .\npytest==8.3.2\n"}) == []


@pytest.mark.parametrize("dockerfile", [
    UV + "COPY requirements-dev.txt .\nRUN uv pip install --system -r requirements-dev.txt\n",
    UV + "COPY requirements-dev.txt .\nRUN UV_NO_EDITABLE=0 uv pip install --system -r requirements-dev.txt\n",
])
def test_ed105_uv_pip_install_of_an_editable_line_without_no_editable(repo, dockerfile):
    assert results(repo, dockerfile, "ED105", {"requirements-dev.txt": "-e .\npytest==8.3.2\n"}) == [("ED105", 5)]
    (finding,) = repo.findings("--select", "ED105")
    assert "uv sync" not in finding["fix_hint"]
    assert "--no-editable" in finding["fix_hint"] and "uv export" in finding["fix_hint"]


def test_ed105_uv_sync_advice_keeps_frozen(repo):
    assert results(repo, UV + "COPY . .\nRUN uv sync --frozen\n", "ED105") == [("ED105", 5)]
    (finding,) = repo.findings("--select", "ED105")
    assert "uv sync --frozen --no-editable" in finding["fix_hint"]


# --- ED106 ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("dockerfile", "expected"), [
    (UV + "COPY . .\nRUN uv sync --no-editable\n", [5]),
    (UV + "COPY . .\nRUN uv sync --frozen\nRUN uv sync --no-dev\n", [6]),
    (UV + "COPY pyproject.toml .\nRUN uv pip install --system -r pyproject.toml\n", [5]),
    # a requirements file that is not a lock (cross-file)
    (UV + "COPY requirements.in .\nRUN pip install --no-cache-dir -r requirements.in\n", [5]),
    (UV + "COPY reqs/ /tmp/reqs/\nRUN pip install --no-cache-dir -r /tmp/reqs/prod.txt\n", [5]),
    (UV + "COPY . .\nRUN cd /app && pip install --no-cache-dir -r requirements.in\n", [5]),
    # poetry/pdm without their lockfile
    (UV + "COPY pyproject.toml ./\nRUN poetry install --no-root\n", [5]),
    (UV + "COPY pyproject.toml ./\nRUN pdm install --prod --no-self\n", [5]),
])
def test_ed106_must_flag(repo, dockerfile, expected):
    files = {"requirements.in": "flask>=3\n", "reqs/prod.txt": "-r base.txt\n", "reqs/base.txt": "django\n"}
    assert results(repo, dockerfile, "ED106", files) == [("ED106", line) for line in expected]


@pytest.mark.parametrize("dockerfile", [
    UV + "COPY . .\nRUN uv sync --locked\n",
    UV + "COPY . .\nRUN uv sync --frozen --no-dev\n",
    UV + "ENV UV_LOCKED=1\nCOPY . .\nRUN uv sync\n",
    UV + "ENV UV_FROZEN=true\nCOPY . .\nRUN uv sync\n",
    UV + "COPY . .\nRUN UV_FROZEN=1 uv sync\n",
    # a pinned requirements file is a lock
    UV + "COPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n",
    # a constraints file may pin what the requirements leave open
    UV + "COPY requirements.in constraints.txt ./\nRUN pip install --no-cache-dir -r requirements.in -c constraints.txt\n",
    # the file is not in the repository: ED110's business, not ours
    UV + "RUN pip install --no-cache-dir -r generated.txt\n",
    # the file a build argument names is not guessed at
    UV + "ARG REQS\nCOPY . .\nRUN pip install --no-cache-dir -r $REQS\n",
    # poetry/pdm with their lock
    UV + "COPY pyproject.toml poetry.lock ./\nRUN poetry install --no-root\n",
    UV + "COPY pyproject.toml poetry.lock* ./\nRUN poetry install --no-root\n",
    UV + "COPY . .\nRUN poetry install --no-root\n",
    UV + "COPY pyproject.toml pdm.lock ./\nRUN pdm install --prod --no-self\n",
    UV + "RUN --mount=type=bind,source=poetry.lock,target=poetry.lock \\\n"
         "    --mount=type=bind,source=pyproject.toml,target=pyproject.toml poetry install --no-root\n",
    # a lock generated in the image is not known to be missing
    UV + "COPY pyproject.toml ./\nRUN poetry lock\nRUN poetry install --no-root\n",
])
def test_ed106_must_not_flag(repo, dockerfile):
    files = {"requirements.in": "flask>=3\n", "constraints.txt": "flask==3.0.3\n", "poetry.lock": "", "pdm.lock": ""}
    assert results(repo, dockerfile, "ED106", files) == []


def test_ed106_poetry_lock_excluded_by_dockerignore_is_not_copied(repo):
    files = {"poetry.lock": "", ".dockerignore": "*.lock\n"}
    assert results(repo, UV + "COPY . .\nRUN poetry install --no-root\n", "ED106", files) == [("ED106", 5)]


@pytest.mark.parametrize(("dockerfile", "expected"), [
    # COPY --exclude leaves the lock out of the image, as .dockerignore would
    (UV + "COPY --exclude=poetry.lock . .\nRUN poetry install --no-root\n", [5]),
    (UV + "COPY --exclude=*.lock --exclude=*.md . .\nRUN poetry install --no-root\n", [5]),
    # the near miss: a pattern that leaves the lock in
    (UV + "COPY --exclude=*.md . .\nRUN poetry install --no-root\n", []),
    # the pattern read below the source and from the context root disagree: not guessed at
    (UV + "COPY --exclude=app/poetry.lock app /srv\nWORKDIR /srv\nCOPY pyproject.toml .\n"
          "RUN poetry install --no-root\n", []),
    # a pattern not known (a build argument without a value) may or may not leave it out
    (UV + "ARG SKIP\nCOPY --exclude=$SKIP . .\nRUN poetry install --no-root\n", []),
])
def test_ed106_copy_exclude_leaves_the_lock_out(repo, dockerfile, expected):
    files = {"poetry.lock": "", "app/poetry.lock": "", "app/main.py": ""}
    assert results(repo, dockerfile, "ED106", files) == [("ED106", line) for line in expected]


# `pip install .` beside the project's committed lock (red-team miss M1)
LOCK_UV = ('version = 1\nrequires-python = ">=3.12"\n\n[[package]]\nname = "app"\nversion = "1.0"\n'
           'source = { editable = "." }\ndependencies = [{ name = "fastapi" }]\n\n'
           '[[package]]\nname = "fastapi"\nversion = "0.115.6"\nsource = { registry = "https://pypi.example.invalid/simple" }\n')
LOCK_REQS = "fastapi==0.115.6 \\\n    --hash=sha256:" + "e" * 64 + "\n"
NO_DEPS = '[project]\nname = "app"\nversion = "1.0"\ndependencies = []\n\n[build-system]\nrequires = ["hatchling"]\n' \
          'build-backend = "hatchling.build"\n'
EXTRAS_ONLY = NO_DEPS.replace("dependencies = []", 'dependencies = []\n\n[project.optional-dependencies]\nweb = ["fastapi>=0.110"]')
DYNAMIC = NO_DEPS.replace("dependencies = []", 'dynamic = ["dependencies"]')
POETRY_DEPS = POETRY_APP.replace('python = "^3.12"', 'python = "^3.12"\nfastapi = "^0.110"')
# a dependency only in a Poetry group (legacy dev-dependencies or a named group): `pip install .` does not install it
POETRY_GROUP_ONLY = POETRY_APP.replace('[build-system]', '[tool.poetry.group.dev.dependencies]\nfastapi = "^0.110"\n\n'
                                       '[build-system]')
POETRY_DEV_ONLY = POETRY_APP.replace('[build-system]', '[tool.poetry.dev-dependencies]\nfastapi = "^0.110"\n\n'
                                     '[build-system]')
LOCK_POETRY = '[[package]]\nname = "fastapi"\nversion = "0.115.6"\n\n[metadata]\nlock-version = "2.0"\n'
SOURCE = UV + "COPY pyproject.toml ./\nCOPY src ./src\n"


@pytest.mark.parametrize(("dockerfile", "files", "pyproject", "expected"), [
    (SOURCE + "RUN pip install --no-cache-dir .\n", {"uv.lock": LOCK_UV}, PACKAGED, [6]),
    (SOURCE + "RUN pip install --no-cache-dir -e .\n", {"uv.lock": LOCK_UV}, PACKAGED, [6]),
    (SOURCE + "RUN uv pip install --system --no-cache /app\n", {"uv.lock": LOCK_UV}, PACKAGED, [6]),
    (UV + "COPY . .\nRUN python -m pip install --no-cache-dir '.[web]'\n", {"uv.lock": LOCK_UV}, EXTRAS_ONLY, [5]),
    # Poetry's lock, and a hash-pinned requirements lock
    (SOURCE + "RUN pip install --no-cache-dir .\n", {"poetry.lock": LOCK_POETRY}, POETRY_DEPS, [6]),
    (SOURCE + "RUN pip install --no-cache-dir .\n", {"requirements.lock.txt": LOCK_REQS}, PACKAGED, [6]),
    # the lock installed after the project does not count
    (UV + "COPY . .\nRUN pip install --no-cache-dir . && pip install --no-cache-dir -r requirements.lock.txt\n",
     {"requirements.lock.txt": LOCK_REQS}, PACKAGED, [5]),
])
def test_ed106_project_install_beside_a_committed_lock(repo, dockerfile, files, pyproject, expected):
    assert results(repo, dockerfile, "ED106", files, pyproject=pyproject) == [("ED106", line) for line in expected]


@pytest.mark.parametrize(("dockerfile", "files", "pyproject"), [
    # --no-deps (or PIP_NO_DEPS), after the lock is installed or exported
    (SOURCE + "RUN pip install --no-cache-dir --no-deps .\n", {"uv.lock": LOCK_UV}, PACKAGED),
    (SOURCE + "ENV PIP_NO_DEPS=1\nRUN pip install --no-cache-dir .\n", {"uv.lock": LOCK_UV}, PACKAGED),
    (UV + "COPY requirements.lock.txt ./\nRUN uv pip install --system --no-cache -r requirements.lock.txt\nCOPY . .\n"
          "RUN pip install --no-cache-dir --no-deps .\n", {"requirements.lock.txt": LOCK_REQS}, PACKAGED),
    (UV + "COPY . .\nRUN pip install --no-cache-dir -r requirements.lock.txt && pip install --no-cache-dir .\n",
     {"requirements.lock.txt": LOCK_REQS}, PACKAGED),
    (UV + "COPY . .\nRUN uv export --frozen --no-emit-project -o /tmp/r.txt && pip install --no-cache-dir "
          "-r /tmp/r.txt && pip install --no-cache-dir .\n", {"uv.lock": LOCK_UV}, PACKAGED),
    # the lock installed in a builder whose environment this stage copies
    (f"FROM python:3.12-slim{DIGEST} AS build\nWORKDIR /app\nCOPY requirements.lock.txt .\n"
     "RUN python -m venv /venv && /venv/bin/pip install --no-cache-dir -r requirements.lock.txt\n"
     f"FROM python:3.12-slim{DIGEST}\nCOPY --from=build /venv /venv\nWORKDIR /app\nCOPY . .\n"
     "RUN /venv/bin/pip install --no-cache-dir .\n", {"requirements.lock.txt": LOCK_REQS}, PACKAGED),
    # no dependencies to resolve, or not statically known
    (SOURCE + "RUN pip install --no-cache-dir .\n", {"uv.lock": LOCK_UV}, NO_DEPS),
    (SOURCE + "RUN pip install --no-cache-dir .\n", {"uv.lock": LOCK_UV}, DYNAMIC),
    (SOURCE + "RUN pip install --no-cache-dir .\n", {"poetry.lock": LOCK_POETRY}, POETRY_GROUP_ONLY),
    (SOURCE + "RUN pip install --no-cache-dir .\n", {"poetry.lock": LOCK_POETRY}, POETRY_DEV_ONLY),
    (UV + "COPY . .\nRUN pip install --no-cache-dir .\n", {"uv.lock": LOCK_UV}, EXTRAS_ONLY),
    # the lock is not in the build context, or left out of it
    (SOURCE + "RUN pip install --no-cache-dir .\n", {"uv.lock": LOCK_UV, ".dockerignore": "uv.lock\n"}, PACKAGED),
    (UV + "COPY --exclude=uv.lock . .\nRUN pip install --no-cache-dir .\n", {"uv.lock": LOCK_UV}, PACKAGED),
    # a lock that records none of the project's dependencies, or a pinned file without hashes
    (SOURCE + "RUN pip install --no-cache-dir .\n", {"uv.lock": "version = 1\n"}, PACKAGED),
    (SOURCE + "RUN pip install --no-cache-dir .\n", {"uv.lock": "", "requirements.txt": "fastapi==0.115.6\n"},
     PACKAGED),
    # constraints pin what the project leaves open; wheels from a local folder only
    (SOURCE + "RUN pip install --no-cache-dir -c requirements.lock.txt .\n", {"requirements.lock.txt": LOCK_REQS}, PACKAGED),
    (SOURCE + "RUN pip install --no-cache-dir --no-index --find-links /wheels .\n", {"uv.lock": LOCK_UV}, PACKAGED),
])
def test_ed106_project_install_must_not_flag(repo, dockerfile, files, pyproject):
    assert results(repo, dockerfile, "ED106", files, pyproject=pyproject) == []


def test_ed106_project_install_lock_not_committed(repo):
    repo.write("Dockerfile", SOURCE + "RUN pip install --no-cache-dir .\n")
    repo.write("pyproject.toml", PACKAGED)
    repo.write("src/app/__init__.py", "")
    repo.init_git()
    repo.write("uv.lock", LOCK_UV)  # in the build context, but not committed
    assert repo.codes("--select", "ED106") == []
    repo.git("add", "uv.lock")
    repo.git("commit", "-q", "-m", "lock")
    assert repo.codes("--select", "ED106") == ["ED106"]


def test_ed106_project_install_message_and_advice_for_uv_lock(repo):
    results(repo, SOURCE + "RUN pip install --no-cache-dir .\n", "ED106", {"uv.lock": LOCK_UV})
    (finding,) = repo.findings("--select", "ED106")
    assert "'fastapi>=0.110'" in finding["message"] and "uv.lock is committed" in finding["message"]
    assert "uv sync --locked --no-editable" in finding["fix_hint"]


def test_ed106_project_install_advice_for_a_requirements_lock(repo):
    results(repo, SOURCE + "RUN uv pip install --system .\n", "ED106", {"requirements.lock.txt": LOCK_REQS})
    (finding,) = repo.findings("--select", "ED106")
    assert "requirements.lock.txt is committed" in finding["message"]
    assert "`uv pip install --require-hashes -r requirements.lock.txt`" in finding["fix_hint"]
    assert "`uv pip install --no-deps .`" in finding["fix_hint"]


def test_ed106_message_quotes_the_unpinned_line(repo):
    results(repo, UV + "COPY requirements.in .\nRUN pip install --no-cache-dir -r requirements.in\n", "ED106",
            {"requirements.in": "# deps\nflask>=3\n"})
    (finding,) = repo.findings("--select", "ED106")
    assert "'flask>=3' (requirements.in line 2) is not pinned" in finding["message"]


# --- ED107 ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("dockerfile", "expected"), [
    ("FROM python:3.12-slim\nRUN pip install --no-cache-dir uv\n", [2]),
    ("FROM python:3.12-slim\nRUN pip install --no-cache-dir poetry\n", [2]),
    ("FROM python:3.12-slim\nRUN pip install --no-cache-dir 'poetry>=1.8,<2'\n", [2]),
    ("FROM python:3.12-slim\nRUN pip install --no-cache-dir --upgrade pip setuptools wheel\n", [2]),
    ("FROM python:3.12-slim\nRUN pip install --no-cache-dir -r requirements.txt gunicorn\n", [2]),
    ("FROM python:3.12-slim\nRUN pipx install poetry\n", [2]),
    ("FROM python:3.12-slim\nRUN uv tool install ruff\n", [2]),
    ("FROM python:3.12-slim\nRUN uv tool install ruff@latest\n", [2]),
    ("FROM python:3.12-slim\nRUN uv pip install --system --no-cache httpx\n", [2]),
    ("FROM python:3.12-slim\nRUN [\"pip\", \"install\", \"--no-cache-dir\", \"pipenv\"]\n", [2]),
    ("FROM python:3.12-slim\nRUN sh -c 'pip install --no-cache-dir \"flask==3.*\"'\n", [2]),
    # in a builder stage too: what it builds is shipped
    ("FROM python:3.12-slim AS build\nRUN pip install --no-cache-dir build\nRUN python -m build\n"
     "FROM python:3.12-slim\nCOPY --from=build /dist /dist\n", [2]),
])
def test_ed107_must_flag(repo, dockerfile, expected):
    assert results(repo, dockerfile, "ED107") == [("ED107", line) for line in expected]


@pytest.mark.parametrize("dockerfile", [
    "FROM python:3.12-slim\nRUN pip install --no-cache-dir uv==0.5.9\n",
    "FROM python:3.12-slim\nRUN pip install --no-cache-dir 'poetry===1.8.3'\n",
    "FROM python:3.12-slim\nARG POETRY_VERSION=1.8.3\nRUN pip install --no-cache-dir \"poetry==${POETRY_VERSION}\"\n",
    "FROM python:3.12-slim\nRUN pip install --no-cache-dir -r requirements.txt\n",
    "FROM python:3.12-slim\nCOPY . /app\nRUN pip install --no-cache-dir /app\n",
    "FROM python:3.12-slim\nCOPY dist /dist\nRUN pip install --no-cache-dir /dist/app-1.0-py3-none-any.whl\n",
    "FROM python:3.12-slim\nRUN pip install --no-cache-dir --no-index --find-links /wheels app\n",
    "FROM python:3.12-slim\nCOPY constraints.txt .\nRUN pip install --no-cache-dir -c constraints.txt flask\n",
    "FROM python:3.12-slim\nRUN pipx install poetry==1.8.3\n",
    "FROM python:3.12-slim\nRUN uv tool install ruff@0.6.9\n",
    "FROM python:3.12-slim\nRUN uv tool install 'ruff==0.6.9'\n",
    # the seed practice: uv copied from a digest-pinned image
    f"FROM python:3.12-slim{DIGEST}\nCOPY --from=ghcr.io/astral-sh/uv:0.5.9{DIGEST} /uv /uvx /bin/\n",
    # not installs
    "FROM python:3.12-slim\nRUN pip download --no-deps -d /tmp/x flask\n",
    "FROM python:3.12-slim\nRUN pip uninstall -y setuptools\n",
    "FROM python:3.12-slim\nRUN pip show flask\n",
])
def test_ed107_must_not_flag(repo, dockerfile):
    assert results(repo, dockerfile, "ED107", {"constraints.txt": "flask==3.0.3\n"}) == []


def test_ed107_message_lists_the_packages(repo):
    results(repo, "FROM python:3.12-slim\nRUN pip install --no-cache-dir uv==0.5.9 poetry\n", "ED107")
    (finding,) = repo.findings("--select", "ED107")
    assert "installs 'poetry' without an exact version" in finding["message"]
    assert "poetry==X.Y.Z" in finding["fix_hint"]


# --- ED112 ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("dockerfile", "expected"), [
    ("FROM debian:12\nRUN apt-get update && apt-get install -y python3-pip\n"
     "RUN pip install --no-cache-dir --break-system-packages flask==3.0.3\n", [3]),
    ("FROM python:3.12-slim\nRUN pip install --no-cache-dir --user flask==3.0.3\n", [2]),
    ("FROM python:3.12-slim\nRUN sudo pip install --no-cache-dir flask==3.0.3\n", [2]),
    ("FROM python:3.12-slim\nRUN sudo -H python3 -m pip install --no-cache-dir flask==3.0.3\n", [2]),
    ("FROM debian:12\nENV PIP_BREAK_SYSTEM_PACKAGES=1\nRUN pip install --no-cache-dir flask==3.0.3\n", [3]),
    ("FROM python:3.12-slim\nRUN uv pip install --system --break-system-packages --no-cache flask==3.0.3\n", [2]),
    # the --user builder pattern: the final stage copies ~/.local
    ("FROM python:3.12-slim AS build\nCOPY requirements.txt .\nRUN pip install --no-cache-dir --user -r requirements.txt\n"
     "FROM python:3.12-slim\nCOPY --from=build /root/.local /root/.local\n", [3]),
])
def test_ed112_must_flag(repo, dockerfile, expected):
    assert results(repo, dockerfile, "ED112") == [("ED112", line) for line in expected]


@pytest.mark.parametrize("dockerfile", [
    "FROM python:3.12-slim\nRUN pip install --no-cache-dir flask==3.0.3\n",
    # uv's --system is the deliberate choice
    "FROM python:3.12-slim\nRUN uv pip install --system --no-cache flask==3.0.3\n",
    # a virtual environment's pip
    "FROM python:3.12-slim\nRUN python -m venv /opt/venv\n"
    "RUN /opt/venv/bin/pip install --no-cache-dir --break-system-packages flask==3.0.3\n",
    "FROM python:3.12-slim\nENV VIRTUAL_ENV=/opt/venv\nRUN python -m venv $VIRTUAL_ENV\n"
    "ENV PATH=\"$VIRTUAL_ENV/bin:$PATH\"\nRUN pip install --no-cache-dir --user flask==3.0.3\n",
    # a builder whose --user site is not copied into the final image
    "FROM python:3.12-slim AS build\nRUN pip install --no-cache-dir --user build==1.2.1 && python -m build -o /dist\n"
    "FROM python:3.12-slim\nCOPY --from=build /dist /dist\n",
    # PIP_USER=0 does not turn --user on
    "FROM python:3.12-slim\nENV PIP_USER=0\nRUN pip install --no-cache-dir flask==3.0.3\n",
    # sudo for something else
    "FROM python:3.12-slim\nRUN sudo apt-get update && pip install --no-cache-dir flask==3.0.3\n",
])
def test_ed112_must_not_flag(repo, dockerfile):
    assert results(repo, dockerfile, "ED112") == []


def test_ed112_on_the_python_image_speaks_of_isolation_not_distribution_packages(repo):
    dockerfile = (f"FROM python:3.12-slim{DIGEST} AS build\nRUN pip install --no-cache-dir --user flask==3.0.3\n"
                  f"FROM python:3.12-slim{DIGEST}\nCOPY --from=build /root/.local /root/.local\n")
    assert results(repo, dockerfile, "ED112") == [("ED112", 2)]
    (finding,) = repo.findings("--select", "ED112")
    assert "distribution" not in finding["message"] and "isolates" in finding["message"]
    assert "--system" not in finding["fix_hint"]


def test_ed112_on_a_distribution_python_names_its_packages(repo):
    dockerfile = (f"FROM debian:12-slim{DIGEST}\nRUN apt-get update && apt-get install -y python3-pip\n"
                  "RUN pip install --no-cache-dir --break-system-packages flask==3.0.3\n")
    assert results(repo, dockerfile, "ED112") == [("ED112", 3)]
    (finding,) = repo.findings("--select", "ED112")
    assert "distribution's own" in finding["message"] and "PEP 668" in finding["message"]
    assert "--system" not in finding["fix_hint"]


def test_ed112_can_be_allowed_inline(repo):
    dockerfile = ("FROM debian:12\n# envdoctor: ignore[ED112] -- this image is the system interpreter's\n"
                  "RUN pip install --no-cache-dir --break-system-packages flask==3.0.3\n")
    assert results(repo, dockerfile, "ED112,ED002") == []


@pytest.mark.parametrize("path", [".devcontainer/Dockerfile", "Dockerfile.dev", "docker/dev.Dockerfile",
                                  "Dockerfile-local"])
def test_ed105_development_images_are_editable_on_purpose(repo, path):
    repo.write(path, UV + "COPY . .\nRUN pip install --no-cache-dir -e .\n")
    for rel, text in {"pyproject.toml": PACKAGED, "src/app/__init__.py": ""}.items():
        repo.write(rel, text)
    repo.init_git()
    assert repo.codes("--select", "ED105") == []


def test_ed105_development_target_stage_is_editable_on_purpose(repo):
    dockerfile = (UV + "COPY . .\nRUN pip install --no-cache-dir .\n"
                  f"FROM python:3.12-slim{DIGEST} AS dev\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -e .\n")
    assert results(repo, dockerfile, "ED105") == []
    repo.write("envdoctor.toml", "[docker]\ntarget = \"dev\"\n")
    assert repo.codes("--select", "ED105") == []
