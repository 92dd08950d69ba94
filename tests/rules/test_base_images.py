"""ED101 base-image-latest and ED102 base-image-tag-only: what they must flag, and the near-misses."""

from __future__ import annotations

import pytest

DIGEST = "@sha256:" + "0123456789abcdef" * 4


def results(repo, text, *args):
    repo.write("Dockerfile", text)
    return [(f["code"], f["line"]) for f in repo.findings("--select", "ED101,ED102", *args)]


@pytest.mark.parametrize(("text", "expected"), [
    ("FROM python:latest\n", [("ED101", 1)]),
    ("FROM python\n", [("ED101", 1)]),
    ("FROM --platform=linux/amd64 python\n", [("ED101", 1)]),
    ("FROM docker.io/library/python AS base\n", [("ED101", 1)]),
    ("FROM localhost:5000/app\n", [("ED101", 1)]),  # a port, not a tag
    ("FROM localhost:5000/app:latest\n", [("ED101", 1)]),
    ("FROM python:3.12-slim\n", [("ED102", 1)]),
    ("FROM localhost:5000/app:1.2\n", [("ED102", 1)]),
    ("FROM scratch\nCOPY --from=ghcr.io/astral-sh/uv:latest /uv /bin/\n", [("ED101", 2)]),
    ("FROM scratch\nCOPY --from=ghcr.io/astral-sh/uv:0.5 /uv /bin/\n", [("ED102", 2)]),
    ("FROM scratch\nRUN --mount=type=bind,from=alpine,source=/x,target=/y true\n", [("ED101", 2)]),
    ("FROM scratch\nRUN --mount=from=alpine:3.20,target=/y true\n", [("ED102", 2)]),
    # ARG defaults are resolved, the global ones and the ${VAR:-default} forms
    ("ARG BASE=python:latest\nFROM $BASE\n", [("ED101", 2)]),
    ("ARG V=3.12\nFROM python:${V}-slim\n", [("ED102", 2)]),
    ("ARG V\nFROM python:${V:-latest}\n", [("ED101", 2)]),
    ("ARG REG=ghcr.io\nARG IMG=${REG}/org/app\nFROM ${IMG}\n", [("ED101", 3)]),
    # a stage-local ARG used by COPY --from
    ("FROM scratch\nARG UV=ghcr.io/astral-sh/uv\nCOPY --from=$UV /uv /bin/\n", [("ED101", 3)]),
    # the finding points at the physical line of the image in a multi-line instruction
    ("FROM scratch\nCOPY --chown=1:1 \\\n    --from=python \\\n    /a /b\n", [("ED101", 3)]),
])
def test_must_flag(repo, text, expected):
    assert results(repo, text) == expected


@pytest.mark.parametrize("text", [
    "FROM scratch\n",
    f"FROM python:3.12-slim{DIGEST}\n",
    f"FROM python{DIGEST}\n",
    f"FROM localhost:5000/app:1.2{DIGEST} AS app\n",
    # earlier stages by name (any case) and by index
    f"FROM python:3.12{DIGEST} AS Builder\nFROM builder\nCOPY --from=BUILDER /a /b\nCOPY --from=0 /a /b\n",
    f"FROM python:3.12{DIGEST} AS build\nFROM build AS test\nRUN --mount=from=build,target=/x true\n",
    # an image named by a build argument without a default is not guessed at
    "ARG BASE\nFROM $BASE\n",
    "ARG TAG\nFROM python:$TAG\n",
    "FROM ${UNDECLARED}\n",
    f"ARG BASE=python:3.12{DIGEST}\nFROM $BASE\n",
    # a global ARG is not visible in a stage unless re-declared: the COPY --from cannot be resolved
    f"ARG UV=ghcr.io/astral-sh/uv\nFROM python:3.12{DIGEST}\nCOPY --from=$UV /uv /bin/\n",
    # heredoc bodies are not instructions
    f"FROM python:3.12{DIGEST}\nRUN <<EOF\nFROM python:latest\nEOF\n",
    # comments are not instructions
    f"# FROM python:latest\nFROM python:3.12{DIGEST}\n",
])
def test_must_not_flag(repo, text):
    assert results(repo, text) == []


def test_redeclared_global_arg_is_visible_in_the_stage(repo):
    text = f"ARG UV=ghcr.io/astral-sh/uv\nFROM python:3.12{DIGEST}\nARG UV\nCOPY --from=$UV /uv /bin/\n"
    assert results(repo, text) == [("ED101", 4)]


def test_allowed_images(repo):
    repo.write("envdoctor.toml", '[docker]\nallowed-images = ["registry.internal:5000/*", "python:3.12"]\n')
    text = "FROM registry.internal:5000/base\nFROM registry.internal:5000/base:1\nFROM python:3.12\nFROM python:3.11\n"
    assert results(repo, text) == [("ED102", 4)]


def test_message_names_the_image_and_the_how(repo):
    repo.write("Dockerfile", "FROM scratch\nCOPY --from=busybox /bin/sh /sh\n")
    finding = repo.findings()[0]
    assert finding["message"].startswith(
        "Image used by COPY --from 'busybox' has no tag, so it means 'busybox:latest' and floats")
