"""The Python projects in a repository, which tool manages each, which lockfiles belong to it, and what it
declares. Worked out once per scan from the files the Project discovered (`python_projects(project)`).

A project is a folder holding a pyproject.toml, a Pipfile, an environment.yml, a lockfile or requirements
files. Requirements files in a `requirements/` (or `reqs/`, `requirements.d/`) folder belong to the folder
above it. A uv workspace (`[tool.uv.workspace] members`, minus `exclude`) is one root and its members: the
members share the root's uv.lock. Everything is static: nothing is run, nothing outside the repository is
read (a workspace root above the scanned sub-tree is read when it is inside the project root).

Public names: `PythonProject`, `Declared`, `LockRef`, `python_projects`, `owner_folder`, `EXPECTED_LOCK`.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, Iterator

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from envdoctor.files import REQUIREMENTS_FOLDERS
from envdoctor.sources.lockfiles import (
    Lockfile,
    Pipfile,
    RequirementsLock,
    lockfile_kind,
    parse_lockfile,
    parse_pipfile,
    read_requirements_lock,
)
from envdoctor.sources.pyproject import PyProject, parse_pyproject

if TYPE_CHECKING:
    from envdoctor.project import Project


# What each tool locks into, and the command that writes it (for messages).
EXPECTED_LOCK = {
    "uv": ("uv.lock", "uv lock"),
    "poetry": ("poetry.lock", "poetry lock"),
    "pdm": ("pdm.lock", "pdm lock"),
    "pipenv": ("Pipfile.lock", "pipenv lock"),
    "pip-tools": ("a compiled requirements.txt", "uv pip compile requirements.in -o requirements.txt"),
    "conda": ("conda-lock.yml", "conda-lock -f environment.yml"),
}
# Which tool writes each lock kind ("pylock" and "requirements" are written by many).
LOCK_TOOL = {"uv": "uv", "poetry": "poetry", "pdm": "pdm", "pipenv": "pipenv", "conda-lock": "conda",
             "conda-explicit": "conda"}
_EXPORT_TOOL = {"uv export": "uv", "pdm export": "pdm"}


# Folders whose projects are test data (fixture projects of a test suite), not projects of the repository.
TEST_FOLDERS = frozenset({"tests", "test", "testing", "fixtures", "testdata", "test_data", "test-data",
                          "__fixtures__"})


def in_test_folder(rel: str) -> bool:
    """Whether a path lies inside a test or fixture folder (`tests/fixtures/app/uv.lock`)."""
    return any(part.lower() in TEST_FOLDERS for part in rel.split("/"))


@dataclass(frozen=True)
class Declared:
    """One declared requirement. `group` says where: "dependencies", "extra:<x>", "group:<g>" (PEP 735 and
    tool dev groups), "poetry:<group>", "pipfile:<category>", "requirements:<path>"."""

    name: str  # PEP 503-normalised; "" when no name can be read
    text: str  # as written (a PEP 508 string, or "name constraint" for Poetry and Pipfile tables)
    group: str
    path: str
    line: int
    requirement: Requirement | None = None  # parsed, for PEP 508 strings
    spec: Any = None  # the raw value of a Poetry/Pipfile table entry


@dataclass
class LockRef:
    """A lockfile of a project: its path, kind, and the parsed view (None when it cannot be parsed)."""

    path: str
    kind: str  # uv, poetry, pdm, pylock, pipenv, conda-lock, requirements
    view: Lockfile | None
    shared: bool = False  # the uv.lock of the workspace this project is a member of, or a requirements lock
    # compiled from this project's pyproject.toml among others (both kept with the folder that holds them)
    export_of: str | None = None  # the tool whose lock this file is an export of ("uv", "pdm"), if known

    @property
    def tool(self) -> str | None:
        if self.kind == "requirements":
            return self.export_of or "pip-tools"
        if self.kind == "pylock":
            created = getattr(self.view, "created_by", None) or ""
            return next((t for t in ("uv", "pdm", "poetry", "pip") if created.lower().startswith(t)), None)
        return LOCK_TOOL.get(self.kind)


@dataclass
class PythonProject:
    directory: str  # relative to the root, "." for the root
    name: str | None = None
    tool: str | None = None  # the tool that manages it: uv, poetry, pdm, pipenv, pip-tools, conda, or None
    tools: list[str] = field(default_factory=list)  # every tool with evidence, strongest first
    pyproject: PyProject | None = None
    pipfile: Pipfile | None = None
    pipfile_path: str | None = None
    conda_files: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)  # requirements*.in
    requirements: list[str] = field(default_factory=list)  # requirements*.txt / constraints*.txt
    locks: list[LockRef] = field(default_factory=list)
    workspace_root: str | None = None  # uv workspace members: the root's folder
    locked_by: str | None = None  # a local path dependency of another project: the folder whose lock records it
    members: list[str] = field(default_factory=list)  # uv workspace roots: the members' folders
    declared: list[Declared] = field(default_factory=list)
    dynamic: bool = False  # [project] dependencies are dynamic: not statically known

    @property
    def label(self) -> str:
        where = "the repository root" if self.directory == "." else self.directory
        return f"'{self.name}' ({where})" if self.name else f"at {where}"

    @property
    def is_fixture(self) -> bool:
        """The project lies in a test or fixture folder: test data, not judged by the lockfile rules."""
        return self.directory != "." and in_test_folder(self.directory)

    @property
    def pyproject_path(self) -> str | None:
        return self.pyproject.path if self.pyproject is not None else None

    @property
    def manifests(self) -> list[str]:
        out = [p for p in (self.pyproject_path, self.pipfile_path) if p]
        return out + self.inputs + self.conda_files

    @property
    def declares_dependencies(self) -> bool:
        return bool(self.declared)

    def own_locks(self) -> list[LockRef]:
        return [lock for lock in self.locks if not lock.shared]


def python_projects(project: Project) -> list[PythonProject]:
    """Every Python project of the scan, computed once (cached on the Project)."""
    return project.memo("python-projects", lambda: _build(project))


# --- building the model ------------------------------------------------------------------------------------


def _parent(rel: str) -> str:
    return rel.rpartition("/")[0] or "."


def setuptools_requirement_files(pyproject: PyProject) -> list[str]:
    """The requirements files `[tool.setuptools.dynamic]` reads as the project's dependencies or extras
    (`dependencies = { file = ["requirements.txt"] }`, `optional-dependencies.test = { file = [...] }`),
    relative to the scanned root: the package's abstract declaration, not an install source."""
    dynamic = pyproject.tool("setuptools").get("dynamic")
    if not isinstance(dynamic, dict):
        return []
    specs: list[Any] = [dynamic.get("dependencies")]
    extras = dynamic.get("optional-dependencies")
    if isinstance(extras, dict):
        specs.extend(extras.values())
    folder = pyproject.directory
    out: list[str] = []
    for spec in specs:
        files = spec.get("file") if isinstance(spec, dict) else None
        for name in [files] if isinstance(files, str) else files if isinstance(files, list) else []:
            if isinstance(name, str) and name.strip():
                out.append(posixpath.normpath(posixpath.join(folder, name.strip())))
    return out


