"""ED108 build-tools-in-final-image and ED111 cuda-torch-mismatch: must flag, and the near-misses."""

from __future__ import annotations

import pytest


def results(repo, dockerfile, select, files=None):
    repo.write("Dockerfile", dockerfile)
    for path, text in (files or {}).items():
        repo.write(path, text)
    repo.init_git()
    return [(f["code"], f["line"]) for f in repo.findings("--select", select)]


# --- ED108 ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("dockerfile", "expected"), [
    ("FROM python:3.12-slim\nRUN apt-get update && apt-get install -y --no-install-recommends build-essential \\\n"
     "    && rm -rf /var/lib/apt/lists/*\n", [2]),
    ("FROM python:3.12-slim\nRUN apt-get update \\\n && apt-get install -y gcc libpq-dev\n", [3]),
    ("FROM python:3.12-alpine\nRUN apk add --no-cache gcc musl-dev linux-headers\n", [2]),
    ("FROM python:3.12-alpine\nRUN apk add --no-cache build-base\n", [2]),
    ("FROM rockylinux:9\nRUN dnf install -y gcc python3-devel && dnf clean all\n", [2]),
    ("FROM python:3.12-slim\nRUN apt-get install -y g++-12=12.2.0-14\n", [2]),
    ("FROM python:3.12-slim\nRUN curl -sSf https://sh.rustup.rs | sh -s -- -y\n", [2]),
    # removed only in a later RUN: the earlier layer still ships them
    ("FROM python:3.12-slim\nRUN apt-get update && apt-get install -y gcc\nRUN apt-get purge -y gcc\n", [2]),
    # the stage the final stage is built FROM ships its layers
    ("FROM python:3.12-slim AS base\nRUN apt-get update && apt-get install -y build-essential\nFROM base\n", [2]),
])
def test_ed108_must_flag(repo, dockerfile, expected):
    assert results(repo, dockerfile, "ED108") == [("ED108", line) for line in expected]


@pytest.mark.parametrize("dockerfile", [
    # a builder stage: compilers are fine there
    "FROM python:3.12-slim AS build\nRUN apt-get update && apt-get install -y build-essential libpq-dev\n"
    "RUN pip wheel --wheel-dir /wheels psycopg2==2.9.9\nFROM python:3.12-slim\nRUN apt-get update && "
    "apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*\n"
    "COPY --from=build /wheels /wheels\n",
    # removed in the same RUN
    "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y gcc \\\n"
    " && pip install --no-cache-dir psutil==6.0.0 \\\n && apt-get purge -y --auto-remove gcc\n",
    "FROM python:3.12-alpine\nRUN apk add --no-cache --virtual .build-deps gcc musl-dev \\\n"
    " && pip install --no-cache-dir psutil==6.0.0 \\\n && apk del .build-deps\n",
    # runtime libraries and tools that are not compilers
    "FROM python:3.12-slim\nRUN apt-get update && apt-get install -y libpq5 curl make git udev\n",
    # not an install
    "FROM python:3.12-slim\nRUN apt-get purge -y gcc\n",
    "FROM python:3.12-slim\nRUN echo apt-get install -y gcc\n",
])
def test_ed108_must_not_flag(repo, dockerfile):
    assert results(repo, dockerfile, "ED108") == []


def test_ed108_message_lists_what_remains(repo):
    results(repo, "FROM python:3.12-slim\nRUN apt-get install -y gcc libpq-dev && apt-get purge -y gcc\n", "ED108")
    (finding,) = repo.findings("--select", "ED108")
    assert finding["message"].startswith("'libpq-dev' installed in the final stage")


def test_ed108_message_for_the_stage_the_final_stage_is_built_on(repo):
    dockerfile = "FROM python:3.12-slim AS build\nRUN apt-get install -y build-essential libpq-dev\nFROM build\n"
    assert results(repo, dockerfile, "ED108") == [("ED108", 2)]
    (finding,) = repo.findings("--select", "ED108")
    assert finding["message"].startswith("'build-essential', 'libpq-dev' installed in stage 'build', on which the "
                                         "final stage is built, ships compilers")


TORCH_INDEX = "https://download.example.invalid/whl/cu124"
CUDA_PY = ("FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04\n"
           "RUN apt-get update && apt-get install -y --no-install-recommends python3.11 python3.11-venv {packages} \\\n"
           "    && rm -rf /var/lib/apt/lists/*\nRUN python3.11 -m venv /opt/venv\nENV PATH=/opt/venv/bin:$PATH\n")


