"""ED2xx: lockfiles. "Commit the lockfile; build from the lockfile", for uv, Poetry, PDM, pip-tools and
`uv pip compile`, Pipenv and conda-lock, judged per project (sources/projects.py) from the lockfiles'
real structure (sources/lockfiles.py) and, for staleness, as each tool decides it (sources/staleness.py).
Rules that need git facts are silent when git is unavailable."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Callable, Iterator

from envdoctor.findings import Hit, Severity
from envdoctor.registry import Context, Rule
from envdoctor.sources.lockfiles import Lockfile, PipfileLock, RequirementsLock, read_requirements_lock
from envdoctor.sources.projects import (
    EXPECTED_LOCK,
    LockRef,
    PythonProject,
    in_test_folder,
    owner_folder,
    python_projects,
    setuptools_requirement_files,
)
from envdoctor.sources.requirements import READTHEDOCS_CONFIGS, readthedocs_requirements
from envdoctor.sources.staleness import (
    Staleness,
    compiled_staleness,
    describe,
    export_staleness,
    pdm_staleness,
    pipenv_staleness,
    poetry_staleness,
    pylock_staleness,
    uv_staleness,
)


def _name(rel: str) -> str:
    return rel.rpartition("/")[2]


def _projects_by_dir(context: Context) -> dict[str, PythonProject]:
    return {p.directory: p for p in python_projects(context.project)}


def _anchor(item: PythonProject) -> tuple[str, int]:
    """Where a project-level finding goes: the key that declares its first dependency."""
    first = item.declared[0]
    pyproject = item.pyproject
    if pyproject is not None and first.path == pyproject.path:
        group = first.group
        if group == "dependencies":
            return first.path, pyproject.line_of("project", "dependencies")
        if group.startswith("extra:"):
            return first.path, pyproject.line_of("project", "optional-dependencies")
        if group.startswith("group:") and "dependency-groups" in pyproject.data:
            return first.path, pyproject.line_of("dependency-groups")
    if item.pipfile is not None and first.path == item.pipfile.path:
        category = first.group.partition(":")[2]
        return first.path, item.pipfile.line_of(category)
    return first.path, first.line


_TOOL_NAMES = {"uv": "uv", "poetry": "Poetry", "pdm": "PDM", "pipenv": "Pipenv", "pip-tools": "pip-tools",
               "conda": "conda"}


def _lock_advice(tool: str | None) -> tuple[str, str]:
    if tool in EXPECTED_LOCK:
        return EXPECTED_LOCK[tool]
    return "uv.lock", "uv lock"


class MissingLockfile(Rule):
    code = "ED201"
    name = "missing-lockfile"
    severity = Severity.ERROR
    target = "python-project"
    summary = "A project declares dependencies and no lockfile of its tool exists."

    def check(self, item: PythonProject, context: Context) -> Iterator[Hit]:
        if item.is_fixture:
            return  # a test suite's fixture project
        if item.locks:
            return
        projects = _projects_by_dir(context)
        if item.workspace_root is not None and item.workspace_root in projects:
            return  # the workspace root reports its missing uv.lock, once
        declaring = item.declared or [d for m in item.members if m in projects for d in projects[m].declared]
        if not declaring:
            return
        if item.pyproject is None and item.pipfile is None and not item.inputs:
            return  # an environment.yml alone: ED306 (conda-env-unpinned) covers it
        if not item.declared:
            path, line = item.pyproject_path or item.manifests[0], 1
            if item.pyproject is not None:
                line = item.pyproject.line_of("tool", "uv", "workspace")
        else:
            path, line = _anchor(item)
        file, command = _lock_advice(item.tool)
        count = len(declaring)
        if item.tool == "pip-tools":
            inputs = ", ".join(item.inputs) or "its requirements.in"
            message = (f"Project {item.label} declares {count} requirement{'s' if count != 1 else ''} in {inputs} "
                       f"and has no compiled, pinned requirements file: every install resolves afresh, so two "
                       f"installs of the same commit can differ.")
        elif not item.declared:
            message = (f"The uv workspace {item.label} has no uv.lock while its members declare {count} "
                       f"dependenc{'ies' if count != 1 else 'y'}: every install resolves afresh, so two installs "
                       f"of the same commit can differ.")
        else:
            tool = f", managed with {_TOOL_NAMES.get(item.tool, item.tool)}," if item.tool else ""
            message = (f"Project {item.label}{tool} declares {count} dependenc{'ies' if count != 1 else 'y'} and "
                       f"has no lockfile ({file}, pylock.toml, or a fully pinned requirements file): every "
                       f"install resolves afresh, so two installs of the same commit can differ.")
        yield Hit(message, line=line, path=path, fix_hint=f"Run `{command}` and commit {file}.")


def _requirements_is_the_lock(lock: LockRef, item: PythonProject) -> bool:
    view = lock.view
    if not isinstance(view, RequirementsLock):
        return False
    if view.tool in ("pip-compile", "uv pip compile"):
        return True
    stem = lock.path[:-4] if lock.path.endswith(".txt") else lock.path
    if f"{stem}.in" in item.inputs:
        return True
    return all(other.kind == "requirements" for other in item.locks)


def _committed_export(context: Context, item: PythonProject, tool: str) -> str | None:
    git = context.project.git
    for lock in item.locks:
        view = lock.view
        if (lock.kind == "requirements" and lock.export_of == tool and isinstance(view, RequirementsLock)
                and view.hashed and git.tracked(lock.path)):
            return lock.path
    return None


class LockfileNotCommitted(Rule):
    code = "ED202"
    name = "lockfile-not-committed"
    severity = Severity.ERROR
    target = "python-project"
    summary = "A lockfile exists but git does not track it (untracked or ignored)."

    def check(self, item: PythonProject, context: Context) -> Iterator[Hit]:
        if item.is_fixture:
            return  # a test suite's fixture project
        git = context.project.git
        if not git.available:
            return
        candidates = [lock for lock in item.own_locks()
                      if lock.kind != "requirements" or _requirements_is_the_lock(lock, item)]
        untracked = [lock for lock in candidates if not git.tracked(lock.path)]
        if not untracked:
            return
        # A project whose manifest is not committed either (a new project, a vendored or ignored folder)
        # is not part of the repository yet: its lock is not judged.
        manifests = [m for m in item.manifests if m]
        if not any(git.tracked(m) for m in manifests):
            return
        ignored = git.ignored([lock.path for lock in untracked])
        for lock in untracked:
            name = _name(lock.path)
            if lock.path in ignored:
                export = _committed_export(context, item, lock.tool or "") if lock.kind == "uv" else None
                if export is not None:
                    continue  # the committed, hash-pinned `uv export` is the lock
                yield Hit(
                    f"{name} of project {item.label} is ignored by git: CI and everyone else never get it, so "
                    f"each install resolves afresh.",
                    path=lock.path,
                    fix_hint=f"Remove the ignore rule and commit it (`git add -f {lock.path}`)" + (
                        ", or commit a hash-pinned export of it (`uv export --format requirements-txt -o "
                        "requirements.lock.txt`)." if lock.kind == "uv" else "."),
                )
            else:
                yield Hit(
                    f"{name} of project {item.label} is not committed (untracked): CI and everyone else build "
                    f"without it, so each install resolves afresh.",
                    path=lock.path,
                    fix_hint=f"Commit it: `git add {lock.path}`.",
                )


_FIX_STALE = {
    "uv": "Run `uv lock` and commit uv.lock; in CI and images use `uv sync --locked`, which refuses a stale lock.",
    "poetry": "Run `poetry lock` and commit poetry.lock.",
    "pdm": "Run `pdm lock` and commit pdm.lock.",
    "pipenv": "Run `pipenv lock` and commit Pipfile.lock.",
    "pylock": "Re-export the lock (e.g. `uv export --format pylock.toml -o pylock.toml`) and commit it.",
}


def _staleness(context: Context, item: PythonProject) -> Iterator[tuple[LockRef, Staleness]]:
    project = context.project
    projects = _projects_by_dir(context)
    for lock in item.locks:
        view = lock.view
        if view is None:
            continue
        results: list[Staleness] = []
        if lock.kind == "uv":
            if lock.shared:
                if item.workspace_root in projects:
                    continue  # the workspace root compares its members
                owner = item.workspace_root or item.locked_by or "."
                results = uv_staleness(project, view, PythonProject(owner), [item], False)
            else:
                members = [projects[m] for m in item.members if m in projects]
                complete = project.scan_paths == [project.root]
                results = uv_staleness(project, view, item, members, complete)
        elif lock.shared:
            continue  # a path dependency in a Poetry or PDM lock: the lock's own project is judged
        elif lock.kind == "poetry":
            results = [s for s in [poetry_staleness(item, view)] if s]
        elif lock.kind == "pdm":
            results = [s for s in [pdm_staleness(item, view)] if s]
        elif lock.kind == "pipenv" and isinstance(view, PipfileLock):
            results = [s for s in [pipenv_staleness(item, view)] if s]
        elif lock.kind == "pylock":
            results = [s for s in [pylock_staleness(item, view)] if s]
        elif lock.kind == "requirements" and isinstance(view, RequirementsLock):
            if view.tool == "uv export":
                results = [s for s in [export_staleness(item, view)] if s]
            else:
                results = [s for s in [compiled_staleness(project, item, view)] if s]
        for result in results:
            yield lock, result


class LockfileStale(Rule):
    code = "ED203"
    name = "lockfile-stale"
    severity = Severity.ERROR
    target = "python-project"
    summary = "A lockfile no longer matches the dependencies its project declares."

    def check(self, item: PythonProject, context: Context) -> Iterator[Hit]:
        if item.is_fixture:
            return  # a test suite's fixture project
        projects = _projects_by_dir(context)
        leftovers = _leftover_locks(item)
        for lock, staleness in _staleness(context, item):
            if lock.path in leftovers:
                continue  # another tool's lock the project is not configured for: ED205 reports it
            what = describe(staleness) if staleness.changes else staleness.reason
            owner = next((p for p in projects.values() if staleness.manifest in p.manifests), item)
            view = lock.view
            if lock.kind == "requirements" and isinstance(view, RequirementsLock):
                command = view.command or "uv pip compile requirements.in -o requirements.txt"
                fix = f"Regenerate it: `{command}`, and commit it."
            else:
                fix = _FIX_STALE.get(lock.kind, "Regenerate the lock and commit it.")
            yield Hit(f"{lock.path} is stale for project {owner.label}: {what}.", line=staleness.line,
                      path=staleness.path, fix_hint=fix)


def _manifests_for(lock: LockRef, item: PythonProject, projects: dict[str, PythonProject]) -> list[str]:
    if lock.kind == "pipenv":
        return [item.pipfile_path] if item.pipfile_path else []
    if lock.kind in ("conda-lock", "conda-explicit"):
        return list(item.conda_files)
    if lock.kind == "requirements":
        view = lock.view
        stem = lock.path[:-4] if lock.path.endswith(".txt") else lock.path
        if f"{stem}.in" in item.inputs:
            return [f"{stem}.in"]
        if isinstance(view, RequirementsLock) and view.tool in ("uv export", "pdm export") and item.pyproject_path:
            return [item.pyproject_path]
        return []
    out = [item.pyproject_path] if item.pyproject_path else []
    if lock.kind == "uv":
        out += [p.pyproject_path for m in item.members if (p := projects.get(m)) and p.pyproject_path]
    return out


# What a manifest change must touch to matter to the lock: pyproject.toml's dependency declarations and the
# tool settings the lockers read (a [tool.ruff] or a description change is not an input of any lock).
_PROJECT_INPUTS = ("name", "version", "requires-python", "dependencies", "optional-dependencies", "dynamic")
_TOOL_INPUTS: dict[str, tuple[str, ...] | None] = {
    "uv": None,  # all of [tool.uv]: sources, indexes, constraints, workspace, package, environments...
    "poetry": ("dependencies", "dev-dependencies", "group", "source", "extras"),  # what Poetry hashes
    "pdm": ("source", "dev-dependencies", "resolution"),  # what PDM hashes
    "setuptools": ("dynamic",),  # `dependencies = { file = [...] }`
}


def _dependency_inputs(rel: str, text: str | None) -> object | None:
    """What of a manifest's content a lock depends on, comparable between two versions of the file; None
    when it cannot be read (then any change counts)."""
    if text is None:
        return None
    name = _name(rel)
    if name in ("pyproject.toml", "Pipfile"):
        from envdoctor.sources.toml import parse_toml

        try:
            data = parse_toml(text).data
        except Exception:  # a broken file: not comparable
            return None
        if name == "Pipfile":
            return {k: v for k, v in data.items() if k != "scripts"}
        project = data.get("project") if isinstance(data.get("project"), dict) else {}
        tools = data.get("tool") if isinstance(data.get("tool"), dict) else {}
        inputs: dict[str, object] = {
            "project": {k: project[k] for k in _PROJECT_INPUTS if k in project},
            "dependency-groups": data.get("dependency-groups"),
            "build-system": data.get("build-system"),
        }
        for tool, keys in _TOOL_INPUTS.items():
            table = tools.get(tool)
            if isinstance(table, dict):
                inputs[tool] = table if keys is None else {k: table.get(k) for k in keys}
            elif table is not None:
                inputs[tool] = table
        return inputs
    # requirements.in, environment.yml: every line counts but comments and blank lines
    return [line.rstrip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def _git_text(context: Context, spec: str) -> str | None:
    """A blob's text (`<blob id>`, `HEAD:./<path>`), None if git cannot give it."""
    from envdoctor.git import GitError, run_git

    try:
        return run_git(context.project.git.root, "cat-file", "blob", spec).decode("utf-8", "replace")
    except GitError:
        return None


