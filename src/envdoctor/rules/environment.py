"""ED4xx: environments and interpreters. Every project gets its own environment; never install globally;
never share an environment between projects.

Static rules (ED405-ED409) read the environments in the working tree (`.venv`, `venv`, any folder with a
`pyvenv.cfg`, conda prefixes) as files: nothing in them runs, and where no environment exists (CI) they are
silent. ED412 and ED413 read scripts, Makefiles, docs and workflows. The doctor rules (ED401-ED404, ED410,
ED411) need the interpreter in use, which is probed only when asked for (`envdoctor doctor`,
`envdoctor check --python PATH`); otherwise their target has no item and they say nothing.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Iterator

from packaging.utils import canonicalize_name

from envdoctor.doctor import (CREATE_COMMANDS, SYNC_COMMANDS, Interpreter, names_match, normalise_name,
                              own_environments_elsewhere, project_dependencies, project_names, project_tool,
                              recorded_project)
from envdoctor.findings import Hit, Severity
from envdoctor.registry import Context, Rule
from envdoctor.sources.venv import Environment

LISTED = 10  # names listed in a message before "and N more"


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:LISTED])
    return shown + (f" and {len(names) - LISTED} more" if len(names) > LISTED else "")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _short(value: str, limit: int = 80) -> str:
    return value if len(value) <= limit else value[: limit - 3] + "..."


# --- where an environment belongs ------------------------------------------------------------------------


def _ancestors(folder: str) -> list[str]:
    out = []
    while True:
        out.append(folder)
        if folder in (".", ""):
            return out
        folder = folder.rpartition("/")[0] or "."


def env_folder(env: Environment) -> str:
    """The folder (relative to the root) whose project the environment serves: the one holding it."""
    if os.path.isabs(env.path):
        return "."
    return env.path.rpartition("/")[0] or "."


def nearest(context: Context, kind: str, name: str, folder: str) -> str | None:
    files = set(context.project.files(kind))
    for directory in _ancestors(folder):
        rel = name if directory == "." else f"{directory}/{name}"
        if rel in files:
            return rel
    return None


def _tool_for(context: Context, folder: str) -> str:
    lockfiles = set(context.project.files("lockfile"))
    for directory in _ancestors(folder):
        for lock, tool in (("uv.lock", "uv"), ("poetry.lock", "poetry"), ("pdm.lock", "pdm"),
                           ("Pipfile.lock", "pipenv")):
            if (lock if directory == "." else f"{directory}/{lock}") in lockfiles:
                return tool
    return project_tool(context.project) if folder == "." else "uv"


# --- ED401-ED404, ED410, ED411: the doctor's rules -------------------------------------------------------------


class NoProjectEnvironment(Rule):
    code = "ED401"
    name = "no-project-environment"
    severity = Severity.INFO
    target = "interpreter"
    summary = "The project has dependencies but no environment of its own (doctor only)."

    def check(self, interpreter: Interpreter, context: Context) -> Iterator[Hit]:
        project = context.project
        declared = project_dependencies(project)
        if not declared or project.environments:
            return
        if interpreter.is_environment and (interpreter.inside_root or _belongs(interpreter, context)):
            return
        if own_environments_elsewhere(project, interpreter.environ):
            return
        tool = project_tool(project)
        path, line, what = declared[0]
        yield Hit(
            f"The project declares dependencies ({what}) but has no environment of its own: none in the "
            f"working tree and none where {tool} keeps environments; they get installed wherever the "
            f"interpreter in use ({interpreter.path}) puts them.",
            path=path, line=line,
            fix_hint=f"Create the project's environment: `{CREATE_COMMANDS.get(tool, 'uv sync')}` (with uv: a "
                     f"`.venv` in the project, used by `uv run`).",
        )


class GlobalInterpreter(Rule):
    code = "ED402"
    name = "global-interpreter"
    severity = Severity.ERROR
    target = "interpreter"
    summary = "The interpreter in use is not a virtual environment, or is conda's base (doctor only)."
    fix_hint = "Create the project's own environment (`uv venv` or `uv sync`) and use it (`uv run`, or activate it)."

    def check(self, interpreter: Interpreter, context: Context) -> Iterator[Hit]:
        probe = interpreter.probe
        if interpreter.is_conda_base:
            yield Hit(
                f"The interpreter in use, {interpreter.path} ({interpreter.description}), is conda's `base` "
                f"environment ({probe.prefix}): whatever this project installs lands next to conda itself and "
                f"in every project that uses base.",
                fix_hint="Create an environment for the project (`conda create -n <project>` or "
                         "`conda env create -f environment.yml`) and activate it; keep base for conda alone.",
            )
        elif not probe.in_venv and not interpreter.is_conda:
            yield Hit(
                f"The interpreter in use, {interpreter.path} ({interpreter.description}), is not a virtual "
                f"environment (its prefix {probe.prefix} is its base prefix): what this project installs "
                f"goes into the interpreter every project on this machine shares.",
            )


class UserSitePackages(Rule):
    code = "ED403"
    name = "user-site-packages"
    severity = Severity.WARNING
    target = "interpreter"
    summary = "Packages are installed in the user site (`pip install --user`) (doctor only)."

    def check(self, interpreter: Interpreter, context: Context) -> Iterator[Hit]:
        dists = interpreter.user_distributions
        if not dists:
            return
        probe = interpreter.probe
        names = sorted({f"{d.name} {d.version}" if d.version else d.name for d in dists})
        visible = (" and to the interpreter in use" if interpreter.user_site_visible
                   else "; the interpreter in use does not see them, but every other python"
                        f"{probe.short_version} does")
        yield Hit(
            f"{_plural(len(names), 'distribution')} installed in the user site {probe.user_site} "
            f"(`pip install --user`): {_listing(names)}. They are importable by every python{probe.short_version} "
            f"outside a virtual environment, by environments that include system site-packages{visible}.",
            fix_hint=f"Remove them (`python{probe.short_version} -m pip uninstall <name>`); install command-line "
                     f"tools with `uv tool install` or `pipx install`, and project dependencies into the "
                     f"project's environment.",
        )


class GlobalSitePackagesPolluted(Rule):
    code = "ED404"
    name = "global-site-packages-polluted"
    severity = Severity.WARNING
    target = "interpreter"
    summary = "The base interpreter's site-packages holds globally installed packages (doctor only)."

    def check(self, interpreter: Interpreter, context: Context) -> Iterator[Hit]:
        dists = interpreter.global_installs
        if not dists:
            return
        probe = interpreter.probe
        names = sorted({f"{d.name} {d.version}" for d in dists})
        folders = sorted({str(d.folder.parent) for d in dists})
        tool = project_tool(context.project)
        message = (f"The base interpreter ({probe.base_prefix}, Python {probe.version_text}) holds "
                   f"{_plural(len(names), 'globally installed distribution')} besides its installer's own "
                   f"(pip, setuptools, wheel), in {', '.join(folders)}: {_listing(names)}.")
        if probe.externally_managed:
            message += (" It is an externally managed system Python (PEP 668, EXTERNALLY-MANAGED): these went "
                        "in past that protection (`sudo pip`, `--break-system-packages`) and can break the "
                        "operating system's own tools.")
        else:
            message += " Every environment built on it with system site-packages, and every script run by it, sees them."
        yield Hit(
            message,
            fix_hint=f"Uninstall them from the base interpreter and use {tool} instead: "
                     f"`{CREATE_COMMANDS.get(tool, 'uv sync')}` for the project's dependencies, "
                     f"`uv tool install <tool>` (or `pipx install`) for command-line tools.",
        )


def _belongs(interpreter: Interpreter, context: Context) -> bool:
    """The active environment is this project's: a tool recorded it for the project, or it is named for it."""
    names = project_names(context.project)
    tool, recorded = recorded_project(interpreter.prefix, interpreter.environ)
    if recorded is not None:
        return names_match(recorded, names)
    if interpreter.is_conda:
        declared = _conda_env_name(context)  # the `name:` of the project's environment.yml
        return names_match(interpreter.prefix.name, names | ({normalise_name(declared)} if declared else set()))
    candidates = [interpreter.prefix.name] + ([interpreter.prompt] if interpreter.prompt else [])
    return any(names_match(c, names) for c in candidates)


