"""Lockfiles, read from their real structure with line numbers: uv.lock, poetry.lock, pdm.lock, pylock.toml
(PEP 751), Pipfile.lock, conda-lock files, and pinned requirements files (pip-compile, `uv pip compile`,
`uv export`, `pdm export` output). Also the Pipfile, the manifest Pipfile.lock belongs to.

The public API, for rules and for anyone who needs what a lock pins:

- `parse_lockfile(text, rel) -> Lockfile` for the files of kind "lockfile" (not the Pipfile, which is a
  manifest: `parse_pipfile`); `read_requirements_lock(text, rel) -> RequirementsLock` for requirements files.
- `Lockfile.packages`: every locked package as a `LockedPackage(name, version, marker, groups, line, ...)`;
  `Lockfile.locked()` groups them by PEP 503 name. A lock may hold several entries for one name (different
  versions for different markers or platforms).
- `Lockfile.unknown_version`: set (to a sentence) when the format version is newer than this reader knows;
  the file was then read as far as possible.
- Kind-specific views: `UvLock.projects` / `.manifest` (the inputs uv recorded) / `.entries` (what ED408's
  dependency walk reads), `PoetryLock`, `PdmLock`, `PipfileLock` (`content_hash`, `.generator`),
  `RequirementsLock` (`.command`, `.via`).
- Memory: a monorepo holds every lock at once, so a parsed lock keeps what the rules read and no more (the
  raw package tables are dropped once read; names and versions are interned). tests/sources/
  test_uv_lock_compact.py bounds a uv.lock's size per package.

Nothing here runs a tool; every reader returns best effort on odd but parsable input, and raises
`SourceError` (through `TomlError`) only for files that are not TOML/JSON/YAML at all.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from functools import lru_cache
from sys import intern
from typing import Any, NamedTuple

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from envdoctor.files import SourceError, split_lines
from envdoctor.sources.pep508 import requirement_name
from envdoctor.sources.requirements import RequirementsFile, parse_requirements
from envdoctor.sources.toml import TomlDocument, TomlError, parse_toml

# The newest format of each kind this reader was written against (checked with uv 0.13.9, Poetry 2.5.1,
# PDM 2.29.4, pipenv 2026.10.3, conda-lock's unified format and PEP 751).
UV_LOCK_VERSION = (1, 5)  # version, revision
POETRY_LOCK_VERSION = Version("2.1")
PDM_LOCK_VERSION = (4, 5)  # major, minor of lock_version
PYLOCK_VERSION = Version("1.0")
PIPFILE_SPEC = 6
CONDA_LOCK_VERSION = 1

LOCK_KINDS = ("uv", "poetry", "pdm", "pylock", "pipenv", "conda-lock", "requirements")


class LockfileError(TomlError):
    pass


@dataclass(frozen=True, slots=True)  # slots: a monorepo holds hundreds of thousands
class LockedPackage:
    """One locked package. `name` is PEP 503-normalised; `version` None where the lock records none (a
    path, VCS or virtual source, a dynamic version). `marker` is the PEP 508 marker under which it is
    installed (None: always, or not recorded). `groups` are the lock's own group names (Poetry and PDM
    groups, Pipfile.lock sections, conda-lock categories; () where the format has none)."""

    name: str
    version: str | None
    marker: str | None = None
    groups: tuple[str, ...] = ()
    line: int = 1
    source: str | None = None  # registry, editable, virtual, directory, path, git, url, conda, pip, ...
    platform: str | None = None  # conda-lock: the platform of this entry
    dependencies: tuple[str, ...] = ()  # normalised names it requires, where the lock records them
    location: str | None = None  # a local folder source, as recorded (relative to the lock's folder)


@dataclass
class Lockfile:
    path: str
    kind: str  # one of LOCK_KINDS
    packages: list[LockedPackage] = field(default_factory=list)
    format_version: str | None = None
    unknown_version: str | None = None  # why the format version is not one this reader knows
    newer_major: bool = False  # the format's major version is newer: its semantics may have changed
    content_hash: str | None = None
    generator: str | None = None  # the tool (and version) that wrote it, where recorded
    requires_python: str | None = None
    doc: TomlDocument | None = field(default=None, repr=False)

    def locked(self) -> dict[str, list[LockedPackage]]:
        """Locked packages by normalised name."""
        out: dict[str, list[LockedPackage]] = {}
        for package in self.packages:
            out.setdefault(package.name, []).append(package)
        return out

    def line_of(self, *keys: str) -> int:
        if self.doc is not None:
            for end in range(len(keys), 0, -1):
                line = self.doc.line_of(*keys[:end])
                if line is not None:
                    return line
        return 1


# --- helpers ---------------------------------------------------------------------------------------------


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _name(value: Any) -> str | None:
    return canonicalize_name(value) if isinstance(value, str) and value.strip() else None


# Line numbers of [[package]] headers, one int object per number for all locks: every LockedPackage keeps
# its line, and a monorepo's locks put their packages on much the same lines. Bounded by the longest lock.
_LINE_NUMBERS: dict[int, int] = {}


def _table_lines(lines: list[str], header: str) -> list[int]:
    """1-based lines of each `[[header]]` array-of-tables entry, in order."""
    pattern = re.compile(r"^\s*\[\[\s*" + re.escape(header) + r"\s*\]\]\s*(#.*)?$")
    shared = _LINE_NUMBERS.setdefault
    return [shared(number, number) for number, line in enumerate(lines, start=1)
            if "[[" in line and pattern.match(line)]


def _line(lines: list[int], index: int) -> int:
    return lines[index] if index < len(lines) else 1


def _version_tuple(value: Any) -> tuple[int, ...] | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, str):
        try:
            return Version(value).release
        except InvalidVersion:
            return None
    return None


# --- uv.lock -------------------------------------------------------------------------------------------

_UV_SOURCE_KEYS = ("registry", "editable", "virtual", "directory", "path", "git", "url")
# Keys of a requires-dist entry that say the requirement comes from somewhere else than the default index.
_UV_SOURCED_KEYS = ("url", "git", "path", "directory", "editable", "index", "virtual", "workspace")


@dataclass(frozen=True)
class UvRequirement:
    """One requirement as uv.lock records the project's input (requires-dist, requires-dev, [manifest])."""

    name: str
    specifier: str | None
    marker: str | None
    extras: tuple[str, ...]
    sourced: bool  # recorded with a source (URL, git, path, editable, index, ...)
    # The recorded source: (key, value) of the first source key uv wrote (`("editable", "libs/helper")`,
    # `("git", "https://...?tag=v1")`, `("index", "https://...")`), and a direct URL's `subdirectory`.
    source: tuple[str, str] | None = None
    subdirectory: str | None = None