def owner_folder(rel: str) -> str:
    """The folder of the project a requirements file belongs to (`requirements/` folders: the one above)."""
    folder = _parent(rel)
    if folder != "." and folder.rpartition("/")[2].lower() in REQUIREMENTS_FOLDERS:
        return _parent(folder)
    return folder


def _join(folder: str, name: str) -> str:
    return name if folder == "." else f"{folder}/{name}"


def _build(project: Project) -> list[PythonProject]:
    projects: dict[str, PythonProject] = {}

    def get(folder: str) -> PythonProject:
        if folder not in projects:
            projects[folder] = PythonProject(folder)
        return projects[folder]

    for rel in project.files("pyproject"):
        view = project.parsed("pyproject", rel, parse_pyproject)
        item = get(_parent(rel))
        item.pyproject = view
    lock_paths: dict[str, list[str]] = {}
    for rel in project.files("lockfile"):
        name = rel.rpartition("/")[2]
        if name == "Pipfile":
            item = get(_parent(rel))
            item.pipfile_path = rel
            item.pipfile = project.parsed("pipfile", rel, parse_pipfile)
        elif lockfile_kind(rel):
            lock_paths.setdefault(_parent(rel), []).append(rel)
            get(_parent(rel))
    for rel in project.files("requirements"):
        item = get(owner_folder(rel))
        (item.inputs if rel.endswith(".in") else item.requirements).append(rel)
    for rel in project.files("conda"):
        get(_parent(rel)).conda_files.append(rel)
    for rel in project.files("conda-explicit"):
        lock_paths.setdefault(_parent(rel), []).append(rel)

    for item in projects.values():
        _declare(project, item)
    _workspaces(project, projects)
    for item in projects.values():
        _locks(project, item, lock_paths.get(item.directory, []), projects)
    _compiled_for_others(projects)
    _path_dependencies(projects)
    for item in projects.values():
        _tools(item, projects)
    return [projects[k] for k in sorted(projects, key=lambda d: (d != ".", d))]


