"""ED103 deps-after-source-copy and ED104 package-cache-in-layer: must flag, and the near-misses."""

from __future__ import annotations

import pytest

PYPROJECT = """\
[project]
name = "app"
version = "1.0"
dependencies = ["fastapi>=0.110"]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
"""


def results(repo, dockerfile, select, files=None):
    repo.write("Dockerfile", dockerfile)
    base = {"pyproject.toml": PYPROJECT, "uv.lock": "version = 1\n", "requirements.txt": "flask==3.0.3\n",
            "src/app/__init__.py": "", "poetry.lock": "", "environment.yml": "name: app\n"}
    for path, text in {**base, **(files or {})}.items():
        repo.write(path, text)
    repo.init_git()
    return [(f["code"], f["line"]) for f in repo.findings("--select", select)]


# --- ED103 ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("dockerfile", "expected"), [
    # the whole context, then the requirements
    ("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\n", [4]),
    ("FROM python:3.12-slim\nWORKDIR /app\nADD . /app\nRUN pip install --no-cache-dir .\n", [4]),
    # uv sync after the whole context, with no dependency-only sync before it
    ("FROM python:3.12-slim\nWORKDIR /app\nCOPY . /app\nRUN --mount=type=cache,target=/root/.cache/uv \\\n"
     "    uv sync --locked\n", [5]),
    # the requirements copied alone, but installed only after the whole context
    ("FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\nCOPY . .\n"
     "RUN pip install --no-cache-dir -r requirements.txt\n", [5]),
    # a source folder counts too
    ("FROM python:3.12-slim\nWORKDIR /app\nCOPY src/ ./src/\nCOPY pyproject.toml .\n"
     "RUN pip install --no-cache-dir .\n", [5]),
    # poetry, conda, chained and wrapped forms
    ("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN set -ex; pip install poetry==1.8.3; poetry install --no-root\n",
     [4]),
    ("FROM continuumio/miniconda3:24.1.2-0\nCOPY . /app\nWORKDIR /app\n"
     "RUN conda env create -f environment.yml && conda clean -afy\n", [4]),
    ("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN [\"sh\", \"-c\", \"pip install --no-cache-dir -r requirements.txt\"]\n",
     [4]),
    # only the first install after the copy is reported
    ("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\n"
     "RUN pip install --no-cache-dir --no-deps .\n", [4]),
    # a stage built FROM a stage that copied the source
    ("FROM python:3.12-slim AS src\nWORKDIR /app\nCOPY . .\nFROM src\nRUN pip install --no-cache-dir -r requirements.txt\n",
     [5]),
    # two stages down the chain; each stage's own first install after the copy (the stage's, then the final one's)
    ("FROM python:3.12-slim AS src\nWORKDIR /app\nCOPY . .\nFROM src AS mid\nRUN echo mid\nFROM mid AS deps\n"
     "RUN pip install --no-cache-dir -r requirements.txt\nFROM deps\nRUN pip install --no-cache-dir -r requirements.txt\n",
     [7, 9]),
])
def test_ed103_must_flag(repo, dockerfile, expected):
    assert results(repo, dockerfile, "ED103") == [("ED103", line) for line in expected]


