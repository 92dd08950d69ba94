"""Is a lockfile still the lock of what its project declares? Decided statically, as each tool decides it.

- uv.lock records its inputs (each member's requires-dist with each requirement's source, requires-dev,
  provides-extras, version and source kind; the workspace's requires-python, members, constraints and
  overrides): they are compared
  with the pyproject.toml files after normalisation (PEP 503 names, extras as sets, specifiers by the
  versions they admit, markers by meaning within requires-python), as `uv lock --check` does.
- poetry.lock and pdm.lock carry a content hash of the relevant pyproject content, Pipfile.lock a hash
  of the Pipfile: the same hash is computed here (`poetry_content_hash`, `pdm_content_hash`,
  `pipfile_hash`) and a mismatch is stale. What changed is then named where the lock allows it
  (a declared package not locked, a locked version outside the declared range, a locked top-level
  package nothing needs any more).
- A requirements file compiled from `requirements.in` (or pyproject.toml) by pip-compile or
  `uv pip compile`, a `uv export` of the project, and pylock.toml are compared name by name.

Each check returns `Staleness` values naming the changes with the manifest line of each; an empty list
means "not stale, or cannot tell". Precision first: when the input cannot be read with certainty, say
nothing.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING, Any, Iterable

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from envdoctor.sources.lockfiles import (
    PdmLock,
    PipfileLock,
    PoetryLock,
    PyLock,
    RequirementsLock,
    UvLock,
    UvProjectRecord,
    UvRequirement,
    pipfile_lock_section,
    read_requirements_lock,
)
from envdoctor.sources.pep508 import (
    has_prerelease_bound,
    markers_equivalent,
    normalize_extras,
    normalize_specifier,
    specifiers_equivalent,
)
from envdoctor.sources.projects import (
    Declared,
    PythonProject,
    entry_lines,
    is_file,
    pep621_declarations,
    workspace_includes,
)
from envdoctor.sources.pyproject import PyProject, parse_pyproject

if TYPE_CHECKING:
    from envdoctor.project import Project

POETRY_GROUPS_IN_HASH_SINCE = Version("2.3.0")


@dataclass(frozen=True)
class Change:
    description: str  # e.g. "'httpx>=0.27' was added"
    path: str  # the manifest where the change is
    line: int


@dataclass
class Staleness:
    lock: str  # the stale lockfile
    manifest: str  # the manifest it no longer matches
    changes: list[Change] = field(default_factory=list)
    reason: str | None = None  # for hash-based locks: the hash mismatch, when no change could be named
    line_hint: int = 1  # where a finding without a named change goes (the manifest's dependency table)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        unique = []
        for change in self.changes:
            if change.description not in seen:
                seen.add(change.description)
                unique.append(change)
        self.changes = unique

    @property
    def line(self) -> int:
        return self.changes[0].line if self.changes else self.line_hint

    @property
    def path(self) -> str:
        return self.changes[0].path if self.changes else self.manifest


# --- hashes ------------------------------------------------------------------------------------------------

_POETRY_LEGACY_KEYS = ("dependencies", "source", "extras", "dev-dependencies")
_POETRY_RELEVANT_KEYS = (*_POETRY_LEGACY_KEYS, "group")
_POETRY_PROJECT_KEYS = ("requires-python", "dependencies", "optional-dependencies")


def _sha256(data: bytes) -> str:
    import hashlib  # here, not at start-up: only Poetry, PDM and Pipfile locks record a content hash

    return hashlib.sha256(data).hexdigest()


def _json_default(value: Any) -> str:
    return str(value)  # TOML dates and times: the tools would fail; do not crash


def poetry_content_hash(data: dict[str, Any], *, with_dependency_groups: bool = True) -> str:
    """poetry.lock's `content-hash` of a pyproject.toml's data (Poetry's Locker._get_content_hash)."""
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    groups = data.get("dependency-groups", {}) if with_dependency_groups else {}
    tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
    poetry = tool.get("poetry") if isinstance(tool.get("poetry"), dict) else {}
    relevant_project = {k: project[k] for k in _POETRY_PROJECT_KEYS if project.get(k) is not None}
    relevant_poetry: dict[str, Any] = {}
    for key in _POETRY_RELEVANT_KEYS:
        value = poetry.get(key)
        if value is None and (key not in _POETRY_LEGACY_KEYS or relevant_project or groups):
            continue
        relevant_poetry[key] = value
    content: dict[str, Any] = {}
    if relevant_project:
        content["project"] = relevant_project
    if groups:
        content["dependency-groups"] = groups
    if content:
        content["tool"] = {"poetry": relevant_poetry}
    else:
        content = relevant_poetry
    return _sha256(json.dumps(content, sort_keys=True, default=_json_default).encode())


def pdm_content_hash(data: dict[str, Any]) -> str:
    """pdm.lock's `content_hash` value (without the "sha256:" prefix) of a pyproject.toml's data."""
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
    pdm = tool.get("pdm") if isinstance(tool.get("pdm"), dict) else {}
    groups: dict[str, list[Any]] = {}
    for group, deps in (data.get("dependency-groups") or {}).items():
        groups[canonicalize_name(group)] = list(deps) if isinstance(deps, list) else deps
    for group, deps in (pdm.get("dev-dependencies") or {}).items():
        existing = groups.setdefault(canonicalize_name(group), [])
        if isinstance(existing, list) and isinstance(deps, list):
            existing.extend(deps)
    dump = {
        "sources": pdm.get("source", []),
        "dependencies": project.get("dependencies", []),
        "dev-dependencies": groups,
        "optional-dependencies": project.get("optional-dependencies", {}),
        "requires-python": project.get("requires-python", ""),
        "resolution": pdm.get("resolution", {}),
    }
    return _sha256(json.dumps(dump, sort_keys=True, default=_json_default).encode("utf-8"))


_PIPFILE_SKIPPED = frozenset({"source", "packages", "dev-packages", "requires", "scripts", "pipfile", "pipenv",
                              "default", "develop"})


def pipfile_hash(data: dict[str, Any], *, canonical_names: bool, default_sources: Any = None) -> str | None:
    """Pipfile.lock's `_meta.hash.sha256` of a Pipfile's data: plette's algorithm (`canonical_names=False`,
    pipenv before 2026) or pipenv's current one (package names PEP 503-normalised). A Pipfile without
    [[source]] is hashed with the default source pipenv inserts; it is taken from the lock
    (`default_sources`), and None is returned when that is not known."""
    sources = data.get("source", default_sources)
    if sources is None:
        return None

    def section(value: Any) -> Any:
        if canonical_names and isinstance(value, dict):
            return {canonicalize_name(k): v for k, v in value.items()}
        return value

    content: dict[str, Any] = {
        "_meta": {"sources": sources, "requires": data.get("requires", {})},
        "default": section(data.get("packages", {})),
        "develop": section(data.get("dev-packages", {})),
    }
    for category, values in data.items():
        if category not in _PIPFILE_SKIPPED:
            content[category] = section(values)
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=_json_default)
    return _sha256(text.encode("utf-8"))


# --- Poetry version constraints ------------------------------------------------------------------------------


def poetry_constraint(text: str) -> list[SpecifierSet] | None:
    """A Poetry constraint (`^1.2`, `~1.2`, `1.2.*`, `>=1,<2`, `1.0 || 2.0`) as alternatives of specifier
    sets; None if it cannot be read."""
    text = text.strip()
    if text in ("", "*"):
        return [SpecifierSet()]
    out = []
    for alternative in re.split(r"\s*\|\|?\s*", text):
        parts = [p for p in re.split(r"\s*,\s*|\s+(?=[<>=!~^])", alternative.strip()) if p]
        specifiers: list[str] = []
        for part in parts:
            converted = _poetry_part(part.replace(" ", ""))
            if converted is None:
                return None
            specifiers.extend(converted)
        try:
            out.append(SpecifierSet(",".join(specifiers)))
        except InvalidSpecifier:
            return None
    return out