def _declare(project: Project, item: PythonProject) -> None:
    pyproject = item.pyproject
    if pyproject is not None:
        table = pyproject.project
        name = table.get("name")
        poetry = pyproject.tool("poetry")
        if not isinstance(name, str):
            name = poetry.get("name") if isinstance(poetry.get("name"), str) else None
        item.name = name
        dynamic = table.get("dynamic")
        item.dynamic = isinstance(dynamic, list) and "dependencies" in dynamic
        item.declared.extend(pep621_declarations(pyproject))
        item.declared.extend(_poetry_declarations(pyproject))
    if item.pipfile is not None:
        for category, packages in item.pipfile.categories.items():
            for name, spec in packages.items():
                if isinstance(name, str):
                    item.declared.append(Declared(
                        canonicalize_name(name), _table_text(name, spec), f"pipfile:{category}",
                        item.pipfile.path, item.pipfile.line_of(category, name), spec=spec))
    for rel in item.inputs:
        view = project.parsed("requirements-lock", rel, read_requirements_lock)
        if view is None or view.requirements is None:
            continue
        for line in view.requirements.requirements:
            if line.editable or line.invalid:
                continue
            item.declared.append(Declared(line.name or "", line.text, f"requirements:{rel}", rel, line.line,
                                          line.requirement))


def pep621_declarations(pyproject: PyProject) -> list[Declared]:
    """[project] dependencies and optional-dependencies, [dependency-groups] (include-group entries are
    not declarations themselves), `[tool.uv] dev-dependencies` and `[tool.pdm] dev-dependencies`."""
    out: list[Declared] = []
    table = pyproject.project
    out.extend(_strings(pyproject, ("project", "dependencies"), table.get("dependencies"), "dependencies"))
    optional = table.get("optional-dependencies")
    if isinstance(optional, dict):
        for extra, values in optional.items():
            out.extend(_strings(pyproject, ("project", "optional-dependencies", extra), values,
                                f"extra:{canonicalize_name(extra)}"))
    groups = pyproject.data.get("dependency-groups")
    if isinstance(groups, dict):
        for group, values in groups.items():
            out.extend(_strings(pyproject, ("dependency-groups", group), values, f"group:{canonicalize_name(group)}"))
    uv_dev = pyproject.tool("uv").get("dev-dependencies")
    out.extend(_strings(pyproject, ("tool", "uv", "dev-dependencies"), uv_dev, "group:dev"))
    pdm_dev = pyproject.tool("pdm").get("dev-dependencies")
    if isinstance(pdm_dev, dict):
        for group, values in pdm_dev.items():
            out.extend(_strings(pyproject, ("tool", "pdm", "dev-dependencies", group), values,
                                f"group:{canonicalize_name(group)}"))
    return out


