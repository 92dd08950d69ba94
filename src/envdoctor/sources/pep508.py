"""Comparing requirements, specifiers and markers by meaning, as the lockers do.

uv calls a lock stale only when a requirement changed in meaning: `>=2.31.0` equals `>=2.31`, name case and
separators do not matter, extras are a set, and markers are compared by what they select
(`python_version >= '3.8'` is redundant under `requires-python = ">=3.10"`). These helpers give that
comparison without running any tool:

- `normalize_specifier` reads a specifier set into a set of `(operator, version)` with trailing `.0`s of the
  release dropped where PEP 440 ignores them (not in `~=` or a `.*` prefix match, where they narrow the range);
- `markers_equivalent` evaluates two markers over every environment that matters to them (each literal they
  mention, its neighbours, and a value mentioned by neither), restricted to `requires-python`; when that
  space is too large to enumerate, it answers None ("cannot tell") and callers do not report a difference;
- `specifiers_equivalent` does the same for two specifier sets over the versions they mention.
"""

from __future__ import annotations

import itertools
import re
from typing import Any, Iterable

from packaging.markers import InvalidMarker, Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

_VERSION_VARIABLES = {"python_version", "python_full_version"}
_MAX_ENVIRONMENTS = 20000
_OTHER = "\x00other"  # a value no marker mentions
_BASE_ENVIRONMENT = {
    "implementation_name": "cpython",
    "implementation_version": "3.12.0",
    "os_name": "posix",
    "platform_machine": "x86_64",
    "platform_release": "",
    "platform_system": "Linux",
    "platform_version": "",
    "python_full_version": "3.12.0",
    "platform_python_implementation": "CPython",
    "python_version": "3.12",
    "sys_platform": "linux",
    "extra": "",
}


def normalize_version(text: str, operator: str = "==") -> str:
    """A version in PEP 440's normal form, with the release's trailing zeros dropped (`2.31.0` -> `2.31`)
    where PEP 440 compares them away: for `==`, `!=`, `<=`, `>=`, `<` and `>` without a wildcard.

    The zeros are kept where they change the meaning: a compatible release (`~=2.9.0` is `>=2.9.0,<2.10`,
    `~=2.9` is `>=2.9,<3`) and a prefix match (`==2.10.0.*` does not admit 2.10.1, `==2.10.*` does).
    `===` compares text, so its version is only lower-cased. Text that is not a version is returned
    lower-cased.
    """
    wildcard = text.endswith(".*")
    core = text[:-2] if wildcard else text
    if operator == "===":
        return text.strip().lower()
    try:
        version = Version(core)
    except InvalidVersion:
        return text.strip().lower()
    release = list(version.release)
    if operator != "~=" and not wildcard:
        while len(release) > 1 and release[-1] == 0:
            release.pop()
    out = (f"{version.epoch}!" if version.epoch else "") + ".".join(str(p) for p in release)
    if version.pre:
        out += f"{version.pre[0]}{version.pre[1]}"
    if version.post is not None:
        out += f".post{version.post}"
    if version.dev is not None:
        out += f".dev{version.dev}"
    if version.local:
        out += f"+{version.local}"
    return out + (".*" if wildcard else "")


def normalize_specifier(text: str | None) -> frozenset[tuple[str, str]] | None:
    """The specifier set as a set of (operator, normalised version); None if it cannot be parsed."""
    if not text or not text.strip():
        return frozenset()
    try:
        specifiers = SpecifierSet(text)
    except InvalidSpecifier:
        return None
    return frozenset((s.operator, normalize_version(s.version, s.operator)) for s in specifiers)


def normalize_extras(extras: Iterable[str]) -> frozenset[str]:
    return frozenset(canonicalize_name(e) for e in extras if isinstance(e, str))


def parse_marker(text: str | None) -> Marker | None:
    if not text or not text.strip():
        return None
    try:
        return Marker(text)
    except InvalidMarker:
        raise ValueError(text) from None


def _atoms(markers: Any) -> Iterable[tuple[str, str]]:
    """(variable, literal) pairs in packaging's parsed marker list."""
    if isinstance(markers, (list, tuple)):
        if len(markers) == 3 and all(hasattr(m, "value") for m in markers):
            left, _op, right = markers
            kinds = (type(left).__name__, type(right).__name__)
            if kinds == ("Variable", "Value"):
                yield left.value, right.value
            elif kinds == ("Value", "Variable"):
                yield right.value, left.value
            return
        for item in markers:
            yield from _atoms(item)