def _conda_env_name(context: Context) -> str | None:
    """The `name:` of the root project's environment.yml."""
    from envdoctor.sources.conda import parse_conda_environment

    for rel in context.project.files("conda"):
        if "/" not in rel:
            view = context.project.parsed("conda", rel, parse_conda_environment)
            if view is not None and view.name:
                return view.name
    return None


class SharedEnvironment(Rule):
    code = "ED410"
    name = "shared-environment"
    severity = Severity.WARNING
    target = "interpreter"
    summary = "The active environment lives outside the project and is not its own (doctor only)."

    def check(self, interpreter: Interpreter, context: Context) -> Iterator[Hit]:
        if not interpreter.is_environment or interpreter.inside_root:
            return
        names = project_names(context.project)
        tool, recorded = recorded_project(interpreter.prefix, interpreter.environ)
        tool_name = project_tool(context.project)
        fix = (f"Give the project its own environment (`{CREATE_COMMANDS.get(tool_name, 'uv sync')}` creates "
               f"it) and use that one; keep shared environments for nothing you ship.")
        if recorded is not None:
            if not names_match(recorded, names):
                yield Hit(
                    f"The active environment {interpreter.prefix} was created by {tool} for the project "
                    f"'{recorded}', not for this one ({sorted(names)[0]}): the two projects share (and "
                    f"overwrite) each other's packages.",
                    fix_hint=fix,
                )
            return
        if _belongs(interpreter, context):
            return
        kind = "conda environment" if interpreter.is_conda else "virtual environment"
        yield Hit(
            f"The active {kind} {interpreter.prefix} lives outside the project and is not named for it or "
            f"kept by a tool for it: an environment shared between projects ends up holding the union of "
            f"their dependencies, at versions none of their locks names.",
            fix_hint=fix,
        )


