"""The Project: the scanned repository, which answers questions about it.

It walks the tree once (skipping VCS folders, virtual environments, caches and build output, never
following a link out of the root), remembers the files of the kinds envdoctor reads, and parses each file
on first use only, caching the result. A file that cannot be read or parsed becomes one ED001 finding and
is then absent from every answer. No rule opens a file itself.
"""

from __future__ import annotations

import importlib
import os
import re
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterable, Iterator

from envdoctor.config import Config
from envdoctor.files import FILE_ONLY_NAMES, SourceError, path_kind, read_text, split_lines
from envdoctor.findings import Finding
from envdoctor.git import GitFacts
from envdoctor.suppressions import SuppressionIndex, parse_suppressions

# Folders never descended into (ruff's defaults, plus Python tooling caches). `exclude` replaces this
# list, `extend-exclude` adds to it; `.git` is skipped whatever the configuration says.
DEFAULT_EXCLUDE = (
    ".bzr", ".direnv", ".eggs", ".hg", ".mypy_cache", ".nox", ".pants.d", ".pytype", ".ruff_cache",
    ".svn", ".tox", ".venv", "__pypackages__", "__pycache__", "_build", "buck-out", "build", "dist",
    "node_modules", "site-packages", "venv", ".pytest_cache", ".hypothesis", "*.egg-info",
)


@dataclass(frozen=True)
class Item:
    """One thing a rule inspects: its path (relative, `/`-separated; None for the repository) and its view."""

    path: str | None
    view: Any


def compile_glob(pattern: str) -> re.Pattern[str]:
    """A path glob as a regex over `/`-separated relative paths.

    `*` and `?` stay within one path segment, `**` spans segments. A pattern without `/` matches a file or
    folder of that name anywhere; one with `/` is anchored at the root. A match on a folder covers all below.
    """
    pattern = pattern.strip().rstrip("/")
    anchored = "/" in pattern
    pattern = pattern.lstrip("/")
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    body = "".join(out)
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"^{prefix}{body}(?:/.*)?$")


