"""`envdoctor doctor`: the interpreter in use for a project, its environment, and a health report.

What the doctor knows beyond a static scan comes from two places, both only when asked for:
- the probe (`envdoctor.probe`), run in the interpreter the user named (`--python`) or activated
  (`VIRTUAL_ENV`, `CONDA_PREFIX`), else the `python3` on PATH; never a repository's own `.venv/bin/python`
  unless the user activated or named it;
- envdoctor's own environment variables (`PYTHONPATH`, `PIP_USER`, ...), and the folders where tools keep
  per-project environments outside the project (Poetry, Pipenv, PDM, Hatch), which are listed, not run.

`Interpreter` is the item of the rules' "interpreter" target (ED401-ED404, ED410, ED411). `run_doctor`
runs the environment rules (ED4xx) with it and renders the report: a line per check, healthy ones too.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, TextIO

from envdoctor.probe import ProbeError, ProbeResult, relevant_environment, run_probe
from envdoctor.sources.venv import Distribution, scan_site_packages

if TYPE_CHECKING:
    from envdoctor.project import Project

# Third-party distributions a base interpreter may hold without anyone having installed them globally:
# the installer's own (ensurepip seeds pip, and setuptools up to 3.11; wheel comes with some builds).
INSTALLER_OWN = frozenset({"pip", "setuptools", "wheel", "distribute"})
# INSTALLER values of Python package installers (a global install); OS package managers and conda write
# other values (or none), and their packages are the system's, not a user's global install.
PYTHON_INSTALLERS = frozenset({"pip", "uv", "poetry", "pdm", "pipenv", "hatch", "flit", "pipx"})


def normalise_name(name: str) -> str:
    return re.sub(r"[-_. ]+", "-", name.strip().lower())


@dataclass
class Interpreter:
    """The probed interpreter, with the environment variables envdoctor itself runs with."""

    probe: ProbeResult
    environ: dict[str, str]  # the RELEVANT_VARIABLES that are set, as envdoctor saw them
    root: Path  # the scanned project's root

    @property
    def path(self) -> str:
        return self.probe.requested or self.probe.executable

    @property
    def prefix(self) -> Path:
        return Path(self.probe.prefix)

    @cached_property
    def is_conda(self) -> bool:
        return (self.prefix / "conda-meta").is_dir()

    @cached_property
    def is_conda_base(self) -> bool:
        """A conda installation's root prefix (`base`): it holds `condabin/` or `envs/` or `pkgs/`."""
        if not self.is_conda or self.probe.in_venv:
            return False
        return any((self.prefix / name).is_dir() for name in ("condabin", "envs", "pkgs"))

    @property
    def is_environment(self) -> bool:
        """A virtual environment, or a conda environment that is not `base`."""
        return self.probe.in_venv or (self.is_conda and not self.is_conda_base)

    @property
    def inside_root(self) -> bool:
        try:
            self.prefix.resolve().relative_to(self.root)
        except (ValueError, OSError, RuntimeError):
            return False
        return True

    @cached_property
    def user_distributions(self) -> list[Distribution]:
        """What `pip install --user` put in this Python version's user site."""
        site = self.probe.user_site
        if not site or not os.path.isdir(site):
            return []
        return scan_site_packages(Path(site), site)

    @property
    def user_site_visible(self) -> bool:
        """Whether the user site is on this interpreter's path when it runs normally."""
        if not self.probe.user_site_enabled:
            return False
        return not self.environ.get("PYTHONNOUSERSITE")

    @cached_property
    def base_distributions(self) -> list[Distribution]:
        """Distributions in the base interpreter's own site folders (not the environment's)."""
        out: list[Distribution] = []
        seen: set[str] = set()
        for folder in self.probe.base_site_packages:
            if folder in seen or not os.path.isdir(folder):
                continue
            seen.add(folder)
            out.extend(scan_site_packages(Path(folder), folder))
        return out

    @cached_property
    def global_installs(self) -> list[Distribution]:
        """Third-party distributions a Python installer put into the base interpreter: global installs."""
        return [d for d in self.base_distributions
                if d.name not in INSTALLER_OWN and d.kind == "dist-info" and d.installer in PYTHON_INSTALLERS]

    @cached_property
    def prompt(self) -> str | None:
        """The `prompt` its pyvenv.cfg records (uv writes the project's folder name there)."""
        from envdoctor.files import SourceError, read_text
        from envdoctor.sources.venv import parse_pyvenv_cfg

        if not self.probe.pyvenv_cfg:
            return None
        try:
            cfg = parse_pyvenv_cfg(read_text(Path(self.probe.pyvenv_cfg), max_bytes=64 * 1024), self.probe.pyvenv_cfg)
        except SourceError:
            return None
        prompt = cfg.get("prompt")
        return prompt.strip("'\"() ") or None if prompt else None

    @property
    def description(self) -> str:
        impl = {"cpython": "CPython", "pypy": "PyPy"}.get(self.probe.implementation, self.probe.implementation)
        return f"{impl} {self.probe.version_text}"