def _inputs_changed(context: Context, manifest: str, staged_change: bool) -> bool:
    """Whether the manifest's staged change (HEAD to index) or its unstaged change (index to working tree)
    touches what the lock is made from. When either side cannot be read, it is taken to."""
    git = context.project.git
    index_text = _git_text(context, git.index[manifest]) if manifest in git.index else None
    if staged_change:
        before, after = _git_text(context, f"HEAD:./{manifest}"), index_text
    else:
        before, after = index_text, context.project.text(manifest)
    old, new = _dependency_inputs(manifest, before), _dependency_inputs(manifest, after)
    return old is None or new is None or old != new


class LockfileUncommittedChanges(Rule):
    code = "ED204"
    name = "lockfile-uncommitted-changes"
    severity = Severity.WARNING
    target = "python-project"
    summary = "A lockfile, or its manifest while the other is staged, has changes not committed."

    def check(self, item: PythonProject, context: Context) -> Iterator[Hit]:
        if item.is_fixture:
            return  # a test suite's fixture project
        git = context.project.git
        if not git.available:
            return
        projects = _projects_by_dir(context)
        staged = git.staged
        for lock in item.own_locks():
            if not git.tracked(lock.path):
                continue  # ED202's business
            name = _name(lock.path)
            lock_changed = git.modified(lock.path) is True
            lock_staged = lock.path in staged
            reported = False
            for manifest in _manifests_for(lock, item, projects):
                if not git.tracked(manifest):
                    continue
                manifest_changed = git.modified(manifest) is True
                manifest_staged = manifest in staged
                if manifest_staged and not lock_staged and lock_changed and not reported \
                        and _inputs_changed(context, manifest, staged_change=True):
                    reported = True
                    yield Hit(f"{manifest} is staged but the changes to {name} are not: the commit would record "
                              f"the new dependencies with the old lock.", path=lock.path,
                              fix_hint=f"Stage the lock too: `git add {lock.path}`.")
                elif lock_staged and not manifest_staged and manifest_changed \
                        and _inputs_changed(context, manifest, staged_change=False):
                    yield Hit(f"{name} is staged but the changes to {_name(manifest)} are not: the commit would "
                              f"record the new lock with the old manifest.", path=manifest,
                              fix_hint=f"Stage the manifest too: `git add {manifest}`.")
            if lock_changed and not reported:
                yield Hit(f"{name} of project {item.label} has changes that are not committed: CI and everyone "
                          f"else build from the committed lock, not the one in this working tree.",
                          path=lock.path, fix_hint=f"Commit it with its manifest: `git add {lock.path}`, then commit.")