class Project:
    def __init__(self, root: Path, config: Config, scan_paths: list[Path] | None = None) -> None:
        self.root = root.resolve()
        self.config = config
        self.scan_paths = [p.resolve() for p in scan_paths] if scan_paths else [self.root]
        excludes = config.exclude if config.exclude else DEFAULT_EXCLUDE
        self._exclude = [compile_glob(g) for g in (*excludes, *config.extend_exclude)]
        self.problems: list[Finding] = []  # ED001 findings: files that could not be read or parsed
        self.notes: list[str] = []  # shown with --verbose
        self.suppressions: dict[str, SuppressionIndex] = {}
        self._parsed: dict[tuple[str, str], Any] = {}
        self._paths: dict[int, str] = {}  # id(view) -> its path, for each view `parsed` made (kept in _parsed)
        self._failed: set[str] = set()
        self._parsing = 0  # `parsed` calls under way: a parse's own read is not a use of its own
        self._uses: set[str] | None = None  # the files handed out since `watch_uses`, while watched
        self._lines: dict[str, list[str] | None] = {}  # source_lines cache: a few files, newest last

    # --- discovery ----------------------------------------------------------------------------------

    def relative(self, path: Path) -> str:
        return PurePosixPath(path.relative_to(self.root)).as_posix() if path != self.root else "."

    def excluded(self, rel: str) -> bool:
        return any(p.match(rel) for p in self._exclude)

    @cached_property
    def _walk(self) -> tuple[dict[str, list[str]], list[str]]:
        files: dict[str, list[str]] = {}
        environments: list[str] = []
        for start in self.scan_paths:
            if start.is_file():
                rel = self.relative(start)
                kind = path_kind(rel)
                if kind:
                    files.setdefault(kind, []).append(rel)
                continue
            self._walk_dir(start, files, environments)
        for paths in files.values():
            paths.sort()
        environments.sort()
        return files, environments

    def _walk_dir(self, start: Path, files: dict[str, list[str]], environments: list[str]) -> None:
        stack = [start]
        while stack:
            folder = stack.pop()
            rel_folder = self.relative(folder)
            try:
                entries = list(os.scandir(folder))
            except OSError as exc:
                reason = "permission denied" if isinstance(exc, PermissionError) else (exc.strerror or str(exc))
                self.problem(rel_folder, f"Folder cannot be listed: {reason}; it was not scanned.")
                continue
            names = {e.name for e in entries}
            if folder != self.root and _is_environment(names):
                environments.append(rel_folder)  # the environment rules read it; nothing below is scanned
                continue
            for entry in entries:
                rel = entry.name if rel_folder == "." else f"{rel_folder}/{entry.name}"
                if entry.name == ".git":
                    continue
                if self.excluded(rel):
                    # `.venv` and `venv` are excluded by default, but the environment rules need to know
                    # they are there: look inside (one listing), never below.
                    if entry.is_dir(follow_symlinks=False) and _looks_like_environment(entry.path):
                        environments.append(rel)
                    continue
                try:
                    if entry.is_symlink():
                        self._link(entry, rel, files)
                    elif entry.is_dir():
                        if entry.name in FILE_ONLY_NAMES:
                            self.problem(rel, "This is a directory, but the name is that of a file; it was not read.")
                        stack.append(Path(entry.path))
                    else:
                        kind = path_kind(rel)
                        if kind:
                            files.setdefault(kind, []).append(rel)
                except OSError as exc:
                    self.notes.append(f"{rel}: skipped ({exc.strerror or exc})")

    def _link(self, entry: os.DirEntry[str], rel: str, files: dict[str, list[str]]) -> None:
        """Links to folders are never followed (no loops, no escape); links to files only inside the root."""
        kind = path_kind(rel)
        if kind is None:
            return
        try:
            target = Path(entry.path).resolve(strict=True)
        except (OSError, RuntimeError):
            self.problem(rel, "This link is dangling or loops; it was not read.")
            return
        if target != self.root and self.root not in target.parents:
            self.notes.append(f"{rel}: skipped, a link pointing outside the scanned root")
        elif target.is_dir():
            self.notes.append(f"{rel}: skipped, a link to a folder")
        else:
            files.setdefault(kind, []).append(rel)

    @cached_property
    def git(self) -> GitFacts:
        """Tracked, ignored and changed files, asked of git once per scan (see git.py for the safety)."""
        facts = GitFacts.read(self.root)
        if not facts.available:
            self.notes.append(f"git facts unavailable ({facts.reason}): rules that need git were silent")
        return facts

    def close(self) -> None:
        """End what the scan started (git's long-lived check-ignore process)."""
        git = self.__dict__.get("git")
        if git is not None:
            git.close()

    def files(self, kind: str) -> list[str]:
        """Relative paths of the discovered files of a kind, sorted."""
        return self._walk[0].get(kind, [])

    @property
    def environments(self) -> list[str]:
        """Folders holding a virtual environment (pyvenv.cfg) or a conda prefix (conda-meta/)."""
        return self._walk[1]

    def path_type(self, rel: str) -> str | None:
        """'file' or 'dir' if the relative path exists inside the root, else None (also for a path or link
        that leads out of the root, and for anything that is neither). A stat only: nothing is read."""
        parts = [p for p in PurePosixPath(rel).parts if p not in ("", ".")]
        if ".." in parts or PurePosixPath(rel).is_absolute():
            return None
        try:
            target = self.root.joinpath(*parts).resolve(strict=True)
            if target != self.root and self.root not in target.parents:
                return None
            info = os.stat(target)
        except (OSError, RuntimeError, ValueError):
            return None
        if stat.S_ISDIR(info.st_mode):
            return "dir"
        return "file" if stat.S_ISREG(info.st_mode) else None

    @cached_property
    def interpreter(self) -> Any | None:
        """The interpreter the user asked to inspect (`envdoctor doctor`, `check --python`), probed once:
        an `envdoctor.doctor.Interpreter`, or None when none was asked for (a static scan runs nothing).
        Raises `envdoctor.probe.ProbeError` (a ConfigError: one line, exit 2) when it cannot be probed."""
        if not self.config.python:
            return None
        from envdoctor.doctor import inspect_interpreter

        return inspect_interpreter(self.config.python, self.root)

    # --- reading and parsing ------------------------------------------------------------------------

    def problem(self, rel: str, message: str, line: int = 1, column: int = 1) -> None:
        from envdoctor.rules.meta import UnparsableFile

        self.problems.append(Finding(UnparsableFile.code, UnparsableFile.name, UnparsableFile.severity,
                                     message, rel, line, column, fix_hint=UnparsableFile.fix_hint))
        self._failed.add(rel)

    def text(self, rel: str) -> str | None:
        """The text of a file, with its suppression comments indexed; None (and an ED001) if unreadable."""
        if rel in self._failed:
            return None
        try:
            text = read_text(self.root / rel)
        except SourceError as exc:
            self.problem(rel, f"File {exc}.")
            return None
        if rel not in self.suppressions:
            self.suppressions[rel] = parse_suppressions(split_lines(text))
        if self._uses is not None and not self._parsing:
            self._uses.add(rel)
        return text

    def parsed(self, kind: str, rel: str, parser: Callable[[str, str], Any]) -> Any | None:
        """`parser(text, rel)` applied once per file; a SourceError from it becomes an ED001 finding."""
        key = (kind, rel)
        if key in self._parsed:
            return self._parsed[key]
        self._parsing += 1
        try:
            text = self.text(rel)
            result = None
            if text is not None:
                try:
                    result = parser(text, rel)
                except SourceError as exc:
                    line, column = getattr(exc, "position", (1, 1))
                    last = text.count("\n", 0, len(text) - 1) + 1  # an error at the end of the file
                    if line > last:  # (after its final newline) is reported on its last line
                        line, column = last, 1
                    self.problem(rel, f"File {exc}.", line, column)
        finally:
            self._parsing -= 1
        self._parsed[key] = result
        if result is not None:
            self._paths[id(result)] = rel
            if self._uses is not None:
                self._uses.add(rel)
        return result

    def path_of(self, view: Any) -> str | None:
        """The path of a view `parsed` made (rules are handed views only); None for any other object."""
        return self._paths.get(id(view))

    # --- what the scan used: two processes' scans are merged by it (parallel.py) -------------------

    @property
    def failed(self) -> frozenset[str]:
        """The files (and folders) that could not be read, listed or parsed: each has its ED001 problem, and
        every later answer about it is None."""
        return frozenset(self._failed)

    def adopt_problems(self, problems: Iterable[Finding]) -> None:
        """ED001 problems found by another Project of the same scan (parallel.py's worker), taken as this
        one's own: their paths count as failed here from now on."""
        for finding in problems:
            self.problems.append(finding)
            self._failed.add(finding.path)

    def watch_uses(self) -> set[str]:
        """Collect, from now on, into the set returned, the files whose content this Project hands out:
        text returned by `text` (not a parse's own read) and views `parsed` makes afresh (a cached view
        does not count: it was made before). Until `unwatch_uses`; each call starts a new set."""
        self._uses = set()
        return self._uses

    def unwatch_uses(self) -> None:
        self._uses = None

    def memo(self, key: str, compute: Callable[[], Any]) -> Any:
        """A value derived from several files (e.g. the Python projects of sources/projects.py), computed
        on first use and cached for the scan."""
        memos = self.__dict__.setdefault("_memos", {})
        if key not in memos:
            memos[key] = compute()
        return memos[key]

    def source_lines(self, rel: str) -> list[str] | None:
        """The physical lines of a file under the root (`split_lines`), for reporters that quote or
        fingerprint the offending lines; None when it cannot be read or is not a file inside the root.

        Called only after the scan, by the formats that need it: read through `read_text` (no ED001 is
        recorded here), and cached for the last few files, since findings come sorted by path.
        """
        if rel not in self._lines:
            self._lines[rel] = self._read_lines(rel)
            while len(self._lines) > 8:
                del self._lines[next(iter(self._lines))]
        return self._lines[rel]

    def _read_lines(self, rel: str) -> list[str] | None:
        if self.path_type(rel) != "file":  # also None for `..`, absolute paths and links out of the root
            return None
        try:
            return split_lines(read_text(self.root / rel))
        except SourceError:
            return None

    # --- targets: what rules inspect ----------------------------------------------------------------

    def items(self, target: str) -> Iterator[Item]:
        provider = TARGETS.get(target)
        if provider is None:
            raise KeyError(target)
        yield from provider(self)