@pytest.mark.parametrize("dockerfile", [
    # the uv guide: manifests bound (or copied) alone, dependency-only sync, then the source and a full sync
    "FROM python:3.12-slim\nWORKDIR /app\nRUN --mount=type=cache,target=/root/.cache/uv \\\n"
    "    --mount=type=bind,source=uv.lock,target=uv.lock \\\n"
    "    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \\\n"
    "    uv sync --locked --no-install-project --no-editable\nCOPY . /app\n"
    "RUN --mount=type=cache,target=/root/.cache/uv uv sync --locked --no-editable\n",
    "FROM python:3.12-slim\nWORKDIR /app\nCOPY pyproject.toml uv.lock ./\nRUN uv sync --frozen --no-install-project\n"
    "COPY . .\nRUN uv sync --frozen\n",
    # the Poetry pattern
    "FROM python:3.12-slim\nWORKDIR /app\nCOPY pyproject.toml poetry.lock ./\nRUN poetry install --no-root\n"
    "COPY . .\nRUN poetry install --only main\n",
    # pip: requirements first
    "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"
    "COPY . .\nRUN pip install --no-cache-dir --no-deps .\n",
    # installing the project without its dependencies is not a dependency install
    "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir --no-deps .\n",
    # a package by name, and local wheels, are not installs from the manifests
    "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir gunicorn==22.0.0\n",
    "FROM python:3.12-slim\nCOPY --from=ghcr.io/org/wheels:1 /wheels /wheels\nCOPY . /app\n"
    "RUN pip install --no-cache-dir --no-index --find-links=/wheels -r /app/requirements.txt\n",
    # COPY --from a builder brings no source edits
    "FROM python:3.12-slim AS build\nWORKDIR /app\nCOPY requirements.txt .\n"
    "RUN pip wheel --wheel-dir /wheels -r requirements.txt\nFROM python:3.12-slim\nCOPY --from=build /wheels /wheels\n"
    "RUN pip install --no-cache-dir /wheels/*.whl\n",
    # a folder of requirement files is a manifest folder
    "FROM python:3.12-slim\nWORKDIR /app\nCOPY requirements/ requirements/\n"
    "RUN pip install --no-cache-dir -r requirements/base.txt\nCOPY . .\n",
    # an install in a stage the final image does not need is not built
    "FROM python:3.12-slim AS test\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\n"
    "FROM python:3.12-slim\nCMD [\"python\"]\n",
    # the dependencies were installed before the source was copied, two stages up the chain
    "FROM python:3.12-slim AS deps\nWORKDIR /app\nCOPY requirements.txt .\n"
    "RUN pip install --no-cache-dir -r requirements.txt\nFROM deps AS src\nCOPY . .\nFROM src\n"
    "RUN pip install --no-cache-dir -r requirements.txt\n",
    # a single file is not the source tree
    "FROM python:3.12-slim\nWORKDIR /app\nCOPY entrypoint.sh /\nRUN pip install --no-cache-dir -r requirements.txt\n",
])
def test_ed103_must_not_flag(repo, dockerfile):
    files = {"requirements/base.txt": "flask==3.0.3\n", "entrypoint.sh": "#!/bin/sh\n"}
    assert results(repo, dockerfile, "ED103", files) == []


def test_ed103_message_names_the_manifest_and_the_copy(repo):
    results(repo, "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\n",
            "ED103")
    (finding,) = repo.findings("--select", "ED103")
    assert "COPY of the whole build context (line 3)" in finding["message"]
    assert "copy requirements.txt alone" in finding["message"]


def test_ed103_advice_for_pip_install_of_the_project_is_a_lock_then_no_deps(repo):
    dockerfile = ("FROM python:3.12-slim\nWORKDIR /app\nCOPY pyproject.toml ./\nCOPY src ./src\n"
                  "RUN pip install --no-cache-dir .\n")
    assert results(repo, dockerfile, "ED103") == [("ED103", 5)]
    (finding,) = repo.findings("--select", "ED103")
    assert "copy pyproject.toml alone" not in finding["message"] and "from a lock first" in finding["message"]
    assert "`pip install -r`" in finding["fix_hint"] and "`pip install --no-deps .`" in finding["fix_hint"]


@pytest.mark.parametrize(("flag", "advised"), [("--frozen", "--frozen"), ("--locked", "--locked"), ("", "--locked")])
def test_ed103_uv_advice_keeps_frozen(repo, flag, advised):
    dockerfile = f"FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN uv sync {flag} --no-dev\n"
    assert results(repo, dockerfile, "ED103") == [("ED103", 4)]
    (finding,) = repo.findings("--select", "ED103")
    assert f"`RUN uv sync {advised} --no-install-project`" in finding["fix_hint"]


PATH_DEPS = PYPROJECT.replace('["fastapi>=0.110"]', '["shared", "fastapi==0.115.0"]') + \
    '\n[tool.uv.sources]\nshared = { path = "libs/shared" }\n'