_TRUTHY = frozenset({"1", "true", "yes", "on", "y", "t"})
# variable -> (how it is judged: "set" (any non-empty value) or "truthy", why it matters)
_LEAKS = {
    "PYTHONPATH": ("set", "every interpreter, in every environment, imports from these folders first, so the "
                          "project's environment is not what actually runs"),
    "PYTHONHOME": ("set", "it replaces where every interpreter finds its standard library; virtual "
                          "environments and other Pythons break or mix"),
    "PIP_USER": ("truthy", "every `pip install` becomes a `--user` install, outside any environment"),
    "PIP_BREAK_SYSTEM_PACKAGES": ("truthy", "it switches off PEP 668's protection of the system Python, so "
                                            "`pip install` may overwrite the operating system's packages"),
    "PIP_TARGET": ("set", "every `pip install` writes into that folder instead of the active environment"),
    "PIP_PREFIX": ("set", "every `pip install` writes under that prefix instead of the active environment"),
    "UV_SYSTEM_PYTHON": ("truthy", "`uv pip` installs into the system Python instead of a virtual environment"),
    "UV_BREAK_SYSTEM_PACKAGES": ("truthy", "it lets `uv pip` overwrite an externally managed system Python"),
}


class LeakingEnvironmentVariables(Rule):
    code = "ED411"
    name = "leaking-environment-variables"
    severity = Severity.WARNING
    target = "interpreter"
    summary = "Environment variables that bypass the project's environment are set (doctor only)."

    def check(self, interpreter: Interpreter, context: Context) -> Iterator[Hit]:
        environ = interpreter.environ
        require = environ.get("PIP_REQUIRE_VIRTUALENV", "").strip().lower() in _TRUTHY
        for variable, (judge, why) in _LEAKS.items():
            value = environ.get(variable)
            if value is None or not value.strip():
                continue
            if judge == "truthy" and value.strip().lower() not in _TRUTHY:
                continue
            hint = f"Unset {variable} (look in your shell profile, `.env` files and CI settings)"
            hint += "." if require else "; set `PIP_REQUIRE_VIRTUALENV=1` instead, so pip refuses to install outside an environment."
            yield Hit(f"{variable} is set ('{_short(value)}'): {why}.", fix_hint=hint)


# --- ED405-ED409: environments in the tree ------------------------------------------------------------------


class SystemSitePackagesVisible(Rule):
    code = "ED405"
    name = "system-site-packages-visible"
    severity = Severity.WARNING
    target = "environment"
    summary = "A virtual environment includes the system site-packages."
    fix_hint = "Recreate the environment without `--system-site-packages` (`uv venv`, `python -m venv`)."

    def check(self, env: Environment, context: Context) -> Iterator[Hit]:
        if env.cfg is None or not env.include_system_site_packages:
            return
        value = env.cfg.get("include-system-site-packages")
        yield Hit(
            f"Environment {env.path} sees the base interpreter's site-packages "
            f"(`include-system-site-packages = {value}`): packages installed globally leak into it and can "
            f"satisfy or shadow its dependencies without any lock saying so.",
            line=env.cfg.line_of("include-system-site-packages"),
        )


def _is_absolute_here(path: str) -> bool:
    """An absolute path on this operating system (a Windows `home` is not judged on POSIX, nor vice versa)."""
    if os.name == "nt":
        return os.path.isabs(path) and not path.startswith("/")
    return path.startswith("/")


def _exe_version(path: str | None) -> str | None:
    if not path:
        return None
    match = re.match(r"^python(\d+)\.(\d+)t?$", os.path.basename(path))
    return f"{match.group(1)}.{match.group(2)}" if match else None


class BrokenEnvironment(Rule):
    code = "ED406"
    name = "broken-environment"
    severity = Severity.ERROR
    target = "environment"
    summary = "An environment's base Python is gone, or is now another version."

    def check(self, env: Environment, context: Context) -> Iterator[Hit]:
        reasons: list[str] = []
        line = 1
        home = env.home
        recorded = env.short_version
        if home and _is_absolute_here(home):
            if not os.path.isdir(home):
                reasons.append(f"`home = {home}` points at a folder that no longer exists")
                line = env.cfg.line_of("home") if env.cfg else 1
            elif recorded:
                others = _home_versions(home)
                if others and recorded not in others:
                    reasons.append(f"`home = {home}` now holds Python {', '.join(sorted(others))}, not the "
                                   f"{recorded} the environment was made with")
                    line = env.cfg.line_of("home") if env.cfg else 1
        dangling = [link for link in env.interpreter_links if not link.exists and link.target]
        if dangling:
            shown = ", ".join(f"{link.name} -> {link.target}" for link in dangling[:3])
            reasons.append(f"its interpreter link{'s' if len(dangling) > 1 else ''} {shown} "
                           f"{'lead' if len(dangling) > 1 else 'leads'} nowhere")
        if recorded and not reasons:
            for link in env.interpreter_links:
                version = _exe_version(link.resolved)
                if link.target and version and version != recorded:
                    reasons.append(f"{link.name} now runs Python {version} ({link.resolved}), but the "
                                   f"environment was made with {recorded} (its packages are in "
                                   f"lib/python{recorded})")
                    line = env.version_source[1] if env.cfg else 1
                    break
        if not reasons:
            return
        yield Hit(
            f"Environment {env.path} is broken: {'; '.join(reasons)}. Nothing in it runs as it was installed.",
            line=line,
            fix_hint=f"Delete {env.path} and recreate it from the lock (`{recreate_command(context, env)}`).",
        )


