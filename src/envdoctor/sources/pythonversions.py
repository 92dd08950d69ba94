"""Python versions: the CPython release calendar (the one place it is kept), "today", and version ranges.

The calendar is data, checked against the Python devguide's release-cycle table and the release PEPs
(569, 596, 619, 664, 693, 719, 745, 790, 826) as of `AS_OF`. Branches whose end of life is given only as a
month there are recorded as the last day of that month, so a branch is never called end-of-life early.
A version newer than the newest branch below is unknown to envdoctor and is treated as supported.

`today()` is the date the rules judge by: the clock, unless `ENVDOCTOR_TODAY=YYYY-MM-DD` is set (for
tests and reproducible runs; an unparsable value is ignored).

Version ranges: `requires-python` is a PEP 440 specifier set; Poetry's `python = "^3.10"` and conda's
`python=3.11` use other syntaxes. `VersionRange` holds a union of specifier sets, and answers which
`X.Y` branches it admits by testing sample versions of each branch (every patch level up to a bound, and
every version written in the range itself).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Iterable

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

AS_OF = date(2026, 11, 26)

# branch -> (first release, end of life). Sources: devguide "Status of Python versions" and the PEPs above.
CALENDAR: dict[tuple[int, int], tuple[date, date]] = {
    (2, 7): (date(2010, 7, 3), date(2020, 1, 1)),
    (3, 0): (date(2008, 12, 3), date(2009, 6, 27)),
    (3, 1): (date(2009, 6, 27), date(2012, 4, 9)),
    (3, 2): (date(2011, 2, 20), date(2016, 2, 20)),
    (3, 3): (date(2012, 9, 29), date(2017, 9, 29)),
    (3, 4): (date(2014, 3, 16), date(2019, 3, 18)),
    (3, 5): (date(2015, 9, 13), date(2020, 9, 30)),
    (3, 6): (date(2016, 12, 23), date(2021, 12, 23)),
    (3, 7): (date(2018, 6, 27), date(2023, 6, 27)),
    (3, 8): (date(2019, 10, 14), date(2024, 10, 7)),
    (3, 9): (date(2020, 10, 5), date(2025, 10, 31)),
    (3, 10): (date(2021, 10, 4), date(2026, 10, 31)),  # devguide: 2026-10
    (3, 11): (date(2022, 10, 24), date(2027, 10, 31)),  # 2027-10
    (3, 12): (date(2023, 10, 2), date(2028, 10, 31)),  # 2028-10
    (3, 13): (date(2024, 10, 7), date(2029, 10, 31)),  # 2029-10
    (3, 14): (date(2025, 10, 7), date(2030, 10, 31)),  # 2030-10
    (3, 15): (date(2026, 10, 1), date(2031, 10, 31)),  # 2031-10
    (3, 16): (date(2027, 10, 6), date(2032, 10, 31)),  # scheduled; 2032-10
}
Branch = tuple[int, int]
_NEWEST = max(CALENDAR)
_MAX_PATCH = 40  # patch levels sampled per branch (CPython branches end well below this)


def today() -> date:
    """The date rules judge by: `ENVDOCTOR_TODAY` (YYYY-MM-DD) when set and valid, else the clock."""
    value = os.environ.get("ENVDOCTOR_TODAY", "").strip()
    if value:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    return date.today()


def end_of_life(branch: Branch) -> date | None:
    """The branch's end-of-life date, None when the calendar does not know the branch."""
    entry = CALENDAR.get(branch)
    return entry[1] if entry else None


def is_end_of_life(branch: Branch, on: date) -> bool:
    """True when the calendar knows the branch and its end of life is before `on`. Unknown: False."""
    eol = end_of_life(branch)
    if eol is None:
        return branch < min(CALENDAR)  # older than anything listed (2.6, 1.x): long gone
    return eol < on


def supported_branches(on: date) -> list[Branch]:
    """Branches released and not yet at end of life on that date, oldest first."""
    return [b for b, (first, eol) in sorted(CALENDAR.items()) if first <= on <= eol]


def branch_text(branch: Branch) -> str:
    return f"{branch[0]}.{branch[1]}"