def _poetry_declarations(pyproject: PyProject) -> list[Declared]:
    poetry = pyproject.tool("poetry")
    out: list[Declared] = []
    tables: list[tuple[tuple[str, ...], Any, str]] = [
        (("tool", "poetry", "dependencies"), poetry.get("dependencies"), "poetry:main"),
        (("tool", "poetry", "dev-dependencies"), poetry.get("dev-dependencies"), "poetry:dev"),
    ]
    groups = poetry.get("group")
    if isinstance(groups, dict):
        for group, body in groups.items():
            if isinstance(body, dict):
                tables.append((("tool", "poetry", "group", group, "dependencies"), body.get("dependencies"),
                               f"poetry:{canonicalize_name(group)}"))
    for keys, packages, group in tables:
        if not isinstance(packages, dict):
            continue
        for name, spec in packages.items():
            if not isinstance(name, str) or name.lower() == "python":
                continue
            out.append(Declared(canonicalize_name(name), _table_text(name, spec), group, pyproject.path,
                                pyproject.line_of(*keys, name), spec=spec))
    return out


def _table_text(name: str, spec: Any) -> str:
    if isinstance(spec, str):
        return f"{name} {spec}".strip() if spec not in ("", "*") else name
    if isinstance(spec, dict) and isinstance(spec.get("version"), str):
        return f"{name} {spec['version']}" if spec["version"] not in ("", "*") else name
    return name


def _strings(pyproject: PyProject, keys: tuple[str, ...], values: Any, group: str) -> Iterator[Declared]:
    if not isinstance(values, list):
        return
    lines = entry_lines(pyproject, keys, [v if isinstance(v, str) else None for v in values])
    for value, line in zip(values, lines):
        if not isinstance(value, str):
            continue
        try:
            requirement: Requirement | None = Requirement(value)
            name = canonicalize_name(requirement.name)  # type: ignore[union-attr]
        except InvalidRequirement:
            requirement = None
            match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)", value)
            name = canonicalize_name(match.group(1)) if match else ""
        yield Declared(name, value, group, pyproject.path, line, requirement)


_HEADER_RE = re.compile(r"""^\s*\[\[?\s*[A-Za-z0-9_"'][A-Za-z0-9_"'. -]*\]\]?\s*(#.*)?$""")


def entry_lines(pyproject: PyProject, keys: tuple[str, ...], values: list[str | None]) -> list[int]:
    """The line of each string of an array value: searched from the key's line onwards, in order."""
    start = pyproject.line_of(*keys)
    lines = pyproject.doc.lines
    out: list[int] = []
    position = start - 1
    for value in values:
        found = start
        if value is not None:
            for index in range(position, min(len(lines), position + 5000)):
                text = lines[index]
                if index > start - 1 and _HEADER_RE.match(text):
                    break  # a table header: the array ended
                if f'"{value}"' in text or f"'{value}'" in text:
                    found, position = index + 1, index
                    break
        out.append(found)
    return out


def _workspaces(project: Project, projects: dict[str, PythonProject]) -> None:
    roots = {d: p for d, p in projects.items() if p.pyproject and isinstance(p.pyproject.tool("uv").get("workspace"), dict)}
    for folder, item in projects.items():
        if item.pyproject is None:
            continue
        root = _workspace_root_for(folder, roots)
        if root is None and folder != ".":
            root = _ancestor_workspace(project, folder, projects, roots)
        if root is not None:
            item.workspace_root = root.directory
            root.members.append(folder)


def _workspace_root_for(folder: str, roots: dict[str, PythonProject]) -> PythonProject | None:
    """The nearest workspace root above `folder` whose members include it."""
    candidates = sorted((d for d in roots if d != folder and (d == "." or folder.startswith(d + "/"))),
                        key=lambda d: -len(d) if d != "." else 0)
    for root_dir in candidates:
        root = roots[root_dir]
        relative = folder if root_dir == "." else folder[len(root_dir) + 1:]
        if workspace_includes(root.pyproject, relative):  # type: ignore[arg-type]
            return root
    return None


def workspace_includes(pyproject: PyProject, relative: str) -> bool:
    workspace = pyproject.tool("uv").get("workspace")
    if not isinstance(workspace, dict):
        return False
    members = [m for m in workspace.get("members", []) if isinstance(m, str)] if isinstance(workspace.get("members"), list) else []
    exclude = [m for m in workspace.get("exclude", []) if isinstance(m, str)] if isinstance(workspace.get("exclude"), list) else []
    return any(_glob_match(g, relative) for g in members) and not any(_glob_match(g, relative) for g in exclude)