def _agree(a: Lockfile, b: Lockfile) -> tuple[bool, list[str]]:
    """Whether two locks pin the same versions where both pin a package; and the disagreements."""
    theirs = b.locked()
    disagreements = []
    for name, entries in a.locked().items():
        versions = {e.version for e in entries if e.version}
        other = {e.version for e in theirs.get(name, []) if e.version}
        if versions and other and not versions & other:
            disagreements.append(f"{name} {'/'.join(sorted(versions))} vs {'/'.join(sorted(other))}")
    return not disagreements, disagreements


def _competes(lock: LockRef, primary: LockRef, item: PythonProject) -> tuple[bool, str]:
    if lock.kind in ("conda-lock", "conda-explicit") or primary.kind in ("conda-lock", "conda-explicit"):
        return False, ""  # conda locks system packages; a PyPI lock beside it is a common, sound setup
    if lock.tool is not None and lock.tool == primary.tool:
        return False, ""
    if lock.kind in ("requirements", "pylock") or primary.kind in ("requirements", "pylock"):
        # An export or a pip-compile file beside a tool's lock competes only when it locks the project's
        # own dependencies and disagrees with the other lock.
        if lock.view is None or primary.view is None:
            return False, ""
        runtime = {d.name for d in item.declared if not d.group.startswith(("group:", "poetry:dev"))}
        if not runtime & set(lock.view.locked()) or not runtime & set(primary.view.locked()):
            return False, ""
        agree, disagreements = _agree(lock.view, primary.view)
        if agree:
            return False, ""
        shown = ", ".join(disagreements[:3]) + (f" and {len(disagreements) - 3} more" if len(disagreements) > 3 else "")
        return True, f" and they disagree ({shown})"
    return True, ""