def _poetry_part(part: str) -> list[str] | None:
    if part in ("", "*"):
        return []
    try:
        if part.startswith("^"):
            version = Version(part[1:])
            release = list(version.release)
            index = next((i for i, p in enumerate(release) if p != 0), len(release) - 1)
            upper = release[:index + 1]
            upper[-1] += 1
            return [f">={part[1:]}", f"<{'.'.join(map(str, upper))}"]
        if part.startswith("~") and not part.startswith("~="):
            version = Version(part[1:])
            release = list(version.release)
            upper = release[:2] if len(release) >= 2 else release[:1]
            upper[-1] += 1
            return [f">={part[1:]}", f"<{'.'.join(map(str, upper))}"]
    except InvalidVersion:
        return None
    if re.match(r"^(==|!=|<=|>=|<|>|~=|===)", part):
        if part.startswith(("<", ">")) and not part.startswith(("<=", ">=")):
            return [part]
        return [part]
    if re.match(r"^[0-9]", part):
        return [f"=={part}"]
    return None


def _allows(alternatives: list[SpecifierSet], version: str) -> bool | None:
    try:
        parsed = Version(version)
    except InvalidVersion:
        return None
    return any(s.contains(parsed, prereleases=True) for s in alternatives)


# --- shared diagnosis -------------------------------------------------------------------------------------


def _locked_versions(packages: Iterable[Any], group: str | None = None) -> dict[str, list[str | None]]:
    """Locked versions by name; with `group`, only the packages locked for that group."""
    out: dict[str, list[str | None]] = {}
    for package in packages:
        if group is None or not package.groups or group in {canonicalize_name(g) for g in package.groups}:
            out.setdefault(package.name, []).append(package.version)
    return out


def _grouped_name_changes(declared: list[Declared], packages: list[Any], lock_name: str,
                          group_of: Any) -> list[Change]:
    """`_name_changes` per lock group: a package declared in a group must be locked for that group."""
    changes: list[Change] = []
    by_group: dict[str, list[Declared]] = {}
    for entry in declared:
        by_group.setdefault(group_of(entry), []).append(entry)
    everything = _locked_versions(packages)
    for group, entries in by_group.items():
        locked = _locked_versions(packages, group)
        for change in _name_changes(entries, locked, lock_name):
            if group != "main" and group != "default" and "is not in" in change.description:
                name = next((e.name for e in entries if e.path == change.path and e.line == change.line), "")
                if name in everything:
                    change = Change(change.description.replace(f"is not in {lock_name}",
                                                               f"is not locked for the group '{group}' in {lock_name}"),
                                    change.path, change.line)
            elif "is not in" in change.description:
                name = next((e.name for e in entries if e.path == change.path and e.line == change.line), "")
                if name in everything:
                    change = Change(change.description.replace(f"is not in {lock_name}",
                                                               f"is not locked as a {group} dependency in {lock_name}"),
                                    change.path, change.line)
            changes.append(change)
    return changes


def _poetry_group(entry: Declared) -> str:
    kind, _, name = entry.group.partition(":")
    if entry.group in ("dependencies", "poetry:main") or kind == "extra":
        return "main"
    return name


def _pdm_group(entry: Declared) -> str:
    kind, _, name = entry.group.partition(":")
    return "default" if entry.group == "dependencies" else name


def _declared_constraint(declared: Declared) -> tuple[list[SpecifierSet] | None, bool]:
    """(allowed version ranges or None if unknown, whether the entry is restricted by a marker, a Python
    constraint, a direct reference or is optional)."""
    if declared.requirement is not None:
        requirement = declared.requirement
        restricted = requirement.marker is not None or requirement.url is not None
        return [requirement.specifier], restricted
    spec = declared.spec
    if isinstance(spec, str):
        if declared.group.startswith("pipfile:"):
            return _pipfile_constraint(spec), False
        return poetry_constraint(spec), False
    if isinstance(spec, list):
        return None, True  # Poetry's multiple-constraint dependencies
    if isinstance(spec, dict):
        restricted = any(k in spec for k in ("markers", "python", "platform", "git", "path", "url", "file",
                                             "optional", "hg", "svn", "bzr", "sys_platform", "os_name",
                                             "platform_machine", "implementation_name"))
        version = spec.get("version")
        if not isinstance(version, str):
            return None, restricted
        if declared.group.startswith("pipfile:"):
            return _pipfile_constraint(version), restricted
        return poetry_constraint(version), restricted
    return None, True


def _pipfile_constraint(text: str) -> list[SpecifierSet] | None:
    text = text.strip()
    if text in ("", "*"):
        return [SpecifierSet()]
    try:
        return [SpecifierSet(text)]
    except InvalidSpecifier:
        return None


def _name_changes(declared: list[Declared], locked: dict[str, list[str | None]], lock_name: str,
                  check_added: bool = True) -> list[Change]:
    changes: list[Change] = []
    for entry in declared:
        if not entry.name:
            continue
        allowed, restricted = _declared_constraint(entry)
        if restricted:
            continue
        versions = locked.get(entry.name)
        if not versions:
            if check_added:
                changes.append(Change(f"'{entry.text}' is not in {lock_name} (added since it was written)",
                                      entry.path, entry.line))
            continue
        if allowed is None:
            continue
        verdicts = [_allows(allowed, v) for v in versions if v]
        if verdicts and not any(verdicts) and None not in verdicts:
            shown = ", ".join(sorted({v for v in versions if v}))
            changes.append(Change(f"'{entry.text}' does not allow the locked version {shown} (changed since "
                                  f"{lock_name} was written)", entry.path, entry.line))
    return changes


def _orphans(packages: list[Any], declared_names: set[str], root_names: set[str]) -> list[str]:
    """Locked packages that nothing declares and no other locked package needs: removed requirements."""
    needed: set[str] = set()
    for package in packages:
        needed.update(package.dependencies)
    return sorted({p.name for p in packages} - needed - declared_names - root_names)


# --- uv.lock ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """Where a requirement comes from, as [tool.uv.sources] declares it or uv.lock records it."""

    kinds: frozenset[str]  # the keys uv records for it: "registry" (no source), "editable", "git", ...
    location: str | None  # the normalised path (relative to the lock's folder) or URL; None: not compared
    options: tuple[tuple[str, str], ...] = ()  # git: rev, tag, branch, subdirectory; a URL: subdirectory
    shown: str = ""
    path: str = ""  # where it is declared, for the finding's line
    line: int = 0


_REGISTRY = _Source(frozenset({"registry"}), None, (), "no source (the package index)")
_RECORDED_REGISTRY = _Source(frozenset({"registry"}), None, (), "the package index")


@dataclass(frozen=True)
class _Req:
    name: str
    extras: frozenset[str]
    specifier: frozenset[tuple[str, str]] | None
    marker: str | None
    text: str
    line: int = 1
    where: str = ""  # "in [project] dependencies", "in the extra 'x'", ...
    specifier_text: str = ""  # as written, for comparing the versions admitted
    source: _Source | None = _REGISTRY  # None: a source that is not known for certain

    @property
    def sourced(self) -> bool:
        """A source (path, git, URL, index, workspace, a direct reference) rather than the package index."""
        return self.source is None or "registry" not in self.source.kinds


_EXTRA_RE = re.compile(r"""extra\s*==\s*['"]([^'"]+)['"]""")


_Sources = dict[str, "_Source | None"]  # [tool.uv.sources] by name; None: a source not known for certain


def _req_from_text(text: str, line: int, sources: _Sources, extra: str | None = None,
                   where: str = "") -> _Req | None:
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return None
    name = canonicalize_name(requirement.name)
    marker = str(requirement.marker) if requirement.marker else None
    if extra is not None:
        marker = f"({marker}) and extra == '{extra}'" if marker else f"extra == '{extra}'"
    # None for a direct reference (uv records it rewritten: not guessed at); else its [tool.uv.sources] entry.
    source = None if requirement.url else sources[name] if name in sources else _REGISTRY
    return _Req(name, normalize_extras(requirement.extras), normalize_specifier(str(requirement.specifier)),
                marker, text, line, where, str(requirement.specifier), source)