@dataclass
class UvProjectRecord:
    """A workspace member (or the single project) as uv.lock records it."""

    name: str
    version: str | None
    source_kind: str  # "editable", "virtual", "directory", ...
    path: str  # the member's folder relative to the lock's folder ("." for the root)
    requires_dist: list[UvRequirement]
    requires_dev: dict[str, list[UvRequirement]]
    provides_extras: list[str] | None  # None: not recorded
    has_metadata: bool
    line: int


@dataclass
class UvLock(Lockfile):
    revision: int = 0
    projects: list[UvProjectRecord] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)  # the raw [manifest] table
    # `supported-markers` ([tool.uv] environments) and `required-markers` (required-environments) as uv
    # wrote them, simplified; None: no key.
    supported_markers: list[str] | None = None
    required_markers: list[str] | None = None
    # The [[package]] tables as ED408's dependency walk reads them (rules/_drift.py), in file order: a table
    # whose LockedPackage says all the walk needs (a registry, git or URL package with only bare
    # `{ name = ... }` dependencies, most of a lock) is that LockedPackage; any other table (local projects,
    # dependencies with markers, extras or versions, optional dependencies, blank names) is kept, reduced to
    # the keys the walk reads. `doc.data` no longer holds the package tables.
    entries: list[LockedPackage | dict[str, Any]] = field(default_factory=list, repr=False)

    def manifest_requirements(self, key: str) -> list[UvRequirement]:
        return [r for r in (_uv_requirement(e) for e in _list(self.manifest.get(key))) if r is not None]

    def manifest_groups(self) -> dict[str, list[UvRequirement]] | None:
        groups = self.manifest.get("dependency-groups")
        if not isinstance(groups, dict):
            return None
        return {canonicalize_name(g): [r for r in (_uv_requirement(e) for e in _list(v)) if r is not None]
                for g, v in groups.items()}

    @property
    def manifest_members(self) -> list[str] | None:
        members = self.manifest.get("members")
        if not isinstance(members, list):
            return None
        return [canonicalize_name(m) for m in members if isinstance(m, str)]


def _uv_requirement(entry: Any) -> UvRequirement | None:
    if not isinstance(entry, dict):
        return None
    name = _name(entry.get("name"))
    if name is None:
        return None
    extras = entry.get("extras", entry.get("extra", []))
    return UvRequirement(
        name=name,
        specifier=_str(entry.get("specifier")),
        marker=_str(entry.get("marker")),
        extras=tuple(e for e in _list(extras) if isinstance(e, str)),
        sourced=any(key in entry for key in _UV_SOURCED_KEYS),
        source=next(((key, entry[key]) for key in _UV_SOURCED_KEYS if isinstance(entry.get(key), str)), None),
        subdirectory=_str(entry.get("subdirectory")),
    )


# Lines of a third-party `[[package]]` entry as uv writes them; a block of only such lines is read
# without the (pure-Python, slow) TOML parser. Anything else sends the block to the TOML parser.
_UV_KEY_RE = re.compile(r'^(name|version) = "([^"\\]*)"$')
_UV_SOURCE_RE = re.compile(r'^source = \{ (registry|git|url) = "([^"\\]*)" \}$')
_UV_DEPENDENCY_RE = re.compile(r'^    \{ name = "([^"\\]*)" \},$')
_UV_INLINE_TABLE_RE = re.compile(r'^    (\{.*\}),$')
_UV_MARKER_RE = re.compile(r'^    "([^"\\]*)",$')
_UV_ARTEFACT_RE = re.compile(r'^(sdist = \{.*\}|    \{ url = .*\},|    \{ path = .*\},)$')


class _UvBlock(NamedTuple):
    """A third-party `[[package]]` block read line by line: what its table holds (artefacts left out)."""

    name: str
    version: str | None  # None: no `version` key
    source_kind: str  # registry, git or url
    source: str
    dependencies: list[str | dict[str, Any]] | None  # a bare name, or the inline table; None: no key
    resolution_markers: list[str] | None  # None: no key

    def table(self) -> dict[str, Any]:
        """The block as the TOML parser reads it (without `sdist` and `wheels`)."""
        entry: dict[str, Any] = {"name": self.name}
        if self.version is not None:
            entry["version"] = self.version
        entry["source"] = _uv_source(self.source_kind, self.source)
        if self.dependencies is not None:
            entry["dependencies"] = [{"name": d} if isinstance(d, str) else d for d in self.dependencies]
        if self.resolution_markers is not None:
            entry["resolution-markers"] = self.resolution_markers
        return entry