def _home_versions(home: str) -> set[str]:
    """X.Y of the `pythonX.Y` executables in a `home` folder (empty when it holds none such)."""
    found: set[str] = set()
    try:
        names = [e.name for e in os.scandir(home)]
    except OSError:
        return found
    for name in names:
        version = _exe_version(name)
        if version:
            found.add(version)
    return found


def _requires_python(context: Context, folder: str):  # -> (range, text, path, line) | None
    from envdoctor.sources.pyproject import parse_pyproject
    from envdoctor.sources.pythonversions import poetry_range, specifier_range

    files = set(context.project.files("pyproject"))
    for directory in _ancestors(folder):
        rel = "pyproject.toml" if directory == "." else f"{directory}/pyproject.toml"
        if rel not in files:
            continue
        pyproject = context.project.parsed("pyproject", rel, parse_pyproject)
        if pyproject is None:
            continue
        text = pyproject.project.get("requires-python")
        if isinstance(text, str) and text.strip():
            found = specifier_range(text)
            return (found, text, rel, pyproject.line_of("project", "requires-python")) if found else None
        deps = pyproject.tool("poetry").get("dependencies")
        text = deps.get("python") if isinstance(deps, dict) else None
        if isinstance(text, str) and text.strip():
            found = poetry_range(text)
            return (found, text, rel, pyproject.line_of("tool", "poetry", "dependencies", "python")) if found else None
    return None


def _same_interpreter(requested, actual) -> bool:
    """`3.12` asks for any 3.12.x; `3.12.4` for exactly that (when the environment's patch level is known)."""
    if (requested.major, requested.minor) != (actual.major, actual.minor):
        return False
    return requested.micro is None or actual.micro is None or requested.micro == actual.micro


class EnvironmentPythonMismatch(Rule):
    code = "ED407"
    name = "environment-python-mismatch"
    severity = Severity.ERROR
    target = "environment"
    summary = "An environment's Python does not satisfy `requires-python` or differs from `.python-version`."

    def check(self, env: Environment, context: Context) -> Iterator[Hit]:
        from envdoctor.sources.python_version_file import parse_python_version_file
        from envdoctor.sources.pythonversions import PythonVersion

        version = PythonVersion.parse(env.version or "")
        if version is None:
            return
        where, line = env.version_source
        folder = env_folder(env)
        tool = _tool_for(context, folder)
        requires = _requires_python(context, folder)
        if requires is not None:
            version_range, text, rel, _ = requires
            if not version_range.admits(version):
                yield Hit(
                    f"Environment {env.path} runs Python {version}, which does not satisfy requires-python "
                    f"'{text}' of {rel}: the project may not even import there, and its lock was resolved "
                    f"for other versions.",
                    path=where, line=line,
                    fix_hint=f"Recreate it with a matching Python: `uv venv --python '{text}'` then "
                             f"`{SYNC_COMMANDS.get(tool, 'uv sync')}`.",
                )
        pin_rel = nearest(context, "python-version", ".python-version", folder)
        if pin_rel is None:
            return
        pins = context.project.parsed("python-version", pin_rel, parse_python_version_file)
        if pins is None:
            return
        wanted = [r for r in pins.requests if r.version is not None or r.range is not None]
        if not wanted or len(wanted) != len(pins.requests):
            return  # `system`, `miniconda3-latest`, ...: not a version envdoctor can compare
        if any(r.implementation not in (None, env.implementation) for r in wanted):
            return
        if any((r.version is not None and _same_interpreter(r.version, version))
               or (r.range is not None and r.range.admits(version)) for r in wanted):
            return
        shown = ", ".join(r.text for r in wanted)
        yield Hit(
            f"Environment {env.path} runs Python {version}, but {pin_rel} asks for {shown}: pyenv and uv start "
            f"another interpreter in this folder than the one the environment was built with.",
            path=where, line=line,
            fix_hint=f"Recreate the environment with the pinned Python (`uv venv --python {wanted[0].text}`, "
                     f"then `{SYNC_COMMANDS.get(tool, 'uv sync')}`), or update {pin_rel}.",
        )


# --- ED409 --------------------------------------------------------------------------------------------------


class BrokenRequirements(Rule):
    code = "ED409"
    name = "broken-requirements"
    severity = Severity.ERROR
    target = "environment"
    summary = "An installed distribution requires something missing or at an incompatible version (`pip check`)."

    def check(self, env: Environment, context: Context) -> Iterator[Hit]:
        markers = env.marker_environment()
        conda_names = env.conda_packages if env.conda else set()
        for dist in env.distributions:
            metadata = dist.metadata
            if metadata is None:
                continue
            for dependency in metadata.requires:
                requirement = dependency.requirement
                if requirement is None:
                    continue
                if requirement.marker is not None:
                    if markers is None:
                        continue
                    try:
                        if not requirement.marker.evaluate({**markers, "extra": ""}):
                            continue
                    except Exception:  # an odd marker in someone's metadata: not ours to judge
                        continue
                name = canonicalize_name(requirement.name)
                installed = env.by_name.get(name)
                if not installed:
                    if env.include_system_site_packages or name in conda_names:
                        continue  # may be satisfied from outside the environment's own site-packages
                    problem = f"{requirement.name} is not installed"
                else:
                    versions = [d.parsed_version for d in installed]
                    if any(v is None for v in versions) or not requirement.specifier:
                        continue
                    if any(requirement.specifier.contains(v, prereleases=True) for v in versions):
                        continue
                    problem = (f"{', '.join(sorted({str(v) for v in versions}))} is installed")
                tool = _tool_for(context, env_folder(env))
                yield Hit(
                    f"{metadata.name or dist.display_name} {dist.version} requires {dependency.text}, but {problem} "
                    f"(environment {env.path}): importing it may fail or misbehave.",
                    path=dist.metadata_shown,
                    line=dependency.line,
                    fix_hint=f"Re-sync the environment from the lock (`{SYNC_COMMANDS.get(tool, 'uv sync')}`), "
                             f"or fix the lock if it holds these versions; `pip check` lists the same problems.",
                )


