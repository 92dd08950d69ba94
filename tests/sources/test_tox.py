"""tox.ini envlist: continuation lines, brace expansion, the factor that names the Python."""

from __future__ import annotations

import pytest

from envdoctor.sources.pythonversions import PythonVersion
from envdoctor.sources.tox import env_version, expand_braces, parse_tox_ini


def test_envlist_with_continuations_braces_and_comments():
    view = parse_tox_ini("[tox]\nrequires = tox>=4\nenv_list =\n    py{311,312}-django{42,50}\n"
                         "    lint  # style\n; a comment\n    3.13\n[testenv]\nenvlist = py27\n", "tox.ini")
    assert view.envlist_line == 3
    assert [(e.name, e.line) for e in view.envs] == [
        ("py311-django42", 4), ("py311-django50", 4), ("py312-django42", 4), ("py312-django50", 4),
        ("lint", 5), ("3.13", 7)]


def test_envlist_outside_the_tox_section_is_ignored():
    assert parse_tox_ini("[testenv]\nenvlist = py39\n", "tox.ini").envs == []


@pytest.mark.parametrize(("name", "expected"), [
    ("py39", PythonVersion(3, 9)),
    ("py310-django42", PythonVersion(3, 10)),
    ("py3.12", PythonVersion(3, 12)),
    ("pypy310", PythonVersion(3, 10)),
    ("django42-py311", PythonVersion(3, 11)),
    ("3.13", PythonVersion(3, 13)),
    ("py27", PythonVersion(2, 7)),
    ("py3", None),
    ("py", None),
    ("lint", None),
    ("django42", None),
    ("42", None),
])
def test_env_version(name, expected):
    assert env_version(name) == expected


def test_brace_expansion_is_bounded():
    assert expand_braces("a{1,2}-b{x,y}") == ["a1-bx", "a1-by", "a2-bx", "a2-by"]
    assert expand_braces("a{1,2") == ["a{1,2"]
    group = "{" + ",".join("abcdefghij") + "}"
    assert len(expand_braces(group * 4)) == 2000  # 10 000 names, cut at the bound