def _uv_simple_block(lines: list[str]) -> _UvBlock | None:
    """The `[[package]]` block of a registry, git or URL package read line by line, or None when any
    line is not of the shapes uv writes (then the TOML parser reads the block)."""
    name = version = kind = location = None
    dependencies: list[str | dict[str, Any]] | None = None
    markers: list[str] | None = None
    in_list: str | None = None  # the multi-line array being read
    for line in lines[1:]:
        if in_list is not None:
            if line == "]":
                in_list = None
            elif in_list == "wheels":
                if not _uv_artefact(line):
                    return None
            elif in_list == "dependencies":
                match = _UV_DEPENDENCY_RE.match(line)
                if match:
                    dependencies.append(match.group(1))  # type: ignore[union-attr]
                else:
                    table = _uv_inline_table(line)
                    if table is None:
                        return None
                    dependencies.append(table)  # type: ignore[union-attr]
            elif (marker := _UV_MARKER_RE.match(line)):
                markers.append(marker.group(1))  # type: ignore[union-attr]
            else:
                return None
            continue
        if not line:
            continue
        key = _UV_KEY_RE.match(line)
        if key:
            if key.group(1) == "name":
                name = key.group(2)
            else:
                version = key.group(2)
        elif (source := _UV_SOURCE_RE.match(line)):
            kind, location = intern(source.group(1)), source.group(2)  # kept by every LockedPackage: one string
        elif line == "dependencies = [":
            in_list, dependencies = "dependencies", []
        elif line == "resolution-markers = [":
            in_list, markers = "resolution-markers", []
        elif line == "wheels = [":
            in_list = "wheels"
        elif not (line.startswith("sdist = {") and _uv_artefact(line)):
            return None
    if in_list is not None or name is None or kind is None:
        return None
    return _UvBlock(name, version, kind, location, dependencies, markers)  # type: ignore[arg-type]


def _uv_artefact(line: str) -> bool:
    """`_UV_ARTEFACT_RE.match(line)` by string tests (real locks list dozens of wheels per package). Each
    prefix ends otherwise than its suffix starts, so a line with both holds `.*` between them."""
    if line.endswith("},"):
        return line.startswith(("    { url = ", "    { path = "))
    return line.endswith("}") and line.startswith("sdist = {")


@lru_cache(maxsize=256)
def _uv_source(kind: str, location: str) -> dict[str, str]:
    """Nearly every package of a lock names the same index: one shared (never modified) table for it, not
    one per package (a monorepo's locks hold hundreds of thousands)."""
    return {kind: location}


def _uv_inline_table(line: str) -> dict[str, Any] | None:
    """A `{ ... }` line of a dependencies array other than the bare `{ name = ... }` (markers, extras,
    versions), through the TOML parser, one line at a time."""
    table = _UV_INLINE_TABLE_RE.match(line)
    if table is None:
        return None
    try:
        value = parse_toml("v = " + table.group(1)).data.get("v")
    except SourceError:
        return None
    return value if isinstance(value, dict) else None


def _uv_lock_blocks(text: str) -> tuple[TomlDocument, list[_UvBlock | dict[str, Any]] | None]:
    """uv.lock's header, and its `[[package]]` tables in order: each block uv wrote in its usual shape
    read line by line (an `_UvBlock`), every other block (local projects with their metadata, optional or
    dev dependencies) through the TOML parser. (document, None) when the file is read whole by the TOML
    parser: no `[[package]]` line, a `package` key outside the blocks, or tables other than [[package]]
    and its subtables. A block the TOML parser rejects is an error (ED001) at its real line, since each
    block is parsed with blank lines standing in for the lines before it."""
    lines = split_lines(text)
    starts = [i for i, line in enumerate(lines) if line == "[[package]]"]
    if not starts:
        return parse_toml(text), None
    header = parse_toml("\n".join(lines[: starts[0]]))
    if "package" in header.data:  # a `package` key outside the blocks: leave such a file to the TOML parser
        return parse_toml(text), None
    packages: list[_UvBlock | dict[str, Any]] = []
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(lines)
        block = lines[start:end]
        simple = _uv_simple_block(block)
        if simple is None:
            # Blank lines before the block keep the TOML parser's line numbers those of the file.
            parsed = parse_toml("\n" * start + "\n".join(block)).data
            tables = parsed.get("package")
            if not isinstance(tables, list) or len(tables) != 1 or set(parsed) != {"package"}:
                return parse_toml(text), None  # tables other than [[package]] and its subtables: read it whole
            packages.append(tables[0])
        else:
            packages.append(simple)
    return TomlDocument(header.data, lines), packages


def _read_uv_lock(text: str) -> TomlDocument:
    """uv.lock as parse_toml would return it (without the `sdist` and `wheels` of the blocks read line by
    line, which nothing reads), but faster: see `_uv_lock_blocks`. Line numbers are those of the file."""
    doc, packages = _uv_lock_blocks(text)
    if packages is not None:
        doc.data["package"] = [p.table() if isinstance(p, _UvBlock) else p for p in packages]
    return doc