_POETRY_MARKER_RE = re.compile(r'^python_(full_)?version\s*(>=|<|<=|>|==|!=)\s*"[0-9.*]+"'
                               r'(\s+(and|or)\s+python_(full_)?version\s*(>=|<|<=|>|==|!=)\s*"[0-9.*]+")*$')


def _stale_poetry_export(lock: LockRef, primary: LockRef) -> tuple[int, str] | None:
    """A requirements file with the exact shape `poetry export` writes (no compile header, every line
    `name==version ; <Python markers in double quotes>` with hashes) that disagrees with poetry.lock: the
    line of the first disagreeing pin and what disagrees. None when the shape is not certain."""
    view, locked = lock.view, primary.view
    if primary.kind != "poetry" or lock.kind != "requirements" or not isinstance(view, RequirementsLock) \
            or locked is None or view.requirements is None or view.tool is not None or not view.hashed:
        return None
    lines = view.requirements.requirements
    if not lines or view.requirements.options:
        return None
    for line in lines:
        marker = line.text.partition(";")[2].strip()
        if not line.pinned or line.requirement is None or line.requirement.url or not _POETRY_MARKER_RE.match(marker):
            return None
    theirs = locked.locked()
    disagreeing: list[tuple[int, str]] = []
    for line in lines:
        name = line.name or ""
        version = next(iter(line.requirement.specifier)).version if line.requirement else ""
        other = sorted({e.version for e in theirs.get(name, []) if e.version})
        if other and version not in other:
            disagreeing.append((line.line, f"{name} {version} here, {'/'.join(other)} in {_name(primary.path)}"))
    if not disagreeing:
        return None
    shown = "; ".join(text for _, text in disagreeing[:3])
    if len(disagreeing) > 3:
        shown += f"; and {len(disagreeing) - 3} more"
    return disagreeing[0][0], shown


