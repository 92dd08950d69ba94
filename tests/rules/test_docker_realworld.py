"""ED103-ED112 on whole Dockerfiles shaped like the ones widely used Python projects ship (uv and Poetry
guides, Django and FastAPI apps, CUDA images, wheel builders, conda images, monorepos). Written for these
tests. Each must give exactly the findings listed: precision first."""

from __future__ import annotations

import pytest

SELECT = "ED103,ED104,ED105,ED106,ED107,ED108,ED109,ED110,ED111,ED112"
INDEX = "https://download.example.invalid/whl"

PACKAGED = """\
[project]
name = "service"
version = "1.4.0"
requires-python = ">=3.12"
dependencies = ["fastapi>=0.110", "uvicorn>=0.30"]

[dependency-groups]
dev = ["pytest>=8"]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
"""
POETRY = """\
[tool.poetry]
name = "service"
version = "1.4.0"
description = ""
authors = ["Dev <dev@example.invalid>"]
readme = "README.md"

[tool.poetry.dependencies]
python = "^3.12"
django = "^5.0"

[tool.poetry.group.dev.dependencies]
pytest = "^8.0"

[build-system]
requires = ["poetry-core"]
build-backend = "poetry.core.masonry.api"
"""
DOCKERIGNORE = ".venv\n.git\n__pycache__\n*.pyc\n.pytest_cache\n"

UV_MULTI_STAGE = """\
# syntax=docker/dockerfile:1
FROM python:3.12-slim-bookworm AS builder
COPY --from=ghcr.io/astral-sh/uv:0.5.9 /uv /uvx /bin/
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=0
WORKDIR /app
RUN --mount=type=cache,target=/root/.cache/uv \\
    --mount=type=bind,source=uv.lock,target=uv.lock \\
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \\
    uv sync --locked --no-install-project --no-dev --no-editable
COPY . /app
RUN --mount=type=cache,target=/root/.cache/uv \\
    uv sync --locked --no-dev --no-editable

FROM python:3.12-slim-bookworm
RUN groupadd --system app && useradd --system --gid app app
COPY --from=builder --chown=app:app /app/.venv /app/.venv
ENV PATH="/app/.venv/bin:$PATH"
USER app
CMD ["uvicorn", "service.main:app", "--host", "0.0.0.0"]
"""

UV_SINGLE_STAGE = """\
FROM python:3.12-slim-bookworm
COPY --from=ghcr.io/astral-sh/uv:0.5.9 /uv /uvx /bin/
WORKDIR /app
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN --mount=type=cache,target=/root/.cache/uv \\
    --mount=type=bind,source=uv.lock,target=uv.lock \\
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \\
    uv sync --locked --no-install-project --no-dev
ADD . /app
RUN --mount=type=cache,target=/root/.cache/uv \\
    uv sync --locked --no-dev
ENV PATH="/app/.venv/bin:$PATH"
ENTRYPOINT []
CMD ["fastapi", "run", "src/service/main.py"]
"""

POETRY_MULTI_STAGE = """\
FROM python:3.12-slim AS builder
RUN pip install --no-cache-dir poetry==1.8.3
ENV POETRY_NO_INTERACTION=1 \\
    POETRY_VIRTUALENVS_IN_PROJECT=1 \\
    POETRY_VIRTUALENVS_CREATE=1 \\
    POETRY_CACHE_DIR=/tmp/poetry_cache
WORKDIR /app
COPY pyproject.toml poetry.lock ./
RUN touch README.md
RUN poetry install --without dev --no-root && rm -rf $POETRY_CACHE_DIR

FROM python:3.12-slim AS runtime
ENV VIRTUAL_ENV=/app/.venv \\
    PATH="/app/.venv/bin:$PATH"
COPY --from=builder ${VIRTUAL_ENV} ${VIRTUAL_ENV}
COPY service ./service
ENTRYPOINT ["python", "-m", "service.main"]
"""