def parse_uv_lock(text: str, rel: str) -> UvLock:
    doc, blocks = _uv_lock_blocks(text)
    data = doc.data
    lock = UvLock(rel, "uv", doc=doc, generator="uv")
    version, revision = data.get("version"), data.get("revision", 0)
    lock.format_version = f"{version}" + (f", revision {revision}" if "revision" in data else "")
    if isinstance(revision, int) and not isinstance(revision, bool):
        lock.revision = revision
    if not isinstance(version, int) or isinstance(version, bool):
        lock.unknown_version = "has no integer `version`; it was read as uv.lock version 1"
    elif (version, lock.revision) > UV_LOCK_VERSION:
        known = f"version {UV_LOCK_VERSION[0]}, revision {UV_LOCK_VERSION[1]}"
        lock.unknown_version = (f"is uv.lock version {version}, revision {lock.revision}, newer than the "
                                f"{known} this envdoctor knows; it was read as far as possible")
        lock.newer_major = version > UV_LOCK_VERSION[0]
    lock.requires_python = _str(data.get("requires-python"))
    lock.manifest = _dict(data.get("manifest"))
    for key, attribute in (("supported-markers", "supported_markers"), ("required-markers", "required_markers")):
        markers = data.get(key)
        if isinstance(markers, list) and all(isinstance(m, str) for m in markers):
            setattr(lock, attribute, list(markers))
        elif markers is not None:
            setattr(lock, attribute, ["<unreadable>"])
    lines = _table_lines(doc.lines, "package")
    entries: list[LockedPackage | dict[str, Any]] = []
    names: dict[str, str | None] = {}  # as written -> normalised and interned (each name is written often)

    def normalised(value: Any) -> str | None:
        if not isinstance(value, str):
            return None
        name = names.get(value, "")
        if name == "":
            name = names[value] = _interned_name(value)
        return name

    for index, entry in enumerate(_list(data.get("package")) if blocks is None else blocks):
        if isinstance(entry, _UvBlock):
            # The common case, without building the table: a registry, git or URL package.
            name = normalised(entry.name)
            if name is None:  # a blank name: no package, but the walk sees it
                entries.append(_uv_walk_table(entry.table()))
                continue
            dependencies: tuple[str, ...] = ()
            plain = True
            if entry.dependencies:
                found = [normalised(d) if isinstance(d, str) else normalised(d.get("name"))
                         for d in entry.dependencies]
                dependencies = tuple(n for n in found if n)
                plain = len(dependencies) == len(found) and all(
                    isinstance(d, str) or (len(d) == 1 and "name" in d) for d in entry.dependencies)
            package = LockedPackage(
                name=name, version=intern(entry.version) if entry.version is not None else None, marker=None,
                groups=(), line=_line(lines, index), source=entry.source_kind, dependencies=dependencies,
            )
            lock.packages.append(package)
            entries.append(package if plain else _uv_walk_table(entry.table()))
            continue
        if not isinstance(entry, dict):
            continue
        name = normalised(entry.get("name"))
        if name is None:
            if isinstance(entry.get("name"), str):
                entries.append(_uv_walk_table(entry))  # a blank name: no package, but the walk sees it
            continue
        source = _dict(entry.get("source"))
        source_kind = next((k for k in _UV_SOURCE_KEYS if k in source), None)
        line = _line(lines, index)
        dependencies = tuple(n for n in (normalised(_dict(d).get("name")) for d in _list(entry.get("dependencies")))
                             if n)
        location = source.get(source_kind) if source_kind in ("editable", "virtual", "directory", "path") else None
        version = entry.get("version")
        package = LockedPackage(
            name=name, version=intern(version) if isinstance(version, str) else None, marker=None, groups=(),
            line=line, source=source_kind, dependencies=dependencies,
            location=location if isinstance(location, str) else None,
        )
        lock.packages.append(package)
        entries.append(package if _uv_plain(entry, source, dependencies) else _uv_walk_table(entry))
        if source_kind in ("editable", "virtual", "directory") and isinstance(source.get(source_kind), str):
            metadata = entry.get("metadata")
            lock.projects.append(_uv_project(name, entry, source_kind, source[source_kind], metadata, line))
    lock.entries = entries
    # The package tables are now in `packages` and `entries`; the raw ones (their artefact lists, hashes
    # and URLs) would be most of a monorepo's memory, kept for nothing.
    data.pop("package", None)
    return lock


def _interned_name(value: Any) -> str | None:
    """`_name`, interned: a name is written once per lock it is in and once per package requiring it, and a
    monorepo's locks name the same packages again and again; one string for all of them."""
    name = _name(value)
    return intern(name) if name is not None else None


# The keys of a [[package]] table that ED408's dependency walk reads (rules/_drift.py).
_UV_WALK_KEYS = ("name", "version", "source", "dependencies", "optional-dependencies", "dev-dependencies")


def _uv_walk_table(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: entry[key] for key in _UV_WALK_KEYS if key in entry}


def _uv_plain(entry: dict[str, Any], source: dict[str, Any], dependencies: tuple[str, ...]) -> bool:
    """Whether the walk learns nothing from the table that its LockedPackage does not hold: not a local
    source (which may be the root), a string version or none, no optional or dev dependencies, and only
    bare `{ name = ... }` dependencies, every one of them in `dependencies`."""
    if any(key in source for key in ("editable", "virtual", "directory")):
        return False
    if "optional-dependencies" in entry or "dev-dependencies" in entry:
        return False
    if not isinstance(entry.get("version", ""), str):
        return False
    listed = entry.get("dependencies", [])
    return (isinstance(listed, list) and len(listed) == len(dependencies)
            and all(isinstance(d, dict) and len(d) == 1 and "name" in d for d in listed))