_KIND_ORDER = ("uv", "poetry", "pdm", "pipenv", "pylock", "requirements", "conda-lock", "conda-explicit")


def _configured_for(item: PythonProject, tool: str) -> bool:
    """Whether the project's own configuration names `tool`: its table in pyproject.toml, its build backend,
    a Pipfile, a uv workspace, requirements.in files, an environment.yml. The project's tool may also be
    guessed from its lockfiles alone (sources/projects.py), and then ED205 must not say "configured for"."""
    pyproject = item.pyproject
    backend = pyproject.data.get("build-system", {}) if pyproject is not None else None
    backend = backend.get("build-backend") if isinstance(backend, dict) else None
    if tool == "uv":
        return bool(pyproject is not None and pyproject.tool("uv")) or item.workspace_root is not None \
            or backend == "uv_build"
    if tool == "poetry":
        return bool(pyproject is not None and pyproject.tool("poetry")) \
            or (isinstance(backend, str) and backend.startswith("poetry."))
    if tool == "pdm":
        return pyproject is not None and bool(set(pyproject.tool("pdm")) - {"build", "version"})
    if tool == "pipenv":
        return bool(item.pipfile_path)
    if tool == "pip-tools":
        return bool(item.inputs)
    if tool == "conda":
        return bool(item.conda_files)
    return False


def _competitors(item: PythonProject) -> list[tuple[LockRef, LockRef, str]]:
    """The locks ED205 reports as competing with the project's primary lock: (lock, primary, detail)."""
    # A path dependency's own lock beside the lock of the project that uses it is not a competitor, nor is
    # a requirements lock compiled in another folder from several projects' pyproject.toml files.
    candidates = [lock for lock in item.locks
                  if not (lock.shared and (item.locked_by is not None or lock.kind == "requirements"))]
    locks = sorted(candidates, key=lambda lock: (_KIND_ORDER.index(lock.kind) if lock.kind in _KIND_ORDER
                                                 else len(_KIND_ORDER), lock.path))
    if len(locks) < 2:
        return []
    primary = next((lock for lock in locks if item.tool and lock.tool == item.tool
                    and lock.kind not in ("requirements", "pylock")), locks[0])
    out: list[tuple[LockRef, LockRef, str]] = []
    reported: set[str] = set()
    # A lock that cannot be parsed (ED001) still competes: its file name says whose it is, and mending
    # its syntax leaves two tools' locks. Only what needs its content (whether a pylock.toml or a pinned
    # requirements file is the other tool's export, or agrees with the lock) is not guessed at.
    for lock in locks:
        if lock is primary or lock.shared or lock.path in reported:
            continue
        competes, detail = _competes(lock, primary, item)
        if competes:
            reported.add(lock.path)
            out.append((lock, primary, detail))
    return out


def _leftover_locks(item: PythonProject) -> set[str]:
    """Tool locks that ED205 reports as competing and whose tool the project is not configured for (a
    poetry.lock left in a uv project without [tool.poetry]): ED205's business, not judged as stale (that
    would advise `poetry lock` for a project that does not use Poetry)."""
    return {lock.path for lock, _, _ in _competitors(item)
            if lock.kind in ("uv", "poetry", "pdm", "pipenv") and lock.tool and not _configured_for(item, lock.tool)}


class CompetingLockfiles(Rule):
    code = "ED205"
    name = "competing-lockfiles"
    severity = Severity.WARNING
    target = "python-project"
    summary = "One project has lockfiles of two tools, so nobody knows which one CI builds from."

    def check(self, item: PythonProject, context: Context) -> Iterator[Hit]:
        if item.is_fixture:
            return  # a test suite's fixture project
        for lock, primary, detail in _competitors(item):
            stale_export = _stale_poetry_export(lock, primary)
            if stale_export is not None:
                line, shown = stale_export
                yield Hit(f"{_name(lock.path)} has the shape of a `poetry export` of {primary.path} (every line "
                          f"pinned with == and hashed, with Poetry's markers) but is a stale export: {shown}.",
                          path=lock.path, line=line,
                          fix_hint=f"Export it again from {primary.path}: `poetry export -f requirements.txt "
                                   f"-o {lock.path}` (with the options it was exported with), or delete it.")
                continue
            tool = (f" (the project is configured for {_TOOL_NAMES.get(item.tool, item.tool)})"
                    if item.tool and item.tool == primary.tool and _configured_for(item, item.tool) else "")
            yield Hit(f"{_name(lock.path)} and {primary.path} both lock project {item.label}{detail}: nobody knows "
                      f"which one CI and the images build from{tool}.", path=lock.path,
                      fix_hint=f"Keep one tool's lock: delete {lock.path}, or {primary.path} and the tool "
                               f"configuration that goes with it.")


