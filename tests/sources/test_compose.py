"""The Compose-file reader: each service's build (context, dockerfile), defaults, the services left out,
and files that are not read (not YAML, too large, hostile tags)."""

from __future__ import annotations

import pytest

from envdoctor.sources.compose import MAX_CHARACTERS, compose_builds


def test_builds_as_written_with_defaults():
    text = """\
version: '3.8'
services:
  web:
    build: ./docker
  api:
    build:
      context: ..
      dockerfile: docker/Dockerfile.api
  worker:
    build: {dockerfile: Dockerfile.worker}
  cache:
    build: {context: cache}
  db:
    image: postgres
"""
    assert compose_builds(text, "compose.yaml") == (
        ("./docker", "Dockerfile"),
        ("..", "docker/Dockerfile.api"),
        (".", "Dockerfile.worker"),
        ("cache", "Dockerfile"),
    )


@pytest.mark.parametrize("build", [
    "{context: ., dockerfile_inline: 'FROM scratch'}",  # no Dockerfile to find
    "{context: [a, b]}",                                 # a context that is not a string
    "{context: ., dockerfile: {a: b}}",                  # a dockerfile that is not a string
    "{context: ''}",                                     # empty values
    "''",
    "[a]",
])
def test_services_left_out(build):
    text = f"services:\n  web:\n    build: {build}\n  app:\n    build: app\n"
    assert compose_builds(text, "compose.yaml") == (("app", "Dockerfile"),)


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "services: [a]\n", "name: x\n"])
def test_no_services(text):
    assert compose_builds(text, "compose.yaml") == ()


def test_not_yaml_gives_none():
    assert compose_builds("services: [\n", "compose.yaml") is None


def test_size_limit():
    line = "services:\n  web:\n    build: app\n"
    padding = "#" * (MAX_CHARACTERS - len(line)) + "\n"
    assert compose_builds(line + padding[:-1], "compose.yaml") == (("app", "Dockerfile"),)
    assert compose_builds(line + padding, "compose.yaml") is None


def test_tags_are_not_constructed():
    # a tag that the unsafe loader would construct into an object is only a node here
    text = "services:\n  web:\n    build: !!python/object/apply:os.system ['true']\n  app:\n    build: app\n"
    assert compose_builds(text, "compose.yaml") == (("app", "Dockerfile"),)


def test_aliases_are_references():
    text = "x-build: &b {context: shared, dockerfile: Dockerfile.shared}\n" \
           "services:\n  one: {build: *b}\n  two: {build: *b}\n"
    assert compose_builds(text, "compose.yaml") == (("shared", "Dockerfile.shared"),) * 2