def _uv_project(name: str, entry: dict[str, Any], kind: str, path: str, metadata: Any, line: int) -> UvProjectRecord:
    metadata = _dict(metadata)
    requires_dev = {
        canonicalize_name(group): [r for r in (_uv_requirement(e) for e in _list(entries)) if r is not None]
        for group, entries in _dict(metadata.get("requires-dev")).items()
    }
    extras = metadata.get("provides-extras")
    return UvProjectRecord(
        name=name,
        version=_str(entry.get("version")),
        source_kind=kind,
        path=_clean_path(path),
        requires_dist=[r for r in (_uv_requirement(e) for e in _list(metadata.get("requires-dist"))) if r],
        requires_dev=requires_dev,
        provides_extras=[canonicalize_name(e) for e in extras if isinstance(e, str)] if isinstance(extras, list) else None,
        has_metadata="metadata" in entry,
        line=line,
    )


def _clean_path(path: str) -> str:
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    return "/".join(parts) or "."


# --- poetry.lock -----------------------------------------------------------------------------------------

_POETRY_GENERATOR_RE = re.compile(r"Poetry ([^ ]+)")


@dataclass
class PoetryLock(Lockfile):
    generator_version: Version | None = None  # from the first comment line
    python_versions: str | None = None  # [metadata] python-versions: the project's Python constraint


def parse_poetry_lock(text: str, rel: str) -> PoetryLock:
    doc = parse_toml(text)
    data = doc.data
    lock = PoetryLock(rel, "poetry", doc=doc)
    first = doc.lines[0] if doc.lines else ""
    match = _POETRY_GENERATOR_RE.search(first)
    if match:
        lock.generator = f"Poetry {match.group(1)}"
        try:
            lock.generator_version = Version(match.group(1))
        except InvalidVersion:
            pass
    metadata = _dict(data.get("metadata"))
    lock.content_hash = _str(metadata.get("content-hash"))
    lock.python_versions = _str(metadata.get("python-versions"))
    lock.requires_python = lock.python_versions
    version = _str(metadata.get("lock-version"))
    lock.format_version = version
    try:
        parsed = Version(version) if version else None
    except InvalidVersion:
        parsed = None
    if parsed is not None and parsed > POETRY_LOCK_VERSION:
        lock.unknown_version = (f"is poetry.lock format {version}, newer than the {POETRY_LOCK_VERSION} this "
                                f"envdoctor knows; it was read as far as possible")
        lock.newer_major = parsed.major > POETRY_LOCK_VERSION.major
    lines = _table_lines(doc.lines, "package")
    for index, entry in enumerate(_list(data.get("package"))):
        if not isinstance(entry, dict) or _name(entry.get("name")) is None:
            continue
        # lock-version 2.1 records groups; older locks a category ("main"/"dev"); else unknown: ().
        groups = tuple(g for g in _list(entry.get("groups")) if isinstance(g, str))
        if not groups and isinstance(entry.get("category"), str):
            groups = (entry["category"],)
        markers = entry.get("markers")
        if isinstance(markers, dict):  # per-group markers (lock format 2.1)
            distinct = {m for m in markers.values() if isinstance(m, str)}
            marker = distinct.pop() if len(distinct) == 1 and len(markers) == len(groups) else None
        else:
            marker = _str(markers)
        source = _dict(entry.get("source"))
        lock.packages.append(LockedPackage(
            name=_interned_name(entry.get("name")) or "", version=_str(entry.get("version")), marker=marker,
            groups=groups, line=_line(lines, index), source=_str(source.get("type")) or "registry",
            location=_str(source.get("url")) if source.get("type") == "directory" else None,
            dependencies=tuple(intern(canonicalize_name(d)) for d in _dict(entry.get("dependencies")) if isinstance(d, str)),
        ))
    # ED408 reads these keys of the package tables (rules/_drift.py); the rest (file hashes, sources) is
    # in `packages` or read by no one.
    data["package"] = [{k: e[k] for k in _POETRY_WALK_KEYS if k in e} if isinstance(e, dict) else e
                       for e in _list(data.get("package"))]
    return lock


_POETRY_WALK_KEYS = ("name", "version", "optional", "groups", "markers")


# --- pdm.lock ----------------------------------------------------------------------------------------------


@dataclass
class PdmLock(Lockfile):
    groups: list[str] = field(default_factory=list)  # [metadata] groups: what was locked
    has_lock_inputs: bool = False  # PDM's opt-in lock_inputs record (freshness is then not hash-based)


def parse_pdm_lock(text: str, rel: str) -> PdmLock:
    doc = parse_toml(text)
    data = doc.data
    lock = PdmLock(rel, "pdm", doc=doc, generator="PDM")
    metadata = _dict(data.get("metadata"))
    lock.content_hash = _str(metadata.get("content_hash"))
    lock.groups = [canonicalize_name(g) for g in _list(metadata.get("groups")) if isinstance(g, str)]
    lock.has_lock_inputs = "lock_inputs" in metadata
    version = _str(metadata.get("lock_version"))
    lock.format_version = version
    parsed = _version_tuple(version)
    if parsed is not None and (parsed + (0,))[:2] > PDM_LOCK_VERSION:
        lock.unknown_version = (f"is pdm.lock format {version}, newer than the "
                                f"{PDM_LOCK_VERSION[0]}.{PDM_LOCK_VERSION[1]} this envdoctor knows; it was read as "
                                f"far as possible")
        lock.newer_major = parsed[0] > PDM_LOCK_VERSION[0]
    targets = [_str(_dict(t).get("requires_python")) for t in _list(metadata.get("targets"))]
    lock.requires_python = next((t for t in targets if t), None)
    lines = _table_lines(doc.lines, "package")
    for index, entry in enumerate(_list(data.get("package"))):
        if not isinstance(entry, dict) or _name(entry.get("name")) is None:
            continue
        dependencies = []
        for dependency in _list(entry.get("dependencies")):
            if isinstance(dependency, str):
                name = _requirement_name(dependency)
                if name:
                    dependencies.append(name)
        source = "registry"
        for key in ("editable", "path", "git", "url", "revision"):
            if key in entry:
                source = "git" if key == "revision" else key
                break
        lock.packages.append(LockedPackage(
            name=_interned_name(entry.get("name")) or "", version=_str(entry.get("version")),
            location=_str(entry.get("path")),
            marker=_str(entry.get("marker")), groups=tuple(g for g in _list(entry.get("groups")) if isinstance(g, str)),
            line=_line(lines, index), source=source, dependencies=tuple(dependencies),
        ))
    data.pop("package", None)  # read into `packages`; the tables (file hashes) are read by no one
    return lock