SHARED = {"libs/shared/pyproject.toml": '[project]\nname = "shared"\nversion = "1.0"\n',
          "libs/shared/src/shared/__init__.py": ""}
UV_LAYERED = ("FROM python:3.12-slim\nWORKDIR /app\nCOPY pyproject.toml uv.lock ./\nCOPY {folder} ./{folder}\n"
              "RUN uv sync --frozen --no-install-project --no-dev --no-editable\nCOPY src ./src\n"
              "RUN uv sync --frozen --no-dev --no-editable\n")


@pytest.mark.parametrize("folder", ["libs", "libs/shared"])
def test_ed103_copy_of_a_path_dependency_is_not_the_source(repo, folder):
    # documentation and repository metadata beside the dependencies are read by no install
    files = {"pyproject.toml": PATH_DEPS, **SHARED, "libs/README.md": "# Shared libraries\n", "libs/.gitkeep": ""}
    assert results(repo, UV_LAYERED.format(folder=folder), "ED103", files) == []


def test_ed103_copy_of_a_workspace_member_is_not_the_source(repo):
    pyproject = PYPROJECT.replace('["fastapi>=0.110"]', '["shared"]') + \
        '\n[tool.uv.sources]\nshared = { workspace = true }\n\n[tool.uv.workspace]\nmembers = ["libs/*"]\n'
    files = {"pyproject.toml": pyproject, **SHARED}
    assert results(repo, UV_LAYERED.format(folder="libs"), "ED103", files) == []


@pytest.mark.parametrize("table", ["dependencies", "dev-dependencies", "group.dev.dependencies"])
def test_ed103_copy_of_a_poetry_path_dependency_is_not_the_source(repo, table):
    pyproject = ('[tool.poetry]\nname = "app"\nversion = "1.0"\n\n[tool.poetry.dependencies]\npython = "^3.12"\n'
                 + (f'\n[tool.poetry.{table}]\n' if table != "dependencies" else "")
                 + 'shared = { path = "libs/shared", develop = false }\n')
    dockerfile = ("FROM python:3.12-slim\nWORKDIR /app\nCOPY pyproject.toml poetry.lock ./\nCOPY libs ./libs\n"
                  "RUN poetry install --no-root\nCOPY src ./src\nRUN poetry install --only-root\n")
    assert results(repo, dockerfile, "ED103", {"pyproject.toml": pyproject, **SHARED}) == []


def test_ed103_copy_of_a_pdm_path_dependency_is_not_the_source(repo):
    pyproject = PYPROJECT.replace('["fastapi>=0.110"]', '["shared @ file:///${PROJECT_ROOT}/libs/shared"]')
    dockerfile = ("FROM python:3.12-slim\nWORKDIR /app\nCOPY pyproject.toml pdm.lock ./\nCOPY libs ./libs\n"
                  "RUN pdm install --prod --no-self\nCOPY src ./src\nRUN pdm install --prod --no-editable\n")
    assert results(repo, dockerfile, "ED103", {"pyproject.toml": pyproject, "pdm.lock": "", **SHARED}) == []


@pytest.mark.parametrize(("folder", "other"), [("src", "libs/tools/run.py"), ("libs", "libs/tools/run.py"),
                                               ("libs", "libs/requirements.txt"), ("libs", "libs/setup.py")])
def test_ed103_copy_of_the_source_before_no_install_project_still_counts(repo, folder, other):
    # `src` is the project's own source; `libs` also holds code or packaging that is no dependency
    files = {"pyproject.toml": PATH_DEPS, **SHARED, other: ""}
    assert results(repo, UV_LAYERED.format(folder=folder), "ED103", files) == [("ED103", 5)]


def test_ed103_target_option_picks_the_shipped_stage(repo):
    dockerfile = ("FROM python:3.12-slim AS app\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\n"
                  "FROM python:3.12-slim AS docs\nCMD [\"true\"]\n")
    assert results(repo, dockerfile, "ED103") == []
    repo.write("envdoctor.toml", '[docker]\ntarget = "app"\n')
    assert [(f["code"], f["line"]) for f in repo.findings("--select", "ED103")] == [("ED103", 4)]