def _glob_match(pattern: str, path: str) -> bool:
    pattern = pattern.strip().strip("/")
    while pattern.startswith("./"):
        pattern = pattern[2:]
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape(pattern[i]))
                i += 1
            else:
                body = pattern[i + 1:end].replace("\\", "\\\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append(f"[{body}]")
                i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    try:
        return re.fullmatch("".join(out), path) is not None
    except re.error:
        return False


def _ancestor_workspace(project: Project, folder: str, projects: dict[str, PythonProject],
                        roots: dict[str, PythonProject]) -> PythonProject | None:
    """A workspace root above a scanned sub-tree: read its pyproject.toml (only when it was not scanned)."""
    path = PurePosixPath(folder)
    for ancestor in path.parents:
        ancestor_dir = ancestor.as_posix() if str(ancestor) != "." else "."
        if ancestor_dir in projects:
            continue  # scanned: already considered
        rel = _join(ancestor_dir, "pyproject.toml")
        if not is_file(project, rel):
            continue
        view = project.parsed("pyproject", rel, parse_pyproject)
        if view is None:
            return None
        relative = folder if ancestor_dir == "." else folder[len(ancestor_dir) + 1:]
        if isinstance(view.tool("uv").get("workspace"), dict):
            if not workspace_includes(view, relative):
                return None
            outside = PythonProject(ancestor_dir, pyproject=view)
            name = view.project.get("name")
            outside.name = name if isinstance(name, str) else None
            projects_outside = roots.setdefault(ancestor_dir, outside)
            return projects_outside
    return None


def is_file(project: Project, rel: str) -> bool:
    """Whether a regular file exists at `rel` inside the root (a stat; links leading out do not count)."""
    path_type = getattr(project, "path_type", None)
    if path_type is not None:
        return bool(path_type(rel) == "file")
    try:
        target = (project.root / rel).resolve(strict=True)
    except (OSError, RuntimeError):
        return False
    return project.root in target.parents and target.is_file()


def _locks(project: Project, item: PythonProject, own: list[str], projects: dict[str, PythonProject]) -> None:
    for rel in own:
        if rel.rpartition("/")[2].endswith((".lock", ".txt")) and lockfile_kind(rel) is None:
            item.locks.append(LockRef(rel, "conda-explicit", None))  # conda-lock's explicit per-platform files
            continue
        kind = lockfile_kind(rel) or "unknown"
        item.locks.append(LockRef(rel, kind, project.parsed("lockfile", rel, parse_lockfile)))
    for rel in item.requirements:
        view = project.parsed("requirements-lock", rel, read_requirements_lock)
        if view is None or not view.fully_pinned:
            continue
        export_of = _EXPORT_TOOL.get(view.tool or "")
        item.locks.append(LockRef(rel, "requirements", view, export_of=export_of))
    if item.workspace_root is not None:
        root_lock = _join(item.workspace_root, "uv.lock")
        root = projects.get(item.workspace_root)
        if root_lock in project.files("lockfile"):
            item.locks.append(LockRef(root_lock, "uv", project.parsed("lockfile", root_lock, parse_lockfile),
                                      shared=True))
        elif root is None and is_file(project, root_lock):  # above the scanned sub-tree
            item.locks.append(LockRef(root_lock, "uv", project.parsed("lockfile", root_lock, parse_lockfile),
                                      shared=True))


# `# via api (services/api/pyproject.toml)`: the project a compiled requirement comes from, with its file.
_VIA_PROJECT_RE = re.compile(r"\(([^()\s]*pyproject\.toml)\)")


def _compiled_pyprojects(lock: LockRef) -> set[str]:
    """The pyproject.toml files a compiled requirements lock was compiled from: named by its header command
    (`uv pip compile services/api/pyproject.toml ...`) or by its `# via name (path/pyproject.toml)`
    annotations; each relative to the lock's folder or to the root (where the command may have run)."""
    view = lock.view
    if not isinstance(view, RequirementsLock):
        return set()
    named = list(view.inputs) + [m for vias in view.via.values() for via in vias
                                 for m in _VIA_PROJECT_RE.findall(via)]
    out: set[str] = set()
    for name in named:
        if name.rpartition("/")[2] != "pyproject.toml" or "$" in name or name.startswith(("/", "~")):
            continue
        for base in (_parent(lock.path), "."):
            path = posixpath.normpath(posixpath.join(base, name))
            if not path.startswith("../"):
                out.add(path)
    return out


def _compiled_for_others(projects: dict[str, PythonProject]) -> None:
    """A fully pinned requirements file compiled from other projects' pyproject.toml files (one root lock of
    a monorepo's services) is their lock too: it is added to each as a shared lock, as the workspace's
    uv.lock is to its members (judged, committed or not, with the project whose folder holds it)."""
    by_pyproject = {p.pyproject_path: p for p in projects.values() if p.pyproject_path}
    for owner in list(projects.values()):
        for lock in owner.own_locks():
            if lock.kind != "requirements":
                continue
            for path in sorted(_compiled_pyprojects(lock)):
                target = by_pyproject.get(path)
                if target is None or target is owner or any(other.path == lock.path for other in target.locks):
                    continue
                target.locks.append(LockRef(lock.path, "requirements", lock.view, shared=True,
                                            export_of=lock.export_of))


def _path_dependencies(projects: dict[str, PythonProject]) -> None:
    """A project that another project's lock records as a local folder source (a path dependency: uv's
    `editable`/`directory` sources, Poetry's `directory`, PDM's `path`) is locked by that lock."""
    for owner in list(projects.values()):
        for lock in owner.own_locks():
            if lock.kind not in ("uv", "poetry", "pdm") or lock.view is None:
                continue
            for package in lock.view.packages:
                location = package.location
                if not location or "://" in location or location.endswith((".whl", ".zip", ".tar.gz")):
                    continue
                target = _normalize(_join(owner.directory, location))
                item = projects.get(target) if target else None
                if item is None or item is owner or item.workspace_root is not None or item.own_locks():
                    continue
                if item.locked_by is None:
                    item.locked_by = owner.directory
                    item.locks.append(LockRef(lock.path, lock.kind, lock.view, shared=True))


def _normalize(rel: str) -> str | None:
    parts: list[str] = []
    for part in rel.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None  # outside the root
            parts.pop()
            continue
        parts.append(part)
    return "/".join(parts) or "."


def _tools(item: PythonProject, projects: dict[str, PythonProject]) -> None:
    tools: list[str] = []

    def add(tool: str) -> None:
        if tool not in tools:
            tools.append(tool)

    pyproject = item.pyproject
    if pyproject is not None:
        poetry = pyproject.tool("poetry")
        if any(k in poetry for k in ("dependencies", "group", "dev-dependencies")):
            add("poetry")
        if set(pyproject.tool("pdm")) - {"build", "version"}:
            add("pdm")
        if pyproject.tool("uv"):
            add("uv")
        if poetry:
            add("poetry")
    if item.pipfile_path:
        add("pipenv")
    if item.workspace_root is not None:
        add("uv")
    kinds = {lock.kind for lock in item.locks}
    for kind in ("uv", "poetry", "pdm", "pipenv", "conda-lock", "conda-explicit"):
        if kind in kinds:
            add(LOCK_TOOL[kind])
    if pyproject is not None:
        backend = pyproject.data.get("build-system", {})
        backend = backend.get("build-backend") if isinstance(backend, dict) else None
        if isinstance(backend, str):
            if backend.startswith("poetry."):
                add("poetry")
            elif backend == "uv_build":
                add("uv")
    if item.conda_files:
        add("conda")
    if item.inputs or any(lock.kind == "requirements" and lock.export_of is None and
                          getattr(lock.view, "tool", None) in ("pip-compile", "uv pip compile") for lock in item.locks):
        add("pip-tools")
    item.tools = tools
    item.tool = tools[0] if tools else None