def _requirement_name(text: str) -> str | None:
    """pep508.requirement_name, interned (a lock repeats each name many times)."""
    name = requirement_name(text)
    return intern(name) if name else None


# --- pylock.toml (PEP 751) ------------------------------------------------------------------------------


@dataclass
class PyLock(Lockfile):
    created_by: str | None = None
    extras: list[str] = field(default_factory=list)
    dependency_groups: list[str] = field(default_factory=list)


def parse_pylock(text: str, rel: str) -> PyLock:
    doc = parse_toml(text)
    data = doc.data
    lock = PyLock(rel, "pylock", doc=doc)
    version = data.get("lock-version")
    lock.format_version = str(version) if version is not None else None
    try:
        parsed = Version(str(version)) if version is not None else None
    except InvalidVersion:
        parsed = None
    if parsed is not None and parsed > PYLOCK_VERSION:
        lock.unknown_version = (f"is pylock lock-version {version}, newer than the {PYLOCK_VERSION} this "
                                f"envdoctor knows; it was read as far as possible")
        lock.newer_major = parsed.major > PYLOCK_VERSION.major
    lock.created_by = _str(data.get("created-by"))
    lock.generator = lock.created_by
    lock.requires_python = _str(data.get("requires-python"))
    lock.extras = [canonicalize_name(e) for e in _list(data.get("extras")) if isinstance(e, str)]
    lock.dependency_groups = [canonicalize_name(g) for g in _list(data.get("dependency-groups")) if isinstance(g, str)]
    lines = _table_lines(doc.lines, "packages")
    for index, entry in enumerate(_list(data.get("packages"))):
        if not isinstance(entry, dict) or _name(entry.get("name")) is None:
            continue
        source = next((k for k in ("vcs", "directory", "archive", "sdist", "wheels") if k in entry), None)
        lock.packages.append(LockedPackage(
            name=_interned_name(entry.get("name")) or "", version=_str(entry.get("version")), marker=_str(entry.get("marker")),
            line=_line(lines, index), source={"sdist": "registry", "wheels": "registry"}.get(source or "", source),
            dependencies=tuple(n for n in (_interned_name(_dict(d).get("name")) for d in _list(entry.get("dependencies"))) if n),
        ))
    data.pop("packages", None)  # read into `packages`; the tables (artefacts, hashes) are read by no one
    return lock


# --- Pipfile and Pipfile.lock -------------------------------------------------------------------------------

PIPFILE_SECTIONS = frozenset({"source", "packages", "dev-packages", "requires", "scripts", "pipfile", "pipenv"})


@dataclass
class Pipfile:
    """A Pipfile: package categories ([packages], [dev-packages], custom ones), sources and [requires]."""

    path: str
    doc: TomlDocument

    @property
    def data(self) -> dict[str, Any]:
        return self.doc.data

    @property
    def categories(self) -> dict[str, dict[str, Any]]:
        """Category name as written -> {package name as written: specification}."""
        out: dict[str, dict[str, Any]] = {}
        for key, value in self.data.items():
            if key in PIPFILE_SECTIONS - {"packages", "dev-packages"} or key in ("default", "develop"):
                continue
            if isinstance(value, dict):
                out[key] = value
        return out

    def line_of(self, *keys: str) -> int:
        return self.doc.line_near(*keys)


def parse_pipfile(text: str, rel: str) -> Pipfile:
    return Pipfile(rel, parse_toml(text))


def pipfile_lock_section(category: str) -> str:
    """The Pipfile.lock section of a Pipfile category."""
    return {"packages": "default", "dev-packages": "develop"}.get(category, category)


@dataclass
class PipfileLock(Lockfile):
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)  # default, develop, custom categories
    meta: dict[str, Any] = field(default_factory=dict)  # _meta

    def section_line(self, section: str, name: str | None = None) -> int:
        return self._lines.get((section, name), self._lines.get((section, None), 1))

    _lines: dict[tuple[str, str | None], int] = field(default_factory=dict, repr=False)


_JSON_KEY_RE = re.compile(r'^(\s*)"((?:[^"\\]|\\.)*)"\s*:')