def supported_text(on: date) -> str:
    supported = supported_branches(on)
    if not supported:
        return "a current Python"
    if len(supported) == 1:
        return branch_text(supported[0])
    return f"{branch_text(supported[0])} to {branch_text(supported[-1])}"


# --- single versions as written in .python-version, image tags, tox factors ----------------------------

_VERSION_RE = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")


@dataclass(frozen=True)
class PythonVersion:
    """A version as a tool pins it: `3.12` (any 3.12.x) or `3.12.1`."""

    major: int
    minor: int
    micro: int | None = None

    @property
    def branch(self) -> Branch:
        return (self.major, self.minor)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}" + (f".{self.micro}" if self.micro is not None else "")

    @classmethod
    def parse(cls, text: str) -> PythonVersion | None:
        """The leading `X.Y[.Z]` of a text (`3.12.1rc1` -> 3.12.1, `3.13t` -> 3.13), or None."""
        match = _VERSION_RE.match(text.strip())
        if not match:
            return None
        major, minor, micro = match.groups()
        if len(major) > 2 or len(minor) > 3:
            return None
        return cls(int(major), int(minor), int(micro) if micro is not None and len(micro) <= 4 else None)

    def samples(self) -> list[Version]:
        if self.micro is not None:
            return [Version(f"{self.major}.{self.minor}.{self.micro}")]
        return [Version(f"{self.major}.{self.minor}.{p}") for p in range(_MAX_PATCH + 1)]


# --- ranges: requires-python, Poetry's python constraint, conda's python spec ----------------------------


@dataclass(frozen=True)
class VersionRange:
    """A union of PEP 440 specifier sets (Poetry and conda allow `||`/`|` between alternatives)."""

    alternatives: tuple[SpecifierSet, ...]
    text: str  # as written

    def __str__(self) -> str:
        return self.text

    def admits(self, version: PythonVersion) -> bool:
        """Some interpreter of this version (any patch level when none is given) is in the range."""
        return any(_contains(spec, v) for spec in self.alternatives for v in version.samples())

    def admitted_branches(self) -> set[Branch]:
        return _admitted(self.alternatives)

    def admits_beyond_calendar(self) -> bool:
        """Whether a branch newer than any the calendar knows is admitted (3.17, 3.20, 4.0)."""
        return bool({b for b in self.admitted_branches() if b > _NEWEST})

    def overlaps(self, other: VersionRange) -> bool:
        """Some interpreter version satisfies both ranges."""
        samples = _sample_versions(self.alternatives + other.alternatives)
        return any(
            any(_contains(a, v) for a in self.alternatives) and any(_contains(b, v) for b in other.alternatives)
            for v in samples
        )


def _contains(spec: SpecifierSet, version: Version) -> bool:
    return spec.contains(version, prereleases=True)


def _literal_versions(specs: Iterable[SpecifierSet]) -> set[Version]:
    found: set[Version] = set()
    for spec_set in specs:
        for spec in spec_set:
            text = spec.version.rstrip("*").rstrip(".")
            try:
                found.add(Version(text))
            except InvalidVersion:
                continue
    return found


def _sample_versions(specs: tuple[SpecifierSet, ...]) -> list[Version]:
    samples = set(_literal_versions(specs))
    for major, minor in _candidate_branches():
        samples.update(Version(f"{major}.{minor}.{p}") for p in range(_MAX_PATCH + 1))
    return sorted(samples)


def _candidate_branches() -> list[Branch]:
    branches = set(CALENDAR)
    branches.update((3, m) for m in range(_NEWEST[1] + 1, _NEWEST[1] + 6))
    branches.update({(4, 0), (4, 1), (2, 6)})
    return sorted(branches)


@lru_cache(maxsize=256)
def _admitted(specs: tuple[SpecifierSet, ...]) -> set[Branch]:
    admitted: set[Branch] = set()
    for version in _sample_versions(specs):
        branch = (version.major, version.minor)
        if branch not in admitted and any(_contains(s, version) for s in specs):
            admitted.add(branch)
    return admitted


def specifier_range(text: str) -> VersionRange | None:
    """A PEP 440 specifier set (`requires-python`), or None when it is not one."""
    try:
        return VersionRange((SpecifierSet(text),), text)
    except InvalidSpecifier:
        return None