# --- ED104 ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("dockerfile", "expected"), [
    ("FROM python:3.12-slim\nRUN pip install flask==3.0.3\n", [2]),
    ("FROM python:3.12-slim\nRUN python -m pip install -r requirements.txt\n", [2]),
    ("FROM python:3.12-slim\nRUN set -ex; \\\n    apt-get update; \\\n    pip3 install flask==3.0.3\n", [4]),
    # a cache mount for something else does not cover pip
    ("FROM python:3.12-slim\nRUN --mount=type=cache,target=/var/cache/apt pip install flask==3.0.3\n", [2]),
    # uv without a cache mount or --no-cache
    ("FROM python:3.12-slim\nCOPY --from=ghcr.io/astral-sh/uv:0.5.9 /uv /bin/\nRUN uv pip install --system flask==3.0.3\n",
     [3]),
    ("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN uv sync --locked --no-editable\n", [4]),
    # UV_NO_CACHE=0 keeps the cache
    ("FROM python:3.12-slim\nENV UV_NO_CACHE=0\nRUN uv sync --locked\n", [3]),
    # poetry and conda
    ("FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN poetry install --only main --no-root\n", [4]),
    ("FROM continuumio/miniconda3:24.1.2-0\nCOPY environment.yml .\nRUN conda env create -f environment.yml\n", [3]),
    ("FROM mambaorg/micromamba:1.5.8\nCOPY environment.yml .\nRUN micromamba install -y -n base -f environment.yml\n",
     [3]),
    # heredoc RUN
    ("FROM python:3.12-slim\nRUN <<EOF\nset -e\npip install flask==3.0.3\nEOF\n", [4]),
    # a stage the final image is built on ships its layers
    ("FROM python:3.12-slim AS base\nRUN pip install flask==3.0.3\nFROM base\nCMD [\"flask\"]\n", [2]),
])
def test_ed104_must_flag(repo, dockerfile, expected):
    assert results(repo, dockerfile, "ED104") == [("ED104", line) for line in expected]


