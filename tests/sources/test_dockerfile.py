"""Regression tests for the Dockerfile reader (found while writing the ED1xx rules)."""

from __future__ import annotations

from envdoctor.sources.dockerfile import expand, parse_dockerfile


def test_default_of_an_argument_without_a_value_is_used():
    """`ARG V` then `${V:-latest}`: without a --build-arg, BuildKit uses the default."""
    dockerfile = parse_dockerfile("ARG V\nFROM python:${V:-latest}\n")
    scope = dockerfile.global_scope()
    assert expand(dockerfile.stages[0].image, scope) == "python:latest"
    assert expand("${V-x}", scope) == "x"
    assert expand("${V:+set}", scope) is None  # depends on whether it is given: unknown
    assert expand("$V", scope) is None


def test_line_of_original_covers_flags_on_continuation_lines():
    dockerfile = parse_dockerfile("FROM scratch\nCOPY --chown=1:1 \\\n    --from=python \\\n    /a /b\n")
    copy = dockerfile.stages[0].instructions[0]
    assert copy.line_of(0) == 4  # args start on line 4
    assert copy.line_of_original(copy.original.find("--from")) == 3
    assert copy.line_of_original(0) == 2