_POETRY_OP_RE = re.compile(r"^(\^|~=|~|===|==|!=|<=|>=|<|>|=)?\s*(.*)$")


def poetry_range(text: str) -> VersionRange | None:
    """Poetry's constraint syntax (`^3.10`, `~3.10`, `>=3.9,<3.13`, `>=3.9 <3.13`, `3.10.*`, `*`, `a || b`)."""
    alternatives: list[SpecifierSet] = []
    for alternative in re.split(r"\s*\|\|?\s*", text.strip()):
        specs: list[str] = []
        alternative = re.sub(r"(\^|~=|~|===|==|!=|<=|>=|<|>|=)\s+", r"\1", alternative.strip())
        for part in re.split(r"\s*,\s*|\s+(?=[<>=!~^0-9])", alternative):
            part = part.strip()
            if not part or part == "*":
                continue
            converted = _poetry_part(part)
            if converted is None:
                return None
            specs.extend(converted)
        try:
            alternatives.append(SpecifierSet(",".join(specs)))
        except InvalidSpecifier:
            return None
    return VersionRange(tuple(alternatives), text) if alternatives else None


def _poetry_part(part: str) -> list[str] | None:
    match = _POETRY_OP_RE.match(part)
    if not match:
        return None
    op, version = match.group(1) or "", match.group(2).strip()
    if op in ("^", "~"):
        numbers = version.split(".")
        if not all(n.isdigit() for n in numbers) or not 1 <= len(numbers) <= 3:
            return None
        parts = [int(n) for n in numbers]
        if op == "~":
            upper = [parts[0] + 1] if len(parts) == 1 else [parts[0], parts[1] + 1]
        else:  # caret: bump the first non-zero part (of those written)
            index = next((i for i, n in enumerate(parts) if n != 0), len(parts) - 1)
            upper = parts[:index] + [parts[index] + 1]
        return [f">={version}", f"<{'.'.join(map(str, upper))}"]
    if op in ("", "=", "=="):
        return [_branch_or_exact(version)]
    return [f"{op}{version}"]


def _branch_or_exact(version: str) -> str:
    """`3.10` or `3.10.*` -> any 3.10.x; `3.10.4` -> exactly that (as Poetry and conda read a bare version)."""
    base = version.rstrip("*").rstrip(".")
    if version.endswith("*") or base.count(".") < 2:
        return f"=={base}.*"
    return f"=={base}"


def conda_range(text: str) -> VersionRange | None:
    """A conda version spec of a package (`3.11`, `=3.11`, `3.11.*`, `>=3.9,<3.12`, `3.10|3.11`), or None.

    Conda reads `3.11` after a space as exactly 3.11 and `=3.11` as 3.11.* ("fuzzy"); both are taken here
    as "some 3.11".
    """
    alternatives: list[SpecifierSet] = []
    for alternative in text.strip().split("|"):
        specs: list[str] = []
        for part in alternative.split(","):
            part = part.strip()
            if not part or part == "*":
                continue
            match = re.match(r"^(==|!=|<=|>=|<|>|=|~=)?\s*([0-9][0-9A-Za-z.*+!_-]*)$", part)
            if not match:
                return None
            op, version = match.group(1) or "", match.group(2)
            if op in ("", "=", "=="):
                specs.append(_branch_or_exact(version))
            else:
                specs.append(f"{op}{version}")
        try:
            alternatives.append(SpecifierSet(",".join(specs)))
        except InvalidSpecifier:
            return None
    return VersionRange(tuple(alternatives), text) if alternatives else None


def only_end_of_life(version_range: VersionRange, on: date) -> list[Branch] | None:
    """The branches a range admits when every one of them is past its end of life on that date, else None.

    None also when the range admits no known branch at all (a contradiction is another rule's business) or
    admits a branch newer than the calendar (supported, as far as envdoctor knows).
    """
    admitted = version_range.admitted_branches()
    if not admitted or version_range.admits_beyond_calendar():
        return None
    if all(is_end_of_life(b, on) for b in admitted):
        return sorted(admitted)
    return None