def inspect_interpreter(path: str, root: Path, environ: Mapping[str, str] | None = None) -> Interpreter:
    """Probe the interpreter at `path` (ProbeError with one line when that fails)."""
    environ = os.environ if environ is None else environ
    return Interpreter(run_probe(path, environ), relevant_environment(environ), root.resolve())


def active_interpreter(environ: Mapping[str, str] | None = None) -> tuple[str | None, str]:
    """The interpreter in use in this shell: (path, why it was chosen); path None when none is found.

    `VIRTUAL_ENV` (an activated virtual environment), then `CONDA_PREFIX` (an activated conda
    environment), then the `python3` (else `python`) found on PATH."""
    environ = os.environ if environ is None else environ
    for variable in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        prefix = environ.get(variable)
        if prefix:
            if os.name != "nt":
                candidate = Path(prefix) / "bin" / "python"
            elif variable == "VIRTUAL_ENV":
                candidate = Path(prefix) / "Scripts" / "python.exe"
            else:
                candidate = Path(prefix) / "python.exe"
            return str(candidate), f"${variable}"
    for name in ("python3", "python"):
        found = shutil.which(name, path=environ.get("PATH"))
        if found:
            return found, f"`{name}` on PATH"
    return None, "no python3 on PATH"


# --- the project's own environments outside the tree --------------------------------------------------------


def _home(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("HOME") or os.path.expanduser("~"))


def _cache_dir(environ: Mapping[str, str]) -> Path:
    if sys.platform == "darwin":
        return _home(environ) / "Library" / "Caches"
    return Path(environ.get("XDG_CACHE_HOME") or _home(environ) / ".cache")


def _data_dir(environ: Mapping[str, str]) -> Path:
    if sys.platform == "darwin":
        return _home(environ) / "Library" / "Application Support"
    return Path(environ.get("XDG_DATA_HOME") or _home(environ) / ".local" / "share")


@dataclass(frozen=True)
class ToolLocation:
    tool: str  # "poetry", "pipenv", "pdm", "hatch", "virtualenvwrapper"
    folder: Path
    # How an environment's folder name records its project: a regex whose group 1 is the project's name.
    pattern: str
    depth: int = 1  # hatch keeps <project>/<hash>/<env>: the project is the folder `depth` levels up


def tool_locations(environ: Mapping[str, str]) -> list[ToolLocation]:
    """Where tools keep per-project environments outside the project (their defaults, or the variable
    that moves them)."""
    cache, data = _cache_dir(environ), _data_dir(environ)
    poetry = environ.get("POETRY_VIRTUALENVS_PATH")
    workon = environ.get("WORKON_HOME")
    return [
        # Poetry: {name}-{8 chars of a hash of the project folder}-py{X.Y}
        ToolLocation("poetry", Path(poetry) if poetry else cache / "pypoetry" / "virtualenvs",
                     r"^(.+)-[A-Za-z0-9_-]{8}-py\d+\.\d+$"),
        # Pipenv: {folder name}-{8 chars of a hash of the Pipfile's path}
        ToolLocation("pipenv", Path(workon) if workon else data / "virtualenvs", r"^(.+)-[A-Za-z0-9_-]{8}$"),
        # PDM (when not in-project): {name}-{hash}-{env}
        ToolLocation("pdm", data / "pdm" / "venvs", r"^(.+)-[A-Za-z0-9_-]{8}-[^-]+$"),
        # Hatch: {name}/{hash}/{env}
        ToolLocation("hatch", data / "hatch" / "env" / "virtual", r"^(.+)$", depth=3),
    ]