# --- ED206 ------------------------------------------------------------------------------------------------

_PIP_RE = re.compile(r"^pip(3(\.\d+)?)?$")
_PYTHON_RE = re.compile(r"^python(3(\.\d+)?)?$")


@dataclass(frozen=True)
class _Source:
    why: str  # "installed by Dockerfile:12", "included by requirements.txt", "the project's requirements.txt"
    constraints: tuple[str, ...] = ()  # constraint files given with it (`pip install -r x -c y`)


def _install_args(argv: tuple[str, ...]) -> list[str] | None:
    """The arguments after `install` of a pip install (or `uv pip install`/`sync`, `pip-sync`)."""
    if not argv:
        return None
    head = posixpath.basename(argv[0])
    if _PIP_RE.match(head) and argv[1:2] == ("install",):
        return list(argv[2:])
    if _PYTHON_RE.match(head) and argv[1:4] == ("-m", "pip", "install"):
        return list(argv[4:])
    if head == "uv" and argv[1:3] in (("pip", "install"), ("pip", "sync")):
        return list(argv[3:]) if argv[2] == "install" else ["-r" + a for a in argv[3:] if not a.startswith("-")]
    if head == "pip-sync":
        return ["-r" + a for a in argv[1:] if not a.startswith("-")]
    return None


def _option_values(args: list[str], short: str, long: str) -> list[str]:
    out = []
    index = 0
    while index < len(args):
        word = args[index]
        if word in (short, long) and index + 1 < len(args):
            out.append(args[index + 1])
            index += 2
            continue
        if word.startswith(long + "="):
            out.append(word.partition("=")[2])
        elif word.startswith(short) and len(word) > len(short) and not word.startswith("--"):
            out.append(word[len(short):])
        index += 1
    return out


def _image_path(path: str, workdir: str) -> str:
    return posixpath.normpath(path if path.startswith("/") else posixpath.join(workdir, path))


def _build_context(dockerfile, context: Context) -> Callable[[], str]:
    """The Dockerfile's build context (a Compose file's, else inferred: rules/_dockerbuild.py), worked out on
    first use: most Dockerfiles install no requirements file (build_of makes the Build once per scan)."""

    def folder() -> str:
        from envdoctor.rules._dockerbuild import build_of

        return build_of(dockerfile, context).context or "."

    return folder


def _dockerfile_sources(context: Context, known: set[str]) -> Iterator[tuple[str, _Source]]:
    from envdoctor.sources.shell import run_commands, unwrap

    for docker_item in context.project.items("dockerfile"):
        dockerfile = docker_item.view
        rel = docker_item.path or "Dockerfile"
        build_context = _build_context(dockerfile, context)
        for stage in dockerfile.stages:
            workdir = "/"
            copies: list[tuple[str, list[str], str]] = []  # (image path of dest, sources, workdir)
            for instruction in stage.instructions:
                keyword = instruction.keyword
                if keyword == "WORKDIR" and instruction.args.strip() and "$" not in instruction.args:
                    workdir = _image_path(instruction.args.strip().strip("\"'"), workdir)
                elif keyword in ("COPY", "ADD") and instruction.flag("from") is None:
                    words = list(instruction.json_args) if instruction.json_args is not None else instruction.args.split()
                    if len(words) >= 2 and not instruction.heredocs:
                        copies.append((words[-1], words[:-1], workdir))
                elif keyword == "RUN":
                    mounts = []
                    for flag in instruction.flags_named("mount"):
                        options = flag.options()
                        if options.get("type", "bind") == "bind" and options.get("target") and not options.get("from"):
                            mounts.append((_image_path(options["target"], workdir),
                                           options.get("source") or options.get("src") or "."))
                    for command in run_commands(instruction):
                        args = _install_args(unwrap(command).argv)
                        if args is None:
                            continue
                        constraints = tuple(
                            c for value in _option_values(args, "-c", "--constraint")
                            if (c := _resolve(value, workdir, copies, mounts, build_context(), known)) is not None)
                        for value in _option_values(args, "-r", "--requirement"):
                            found = _resolve(value, workdir, copies, mounts, build_context(), known)
                            if found is not None:
                                yield found, _Source(f"installed by {rel}:{command.line}", constraints)