@pytest.mark.parametrize(("packages", "install", "files"), [
    ("gcc libc6-dev", f"RUN pip install --no-cache-dir torch==2.5.1+cu124 --index-url {TORCH_INDEX}\n", {}),
    ("build-essential python3.11-dev", "RUN pip install --no-cache-dir triton==3.1.0\n", {}),
    ("gcc-12 g++-12 clang-14", "COPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n",
     {"requirements.txt": "numpy==2.1.1\ntorch==2.5.1\n"}),
    # installed in a builder whose environment the final stage copies
    ("gcc", "COPY --from=build /opt/venv /opt/venv\n", {}),
    # brought in by packages that require torch
    ("build-essential", "RUN pip install --no-cache-dir vllm==0.6.3\n", {}),
    ("gcc", "COPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n",
     {"requirements.txt": "lightning==2.4.0\n"}),
])
def test_ed108_compilers_that_torch_compile_needs_at_run_time(repo, packages, install, files):
    builder = f"FROM python:3.12-slim AS build\nRUN pip install --no-cache-dir torch==2.5.1\n" if "--from" in install else ""
    dockerfile = builder + CUDA_PY.format(packages=packages) + install
    assert results(repo, dockerfile, "ED108", files) == []


POETRY_ML = '[tool.poetry]\npackage-mode = false\n\n[tool.poetry.dependencies]\npython = "^3.11"\nnumpy = "^2.1"\n'


@pytest.mark.parametrize(("extra", "expected"), [
    ("", [2]),  # no torch: the compilers are build tools
    ('torch = "^2.5"\n', []),
    ('\n[tool.poetry.group.ml.dependencies]\nTorch = "^2.5"\n', []),
    # Poetry's legacy dev table: `poetry install` installs it too
    ('\n[tool.poetry.dev-dependencies]\ntorch = "^2.5"\n', []),
])
def test_ed108_torch_declared_in_the_poetry_project_installed(repo, extra, expected):
    dockerfile = CUDA_PY.format(packages="gcc libc6-dev") + "RUN pip install --no-cache-dir poetry==1.8.4\n" \
        "COPY pyproject.toml poetry.lock ./\nRUN poetry install --no-root\n"
    files = {"pyproject.toml": POETRY_ML + extra, "poetry.lock": ""}
    assert results(repo, dockerfile, "ED108", files) == [("ED108", line) for line in expected]


def test_ed108_headers_in_a_torch_image_are_still_reported(repo):
    dockerfile = CUDA_PY.format(packages="gcc libpq-dev") + f"RUN pip install --no-cache-dir torch==2.5.1 " \
                                                            f"--index-url {TORCH_INDEX}\n"
    assert results(repo, dockerfile, "ED108") == [("ED108", 2)]
    (finding,) = repo.findings("--select", "ED108")
    assert "'libpq-dev'" in finding["message"] and "'gcc'" not in finding["message"]


def test_ed108_compilers_without_torch_are_still_reported(repo):
    dockerfile = CUDA_PY.format(packages="gcc libc6-dev") + "RUN pip install --no-cache-dir numpy==2.1.1\n"
    assert results(repo, dockerfile, "ED108") == [("ED108", 2)]


# --- ED111 ----------------------------------------------------------------------------------------------

CUDA121 = "FROM nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04\n"
INDEX = "https://download.example.invalid/whl"


@pytest.mark.parametrize(("dockerfile", "expected"), [
    (CUDA121 + f"RUN pip install --no-cache-dir torch==2.4.1 --index-url {INDEX}/cu124\n", [2]),
    # an older CUDA, but of another major version
    (CUDA121 + f"RUN pip install --no-cache-dir torch==2.4.1 --extra-index-url={INDEX}/cu118/\n", [2]),
    (CUDA121 + "RUN pip install --no-cache-dir torch==2.1.2+cu118\n", [2]),
    (CUDA121 + f"RUN pip install --no-cache-dir torch==2.4.1 --index-url {INDEX}/cpu\n", [2]),
    (CUDA121 + "RUN pip install --no-cache-dir torch==2.4.1+cpu torchvision==0.19.1+cpu\n", [2]),
    ("FROM pytorch/pytorch:2.3.0-cuda12.1-cudnn8-runtime\n"
     f"RUN pip install --no-cache-dir torchaudio==2.4.1 --index-url {INDEX}/cu124\n", [2]),
    ("FROM ghcr.io/example/ml-base:py3.11-cu118\nRUN uv pip install --system torch==2.4.1 --torch-backend=cu121\n", [2]),
    (CUDA121 + f"ENV PIP_EXTRA_INDEX_URL={INDEX}/cu126\nRUN pip install --no-cache-dir torch==2.5.1\n", [3]),
    ("ARG CUDA=11.8.0\nFROM nvidia/cuda:${CUDA}-runtime-ubuntu22.04\n"
     f"RUN pip install --no-cache-dir torch==2.4.1 --index-url {INDEX}/cu121\n", [3]),
])
def test_ed111_must_flag(repo, dockerfile, expected):
    assert results(repo, dockerfile, "ED111") == [("ED111", line) for line in expected]