# --- ED412, ED413: commands in scripts, Makefiles, docs and CI -----------------------------------------------

_SYSTEM_BIN_PREFIXES = ("/usr/bin/", "/bin/", "/opt/homebrew/bin/")
# `pip install --user pipx` is how pipx's own documentation bootstraps the tool that keeps CLIs out of
# every environment; a --user install of exactly these is not reported.
_BOOTSTRAP_TOOLS = frozenset({"pipx", "uv"})


def _shown(command) -> str:
    return _short(" ".join(command.raw_words) or " ".join(command.argv), 90)


def _container_scripts(context: Context) -> set[str]:
    """Names of scripts that a Dockerfile of the project mentions (they run inside an image build)."""

    def compute() -> set[str]:
        names: set[str] = set()
        for rel in context.project.files("dockerfile"):
            # (?<!...): a name starts where a word does; without it a long run of word characters
            # backtracks from every position (a 4 MiB line took hours)
            names.update(re.findall(r"(?<![\w.-])[\w.-]+\.(?:sh|bash)\b", context.project.text(rel) or ""))
        return names

    return context.project.memo("environment:container-scripts", compute)


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().strip("'\"").lower() in _TRUTHY


# Where a shared interpreter's pip lives: `sudo` with one of these (or a bare `pip`, found on PATH) installs
# into an interpreter outside every environment; `sudo /opt/app/venv/bin/pip` installs into that venv.
_SHARED_BIN_PREFIXES = ("/usr/bin/", "/usr/local/bin/", "/bin/", "/usr/sbin/", "/sbin/", "/opt/homebrew/bin/")


def _sudo_user(argv) -> str | None:
    """The user `sudo [options] command` runs the command as, when not root (`-u tool`, `--user=tool`).
    sudo's options that take a value are those `envdoctor.sources.shell.unwrap` skips."""
    from envdoctor.sources.shell import SUDO_LONG_VALUE_OPTIONS, SUDO_SHORT_VALUE_OPTIONS

    user: str | None = None
    index = 1
    while index < len(argv):
        word = argv[index]
        index += 1
        if word == "--" or not word.startswith("-") or word == "-":
            if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word):
                continue  # `sudo VAR=value command`
            break
        if word.startswith("--"):
            name, eq, value = word[2:].partition("=")
            if name in SUDO_LONG_VALUE_OPTIONS:
                if not eq:
                    value = argv[index] if index < len(argv) else ""
                    index += 1
                if name == "user":
                    user = value
            continue
        letters = word[1:]
        for position, letter in enumerate(letters):
            if letter in SUDO_SHORT_VALUE_OPTIONS:
                value = letters[position + 1:]
                if not value:
                    value = argv[index] if index < len(argv) else ""
                    index += 1
                if letter == "u":
                    user = value
                break
    if user is None or user.strip() in ("root", "#0", "0"):
        return None
    return user


def _uv_targets_system(py, env) -> str | None:  # noqa: ANN001
    """The option by which `uv pip install` installs outside a virtual environment: `--system` (or
    UV_SYSTEM_PYTHON), `--break-system-packages` (or UV_BREAK_SYSTEM_PACKAGES), or `--python` naming a
    shared interpreter; None otherwise (uv pip then installs into the virtual environment it finds, or
    refuses)."""
    if py.has("system") or _truthy(env.get("UV_SYSTEM_PYTHON")):
        return "--system"
    if py.has("break-system-packages") or _truthy(env.get("UV_BREAK_SYSTEM_PACKAGES")):
        return "--break-system-packages"
    if any(value.startswith(_SHARED_BIN_PREFIXES) for value in py.values("python")):
        return "--python"
    return None


def _sudo_install(command, py, env) -> tuple[str, str] | None:  # noqa: ANN001
    """What is wrong with `sudo ... pip install` (or `python -m pip`, `uv pip install --system`), or None
    when the pip is an environment's own or another non-system interpreter's (`sudo -u app
    /opt/app/venv/bin/pip install`), or `uv pip` is not pointed at a system interpreter."""
    executable = py.executable
    if "/" in executable and not executable.startswith(_SHARED_BIN_PREFIXES):
        return None  # installs into the environment (or interpreter) that path belongs to
    user = _sudo_user(command.argv)
    if py.tool == "uv":
        # Without --system, uv pip refuses to install outside a virtual environment (or installs into the
        # .venv it finds): sudo alone does not reach the system interpreter. As another user: judged below.
        target = _uv_targets_system(py, env)
        if target is None or user is not None:
            return None
        return (f"runs as root and, with {target}, installs into the system interpreter, where the operating "
                f"system's own Python packages live, outside every environment"), f"sudo, {target}"
    where = f"pip of the system interpreter {executable}" if "/" in executable else "the pip found on PATH"
    if user is None:
        return ("runs as root and installs into the system interpreter, where the operating system's own "
                "Python packages live, outside every environment"), "sudo"
    return (f"runs {where} as user {user}, outside every environment: that user cannot write to the system "
            f"interpreter's site-packages, so the packages go to {user}'s user site (~/.local) or the install "
            f"fails"), f"sudo -u {user}"


