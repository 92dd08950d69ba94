"""A parsed uv.lock keeps only what the rules read: its LockedPackages, and for ED408's dependency walk
(`rules/_drift.py`) the tables a LockedPackage cannot stand for. The walk must give what it gave on the
raw package tables, and a lock's size in memory must stay bounded per package (a monorepo holds a
thousand locks at once)."""

from __future__ import annotations

import gc
import random
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from lockfile_fixtures import fixture_text
from packaging.utils import canonicalize_name

from envdoctor.rules._drift import Unknown, _add, _applies, _dict, _list, _uv_default_groups, _uv_required
from envdoctor.sources.lockfiles import LockedPackage, UvLock, parse_lockfile, parse_uv_lock
from envdoctor.sources.toml import parse_toml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "benchmarks"))
from run import uv_lock  # noqa: E402  (the benchmark's generator writes locks of uv's shape)


def reference_walk(data: dict[str, Any], markers, pyproject) -> dict[str, set[str]] | None:
    """The walk as it was written when locks kept their raw package tables (`data` is what the TOML
    parser reads): the oracle for the walk over `UvLock.entries`."""
    entries = [e for e in _list(data.get("package")) if isinstance(e, dict) and isinstance(e.get("name"), str)]
    by_name: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_name.setdefault(canonicalize_name(entry["name"]), []).append(entry)
    roots = [e for e in entries
             if any(_dict(e.get("source")).get(k) in (".", "./") for k in ("editable", "virtual", "directory"))]
    if len(roots) != 1:
        return None
    root = roots[0]
    required: dict[str, set[str]] = {}
    queue: list[tuple[dict[str, Any], tuple[str, ...]]] = []

    def follow(dependencies: Any) -> None:
        for dependency in _list(dependencies):
            dependency = _dict(dependency)
            name = dependency.get("name")
            if not isinstance(name, str) or not _applies(dependency.get("marker"), markers):
                continue
            candidates = by_name.get(canonicalize_name(name), [])
            if isinstance(dependency.get("version"), str):
                candidates = [c for c in candidates if c.get("version") == dependency["version"]]
            if not candidates:
                raise Unknown(f"{name} is not in the lock")
            extras = tuple(e for e in _list(dependency.get("extra")) if isinstance(e, str))
            queue.extend((candidate, extras) for candidate in candidates)

    follow(root.get("dependencies"))
    wanted = _uv_default_groups(pyproject)
    for group, dependencies in _dict(root.get("dev-dependencies")).items():
        if wanted == "all" or canonicalize_name(group) in wanted:
            follow(dependencies)
    seen: set[tuple[str, str, tuple[str, ...]]] = set()
    while queue:
        entry, extras = queue.pop()
        key = (canonicalize_name(entry["name"]), str(entry.get("version")), extras)
        if key in seen:
            continue
        seen.add(key)
        _add(required, key[0], entry.get("version") if isinstance(entry.get("version"), str) else None)
        follow(entry.get("dependencies"))
        optional = _dict(entry.get("optional-dependencies"))
        for extra in extras:
            follow(optional.get(extra, optional.get(canonicalize_name(extra))))
    required.pop(canonicalize_name(root["name"]), None)
    return required


class FakePyproject:
    def __init__(self, uv: dict[str, Any]) -> None:
        self.uv = uv

    def tool(self, name: str) -> dict[str, Any]:
        return self.uv if name == "uv" else {}


LINUX_312 = {"implementation_name": "cpython", "implementation_version": "3.12.4", "os_name": "posix",
             "platform_machine": "x86_64", "platform_release": "", "platform_system": "Linux",
             "platform_version": "", "python_full_version": "3.12.4", "platform_python_implementation": "CPython",
             "python_version": "3.12", "sys_platform": "linux"}
WINDOWS_310 = {**LINUX_312, "os_name": "nt", "platform_system": "Windows", "sys_platform": "win32",
               "python_full_version": "3.10.2", "python_version": "3.10", "implementation_version": "3.10.2"}