_SCRIPT_WHY = {"workflow": "installed by CI, {where}", "markdown": "documented in {where}", "tox.ini": "installed by {where}",
               "noxfile.py": "installed by {where}"}


def _script_sources(context: Context, known: set[str]) -> Iterator[tuple[str, _Source]]:
    """`pip install -r` in CI workflows, tox/nox, shell scripts, Makefiles, justfiles and the README/docs."""
    from envdoctor.sources.shell import unwrap

    try:
        items = list(context.project.items("script"))
    except KeyError:  # no script reader in this build
        return
    for item in items:
        script = item.view
        rel = item.path or ""
        folder = rel.rpartition("/")[0] or "."
        # CI jobs start at the repository root; a README's or a script's commands are run from its folder.
        bases = (".", folder) if script.kind == "workflow" else (folder, ".")
        for script_command in script.commands:
            command = script_command.command
            args = _install_args(unwrap(command).argv)
            if args is None:
                continue
            where = f"{rel}:{command.line}"
            why = _SCRIPT_WHY.get(script.kind, "installed by {where}").format(where=where)
            constraints = tuple(c for value in _option_values(args, "-c", "--constraint")
                                if (c := _relative_source(value, bases, known)) is not None)
            for value in _option_values(args, "-r", "--requirement"):
                found = _relative_source(value, bases, known)
                if found is not None:
                    yield found, _Source(why, constraints)


def _readthedocs_sources(context: Context, known: set[str],
                         projects: dict[str, PythonProject]) -> Iterator[tuple[str, _Source]]:
    """Requirements files a Read the Docs configuration installs (`python.install[].requirements`): its
    builds install them like CI's `pip install -r`. The configuration is read at the root and in each
    project's folder (a monorepo's other documentation projects); its paths are relative to the root."""
    project = context.project
    folders = sorted({"."} | set(projects))
    for folder in folders:
        for name in READTHEDOCS_CONFIGS:
            rel = name if folder == "." else f"{folder}/{name}"
            if project.excluded(rel) or project.path_type(rel) != "file":
                continue
            for value, line in project.parsed("readthedocs", rel, readthedocs_requirements) or ():
                found = _relative_source(value, (".",), known)
                if found is not None:
                    yield found, _Source(f"installed by Read the Docs, {rel}:{line}")


def _relative_source(value: str, bases: tuple[str, ...], known: set[str]) -> str | None:
    if not value or "$" in value or value.startswith("/") or "{" in value:
        return None
    for base in bases:
        path = posixpath.normpath(posixpath.join(base, value)) if base != "." else posixpath.normpath(value)
        if path in known:
            return path
    return None


def _resolve(value: str, workdir: str, copies: list[tuple[str, list[str], str]], mounts: list[tuple[str, str]],
             folder: str, known: set[str]) -> str | None:
    """The repository file a `-r` path in a RUN names: through the COPYs and bind mounts of the stage,
    else the path itself, relative to the Dockerfile's folder or the root (the usual build contexts)."""
    if "$" in value or not value:
        return None
    wanted = _image_path(value, workdir)
    candidates: list[str] = []
    for target, source in mounts:
        if wanted == target:
            candidates.append(source)
        elif wanted.startswith(target.rstrip("/") + "/"):
            candidates.append(posixpath.join(source, wanted[len(target.rstrip("/")) + 1:]))
    for dest, sources, copy_workdir in reversed(copies):
        dest_path = _image_path(dest, copy_workdir)
        for source in sources:
            if "*" in source or "?" in source or source.startswith("--"):
                continue
            # A file copied to a file name or into a folder; a folder's content copied into a folder.
            for copied in (dest_path, posixpath.join(dest_path, posixpath.basename(source.rstrip("/")))):
                if copied == wanted:
                    candidates.append(source)
                elif wanted.startswith(copied.rstrip("/") + "/"):
                    candidates.append(posixpath.join(source, wanted[len(copied.rstrip("/")) + 1:]))
    if not value.startswith("/"):
        candidates.append(value)
    candidates.append(posixpath.basename(value))
    for candidate in candidates:
        candidate = candidate.lstrip("/")
        for base in (folder, "."):
            path = posixpath.normpath(posixpath.join(base, candidate)) if base != "." else posixpath.normpath(candidate)
            if path in known:
                return path
    return None


def _project_of(rel: str, projects: dict[str, PythonProject]) -> PythonProject | None:
    return projects.get(owner_folder(rel))


