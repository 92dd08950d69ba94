""".python-version requests as pyenv and uv write them."""

from __future__ import annotations

import pytest

from envdoctor.sources.python_version_file import parse_python_version_file
from envdoctor.sources.pythonversions import PythonVersion


@pytest.mark.parametrize(("text", "implementation", "version"), [
    ("3.12\n", "cpython", PythonVersion(3, 12)),
    ("3.12.1\n", "cpython", PythonVersion(3, 12, 1)),
    ("3.13t\n", "cpython", PythonVersion(3, 13)),
    ("pypy3.10-7.3.12\n", "pypy", PythonVersion(3, 10)),
    ("cpython-3.12.1-linux-x86_64-gnu\n", "cpython", PythonVersion(3, 12, 1)),
    ("cpython@3.12\n", "cpython", PythonVersion(3, 12)),
    ("graalpy-3.11\n", "graalpy", PythonVersion(3, 11)),
    ("system\n", None, None),
    ("miniconda3-latest\n", None, None),
])
def test_primary_request(text, implementation, version):
    request = parse_python_version_file(text, ".python-version").primary
    assert (request.implementation, request.version) == (implementation, version)


def test_comments_blank_lines_and_several_versions():
    view = parse_python_version_file("# the default\n\n3.12 3.11\n3.10\n", ".python-version")
    assert [(r.text, r.line) for r in view.requests] == [("3.12", 3), ("3.11", 3), ("3.10", 4)]
    assert view.primary.line == 3


def test_uv_specifier_request_keeps_the_whole_line():
    request = parse_python_version_file(">=3.11, <3.13  # uv\n", ".python-version").primary
    assert request.version is None and str(request.range) == ">=3.11, <3.13"


def test_empty_file():
    assert parse_python_version_file("\n# nothing\n", ".python-version").primary is None