MARKERS = [LINUX_312, WINDOWS_310, None]
PYPROJECTS = [None, FakePyproject({"default-groups": ["lint"]}), FakePyproject({"default-groups": "all"})]


def outcome(walk, *args):
    try:
        result = walk(*args)
    except Unknown:
        return "unknown"
    return None if result is None else {name: sorted(versions) for name, versions in result.items()}


def assert_same_walk(text: str) -> None:
    lock = parse_uv_lock(text, "uv.lock")
    data = parse_toml(text).data
    for markers in MARKERS:
        for pyproject in PYPROJECTS:
            assert outcome(_uv_required, lock, markers, pyproject) == outcome(reference_walk, data, markers, pyproject)


# --- random locks of uv's shapes, and the odd ones --------------------------------------------------------

NAMES = ["alpha", "Beta_Pkg", "gamma.x", "delta", "eps", "zeta", "eta", ""]
DEPENDENCY_SHAPES = [
    '{{ name = "{n}" }}',
    '{{ name = "{n}", marker = "sys_platform == \'win32\'" }}',
    '{{ name = "{n}", marker = "python_full_version < \'3.11\'" }}',
    '{{ name = "{n}", extra = ["fast"] }}',
    '{{ name = "{n}", version = "1.0" }}',
    '{{ name = "{n}", version = "2.0", source = {{ registry = "https://index.example.invalid/simple" }} }}',
    '{{name = "{n}"}}',
]


def random_lock(rng: random.Random) -> str:
    out = ["version = 1", "revision = 3", 'requires-python = ">=3.10"', ""]
    packages = [rng.choice(NAMES) for _ in range(rng.randint(0, 12))]
    known = [n for n in packages if n] or ["alpha"]

    def dependencies(key: str, count: int) -> list[str]:
        lines = [f"{key} = ["]
        for _ in range(count):
            name = rng.choice(known) if rng.random() < 0.9 else rng.choice(NAMES)  # mostly in the lock
            shape = rng.choice(DEPENDENCY_SHAPES) if rng.random() < 0.5 else DEPENDENCY_SHAPES[0]
            lines.append("    " + shape.format(n=name) + ",")
        return lines + ["]"]

    roots = rng.choice([1, 1, 1, 1, 0, 2])
    for index in range(roots):
        out += ["[[package]]", f'name = "root{index}"', 'version = "0.1.0"',
                f'source = {{ {rng.choice(["editable", "virtual", "directory"])} = "{rng.choice([".", "./"])}" }}']
        out += dependencies("dependencies", rng.randint(0, 4)) + [""]
        if rng.random() < 0.7:
            out += ["[package.dev-dependencies]"]
            for group in rng.sample(["dev", "lint", "Docs"], rng.randint(1, 3)):
                out += dependencies(group, rng.randint(0, 3))
            out += [""]
        out += ["[package.metadata]", 'requires-dist = [{ name = "alpha", specifier = ">=1" }]', ""]
    for name in packages:
        out += ["[[package]]", f'name = "{name}"']
        if rng.random() < 0.9:
            out.append(f'version = "{rng.choice(["1.0", "2.0", "3.0"])}"')
        out.append(rng.choice(['source = { registry = "https://index.example.invalid/simple" }'] * 4 + [
            'source = { git = "https://git.example.invalid/x?rev=1#1" }',
            'source = { path = "wheels/x.whl" }',
            'source = { directory = "libs/x" }']))
        if rng.random() < 0.6:
            out += dependencies("dependencies", rng.randint(0, 3))
        if rng.random() < 0.3:
            out += ["resolution-markers = [", '    "sys_platform == \'win32\'",', "]"]
        if rng.random() < 0.5:
            out += ['sdist = { url = "https://files.example.invalid/x.tar.gz", hash = "sha256:00", size = 1 }',
                    "wheels = [", '    { url = "https://files.example.invalid/x.whl", hash = "sha256:11", size = 2 },', "]"]
        out.append("")
        if rng.random() < 0.25:
            out += ["[package.optional-dependencies]"] + dependencies("fast", rng.randint(0, 2)) + [""]
    return "\n".join(out)