def parse_pipfile_lock(text: str, rel: str) -> PipfileLock:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LockfileError(f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})",
                            (exc.lineno, exc.colno)) from None
    except RecursionError:
        raise LockfileError("is not valid JSON: nested too deeply", (1, 1)) from None
    if not isinstance(data, dict):
        raise LockfileError("is not a Pipfile.lock: the top level is not an object", (1, 1))
    lock = PipfileLock(rel, "pipenv", generator="pipenv")
    lock.meta = _dict(data.get("_meta"))
    lock.content_hash = _str(_dict(lock.meta.get("hash")).get("sha256"))
    spec = lock.meta.get("pipfile-spec")
    lock.format_version = str(spec) if spec is not None else None
    if isinstance(spec, int) and not isinstance(spec, bool) and spec > PIPFILE_SPEC:
        lock.unknown_version = (f"is Pipfile.lock pipfile-spec {spec}, newer than the {PIPFILE_SPEC} this "
                                f"envdoctor knows; it was read as far as possible")
        lock.newer_major = True
    # Line numbers: pipenv writes one key per line, sections at the first indentation level, packages at
    # the second. Minified files get line 1.
    section: str | None = None
    section_indent = None
    for number, line in enumerate(split_lines(text), start=1):
        match = _JSON_KEY_RE.match(line)
        if not match:
            continue
        indent, key = len(match.group(1)), match.group(2)
        if section_indent is None or indent <= section_indent:
            section_indent = indent
            section = key
            lock._lines.setdefault((key, None), number)
        elif section is not None:
            lock._lines.setdefault((section, key), number)
    for key, value in data.items():
        if key == "_meta" or not isinstance(value, dict):
            continue
        lock.sections[key] = value
        for name, entry in value.items():
            entry = _dict(entry)
            version = _str(entry.get("version"))
            if version and version.startswith("=="):
                version = version[2:]
            source = next((k for k in ("git", "hg", "svn", "bzr", "path", "file") if k in entry), "registry")
            lock.packages.append(LockedPackage(
                name=canonicalize_name(name), version=version, marker=_str(entry.get("markers")), groups=(key,),
                line=lock.section_line(key, name), source=source,
            ))
    return lock


# --- conda-lock --------------------------------------------------------------------------------------------


@dataclass
class CondaLock(Lockfile):
    platforms: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # the environment files it was rendered from