def recorded_project(prefix: Path, environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(tool, project name the environment's location records) for an environment in a tool's folder."""
    try:
        resolved = prefix.resolve()
    except (OSError, RuntimeError):
        resolved = prefix
    for location in tool_locations(environ):
        try:
            relative = resolved.relative_to(location.folder.resolve())
        except (ValueError, OSError, RuntimeError):
            continue
        parts = relative.parts
        if len(parts) != location.depth:
            continue
        match = re.match(location.pattern, parts[0])
        if match:
            return location.tool, match.group(1)
    return None, None


def project_names(project: Project) -> set[str]:
    """Names the project goes by: its folder, `[project] name`, `[tool.poetry] name` (normalised)."""
    names = {normalise_name(project.root.name)}
    pyproject = root_pyproject(project)
    if pyproject is not None:
        for table in (pyproject.project, pyproject.tool("poetry")):
            name = table.get("name")
            if isinstance(name, str) and name.strip():
                names.add(normalise_name(name))
    return names


def root_pyproject(project: Project):  # -> PyProject | None
    from envdoctor.sources.pyproject import parse_pyproject

    if "pyproject.toml" not in project.files("pyproject"):
        return None
    return project.parsed("pyproject", "pyproject.toml", parse_pyproject)


def names_match(recorded: str, names: set[str]) -> bool:
    """A recorded name is the project's when it equals one of its names, or (tools truncate and
    sanitise: Poetry and Pipenv keep 42 characters) one is a prefix of the other."""
    recorded = normalise_name(recorded)
    if not recorded:
        return False
    return any(recorded == name or (len(recorded) >= 42 and name.startswith(recorded)) for name in names)


def own_environments_elsewhere(project: Project, environ: Mapping[str, str]) -> list[Path]:
    """The project's environments in the tools' folders outside the tree (listed, never run)."""
    names = project_names(project)
    found: list[Path] = []
    for location in tool_locations(environ):
        try:
            entries = list(os.scandir(location.folder))
        except OSError:
            continue
        for entry in entries:
            if location.depth == 1:
                match = re.match(location.pattern, entry.name)
                if match and names_match(match.group(1), names) and entry.is_dir():
                    found.append(Path(entry.path))
            elif names_match(entry.name, names) and entry.is_dir():
                found.append(Path(entry.path))
    uv_env = environ.get("UV_PROJECT_ENVIRONMENT")
    if uv_env:
        candidate = Path(uv_env) if os.path.isabs(uv_env) else project.root / uv_env
        if (candidate / "pyvenv.cfg").is_file():
            found.append(candidate)
    return sorted(found)


def project_tool(project: Project) -> str:
    """The tool that manages the root project, judged from its lockfile and pyproject; "uv" by default."""
    names = set(project.files("lockfile"))
    for lock, tool in (("uv.lock", "uv"), ("poetry.lock", "poetry"), ("pdm.lock", "pdm"),
                       ("Pipfile.lock", "pipenv"), ("Pipfile", "pipenv")):
        if lock in names:
            return tool
    pyproject = root_pyproject(project)
    if pyproject is not None:
        for tool in ("poetry", "pdm", "hatch", "uv"):
            if pyproject.tool(tool):
                return tool
    return "uv"


SYNC_COMMANDS = {"uv": "uv sync", "poetry": "poetry sync", "pdm": "pdm sync", "pipenv": "pipenv sync",
                 "hatch": "hatch env create"}
CREATE_COMMANDS = {"uv": "uv sync", "poetry": "poetry install", "pdm": "pdm install", "pipenv": "pipenv install",
                   "hatch": "hatch env create"}


def project_dependencies(project: Project) -> list[tuple[str, int, str]]:
    """Where the root project declares dependencies, as (path, line, what); empty when it declares none
    envdoctor can see."""
    found: list[tuple[str, int, str]] = []
    pyproject = root_pyproject(project)
    if pyproject is not None:
        deps = pyproject.project.get("dependencies")
        if isinstance(deps, list) and deps:
            found.append(("pyproject.toml", pyproject.line_of("project", "dependencies"), "[project] dependencies"))
        optional = pyproject.project.get("optional-dependencies")
        if isinstance(optional, dict) and any(isinstance(v, list) and v for v in optional.values()):
            found.append(("pyproject.toml", pyproject.line_of("project", "optional-dependencies"),
                          "[project.optional-dependencies]"))
        groups = pyproject.data.get("dependency-groups")
        if isinstance(groups, dict) and any(isinstance(v, list) and v for v in groups.values()):
            found.append(("pyproject.toml", pyproject.line_of("dependency-groups"), "[dependency-groups]"))
        poetry_deps = pyproject.tool("poetry").get("dependencies")
        if isinstance(poetry_deps, dict) and any(k != "python" for k in poetry_deps):
            found.append(("pyproject.toml", pyproject.line_of("tool", "poetry", "dependencies"),
                          "[tool.poetry.dependencies]"))
    for kind in ("requirements", "lockfile"):
        for rel in project.files(kind):
            if "/" not in rel:
                found.append((rel, 1, rel))
    return found


# --- the health report ----------------------------------------------------------------------------------------

# What each rule's ✓ line says when it found nothing.
HEALTHY = {
    "ED401": "The project has an environment of its own (or declares no dependencies).",
    "ED402": "The interpreter in use is a virtual environment.",
    "ED403": "No packages are installed in the user site.",
    "ED404": "The base interpreter holds only its installer's own packages.",
    "ED405": "No environment sees the system site-packages.",
    "ED406": "Every environment's base Python exists, at the version it was made with.",
    "ED407": "Every environment's Python matches requires-python and .python-version.",
    "ED408": "Every environment matches its lockfile.",
    "ED409": "Every installed distribution's requirements are met.",
    "ED410": "The active environment belongs to this project.",
    "ED411": "No environment variable redirects imports or installs.",
    "ED412": "No script, Makefile, doc or CI step installs packages globally.",
    "ED413": "No hand-written environment scripts.",
}
ENVIRONMENT_RULES = frozenset({"ED405", "ED406", "ED407", "ED408", "ED409"})
SYMBOLS = {"unicode": ("✓", "✗", "–"), "ascii": ("ok", "XX", "--")}


def _symbols(stream: TextIO) -> tuple[str, str, str]:
    encoding = getattr(stream, "encoding", None) or "ascii"
    try:
        "".join(SYMBOLS["unicode"]).encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return SYMBOLS["ascii"]
    return SYMBOLS["unicode"]


def _interpreter_lines(interpreter: Interpreter, why: str) -> list[str]:
    probe = interpreter.probe
    if probe.in_venv:
        kind = f"virtual environment {probe.prefix} (base {probe.base_prefix})"
    elif interpreter.is_conda_base:
        kind = f"conda base environment {probe.prefix}"
    elif interpreter.is_conda:
        kind = f"conda environment {probe.prefix}"
    else:
        kind = f"not a virtual environment (prefix {probe.prefix})"
    lines = [f"Interpreter   {interpreter.path}  ({why})", f"              {interpreter.description}, {kind}"]
    if probe.externally_managed:
        lines.append("              the base is an externally managed system Python (PEP 668)")
    return lines


def run_doctor(path: Path, *, python: str | None, output_format: str = "text", fail_on: str | None = None,
               config_file: Path | None = None, color: str = "auto", debug: bool = False,
               stream: TextIO | None = None, environ: Mapping[str, str] | None = None) -> int:
    """The `envdoctor doctor` command: probe, run the ED4 rules, print the report; the exit code."""
    from envdoctor.cli import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, fail, find_root, use_color
    from envdoctor.config import ConfigError, load_config, with_overrides
    from envdoctor.engine import scan
    from envdoctor.findings import Severity
    from envdoctor.project import Project
    from envdoctor.registry import RegistryError, load_rules
    from envdoctor.report.escape import safe

    stream = sys.stdout if stream is None else stream
    environ = os.environ if environ is None else environ
    if not os.path.lexists(path):
        fail(f"path does not exist: {path}")
    root = find_root(path)
    why = "--python"
    if python is None:
        python, why = active_interpreter(environ)
        if python is None:
            fail("no interpreter to inspect: no $VIRTUAL_ENV, no $CONDA_PREFIX and no python3 on PATH "
                 "(name one with --python)")
    try:
        interpreter = inspect_interpreter(python, root, environ)
    except ProbeError as exc:
        fail(f"cannot inspect the interpreter: {exc}")
    try:
        config = load_config(root, config_file)
        config = with_overrides(config, select=("ED4",), extend_select=(), python=python,
                                fail_on=Severity.parse(fail_on) if fail_on else None)
        registry = load_rules()
        result = scan(root, config, registry, [root.resolve()], debug=debug)
    except (ConfigError, RegistryError) as exc:
        fail(str(exc))
    environments = Project(root, config).environments

    try:
        if output_format == "json":
            from envdoctor.report import Report, renderer

            report = Report(findings=result.findings, rules=result.rules, registry=registry,
                            files_read=result.files_read, fail_on=config.fail_on, errors=result.internal_errors)
            renderer("json")(report, stream)
        else:
            _render(stream, root, interpreter, why, environments, result, config.fail_on,
                    use_color(stream, color), _symbols(stream), safe)
        stream.flush()
    except BrokenPipeError:  # `envdoctor doctor | head`: stop writing; the exit code still says what was found
        from envdoctor.entry import stdout_closed

        stdout_closed()
    for error in result.internal_errors:
        import click

        click.echo(f"envdoctor: error: {safe(error)}", err=True)  # exception text may quote a file
    if result.internal_errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if any(f.severity >= config.fail_on for f in result.findings) else EXIT_CLEAN


def _render(stream, root, interpreter, why, environments, result, fail_on, color, symbols, safe) -> None:
    from envdoctor.findings import Severity
    from envdoctor.report.text import SEVERITY_STYLE, write_lines

    ok, bad, skip = symbols
    lines: list[list[tuple[str, str]]] = [[("envdoctor doctor", "bold"), (f"  {safe(str(root))}", "")]]
    lines.extend([(safe(text), "")] for text in _interpreter_lines(interpreter, why))
    shown_envs = ", ".join(environments) if environments else "none"
    lines.append([(f"Environments  in the tree: {safe(shown_envs)}", "")])
    lines.append([])
    by_code: dict[str, list] = {}
    for finding in result.findings:
        by_code.setdefault(finding.code, []).append(finding)
    has_environment = bool(environments) or interpreter.is_environment
    for rule in result.rules:
        findings = by_code.pop(rule.code, [])
        label = f"{rule.code} {rule.name}"
        if findings:
            lines.append([(f" {bad} ", "bold red"), (f"{label:<38}", "bold"),
                          (f"{len(findings)} finding{'s' if len(findings) > 1 else ''}", "")])
            for finding in findings:
                where = "" if finding.path == "." else f"{finding.path}:{finding.line}: "
                lines.append([("      ", ""), (f"{finding.severity.label:<8}", SEVERITY_STYLE[finding.severity]),
                              (safe(where + finding.message), "")])
                if finding.fix_hint:
                    lines.append([("              ", ""), ("fix: ", "green"), (safe(finding.fix_hint), "")])
        elif rule.code in ENVIRONMENT_RULES and not has_environment:
            lines.append([(f" {skip} ", "dim"), (f"{label:<38}", ""), ("no environment to inspect", "dim")])
        elif rule.code == "ED410" and not interpreter.is_environment:
            lines.append([(f" {skip} ", "dim"), (f"{label:<38}", ""), ("no environment is active", "dim")])
        else:
            lines.append([(f" {ok} ", "green"), (f"{label:<38}", ""), (HEALTHY.get(rule.code, "No problems."), "")])
    for code, findings in sorted(by_code.items()):  # ED001-style findings of files the rules read
        for finding in findings:
            lines.append([(f" {bad} ", "bold red"), (f"{finding.code} {finding.name}  ", "bold"),
                          (safe(f"{finding.path}:{finding.line}: {finding.message}"), "")])
    lines.append([])
    counts = {s: sum(1 for f in result.findings if f.severity == s) for s in Severity}
    if result.findings:
        parts = ", ".join(f"{counts[s]} {s.label}{'s' if counts[s] > 1 and s != Severity.INFO else ''}"
                          for s in sorted(Severity, reverse=True) if counts[s])
        failing = sum(1 for f in result.findings if f.severity >= fail_on)
        summary = f"Found {len(result.findings)} problem{'s' if len(result.findings) > 1 else ''} ({parts})."
        if failing < len(result.findings):
            summary += f" {len(result.findings) - failing} below fail-on={fail_on.label} do not fail the run."
        lines.append([(summary, "bold")])
    else:
        lines.append([("Healthy: ", "bold green"), (f"{len(result.rules)} checks passed.", "")])
    write_lines(lines, stream, color)
