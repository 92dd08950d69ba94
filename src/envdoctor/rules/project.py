"""ED3xx: project metadata. What the project declares about its Python, its tools and its environments:
requires-python, dev tools among runtime dependencies, Pipenv/Poetry/conda set-ups, committed or unignored
virtual environments, contradicting Python versions and end-of-life Pythons.

In a monorepo each sub-project (a folder with its own pyproject.toml) is judged with its own files; a
message that involves files of two folders names both. Files in test and fixture folders (`tests/`,
`fixtures/`, ...: `in_test_folder`, as the lockfile rules decide it) are a test suite's data and are not
judged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from envdoctor.findings import Hit, Severity
from envdoctor.registry import Context, Rule
from envdoctor.sources.projects import in_test_folder
from envdoctor.sources.pyproject import PyProject
from envdoctor.sources.pythonversions import (
    PythonVersion,
    VersionRange,
    branch_text,
    conda_range,
    end_of_life,
    is_end_of_life,
    only_end_of_life,
    poetry_range,
    specifier_range,
    supported_branches,
    supported_text,
    today,
)

if TYPE_CHECKING:
    from envdoctor.fixes import Fix
    from envdoctor.sources.conda import CondaEnvironment
    from envdoctor.project import Project


def _folder(rel: str) -> str:
    return rel.rpartition("/")[0] or "."


def _in_folder(folder: str, name: str) -> str:
    return name if folder == "." else f"{folder}/{name}"


def _ancestors(folder: str) -> list[str]:
    """The folder itself, then each parent up to the root '.'."""
    chain = [folder]
    while folder != ".":
        folder = _folder(folder)
        chain.append(folder)
    return chain


def _is_within(rel: str, folder: str) -> bool:
    return folder == "." or rel == folder or rel.startswith(folder + "/")


def _first_content_line(text: str) -> int:
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return number
    return 1


def _comment_start(line: str) -> int:
    """Where a TOML comment starts on a line (outside strings), or the line's length."""
    quote: str | None = None
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            return i
        i += 1
    return len(line)


def _array_entry_lines(pyproject: PyProject, keys: tuple[str, ...], values: list[str]) -> list[int]:
    """The line of each string of an array value, found in order from the line of its key.

    Good enough for how dependency arrays are written (one string per line, or several on one line);
    an entry that cannot be found is given the key's line.
    """
    lines = pyproject.doc.lines
    start = pyproject.doc.line_of(*keys)
    if start is None:
        return [pyproject.line_of(*keys)] * len(values)
    found: list[int] = []
    row, column = start - 1, 0
    for value in values:
        prefix = re.split(r"[\"'\\]", value, maxsplit=1)[0]
        pattern = re.compile(r"[\"']\s*" + re.escape(prefix))
        line_found = None
        r, c = row, column
        while r < len(lines) and r < start - 1 + 2000:
            match = pattern.search(lines[r], c)
            if match and match.start() < _comment_start(lines[r]):
                line_found, row, column = r + 1, r, match.end()
                break
            r, c = r + 1, 0
        found.append(line_found or start)
    return found


def _table_line(pyproject: PyProject, dotted: str) -> int:
    """The first line that opens the table or one of its sub-tables (`[tool.poetry.dependencies]`)."""
    pattern = re.compile(r"^\s*\[\[?\s*" + re.escape(dotted) + r"\s*[\].]")
    line = pyproject.doc.line_of(*dotted.split("."))
    for number, text in enumerate(pyproject.doc.lines, start=1):
        if pattern.match(text):
            return min(number, line) if line else number
    return line or 1


def _label(folder: str) -> str:
    return "" if folder == "." else f" (project '{folder}')"


# --- ED301 ------------------------------------------------------------------------------------------------


class MissingRequiresPython(Rule):
    code = "ED301"
    name = "missing-requires-python"
    severity = Severity.WARNING
    target = "pyproject"
    summary = "`[project]` declares no `requires-python`."

    def check(self, pyproject: PyProject, context: Context) -> Iterator[Hit]:
        if not isinstance(pyproject.data.get("project"), dict) or in_test_folder(pyproject.directory):
            return
        table = pyproject.project
        if "requires-python" in table:
            return
        dynamic = table.get("dynamic")
        if isinstance(dynamic, list) and "requires-python" in dynamic:
            return
        poetry = pyproject.tool("poetry").get("dependencies")
        python = poetry.get("python") if isinstance(poetry, dict) else None
        converted = poetry_python_as_requires_python(python) if isinstance(python, str) else None
        if converted is not None:
            # Poetry locks for this constraint; only the published metadata lacks it.
            yield Hit(
                f"[project]{_label(pyproject.directory)} declares no requires-python: Poetry locks for "
                f"python = '{python}' from [tool.poetry.dependencies], but that constraint is not written into "
                f"the package's metadata, so installers accept it on any Python.",
                line=pyproject.line_of("project"),
                fix_hint=f'Copy the constraint into [project]: requires-python = "{converted}" (python = '
                         f'"{python}" in Poetry\'s syntax).',
            )
            return
        supported = supported_branches(today())
        floor = f">={branch_text(supported[0])}" if supported else ">=3.X"
        yield Hit(
            f"[project]{_label(pyproject.directory)} declares no requires-python: installers accept it on any "
            f"Python, and uv and Poetry cannot tell which Pythons to resolve the lock for.",
            line=pyproject.line_of("project"),
            fix_hint=f'Add requires-python = "{floor}" (the oldest Python you test on) to [project].',
        )