def global_install(script_command, *, container: bool = False) -> tuple[str, str] | None:
    """(what is wrong, the option or form that does it) when a command installs outside any environment."""
    from envdoctor.rules._pyinstall import recognise

    py = recognise(script_command.command)
    if py is None or not (py.tool == "pip" and py.action == "install" or py.tool == "uv" and py.action == "pip install"):
        return None
    packages = {canonicalize_name(p) for p in py.positionals if re.match(r"^[A-Za-z0-9._-]+$", p)}
    assignments = dict(a.split("=", 1) for a in py.command.assignments if "=" in a)
    env = {**script_command.env, **assignments}
    managed = script_command.managed or container
    if py.sudo:
        found = _sudo_install(script_command.command, py, env)
        if found is not None:
            return found
    if py.has("break-system-packages") or _truthy(env.get("PIP_BREAK_SYSTEM_PACKAGES")) \
            or (py.tool == "uv" and _truthy(env.get("UV_BREAK_SYSTEM_PACKAGES"))):
        return ("overrides PEP 668's protection of an externally managed system Python: it can overwrite "
                "the operating system's own packages"), "--break-system-packages"
    if (py.has("user") or _truthy(env.get("PIP_USER"))) and py.tool == "pip":
        if packages and packages <= _BOOTSTRAP_TOOLS:
            return None
        return ("installs into the user site (~/.local), which every environment built on that interpreter "
                "with system site-packages, and every script it runs, sees"), "--user"
    if managed:
        return None  # a CI runner's or a tox/nox environment's Python is throwaway
    if py.tool == "uv" and (py.has("system") or _truthy(env.get("UV_SYSTEM_PYTHON"))):
        return "installs into the system Python instead of a virtual environment", "--system"
    if py.executable.startswith(_SYSTEM_BIN_PREFIXES):
        return (f"runs pip of the system interpreter {py.executable}, so it installs outside any "
                f"environment"), py.executable
    return None


class GlobalInstallCommand(Rule):
    code = "ED412"
    name = "global-install-command"
    severity = Severity.WARNING
    target = "script"
    summary = "A script, Makefile, doc or CI step installs packages globally (`sudo pip`, `--user`, ...)."

    def check(self, script, context: Context) -> Iterator[Hit]:
        container = script.kind == "shell" and script.path.rpartition("/")[2] in _container_scripts(context)
        for script_command in script.commands:
            found = global_install(script_command, container=container)
            if found is None:
                continue
            why, form = found
            if script_command.managed:
                hint = ("In CI, install into the runner's Python without sudo or --user (after "
                        "actions/setup-python), or into an environment: `uv sync --locked`.")
            else:
                hint = ("Install into the project's environment instead (`uv sync`, or `uv pip install` in a "
                        "venv); for command-line tools use `uv tool install` or `pipx install`.")
            yield Hit(
                f"`{_shown(script_command.command)}` {why} ({form}).",
                line=script_command.command.line,
                fix_hint=hint,
            )


def _creates_environment(command) -> str | None:
    """The folder a command creates a virtual environment in (`python -m venv X`, `virtualenv X`)."""
    from envdoctor.sources.shell import unwrap

    argv = unwrap(command).argv
    if not argv:
        return None
    program = argv[0].rsplit("/", 1)[-1]
    rest = list(argv[1:])
    if re.match(r"^(python|pypy)(\d+(\.\d+)?)?$|^py$", program):
        if "-m" not in rest or rest.index("-m") + 1 >= len(rest):
            return None
        at = rest.index("-m")
        if rest[at + 1] not in ("venv", "virtualenv"):
            return None
        rest = rest[at + 2:]
    elif program not in ("virtualenv", "pyvenv"):
        return None
    folders = [w for w in rest if not w.startswith("-")]
    return folders[-1] if folders else None


def _env_path(path: str) -> str:
    """One spelling of an environment's folder: `./venv/` -> `venv`, `${VENV}` -> `$VENV`."""
    path = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", r"$\1", path.replace("\\", "/"))
    while path.startswith("./"):
        path = path[2:]
    return path.rstrip("/") or "."


def _env_of_executable(executable: str) -> str | None:
    """The environment a pip or python path belongs to: `X/bin/pip`, `X/Scripts/python.exe` -> X."""
    folder, slash, _ = executable.replace("\\", "/").rpartition("/")
    if not slash:
        return None
    parent, _, last = folder.rpartition("/")
    return _env_path(parent or ".") if last in ("bin", "Scripts") and folder not in ("/bin", "/usr/bin") else None