@pytest.mark.parametrize("dockerfile", [
    # same build, and an older minor of the same major (minor-version compatibility)
    CUDA121 + f"RUN pip install --no-cache-dir torch==2.4.1 --index-url {INDEX}/cu121\n",
    "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\n" + f"RUN pip install --no-cache-dir torch==2.4.1 --index-url {INDEX}/cu121\n",
    "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\nRUN pip install --no-cache-dir torch==2.4.1+cu124\n",
    # no CUDA in the base image: the wheels bring their own runtime
    "FROM python:3.12-slim\n" + f"RUN pip install --no-cache-dir torch==2.4.1 --index-url {INDEX}/cu124\n",
    # torch from the default index: its build is not stated
    CUDA121 + "RUN pip install --no-cache-dir torch==2.4.1\n",
    # an index for CUDA but no torch installed
    CUDA121 + f"RUN pip install --no-cache-dir --extra-index-url {INDEX}/cu124 numpy==2.1.1\n",
    # an image tag that does not say its CUDA version
    "FROM nvcr.io/nvidia/pytorch:24.01-py3\n" + f"RUN pip install --no-cache-dir torch==2.4.1 --index-url {INDEX}/cu124\n",
    # the base image's CUDA named by a build argument without a default
    "ARG CUDA\nFROM nvidia/cuda:${CUDA}-runtime-ubuntu22.04\n" + f"RUN pip install --no-cache-dir torch==2.4.1 --index-url {INDEX}/cu124\n",
])
def test_ed111_must_not_flag(repo, dockerfile):
    assert results(repo, dockerfile, "ED111") == []


UV_PROJECT = """\
[project]
name = "ml"
version = "1.0"
dependencies = ["torch==2.4.1"]

[tool.uv.sources]
torch = [{{ index = "pytorch-gpu", marker = "sys_platform == 'linux'" }}, {{ index = "pytorch-cpu", marker = "sys_platform == 'darwin'" }}]

[[tool.uv.index]]
name = "pytorch-gpu"
url = "{INDEX}/{flavour}"
explicit = true

[[tool.uv.index]]
name = "pytorch-cpu"
url = "{INDEX}/cpu"
explicit = true
"""


@pytest.mark.parametrize(("flavour", "expected"), [("cu124", [4]), ("cu121", []), ("cu118", [4])])
def test_ed111_reads_the_projects_uv_index(repo, flavour, expected):
    dockerfile = CUDA121 + "WORKDIR /app\nCOPY . .\nRUN uv sync --locked --no-editable\n"
    files = {"pyproject.toml": UV_PROJECT.format(INDEX=INDEX, flavour=flavour), "uv.lock": ""}
    assert results(repo, dockerfile, "ED111", files) == [("ED111", line) for line in expected]


def test_ed111_extras_that_choose_the_build_are_not_guessed(repo):
    project = ('[project]\nname = "ml"\nversion = "1"\n[tool.uv.sources]\n'
               'torch = [{ index = "cu124", extra = "gpu" }, { index = "cpu", extra = "cpu" }]\n'
               f'[[tool.uv.index]]\nname = "cu124"\nurl = "{INDEX}/cu124"\n'
               f'[[tool.uv.index]]\nname = "cpu"\nurl = "{INDEX}/cpu"\n')
    dockerfile = CUDA121 + "WORKDIR /app\nCOPY . .\nRUN uv sync --locked --extra gpu\n"
    assert results(repo, dockerfile, "ED111", {"pyproject.toml": project, "uv.lock": ""}) == []


def test_ed111_requirements_file_with_a_cuda_index(repo):
    dockerfile = CUDA121 + "COPY requirements.txt .\nRUN pip install --no-cache-dir -r requirements.txt\n"
    files = {"requirements.txt": f"--extra-index-url {INDEX}/cu124\ntorch==2.4.1\n"}
    assert results(repo, dockerfile, "ED111", files) == [("ED111", 3)]


def test_ed111_message_states_both_versions(repo):
    results(repo, CUDA121 + f"RUN pip install --no-cache-dir torch==2.4.1 --index-url {INDEX}/cu124\n", "ED111")
    (finding,) = repo.findings("--select", "ED111")
    assert "CUDA 12.4 (cu124" in finding["message"]
    assert "newer than the base image's CUDA 12.1 (nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04)" in finding["message"]
    assert "import torch" not in finding["message"]
    assert "ships two" in finding["message"] and "(NVIDIA_REQUIRE_CUDA) for CUDA 12.1, less than" in finding["message"]


def test_ed111_older_major_says_the_driver_requirement_is_raised(repo):
    dockerfile = "FROM nvidia/cuda:12.4.1-cudnn-runtime-ubuntu22.04\nRUN pip install --no-cache-dir torch==2.2.2+cu118\n"
    assert results(repo, dockerfile, "ED111") == [("ED111", 2)]
    (finding,) = repo.findings("--select", "ED111")
    assert "for CUDA 12.4, more than this PyTorch needs" in finding["message"]


def test_ed108_development_images_need_their_compilers(repo):
    assert results(repo, "FROM python:3.12-slim\nRUN apt-get install -y gcc\n", "ED108") == [("ED108", 2)]
    repo.write(".devcontainer/Dockerfile", "FROM python:3.12-slim\nRUN apt-get install -y gcc\n")
    repo.write("Dockerfile.dev", "FROM python:3.12-slim\nRUN apt-get install -y build-essential\n")
    assert [(f["path"], f["code"]) for f in repo.findings("--select", "ED108")] == [("Dockerfile", "ED108")]