DJANGO = """\
FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 \\
    PYTHONUNBUFFERED=1
WORKDIR /code
RUN apt-get update \\
    && apt-get install -y --no-install-recommends gcc libpq-dev \\
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /code/
RUN pip install --no-cache-dir -r requirements.txt
COPY . /code/
RUN python manage.py collectstatic --noinput
CMD ["gunicorn", "site.wsgi:application", "--bind", "0.0.0.0:8000"]
"""

FASTAPI = """\
FROM python:3.12
WORKDIR /code
COPY ./requirements.txt /code/requirements.txt
RUN pip install --no-cache-dir --upgrade -r /code/requirements.txt
COPY ./app /code/app
CMD ["fastapi", "run", "app/main.py", "--port", "80"]
"""

CUDA = """\
FROM nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update && apt-get install -y --no-install-recommends python3 python3-venv \\
    && rm -rf /var/lib/apt/lists/*
RUN python3 -m venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH"
RUN pip install --no-cache-dir torch==2.3.1 torchvision==0.18.1 --index-url {INDEX}/{flavour}
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY train.py .
CMD ["python", "train.py"]
"""

WHEELS = """\
FROM python:3.12-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential libpq-dev
WORKDIR /src
COPY requirements.txt .
RUN pip wheel --no-cache-dir --wheel-dir /wheels -r requirements.txt
COPY . .
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.12-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels service && rm -rf /wheels
CMD ["service"]
"""

MICROMAMBA = """\
FROM mambaorg/micromamba:1.5.8
COPY --chown=$MAMBA_USER:$MAMBA_USER environment.yml /tmp/env.yaml
RUN micromamba install -y -n base -f /tmp/env.yaml && \\
    micromamba clean --all --yes
COPY --chown=$MAMBA_USER:$MAMBA_USER . /home/mambauser/app
"""

MONOREPO = """\
FROM python:3.12-slim
WORKDIR /srv
COPY services/api/requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt
COPY services/api/ ./
CMD ["python", "-m", "api"]
"""


def findings(repo, files, dockerfile_path="Dockerfile"):
    for path, text in files.items():
        repo.write(path, text)
    repo.write(".gitignore", ".venv/\n")
    repo.init_git()
    return sorted((f["path"], f["line"], f["code"]) for f in repo.findings("--select", SELECT))


UV_FILES = {"pyproject.toml": PACKAGED, "uv.lock": "version = 1\n", "src/service/__init__.py": "",
            ".dockerignore": DOCKERIGNORE}


def test_uv_multi_stage_guide_is_clean(repo):
    assert findings(repo, {"Dockerfile": UV_MULTI_STAGE, **UV_FILES}) == []


def test_uv_single_stage_guide_ships_the_project_editable(repo):
    # the only finding: `uv sync` installs the project editable into the shipped image
    assert findings(repo, {"Dockerfile": UV_SINGLE_STAGE, **UV_FILES}) == [("Dockerfile", 11, "ED105")]


def test_uv_guide_with_a_host_venv_and_no_dockerignore(repo):
    files = {"Dockerfile": UV_MULTI_STAGE, **UV_FILES, ".venv/pyvenv.cfg": "home = /usr/bin\n"}
    del files[".dockerignore"]
    assert findings(repo, files) == [("Dockerfile", 10, "ED109")]


def test_poetry_multi_stage_guide_is_clean(repo):
    files = {"Dockerfile": POETRY_MULTI_STAGE, "pyproject.toml": POETRY, "poetry.lock": "", "service/main.py": "",
             ".dockerignore": DOCKERIGNORE}
    assert findings(repo, files) == []