def _is_environment(names: set[str]) -> bool:
    return "pyvenv.cfg" in names or "conda-meta" in names


def _looks_like_environment(path: str) -> bool:
    try:
        return _is_environment({e.name for e in os.scandir(path)})
    except OSError:
        return False


def _parsed_files(kind: str, parser: str, spans: Callable[[Any], Iterable[tuple[int, int]]] | None = None
                  ) -> Callable[[Project], Iterator[Item]]:
    """The target of one file kind: each file parsed once by `parser` ("module:function(text, rel)"),
    which is imported only when the repository holds such a file. `spans`, when given, widens a
    suppression above a multi-line construct (a workflow step) to every line of it."""

    def items(project: Project) -> Iterator[Item]:
        paths = project.files(kind)
        if not paths:
            return
        module, _, function = parser.partition(":")
        parse = getattr(importlib.import_module(module), function)
        for rel in paths:
            view = project.parsed(kind, rel, parse)
            if view is not None:
                if spans is not None:
                    project.suppressions[rel].extend_over(spans(view))
                yield Item(rel, view)

    return items


def _dockerfiles(project: Project) -> Iterator[Item]:
    if not project.files("dockerfile"):
        return  # no such file: not even the parser is imported
    from envdoctor.sources.dockerfile import parse_dockerfile

    for rel in project.files("dockerfile"):
        view = project.parsed("dockerfile", rel, lambda text, _rel: parse_dockerfile(text))
        if view is not None:
            # A suppression above a multi-line instruction covers every line of it.
            project.suppressions[rel].extend_over((i.start_line, i.end_line) for i in view.instructions)
            yield Item(rel, view)