class UnpinnedRequirements(Rule):
    code = "ED206"
    name = "unpinned-requirements"
    severity = Severity.WARNING
    target = "repository"
    summary = "A requirements file used as the install source has unpinned requirements and no lock exists."

    def check(self, repository, context: Context) -> Iterator[Hit]:
        project = context.project
        known = {rel for rel in project.files("requirements") if not rel.endswith(".in")}
        if not known:
            return
        projects = _projects_by_dir(context)
        sources: dict[str, list[_Source]] = {}
        for rel, source in _dockerfile_sources(context, known):
            sources.setdefault(rel, []).append(source)
        for rel, source in _script_sources(context, known):
            sources.setdefault(rel, []).append(source)
        for rel, source in _readthedocs_sources(context, known, projects):
            sources.setdefault(rel, []).append(source)
        for folder, item in projects.items():
            conventional = f"{folder}/requirements.txt" if folder != "." else "requirements.txt"
            if conventional in known and (item.pyproject is not None or folder == ".") and not item.is_fixture:
                sources.setdefault(conventional, []).append(_Source(f"the requirements.txt of project {item.label}"))
        # `-r` includes of an install source are installed too.
        queue = list(sources)
        while queue:
            rel = queue.pop()
            view = project.parsed("requirements-lock", rel, read_requirements_lock)
            if view is None or view.requirements is None:
                continue
            folder = rel.rpartition("/")[0] or "."
            for include in view.requirements.includes:
                if include.option in ("-r", "--requirement") and include.value:
                    target = posixpath.normpath(posixpath.join(folder, include.value))
                    if target in known and target not in sources:
                        sources[target] = [_Source(f"included by {rel}")]
                        queue.append(target)
        # A file [tool.setuptools.dynamic] reads is the package's dependency declaration: pinning it would pin
        # every user of the package (what such a project lacks is a lock, ED201's business).
        declarations = {rel for item in projects.values() if item.pyproject is not None
                        for rel in setuptools_requirement_files(item.pyproject)}
        for rel in sorted(sources):
            if rel not in declarations:
                yield from self._check_file(context, rel, sources[rel], projects)

    def _check_file(self, context: Context, rel: str, why: list[_Source],
                    projects: dict[str, PythonProject]) -> Iterator[Hit]:
        project = context.project
        item = _project_of(rel, projects)
        if item is not None and item.locks:
            return  # a lock exists: installing without it is ED106/ED501's business
        view = project.parsed("requirements-lock", rel, read_requirements_lock)
        if view is None or view.requirements is None or view.fully_pinned:
            return
        pinned_elsewhere: set[str] = set()
        folder = rel.rpartition("/")[0] or "."
        constraint_files = [posixpath.normpath(posixpath.join(folder, o.value)) for o in view.requirements.includes
                            if o.option in ("-c", "--constraint") and o.value]
        if all(s.constraints for s in why):
            constraint_files += [c for s in why for c in s.constraints]
        for constraint in constraint_files:
            constraints = project.parsed("requirements-lock", constraint, read_requirements_lock) \
                if constraint in project.files("requirements") else None
            if constraints is not None and constraints.requirements is not None:
                pinned_elsewhere |= {r.name for r in constraints.requirements.requirements if r.pinned and r.name}
        reason = why[0].why
        source = (rel[:-4] if rel.endswith(".txt") else rel) + ".in"  # the input a compiled lock is made from
        for line in view.requirements.requirements:
            if line.editable or line.invalid or line.requirement is None or line.pinned:
                continue
            if line.name in pinned_elsewhere:
                continue
            requirement = line.requirement
            kind = "only a range" if requirement.specifier else "not pinned"
            yield Hit(
                f"'{line.text}' is {kind}: {_name(rel)} is the install source ({reason}) and no lock exists, so "
                f"each install may get a different version.",
                line=line.line, end_line=line.end_line if line.end_line != line.line else None, path=rel,
                fix_hint=f"Pin it ({requirement.name}==<version>), or better keep the ranges in {source} and "
                         f"compile the lock from it: `uv pip compile --generate-hashes {source} -o {rel}`.",
            )


# --- ED207 ------------------------------------------------------------------------------------------------

_VERSION_KEYS = {"uv": ("version",), "poetry": ("metadata", "lock-version"), "pdm": ("metadata", "lock_version"),
                 "pylock": ("lock-version",)}


class UnknownLockfileVersion(Rule):
    code = "ED207"
    name = "unknown-lockfile-version"
    severity = Severity.INFO
    target = "lockfile"
    summary = "A lockfile's format version is newer than envdoctor knows; it was read as far as possible."

    def check(self, lock: Lockfile, context: Context) -> Iterator[Hit]:
        if not lock.unknown_version or in_test_folder(lock.path.rpartition("/")[0]):
            return
        keys = _VERSION_KEYS.get(lock.kind)
        line = lock.line_of(*keys) if keys else 1
        if isinstance(lock, PipfileLock):
            line = lock.section_line("_meta")
        limited = " Lockfile checks on it are limited to what this version can read." if lock.newer_major else ""
        yield Hit(f"{_name(lock.path)} {lock.unknown_version}.{limited}", line=line,
                  fix_hint="Upgrade envdoctor to a version that knows this lockfile format.")