def _activated(command) -> str | None | bool:
    """The environment a command activates (`. X/bin/activate`, `export PATH="X/bin:$PATH"`), False for
    `deactivate`, None for any other command."""
    argv = command.argv
    if argv and argv[0] in (".", "source") and len(argv) > 1:
        folder, _, name = argv[1].replace("\\", "/").rpartition("/")
        if name.startswith("activate") and folder.rpartition("/")[2] in ("bin", "Scripts"):
            return _env_path(folder.rpartition("/")[0] or ".")
        return None
    if argv and argv[0] == "deactivate":
        return False
    words = list(command.assignments) + (list(argv[1:]) if argv and argv[0] == "export" else [])
    for word in words:
        name, eq, value = word.partition("=")
        if name == "PATH" and eq:
            first = value.split(":", 1)[0]
            if first.endswith("/bin") and first not in ("/bin", "/usr/bin", "/usr/local/bin"):
                return _env_path(first[: -len("/bin")] or ".")
    return None


@dataclass
class _BuiltEnv:
    """An environment a script creates, and the pip steps that install into it."""

    folder: str  # as written (variables kept)
    line: int
    steps: list = field(default_factory=list)  # PyCommand of each pip install into it


def _requirements_lock(context: Context, script_path: str, written: str) -> bool:
    """A `-r` file that is a lock: in the repository, every requirement `==`-pinned (or hashed), no includes."""
    from envdoctor.sources.requirements import parse_requirements

    files = set(context.project.files("requirements"))
    folder = script_path.rpartition("/")[0]
    written = _env_path(written)
    for rel in (written, f"{folder}/{written}" if folder else written):
        if rel in files:
            view = context.project.parsed("requirements", rel, parse_requirements)
            return view is not None and view.fully_pinned and not view.includes
    return False


def _lock_step(context: Context, script_path: str, py) -> bool:
    """A pip step that installs exactly a lock: `--require-hashes -r LOCK` (pip refuses anything unpinned or
    unhashed), or `-r LOCK` of fully pinned files and nothing else."""
    files = py.values("requirement")
    if not files:
        return False
    if py.has("require-hashes"):
        return True
    return not py.positionals and not py.has("editable") and all(
        _requirements_lock(context, script_path, f) for f in files)


def _installer_only(py) -> bool:
    """`pip install -U pip setuptools wheel`: the installer itself, not the packages of the environment."""
    from envdoctor.rules._pyinstall import INSTALLER_PACKAGES

    names = {canonicalize_name(re.split(r"[<>=!~\[;@ ]", p, maxsplit=1)[0]) for p in py.positionals}
    return bool(names) and names <= INSTALLER_PACKAGES and not py.values("requirement", "editable")


class HandRolledEnvScript(Rule):
    code = "ED413"
    name = "hand-rolled-env-script"
    severity = Severity.INFO
    target = "script"
    summary = "A shell script creates an environment and installs packages into it step by step."

    def check(self, script, context: Context) -> Iterator[Hit]:
        from envdoctor.rules._pyinstall import recognise

        if script.kind != "shell":
            return
        built: dict[str, _BuiltEnv] = {}
        active: str | None = None
        for script_command in script.commands:
            command = script_command.command
            folder = _creates_environment(command)
            if folder is not None:
                built.setdefault(_env_path(folder), _BuiltEnv(folder, command.line))
                continue
            activated = _activated(command)
            if activated is not None:
                active = activated or None
                continue
            py = recognise(command)
            if py is None or py.tool != "pip" or py.action != "install":
                continue
            # The environment it installs into: the one its pip or python belongs to (`X/bin/pip`), or, for
            # a bare `pip`/`python -m pip`, the one the script activated; a pip found on PATH otherwise is
            # not known to be any environment's.
            target = _env_of_executable(py.executable) if "/" in py.executable else active
            if target is not None and target in built:
                built[target].steps.append(py)
        for env in built.values():
            found = self._judge(env, script, context)
            if found is not None:
                yield found

    def _judge(self, env: _BuiltEnv, script, context: Context) -> Hit | None:
        steps = env.steps
        if len(steps) < 2:
            return None
        locks = [py for py in steps if _lock_step(context, script.path, py)]
        resolving = [py for py in steps if py not in locks and not py.has("no-deps") and not _installer_only(py)]
        if locks and not resolving:
            return None  # the lock, then the project with --no-deps: exactly the lock's packages
        folder = env.folder
        requirement_files = [f for py in (locks or steps) for f in py.values("requirement")]
        has_pyproject = bool(context.project.files("pyproject"))
        if has_pyproject and (_env_path(folder) == ".venv" or not requirement_files):
            instead = "`uv sync --locked` (it creates .venv and installs exactly the lock)"
        elif requirement_files:
            instead = f"`uv venv {folder}` then `uv pip sync {requirement_files[-1]}` (exactly that lock, nothing more)"
        else:
            instead = f"`uv venv {folder}` then `uv pip sync requirements.lock.txt` from a lock (`uv pip compile`)"
        numbers = [py.line for py in steps]
        lines = ", ".join(str(n) for n in numbers[:6]) + (", ..." if len(numbers) > 6 else "")
        message = (f"This script builds an environment by hand: it creates {folder} here, then installs into it in "
                   f"{len(steps)} separate pip steps (lines {lines}); ")
        if locks:
            lock = locks[0]
            again = [py.line for py in resolving]
            message += (f"it installs the lock {lock.values('requirement')[0]} (line {lock.line}), but "
                        f"{'line' if len(again) == 1 else 'lines'} {', '.join(str(n) for n in again[:6])} "
                        f"{'resolves' if len(again) == 1 else 'resolve'} again without --no-deps, so each run can "
                        f"end with packages the lock does not name.")
            hint = (f"Install the rest with `--no-deps` (the lock already holds its dependencies), or use a real "
                    f"tool instead: {instead}.")
        else:
            message += "each run can end with a different set of packages, and nothing checks the result against a lock."
            hint = f"Use a real tool instead: {instead}."
        return Hit(message, line=env.line, fix_hint=hint)