@pytest.mark.parametrize("dockerfile", [
    "FROM python:3.12-slim\nRUN pip install --no-cache-dir flask==3.0.3\n",
    "FROM python:3.12-slim\nRUN pip --no-cache-dir install flask==3.0.3\n",
    "FROM python:3.12-slim\nENV PIP_NO_CACHE_DIR=1\nRUN pip install flask==3.0.3\n",
    # pip reads any value of PIP_NO_CACHE_DIR as "no cache", even "off"
    "FROM python:3.12-slim\nENV PIP_NO_CACHE_DIR=off\nRUN pip install flask==3.0.3\n",
    "FROM python:3.12-slim\nARG PIP_NO_CACHE_DIR\nRUN pip install flask==3.0.3\n",
    "FROM python:3.12-slim\nRUN PIP_NO_CACHE_DIR=1 pip install flask==3.0.3\n",
    "FROM python:3.12-slim\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask==3.0.3\n",
    "FROM python:3.12-slim\nRUN --mount=type=cache,target=/root/.cache pip install flask==3.0.3\n",
    "FROM python:3.12-slim\nRUN pip install flask==3.0.3 && pip cache purge\n",
    "FROM python:3.12-slim\nRUN pip install flask==3.0.3 && rm -rf /root/.cache/pip\n",
    # the uv guide
    "FROM python:3.12-slim\nENV UV_LINK_MODE=copy\nRUN --mount=type=cache,target=/root/.cache/uv uv sync --locked\n",
    "FROM python:3.12-slim\nENV UV_NO_CACHE=1\nRUN uv sync --locked\n",
    "FROM python:3.12-slim\nRUN uv pip install --system --no-cache flask==3.0.3\n",
    "FROM python:3.12-slim\nRUN uv --no-cache pip install --system flask==3.0.3\n",
    "FROM python:3.12-slim\nENV UV_CACHE_DIR=/opt/uv-cache\nRUN --mount=type=cache,target=/opt/uv-cache uv sync --locked\n",
    # Poetry: the cache removed in the same RUN, or mounted
    "FROM python:3.12-slim\nENV POETRY_CACHE_DIR=/tmp/poetry_cache\nWORKDIR /app\nCOPY . .\n"
    "RUN poetry install --without dev --no-root && rm -rf $POETRY_CACHE_DIR\n",
    "FROM python:3.12-slim\nENV POETRY_CACHE_DIR=/tmp/poetry_cache\nWORKDIR /app\nCOPY . .\n"
    "RUN --mount=type=cache,target=$POETRY_CACHE_DIR poetry install --no-root\n",
    # conda cleaned in the same RUN
    "FROM continuumio/miniconda3:24.1.2-0\nCOPY environment.yml .\nRUN conda env create -f environment.yml && conda clean -afy\n",
    "FROM mambaorg/micromamba:1.5.8\nCOPY environment.yml .\n"
    "RUN micromamba install -y -n base -f environment.yml && \\\n    micromamba clean --all --yes\n",
    # a builder stage's cache is not shipped
    "FROM python:3.12-slim AS build\nRUN pip wheel --wheel-dir /wheels flask==3.0.3 && pip install flask==3.0.3\n"
    "FROM python:3.12-slim\nCOPY --from=build /wheels /wheels\n"
    "RUN pip install --no-cache-dir --no-index --find-links /wheels flask\n",
    # installing local wheels without an index downloads nothing
    "FROM python:3.12-slim\nCOPY wheels /wheels\nRUN pip install --no-index --find-links /wheels flask\n",
    # not an install
    "FROM python:3.12-slim\nRUN pip --version && pip list\n",
    "FROM python:3.12-slim\nRUN echo pip install flask\n",
    # --only-root installs the project alone and downloads nothing (the dependencies came with --no-root)
    "FROM python:3.12-slim\nWORKDIR /app\nCOPY pyproject.toml poetry.lock ./\n"
    "RUN poetry install --only main --no-root && rm -rf ~/.cache/pypoetry\nCOPY app ./app\nRUN poetry install --only-root\n",
])
def test_ed104_must_not_flag(repo, dockerfile):
    assert results(repo, dockerfile, "ED104", {"wheels/flask-3.0.3-py3-none-any.whl": ""}) == []


def test_ed104_message_quotes_the_command(repo):
    results(repo, "FROM python:3.12-slim\nRUN pip install flask==3.0.3\n", "ED104")
    (finding,) = repo.findings("--select", "ED104")
    assert finding["message"].startswith("'pip install flask==3.0.3' leaves pip's download")
    assert "--no-cache-dir" in finding["fix_hint"]


# A cache mount under /root while the RUN runs as another user (red-team miss M3): the tool's cache goes
# to that user's home, outside the mount.
APP_USER = "FROM python:3.12-slim\nRUN useradd -m app && python -m venv /venv && chown -R app /venv\nUSER app\n"


@pytest.mark.parametrize(("dockerfile", "expected"), [
    (APP_USER + "RUN --mount=type=cache,target=/root/.cache/pip /venv/bin/pip install flask==3.0.3\n", [4]),
    (APP_USER + "RUN --mount=type=cache,target=/root/.cache /venv/bin/pip install flask==3.0.3\n", [4]),
    (APP_USER + "RUN --mount=type=cache,target=/root/.cache/uv uv pip install --python /venv flask==3.0.3\n", [4]),
    (APP_USER.replace("USER app", "USER app:app") + "RUN --mount=type=cache,target=/root/.cache/pypoetry "
                                                   "poetry install --no-root\n", [4]),
    # USER in the stage it is built FROM; adduser (Debian) makes a home; a uid given to useradd
    ("FROM python:3.12-slim AS base\nRUN useradd -m app\nUSER app\nFROM base\n"
     "RUN --mount=type=cache,target=/root/.cache/pip pip install --user flask==3.0.3\n", [5]),
    ("FROM python:3.12-slim\nRUN adduser --disabled-password --gecos '' app\nUSER app\n"
     "RUN --mount=type=cache,target=/root/.cache/pip pip install --user flask==3.0.3\n", [4]),
    ("FROM python:3.12-slim\nRUN useradd -m -u 1000 app\nUSER 1000\n"
     "RUN --mount=type=cache,target=/root/.cache/pip pip install --user flask==3.0.3\n", [4]),
])
def test_ed104_cache_mount_under_root_for_another_user(repo, dockerfile, expected):
    assert results(repo, dockerfile, "ED104") == [("ED104", line) for line in expected]