def _environments(project: Project) -> Iterator[Item]:
    from envdoctor.sources.venv import environment_items

    yield from environment_items(project)


def _interpreter(project: Project) -> Iterator[Item]:
    if project.interpreter is not None:
        yield Item(None, project.interpreter)


def _scripts(project: Project) -> Iterator[Item]:
    from envdoctor.sources.scripts import script_items

    yield from script_items(project)


def _lockfiles(project: Project) -> Iterator[Item]:
    if not project.files("lockfile"):
        return  # no such file: not even the parser is imported
    from envdoctor.sources.lockfiles import lockfile_kind, parse_lockfile

    for rel in project.files("lockfile"):
        if lockfile_kind(rel) is not None:  # the Pipfile is a manifest, read by sources/projects.py
            view = project.parsed("lockfile", rel, parse_lockfile)
            if view is not None:
                yield Item(rel, view)


def _python_projects(project: Project) -> Iterator[Item]:
    from envdoctor.sources.projects import python_projects

    for item in python_projects(project):
        yield Item(item.pyproject_path or (item.manifests or [item.directory])[0], item)


def _repository(project: Project) -> Iterator[Item]:
    yield Item(None, project)


# Target name -> the items of that target. Rules name their target; plugins may use any of these.
TARGETS: dict[str, Callable[[Project], Iterator[Item]]] = {
    "dockerfile": _dockerfiles,
    "pyproject": _parsed_files("pyproject", "envdoctor.sources.pyproject:parse_pyproject"),
    "requirements": _parsed_files("requirements", "envdoctor.sources.requirements:parse_requirements"),
    "conda": _parsed_files("conda", "envdoctor.sources.conda:parse_conda_environment"),
    "environment": _environments,  # environments in the tree (and the doctor's active one): sources/venv.py
    "interpreter": _interpreter,  # the probed interpreter, only when asked for: envdoctor/doctor.py
    "script": _scripts,  # shell commands of scripts, Makefiles, docs, CI workflows: sources/scripts.py
    # A suppression above a step, or above its `run:` key, covers every line of it.
    "workflow": _parsed_files("workflow", "envdoctor.sources.workflows:parse_workflow", lambda view: view.spans()),
    "lockfile": _lockfiles,  # uv.lock, poetry.lock, pdm.lock, pylock*.toml, Pipfile.lock, conda-lock: sources/lockfiles.py
    "python-project": _python_projects,  # each project, its tool, locks and declarations: sources/projects.py
    "repository": _repository,
}
