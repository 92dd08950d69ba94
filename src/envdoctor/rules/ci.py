"""ED5xx: CI and automation. CI should install what the lock says, and pin the tools it installs.

Both rules read every CI workflow (GitHub Actions, GitLab CI, Azure Pipelines, CircleCI), job by job, as
one sequence of shell commands in order (so that "a lock was installed", "the lock was checked" or "the
lock was regenerated" earlier in the job is known), and the tox environments and nox sessions those
workflows run. Commands are split by the shell tokenizer and recognised by `rules._pyinstall`.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
import weakref
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, Mapping

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from envdoctor.findings import Hit, Severity
from envdoctor.fixes import Fix, fix, insert, replace_range
from envdoctor.registry import Context, Rule
from envdoctor.rules._pyinstall import INSTALLER_PACKAGES, PyCommand, is_truthy, recognise, requirement_is_pinned
from envdoctor.sources.shell import SimpleCommand, unwrap

if TYPE_CHECKING:
    from envdoctor.project import Project
    from envdoctor.sources.requirements import RequirementsFile
    from envdoctor.sources.workflows import NoxFile, Step, ToxFile, Workflow

ED501 = "ED501"
ED502 = "ED502"
_PERSISTED_RE = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)=([^\s\"'`;|>]*)")
_UV_INSTALLER_RE = re.compile(r"^https?://astral\.sh/uv/install\.(sh|ps1)$")
_DOWNLOADERS = frozenset({"curl", "wget", "irm", "iwr", "invoke-restmethod", "invoke-webrequest"})
_SETUP_UV_RE = re.compile(r"^astral-sh/setup-uv(@|$)", re.IGNORECASE)
_MAX_LAUNCH_DEPTH = 3  # `uv run poetry run pip install` is followed this deep
_MAX_ACTION_DEPTH = 4  # a local composite action using another is followed this deep
# Actions that open a pull request, or commit and push, with what the job changed: a job that regenerates
# a lock and then ships it through one of these is a dependency bump, reviewed in that pull request.
_SHIPPING_ACTIONS = frozenset({
    "peter-evans/create-pull-request", "gr2m/create-or-update-pull-request-action", "repo-sync/pull-request",
    "devops-infra/action-pull-request", "stefanzweifel/git-auto-commit-action", "endbug/add-and-commit",
    "planetscale/ghcommit-action", "ad-m/github-push-action", "actions-js/push",
})


@dataclass(frozen=True)
class _Cmd:
    command: SimpleCommand  # wrappers stripped
    path: str  # the file to report in
    env: Mapping[str, str]  # variables set for it: CI env, exports, inline assignments
    cwd: str | None  # folder relative to the scanned root; None when unknown
    root: str = "."  # the folder the CI checks out (or tox.ini's, noxfile.py's)
    declared: bool = False  # tox `deps` / nox `session.install`: bare names are the session's tools, not reported
    uses: str | None = None  # a `uses:` step (no command: `command.argv` is empty), kept for its place in the job
    caller: str | None = None  # for a step of a local composite action: the job using it ("job 't' of <workflow>")
    via: tuple[tuple[str, tuple[int, ...]], ...] = ()  # the `uses:` steps that led to it: (file, lines)
    stops: bool = True  # its failure fails the job (not one `|| true` handles, after `set +e`, ...): see _stops


@dataclass(frozen=True)
class _Placed:
    """A step as it runs in a job: its own, or one of a local composite action the job uses."""

    step: Step
    path: str  # the file it is written in
    env: dict[str, str]  # variables of the `uses:` steps that led to it (a composite action's caller)
    base: str | None  # the folder its `working-directory` is relative to
    caller: str | None  # for a composite action's step: "job 'x' of <workflow>"
    via: tuple[tuple[str, tuple[int, ...]], ...] = ()  # the `uses:` steps that led to it: (file, their lines)


@dataclass
class _JobState:
    lock_installed: bool = False  # dependencies came from a lock earlier in the job
    maybe_locked: bool = False  # a requirements file envdoctor cannot read was installed: it may be a lock
    exported: bool = False  # `uv export` / `poetry export` / `pdm export` ran: requirement files come from the lock
    pinned: set[str] = field(default_factory=set)  # names a pinned requirements file installed
    uv_checked: bool = False  # `uv lock --check` or `uv sync --locked` ran: uv.lock is current
    uv_synced: bool = False  # the environment was synced (a later `uv run` is not the install step)
    # tool -> (file, line) of the command that rewrote its lock
    relocked: dict[str, tuple[str, int]] = field(default_factory=dict)
    # tool -> the lock that command rewrote, relative to the scanned root (None: not known)
    relock_paths: dict[str, str | None] = field(default_factory=dict)
    # requirements file -> (file, line) of the `pip-compile` writing it
    compiled: dict[str, tuple[str, int]] = field(default_factory=dict)
    # A later step of the job opens a pull request, or commits and pushes: a lock regenerated now is the
    # job's product (a dependency bump reviewed in that pull request), not something CI installs unreviewed.
    shipped_later: bool = False


def _place(cmd: _Cmd, where: tuple[str, int]) -> str:
    """`line N` of an earlier command in the same file as `cmd`, else `path:N`."""
    path, line = where
    return f"line {line}" if path == cmd.path else f"{path}:{line}"


def _basename(word: str) -> str:
    return word.replace("\\", "/").rsplit("/", 1)[-1]


def _shown(argv: Iterable[str], limit: int = 70) -> str:
    text = " ".join(argv)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _unknown(word: str) -> bool:
    return "$" in word or "{" in word or "%" in word


def _expands(word: str) -> bool:
    """A word the shell or the CI expands at run time: `$X`, `${X}`, `$(cmd)`, `${{ ... }}`, backquotes."""
    return "$" in word or "`" in word


_VARIABLE_RE = re.compile(r"\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}|\$\{([A-Za-z_][A-Za-z0-9_]*)\}"
                          r"|\$([A-Za-z_][A-Za-z0-9_]*)")


def _expanded(words: Iterable[str], env: Mapping[str, str]) -> list[str] | None:
    """The words with `$NAME`, `${NAME}` and `${{ env.NAME }}` replaced by the value the CI sets for NAME
    (split on white space, as an unquoted expansion is); None when anything cannot be known statically."""
    out: list[str] = []
    for word in words:
        if not _expands(word):
            out.append(word)
            continue
        unknown = False

        def value(match: re.Match) -> str:
            nonlocal unknown
            name = next(group for group in match.groups() if group)
            known = env.get(name)
            if known is None or _expands(known):
                unknown = True
                return ""
            return known

        text = _VARIABLE_RE.sub(value, word)
        if unknown or _expands(text):
            return None
        out.extend(text.split())
    return out


def _set(env: Mapping[str, str], *names: str) -> bool:
    """A variable set to a true value, or to something envdoctor cannot evaluate (`${{ ... }}`, `$VAR`)."""
    for name in names:
        value = env.get(name)
        if value is not None and (is_truthy(value) or _unknown(value)):
            return True
    return False


def _last_says(names: Iterable[str], flag: str) -> bool:
    """Whether a uv flag is in force: given, and not undone by a later `--no-` form (uv reads the pair
    `--locked`/`--no-locked`, and `--frozen`/`--no-frozen`, last one wins)."""
    negated = f"--no-{flag[2:]}" if flag.startswith("--") else f"no-{flag}"  # words, or option names
    last = None
    for name in names:
        if name in (flag, negated):
            last = name
    return last == flag


def _uv_held(names: Iterable[str]) -> bool:
    """The command itself holds uv to uv.lock: `--locked` or `--frozen` in force (`uv sync --locked
    --no-locked` is not: it re-resolves)."""
    names = list(names)
    return _last_says(names, "locked") or _last_says(names, "frozen")


def _uv_env_locks(env: Mapping[str, str], has: Callable[[str], bool]) -> bool:
    """UV_LOCKED or UV_FROZEN holds this uv command to uv.lock, unless it says `--no-locked` /
    `--no-frozen` (`has(name)`: whether the command gives that option)."""
    return (_set(env, "UV_LOCKED") and not has("no-locked")) or (_set(env, "UV_FROZEN") and not has("no-frozen"))


def _uv_env_undone(env: Mapping[str, str], has: Callable[[str], bool]) -> tuple[str, str] | None:
    """(`--no-locked`, "UV_LOCKED=1") when the command's option is what undoes the variable CI sets."""
    for flag, variable in (("no-locked", "UV_LOCKED"), ("no-frozen", "UV_FROZEN")):
        if has(flag) and _set(env, variable):
            return f"--{flag}", f"{variable}={env[variable]}"
    return None


def _nonempty(env: Mapping[str, str], *names: str) -> bool:
    return any((env.get(name) or "").strip() not in ("", "0", "false") for name in names)


def _join(folder: str | None, path: str | None) -> str | None:
    """A folder relative to the scanned root, or None when it cannot be known statically."""
    if path is None or path == "":
        return folder
    if folder is None or _unknown(path) or path.startswith(("/", "~")) or "\\" in path:
        return None
    joined = posixpath.normpath(posixpath.join(folder, path))
    return None if joined == ".." or joined.startswith("../") else joined


# --- project facts ------------------------------------------------------------------------------------------


class _Facts:
    """What the rules need to know about the repository, asked of the Project once."""

    def __init__(self, project: Project) -> None:
        self.project = project

    def visible(self, rel: str) -> bool:
        """Whether a CI checkout has the file: it is tracked (or git facts are unavailable)."""
        git = self.project.git
        return not git.available or git.tracked(rel)

    @cached_property
    def lockfiles(self) -> list[str]:
        return [rel for rel in self.project.files("lockfile") if self.visible(rel)]

    def lock_for(self, name: str, cwd: str | None, root: str) -> bool:
        """A committed lock of this name in the folder (or, for a workspace member, a folder above it)."""
        for rel in self.lockfiles:
            folder, _, base = rel.rpartition("/")
            folder = folder or "."
            if base != name:
                continue
            if cwd is None:
                if root == "." or folder == root or folder.startswith(root + "/"):
                    return True
            elif folder == "." or cwd == folder or cwd.startswith(folder + "/"):
                return True
        return False

    @cached_property
    def pyprojects(self) -> dict[str, object]:
        from envdoctor.sources.pyproject import parse_pyproject

        out: dict[str, object] = {}
        for rel in self.project.files("pyproject"):
            view = self.project.parsed("pyproject", rel, parse_pyproject)
            if view is not None:
                out[rel] = view
        return out

    @cached_property
    def dependency_names(self) -> set[str]:
        """Every name any pyproject.toml of the repository declares as a dependency, in any group."""
        names: set[str] = set()
        for view in self.pyprojects.values():
            names.update(_declared_names(view.data))  # type: ignore[attr-defined]
        return names

    def pyproject_in(self, folder: str) -> object | None:
        return self.pyprojects.get("pyproject.toml" if folder == "." else f"{folder}/pyproject.toml")

    def requirements(self, rel: str) -> RequirementsFile | None:
        """A requirements file the CI installs: one envdoctor found, or one git tracks under another name."""
        from envdoctor.sources.requirements import parse_requirements

        known = rel in self.project.files("requirements")
        git = self.project.git
        if not known and not (git.available and git.tracked(rel)):
            return None
        return self.project.parsed("requirements", rel, parse_requirements)

    def uv_version_in(self, rel: str) -> tuple[bool, str | None]:
        """(read, specifier): the uv version setup-uv finds in a uv.toml (`required-version`) or a
        pyproject.toml (`required-version` in [tool.uv], else a `uv==...` requirement), None when the file
        holds none; read is False for a file envdoctor does not read (missing, another format)."""
        from envdoctor.sources.toml import parse_toml

        base = rel.rpartition("/")[2]
        if base == "uv.toml" and rel in self.project.files("uv.toml"):
            doc = self.project.parsed("uv.toml", rel, lambda text, _rel: parse_toml(text))
            if doc is None:
                return False, None
            value = doc.data.get("required-version")
            return True, value.strip() if _nonblank(value) else None
        if base == "pyproject.toml" and rel in self.pyprojects:
            view = self.pyprojects[rel]
            value = view.tool("uv").get("required-version")  # type: ignore[attr-defined]
            if _nonblank(value):
                return True, value.strip()
            return True, _uv_requirement(view.data)  # type: ignore[attr-defined]
        return False, None

    def uv_version_request(self, folder: str) -> tuple[str, str] | None:
        """(specifier, file) of the uv version setup-uv without `version:` reads in its working directory:
        uv.toml first, then pyproject.toml; None when neither gives one."""
        for name in ("uv.toml", "pyproject.toml"):
            rel = name if folder == "." else f"{folder}/{name}"
            _read, found = self.uv_version_in(rel)
            if found:
                return found, rel
        return None