@pytest.mark.parametrize("dockerfile", [
    # the mount is on the user's own cache, or the tool is told where the mount is
    APP_USER + "RUN --mount=type=cache,target=/home/app/.cache/pip,uid=1000 /venv/bin/pip install flask==3.0.3\n",
    APP_USER + "ENV PIP_CACHE_DIR=/root/.cache/pip\n"
               "RUN --mount=type=cache,target=/root/.cache/pip /venv/bin/pip install flask==3.0.3\n",
    APP_USER + "RUN --mount=type=cache,target=/root/.cache/uv UV_CACHE_DIR=/root/.cache/uv uv pip install "
               "--python /venv flask==3.0.3\n",
    APP_USER + "ENV XDG_CACHE_HOME=/root/.cache\n"
               "RUN --mount=type=cache,target=/root/.cache /venv/bin/pip install flask==3.0.3\n",
    APP_USER + "RUN --mount=type=cache,target=/root/.cache/pip /venv/bin/pip install --cache-dir=/root/.cache/pip "
               "flask==3.0.3\n",
    APP_USER + "RUN --mount=type=cache,target=/root/.cache/pip /venv/bin/pip install --no-cache-dir flask==3.0.3\n",
    APP_USER + "ENV HOME=/root\nRUN --mount=type=cache,target=/root/.cache/pip /venv/bin/pip install flask==3.0.3\n",
    # root again (sudo -H runs pip as root with HOME=/root), or no USER at all
    APP_USER + "RUN --mount=type=cache,target=/root/.cache/pip sudo -H pip install flask==3.0.3\n",
    APP_USER + "USER root\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask==3.0.3\n",
    APP_USER + "USER 0:0\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask==3.0.3\n",
    # the user is not known to have a home here (no home: pip and uv then keep no cache), or not known at all
    "FROM python:3.12-slim\nRUN useradd app\nUSER app\n"
    "RUN --mount=type=cache,target=/root/.cache/pip pip install --user flask==3.0.3\n",
    "FROM python:3.12-slim\nRUN adduser --system app\nUSER app\n"
    "RUN --mount=type=cache,target=/root/.cache/pip pip install --user flask==3.0.3\n",
    "FROM python:3.12-slim\nUSER nobody\nRUN --mount=type=cache,target=/root/.cache/pip pip install --user flask==3.0.3\n",
    "FROM python:3.12-slim\nARG APP_USER\nRUN useradd -m app\nUSER $APP_USER\n"
    "RUN --mount=type=cache,target=/root/.cache/pip pip install --user flask==3.0.3\n",
    # the USER comes after the install
    "FROM python:3.12-slim\nRUN useradd -m app\n"
    "RUN --mount=type=cache,target=/root/.cache/pip pip install flask==3.0.3\nUSER app\n",
])
def test_ed104_cache_mount_under_root_near_misses(repo, dockerfile):
    assert results(repo, dockerfile, "ED104") == []


def test_ed104_cache_mount_for_another_user_message(repo):
    results(repo, APP_USER + "RUN --mount=type=cache,target=/root/.cache/pip /venv/bin/pip install flask==3.0.3\n",
            "ED104")
    (finding,) = repo.findings("--select", "ED104")
    assert "runs as user 'app' (USER, line 3)" in finding["message"]
    assert "not in the cache mount on /root/.cache/pip" in finding["message"]
    assert "PIP_CACHE_DIR" in finding["fix_hint"] and "uid=" in finding["fix_hint"]