def _neighbours(literal: str) -> list[Version]:
    try:
        version = Version(literal)
    except InvalidVersion:
        return []
    release = list(version.release) + [0] * (3 - len(version.release))
    major, minor, patch = release[:3]
    out = {Version(f"{major}.{minor}.{patch}")}
    for m, n, p in ((major, minor - 1, 0), (major, minor + 1, 0), (major, minor, patch + 1),
                    (major, minor, max(patch - 1, 0)), (major + 1, 0, 0), (max(major - 1, 0), 99, 0),
                    (major, minor - 1, 99) if minor > 0 else (major, 0, 0)):
        if n >= 0:
            out.add(Version(f"{m}.{n}.{p}"))
    if version.pre is not None or version.dev is not None:
        out.add(version)
    return sorted(out)


def _python_candidates(literals: Iterable[str], requires_python: str | None) -> list[Version]:
    grid = {Version("2.7.18")} | {Version(f"3.{minor}.{patch}") for minor in range(0, 21) for patch in (0, 5)}
    for literal in literals:
        grid.update(_neighbours(literal))
    allowed = None
    if requires_python:
        try:
            allowed = SpecifierSet(requires_python)
        except InvalidSpecifier:
            allowed = None
    versions = sorted(grid)
    if allowed is not None:
        kept = [v for v in versions if allowed.contains(v, prereleases=True)]
        versions = kept or versions
    return versions


def markers_equivalent(a: str | None, b: str | None, requires_python: str | None = None) -> bool | None:
    """Whether two markers select the same environments (within requires-python); None if unknowable.

    An absent marker is "always". A marker that cannot be parsed gives None.
    """
    if (a or "").strip() == (b or "").strip():
        return True
    try:
        parsed = [parse_marker(a), parse_marker(b)]
    except ValueError:
        return None
    if parsed[0] is not None and parsed[1] is not None and str(parsed[0]) == str(parsed[1]):
        return True
    literals: dict[str, set[str]] = {}
    for marker in parsed:
        if marker is not None:
            for variable, literal in _atoms(getattr(marker, "_markers", [])):
                literals.setdefault(variable, set()).add(literal)
    python_literals = set().union(*(literals.pop(v, set()) for v in _VERSION_VARIABLES))
    pythons = _python_candidates(python_literals, requires_python)
    axes: list[tuple[str, list[str]]] = []
    for variable, values in sorted(literals.items()):
        if variable == "extra":
            axes.append((variable, sorted(values | {""})))
        else:
            axes.append((variable, sorted(values | {_OTHER})))
    total = len(pythons)
    for _, values in axes:
        total *= len(values)
    if total > _MAX_ENVIRONMENTS:
        return None
    names = [name for name, _ in axes]
    for python in pythons:
        base = dict(_BASE_ENVIRONMENT, python_full_version=str(python),
                    python_version=f"{python.major}.{python.minor}")
        for combination in itertools.product(*(values for _, values in axes)):
            environment = dict(base, **dict(zip(names, combination)))
            try:
                results = [m.evaluate(environment) if m is not None else True for m in parsed]
            except Exception:  # an odd comparison packaging refuses: do not guess
                return None
            if results[0] != results[1]:
                return False
    return True


def specifiers_equivalent(a: str | None, b: str | None, *, final_releases: bool = False) -> bool | None:
    """Whether two specifier sets admit the same versions (tested at every version either mentions,
    and around it); None if either cannot be parsed.

    `final_releases`: compare only the final releases they admit, as uv compares requires-python (its
    Python range keeps the release numbers: `>=3.11.dev0` and `>=3.11rc1` are recorded as `>=3.11`)."""
    if normalize_specifier(a) == normalize_specifier(b):
        return True
    try:
        sets = [SpecifierSet(a or ""), SpecifierSet(b or "")]
    except InvalidSpecifier:
        return None
    literals = [s.version.removesuffix(".*") for spec in sets for s in spec]
    candidates = set(_python_candidates(literals, None))
    for literal in literals:
        candidates.update(_neighbours(literal))
    if final_releases:
        candidates = {v for v in candidates if not v.is_prerelease}
    return all(sets[0].contains(v, prereleases=True) == sets[1].contains(v, prereleases=True)
               for v in sorted(candidates))


def has_prerelease_bound(text: str | None) -> bool:
    """Whether a specifier set names a pre-release, development or local version (`<3.0.dev0`,
    `>=2.10rc1`): PEP 440 and uv draw those bounds differently, so such sets are compared as written."""
    try:
        specifiers = SpecifierSet(text or "")
    except InvalidSpecifier:
        return True
    for specifier in specifiers:
        version = specifier.version.removesuffix(".*")
        try:
            parsed = Version(version)
        except InvalidVersion:
            return True
        if parsed.is_prerelease or parsed.is_postrelease or parsed.local:
            return True
    return False


_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def requirement_name(text: str) -> str | None:
    """The canonical name at the start of a PEP 508 string, even when the rest does not parse."""
    match = _NAME_RE.match(text)
    return canonicalize_name(match.group(1)) if match else None