def test_poetry_builder_that_installs_the_root_ships_it_editable(repo):
    dockerfile = POETRY_MULTI_STAGE.replace("COPY pyproject.toml poetry.lock ./\nRUN touch README.md\n"
                                            "RUN poetry install --without dev --no-root",
                                            "COPY . .\nRUN poetry install --without dev")
    files = {"Dockerfile": dockerfile, "pyproject.toml": POETRY, "poetry.lock": "", "service/main.py": "",
             "README.md": "", ".dockerignore": DOCKERIGNORE}
    # ... and, with the whole context copied first, reinstalls the dependencies on every edit
    assert findings(repo, files) == [("Dockerfile", 9, "ED103"), ("Dockerfile", 9, "ED105")]


def test_django_app_ships_its_compiler(repo):
    files = {"Dockerfile": DJANGO, "requirements.txt": "django==5.0.7\npsycopg2==2.9.9\ngunicorn==22.0.0\n",
             "manage.py": "", ".dockerignore": DOCKERIGNORE}
    assert findings(repo, files) == [("Dockerfile", 6, "ED108")]


def test_fastapi_app_is_clean(repo):
    files = {"Dockerfile": FASTAPI, "requirements.txt": "fastapi[standard]==0.112.0\n", "app/main.py": ""}
    assert findings(repo, files) == []


def test_fastapi_app_with_a_loose_requirements_file(repo):
    files = {"Dockerfile": FASTAPI, "requirements.txt": "fastapi[standard]>=0.112\n", "app/main.py": ""}
    assert findings(repo, files) == [("Dockerfile", 4, "ED106")]


@pytest.mark.parametrize(("flavour", "expected"), [
    ("cu121", []), ("cu118", [("Dockerfile", 7, "ED111")]), ("cu124", [("Dockerfile", 7, "ED111")]),
    ("cpu", [("Dockerfile", 7, "ED111")]),
])
def test_cuda_training_image(repo, flavour, expected):
    files = {"Dockerfile": CUDA.format(INDEX=INDEX, flavour=flavour), "requirements.txt": "numpy==1.26.4\n",
             "train.py": "", ".dockerignore": DOCKERIGNORE}
    assert findings(repo, files) == expected


def test_wheel_builder_is_clean(repo):
    files = {"Dockerfile": WHEELS, "requirements.txt": "psycopg2==2.9.9\n", "pyproject.toml": PACKAGED,
             "src/service/__init__.py": "", ".dockerignore": DOCKERIGNORE}
    assert findings(repo, files) == []


def test_micromamba_image_is_clean(repo):
    files = {"Dockerfile": MICROMAMBA, "environment.yml": "name: base\ndependencies:\n  - python=3.12\n",
             "app.py": "", ".dockerignore": DOCKERIGNORE}
    assert findings(repo, files) == []


def test_monorepo_service_built_from_the_root(repo):
    files = {"services/api/Dockerfile": MONOREPO, "services/api/requirements.txt": "flask==3.0.3\n",
             "services/api/api/__main__.py": "", ".dockerignore": DOCKERIGNORE}
    assert findings(repo, files) == []


def test_everything_wrong_at_once(repo):
    dockerfile = """\
FROM nvidia/cuda:12.1.1-runtime-ubuntu22.04
RUN apt-get update && apt-get install -y python3-pip build-essential libpq-dev
WORKDIR /app
COPY . .
RUN pip install uv && uv sync
RUN pip install --break-system-packages torch==2.4.1+cu124
COPY uv.lock ./
"""
    files = {"Dockerfile": dockerfile, **UV_FILES, ".dockerignore": "*.lock\n"}
    assert findings(repo, files) == [
        ("Dockerfile", 2, "ED108"),
        ("Dockerfile", 4, "ED109"),
        ("Dockerfile", 5, "ED103"), ("Dockerfile", 5, "ED104"), ("Dockerfile", 5, "ED104"),
        ("Dockerfile", 5, "ED105"), ("Dockerfile", 5, "ED106"), ("Dockerfile", 5, "ED107"),
        ("Dockerfile", 6, "ED104"), ("Dockerfile", 6, "ED111"), ("Dockerfile", 6, "ED112"),
        ("Dockerfile", 7, "ED110"),
    ]