def parse_conda_lock(text: str, rel: str) -> CondaLock:
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        loader = loader_class(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:  # the message and position every YAML source gives (ED001)
        from envdoctor.sources.workflows import yaml_error

        raise LockfileError(*yaml_error(exc, text)) from None
    except RecursionError:
        raise LockfileError("is not valid YAML: nested too deeply", (1, 1)) from None
    lock = CondaLock(rel, "conda-lock", generator="conda-lock")
    if not isinstance(data, dict):
        return lock
    version = data.get("version")
    lock.format_version = str(version) if version is not None else None
    if isinstance(version, int) and not isinstance(version, bool) and version > CONDA_LOCK_VERSION:
        lock.unknown_version = (f"is conda-lock version {version}, newer than the {CONDA_LOCK_VERSION} this "
                                f"envdoctor knows; it was read as far as possible")
        lock.newer_major = True
    metadata = _dict(data.get("metadata"))
    lock.platforms = [p for p in _list(metadata.get("platforms")) if isinstance(p, str)]
    lock.sources = [s for s in _list(metadata.get("sources")) if isinstance(s, str)]
    hashes = metadata.get("content_hash")
    if isinstance(hashes, dict):
        lock.content_hash = ",".join(f"{k}:{v}" for k, v in sorted(hashes.items()) if isinstance(v, str))
    package_lines: list[int] = []
    if node is not None and hasattr(node, "value") and isinstance(node.value, list):
        for key_node, value_node in node.value:
            if getattr(key_node, "value", None) == "package" and isinstance(getattr(value_node, "value", None), list):
                package_lines = [item.start_mark.line + 1 for item in value_node.value]
    for index, entry in enumerate(_list(data.get("package"))):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        manager = _str(entry.get("manager")) or "conda"
        name = entry["name"]
        lock.packages.append(LockedPackage(
            name=canonicalize_name(name) if manager == "pip" else name.lower(),
            version=str(entry["version"]) if isinstance(entry.get("version"), (str, int, float)) else None,
            groups=tuple(g for g in (_str(entry.get("category")),) if g),
            line=_line(package_lines, index), source=manager, platform=_str(entry.get("platform")),
            dependencies=tuple(str(d).lower() for d in _dict(entry.get("dependencies"))),
        ))
    return lock


# --- requirements files as locks ---------------------------------------------------------------------------

_COMMAND_INTRO_RE = re.compile(r"(autogenerated by .*following command|by the following command)", re.IGNORECASE)


@dataclass
class RequirementsLock(Lockfile):
    """A requirements file read as a (possible) lock: what pins it holds and how it was produced."""

    requirements: RequirementsFile | None = None
    command: str | None = None  # the command in the autogenerated header, as written
    tool: str | None = None  # "pip-compile", "uv pip compile", "uv export", "pdm export", or None
    via: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name -> its "# via" annotations
    header: tuple[str, ...] = ()

    @property
    def fully_pinned(self) -> bool:
        """Every requirement pinned to one version (`==`, `===`, a direct reference); editable installs of
        folders in the repository (`-e ./libs/x`, as `uv export` writes for path dependencies) are allowed."""
        if self.requirements is None:
            return False
        lines = [r for r in self.requirements.requirements if not (r.editable and _local_path(r.text))]
        return bool(lines) and all(r.pinned for r in lines)

    @property
    def hashed(self) -> bool:
        return self.requirements is not None and self.requirements.hashed

    @property
    def annotated(self) -> bool:
        return bool(self.via)

    @property
    def command_words(self) -> list[str]:
        if not self.command:
            return []
        try:
            return shlex.split(self.command)
        except ValueError:
            return self.command.split()

    @property
    def inputs(self) -> list[str]:
        """The input files named by a compile command (requirements.in, pyproject.toml, ...), as written."""
        words = self.command_words
        if self.tool not in ("pip-compile", "uv pip compile"):
            return []
        start = 1 if self.tool == "pip-compile" else 3
        with_value = {"-o", "--output-file", "-c", "--constraint", "--constraints", "-p", "--python",
                      "--python-version", "-i", "--index-url", "--extra-index-url", "--extra", "-f",
                      "--find-links", "--override", "--overrides", "--build-constraint", "--build-constraints",
                      "--cache-dir", "--pip-args", "--resolver", "--annotation-style", "--python-platform",
                      "--group", "--index", "--default-index", "--exclude-newer", "--config-file", "--custom-compile-command",
                      "--prerelease", "--resolution", "--index-strategy", "--keyring-provider", "--unsafe-package",
                      "--upgrade-package", "-P", "--no-emit-package", "--emit-index-annotation", "--torch-backend"}
        out: list[str] = []
        skip = False
        for word in words[start:]:
            if skip:
                skip = False
                continue
            if word.startswith("-"):
                if "=" not in word and word in with_value:
                    skip = True
                continue
            out.append(word)
        return out


def _local_path(text: str) -> bool:
    return text.startswith((".", "/", "file:")) and "://" not in text.replace("file://", "")


def read_requirements_lock(text: str, rel: str) -> RequirementsLock:
    requirements = parse_requirements(text, rel)
    lock = RequirementsLock(rel, "requirements", requirements=requirements)
    lines = split_lines(text)
    header: list[str] = []
    for line in lines:
        stripped = line.strip()
        if not stripped:
            if header:
                header.append("")
            continue
        if not stripped.startswith("#"):
            break
        header.append(stripped.lstrip("#").strip())
    lock.header = tuple(header)
    for index, line in enumerate(header):
        if _COMMAND_INTRO_RE.search(line):
            command = next((h for h in header[index + 1:] if h), None)
            if command:
                lock.command = command
            break
    words = lock.command_words
    if words[:1] == ["pip-compile"] or (words and words[0].endswith("/pip-compile")):
        lock.tool = "pip-compile"
    elif words[:3] == ["uv", "pip", "compile"]:
        lock.tool = "uv pip compile"
    elif words[:2] == ["uv", "export"]:
        lock.tool = "uv export"
    elif any("@generated by PDM" in h or "generated by PDM" in h for h in header):
        lock.tool = "pdm export"
    lock.generator = lock.tool
    # "# via" annotations, in pip-compile's two styles: `# via x` and `# via` + `#   x` lines.
    starts = {r.line: r.name for r in requirements.requirements if r.name}
    current: str | None = None
    listing = False
    for number, line in enumerate(lines, start=1):
        if number in starts:
            current, listing = starts[number], False
            continue
        stripped = line.strip()
        if not stripped.startswith("#"):
            if stripped:
                listing = False
            continue
        body = stripped.lstrip("#").strip()
        if current is None:
            continue
        if body == "via":
            listing = True
        elif body.startswith("via "):
            lock.via.setdefault(current, ())
            lock.via[current] += (body[4:].strip(),)
            listing = False
        elif listing and body:
            lock.via[current] = lock.via.get(current, ()) + (body,)
    for requirement in requirements.requirements:
        if requirement.name is None or requirement.requirement is None:
            continue
        version = None
        specifiers = list(requirement.requirement.specifier)
        if requirement.pinned and len(specifiers) == 1:
            version = specifiers[0].version
        marker = str(requirement.requirement.marker) if requirement.requirement.marker else None
        lock.packages.append(LockedPackage(
            name=requirement.name, version=version, marker=marker, line=requirement.line,
            source="url" if requirement.requirement.url else "registry",
        ))
    return lock


# --- dispatch ----------------------------------------------------------------------------------------------


def lockfile_kind(rel: str) -> str | None:
    """The lock kind of a file name (None for the Pipfile and other names)."""
    name = rel.rpartition("/")[2]
    if name == "uv.lock":
        return "uv"
    if name == "poetry.lock":
        return "poetry"
    if name == "pdm.lock":
        return "pdm"
    if name == "Pipfile.lock":
        return "pipenv"
    if name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml")):
        return "pylock"
    if name == "conda-lock.yml" or name.endswith(".conda-lock.yml"):
        return "conda-lock"
    return None


_PARSERS = {
    "uv": parse_uv_lock,
    "poetry": parse_poetry_lock,
    "pdm": parse_pdm_lock,
    "pylock": parse_pylock,
    "pipenv": parse_pipfile_lock,
    "conda-lock": parse_conda_lock,
}


def parse_lockfile(text: str, rel: str) -> Lockfile:
    """Read a lockfile of any kind `lockfile_kind` knows; SourceError if it is not a lockfile at all."""
    kind = lockfile_kind(rel)
    if kind is None:
        raise SourceError("is not a lockfile envdoctor knows")
    lock = _PARSERS[kind](text, rel)
    if lock.doc is not None and not lock.unknown_version:
        # A monorepo holds hundreds of large locks, and once read only their data is consulted: their lines
        # would be most of the scan's memory. ED207, the one rule pointing into a lock, needs the lines
        # only of locks with an unknown version, which keep them.
        lock.doc.drop_lines()
    return lock


def requirement_of(text: str) -> Requirement | None:
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None
