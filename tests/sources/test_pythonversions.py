"""The release calendar, today(), single versions and version ranges (PEP 440, Poetry, conda)."""

from __future__ import annotations

from datetime import date

import pytest

from envdoctor.sources.pythonversions import (
    AS_OF,
    CALENDAR,
    PythonVersion,
    conda_range,
    end_of_life,
    is_end_of_life,
    only_end_of_life,
    poetry_range,
    specifier_range,
    supported_branches,
    today,
)

DAY = date(2026, 11, 26)


def test_calendar_dates_checked_against_the_devguide():
    assert end_of_life((3, 8)) == date(2024, 10, 7)
    assert end_of_life((3, 9)) == date(2025, 10, 31)
    assert end_of_life((3, 10)) == date(2026, 10, 31)
    assert end_of_life((3, 14)) == date(2030, 10, 31)
    assert AS_OF == DAY
    assert all(first < eol for first, eol in CALENDAR.values())


def test_end_of_life_and_supported_on_a_day():
    assert is_end_of_life((3, 10), DAY) and not is_end_of_life((3, 10), date(2026, 10, 31))
    assert not is_end_of_life((3, 11), DAY)
    assert is_end_of_life((2, 6), DAY)  # older than the calendar
    assert not is_end_of_life((3, 20), DAY)  # newer than the calendar
    assert supported_branches(DAY) == [(3, 11), (3, 12), (3, 13), (3, 14), (3, 15)]


def test_today_from_the_environment(monkeypatch):
    monkeypatch.setenv("ENVDOCTOR_TODAY", "2030-01-02")
    assert today() == date(2030, 1, 2)
    monkeypatch.setenv("ENVDOCTOR_TODAY", "next tuesday")
    assert today() == date.today()
    monkeypatch.delenv("ENVDOCTOR_TODAY")
    assert today() == date.today()


@pytest.mark.parametrize(("text", "expected"), [
    ("3.12", PythonVersion(3, 12)),
    ("3.12.1", PythonVersion(3, 12, 1)),
    ("3.13t", PythonVersion(3, 13)),
    ("3.14.0rc1-slim", PythonVersion(3, 14, 0)),
    ("3.12-slim-bookworm", PythonVersion(3, 12)),
    ("3", None),
    ("slim", None),
    ("latest", None),
])
def test_python_version_parse(text, expected):
    assert PythonVersion.parse(text) == expected


@pytest.mark.parametrize(("text", "branches"), [
    ("^3.10", {(3, m) for m in range(10, 22)}),
    ("~3.10", {(3, 10)}),
    ("~3", None),  # ~3 means >=3,<4: many
    (">=3.9,<3.12", {(3, 9), (3, 10), (3, 11)}),
    (">= 3.9 <3.12", {(3, 9), (3, 10), (3, 11)}),
    ("3.11", {(3, 11)}),
    ("3.11.*", {(3, 11)}),
    ("~3.9 || ~3.12", {(3, 9), (3, 12)}),
    ("~=3.9.1", {(3, 9)}),
])
def test_poetry_ranges(text, branches):
    version_range = poetry_range(text)
    assert version_range is not None
    if branches is not None:
        assert version_range.admitted_branches() == branches


@pytest.mark.parametrize("text", ["^x", ">=", "~a.b"])
def test_unreadable_poetry_ranges(text):
    assert poetry_range(text) is None


@pytest.mark.parametrize(("text", "branches"), [
    ("3.9", {(3, 9)}),
    ("=3.9", {(3, 9)}),  # stripped by the reader to 3.9
    ("3.9.*", {(3, 9)}),
    ("==3.9.7", {(3, 9)}),
    (">=3.8,<3.10", {(3, 8), (3, 9)}),
    ("3.10|3.11", {(3, 10), (3, 11)}),
])
def test_conda_ranges(text, branches):
    assert conda_range(text).admitted_branches() == branches


def test_ranges_admit_and_overlap():
    assert specifier_range(">=3.12.1").admits(PythonVersion(3, 12))
    assert not specifier_range(">=3.12.1").admits(PythonVersion(3, 12, 0))
    assert not specifier_range("<3.12").admits(PythonVersion(3, 12))
    assert specifier_range(">=3.11").overlaps(poetry_range("^3.9"))
    assert not specifier_range(">=3.11").overlaps(poetry_range("~3.9"))
    assert specifier_range("==3.9.40").admits(PythonVersion(3, 9))  # a patch level above the sampled ones
    assert specifier_range("not a spec") is None


@pytest.mark.parametrize(("text", "expected"), [
    ("<3.11", True),
    ("~=3.9.0", True),
    (">=3.9", False),
    (">=3.8,<4", False),
    ("==3.11.*", False),
    (">=3.16", False),
    ("<3.0", True),
    (">=3.12,<3.11", False),  # admits nothing at all: a contradiction, not an end of life
])
def test_only_end_of_life(text, expected):
    assert bool(only_end_of_life(specifier_range(text), DAY)) is expected