def _req_from_uv(requirement: UvRequirement, where: str = "") -> _Req:
    shown = requirement.name + (f"[{','.join(requirement.extras)}]" if requirement.extras else "") + \
        (requirement.specifier or "") + (f"; {requirement.marker}" if requirement.marker else "")
    if not where:
        extra = _EXTRA_RE.search(requirement.marker or "")
        where = f"in the extra '{extra.group(1)}'" if extra else "in [project] dependencies"
    return _Req(requirement.name, normalize_extras(requirement.extras), normalize_specifier(requirement.specifier),
                requirement.marker, shown, 1, where, requirement.specifier or "",
                _recorded_source(requirement))


def _same(a: _Req, b: _Req, requires_python: str | None) -> bool:
    if a.sourced or b.sourced:
        if a.source is None or b.source is None:
            return True  # a source that is not known for certain: compared by name only
        if not _source_matches(a.source, b.source):
            return False
        if "index" not in b.source.kinds:
            # a path, git or URL source: uv records the source in place of the specifier, and the extras
            return a.extras == b.extras
    if a.extras != b.extras:
        return False
    if a.specifier is not None and b.specifier is not None and a.specifier != b.specifier and \
            not _same_versions(a.specifier_text, b.specifier_text):
        return False
    return markers_equivalent(a.marker, b.marker, requires_python) is not False


def _same_versions(a: str, b: str) -> bool:
    """Whether two specifier sets admit the same versions, as uv compares them (`~=2.10` is `>=2.10,<3`
    and `>=2.10,==2.*`). A set that names a pre-release, post-release or local version is compared as
    written: uv draws such bounds differently from PEP 440 (`<3` and `<3.0.dev0` differ for uv)."""
    if has_prerelease_bound(a) or has_prerelease_bound(b):
        return False
    return specifiers_equivalent(a, b) is True


def _merged(requirements: list[_Req]) -> list[_Req]:
    """A requirement that an unconditional one with the same name, extras and specifier subsumes is
    dropped, as uv records them (`x>=1` and `x>=1; sys_platform == 'win32'` are one requirement)."""
    out: list[_Req] = []
    for requirement in requirements:
        key = (requirement.name, requirement.extras, requirement.specifier, requirement.sourced)
        same = [i for i, seen in enumerate(out) if (seen.name, seen.extras, seen.specifier, seen.sourced) == key]
        if any(out[i].marker is None for i in same):
            continue
        if requirement.marker is None:
            for i in reversed(same):
                del out[i]
        out.append(requirement)
    return out


def _diff(declared: list[_Req], locked: list[_Req], requires_python: str | None, path: str,
          removed_line: int) -> list[Change]:
    """The changes between declared and recorded requirements. Whether there is any is decided on the
    merged requirements (as uv compares them); what is named comes from the requirements as written."""
    merged = _diff_lists(_merged(declared), _merged(locked), requires_python, path, removed_line)
    if not merged:
        return []
    return _diff_lists(declared, locked, requires_python, path, removed_line) or merged


def _diff_lists(declared: list[_Req], locked: list[_Req], requires_python: str | None, path: str,
                removed_line: int) -> list[Change]:
    changes: list[Change] = []
    # In the order written (several requirements may share a line), then recorded-only ones by name:
    # never in set order, which differs from run to run.
    order = {}
    for index, r in enumerate(declared):
        order.setdefault(r.name, (r.line, index))
    names = sorted({r.name for r in declared} | {r.name for r in locked},
                   key=lambda n: (*order.get(n, (10**9, 0)), n))
    for name in names:
        mine = [r for r in declared if r.name == name]
        theirs = [r for r in locked if r.name == name]
        left = [a for a in mine if not any(_same(a, b, requires_python) for b in theirs)]
        right = [b for b in theirs if not any(_same(a, b, requires_python) for a in mine)]
        for index, a in enumerate(left):
            b = right[index] if index < len(right) and theirs else None
            if b is not None and a.source is not None and b.source is not None and \
                    not _source_matches(a.source, b.source):
                where = f"[tool.uv.sources] of {a.source.path}" if a.source.path and a.source.path != path \
                    else "[tool.uv.sources]"
                said = f"{where} says {a.source.shown}" if a.source.kinds != {"registry"} else \
                    f"[tool.uv.sources] names {a.source.shown}"
                line = a.source.line if a.source.line and a.source.path == path else a.line
                changes.append(Change(f"the source of '{a.name}' {a.where} changed ({said}; uv.lock records "
                                      f"{b.source.shown})", path, line))
            elif b is not None:
                changes.append(Change(f"'{a.text}' {a.where} changed (uv.lock records '{b.text}')",
                                      path, a.line))
            else:
                changes.append(Change(f"'{a.text}' {a.where} was added", path, a.line))
        for b in right[len(left):]:
            changes.append(Change(f"'{b.text}' {b.where} was removed", path, removed_line))
    return changes


def _source_matches(declared: _Source, recorded: _Source) -> bool:
    if not recorded.kinds <= declared.kinds:
        return False
    if declared.location is not None and recorded.location is not None and declared.location != recorded.location:
        return False
    return declared.options == recorded.options or not ({"git", "url"} & declared.kinds)


def _norm_path(folder: str, written: str) -> str | None:
    """A source path relative to the lock's folder, normalised as uv records it (`./libs/x/` and
    `libs/../libs/x` are `libs/x`); None for what is not compared (absolute, home, variables, backslashes)."""
    if not written or written.startswith(("/", "~")) or "\\" in written or "$" in written or ":" in written:
        return None
    return posixpath.normpath(posixpath.join(folder, written) if folder != "." else written)