def _nonblank(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


_UV_REQUIREMENT_RE = re.compile(r"^uv([=<>~!]+\S*)")


def _uv_requirement(data: dict) -> str | None:
    """The specifier of the first `uv` requirement written without a space (`uv==0.9.5`) among the project's
    dependencies, extras and dependency groups: where setup-uv looks for uv's version in a pyproject.toml
    without `required-version`."""
    for text in _standard_requirements(data):
        match = _UV_REQUIREMENT_RE.match(text)
        if match:
            return match.group(1)
    return None


def _standard_requirements(data: dict) -> list[str]:
    """The requirements a pyproject.toml declares in the standard tables: [project] dependencies and
    optional dependencies, and [dependency-groups] (as written; include-group tables left out)."""
    project = data.get("project") if isinstance(data.get("project"), dict) else {}
    texts = _strings(project.get("dependencies"))
    for table in (project.get("optional-dependencies"), data.get("dependency-groups")):
        for value in table.values() if isinstance(table, dict) else ():
            texts += _strings(value)
    return texts


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _requirement_names(texts: Iterable[str]) -> set[str]:
    names = set()
    for text in texts:
        try:
            names.add(canonicalize_name(Requirement(text).name))
        except InvalidRequirement:
            continue
    return names


def _declared_names(data: dict) -> set[str]:
    texts = _standard_requirements(data)
    tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
    uv = tool.get("uv") if isinstance(tool.get("uv"), dict) else {}
    texts += _strings(uv.get("dev-dependencies"))
    pdm = tool.get("pdm") if isinstance(tool.get("pdm"), dict) else {}
    if isinstance(pdm.get("dev-dependencies"), dict):
        for value in pdm["dev-dependencies"].values():
            texts += _strings(value)
    names = _requirement_names(texts)
    poetry = tool.get("poetry") if isinstance(tool.get("poetry"), dict) else {}
    tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
    if isinstance(poetry.get("group"), dict):
        tables += [g.get("dependencies") for g in poetry["group"].values() if isinstance(g, dict)]
    for table in tables:
        if isinstance(table, dict):
            names.update(canonicalize_name(k) for k in table if isinstance(k, str) and k.lower() != "python")
    return names


def _declares_nothing(view: object, extras: list[str]) -> bool:
    """A [project] that declares no dependencies at all (statically) for these extras: nothing to pin."""
    data = view.data  # type: ignore[attr-defined]
    project = data.get("project")
    if not isinstance(project, dict) or "dependencies" in _strings(project.get("dynamic")):
        return False
    tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
    if isinstance(tool.get("poetry"), dict):
        return False
    if _strings(project.get("dependencies")):
        return False
    optional = project.get("optional-dependencies") if isinstance(project.get("optional-dependencies"), dict) else {}
    return not any(_strings(optional.get(extra)) for extra in extras)


# --- reading requirement files ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Verdict:
    kind: str  # "pinned" (a lock), "unpinned", "input" (a .in file), "project" (pyproject.toml & co.)
    names: frozenset[str] = frozenset()  # pinned names, for "pinned"
    detail: str = ""  # for "unpinned": what floats


def _local(text: str) -> bool:
    """A path to a local project (`.`, `.[dev]`, `./pkg`, `src/pkg`, `file:.`), not a URL or a name."""
    if "://" in text or text.startswith(("git+", "hg+", "svn+", "bzr+")) or _unknown(text):
        return False
    path = text.split("[", 1)[0]
    return path.startswith((".", "/", "file:")) or "/" in path


def _file_verdict(facts: _Facts, rel: str, depth: int = 0) -> _Verdict | None:
    view = facts.requirements(rel)
    if view is None or depth > 3:
        return None
    folder = rel.rpartition("/")[0] or "."
    if any(o.option in ("-c", "--constraint") for o in view.options):
        return _Verdict("pinned", frozenset(r.name for r in view.requirements if r.pinned and r.name))
    names: set[str] = set()
    unpinned: list[str] = []  # named requirements that float
    local: list[str] = []  # `-e .`, `./pkg`: pinned by nothing in the file itself
    pinned_any = False
    for requirement in view.requirements:
        if requirement.invalid is not None:
            continue
        if requirement.editable or (requirement.requirement is None and _local(requirement.text)):
            local.append(("-e " if requirement.editable else "") + requirement.text)
        elif requirement.pinned:
            pinned_any = True
            if requirement.name:
                names.add(requirement.name)
        else:
            unpinned.append(requirement.text)
    for include in view.includes:
        target = _join(folder, include.value) if include.value else None
        nested = _file_verdict(facts, target, depth + 1) if target else None
        if nested is None:
            return None  # part of it cannot be read: say nothing
        if nested.kind != "pinned":
            return nested
        pinned_any = True
        names |= nested.names
    # A compiled lock lists the local project (`-e .`) beside its pinned dependencies: that is a lock.
    floating = unpinned or (local if not pinned_any else [])
    if floating:
        shown = ", ".join(f"'{f}'" for f in floating[:3]) + (", ..." if len(floating) > 3 else "")
        return _Verdict("unpinned", detail=shown)
    return _Verdict("pinned", frozenset(names)) if pinned_any else None


def _verdict(facts: _Facts, cmd: _Cmd, written: str) -> tuple[str, _Verdict] | None:
    """(the path as resolved, what it is) for a `-r FILE` argument, or None when unknown."""
    if _unknown(written) or written.startswith(("http://", "https://")):
        return None
    rel = _join(cmd.cwd, written)
    if rel is None:
        return None
    base = rel.rpartition("/")[2]
    if base in ("pyproject.toml", "setup.cfg", "setup.py"):
        return rel, _Verdict("project")
    verdict = _file_verdict(facts, rel)
    if verdict is None and base.endswith(".in"):
        return rel, _Verdict("input")  # a pip-tools input: unpinned by design
    if verdict is not None and verdict.kind == "unpinned" and base.endswith(".in"):
        return rel, _Verdict("input")
    return (rel, verdict) if verdict is not None else None


# --- the analysis -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Hit:
    code: str
    hit: Hit


# (tool, action) as `_pyinstall.recognise` names them -> the method of _Analysis that judges the command.
_HANDLERS = {
    ("pip", "install"): "_pip_install", ("uv", "pip install"): "_pip_install",
    ("uv", "sync"): "_uv_sync", ("uv", "lock"): "_uv_lock", ("uv", "pip sync"): "_lock_install",
    ("uv", "pip compile"): "_uv_pip_compile",
    ("uv", "tool install"): "_tool_install", ("pipx", "install"): "_tool_install",
    ("uv", "export"): "_export", ("poetry", "export"): "_export", ("pdm", "export"): "_export",
    ("poetry", "install"): "_poetry_install", ("poetry", "sync"): "_poetry_install",
    ("poetry", "lock"): "_relock", ("poetry", "update"): "_poetry_update",
    ("pipenv", "install"): "_pipenv_install", ("pipenv", "sync"): "_pipenv_sync",
    ("pipenv", "lock"): "_relock", ("pipenv", "update"): "_pipenv_update",
}


class _Analysis:
    """Walks every CI job once and collects the hits of both rules."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.facts = _Facts(project)
        self.hits: list[_Hit] = []
        self._seen: set[tuple[str, str, int, str]] = set()
        self._caller: str | None = None  # the job using the composite action whose commands are being judged
        self._via: tuple[tuple[str, tuple[int, ...]], ...] = ()  # ... and its `uses:` steps that led there
        self._waived: set[tuple[str, str, int]] = set()  # action lines a caller's suppression covers
        self.actions_used: set[str] = set()  # local composite actions some workflow job uses
        self._spanned: set[str] = set()  # action files whose suppressions were widened over their steps
        self.tox_runs: dict[str, set[str] | None] = {}  # tox.ini -> env names (None: its env_list)
        self.nox_runs: dict[str, set[str] | None] = {}  # noxfile.py -> session names (None: default ones)

    def run(self) -> list[_Hit]:
        for item in self.project.items("workflow"):
            workflow: Workflow = item.view
            jobs = [(job, self._workflow_commands(workflow, job)) for job in workflow.jobs]
            last = {job.name: _last_shipping(commands) for job, commands in jobs}
            shipping = {name for name, index in last.items() if index >= 0}
            for job, commands in jobs:
                # A later job that `needs:` this one and ships what it made (a dependency bump split in a
                # test job and a pull-request job): all of this job's commands come before the shipping.
                after = bool(_dependents(workflow, job.name) & shipping)
                self._job(commands, len(commands) if after else last[job.name])
            if workflow.kind == "github":
                self._setup_uv(workflow)
        self._unused_actions()
        self._sessions()
        self._unfix_waived()
        return self.hits

    def report(self, code: str, cmd_path: str, line: int, message: str, fix: str, edit: Fix | None = None) -> None:
        """One finding. In a composite action (judged as part of each job that uses it) a line is reported
        once, for the first such job, which the message names: the verdict may depend on the caller. A job
        whose `uses:` step (or that of an action between) suppresses the code is passed over: the finding
        names the next job at fault, if any, and carries no fix (it would change the exempted job too); the
        suppression gets a hit of its own, at the `uses:` step, which it suppresses (so ED002 sees it used)."""
        caller = self._caller
        if caller:
            waiver = self._waiver(code)
            if waiver is not None:
                self._waived.add((code, cmd_path, line))
                where_path, where_line = waiver
                key = (code, where_path, where_line, "")
                if key not in self._seen:
                    self._seen.add(key)
                    self.hits.append(_Hit(code, Hit(f"{message} (In {cmd_path}:{line}, which this step runs for "
                                                    f"{caller}.)", line=where_line, fix_hint=fix, path=where_path)))
                return
        key = (code, cmd_path, line, "" if caller else message)
        if key not in self._seen:
            self._seen.add(key)
            if caller:
                message += f" (This action runs in {caller}.)"
            self.hits.append(_Hit(code, Hit(message, line=line, fix_hint=fix, path=cmd_path, fix=edit)))

    def _waiver(self, code: str) -> tuple[str, int] | None:
        """(file, line) of the first `uses:` step leading to the action being judged whose inline
        suppression names `code` (or its rule's name), or None."""
        name = _RULE_NAMES[code]
        for path, lines in self._via:
            index = self.project.suppressions.get(path)
            for line in lines if index is not None else ():
                for entry in index.covering(line):
                    if any(w.upper() == code or w.lower() == name for w in entry.codes):
                        return path, line
        return None

    def _unfix_waived(self) -> None:
        """An action line some caller exempted keeps its finding for the others, without the fix."""
        for position, found in enumerate(self.hits):
            if found.hit.fix is not None and (found.code, found.hit.path, found.hit.line) in self._waived:
                self.hits[position] = _Hit(found.code, replace(found.hit, fix=None))

    # --- fixes (envdoctor/fixes.py): placed only where the words are found exactly on the line ---

    def _flag_fix(self, cmd: _Cmd, py: PyCommand, flag: str) -> Fix | None:
        """` flag` right after the sub-command word: `uv sync` -> `uv sync --locked`."""
        from envdoctor.rules._fixing import action_index, command_word, insert_after

        index = action_index(py)
        span = command_word(self.project.source_lines(cmd.path), py.command, index) if index is not None else None
        return fix(f"Add {flag}", insert_after(cmd.path, span, f" {flag}")) if span else None

    def _uv_version(self, cmd_root: str) -> tuple[str, str] | None:
        from envdoctor.rules._fixing import local_uv_version

        return local_uv_version(self.project, cmd_root)

    def _pin_uv_fix(self, cmd: _Cmd, py: PyCommand, specs: list[str]) -> Fix | None:
        """`pip install uv` / `pipx install uv` -> `uv==X.Y.Z`, the uv this project uses (when known)."""
        from envdoctor.rules._fixing import action_index, command_word, insert_after, word_index

        known = self._uv_version(cmd.root)
        start = action_index(py)
        if specs != ["uv"] or known is None or start is None:
            return None
        index = word_index(py.command, "uv", start)
        span = command_word(self.project.source_lines(cmd.path), py.command, index) if index is not None else None
        version, source = known
        return fix(f"Pin uv to {version} ({source})", insert_after(cmd.path, span, f"=={version}")) if span else None

    # --- commands of a job, in order ---

    def _workflow_commands(self, workflow: Workflow, job) -> list[_Cmd]:  # noqa: ANN001
        from envdoctor.sources.workflows import posix_script

        commands: list[_Cmd] = []
        exported: dict[str, str] = {}
        persisted: dict[str, str] = {}  # `echo NAME=value >> $GITHUB_ENV`: set for the later steps
        cwd = _join(workflow.root, job.working_directory)
        for placed in self._placed_steps(workflow, job):
            step, path = placed.step, placed.path
            script = step.run
            if script is None:
                if step.uses:
                    marker = SimpleCommand((), (), step.uses_line or step.line, ())
                    commands.append(_Cmd(marker, path, {}, None, workflow.root, uses=step.uses,
                                         caller=placed.caller, via=placed.via))
                continue
            if not posix_script(script.shell, script.text):
                # PowerShell, cmd, Python: not judged. Only what it writes to $GITHUB_ENV
                # (`"UV_FROZEN=1" >> $env:GITHUB_ENV`) is kept for the later steps.
                if "GITHUB_ENV" in script.text:
                    persisted.update(_PERSISTED_RE.findall(script.text))
                continue
            if not job.shared_shell:
                exported, cwd = {}, _join(placed.base, step.working_directory)
            env = {**workflow.env, **job.env, **persisted, **placed.env, **step.env}
            shell_vars: dict[str, str] = {}
            sets_env = "GITHUB_ENV" in script.text
            for position, command in enumerate(script.commands):
                stops = True
                if command.argv and _basename(command.argv[0]) in ("git", "test", "["):  # (a lock check?)
                    stops = not step.continue_on_error and _stops(script, position)
                command = unwrap(command)
                assignments = dict(a.partition("=")[::2] for a in command.assignments)
                if not command.argv:
                    shell_vars.update(assignments)
                    continue
                program = _basename(command.argv[0])
                if sets_env and program in ("echo", "printf"):
                    for word in command.argv[1:]:
                        name, eq, value = word.partition("=")
                        if eq and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                            persisted[name] = value
                if program == "cd":
                    target = command.argv[1] if len(command.argv) > 1 else None
                    cwd = _join(cwd, target) if target not in (None, "-") else None
                    continue
                if program in ("export", "declare", "typeset") and not assignments:
                    for word in command.argv[1:]:
                        name, eq, value = word.partition("=")
                        if eq:
                            exported[name] = value
                        elif name in shell_vars:
                            exported[name] = shell_vars[name]
                    continue
                commands.append(_Cmd(command, path, {**env, **exported, **assignments}, cwd, workflow.root,
                                     caller=placed.caller, via=placed.via, stops=stops))
        return commands

    # --- local composite actions, spliced into the jobs that use them ---

    def _placed_steps(self, workflow: Workflow, job) -> Iterator[_Placed]:  # noqa: ANN001
        """The job's steps in the order they run, with the steps of a local composite action it uses
        (`uses: ./.github/actions/setup`) in place of that step, after it: they run in the caller's checkout
        (not its `defaults.run.working-directory`), with the caller's variables and the `env:` of the
        `uses:` step. A setup-uv step inside such an action is judged (ED502) here, for this caller."""
        base = _join(workflow.root, job.working_directory)
        caller = f"job '{job.name}' of {workflow.path}"
        # (a step as it runs, the action files that led to it: a cycle or a chain too deep stops there)
        pending: list[tuple[_Placed, tuple[str, ...]]] = [
            (_Placed(step, workflow.path, {}, base, None), ()) for step in reversed(job.steps)]
        while pending:
            placed, chain = pending.pop()
            yield placed
            step = placed.step
            if step.run is not None or not step.uses:
                continue
            if placed.caller is not None and _SETUP_UV_RE.match(step.uses.strip()):
                self._setup_uv_step(placed.path, workflow.root, step, placed.caller, via=placed.via)
            action = self._local_action(workflow, step.uses) if workflow.kind == "github" else None
            if action is None or action.path in chain or len(chain) >= _MAX_ACTION_DEPTH:
                continue
            # A suppression on this `uses:` step (above it, or at the end of its `- uses:` line) covers what
            # the action's steps do for this job.
            lines = tuple(dict.fromkeys(n for n in (step.line, step.uses_line) if n is not None))
            via = (*placed.via, (placed.path, lines))
            env = {**placed.env, **step.env}
            inner = [(_Placed(inner_step, action.path, env, workflow.root, caller, via), (*chain, action.path))
                     for action_job in action.jobs for inner_step in action_job.steps]
            pending.extend(reversed(inner))

    def _local_action(self, workflow: Workflow, uses: str) -> Workflow | None:
        """The composite action a `uses: ./path` step names, read from `path/action.yml` (or `.yaml`) in the
        checkout; None for a remote action, the repository's own root action (it is written for other
        repositories' checkouts), an excluded or untracked file, and any other kind of action."""
        ref = uses.strip()
        if not ref.startswith("./") or _unknown(ref):
            return None
        folder = _join(workflow.root, ref.rstrip("/"))
        if folder is None or folder in (".", workflow.root):
            return None
        for name in ("action.yml", "action.yaml"):
            rel = f"{folder}/{name}"
            if self.project.path_type(rel) != "file" or self.project.excluded(rel) or not self.facts.visible(rel):
                continue
            view = self._read_action(rel)
            self.actions_used.add(rel)
            return view if view is not None and view.jobs else None
        return None

    # --- one job ---

    def _job(self, commands: list[_Cmd], shipped: int | None = None) -> None:
        """`shipped`: the commands before this index run before a step that ships what the job made for
        review (None: found with `_last_shipping`)."""
        state = _JobState()
        if shipped is None:
            shipped = _last_shipping(commands)
        for index, cmd in enumerate(commands):
            state.shipped_later = index < shipped
            self._command(cmd, state, 0)

    def _command(self, cmd: _Cmd, state: _JobState, depth: int) -> None:
        self._caller, self._via = cmd.caller, cmd.via
        argv = cmd.command.argv
        if not argv:
            return
        program = _basename(argv[0]).lower()
        self._session_runner(cmd)
        if program in _DOWNLOADERS:
            self._installer(cmd)
            return
        if program == "git":
            self._git(cmd, state)
            return
        if program in ("test", "["):
            self._porcelain(cmd, state)
            return
        if program in ("pip-compile", "pip-sync"):
            self._pip_tools(cmd, program, state)
            return
        if program == "uvx":
            self._tool_run(cmd, list(argv[1:]), "uvx", state)
            return
        if program in ("poetry", "pdm", "pipenv", "hatch") and len(argv) > 2 and argv[1] == "run":
            self._inner(cmd, list(argv[2:]), state, depth)
            return
        py = recognise(cmd.command)
        if py is None:
            return
        key = (py.tool, py.action)
        if key == ("uv", "run"):
            self._uv_run(cmd, py, state, depth)
        elif key in (("uv", "tool run"), ("pipx", "run")):
            self._tool_run(cmd, _after(list(argv), "run"), py.tool, state)
        elif key in _HANDLERS:
            getattr(self, _HANDLERS[key])(cmd, py, state)

    def _inner(self, cmd: _Cmd, words: list[str], state: _JobState, depth: int) -> None:
        """The command a launcher (`uv run`, `poetry run`) runs, analysed like any other."""
        index = 0
        while index < len(words) and words[index].startswith("-"):
            index += 1
        if index < len(words) and depth < _MAX_LAUNCH_DEPTH:
            inner = replace(cmd.command, argv=tuple(words[index:]), raw_words=tuple(words[index:]),
                            word_offsets=(), assignments=())
            self._command(replace(cmd, command=inner), state, depth + 1)

    # --- ED501: uv ---

    def _uv_sync(self, cmd: _Cmd, py: PyCommand, state: _JobState) -> None:
        names = [name for name, _ in py.options]
        if py.has("script", "dry-run", "check", "resolution") or _nonempty(cmd.env, "UV_RESOLUTION"):
            return  # `--resolution lowest-direct`: a deliberate test of the lower bounds, not an install
        if _loose_expansion(cmd.command.argv[1:], _UV_SYNC_VALUES, _UV_SHORT_VALUES):
            # `uv sync $SYNC_ARGS`: options from a variable are not judged (nor fixed); a value the
            # workflow sets in `env:` is read for what later commands may rely on. The value of an option
            # (`--python ${{ matrix.python-version }}`) cannot be `--locked`: that command is judged.
            words = _expanded(cmd.command.argv[1:], cmd.env) or []
            if _last_says(words, "--locked") or ("--no-locked" not in words and _set(cmd.env, "UV_LOCKED")):
                state.uv_checked = True
            state.uv_synced = state.lock_installed = True
            return
        cwd = self._uv_project_dir(cmd, py)
        if "uv" in state.relocked:
            self._relocked_hit(cmd, "uv", state)
        elif not self.facts.lock_for("uv.lock", cwd, cmd.root):
            pass  # no committed uv.lock: nothing is ignored here (a missing lock is ED201's business)
        elif py.has("upgrade", "upgrade-package", "upgrade-group"):  # -U, -P NAME, --upgrade-group GROUP
            if state.shipped_later:  # a dependency bump: uv sync --upgrade rewrites uv.lock, the PR shows it
                state.uv_checked = state.uv_synced = state.lock_installed = True
                return
            self.report(ED501, cmd.path, cmd.command.line,
                        f"'{_shown(cmd.command.argv)}' upgrades past uv.lock: CI installs versions nobody "
                        f"locked or reviewed.",
                        "Drop the upgrade option in CI; upgrade locally with `uv lock --upgrade` and commit "
                        "uv.lock.")
        elif not (_uv_held(names) or _uv_env_locks(cmd.env, py.has) or state.uv_checked):
            self._unlocked_hit(cmd, py, py.has, "uv sync",
                               "does not hold CI to uv.lock: without --locked, a lock that no longer matches "
                               "pyproject.toml is silently re-resolved and CI installs versions nobody locked.",
                               "Use `uv sync --locked` (it fails on a stale lock), or set UV_LOCKED=1 for the job.")
        if _last_says(names, "locked") or (_set(cmd.env, "UV_LOCKED") and not py.has("no-locked")):
            state.uv_checked = True
        state.uv_synced = state.lock_installed = True

    def _unlocked_hit(self, cmd: _Cmd, py: PyCommand, has: Callable[[str], bool], usage: str, message: str,
                      hint: str) -> None:
        """ED501 for a `uv sync` / syncing `uv run` that nothing holds to uv.lock (`has(name)`: whether the
        command gives that option; `message`, `hint`: the words for a command without `--no-locked`). The
        `--locked` fix is offered only to a command without `--no-locked` / `--no-frozen`: uv reads
        `--locked --no-locked` as `--no-locked` (last one wins), so adding `--locked` would change nothing."""
        shown = _shown(cmd.command.argv)
        undone = _uv_env_undone(cmd.env, has)
        if undone:
            flag, variable = undone
            self.report(ED501, cmd.path, cmd.command.line,
                        f"'{shown}' undoes the {variable} that CI sets for it: with {flag}, a uv.lock that no "
                        f"longer matches pyproject.toml is silently re-resolved and CI installs versions nobody "
                        f"locked.",
                        f"Drop {flag} (then {variable} holds CI to uv.lock), or drop it and use "
                        f"`{usage} --locked`.")
        elif has("no-locked"):
            self.report(ED501, cmd.path, cmd.command.line,
                        f"'{shown}' does not hold CI to uv.lock: --no-locked turns off uv's check that the lock "
                        f"matches pyproject.toml, so a stale uv.lock is silently re-resolved and CI installs "
                        f"versions nobody locked.",
                        f"Drop --no-locked and use `{usage} --locked` (it fails on a stale lock).")
        else:
            self.report(ED501, cmd.path, cmd.command.line, f"'{shown}' {message}", hint,
                        None if has("no-frozen") else self._flag_fix(cmd, py, "--locked"))

    def _uv_run(self, cmd: _Cmd, py: PyCommand, state: _JobState, depth: int) -> None:
        words = _after(list(cmd.command.argv), "run")
        options, inner = _split_options(words, _UV_RUN_VALUES, _UV_SHORT_VALUES)
        order = [name for name, _ in options]
        names = set(order)
        uv_words = cmd.command.argv[1:len(cmd.command.argv) - len(inner) + 1]  # uv's options, the program
        if _loose_expansion(uv_words, _UV_RUN_VALUES, _UV_SHORT_VALUES):
            # `uv run $UV_ARGS pytest`: options from a variable are not judged (nor fixed); the value of
            # an option (`uv run --python $PY pytest`) does not count.
            expanded = _expanded(uv_words, cmd.env) or []
            if _last_says(expanded, "--locked"):
                state.uv_checked = True
            if not state.uv_synced and "--no-sync" not in expanded:
                state.uv_synced = state.lock_installed = True
            return
        syncs = not (names & {"no-sync", "no-project", "script", "dry-run", "resolution"}
                     or _set(cmd.env, "UV_NO_SYNC", "UV_NO_PROJECT") or _nonempty(cmd.env, "UV_RESOLUTION")
                     or not inner or inner[0].endswith(".py"))
        unchecked = not (_uv_held(order) or _uv_env_locks(cmd.env, names.__contains__))
        if syncs and not state.uv_synced:
            cwd = _join(cmd.cwd, dict(options).get("directory")) if "directory" in names else cmd.cwd
            if "uv" in state.relocked:
                self._relocked_hit(cmd, "uv", state)
            elif unchecked and not state.uv_checked and self.facts.lock_for("uv.lock", cwd, cmd.root):
                self._unlocked_hit(cmd, py, names.__contains__, "uv run",
                                   "syncs the environment without --locked: a uv.lock that no longer matches "
                                   "pyproject.toml is silently re-resolved and CI runs on versions nobody locked.",
                                   "Run `uv sync --locked` first (then `uv run` uses that), or use "
                                   "`uv run --locked`.")
        if _last_says(order, "locked"):
            state.uv_checked = True
        if syncs:
            state.uv_synced = state.lock_installed = True
        if inner:
            self._inner(cmd, inner, state, depth)

    def _uv_lock(self, cmd: _Cmd, py: PyCommand, state: _JobState) -> None:
        if py.has("check", "locked"):
            state.uv_checked = True
        elif py.has("check-exists", "dry-run"):
            pass
        elif state.shipped_later:
            # A dependency bump (`uv lock --upgrade`, then a pull request): the new uv.lock is what the job
            # ships and its pull request reviews; it matches pyproject.toml, so later installs use it as is.
            state.relocked.pop("uv", None)
            state.uv_checked = True
        else:
            self._relocked(cmd, state, "uv", self._uv_project_dir(cmd, py))

    def _uv_project_dir(self, cmd: _Cmd, py: PyCommand) -> str | None:
        for name in ("directory", "project"):
            values = py.values(name)
            if values:
                return _join(cmd.cwd, values[-1])
        return cmd.cwd

    # --- ED501: Poetry, Pipenv, lock regeneration ---

    def _relock(self, cmd: _Cmd, py: PyCommand, state: _JobState) -> None:
        if py.has("check", "dry-run"):
            return
        if state.shipped_later:
            state.relocked.pop(py.tool, None)  # a dependency bump: the pull request reviews the new lock
        else:
            self._relocked(cmd, state, py.tool, self._uv_project_dir(cmd, py))

    def _relocked(self, cmd: _Cmd, state: _JobState, tool: str, folder: str | None) -> None:
        """Remember that `cmd` rewrote the tool's lock, and which file: the committed one in `folder` or the
        nearest folder above it (a workspace's root), else one in `folder`."""
        state.relocked[tool] = cmd.path, cmd.command.line
        name = _LOCK_NAMES[tool]
        if folder is None:
            state.relock_paths[tool] = None
            return
        committed = {rel.rpartition("/")[0] or "." for rel in self.facts.lockfiles if _basename(rel) == name}
        walk = folder
        while walk not in committed and walk != ".":
            walk = posixpath.dirname(walk) or "."
        where = walk if walk in committed else folder
        state.relock_paths[tool] = name if where == "." else f"{where}/{name}"

    def _relocked_hit(self, cmd: _Cmd, tool: str, state: _JobState) -> None:
        lock = _LOCK_NAMES[tool]
        line = _place(cmd, state.relocked[tool])
        command = {"uv": "uv lock", "poetry": "poetry lock", "pipenv": "pipenv lock"}[tool]
        check = {"uv": "`uv lock --check`", "poetry": "`poetry check --lock`",
                 "pipenv": "`pipenv verify`"}[tool]
        self.report(ED501, cmd.path, cmd.command.line,
                    f"'{_shown(cmd.command.argv)}' installs the {lock} that '{command}' regenerated in this "
                    f"job ({line}), not the committed one: CI never tests the lock it ships.",
                    f"Remove '{command}' from CI, commit {lock}, and check it with {check} instead.")

    def _poetry_install(self, cmd: _Cmd, py: PyCommand, state: _JobState) -> None:
        if "poetry" in state.relocked and not py.has("dry-run"):
            self._relocked_hit(cmd, "poetry", state)
        state.lock_installed = True

    def _poetry_update(self, cmd: _Cmd, py: PyCommand, state: _JobState) -> None:
        if py.has("dry-run"):
            return
        if state.shipped_later:  # a dependency bump: poetry.lock goes to review in the job's pull request
            state.relocked.pop("poetry", None)
            state.lock_installed = not py.has("lock")
            return
        if py.has("lock"):
            self._relocked(cmd, state, "poetry", self._uv_project_dir(cmd, py))
            return
        self.report(ED501, cmd.path, cmd.command.line,
                    f"'{_shown(cmd.command.argv)}' re-resolves and installs newer versions than poetry.lock: "
                    f"CI tests versions nobody locked.",
                    "Use `poetry install` (it installs poetry.lock); update locally and commit the lock.")
        self._relocked(cmd, state, "poetry", self._uv_project_dir(cmd, py))
        state.lock_installed = True

    def _pipenv_install(self, cmd: _Cmd, py: PyCommand, state: _JobState) -> None:
        if py.positionals or py.has("requirements"):
            return  # adding packages, or importing a requirements file: not the project's install
        if py.has("deploy", "ignore-pipfile"):
            state.lock_installed = True
            return
        if "pipenv" in state.relocked:
            self._relocked_hit(cmd, "pipenv", state)
        elif py.has("skip-lock"):
            self.report(ED501, cmd.path, cmd.command.line,
                        f"'{_shown(cmd.command.argv)}' installs from the Pipfile and skips Pipfile.lock: every "
                        f"run resolves the newest versions.",
                        "Use `pipenv install --deploy` (fails on a stale lock) or `pipenv sync`.")
        elif self.facts.lock_for("Pipfile.lock", cmd.cwd, cmd.root) and not _set(cmd.env, "PIPENV_DEPLOY"):
            self.report(ED501, cmd.path, cmd.command.line,
                        f"'{_shown(cmd.command.argv)}' without --deploy re-locks a stale Pipfile.lock instead "
                        f"of failing: CI may install versions nobody locked.",
                        "Use `pipenv install --deploy` (fails on a stale lock) or `pipenv sync`.")
        state.lock_installed = True

    def _pipenv_sync(self, cmd: _Cmd, py: PyCommand, state: _JobState) -> None:
        if "pipenv" in state.relocked:
            self._relocked_hit(cmd, "pipenv", state)
        state.lock_installed = True

    def _pipenv_update(self, cmd: _Cmd, py: PyCommand, state: _JobState) -> None:
        if py.has("dry-run", "outdated"):
            return
        if state.shipped_later:  # a dependency bump: Pipfile.lock goes to review in the job's pull request
            state.relocked.pop("pipenv", None)
            state.lock_installed = True
            return
        self.report(ED501, cmd.path, cmd.command.line,
                    f"'{_shown(cmd.command.argv)}' re-locks and installs newer versions than Pipfile.lock: CI "
                    f"tests versions nobody locked.",
                    "Use `pipenv sync` (or `pipenv install --deploy`); update locally and commit the lock.")
        self._relocked(cmd, state, "pipenv", cmd.cwd)
        state.lock_installed = True

    def _git(self, cmd: _Cmd, state: _JobState) -> None:
        """`git diff --exit-code [paths]` after regenerating a lock is a check: CI fails if it changed. For uv,
        it has also proved uv.lock current, like `uv lock --check`, for the rest of the job."""
        argv = list(cmd.command.argv)
        base, index = cmd.cwd, 1
        while index + 1 < len(argv) and argv[index] == "-C":  # `git -C sub diff`
            base, index = _join(base, argv[index + 1]), index + 2
        if argv[index:index + 1] == ["diff"] and ("--exit-code" in argv or "--quiet" in argv):
            self._lock_checked(cmd, state, base, _diff_paths(argv[index + 1:]))

    def _porcelain(self, cmd: _Cmd, state: _JobState) -> None:
        """`test -z "$(git status --porcelain [paths])"` (or `[ -z ... ]`): fails when the lock changed."""
        argv = cmd.command.argv
        if len(argv) < 3 or argv[1] != "-z" or (argv[0] == "[" and argv[3:] != ("]",)) or (
                argv[0] == "test" and len(argv) != 3):
            return
        match = _PORCELAIN_RE.match(argv[2])
        if match:
            words = match.group("rest").split()
            if not any(_unknown(w) for w in words):
                self._lock_checked(cmd, state, cmd.cwd, [w for w in words if not w.startswith("-")])

    def _lock_checked(self, cmd: _Cmd, state: _JobState, base: str | None, paths: list[str] | None) -> None:
        """A check that fails the job when the files `paths` (from `base`; None: all) changed: a regenerated
        lock among them is checked. One whose failure cannot stop the job (`|| true`, after `set +e`, on a
        `continue-on-error: true` step) checks nothing."""
        if not cmd.stops:
            return
        for tool in list(state.relocked):
            if _covers(paths, base, state.relock_paths.get(tool), _LOCK_NAMES[tool]):
                state.relocked.pop(tool)
                if tool == "uv":
                    state.uv_checked = True
        for rel in list(state.compiled):
            if _covers(paths, base, rel, _basename(rel)):
                state.compiled.pop(rel)

    def _lock_install(self, cmd: _Cmd, py: PyCommand, state: _JobState) -> None:
        """`uv pip sync FILE`: installs exactly the file, a lock, unless CI has just compiled it."""
        self._compiled_hit(cmd, py.positionals, state)
        state.lock_installed = True

    def _pip_tools(self, cmd: _Cmd, program: str, state: _JobState) -> None:
        words = list(cmd.command.argv[1:])
        if program == "pip-sync":
            files = [w for w in words if not w.startswith("-")] or ["requirements.txt"]
            self._compiled_hit(cmd, files, state)
            state.lock_installed = True
        else:
            self._compile(cmd, words, state)

    def _uv_pip_compile(self, cmd: _Cmd, py: PyCommand, state: _JobState) -> None:
        self._compile(cmd, _after(list(cmd.command.argv), "compile"), state)

    def _compile(self, cmd: _Cmd, words: list[str], state: _JobState) -> None:
        """`pip-compile requirements.in -o requirements.txt` regenerates a lock: remember which file."""
        if any(w in ("--dry-run", "--help", "-h") for w in words):
            return
        output = None
        for index, word in enumerate(words):
            if word in ("-o", "--output-file") and index + 1 < len(words):
                output = words[index + 1]
            elif word.startswith("--output-file="):
                output = word.partition("=")[2]
            elif word.startswith("-o") and len(word) > 2 and not word.startswith("--"):
                output = word[2:]
        if output is None:  # pip-compile's default: the input's name with .txt (uv prints to stdout)
            inputs = [w for w in words if w.endswith((".in", ".toml", ".cfg", ".py")) and not w.startswith("-")]
            if _basename(cmd.command.argv[0]) != "pip-compile" or len(inputs) != 1:
                return
            stem = inputs[0][:-3] if inputs[0].endswith(".in") else posixpath.join(posixpath.dirname(inputs[0]), "requirements")
            output = stem + ".txt"
        rel = _join(cmd.cwd, output)
        if rel is not None and not state.shipped_later:  # (a bump's new lock is reviewed in its pull request)
            state.compiled[rel] = cmd.path, cmd.command.line

    def _compiled_hit(self, cmd: _Cmd, written: Iterable[str], state: _JobState) -> bool:
        for word in written:
            rel = _join(cmd.cwd, word)
            if rel is not None and rel in state.compiled:
                self.report(ED501, cmd.path, cmd.command.line,
                            f"'{_shown(cmd.command.argv)}' installs {rel}, which this job re-compiled "
                            f"({_place(cmd, state.compiled[rel])}): CI installs a fresh resolution, not the "
                            f"committed lock.",
                            f"Remove the compile step from CI (or compare its output with `git diff --exit-code "
                            f"{rel}`), and install the committed {rel}.")
                return True
        return False

    def _export(self, cmd: _Cmd, py: PyCommand, state: _JobState) -> None:
        """`uv export --frozen > requirements.txt`: the requirements installed next come from the lock."""
        if not py.has("help"):
            state.exported = True

    # --- ED501 / ED502: pip and uv pip ---

    def _pip_install(self, cmd: _Cmd, py: PyCommand, state: _JobState) -> None:
        if py.has("dry-run", "help"):
            return
        uv = py.tool == "uv"
        env = cmd.env
        constrained = py.has("constraint", "constraints", "exclude-newer", "override", "overrides", "resolution") or (
            _nonempty(env, "UV_CONSTRAINT", "UV_EXCLUDE_NEWER", "UV_RESOLUTION") if uv
            else _nonempty(env, "PIP_CONSTRAINT"))
        if constrained:
            state.lock_installed = True  # what it installed is pinned by the constraints
            return
        shown = _shown(cmd.command.argv)
        line = cmd.command.line
        lock_here = False
        pinned_here: set[str] = set()
        for written in py.values("requirement"):
            if self._compiled_hit(cmd, [written], state):
                continue
            found = None if state.exported else _verdict(self.facts, cmd, written)
            if found is None:
                state.maybe_locked = True  # unknown content (or exported from the lock): not judged
                continue
            rel, verdict = found
            if verdict.kind == "pinned":
                lock_here = True
                pinned_here |= verdict.names
            elif verdict.kind == "input":
                self.report(ED501, cmd.path, line,
                            f"'{shown}' installs from {rel}, an unpinned input file: every run resolves the "
                            f"newest versions allowed.",
                            f"Install the pinned lock compiled from it (`uv pip compile {rel} -o <lock>`, "
                            f"ideally with hashes), or add `-c <constraints>`.")
            elif verdict.kind == "project":
                self.report(ED501, cmd.path, line,
                            f"'{shown}' installs the dependencies declared in {rel}, unpinned: every run "
                            f"resolves the newest versions allowed.",
                            "Install from the lock (`uv sync --locked`, or an exported pinned requirements file).")
            else:
                self.report(ED501, cmd.path, line,
                            f"'{shown}' installs from {rel}, which does not pin {verdict.detail}: every run may "
                            f"resolve different versions.",
                            f"Pin every entry of {rel} with == (compile it with pip-compile or `uv pip compile`), "
                            f"or add `-c <constraints>`.")
        locked = state.lock_installed or lock_here or state.maybe_locked
        local = [p for p in (*py.values("editable"), *py.positionals) if _local(p) and not _artefact(p)]
        if (local or py.has("group")) and not py.has("no-deps") and not locked:
            if not self._nothing_to_pin(cmd, local, py):
                self.report(ED501, cmd.path, line,
                            f"'{shown}' resolves the project's dependencies afresh, with no lock or "
                            f"constraints: every run may get different versions.",
                            "Install the locked dependencies first (`pip install --require-hashes -r <lock>`, "
                            "then `pip install --no-deps -e .`), or pass `-c <constraints>`.")
        if cmd.declared:
            self._remember(state, lock_here, pinned_here)
            return
        dependencies, tools = [], []
        for word in py.positionals:
            if _local(word) or _artefact(word) or requirement_is_pinned(word) is not False:
                continue
            try:
                name = canonicalize_name(Requirement(word).name)
            except InvalidRequirement:
                continue
            upgrade = py.has("upgrade", "force-reinstall")
            if name in INSTALLER_PACKAGES or (not upgrade and (name in state.pinned or name in pinned_here)):
                continue
            if name in self.facts.dependency_names:
                if upgrade or not locked:
                    dependencies.append(word)
            else:
                tools.append(word)
        if dependencies:
            listed = ", ".join(f"'{w}'" for w in dependencies)
            self.report(ED501, cmd.path, line,
                        f"'{shown}' installs the project's dependencies {listed} unpinned: CI gets whatever is "
                        f"newest, not the locked versions.",
                        "Install them from the lock (`uv sync --locked`, `pip install -r <lock>`), or pin them with ==.")
        if tools:
            listed = ", ".join(f"'{w}'" for w in tools)
            example = _requirement_name(tools[0])
            self.report(ED502, cmd.path, line,
                        f"'{shown}' installs {listed} unpinned: every new release reaches CI unreviewed, so a "
                        f"build can break with no change in this repository.",
                        f"Pin the version (`{example}==<version>`) and let Renovate or Dependabot bump it.",
                        self._pin_uv_fix(cmd, py, tools))
        self._remember(state, lock_here, pinned_here)

    @staticmethod
    def _remember(state: _JobState, lock_here: bool, pinned_here: set[str]) -> None:
        if lock_here:
            state.lock_installed = True
            state.pinned |= pinned_here

    def _nothing_to_pin(self, cmd: _Cmd, local: list[str], py: PyCommand) -> bool:
        """Every local path installed is a [project] that declares no dependencies (for these extras)."""
        if not local or py.has("group"):
            return False
        for target in local:
            path, _, extras = target.partition("[")
            folder = _join(cmd.cwd, path.removeprefix("file:") or ".")
            view = self.facts.pyproject_in(folder) if folder is not None else None
            names = [e.strip() for e in extras.rstrip("]").split(",") if e.strip()]
            if view is None or not _declares_nothing(view, names):
                return False
        return True

    # --- ED502: tools ---

    def _tool_install(self, cmd: _Cmd, py: PyCommand, state: _JobState) -> None:
        if py.has("constraint", "constraints", "exclude-newer", "help"):
            return
        if any("-c" in v.split() or "--constraint" in v for v in py.values("pip-args")):
            return
        constraint_variables = ("UV_CONSTRAINT", "UV_EXCLUDE_NEWER") if py.tool == "uv" else ("PIP_CONSTRAINT",)
        if _nonempty(cmd.env, *constraint_variables):
            return
        specs = py.positionals[:1] if py.tool == "uv" else py.positionals
        floating = [s for s in specs if _floats(s, py.tool)]
        self._report_tools(cmd, floating, py.tool, edit=self._pin_uv_fix(cmd, py, floating))

    def _tool_run(self, cmd: _Cmd, words: list[str], tool: str, state: _JobState) -> None:
        values = _UVX_VALUES if tool != "pipx" else _PIPX_RUN_VALUES
        options, rest = _split_options(words, values, "pwc" if tool != "pipx" else "")
        names = dict(options)
        if names.keys() & {"constraint", "constraints", "c", "exclude-newer", "help", "version", "V"}:
            return
        constraint_variables = ("PIP_CONSTRAINT",) if tool == "pipx" else ("UV_CONSTRAINT", "UV_EXCLUDE_NEWER")
        if _nonempty(cmd.env, *constraint_variables):
            return
        spec = names.get("from") or names.get("spec") or (rest[0] if rest else None)
        if spec and _floats(spec, "uv" if tool != "pipx" else "pipx"):
            self._report_tools(cmd, [spec], "uvx" if tool != "pipx" else "pipx run", run=True)

    def _report_tools(self, cmd: _Cmd, specs: list[str], tool: str, run: bool = False,
                      edit: Fix | None = None) -> None:
        if not specs:
            return
        listed = ", ".join(f"'{s}'" for s in specs)
        name = _requirement_name(specs[0])
        fixes = {
            "uv": f"Pin it: `uv tool install {name}==<version>`.",
            "uvx": f"Pin it: `uvx {name}@<version>`, or add it to a dependency group and `uv run` it from the lock.",
            "pipx": f"Pin it: `pipx install {name}==<version>`.",
            "pipx run": f"Pin it: `pipx run --spec {name}==<version> {name}`.",
        }
        verb = "runs the newest release of" if run else "installs"
        tail = "" if run else " unpinned"
        self.report(ED502, cmd.path, cmd.command.line,
                    f"'{_shown(cmd.command.argv)}' {verb} {listed}{tail}: every new release reaches CI "
                    f"unreviewed, so a build can break with no change in this repository.",
                    fixes[tool], edit)

    def _installer(self, cmd: _Cmd) -> None:
        for word in cmd.command.argv[1:]:
            if _UV_INSTALLER_RE.match(word):
                self.report(ED502, cmd.path, cmd.command.line,
                            f"'{_shown(cmd.command.argv)}' fetches uv's installer for the newest release: every "
                            f"uv release reaches CI unreviewed.",
                            "Use the versioned installer, https://astral.sh/uv/<version>/install.sh, or "
                            "astral-sh/setup-uv with `version:`.",
                            self._installer_fix(cmd, word))
                return

    def _installer_fix(self, cmd: _Cmd, url: str) -> Fix | None:
        """`https://astral.sh/uv/install.sh` -> `https://astral.sh/uv/X.Y.Z/install.sh`."""
        from envdoctor.rules._fixing import command_word

        known = self._uv_version(cmd.root)
        words = cmd.command.argv
        if known is None or url not in words or len(cmd.command.raw_words) != len(words):
            return None
        index = words.index(url)
        raw = cmd.command.raw_words[index]  # as written: maybe quoted
        span = command_word(self.project.source_lines(cmd.path), cmd.command, index)
        if span is None or raw.count("/uv/install.") != 1:
            return None
        line, start, _ = span
        column = start + raw.index("/uv/install.") + len("/uv/")
        version, source = known
        return fix(f"Use uv's installer for {version} ({source})", insert(cmd.path, line, column, f"{version}/"))

    def _setup_uv(self, workflow: Workflow) -> None:
        for job in workflow.jobs:
            for step in job.steps:
                if step.uses and _SETUP_UV_RE.match(step.uses.strip()):
                    self._setup_uv_step(workflow.path, workflow.root, step, None)

    def _setup_uv_step(self, path: str, root: str, step: Step, caller: str | None, own_only: bool = False,
                       via: tuple = ()) -> None:
        """ED502 for one astral-sh/setup-uv step written in `path`, run in the checkout folder `root`
        (for a composite action's step: as `caller` runs it). `own_only`: judge only what the step says
        itself (a floating `version:`), not what it would read from the repository that runs it."""
        self._caller, self._via = caller, via
        try:
            version = step.with_.get("version")
            version_file = (step.with_.get("version-file") or "").strip()
            if version is not None and version.strip():
                if _floating_version(version):
                    self.report(ED502, path, step.with_lines.get("version", step.line),
                                f"'{step.uses}' with version '{version.strip()}' installs the newest uv "
                                f"release: every uv release reaches CI unreviewed.",
                                "Give an exact version, e.g. `version: \"0.9.5\"` (Renovate can bump it).",
                                self._setup_uv_fix(path, root, step))
                return
            if own_only:
                return
            if version_file:
                self._setup_uv_version_file(path, root, step, version_file)
                return
            folder = _join(root, step.with_.get("working-directory"))
            if folder is None:
                return
            request = self.facts.uv_version_request(folder)
            if request is None:
                self.report(ED502, path, step.uses_line or step.line,
                            f"'{step.uses}' without `version` installs the newest uv release (no "
                            f"`required-version` in uv.toml or [tool.uv] either): every uv release reaches "
                            f"CI unreviewed.",
                            "Add `with: version: \"<version>\"`, or set `required-version` in [tool.uv], "
                            "which setup-uv reads.",
                            self._setup_uv_fix(path, root, step))
            elif _floating_version(request[0]):
                specifier, source = request
                self.report(ED502, path, step.uses_line or step.line,
                            f"'{step.uses}' without `version` installs the newest uv release: the uv version "
                            f"it reads from {source}, '{specifier}', is only a lower bound, so every uv "
                            f"release reaches CI unreviewed.",
                            "Add `with: version: \"<version>\"`, or give `required-version` an exact "
                            "version or an upper bound (`>=0.9,<0.10`).",
                            self._setup_uv_fix(path, root, step))
        finally:
            self._caller, self._via = None, ()

    def _setup_uv_version_file(self, path: str, root: str, step: Step, written: str) -> None:
        """setup-uv's `version-file:` naming a uv.toml or pyproject.toml of the repository that holds no uv
        version, or only a lower bound, pins nothing. Other files (.tool-versions, requirements files) and
        files envdoctor does not see are not judged."""
        rel = _join(root, written) if not _unknown(written) else None
        if rel is None or not self.facts.visible(rel):
            return
        read, specifier = self.facts.uv_version_in(rel)
        line = step.with_lines.get("version-file", step.line)
        if not read:
            return
        if specifier is None:
            self.report(ED502, path, line,
                        f"'{step.uses}' with `version-file: {written}` finds no uv version there (no "
                        f"`required-version`, no `uv==` requirement): that pins nothing; depending on the "
                        f"setup-uv release it installs the newest uv, or stops with an error.",
                        f"Set `required-version` in {rel} (setup-uv reads it), or give `version:` instead.")
        elif _floating_version(specifier):
            self.report(ED502, path, line,
                        f"'{step.uses}' with `version-file: {written}` reads '{specifier}' there, only a lower "
                        f"bound: it installs the newest uv release, so every uv release reaches CI unreviewed.",
                        f"Give `required-version` in {rel} an exact version or an upper bound (`>=0.9,<0.10`).")

    def _read_action(self, rel: str) -> Workflow | None:
        """A composite action's file, parsed once; a suppression above one of its steps covers the step."""
        from envdoctor.sources.workflows import parse_action

        view = self.project.parsed("action", rel, parse_action)
        if view is not None and rel not in self._spanned:
            self._spanned.add(rel)
            index = self.project.suppressions.get(rel)
            if index is not None:
                index.extend_over(view.spans())
        return view

    def _unused_actions(self) -> None:
        """Composite actions no workflow job of the repository uses (and the repository's own root action,
        written for other repositories): they run in checkouts envdoctor does not see, so ED501 does not
        judge them, and ED502 only a setup-uv `version:` that floats by itself."""
        for rel in self.project.files("action"):
            if rel in self.actions_used:
                continue
            view = self._read_action(rel)
            for job in view.jobs if view is not None else ():
                for step in job.steps:
                    if step.uses and _SETUP_UV_RE.match(step.uses.strip()):
                        self._setup_uv_step(rel, ".", step, None, own_only=True)

    def _setup_uv_fix(self, path: str, root: str, step: Step) -> Fix | None:
        """Give setup-uv the uv version this project uses: replace a floating `version:` value, or add
        `version:` to the step's `with:` (adding `with:` after `uses:` when there is none). Only for block
        mappings written one key a line; anything else is left alone."""
        known = self._uv_version(root)
        lines = self.project.source_lines(path)
        if known is None or lines is None:
            return None
        version, source = known
        title = f"Pin setup-uv to uv {version} ({source})"
        value_line = step.with_lines.get("version")
        if value_line is not None:
            match = _YAML_VALUE.match(lines[value_line - 1]) if value_line <= len(lines) else None
            if match is None or match.group("key") != "version":
                return None
            return fix(title, replace_range(path, value_line, match.start("value") + 1, value_line,
                                            match.end("value") + 1, f'"{version}"'))
        if step.with_lines:
            first = min(step.with_lines.values())
            match = _YAML_VALUE.match(lines[first - 1]) if first <= len(lines) else None
            if match is None or match.group("key") not in step.with_lines:
                return None
            return fix(title, insert(path, first, 1, f'{match.group("indent")}version: "{version}"\n'))
        uses = step.uses_line
        if uses is None or uses > len(lines) or uses >= len(lines) + 1:
            return None
        match = _YAML_USES.match(lines[uses - 1])
        end = min(step.end_line, len(lines))
        if match is None or any(_YAML_WITH.match(lines[i - 1]) for i in range(step.line, end + 1)):
            return None
        pad = " " * len(match.group("lead"))
        text = f'{pad}with:\n{pad}  version: "{version}"\n'
        if uses == len(lines):  # the last line, without a line break after it
            return fix(title, insert(path, uses, len(lines[-1]) + 1, "\n" + text.rstrip("\n")))
        return fix(title, insert(path, uses + 1, 1, text))

    # --- tox and nox sessions run by CI ---

    def _session_runner(self, cmd: _Cmd) -> None:
        found = _session_tool(list(cmd.command.argv))
        if found is None or cmd.cwd is None or cmd.declared:
            return
        tool, args = found
        folder = cmd.cwd
        if tool == "tox":
            names = _tox_selection(args, cmd.env)
            rel = "tox.ini" if folder == "." else f"{folder}/tox.ini"
            if rel in self.project.files("tox.ini") and names is not False:
                _merge(self.tox_runs, rel, names)
        else:
            names = _nox_selection(args, cmd.env)
            rel = "noxfile.py" if folder == "." else f"{folder}/noxfile.py"
            if rel in self.project.files("noxfile.py") and names is not False:
                _merge(self.nox_runs, rel, names)

    def _sessions(self) -> None:
        if not self.tox_runs and not self.nox_runs:
            return  # nothing runs tox or nox: spare the import of the workflow reader
        from envdoctor.sources.workflows import parse_noxfile, parse_tox_sessions

        for rel, names in sorted(self.tox_runs.items(), key=lambda kv: kv[0]):
            tox: ToxFile | None = self.project.parsed("tox-sessions", rel, parse_tox_sessions)
            if tox is not None:
                for env_name in sorted(tox.selected(names)):
                    self._job(_tox_commands(tox, env_name))
        for rel, names in sorted(self.nox_runs.items(), key=lambda kv: kv[0]):
            nox: NoxFile | None = self.project.parsed("nox-sessions", rel, parse_noxfile)
            if nox is not None:
                for session in nox.selected(names):
                    self._job(_nox_commands(nox, session))


# --- lock checks: `git diff --exit-code`, `test -z "$(git status --porcelain)"` ------------------------------

_LOCK_NAMES = {"uv": "uv.lock", "poetry": "poetry.lock", "pipenv": "Pipfile.lock"}
# A word of `git diff` that names a commit, not a path (`git diff --exit-code HEAD`).
_REV_RE = re.compile(r"^(?:HEAD|@|FETCH_HEAD|ORIG_HEAD)(?:[~^][0-9]*)*$|\.\.|^[0-9a-f]{7,40}$")
_PORCELAIN_RE = re.compile(r"^\$\(\s*git\s+status\s+--porcelain(?:=v?[12])?(?P<rest>(?:\s+[^\s()`$;|&]+)*)\s*\)$")
_GLOB_CHARS = frozenset("*?[")


def _diff_paths(words: list[str]) -> list[str]:
    """The paths a `git diff` (its words after `diff`) limits itself to: after `--`, else its words that are
    no option and no commit."""
    if "--" in words:
        return words[words.index("--") + 1:]
    return [w for w in words if not w.startswith("-") and not _REV_RE.search(w)]


def _covers(paths: list[str] | None, base: str | None, target: str | None, name: str) -> bool:
    """Whether git pathspecs `paths`, given in the folder `base`, take in the file `target` (relative to the
    scanned root): no path at all, the file, a folder holding it (`.`, `./`, `..` from below), a glob that
    matches it (`'*.lock'`, git's `*` crossing `/`), `:/` (the top), minus `:!` / `:(exclude)` ones. When
    the file or the folder is not known, a path named like the lock, or any that cannot be read, counts."""
    if not paths:
        return True
    if target is None or base is None:
        return any(_basename(p) == name or p.startswith(":") or _unknown(p) for p in paths)
    included, excluded = False, False
    for word in paths:
        if _unknown(word):
            return True
        exclude = False
        top = False
        if word.startswith(":"):
            magic = re.match(r"^:(?:\((?P<long>[a-z,]*)\)|(?P<short>[/!^]*))(?P<rest>.*)$", word)
            if magic is None:
                return True
            long_magic = {m for m in (magic.group("long") or "").split(",") if m}
            if long_magic - {"exclude", "top", "glob"}:
                return True  # icase, attr, literal: not read
            short = magic.group("short") or ""
            exclude = "exclude" in long_magic or "!" in short or "^" in short
            top = "top" in long_magic or "/" in short
            word = magic.group("rest") or "."
        folder = "." if top else base
        if _basename(word) == name and not exclude:
            included = True
            continue
        if any(c in _GLOB_CHARS for c in word):
            pattern = word if folder == "." else f"{folder}/{word}"
            hit = fnmatch.fnmatchcase(target, posixpath.normpath(pattern))
        else:
            full = _join(folder, word.rstrip("/") or ".")
            hit = full is not None and (full == "." or target == full or target.startswith(full + "/"))
        if exclude:
            excluded = excluded or hit
        else:
            included = included or hit
    if not any(not (p.startswith((":!", ":^", ":(exclude"))) for p in paths):
        included = True  # only exclusions: the rest of the tree is diffed
    return included and not excluded


_EXITS_RE = re.compile(r"\bexit\s+(?!0\b)\S|\bexit\s*(?:$|[;&|)}])|\bfalse\b|\breturn\s+(?!0\b)\S", re.MULTILINE)
_CONDITION_RE = re.compile(r"(?:^|[;&|({]|\bthen|\bdo|\belse)\s*(?P<keyword>if|elif|while|until)\s+(?:!\s+)?$")
_NEGATED_RE = re.compile(r"(?:^|[;&|({]|\bthen|\bdo|\belse)\s*!\s+$")
_SET_RE = re.compile(r"^[-+][a-zA-Z]*e[a-zA-Z]*$")


def _stops(script, position: int) -> bool:  # noqa: ANN001
    """Whether a failure of the script's command at `position` fails its step. CI runs scripts with `-e`
    (GitHub's bash and sh, GitLab, CircleCI), so it does, unless: a `||` follows it whose other side does
    not `exit` (`|| true`, `|| :`, `|| echo changed`); it is the condition of an `if` / `while` whose body
    does not exit (`if ! git diff --quiet; then echo ...; fi`), or negated with `!`; a `set +e` (or
    `set +o errexit`) came before it in the script, or the step's `shell:` is a command without `-e`, and it
    is not the script's last command; an `&&` follows it and it is not the last. Whatever cannot be read
    (a command inside `sh -c "..."`) counts as stopping."""
    text = script.text
    commands = script.commands
    command = commands[position]
    offsets = command.word_offsets
    if not offsets or len(set(offsets)) != len(offsets) or len(offsets) != len(command.raw_words):
        return True
    start, end = offsets[0], offsets[-1] + len(command.raw_words[-1])
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    before, after = text[line_start:start], text[end:line_end].split("#", 1)[0].strip()
    condition = _CONDITION_RE.search(before)
    if condition:
        closing = "fi" if condition.group("keyword") in ("if", "elif") else "done"
        found = re.search(rf"\b{closing}\b", text[end:])
        return found is None or bool(_EXITS_RE.search(text[end:end + found.start()]))
    if _NEGATED_RE.search(before):
        return False
    if after.startswith("||"):
        rest = after[2:].strip()
        return not rest or rest.endswith(("{", "(", "\\", "|", "&")) or bool(_EXITS_RE.search(rest))
    last = not any(c.word_offsets and c.word_offsets[0] > line_end for c in commands[position + 1:])
    if after.startswith("&&"):
        return last
    errexit = _errexit(script.shell)
    for earlier in commands[:position]:
        argv = earlier.argv
        if argv[:1] == ("set",):
            for index, word in enumerate(argv[1:], 1):
                if _SET_RE.match(word):
                    errexit = word.startswith("-")
                elif word in ("-o", "+o") and argv[index + 1:index + 2] == ("errexit",):
                    errexit = word == "-o"
    return errexit or last


def _errexit(shell: str | None) -> bool:
    """Whether a step's shell runs with `-e`: CI's defaults do; a `shell:` written as a command
    (`bash {0}`) only when it says `-e` (or `-eo pipefail`)."""
    if shell is None or "{0}" not in shell:
        return True
    return any(_SET_RE.match(word) and word.startswith("-") for word in shell.split()) or "errexit" in shell


def _ships(cmd: _Cmd, committed: bool) -> bool:
    """A step that hands what the job changed to review: a pull-request (or commit-and-push) action,
    `gh pr create`, `glab mr create`, `hub pull-request`, or `git push` after a `git commit` in the job."""
    if cmd.uses is not None:
        return cmd.uses.partition("@")[0].strip().lower() in _SHIPPING_ACTIONS
    argv = [w for w in cmd.command.argv if not w.startswith("-")]
    program = _basename(argv[0]).lower() if argv else ""
    if program in ("gh", "glab", "hub"):
        return argv[1:3] in (["pr", "create"], ["mr", "create"]) or argv[1:2] == ["pull-request"]
    return program == "git" and committed and "push" in argv[1:] and "--dry-run" not in cmd.command.argv


def _dependents(workflow: Workflow, name: str) -> set[str]:
    """The jobs of a GitHub workflow that run after job `name` because they `needs:` it, or a job that does."""
    found: set[str] = set()
    frontier = {name}
    while frontier:
        frontier = {job.name for job in workflow.jobs if set(job.needs) & frontier} - found - {name}
        found |= frontier
    return found


def _last_shipping(commands: list[_Cmd]) -> int:
    """The index of the job's last command that ships its changes for review (see `_ships`), or -1."""
    last, committed = -1, False
    for index, cmd in enumerate(commands):
        if _ships(cmd, committed):
            last = index
        argv = cmd.command.argv
        if argv and _basename(argv[0]).lower() == "git" and "commit" in argv[1:] and "--dry-run" not in argv:
            committed = True
    return last


def _merge(runs: dict[str, set[str] | None], rel: str, names: set[str] | None) -> None:
    if rel in runs and runs[rel] is None:
        return
    if names is None:
        runs[rel] = None
    else:
        runs.setdefault(rel, set()).update(names)  # type: ignore[union-attr]


# --- option splitting -------------------------------------------------------------------------------------

# Options of `uv run` / `uvx` / `pipx run` that take a value (long names without dashes; short letters apart).
_UV_RUN_VALUES = frozenset(
    "with with-editable with-requirements python package extra no-extra group no-group only-group directory "
    "project env-file index default-index index-url extra-index-url find-links index-strategy keyring-provider "
    "resolution prerelease prerelease-package fork-strategy exclude-newer exclude-newer-package config-setting "
    "config-settings-package no-build-isolation-package link-mode refresh-package reinstall-package "
    "upgrade-package upgrade-group no-editable-package no-sources-package cache-dir config-file color "
    "python-preference allow-insecure-host no-binary-package no-build-package python-platform from "
    "constraints constraint overrides build-constraints".split())
# Those of `uv sync` (`uv sync --help`, uv 0.13; uv's global options too). Unlike `uv run -s/--script`, a
# flag, `uv sync --script` takes a value.
_UV_SYNC_VALUES = frozenset(
    "extra no-extra group no-group only-group package script output-format no-editable-package "
    "no-install-package python-platform index default-index index-url extra-index-url find-links "
    "index-strategy keyring-provider upgrade-package upgrade-group resolution prerelease prerelease-package "
    "fork-strategy exclude-newer exclude-newer-package no-sources-package reinstall-package link-mode "
    "config-setting config-settings-package no-build-isolation-package no-build-package no-binary-package "
    "cache-dir refresh-package python python-preference color allow-insecure-host directory project "
    "config-file".split())
_UV_SHORT_VALUES = "pwifPC"  # -p PYTHON, -w WITH (uv run), -i INDEX_URL, -f FIND_LINKS, -P PACKAGE, -C SETTING
_UVX_VALUES = _UV_RUN_VALUES
_PIPX_RUN_VALUES = frozenset("spec python pip-args index-url backend".split())


def _after(argv: list[str], word: str) -> list[str]:
    return argv[argv.index(word) + 1:] if word in argv else []


def _split_options(words: list[str], long_values: frozenset[str], short_values: str
                   ) -> tuple[list[tuple[str, str | None]], list[str]]:
    """Options up to the first positional word (the command or tool to run), and the words from there."""
    options: list[tuple[str, str | None]] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--":
            index += 1
            break
        if not word.startswith("-") or word == "-":
            break
        index += 1
        if word.startswith("--"):
            name, eq, value = word[2:].partition("=")
            if not eq and name in long_values and index < len(words):
                value = words[index]
                index += 1
            options.append((name, value if (eq or name in long_values) else None))
        else:
            letter = word[1:2]
            long_name = {"p": "python", "w": "with", "c": "constraints"}.get(letter, letter)
            if letter in short_values:
                value = word[2:].lstrip("=")
                if not value and index < len(words):
                    value = words[index]
                    index += 1
                options.append((long_name, value))
            else:
                options.append((long_name, None))
    return options, words[index:]


def _loose_expansion(words: Iterable[str], long_values: frozenset[str], short_values: str) -> bool:
    """Whether a word the shell or the CI expands stands where uv reads an option or a flag (`uv sync $ARGS`,
    `uv sync ${{ env.ARGS }}`, `--$X`, a word after `--`): it may hold `--locked`, so the command's options
    are not known. The value of an option that takes one (`--python ${{ matrix.py }}`, `-p $PY`,
    `--extra=$X`, `-p$PY`) cannot turn into an option, and does not count."""
    words = list(words)
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word == "--":
            return any(_expands(rest) for rest in words[index:])
        if word.startswith("--"):
            name, eq, _value = word[2:].partition("=")
            if name in long_values:
                index += 0 if eq else 1  # the next word is its value, whatever it holds
            elif _expands(word):
                return True  # `--$X`, or an option envdoctor does not know given `=$X`
            continue
        if word.startswith("-") and len(word) > 1:
            for position, letter in enumerate(word[1:], 1):
                if letter in short_values:
                    index += 0 if word[position + 1:] else 1  # `-p$PY` or `-p $PY`
                    break
                if not letter.isalpha():
                    if _expands(word):
                        return True  # `-$X`, `-q$X`
                    break
            continue
        if _expands(word):
            return True
    return False


# Not pep508.requirement_name: keeps the spelling as written (shown in messages), and a path or URL whole.
def _requirement_name(spec: str) -> str:
    name = re.split(r"[\[<>=!~;@ ]", spec.strip(), maxsplit=1)[0]
    return name or spec


def _artefact(word: str) -> bool:
    """A built wheel or sdist file: installing the artefact the job built is not installing "the project"."""
    return word.lower().endswith((".whl", ".tar.gz", ".zip")) or "*" in word


def _floats(spec: str, tool: str) -> bool:
    """Whether a tool spec leaves the version open. Paths, URLs and `$VARS` are not judged."""
    if _unknown(spec) or _local(spec) or "://" in spec:
        return False
    if tool in ("uv", "uvx") and "@" in spec:
        return spec.rsplit("@", 1)[1].strip().lower() in ("", "latest")
    pinned = requirement_is_pinned(spec)
    if pinned is None:
        return False
    if _requirement_name(spec).lower() in INSTALLER_PACKAGES:
        return False
    return not pinned


def _floating_version(version: str) -> bool:
    """A setup-uv `version:` that follows new releases: `latest`, `*`, or a lower bound alone."""
    text = version.strip().strip("\"'").lower()
    if _unknown(text):
        return False
    if text in ("latest", "*", "x"):
        return True
    return text.startswith(">") and "<" not in text and "," not in text


_PYTHON_RE = re.compile(r"^(python|pypy)(\d+(\.\d+)?)?$|^py$")
# One `key: value` line of a YAML block mapping (the value plain or quoted, an end-of-line comment allowed).
_YAML_VALUE = re.compile(r"^(?P<indent>[ \t]*)(?P<key>[A-Za-z0-9_-]+)[ \t]*:[ \t]+"
                         r"(?P<value>\"[^\"\\]*\"|'[^']*'|[^\s#'\"][^#]*?)[ \t]*(?:#.*)?$")
_YAML_USES = re.compile(r"^(?P<lead>[ \t]*(?:-[ \t]+)?)uses[ \t]*:[ \t]*[\"']?astral-sh/setup-uv[^\s\"'#]*[\"']?"
                        r"[ \t]*(?:#.*)?$", re.IGNORECASE)
_YAML_WITH = re.compile(r"^[ \t]*(?:-[ \t]+)?with[ \t]*:")
_LAUNCHERS = frozenset({"poetry", "pdm", "hatch", "pipenv"})


def _session_tool(argv: list[str]) -> tuple[str, list[str]] | None:
    """("tox" | "nox", its arguments) when the command runs tox or nox, however it is launched."""
    words = list(argv)
    for _ in range(_MAX_LAUNCH_DEPTH):
        if not words:
            return None
        program = _basename(words[0]).lower()
        tool = _requirement_name(program)
        if tool in ("tox", "nox"):
            return tool, words[1:]
        if _PYTHON_RE.match(program) and len(words) > 2 and words[1] == "-m":
            words = words[2:]
        elif program in ("uvx", "pipx") or (program == "uv" and words[1:3] == ["tool", "run"]):
            rest = words[3:] if program == "uv" else words[1:]
            if program == "pipx":
                rest = rest[1:] if rest[:1] == ["run"] else []
            options, rest = _split_options(rest, _UVX_VALUES | _PIPX_RUN_VALUES, "pwc")
            source = dict(options).get("from") or dict(options).get("spec")
            if source and _requirement_name(source) in ("tox", "nox") and rest:
                return _requirement_name(source), rest[1:]
            words = rest
        elif program == "uv" and words[1:2] == ["run"]:
            words = _split_options(words[2:], _UV_RUN_VALUES, "pw")[1]
        elif program in _LAUNCHERS and words[1:2] == ["run"]:
            rest = words[2:]
            start = next((i for i, w in enumerate(rest) if not w.startswith("-")), len(rest))
            words = rest[start:]
        else:
            return None
    return None


def _tox_selection(args: list[str], env: Mapping[str, str]) -> set[str] | None | bool:
    """The env names a tox command runs; None for its env_list; False when it cannot be known."""
    names: set[str] = set()
    index = 0
    while index < len(args):
        word = args[index]
        value = None
        if word in ("-e", "--env") and index + 1 < len(args):
            value = args[index + 1]
            index += 1
        elif word.startswith("--env="):
            value = word[6:]
        elif word.startswith("-e") and len(word) > 2 and not word.startswith("--"):
            value = word[2:]
        elif word in ("-m", "--labels", "-f", "--factors"):
            return False
        if value is not None:
            if _unknown(value):
                return False
            if value in ("ALL", "all"):
                return None
            names.update(v.strip() for v in value.split(",") if v.strip())
        index += 1
    if names:
        return names
    if "TOXENV" in env:
        value = env["TOXENV"]
        return False if _unknown(value) else {v.strip() for v in value.split(",") if v.strip()}
    return None


def _nox_selection(args: list[str], env: Mapping[str, str]) -> set[str] | None | bool:
    names: set[str] = set()
    index = 0
    while index < len(args):
        word = args[index]
        if word in ("-s", "-e", "--session", "--sessions"):
            index += 1
            while index < len(args) and not args[index].startswith("-"):
                if _unknown(args[index]):
                    return False
                names.update(v.strip() for v in args[index].split(",") if v.strip())
                index += 1
            continue
        if word.startswith(("--session=", "--sessions=")):
            names.update(word.partition("=")[2].split(","))
        elif word in ("-t", "--tags", "-k", "--keywords", "-p", "--python"):
            return False
        index += 1
    if names:
        return names
    if "NOXSESSION" in env:
        value = env["NOXSESSION"]
        return False if _unknown(value) else {v.strip() for v in value.split(",") if v.strip()}
    return None


def _tox_commands(tox: ToxFile, name: str) -> list[_Cmd]:
    """What tox runs for an environment: its deps (as one install each), commands_pre, then commands."""
    env = tox.effective(name)
    if env is None:
        return []
    folder = tox.directory
    constraint_words: list[str] = []
    for entry, _line in env.deps:
        if entry.startswith(("-c", "--constraint")):
            constraint_words += entry.split()
    commands: list[_Cmd] = []
    for entry, line in env.deps:
        if entry.startswith(("-c", "--constraint")):
            continue
        words = tuple(["pip", "install", *entry.split(), *constraint_words])
        commands.append(_Cmd(SimpleCommand(words, (), line, words), tox.path, env.setenv, folder, folder,
                             declared=True))
    for script in (*env.commands_pre, *env.commands):
        for command in script.commands:
            command = unwrap(command)
            if command.argv:
                commands.append(_Cmd(command, tox.path, env.setenv, folder, folder))
    return commands


def _nox_commands(nox: NoxFile, session) -> list[_Cmd]:  # noqa: ANN001
    commands = []
    for call in session.calls:
        words = ("pip", "install", *call.argv) if call.kind == "install" else call.argv
        if words:
            commands.append(_Cmd(SimpleCommand(tuple(words), (), call.line, tuple(words)), nox.path, call.env,
                                 nox.directory, nox.directory, declared=call.kind == "install"))
    return commands


# --- the rules ----------------------------------------------------------------------------------------------

_RESULTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _hits(project: Project, code: str) -> Iterator[Hit]:
    """Both rules share one walk of the workflows per scan."""
    if project not in _RESULTS:
        _RESULTS[project] = _Analysis(project).run()
    for found in _RESULTS[project]:
        if found.code == code:
            yield found.hit


class CiIgnoresLockfile(Rule):
    code = "ED501"
    name = "ci-ignores-lockfile"
    severity = Severity.ERROR
    target = "repository"
    summary = "A CI workflow installs the project's dependencies without the lock."
    fix_safety = "safe"  # `uv sync --locked`, `uv run --locked`: CI then fails on a stale lock
    fix_hint = "Install from the lock: `uv sync --locked`, `poetry install`, `pip install -r <lock> --require-hashes`."

    def check(self, project: Project, context: Context) -> Iterator[Hit]:
        yield from _hits(project, ED501)


class CiUnpinnedTool(Rule):
    code = "ED502"
    name = "ci-unpinned-tool"
    severity = Severity.WARNING
    target = "repository"
    summary = "A CI workflow installs a tool without pinning its version."
    fix_safety = "unsafe"  # pins uv to the version in use locally: CI may get an older or newer uv
    fix_hint = "Pin the tool's version (`uv==0.9.5`, `ruff@0.14.0`, setup-uv `version:`)."

    def check(self, project: Project, context: Context) -> Iterator[Hit]:
        yield from _hits(project, ED502)


_RULE_NAMES = {rule.code: rule.name for rule in (CiIgnoresLockfile, CiUnpinnedTool)}  # for `_waiver`