# --- ED408: drift between an environment and its lock ----------------------------------------------------------


def _pyproject_at(context: Context, folder: str):  # -> PyProject | None
    from envdoctor.sources.pyproject import parse_pyproject

    rel = nearest(context, "pyproject", "pyproject.toml", folder)
    return context.project.parsed("pyproject", rel, parse_pyproject) if rel is not None else None


def _drift_candidates(context: Context, env: Environment) -> list:
    """What each lock of the environment's project expects: its pinned requirements locks, its tool lock
    (uv.lock may sit higher up, at a workspace root)."""
    from envdoctor.rules._drift import from_lock, from_requirements
    from envdoctor.sources.lockfiles import lockfile_kind, parse_lockfile
    from envdoctor.sources.requirements import parse_requirements

    project = context.project
    folder = env_folder(env)
    found = []
    for rel in project.files("requirements"):
        if (rel.rpartition("/")[0] or ".") == folder:
            view = project.parsed("requirements", rel, parse_requirements)
            expected = from_requirements(view, project.text(rel) or "", env) if view is not None else None
            if expected is not None:
                found.append(expected)
    lockfiles = set(project.files("lockfile"))
    for directory in _ancestors(folder):
        for rel in sorted(lockfiles):
            kind = lockfile_kind(rel)
            if (rel.rpartition("/")[0] or ".") != directory or kind is None:
                continue
            if directory != folder and kind != "uv":
                continue  # only a uv workspace shares its lock with environments below it
            lock = project.parsed("lockfile", rel, parse_lockfile)
            expected = from_lock(lock, env, _pyproject_at(context, directory)) if lock is not None else None
            if expected is not None:
                found.append(expected)
    own = _own_names(context, folder)
    for expected in found:
        expected.own |= own
    return found


def _own_names(context: Context, folder: str) -> set[str]:
    names: set[str] = set()
    pyproject = _pyproject_at(context, folder)
    if pyproject is not None:
        for table in (pyproject.project, pyproject.tool("poetry")):
            name = table.get("name")
            if isinstance(name, str) and name.strip():
                names.add(canonicalize_name(name))
    return names


def closest_lock(context: Context, env: Environment):  # -> Drift | None
    """The project's lock this environment is built from, and how far it is from it: of the candidate locks
    (`_drift_candidates`), the closest one. None when the project has no lock envdoctor reads. ED408
    re-syncs the environment with its `expected.fix`; ED406 recreates it from the same lock."""
    from envdoctor.rules._drift import drift

    def compute():
        candidates = _drift_candidates(context, env)
        if not candidates:
            return None
        return min((drift(env, expected) for expected in candidates), key=lambda d: (d.size, d.expected.source))

    return context.project.memo(f"environment:closest-lock:{env.path}", compute)


def recreate_command(context: Context, env: Environment) -> str:
    """How to rebuild the environment from its project's lock once it is deleted: the sync command of the
    lock ED408 picks (`uv sync`, `poetry sync`, ...), after `uv venv` for a requirements or pylock lock
    (`uv pip sync` needs an environment to sync into); the project tool's sync command without a lock."""
    best = closest_lock(context, env)
    if best is None:
        return SYNC_COMMANDS.get(_tool_for(context, env_folder(env)), "uv sync")
    fix = best.expected.fix
    if fix.startswith("uv pip sync "):
        return f"uv venv {env.path.rpartition('/')[2]} && {fix}"
    return fix


class EnvironmentDrift(Rule):
    code = "ED408"
    name = "environment-drift"
    severity = Severity.WARNING
    target = "environment"
    summary = "An environment's installed packages differ from the lockfile."

    def check(self, env: Environment, context: Context) -> Iterator[Hit]:
        if env.python_version is None or env.include_system_site_packages:
            return  # markers cannot be judged / packages may come from outside the environment
        if not env.distributions:
            return
        best = closest_lock(context, env)
        if best is None or best.size == 0:
            return
        parts: list[str] = []
        if best.missing:
            parts.append(f"{len(best.missing)} missing ({_listing(best.missing)})")
        if best.other:
            shown = [f"{name} {have} installed, {want} locked" for name, have, want in best.other]
            parts.append(f"{len(best.other)} at other versions ({_listing(shown)})")
        if best.extra:
            parts.append(f"{len(best.extra)} not in the lock ({_listing(best.extra)})")
        yield Hit(
            f"Environment {env.path} has drifted from {best.expected.source}: {'; '.join(parts)}. What runs "
            f"here is not what the lock (and CI, and production) installs.",
            fix_hint=f"Re-sync it from the lock: `{best.expected.fix}`.",
        )