@pytest.mark.parametrize("seed", range(300))
def test_walk_over_compact_entries_is_the_walk_over_the_tables(seed):
    assert_same_walk(random_lock(random.Random(seed)))


@pytest.mark.parametrize("name", ["uv-project", "uv-workspace"])
def test_walk_is_the_same_on_the_fixture_locks(name):
    assert_same_walk(fixture_text(name, "uv.lock"))


def test_walk_is_the_same_on_generated_locks():
    assert_same_walk(uv_lock(3, 200))
    assert outcome(_uv_required, parse_uv_lock(uv_lock(3, 200), "uv.lock"), LINUX_312, None) not in (None, "unknown")


def test_entries_hold_packages_for_plain_tables_and_reduced_tables_for_the_rest():
    text = "\n".join([
        "version = 1", "",
        "[[package]]", 'name = "app"', 'version = "1.0"', 'source = { editable = "." }',
        "dependencies = [", '    { name = "plain" },', '    { name = "marked" },', "]", "",
        "[package.metadata]", 'requires-dist = [{ name = "plain" }]', "",
        "[[package]]", 'name = "plain"', 'version = "1.0"', 'source = { registry = "https://index.example.invalid/simple" }',
        "dependencies = [", '    { name = "Marked" },', "]",
        'wheels = [', '    { url = "https://files.example.invalid/plain.whl", hash = "sha256:00", size = 1 },', "]", "",
        "[[package]]", 'name = "marked"', 'version = "2.0"', 'source = { registry = "https://index.example.invalid/simple" }',
        "dependencies = [", '    { name = "plain", marker = "sys_platform == \'win32\'" },', "]", "",
    ])
    lock = parse_uv_lock(text, "uv.lock")
    app, plain, marked = lock.entries
    assert plain is lock.packages[1] and isinstance(plain, LockedPackage) and plain.dependencies == ("marked",)
    assert app == {"name": "app", "version": "1.0", "source": {"editable": "."},
                   "dependencies": [{"name": "plain"}, {"name": "marked"}]}  # no metadata: the walk reads none
    assert marked == {"name": "marked", "version": "2.0",
                      "source": {"registry": "https://index.example.invalid/simple"},
                      "dependencies": [{"name": "plain", "marker": "sys_platform == 'win32'"}]}
    assert "package" not in lock.doc.data and lock.doc.data["version"] == 1
    assert [p.name for p in lock.projects] == ["app"]  # the records of local projects are still read


# --- memory ---------------------------------------------------------------------------------------------------


def test_a_parsed_lock_keeps_a_bounded_size_per_package():
    """A generated lock of 3,000 packages (sdist, wheel, hashes, URLs, a third with a dependency): once
    parsed, it holds about 275 bytes per package (its LockedPackage, name, line number and its entry in
    the table of shared line numbers, share of the lists); with the raw tables kept it was about 780.
    Measured with tracemalloc, not timed."""
    parse_lockfile(uv_lock(1, 20), "uv.lock")  # imports and caches first: not part of the lock
    text = uv_lock(7, 3000)
    gc.collect()
    tracing = tracemalloc.is_tracing()
    if not tracing:
        tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        lock = parse_lockfile(text, "uv.lock")
        gc.collect()
        retained = tracemalloc.get_traced_memory()[0] - before
    finally:
        if not tracing:
            tracemalloc.stop()
    assert isinstance(lock, UvLock) and len(lock.packages) == 3001
    assert retained / len(lock.packages) < 400, f"{retained / len(lock.packages):.0f} bytes per package"