def _norm_url(written: str, *, git: bool = False) -> str | None:
    """A URL as compared: scheme and host in lower case, without credentials, fragment, trailing slash
    (and `.git` for a repository). Spellings that differ only there are not reported, whatever uv says."""
    from urllib.parse import unquote, urlsplit

    if "$" in written or "{" in written:
        return None
    try:
        parts = urlsplit(written.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower().removeprefix("git+")
    if not scheme or (not host and scheme != "file"):
        return None
    path = unquote(parts.path).rstrip("/")
    if git:
        path = path.removesuffix(".git").rstrip("/")
    return f"{scheme}://{host}{f':{port}' if port else ''}{path}"


_GIT_OPTIONS = ("rev", "tag", "branch", "subdirectory")


def _git_options(values: dict[str, Any]) -> tuple[tuple[str, str], ...] | None:
    out = []
    for key in _GIT_OPTIONS:
        value = values.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            return None
        out.append((key, posixpath.normpath(value) if key == "subdirectory" else value))
    return tuple(out)


def _git_shown(url: str, options: tuple[tuple[str, str], ...]) -> str:
    return f"the git repository '{url}'" + "".join(f", {k} '{v}'" for k, v in options)


def _recorded_source(requirement: UvRequirement) -> _Source | None:
    """The source uv.lock records for a requirement; None when it is not read with certainty."""
    if not requirement.sourced:
        return _RECORDED_REGISTRY
    if requirement.source is None:
        return None
    key, value = requirement.source
    if key in ("editable", "directory", "virtual", "path"):
        location = _norm_path(".", value)
        if location is None:
            return None
        shown = {"editable": "the editable path '{}'", "directory": "the path '{}' (not editable)",
                 "virtual": "the path '{}' (a virtual project)", "path": "the file '{}'"}[key].format(value)
        return _Source(frozenset({key}), location, (), shown)
    if key == "git":
        from urllib.parse import parse_qsl, urlsplit

        base, _, query = value.partition("#")[0].partition("?")
        try:
            pairs = parse_qsl(query, keep_blank_values=True)
        except ValueError:
            return None
        if any(k not in _GIT_OPTIONS for k, _ in pairs) or len({k for k, _ in pairs}) != len(pairs):
            return None
        options = _git_options(dict(pairs))
        location = _norm_url(base, git=True)
        if options is None or location is None or urlsplit(base).query:
            return None
        return _Source(frozenset({"git"}), location, options, _git_shown(base, options))
    if key == "url":
        location = _norm_url(value.partition("#")[0])
        if location is None:
            return None
        options = (("subdirectory", requirement.subdirectory),) if requirement.subdirectory else ()
        return _Source(frozenset({"url"}), location, options, f"the URL '{value}'")
    if key == "index":
        location = _norm_url(value)
        return None if location is None else _Source(frozenset({"index"}), location, (), f"the index '{value}'")
    return None


_SOURCE_KEYS = {"path": {"path", "editable", "package"}, "git": {"git", *_GIT_OPTIONS},
                "url": {"url", "subdirectory"}, "index": {"index"}, "workspace": {"workspace", "editable"}}


def _declared_source(value: Any, folder: str, indexes: dict[str, str | None], path: str, line: int) -> _Source | None:
    """What uv.lock must record for a [tool.uv.sources] entry (`folder`: the declaring pyproject's folder
    relative to the lock's); None when that is not known for certain (several sources with markers, extra or
    group conditions, options not modelled here, absolute paths, an index defined elsewhere)."""
    if not isinstance(value, dict):
        return None
    kind = next((k for k in _SOURCE_KEYS if k in value), None)
    if kind is None or not set(value) <= _SOURCE_KEYS[kind]:
        return None
    editable = value.get("editable")
    if editable is not None and not isinstance(editable, bool):
        return None
    if kind == "path":
        written = value.get("path")
        location = _norm_path(folder, written) if isinstance(written, str) else None
        if location is None:
            return None
        if "package" in value:
            return _Source(frozenset({"editable", "directory", "virtual", "path"}), location, (),
                           f"the path '{written}'", path, line)
        if editable:
            return _Source(frozenset({"editable", "virtual"}), location, (), f"the editable path '{written}'",
                           path, line)
        return _Source(frozenset({"directory", "virtual", "path"}), location, (),
                       f"the path '{written}' (not editable)", path, line)
    if kind == "workspace":
        if value.get("workspace") is not True:
            return None
        if editable is False:
            return _Source(frozenset({"directory", "virtual"}), None, (), "the workspace member (not editable)",
                           path, line)
        return _Source(frozenset({"editable", "virtual"}), None, (), "the workspace member (editable)", path, line)
    if kind == "git":
        written = value.get("git")
        if not isinstance(written, str) or "?" in written or "#" in written:
            return None
        location = _norm_url(written, git=True)
        options = _git_options(value)
        if location is None or options is None:
            return None
        return _Source(frozenset({"git"}), location, options, _git_shown(written, options), path, line)
    if kind == "url":
        written, subdirectory = value.get("url"), value.get("subdirectory")
        if not isinstance(written, str) or (subdirectory is not None and not isinstance(subdirectory, str)):
            return None
        location = _norm_url(written.partition("#")[0])
        if location is None:
            return None
        return _Source(frozenset({"url"}), location, (("subdirectory", subdirectory),) if subdirectory else (),
                       f"the URL '{written}'", path, line)
    name = value.get("index")
    url = indexes.get(name) if isinstance(name, str) else None
    location = _norm_url(url) if url else None
    if location is None:
        return None
    return _Source(frozenset({"index"}), location, (), f"the index '{name}' ({url})", path, line)


def _uv_indexes(pyprojects: list[PyProject]) -> dict[str, str | None]:
    """[[tool.uv.index]] URLs by name (None: defined twice with different URLs, or not a plain string)."""
    out: dict[str, str | None] = {}
    for pyproject in pyprojects:
        indexes = pyproject.tool("uv").get("index")
        for index in indexes if isinstance(indexes, list) else ():
            if isinstance(index, dict) and isinstance(index.get("name"), str):
                url = index.get("url")
                url = url if isinstance(url, str) else None
                name = index["name"]
                out[name] = url if out.get(name, url) == url else None
    return out


def _source_map(item: PyProject, root: PyProject | None, lock_dir: str) -> _Sources:
    """The [tool.uv.sources] that apply to a workspace member: its own, else the workspace root's."""
    out: _Sources = {}
    holders = [p for p in (root, item) if p is not None]
    if any(p.tool("uv").get("no-sources") not in (None, False) for p in holders):
        return {name: None for p in holders for name in _uv_sources(p)}  # sources ignored: not guessed at
    indexes = _uv_indexes([item] if root is None or root is item else [root, item])
    for pyproject in holders:  # the member's own entries replace the root's
        sources = pyproject.tool("uv").get("sources")
        if not isinstance(sources, dict):
            continue
        folder = _relative(pyproject.directory, lock_dir)
        for key, value in sources.items():
            if not isinstance(key, str):
                continue
            line = pyproject.line_of("tool", "uv", "sources", key)
            out[canonicalize_name(key)] = None if folder is None else \
                _declared_source(value, folder, indexes, pyproject.path, line)
    return out


def _uv_sources(pyproject: PyProject | None) -> set[str]:
    if pyproject is None:
        return set()
    sources = pyproject.tool("uv").get("sources")
    return {canonicalize_name(k) for k in sources if isinstance(k, str)} if isinstance(sources, dict) else set()


def _requires_dist(pyproject: PyProject, sourced: _Sources) -> tuple[list[_Req], bool] | None:
    """The project's requires-dist as uv records it, and whether it is statically known."""
    table = pyproject.project
    dynamic = table.get("dynamic") if isinstance(table.get("dynamic"), list) else []
    if "dependencies" in dynamic or "optional-dependencies" in dynamic:
        return None
    out: list[_Req] = []
    for entry in pep621_declarations(pyproject):
        if entry.group == "dependencies":
            req = _req_from_text(entry.text, entry.line, sourced, where="in [project] dependencies")
        elif entry.group.startswith("extra:"):
            req = _req_from_text(entry.text, entry.line, sourced, extra=entry.group[6:],
                                 where=f"in the extra '{entry.group[6:]}'")
        else:
            continue
        if req is None:
            return None  # uv would refuse the file: do not guess
        out.append(req)
    return out, True


def _dependency_groups(pyproject: PyProject, sourced: _Sources) -> dict[str, list[_Req]] | None:
    """[dependency-groups] with include-group expanded, plus `[tool.uv] dev-dependencies` in "dev"."""
    raw = pyproject.data.get("dependency-groups")
    groups: dict[str, list[Any]] = {}
    lines: dict[str, int] = {}
    if isinstance(raw, dict):
        for group, values in raw.items():
            if not isinstance(values, list):
                return None
            groups[canonicalize_name(group)] = values
            lines[canonicalize_name(group)] = pyproject.line_of("dependency-groups", group)

    def expand(group: str, seen: tuple[str, ...]) -> list[_Req] | None:
        if group in seen or group not in groups:
            return None
        out: list[_Req] = []
        original = next((g for g in (raw or {}) if canonicalize_name(g) == group), group)
        strings = [v if isinstance(v, str) else v.get("include-group") if isinstance(v, dict) else None
                   for v in groups[group]]
        strings = [v if isinstance(v, str) else None for v in strings]
        value_lines = entry_lines(pyproject, ("dependency-groups", original), strings)
        for value, line in zip(groups[group], value_lines):
            if isinstance(value, str):
                req = _req_from_text(value, line, sourced, where=f"in the dependency group '{group}'")
                if req is None:
                    return None
                out.append(req)
            elif isinstance(value, dict) and isinstance(value.get("include-group"), str):
                name = canonicalize_name(value["include-group"])
                included = expand(name, seen + (group,))
                if included is None:
                    return None
                # Named in the including group, at its include-group entry (uv records them flattened there).
                where = f"(included from '{name}') in the dependency group '{group}'"
                out.extend(replace(req, where=where, line=line) for req in included)
            else:
                return None
        return out

    result: dict[str, list[_Req]] = {}
    for group in groups:
        expanded = expand(group, ())
        if expanded is None:
            return None
        result[group] = expanded
    legacy = pyproject.tool("uv").get("dev-dependencies")
    if isinstance(legacy, list):
        strings = [v if isinstance(v, str) else None for v in legacy]
        for value, line in zip(legacy, entry_lines(pyproject, ("tool", "uv", "dev-dependencies"), strings)):
            req = _req_from_text(value, line, sourced, where="in [tool.uv] dev-dependencies") \
                if isinstance(value, str) else None
            if req is None:
                return None
            result.setdefault("dev", []).append(req)
    return result


def _packaged(pyproject: PyProject) -> bool:
    package = pyproject.tool("uv").get("package")
    if isinstance(package, bool):
        return package
    return isinstance(pyproject.data.get("build-system"), dict)


def _join(folder: str, rel: str) -> str:
    if rel == ".":
        return folder
    return rel if folder == "." else f"{folder}/{rel}"


def _relative(folder: str, base: str) -> str | None:
    if base == ".":
        return folder
    if folder == base:
        return "."
    return folder[len(base) + 1:] if folder.startswith(base + "/") else None


def uv_staleness(project: Project, lock: UvLock, root: PythonProject,
                 members: list[PythonProject], complete: bool) -> list[Staleness]:
    """Compare uv.lock with the workspace root's pyproject.toml and each member's. `complete`: every
    member's pyproject.toml was read (otherwise the workspace-wide checks are skipped)."""
    if lock.newer_major:
        return []
    lock_dir = lock.path.rpartition("/")[0] or "."
    everyone = [p for p in [root, *members] if p.pyproject is not None]
    by_path = {record.path: record for record in lock.projects}
    by_name = {record.name: record for record in lock.projects}
    out: list[Staleness] = []
    requires_python = lock.requires_python
    for item in everyone:
        pyproject = item.pyproject
        assert pyproject is not None
        changes: list[Change] = []
        relative = _relative(item.directory, lock_dir)
        table = pyproject.project
        name = table.get("name") if isinstance(table.get("name"), str) else None
        record = by_path.get(relative or "") or (by_name.get(canonicalize_name(name)) if name else None)
        sourced = _source_map(pyproject, root.pyproject, lock_dir)
        if name is not None and pyproject.data.get("project") is not None:
            if record is None:
                changes.append(Change(f"the project '{name}' is not recorded in uv.lock (added since it was written)",
                                      pyproject.path, pyproject.line_of("project", "name")))
            else:
                changes.extend(_uv_member_changes(pyproject, record, sourced, requires_python))
        elif item is root:
            groups = _dependency_groups(pyproject, sourced)
            recorded = lock.manifest_groups()
            if groups is not None and (recorded is not None or any(groups.values())):
                changes.extend(_group_changes(pyproject, groups, recorded or {}, requires_python))
        if item is root:
            changes.extend(_uv_manifest_changes(pyproject, lock, requires_python))
            changes.extend(_uv_environment_changes(pyproject, lock, requires_python))
            if complete:
                changes.extend(_uv_workspace_changes(project, lock, root, members))
                changes.extend(_requires_python_change(lock, everyone, root))
        if changes:
            out.append(Staleness(lock.path, pyproject.path, changes))
    return out


def _uv_member_changes(pyproject: PyProject, record: UvProjectRecord, sourced: _Sources,
                       requires_python: str | None) -> list[Change]:
    changes: list[Change] = []
    table = pyproject.project
    dynamic = table.get("dynamic") if isinstance(table.get("dynamic"), list) else []
    version = table.get("version")
    if isinstance(version, str) and "version" not in dynamic and record.version is not None:
        try:
            different = Version(version) != Version(record.version)
        except InvalidVersion:
            different = version != record.version
        if different:
            changes.append(Change(f"the version changed from {record.version} to {version}", pyproject.path,
                                  pyproject.line_of("project", "version")))
    if record.source_kind in ("editable", "virtual"):
        packaged = _packaged(pyproject)
        if packaged != (record.source_kind == "editable"):
            what = ("is now packaged (it has a [build-system]), while uv.lock records it as virtual" if packaged
                    else "is no longer packaged, while uv.lock records it as an editable package")
            line = pyproject.line_of("tool", "uv", "package") if "package" in pyproject.tool("uv") else \
                pyproject.line_of("build-system") if packaged else pyproject.line_of("project")
            changes.append(Change(f"the project {what}", pyproject.path, line))
    requires = _requires_dist(pyproject, sourced)
    if requires is not None:
        declared, _ = requires
        locked = [_req_from_uv(r) for r in record.requires_dist]
        changes.extend(_diff(declared, locked, requires_python, pyproject.path,
                             pyproject.line_of("project", "dependencies")))
        extras = table.get("optional-dependencies")
        if record.provides_extras is not None and isinstance(extras, dict):
            mine = {canonicalize_name(e) for e in extras if isinstance(e, str)}
            theirs = set(record.provides_extras)
            for extra in sorted(mine - theirs):
                changes.append(Change(f"the extra '{extra}' was added", pyproject.path,
                                      _extra_line(pyproject, extra)))
            for extra in sorted(theirs - mine):
                changes.append(Change(f"the extra '{extra}' was removed", pyproject.path,
                                      pyproject.line_of("project", "optional-dependencies")))
    groups = _dependency_groups(pyproject, sourced)
    if groups is not None:
        changes.extend(_group_changes(pyproject, groups, record.requires_dev, requires_python,
                                      empty_recorded=record.has_metadata))
    return changes


def _group_changes(pyproject: PyProject, groups: dict[str, list[_Req]], recorded: dict[str, list[UvRequirement]],
                   requires_python: str | None, empty_recorded: bool = False) -> list[Change]:
    """`empty_recorded`: uv records empty groups too (a project's requires-dev does; the [manifest] of a
    workspace root without [project] does not)."""
    changes: list[Change] = []
    own: set[str] = set()  # groups with changes of their own
    for group in sorted(set(groups) | set(recorded)):
        before = len(changes)
        _one_group_changes(pyproject, group, groups, recorded, requires_python, empty_recorded, changes)
        if any("(included from '" not in c.description for c in changes[before:]):
            own.add(group)
    # A change in an included group is named once, in that group, not again in each group that includes it.
    return [c for c in changes if not any(f"(included from '{g}')" in c.description for g in own)]


def _one_group_changes(pyproject: PyProject, group: str, groups: dict[str, list[_Req]],
                       recorded: dict[str, list[UvRequirement]], requires_python: str | None,
                       empty_recorded: bool, changes: list[Change]) -> None:
    mine = groups.get(group, [])
    theirs = [_req_from_uv(r, f"in the dependency group '{group}'") for r in recorded.get(group, [])]
    line = _group_line(pyproject, group)
    if group not in recorded and (mine or empty_recorded):
        changes.append(Change(f"the dependency group '{group}' was added", pyproject.path, line))
    elif group not in groups and (theirs or (empty_recorded and group in recorded)):
        changes.append(Change(f"the dependency group '{group}' was removed", pyproject.path,
                              pyproject.line_of("dependency-groups")))
    else:
        changes.extend(_diff(mine, theirs, requires_python, pyproject.path, line))


def _extra_line(pyproject: PyProject, extra: str) -> int:
    extras = pyproject.project.get("optional-dependencies")
    for name in extras if isinstance(extras, dict) else ():
        if canonicalize_name(name) == extra:
            return pyproject.line_of("project", "optional-dependencies", name)
    return pyproject.line_of("project", "optional-dependencies")


def _group_line(pyproject: PyProject, group: str) -> int:
    raw = pyproject.data.get("dependency-groups")
    if isinstance(raw, dict):
        for name in raw:
            if canonicalize_name(name) == group:
                return pyproject.line_of("dependency-groups", name)
    if group == "dev" and "dev-dependencies" in pyproject.tool("uv"):
        return pyproject.line_of("tool", "uv", "dev-dependencies")
    return pyproject.line_of("dependency-groups")


_MANIFEST_KEYS = (("constraints", "constraint-dependencies"), ("overrides", "override-dependencies"),
                  ("build-constraints", "build-constraint-dependencies"))


def _uv_manifest_changes(pyproject: PyProject, lock: UvLock, requires_python: str | None) -> list[Change]:
    changes: list[Change] = []
    uv = pyproject.tool("uv")
    for manifest_key, tool_key in _MANIFEST_KEYS:
        values = uv.get(tool_key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            continue
        line = pyproject.line_of("tool", "uv", tool_key)
        declared = []
        where = f"in [tool.uv] {tool_key}"
        for value in values:
            req = _req_from_text(value, line, {}, where=where)
            if req is None:
                break
            declared.append(req)
        else:
            locked = [_req_from_uv(r, where) for r in lock.manifest_requirements(manifest_key)]
            changes.extend(_diff(declared, locked, requires_python, pyproject.path, line))
    return changes


_ENVIRONMENT_KEYS = (("environments", "supported_markers"), ("required-environments", "required_markers"))


def _uv_environment_changes(pyproject: PyProject, lock: UvLock, requires_python: str | None) -> list[Change]:
    """[tool.uv] environments and required-environments against uv.lock's supported-markers and
    required-markers: uv compares the lists in order, each marker simplified within requires-python (a
    marker that requires-python makes always true is written as nothing)."""
    changes: list[Change] = []
    uv = pyproject.tool("uv")
    for key, attribute in _ENVIRONMENT_KEYS:
        value = uv.get(key)
        declared = [value] if isinstance(value, str) else value if isinstance(value, list) else [] \
            if value is None else None
        if declared is None or not all(isinstance(m, str) for m in declared):
            continue
        recorded: list[str] | None = getattr(lock, attribute)
        line = pyproject.line_of("tool", "uv", key)
        shown = ", ".join(f'"{m}"' for m in recorded or [])
        if not declared:
            if recorded:
                changes.append(Change(f"[tool.uv] {key} was removed (uv.lock records {shown})", pyproject.path,
                                      line))
            continue
        if recorded is None:
            changes.append(Change(f"[tool.uv] {key} was added (uv.lock records none)", pyproject.path, line))
            continue
        always = [markers_equivalent(m, None, requires_python) for m in declared]
        if any(a is not False for a in always):
            continue  # a marker always true within requires-python (or unreadable): how uv writes it is not guessed
        same = [markers_equivalent(a, b, requires_python) for a, b in zip(declared, recorded)]
        if None in same:
            continue
        if len(declared) != len(recorded) or not all(same):
            changes.append(Change(f"[tool.uv] {key} changed (uv.lock records {shown or 'none'}; uv compares "
                                  f"the markers in order)", pyproject.path, line))
    return changes


def _uv_workspace_changes(project: Project, lock: UvLock, root: PythonProject,
                          members: list[PythonProject]) -> list[Change]:
    pyproject = root.pyproject
    assert pyproject is not None
    recorded = lock.manifest_members
    expected: dict[str, PythonProject] = {}
    for item in [root, *members]:
        if item.pyproject is not None and isinstance(item.pyproject.project.get("name"), str):
            expected[canonicalize_name(item.pyproject.project["name"])] = item
    line = pyproject.line_of("tool", "uv", "workspace", "members")
    changes: list[Change] = []
    if recorded is None:
        return changes  # members added since are reported by the members ("not recorded in uv.lock")
    lock_dir = lock.path.rpartition("/")[0] or "."
    records = {r.name: r for r in lock.projects}
    for name in sorted(set(recorded) - set(expected)):
        record = records.get(name)
        if record is not None and record.path != ".":
            member_pyproject = _join(_join(lock_dir, record.path), "pyproject.toml")
            if _exists(project, member_pyproject) and workspace_includes(pyproject, record.path):
                continue  # still a member, only not scanned (excluded or outside the scanned paths)
        changes.append(Change(f"the workspace member '{name}' was removed", pyproject.path, line))
    return changes


def _exists(project: Project, rel: str) -> bool:
    return rel in project.files("pyproject") or is_file(project, rel)


def _requires_python_change(lock: UvLock, everyone: list[PythonProject], root: PythonProject) -> list[Change]:
    specs = []
    for item in everyone:
        assert item.pyproject is not None
        value = item.pyproject.project.get("requires-python")
        if isinstance(value, str) and value.strip():
            specs.append(value)
    if not specs or lock.requires_python is None:
        return []
    combined = ",".join(specs)
    # uv's Python range keeps only release numbers: `>=3.11.dev0` and `>=3.11rc1` are recorded as `>=3.11`.
    if specifiers_equivalent(combined, lock.requires_python, final_releases=True) is not False:
        return []
    # And only its bounds: an exclusion inside the range (`>=3.11,!=3.12.0`) leaves the lock as it is
    # (`uv lock --check` passes, `uv lock` rewrites nothing), one at its edge (`!=3.11.0`) moves a bound.
    literals = _release_literals(combined) | _release_literals(lock.requires_python)
    bounds = _python_bounds(combined, literals)
    if bounds is not None and bounds == _python_bounds(lock.requires_python, literals):
        return []
    # The project whose requires-python now excludes versions the lock allows (it was tightened), else the
    # root's, else the first that has one.
    holders = [p.pyproject for p in everyone if p.pyproject and isinstance(p.pyproject.project.get("requires-python"), str)]
    culprit = next((p for p in holders if _narrower(p.project["requires-python"], lock.requires_python)), None)
    pyproject = culprit or (root.pyproject if root.pyproject in holders else holders[0])
    assert pyproject is not None
    shown = pyproject.project.get("requires-python")
    if len(holders) == 1:
        text = f"requires-python '{shown}' changed (uv.lock records '{lock.requires_python}')"
    else:
        text = (f"requires-python '{shown}' of {pyproject.path} changed the workspace's Python range (uv.lock "
                f"records '{lock.requires_python}', the intersection of the members')")
    return [Change(text, pyproject.path, pyproject.line_of("project", "requires-python"))]


def _python_bounds(spec: str, literals: set[Version]) -> tuple[Version, Version] | None:
    """The lowest and highest final Python release a requires-python admits, among 3.0.0 to 3.40.40 and the
    releases the specifiers name (`literals`: `>=3.9.99` is a bound of its own); None when it is not a
    specifier set or admits none of them."""
    try:
        specifiers = SpecifierSet(spec)
    except InvalidSpecifier:
        return None
    admitted = [v for v in sorted(literals.union(_python_samples())) if specifiers.contains(v, prereleases=True)]
    return (admitted[0], admitted[-1]) if admitted else None


def _release_literals(spec: str) -> set[Version]:
    """The final releases a specifier set names (`>=3.9.99` -> 3.9.99), and the next patch of each."""
    found: set[Version] = set()
    try:
        specifiers = SpecifierSet(spec)
    except InvalidSpecifier:
        return found
    for one in specifiers:
        try:
            release = Version(one.version.removesuffix(".*")).release
        except InvalidVersion:
            continue
        found.add(Version(".".join(map(str, release))))
        found.add(Version(".".join(map(str, (*release[:-1], release[-1] + 1)))))
    return found


@cache  # made on first use: most scans never compare a changed requires-python
def _python_samples() -> tuple[Version, ...]:
    return tuple(Version(f"3.{minor}.{patch}") for minor in range(0, 41) for patch in range(0, 41))


def _narrower(spec: str, recorded: str) -> bool:
    try:
        mine, theirs = SpecifierSet(spec), SpecifierSet(recorded)
    except InvalidSpecifier:
        return False
    versions = [Version(f"3.{minor}.{patch}") for minor in range(0, 31) for patch in (0, 1, 5)]
    return any(theirs.contains(v, prereleases=True) and not mine.contains(v, prereleases=True) for v in versions)


# --- poetry.lock, pdm.lock, Pipfile.lock ------------------------------------------------------------------


def poetry_staleness(item: PythonProject, lock: PoetryLock) -> Staleness | None:
    pyproject = item.pyproject
    if pyproject is None or lock.content_hash is None or lock.newer_major:
        return None
    expected = poetry_content_hash(pyproject.data)
    if expected == lock.content_hash:
        return None
    if lock.generator_version is not None and lock.generator_version < POETRY_GROUPS_IN_HASH_SINCE:
        if poetry_content_hash(pyproject.data, with_dependency_groups=False) == lock.content_hash:
            return None
    groups_locked = lock.generator_version is not None and lock.generator_version >= POETRY_GROUPS_IN_HASH_SINCE
    declared = [d for d in item.declared if d.path == pyproject.path
                and (not d.group.startswith("group:") or groups_locked)]
    changes = _grouped_name_changes(declared, lock.packages, "poetry.lock", _poetry_group)
    names = {d.name for d in item.declared}
    for name in _orphans(lock.packages, names, {canonicalize_name(item.name)} if item.name else set()):
        changes.append(Change(f"'{name}' is locked but no longer declared (removed since poetry.lock was written)",
                              pyproject.path, _poetry_dependencies_line(pyproject)))
    python = _poetry_python(pyproject)
    if python and lock.python_versions and python.replace(" ", "") != lock.python_versions.replace(" ", ""):
        key = ("project", "requires-python") if "requires-python" in pyproject.project else \
            ("tool", "poetry", "dependencies", "python")
        changes.append(Change(f"the Python constraint '{python}' changed (poetry.lock records "
                              f"'{lock.python_versions}')", pyproject.path, pyproject.line_of(*key)))
    return Staleness(lock.path, pyproject.path, changes,
                     reason="its content-hash no longer matches the dependency declarations of pyproject.toml "
                            "(Poetry hashes them as written: reordering a list counts too)",
                     line_hint=_poetry_dependencies_line(pyproject))


def _poetry_python(pyproject: PyProject) -> str | None:
    value = pyproject.project.get("requires-python")
    if isinstance(value, str):
        return value
    dependencies = pyproject.tool("poetry").get("dependencies")
    if isinstance(dependencies, dict) and isinstance(dependencies.get("python"), str):
        return dependencies["python"]
    return None


def _poetry_dependencies_line(pyproject: PyProject) -> int:
    if "dependencies" in pyproject.project:
        return pyproject.line_of("project", "dependencies")
    return pyproject.line_of("tool", "poetry", "dependencies")


def pdm_staleness(item: PythonProject, lock: PdmLock) -> Staleness | None:
    pyproject = item.pyproject
    if pyproject is None or lock.newer_major:
        return None
    pdm = pyproject.tool("pdm")
    hashed = (lock.content_hash is not None and not lock.has_lock_inputs and "workspace" not in pdm)
    if hashed:
        algorithm, _, value = (lock.content_hash or "").partition(":")
        if not value:
            algorithm, value = "sha256", algorithm
        if algorithm != "sha256" or value == pdm_content_hash(pyproject.data):
            return None
    locked_groups = set(lock.groups)
    if hashed and locked_groups:
        added = _pdm_added_groups(pyproject, locked_groups, value)
        if added:
            return Staleness(lock.path, pyproject.path, added)

    def in_lock(declared: Declared) -> bool:
        if declared.group == "dependencies":
            return not locked_groups or "default" in locked_groups
        group = declared.group.partition(":")[2]
        return group in locked_groups

    declared = [d for d in item.declared if d.path == pyproject.path and not d.group.startswith("poetry:")
                and in_lock(d)]
    changes = _grouped_name_changes(declared, lock.packages, "pdm.lock", _pdm_group)
    requires_python = pyproject.project.get("requires-python")
    if hashed and isinstance(requires_python, str) and lock.requires_python and \
            specifiers_equivalent(requires_python, lock.requires_python) is False:
        changes.append(Change(f"requires-python '{requires_python}' changed (pdm.lock's target records "
                              f"'{lock.requires_python}')", pyproject.path, pyproject.line_of("project", "requires-python")))
    if hashed:
        names = {d.name for d in item.declared}
        for name in _orphans(lock.packages, names, {canonicalize_name(item.name)} if item.name else set()):
            changes.append(Change(f"'{name}' is locked but no longer declared (removed since pdm.lock was written)",
                                  pyproject.path, pyproject.line_of("project", "dependencies")))
    if not hashed and not changes:
        return None
    return Staleness(lock.path, pyproject.path, changes,
                     reason="its content_hash no longer matches the dependency declarations of pyproject.toml "
                            "(PDM hashes them as written: reordering or reformatting a requirement counts too)",
                     line_hint=pyproject.line_of("project", "dependencies"))


def _pdm_group_tables(pyproject: PyProject) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    tables = []
    groups = pyproject.data.get("dependency-groups")
    if isinstance(groups, dict):
        tables.append((("dependency-groups",), groups))
    dev = pyproject.tool("pdm").get("dev-dependencies")
    if isinstance(dev, dict):
        tables.append((("tool", "pdm", "dev-dependencies"), dev))
    return tables


def _pdm_added_groups(pyproject: PyProject, locked: set[str], recorded_hash: str) -> list[Change]:
    """Dependency groups (`[dependency-groups]` or `[tool.pdm.dev-dependencies]`) that pdm.lock does not
    list, named as added when the pyproject.toml without them hashes to the lock's content_hash: then
    they are exactly what changed. (A group left out with `pdm lock -G` is hashed all the same, so a
    group missing from the lock alone proves nothing.)"""
    tables = _pdm_group_tables(pyproject)
    new = {canonicalize_name(g) for _, table in tables for g in table if isinstance(g, str)} - locked
    if not new:
        return []
    data = dict(pyproject.data)
    for keys, table in tables:
        kept = {g: v for g, v in table.items() if not (isinstance(g, str) and canonicalize_name(g) in new)}
        if keys == ("dependency-groups",):
            data["dependency-groups"] = kept
        else:
            tool = dict(data.get("tool") or {})
            tool["pdm"] = {**tool.get("pdm", {}), "dev-dependencies": kept}
            data["tool"] = tool
    if pdm_content_hash(data) != recorded_hash:
        return []
    changes = []
    for keys, table in tables:
        where = "[dependency-groups]" if keys == ("dependency-groups",) else "[tool.pdm.dev-dependencies]"
        for group, values in table.items():
            if isinstance(group, str) and canonicalize_name(group) in new:
                shown = ", ".join(f"'{v}'" for v in values if isinstance(v, str)) if isinstance(values, list) else ""
                changes.append(Change(f"the dependency group '{group}' in {where} was added"
                                      + (f" ({shown})" if shown else "") + " (pdm.lock has no such group)",
                                      pyproject.path, pyproject.line_of(*keys, group)))
    return changes


def pipenv_staleness(item: PythonProject, lock: PipfileLock) -> Staleness | None:
    pipfile = item.pipfile
    if pipfile is None or lock.content_hash is None or lock.newer_major:
        return None
    defaults = lock.meta.get("sources")
    for canonical in (True, False):
        if pipfile_hash(pipfile.data, canonical_names=canonical, default_sources=defaults) == lock.content_hash:
            return None
    if "source" not in pipfile.data and defaults is None:
        return None  # hashed with pipenv's built-in default source, which is not known here
    changes: list[Change] = []
    for category, packages in pipfile.categories.items():
        section = lock.sections.get(pipfile_lock_section(category), {})
        locked = {canonicalize_name(n): [(_stripped(e.get("version")) if isinstance(e, dict) else None)]
                  for n, e in section.items()}
        declared = [d for d in item.declared if d.group == f"pipfile:{category}"]
        where = "Pipfile.lock" if category == "packages" else \
            f"the '{pipfile_lock_section(category)}' section of Pipfile.lock"
        changes.extend(_name_changes(declared, locked, where))
    requires = pipfile.data.get("requires", {})
    if isinstance(requires, dict) and requires != lock.meta.get("requires", {}):
        changes.append(Change(f"[requires] changed (Pipfile.lock records {json.dumps(lock.meta.get('requires', {}))})",
                              pipfile.path, pipfile.line_of("requires")))
    sources = pipfile.data.get("source")
    if sources is not None and sources != lock.meta.get("sources"):
        changes.append(Change("[[source]] changed since Pipfile.lock was written", pipfile.path,
                              pipfile.line_of("source")))
    first = next(iter(pipfile.categories), "packages")
    return Staleness(lock.path, pipfile.path, changes, reason="its _meta.hash no longer matches the Pipfile",
                     line_hint=pipfile.line_of(first))


def _stripped(version: Any) -> str | None:
    if not isinstance(version, str):
        return None
    return version[2:] if version.startswith("==") else version


# --- requirements files: compiled from .in / pyproject, uv exports -------------------------------------


def compiled_staleness(project: Project, item: PythonProject, lock: RequirementsLock) -> Staleness | None:
    """A requirements file compiled by pip-compile / `uv pip compile` against its inputs, name by name."""
    if lock.requirements is None or not lock.fully_pinned:
        return None
    inputs = _compile_inputs(project, item, lock)
    if not inputs:
        return None
    declared: list[Declared] = []
    input_names: set[str] = set()
    for rel in inputs:
        if rel.endswith("pyproject.toml"):
            pyproject = project.parsed("pyproject", rel, parse_pyproject)
            if pyproject is None:
                return None
            extras = _command_extras(lock)
            for entry in pep621_declarations(pyproject):
                if entry.group == "dependencies" or (entry.group.startswith("extra:") and
                                                    (extras is True or entry.group[6:] in (extras or set()))):
                    declared.append(entry)
            name = pyproject.project.get("name")
            if isinstance(name, str):
                input_names.add(f"{name} (pyproject.toml)")
        else:
            entries = _requirements_declarations(project, rel, depth=0, seen=set())
            if entries is None:
                return None
            declared.extend(entries)
        input_names.add(rel.rpartition("/")[2])
    locked = _locked_versions(lock.packages)
    changes = _name_changes(declared, locked, lock.path.rpartition("/")[2])
    if lock.annotated:
        declared_names = {d.name for d in declared}
        for name, via in sorted(lock.via.items()):
            if name in declared_names or not via:
                continue
            if all(_is_input_reference(v, input_names) for v in via):
                manifest = inputs[0]
                changes.append(Change(f"'{name}' is pinned for {', '.join(via)} but no longer declared there "
                                      f"(removed since {lock.path.rpartition('/')[2]} was compiled)", manifest, 1))
    if not changes:
        return None
    return Staleness(lock.path, inputs[0], changes)


def _is_input_reference(via: str, input_names: set[str]) -> bool:
    via = via.strip()
    if via.startswith("-r "):
        return via[3:].strip().rpartition("/")[2] in input_names
    return via in input_names


def _command_extras(lock: RequirementsLock) -> set[str] | bool:
    words = lock.command_words
    if "--all-extras" in words:
        return True
    extras: set[str] = set()
    for index, word in enumerate(words):
        if word == "--extra" and index + 1 < len(words):
            extras.add(canonicalize_name(words[index + 1]))
        elif word.startswith("--extra="):
            extras.add(canonicalize_name(word.partition("=")[2]))
    return extras


def _compile_inputs(project: Project, item: PythonProject, lock: RequirementsLock) -> list[str]:
    folder = lock.path.rpartition("/")[0] or "."
    known = set(project.files("requirements")) | set(project.files("pyproject"))
    out: list[str] = []
    for written in lock.inputs:
        if written in ("-", "setup.py", "setup.cfg") or written.endswith((".py", ".cfg")):
            return []  # stdin or setup.py: not read statically
        while written.startswith("./"):
            written = written[2:]
        for base in (folder, item.directory, "."):
            candidate = _normalize(_join(base, written))
            if candidate in known:
                out.append(candidate)
                break
        else:
            return []  # an input that is not here: cannot compare
    if out or lock.inputs:
        return out
    if lock.tool not in (None, "pip-compile", "uv pip compile") or (lock.tool is None and not lock.annotated):
        return []
    stem = lock.path[:-4] if lock.path.endswith(".txt") else None
    if stem and f"{stem}.in" in known:
        return [f"{stem}.in"]
    return []


def _normalize(rel: str) -> str:
    parts: list[str] = []
    for part in rel.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/".join(parts) or "."


def _requirements_declarations(project: Project, rel: str, depth: int, seen: set[str]) -> list[Declared] | None:
    if depth > 5 or rel in seen:
        return []
    seen.add(rel)
    view = project.parsed("requirements-lock", rel, read_requirements_lock)
    if view is None or view.requirements is None:
        return None
    out = [Declared(line.name or "", line.text, f"requirements:{rel}", rel, line.line, line.requirement)
           for line in view.requirements.requirements if not line.editable and not line.invalid]
    folder = rel.rpartition("/")[0] or "."
    known = set(project.files("requirements"))
    for include in view.requirements.includes:
        if include.option in ("-r", "--requirement") and include.value:
            target = _normalize(_join(folder, include.value))
            # Included inputs are read even when their names are not requirements-like (`-r base.in`).
            if target.endswith(".in") and (target in known or is_file(project, target)):
                included = _requirements_declarations(project, target, depth + 1, seen)
                if included is None:
                    return None
                out.extend(included)
    return out


def export_staleness(item: PythonProject, lock: RequirementsLock) -> Staleness | None:
    """A `uv export` of the project compared name by name with the pyproject.toml it was exported from."""
    pyproject = item.pyproject
    if pyproject is None or lock.tool != "uv export" or not lock.fully_pinned or item.dynamic:
        return None
    words = lock.command_words
    if any(w.startswith(("--package", "--all-packages", "--script", "--project", "--directory")) for w in words):
        return None
    groups = _export_groups(pyproject, words)
    if groups is None:
        return None
    extras = _command_extras(lock)
    skipped = set()
    for index, word in enumerate(words):
        if word in ("--no-emit-package", "--prune") and index + 1 < len(words):
            skipped.add(canonicalize_name(words[index + 1]))
        elif word.startswith(("--no-emit-package=", "--prune=")):
            skipped.add(canonicalize_name(word.partition("=")[2]))
    only = any(w.startswith(("--only-group", "--only-dev")) for w in words)
    sourced = _uv_sources(pyproject)
    declared = []
    for entry in item.declared:
        if entry.path != pyproject.path or entry.name in skipped or entry.name in sourced:
            continue
        kind, _, name = entry.group.partition(":")
        if entry.group == "dependencies" and not only:
            declared.append(entry)
        elif kind == "extra" and not only and (extras is True or name in (extras or set())):
            declared.append(entry)
        elif kind == "group" and name in groups:
            declared.append(entry)
    changes = _name_changes(declared, _locked_versions(lock.packages), lock.path.rpartition("/")[2])
    if not changes:
        return None
    return Staleness(lock.path, pyproject.path, changes)


def _export_groups(pyproject: PyProject, words: list[str]) -> set[str] | None:
    raw = pyproject.data.get("dependency-groups")
    declared = {canonicalize_name(g) for g in raw} if isinstance(raw, dict) else set()
    if "dev-dependencies" in pyproject.tool("uv"):
        declared.add("dev")
    defaults: Any = pyproject.tool("uv").get("default-groups", ["dev"])
    if defaults == "all":
        chosen = set(declared)
    elif isinstance(defaults, list):
        chosen = {canonicalize_name(g) for g in defaults if isinstance(g, str)}
    else:
        return None

    def values(flag: str) -> list[str]:
        out = []
        for index, word in enumerate(words):
            if word == flag and index + 1 < len(words):
                out.append(canonicalize_name(words[index + 1]))
            elif word.startswith(flag + "="):
                out.append(canonicalize_name(word.partition("=")[2]))
        return out

    if "--no-default-groups" in words:
        chosen = set()
    if "--all-groups" in words:
        chosen = set(declared)
    chosen.update(values("--group"))
    if "--no-dev" in words:
        chosen.discard("dev")
    for group in values("--no-group"):
        chosen.discard(group)
    only = values("--only-group")
    if only:
        chosen = set(only)
    if "--only-dev" in words:
        chosen = {"dev"}
    return chosen & declared


def pylock_staleness(item: PythonProject, lock: PyLock) -> Staleness | None:
    """pylock.toml records no inputs: only "every declared runtime dependency is locked, at an allowed
    version" is checked, for the project's unnamed pylock.toml."""
    pyproject = item.pyproject
    if pyproject is None or item.dynamic or lock.newer_major or lock.path.rpartition("/")[2] != "pylock.toml":
        return None
    sourced = _uv_sources(pyproject)
    declared = [d for d in item.declared if d.path == pyproject.path and d.group == "dependencies"
                and d.name not in sourced]
    locked = _locked_versions(lock.packages)
    if not any(d.name in locked for d in declared):
        return None  # locks something else entirely
    changes = _name_changes(declared, locked, "pylock.toml")
    return Staleness(lock.path, pyproject.path, changes) if changes else None


def describe(staleness: Staleness, limit: int = 3) -> str:
    """The changes as one clause: "'a' was added; 'b' ... (and 2 more)"."""
    shown = [c.description for c in staleness.changes[:limit]]
    more = len(staleness.changes) - len(shown)
    text = "; ".join(shown)
    if more > 0:
        text += f"; and {more} more change{'s' if more > 1 else ''}"
    return text


__all__ = [
    "Change", "Staleness", "compiled_staleness", "describe", "export_staleness", "pdm_content_hash",
    "pdm_staleness", "pipenv_staleness", "pipfile_hash", "poetry_constraint", "poetry_content_hash",
    "poetry_staleness", "pylock_staleness", "uv_staleness",
]