def poetry_python_as_requires_python(text: str) -> str | None:
    """A Poetry Python constraint written as a PEP 440 requires-python, as Poetry converts it (`^3.11` is
    `>=3.11,<4.0`, `~3.11` is `>=3.11,<3.12`, `3.11.*` is `==3.11.*`); None for alternatives (`||`), `*` or
    what cannot be read."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    if "|" in text:
        return None
    out: list[str] = []
    for part in (p.replace(" ", "") for p in re.split(r"\s*,\s*|\s+(?=[<>=!~^])", text.strip()) if p):
        if part == "*":
            continue
        if part.startswith("^") or (part.startswith("~") and not part.startswith("~=")):
            try:
                release = list(Version(part[1:]).release)
            except InvalidVersion:
                return None
            if part.startswith("^"):
                index = next((i for i, n in enumerate(release) if n != 0), len(release) - 1)
                upper = release[:index + 1]
            else:
                upper = release[:2] if len(release) >= 2 else release[:1]
            upper[-1] += 1
            upper += [0] * (len(release) - len(upper))
            out += [f">={part[1:]}", f"<{'.'.join(map(str, upper))}"]
        elif re.match(r"^(===|==|!=|<=|>=|<|>|~=)", part):
            out.append(part)
        elif re.match(r"^\d+(\.\d+)*(\.\*)?$", part):
            out.append(f"=={part}")
        else:
            return None
    if not out:
        return None
    try:
        SpecifierSet(",".join(out))
    except InvalidSpecifier:
        return None
    return ",".join(out)


# --- ED302 ------------------------------------------------------------------------------------------------

# Development tools: canonical name -> what they are for. Packages named with a prefix in DEV_TOOL_PREFIXES
# (plugins of these tools) count too.
DEV_TOOLS: dict[str, str] = {
    "pytest": "test runner",
    "tox": "test automation tool",
    "nox": "test automation tool",
    "ruff": "linter and formatter",
    "black": "formatter",
    "isort": "import sorter",
    "autopep8": "formatter",
    "yapf": "formatter",
    "flake8": "linter",
    "pyflakes": "linter",
    "pycodestyle": "linter",
    "pydocstyle": "linter",
    "pylint": "linter",
    "bandit": "linter",
    "mypy": "type checker",
    "pyright": "type checker",
    "pre-commit": "git hook manager",
    "ipython": "interactive shell",
    "ipdb": "debugger",
}
DEV_TOOL_PREFIXES: dict[str, str] = {"pytest-": "pytest plugin", "flake8-": "flake8 plugin"}
# Entry-point groups through which a package plugs into one of these tools: such a package needs the tool.
TOOL_ENTRY_POINT_GROUPS = frozenset({"pytest11", "flake8.extension", "flake8.report", "tox", "pylint.plugins"})
# Packages of the IPython/Jupyter world legitimately depend on IPython.
_IPYTHON_FAMILY = ("ipy", "jupyter", "nb", "notebook", "qtconsole", "voila")


def dev_tool_kind(name: str) -> str | None:
    """What a (canonical) package name is as a development tool, or None."""
    if name in DEV_TOOLS:
        return DEV_TOOLS[name]
    return next((kind for prefix, kind in DEV_TOOL_PREFIXES.items() if name.startswith(prefix)), None)


def _names(pyproject: PyProject) -> list[str]:
    """The project's canonical names: [project] name, and Poetry 1.x's [tool.poetry] name."""
    names = [pyproject.project.get("name"), pyproject.tool("poetry").get("name")]
    return list(dict.fromkeys(canonicalize_name(n) for n in names if isinstance(n, str) and n.strip()))


def _has_scripts(pyproject: PyProject) -> bool:
    """Whether the project installs commands ([project.scripts], gui-scripts, Poetry's scripts)."""
    tables = [pyproject.project.get("scripts"), pyproject.project.get("gui-scripts"),
              pyproject.tool("poetry").get("scripts")]
    return any(isinstance(t, dict) and t for t in tables)


def _wraps(pyproject: PyProject, tool: str) -> bool:
    """Whether the project is a command built on this tool: it installs commands and its name contains the
    tool's (`blacken-docs` runs black): then the tool is its runtime dependency by design."""
    return _has_scripts(pyproject) and any(tool in name for name in _names(pyproject))


def _extends_dev_tools(pyproject: PyProject) -> bool:
    """Whether the project is itself a tool of that kind or a plugin of one: then it needs them at run time."""
    project = pyproject.project
    for canonical in _names(pyproject):
        tokens = canonical.split("-")
        for tool in (*DEV_TOOLS, *(p.rstrip("-") for p in DEV_TOOL_PREFIXES)):
            tool_tokens = tool.split("-")
            if any(tokens[i:i + len(tool_tokens)] == tool_tokens for i in range(len(tokens))):
                return True
        if canonical.startswith(_IPYTHON_FAMILY):
            return True
    # Plugin entry points: [project.entry-points.<group>], or Poetry 1.x's [tool.poetry.plugins.<group>]
    for entry_points in (project.get("entry-points"), pyproject.tool("poetry").get("plugins")):
        if isinstance(entry_points, dict) and TOOL_ENTRY_POINT_GROUPS & set(entry_points):
            return True
    return False


class DevToolInRuntimeDeps(Rule):
    code = "ED302"
    name = "dev-tool-in-runtime-deps"
    severity = Severity.WARNING
    target = "pyproject"
    summary = "A test, lint or type-check tool is a runtime dependency (`[project].dependencies`)."

    def check(self, pyproject: PyProject, context: Context) -> Iterator[Hit]:
        if in_test_folder(pyproject.directory) or _extends_dev_tools(pyproject):
            return
        yield from self._project_dependencies(pyproject)
        yield from self._poetry_dependencies(pyproject)

    def _project_dependencies(self, pyproject: PyProject) -> Iterator[Hit]:
        dependencies = pyproject.project.get("dependencies")
        if not isinstance(dependencies, list):
            return
        strings = [d for d in dependencies if isinstance(d, str)]
        lines = _array_entry_lines(pyproject, ("project", "dependencies"), strings)
        for text, line in zip(strings, lines):
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue
            if requirement.marker is not None and "extra" in str(requirement.marker):
                continue
            kind = dev_tool_kind(canonicalize_name(requirement.name))
            if kind is None or _wraps(pyproject, canonicalize_name(requirement.name)):
                continue
            yield Hit(
                f"'{text}' is a {kind}, but [project].dependencies installs it for every user of this package; "
                f"it belongs with the development tools.",
                line=line,
                fix_hint=(f'Move it to [dependency-groups], e.g. dev = ["{text}"] '
                          f"(`uv remove {requirement.name} && uv add --dev {requirement.name}`)."),
            )

    def _poetry_dependencies(self, pyproject: PyProject) -> Iterator[Hit]:
        table = pyproject.tool("poetry").get("dependencies")
        if not isinstance(table, dict):
            return
        for key, value in table.items():
            if not isinstance(key, str) or key.lower() == "python":
                continue
            if isinstance(value, dict) and value.get("optional") is True:
                continue  # installed only through an extra
            kind = dev_tool_kind(canonicalize_name(key))
            if kind is None or _wraps(pyproject, canonicalize_name(key)):
                continue
            yield Hit(
                f"'{key}' is a {kind}, but [tool.poetry.dependencies] installs it for every user of this package; "
                f"it belongs with the development tools.",
                line=pyproject.line_of("tool", "poetry", "dependencies", key),
                fix_hint=f"Move it to [tool.poetry.group.dev.dependencies] (`poetry add --group dev {key}`).",
            )


# --- ED303, ED304 -----------------------------------------------------------------------------------------


class PipenvProject(Rule):
    code = "ED303"
    name = "pipenv-project"
    severity = Severity.INFO
    target = "repository"
    summary = "The project is managed with Pipenv (a Pipfile)."

    def check(self, project: Project, context: Context) -> Iterator[Hit]:
        for rel in project.files("lockfile"):
            if rel.rpartition("/")[2] != "Pipfile" or in_test_folder(_folder(rel)):
                continue
            text = project.text(rel)
            if text is None:
                continue
            yield Hit(
                f"This project{_label(_folder(rel))} is managed with Pipenv, which sees few releases and slow "
                f"resolution; uv gives the same lock-and-sync workflow on the standard pyproject.toml.",
                line=_first_content_line(text),
                path=rel,
                fix_hint="Migrate when convenient: `uvx migrate-to-uv` converts the Pipfile and its lock, then "
                         "commit pyproject.toml and uv.lock.",
            )


class PoetryProject(Rule):
    code = "ED304"
    name = "poetry-project"
    severity = Severity.INFO
    target = "pyproject"
    summary = "The project is managed with Poetry."
    default_enabled = False

    def check(self, pyproject: PyProject, context: Context) -> Iterator[Hit]:
        folder = pyproject.directory
        if in_test_folder(folder):
            return
        locks = {rel.rpartition("/")[2] for rel in context.project.files("lockfile") if _folder(rel) == folder}
        tools = pyproject.data.get("tool")
        has_table = isinstance(tools, dict) and isinstance(tools.get("poetry"), dict)
        if "poetry.lock" not in locks and (not has_table or "uv.lock" in locks):
            return  # no Poetry at all, or already migrated to uv with a leftover [tool.poetry]
        if has_table:
            line, path = _table_line(pyproject, "tool.poetry"), None
            what = "[tool.poetry]"
        else:
            line, path = 1, _in_folder(folder, "poetry.lock")
            what = "poetry.lock"
        yield Hit(
            f"This project{_label(folder)} is managed with Poetry ({what}); uv resolves and installs much "
            f"faster, manages Python versions too, and reads standard [project] metadata.",
            line=line,
            path=path,
            fix_hint="When convenient, migrate with `uvx migrate-to-uv` (it keeps the locked versions), then "
                     "commit pyproject.toml and uv.lock.",
        )


# --- ED305, ED306 -----------------------------------------------------------------------------------------

# Anaconda's own channels: the `defaults` multi-channel and what it stands for, and the `anaconda` channel.
ANACONDA_CHANNELS = frozenset({"defaults", "anaconda", "pkgs/main", "pkgs/r", "pkgs/free", "pkgs/msys2",
                               "pkgs/pro"})


def _anaconda_channel(channel: str) -> bool:
    name = channel.strip().rstrip("/").lower()
    if name in ANACONDA_CHANNELS:
        return True
    # a URL of Anaconda's repository: `<scheme>://<host>/pkgs/main` and the like
    return "://" in name and any(name.endswith("/" + c) for c in ANACONDA_CHANNELS if c.startswith("pkgs/"))


class AnacondaDefaults(Rule):
    code = "ED305"
    name = "anaconda-defaults"
    severity = Severity.WARNING
    target = "conda"
    summary = "A conda environment uses Anaconda's `defaults` channel or the `anaconda` metapackage."

    fix_hint = ("Use conda-forge: `channels: [conda-forge, nodefaults]`, and install with Miniforge "
                "(mamba or conda).")

    def check(self, environment: CondaEnvironment, context: Context) -> Iterator[Hit]:
        if in_test_folder(environment.directory):
            return
        for channel in environment.channels:
            if _anaconda_channel(channel.name):
                yield Hit(
                    f"Channel '{channel.name}' is Anaconda's repository: its use is subject to Anaconda's terms "
                    f"of service (a paid licence for larger organisations), and mixing it with conda-forge "
                    f"invites incompatible builds.",
                    line=channel.line,
                )
        for dependency in environment.dependencies:
            if dependency.channel and _anaconda_channel(dependency.channel):
                yield Hit(
                    f"'{dependency.text}' is taken from Anaconda's '{dependency.channel}' channel, whose use is "
                    f"subject to Anaconda's terms of service (a paid licence for larger organisations).",
                    line=dependency.line,
                    fix_hint=f"Drop the '{dependency.channel}::' prefix and take it from conda-forge.",
                )
            elif dependency.name == "anaconda":
                yield Hit(
                    f"'{dependency.text}' is the Anaconda distribution metapackage: it pulls hundreds of packages "
                    f"from Anaconda's channels, whose use is subject to Anaconda's terms of service.",
                    line=dependency.line,
                    fix_hint="List the packages the project imports instead, from conda-forge.",
                )


_CONDA_LOCK_NAMES = re.compile(r"^(conda-lock\.yml|.*\.conda-lock\.yml)$")


def _conda_locks(project: Project) -> list[str]:
    locks = [rel for rel in project.files("lockfile") if _CONDA_LOCK_NAMES.match(rel.rpartition("/")[2])]
    return locks + project.files("conda-explicit")


class CondaEnvUnpinned(Rule):
    code = "ED306"
    name = "conda-env-unpinned"
    severity = Severity.WARNING
    target = "conda"
    summary = "A conda environment file leaves packages unpinned, with no conda-lock file or explicit spec."
    fix_hint = ("Lock it: `conda-lock -f environment.yml` (commit conda-lock.yml, install with "
                "`conda-lock install`), or pin each package (`numpy=1.26.4`).")

    def check(self, environment: CondaEnvironment, context: Context) -> Iterator[Hit]:
        if in_test_folder(environment.directory):
            return
        unpinned = [d.text for d in environment.dependencies if d.name and d.name != "pip" and not d.pinned]
        unpinned += [p.text for p in environment.pip if not p.pinned]
        if not unpinned:
            return
        folder = environment.directory
        for lock in _conda_locks(context.project):
            lock_folder = _folder(lock)
            if _is_within(lock_folder, folder) or _is_within(folder, lock_folder):
                return
        shown = ", ".join(f"'{t}'" for t in unpinned[:4]) + (f" and {len(unpinned) - 4} more" if len(unpinned) > 4 else "")
        line = environment.dependencies_line or 1
        yield Hit(
            f"{len(unpinned)} package{'s' if len(unpinned) > 1 else ''} ({shown}) "
            f"float{'' if len(unpinned) > 1 else 's'}, and no conda-lock file "
            f"or explicit spec records what was installed: each `conda env create` may resolve other versions.",
            line=line,
        )


# --- ED307, ED308 -----------------------------------------------------------------------------------------

# Paths inside a real environment (besides its pyvenv.cfg or conda-meta/): interpreters, libraries, headers.
_ENV_CONTENT_RE = re.compile(r"^(bin|Scripts|lib|lib64|Lib|include|Include)/")


def _index_environments(project: Project) -> set[str]:
    """Folders in which git tracks a `pyvenv.cfg` or a `conda-meta/` file (even when gone from disk)."""
    found: set[str] = set()
    for path in project.git.index:
        head, _, name = path.rpartition("/")
        if name == "pyvenv.cfg" and head:
            found.add(head)
        elif "/conda-meta/" in f"/{path}":
            prefix = f"/{path}".split("/conda-meta/", 1)[0].lstrip("/")
            if prefix:
                found.add(prefix)
    return found


def _scanned(project: Project, rel: str) -> bool:
    return any(_is_within(rel, project.relative(start)) for start in project.scan_paths)


class VirtualenvCommitted(Rule):
    code = "ED307"
    name = "virtualenv-committed"
    severity = Severity.ERROR
    target = "repository"
    summary = "A virtual environment or conda prefix is tracked by git."

    def check(self, project: Project, context: Context) -> Iterator[Hit]:
        git = project.git
        if not git.available:
            return
        candidates = set(project.environments)
        for folder in _index_environments(project):
            parent = _folder(folder)
            if _scanned(project, folder) and (parent == "." or not project.excluded(parent)):
                candidates.add(folder)
        for environment in sorted(candidates):
            tracked = git.tracked_under(environment)
            if not any(_ENV_CONTENT_RE.match(p[len(environment) + 1:]) for p in tracked):
                continue  # at most a pyvenv.cfg or a conda-meta/ (a test fixture, say): not an environment
            yield Hit(
                f"The virtual environment '{environment}/' is tracked by git ({len(tracked)} files): it holds "
                f"absolute paths and binaries of one machine, and breaks on any other.",
                line=1,
                path=environment,
                fix_hint=(f"Untrack it with `git rm -r --cached {environment}`, add `{environment}/` to "
                          f".gitignore, and recreate it from the lock (e.g. `uv sync`)."),
            )


class VirtualenvNotIgnored(Rule):
    code = "ED308"
    name = "virtualenv-not-ignored"
    severity = Severity.WARNING
    target = "repository"
    summary = "A virtual environment in the working tree is not ignored by git."
    fix_safety = "safe"  # appends the environment to the root .gitignore (creating it)

    @staticmethod
    def _fix(project: Project, environment: str) -> Fix | None:
        """`.venv/` (any folder of that name) or `/path/to/env/` appended to the root .gitignore."""
        from envdoctor.fixes import fix
        from envdoctor.rules._fixing import appended_lines

        if re.search(r"[*?\[\]\\\s!#]", environment):
            return None
        pattern = ".venv/" if environment.rsplit("/", 1)[-1] == ".venv" else f"/{environment}/"
        kind = project.path_type(".gitignore")
        if kind == "file":
            lines = project.source_lines(".gitignore")
            if lines is None:
                return None
        elif kind is None:
            lines = None
        else:
            return None
        return fix(f"Add {pattern} to .gitignore", appended_lines(lines, [pattern], ".gitignore"))

    def check(self, project: Project, context: Context) -> Iterator[Hit]:
        git = project.git
        if not git.available:
            return
        # Ask about a file inside: an environment may ignore itself (uv and recent venv write a `*`
        # .gitignore into it), and a `name/` pattern covers the files below the folder.
        pending = {env: (f"{env}/pyvenv.cfg", f"{env}/conda-meta/history")
                   for env in project.environments if not git.tracked_under(env)}  # tracked: ED307
        ignored = git.ignored([marker for markers in pending.values() for marker in markers])
        for environment, markers in pending.items():
            if any(marker in ignored for marker in markers):
                continue
            yield Hit(
                f"The virtual environment '{environment}/' is not ignored by git: `git add .` would commit "
                f"thousands of machine-specific files.",
                line=1,
                path=environment,
                fix_hint=f"Add `{environment}/` to .gitignore, or keep environments in `.venv/` and ignore that.",
                fix=self._fix(project, environment),
            )


# --- Python versions: the sources ED309 and ED310 compare ------------------------------------------------


@dataclass(frozen=True)
class Pin:
    """One place that fixes or bounds the Python version."""

    subject: str  # how a message starts: ".python-version pins Python 3.9"
    what: str  # how another message names it: ".python-version (3.9)"
    path: str
    line: int
    version: PythonVersion | None = None  # a single version (any patch level if none given)
    range: VersionRange | None = None  # a range (requires-python, Poetry's constraint, a uv request)
    implementation: str = "cpython"

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def _python_version_pin(project: Project, rel: str) -> Pin | None:
    from envdoctor.sources.python_version_file import parse_python_version_file

    view = project.parsed("python-version", rel, parse_python_version_file)
    request = view.primary if view is not None else None
    if request is None or (request.version is None and request.range is None):
        return None
    if request.version is not None:
        subject, what = f".python-version pins Python {request.version}", f".python-version ({request.text})"
    else:
        subject, what = f".python-version requests '{request.text}'", f".python-version ('{request.text}')"
    return Pin(subject, what, rel, request.line, request.version, request.range, request.implementation or "cpython")


_UV_IMAGE_TAG_RE = re.compile(r"(?:^|-)python(\d+\.\d+(?:\.\d+)?)")


def image_python(name: str, tag: str | None) -> tuple[str, PythonVersion] | None:
    """The implementation and version of Python an image ships, read from its reference: the official
    `python` and `pypy` images (under any registry or mirror), and uv's `astral-sh/uv:...-python3.12-...`."""
    if not tag:
        return None
    last = name.rpartition("/")[2].lower()
    if last in ("python", "pypy"):
        version = PythonVersion.parse(tag)
        return ("cpython" if last == "python" else "pypy", version) if version else None
    if name.lower().endswith("astral-sh/uv"):
        match = _UV_IMAGE_TAG_RE.search(tag)
        version = PythonVersion.parse(match.group(1)) if match else None
        return ("cpython", version) if version else None
    return None


def _dockerfile_pin(rel: str, dockerfile: Any, context: Context) -> Pin | None:
    """The Python of the image a Dockerfile ships: the base of its target stage (`[docker] target`, else the
    last stage), followed through `FROM <earlier stage>` to an image."""
    from envdoctor.sources.images import image_uses

    if not dockerfile.stages:
        return None
    target = context.config.docker.target
    stage = (dockerfile.stage(target) if target else None) or dockerfile.stages[-1]
    while (parent := dockerfile.base_stage(stage)) is not None and parent.index < stage.index:
        stage = parent
    for use in image_uses(dockerfile):
        if use.how != "FROM" or use.stage.index != stage.index or use.resolved is None:
            continue
        found = image_python(use.resolved.name, use.resolved.tag)
        if found is None:
            return None
        implementation, version = found
        offset = use.instruction.args.find(use.written)
        line = use.instruction.line_of(offset) if offset >= 0 else use.instruction.start_line
        return Pin(f"Base image '{use.resolved}' ships Python {version}", f"base image '{use.resolved}'",
                   rel, line, version, None, implementation)
    return None


def _declarations(pyproject: PyProject) -> list[Pin]:
    """requires-python, then Poetry's python constraint, as ranges (those that can be read)."""
    pins: list[Pin] = []
    requires = pyproject.project.get("requires-python")
    if isinstance(requires, str):
        spec = specifier_range(requires)
        if spec is not None:
            text = f"requires-python '{requires}'"
            pins.append(Pin(text, text, pyproject.path, pyproject.line_of("project", "requires-python"), None, spec))
    poetry = pyproject.tool("poetry").get("dependencies")
    python = poetry.get("python") if isinstance(poetry, dict) else None
    if isinstance(python, dict):
        python = python.get("version")
    if isinstance(python, str):
        spec = poetry_range(python)
        if spec is not None:
            text = f"Poetry's python = '{python}'"
            pins.append(Pin(text, text, pyproject.path,
                            pyproject.line_of("tool", "poetry", "dependencies", "python"), None, spec))
    return pins


def _contradicts(pin: Pin, other: Pin) -> bool:
    """Whether no interpreter can satisfy both. Two single versions contradict when their `X.Y` differ (a
    patch-level difference between two pins is drift, not a contradiction); against a range, a version
    without a patch level stands for any of its patch releases."""
    if pin.version is not None and other.version is not None:
        return pin.version.branch != other.version.branch
    if pin.version is not None and other.range is not None:
        return not other.range.admits(pin.version)
    if pin.range is not None and other.version is not None:
        return not pin.range.admits(other.version)
    if pin.range is not None and other.range is not None:
        return not pin.range.overlaps(other.range)
    return False


class _PythonSources:
    """The files that say which Python a project uses, by folder. Parsing is the Project's (cached)."""

    def __init__(self, project: Project, context: Context) -> None:
        from envdoctor.sources.tox import parse_tox_ini

        self.pyprojects: dict[str, PyProject] = {}
        for item in project.items("pyproject"):
            self.pyprojects.setdefault(_folder(item.path), item.view)
        self.python_versions: dict[str, Pin] = {}
        for rel in project.files("python-version"):
            pin = _python_version_pin(project, rel)
            if pin is not None:
                self.python_versions[_folder(rel)] = pin
        self.dockerfiles: dict[str, list[Pin]] = {}
        for item in project.items("dockerfile"):
            pin = _dockerfile_pin(item.path, item.view, context)
            if pin is not None:
                self.dockerfiles.setdefault(_folder(item.path), []).append(pin)
        self.tox: dict[str, list[Pin]] = {}
        for rel in project.files("tox.ini"):
            view = project.parsed("tox.ini", rel, parse_tox_ini)
            seen: set[tuple[int, str]] = set()
            for env in view.envs if view is not None else ():
                if env.version is None or (env.line, str(env.version)) in seen:
                    continue
                seen.add((env.line, str(env.version)))
                self.tox.setdefault(_folder(rel), []).append(
                    Pin(f"tox env '{env.name}' runs Python {env.version}", f"tox env '{env.name}'", rel, env.line,
                        env.version))

    def nearest_python_version(self, folder: str) -> Pin | None:
        """The .python-version pyenv and uv use in this folder: its own, else the nearest above it."""
        return next((self.python_versions[f] for f in _ancestors(folder) if f in self.python_versions), None)


# --- ED309 ------------------------------------------------------------------------------------------------


class PythonVersionConflict(Rule):
    code = "ED309"
    name = "python-version-conflict"
    severity = Severity.ERROR
    target = "repository"
    summary = "Files that fix the project's Python version contradict each other."

    def check(self, project: Project, context: Context) -> Iterator[Hit]:
        sources = _PythonSources(project, context)
        for folder in sorted(set(sources.pyprojects) | set(sources.python_versions)):
            if not in_test_folder(folder):
                yield from self._folder(sources, folder)

    def _folder(self, sources: _PythonSources, folder: str) -> Iterator[Hit]:
        pyproject = sources.pyprojects.get(folder)
        declared = _declarations(pyproject) if pyproject is not None else []
        if len(declared) == 2 and _contradicts(declared[1], declared[0]):
            yield _conflict(declared[1], declared[0])
        # The others are compared with requires-python (or Poetry's constraint when it stands alone): a
        # contradiction between those two is the finding above, not one more per pin.
        declared = declared[:1]
        pinned = sources.nearest_python_version(folder)
        if pinned is not None:
            other = next((d for d in declared if _contradicts(pinned, d)), None)
            if other is not None:
                yield _conflict(pinned, other)
                pinned = None  # reported; images are then compared with the declaration only
        for image in sources.dockerfiles.get(folder, []):
            other = next((o for o in [*declared, *([pinned] if pinned else [])] if _contradicts(image, o)), None)
            if other is not None:
                yield _conflict(image, other)
        for env in sources.tox.get(folder, []):
            other = next((d for d in declared if _contradicts(env, d)), None)
            if other is not None:
                yield _conflict(env, other)


def _conflict(pin: Pin, other: Pin) -> Hit:
    where = f"{other.what} at {other.where}"
    if pin.version is not None and other.range is not None:
        why = f"{where} excludes it"
    elif other.version is not None:
        why = f"{where} asks for another"
    else:
        why = f"{where} admits no version in common"
    return Hit(
        f"{pin.subject}, but {why}: one of them is out of date, and tools will pick different interpreters "
        f"or refuse to install.",
        line=pin.line,
        path=pin.path,
        fix_hint=f"Make the two agree: change this line, or {other.what} in {other.path}.",
    )


# --- ED310 ------------------------------------------------------------------------------------------------


def _since(branch: tuple[int, int]) -> str:
    eol = end_of_life(branch)
    return f" on {eol.isoformat()}" if eol else ""


def _only_eol_text(branches: list[tuple[int, int]]) -> str:
    newest = max(branches)
    if len(branches) == 1:
        return f"only Python {branch_text(newest)}, which reached its end of life{_since(newest)}"
    return (f"only Python {branch_text(newest)} and older, all past their end of life "
            f"({branch_text(newest)}{_since(newest)})")


class EndOfLifePython(Rule):
    code = "ED310"
    name = "end-of-life-python"
    severity = Severity.WARNING
    target = "repository"
    summary = "The project pins, or its image ships, a Python past its end of life."

    def check(self, project: Project, context: Context) -> Iterator[Hit]:
        now = today()
        hint = (f"Move to a supported Python ({supported_text(now)} on {now.isoformat()}) and update every "
                f"file that names the old one.")
        sources = _PythonSources(project, context)
        pins = [*sources.python_versions.values(), *(p for ps in sources.dockerfiles.values() for p in ps)]
        for pin in pins:
            if pin.implementation != "cpython" or in_test_folder(_folder(pin.path)):
                continue  # PyPy and GraalPy have their own calendars; test data
            if pin.version is not None and is_end_of_life(pin.version.branch, now):
                yield Hit(f"{pin.subject}, which reached its end of life{_since(pin.version.branch)}: no security "
                          f"fixes any more.", line=pin.line, path=pin.path, fix_hint=hint)
            elif pin.range is not None and (branches := only_end_of_life(pin.range, now)):
                yield Hit(f"{pin.subject}, which admits {_only_eol_text(branches)}: no security fixes any more.",
                          line=pin.line, path=pin.path, fix_hint=hint)
        for pyproject in sources.pyprojects.values():
            if in_test_folder(pyproject.directory):
                continue
            # requires-python decides what installers accept; Poetry's constraint counts when it stands alone
            for pin in _declarations(pyproject)[:1]:
                branches = only_end_of_life(pin.range, now) if pin.range is not None else None
                if branches:
                    yield Hit(f"{pin.subject} admits {_only_eol_text(branches)}: no security fixes any more.",
                              line=pin.line, path=pin.path,
                              fix_hint=(f"Allow a supported Python: raise or drop the upper bound "
                                        f"({supported_text(now)} are supported on {now.isoformat()})."))
        for item in project.items("conda"):
            if not in_test_folder(_folder(item.path)):
                yield from self._conda(item.path, item.view, now, hint)
        for rel in project.files("lockfile"):
            if rel.rpartition("/")[2] == "Pipfile" and not in_test_folder(_folder(rel)):
                yield from self._pipfile(project, rel, now, hint)

    @staticmethod
    def _conda(rel: str, environment: CondaEnvironment, now: Any, hint: str) -> Iterator[Hit]:
        python = environment.dependency("python")
        spec = python.version_spec if python is not None else None
        version_range = conda_range(spec) if spec else None
        if python is None or version_range is None:
            return
        branches = only_end_of_life(version_range, now)
        if branches:
            yield Hit(f"'{python.text}' installs {_only_eol_text(branches)}: no security fixes any more.",
                      line=python.line, path=rel, fix_hint=hint)

    @staticmethod
    def _pipfile(project: Project, rel: str, now: Any, hint: str) -> Iterator[Hit]:
        from envdoctor.sources.toml import parse_toml

        # its own cache key: the lockfile rules keep their own view of Pipfiles under "pipfile"
        doc = project.parsed("pipfile-toml", rel, lambda text, _rel: parse_toml(text))
        requires = doc.data.get("requires") if doc is not None else None
        if not isinstance(requires, dict):
            return
        for key in ("python_full_version", "python_version"):
            value = requires.get(key)
            version = PythonVersion.parse(value) if isinstance(value, str) else None
            if version is None:
                continue
            if is_end_of_life(version.branch, now):
                yield Hit(f"Pipfile [requires] {key} = '{value}' pins Python {branch_text(version.branch)}, "
                          f"which reached its end of life{_since(version.branch)}: no security fixes any more.",
                          line=doc.line_of("requires", key) or 1, path=rel, fix_hint=hint)
            return
