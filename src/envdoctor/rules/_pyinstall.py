"""Recognising Python package installs in shell commands: pip, uv, poetry, pdm, pipenv, pipx, conda.

`recognise(command)` takes one `SimpleCommand` (from `envdoctor.sources.shell.run_commands`) and returns a
`PyCommand` saying which tool, which sub-command, its options (long names, short spellings normalised) and
its positional words, or None when the command is none of these. Wrappers (`sudo`, `env`, `exec`, ...) are
stripped first; `python -m pip`, `python3.12 -m uv`, `/opt/venv/bin/pip` and `pip3.11` are understood.
Options are read the way each tool's parser reads them: `-rfile`, `-r file`, `--requirement=file`, and
clustered short flags (`-qr file`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from envdoctor.sources.shell import SimpleCommand, unwrap

__all__ = ["INSTALLER_PACKAGES", "PyCommand", "recognise", "is_truthy", "requirement_is_pinned"]

# The installer's own packages: `pip install -U pip setuptools wheel` updates the tools, not the environment.
INSTALLER_PACKAGES = frozenset({"pip", "setuptools", "wheel"})
_PIP_RE = re.compile(r"^pip(\d+(\.\d+)?)?$")
_PYTHON_RE = re.compile(r"^(python|pypy)(\d+(\.\d+)?)?[mt]?$|^py$")


@dataclass(frozen=True)
class _Spec:
    long_values: frozenset[str]  # long options that take a value
    short: dict[str, str]  # short letter -> long name
    short_values: str  # short letters that take a value


def _spec(long_values: str, short: dict[str, str], short_values: str) -> _Spec:
    return _Spec(frozenset(long_values.split()), short, short_values)


_PIP = _spec(
    "requirement constraint editable target platform python-version implementation abi root prefix src "
    "upgrade-strategy config-settings global-option build-option install-option index-url extra-index-url "
    "find-links no-binary only-binary progress-bar report python log log-file proxy retries timeout "
    "exists-action trusted-host cert client-cert cache-dir use-feature use-deprecated keyring-provider "
    "root-user-action resume-retries group build-dir wheel-dir dest d w",
    {"r": "requirement", "c": "constraint", "e": "editable", "t": "target", "i": "index-url",
     "f": "find-links", "U": "upgrade", "q": "quiet", "v": "verbose", "I": "ignore-installed",
     "C": "config-settings", "b": "build-dir", "w": "wheel-dir", "d": "dest"},
    "rcetifCbwd",
)
_UV = _spec(
    "requirement constraint override build-constraint extra group no-group only-group package editable "
    "index default-index index-url extra-index-url find-links index-strategy keyring-provider resolution "
    "prerelease fork-strategy exclude-newer exclude-newer-package no-build-package no-binary-package "
    "only-binary no-binary python target prefix python-version python-platform link-mode config-setting "
    "reinstall-package upgrade-package refresh-package cache-dir config-file directory project color "
    "torch-backend no-build-isolation-package allow-insecure-host no-install-package output-format "
    "python-preference with with-requirements with-editable from script excludes overrides constraints "
    "build-constraints all-groups-except extra-build-dependencies",
    {"r": "requirement", "c": "constraint", "e": "editable", "p": "python", "i": "index-url",
     "f": "find-links", "n": "no-cache", "U": "upgrade", "P": "upgrade-package", "q": "quiet",
     "v": "verbose", "C": "config-setting", "b": "build-constraint", "w": "with"},
    "rcepifPCbw",
)
_POETRY = _spec(
    "directory project with without only extras E C P",
    {"C": "directory", "P": "project", "E": "extras", "n": "no-interaction", "q": "quiet", "v": "verbose"},
    "CPE",
)
_PDM = _spec(
    "group project lockfile venv skip override python",
    {"G": "group", "p": "project", "L": "lockfile", "k": "skip", "d": "dev", "g": "global", "q": "quiet",
     "v": "verbose"},
    "GpLk",
)
_PIPENV = _spec("python requirements categories extra-pip-args",
                {"r": "requirements", "d": "dev", "q": "quiet", "v": "verbose"}, "r")
_PIPX = _spec("python pip-args index-url suffix spec preinstall",
              {"q": "quiet", "v": "verbose", "f": "force"}, "")
_CONDA = _spec(
    "name prefix channel file solver repodata-fn json-file",
    {"n": "name", "p": "prefix", "c": "channel", "f": "file", "y": "yes", "q": "quiet", "v": "verbose",
     "S": "satisfied-skip-solve"},
    "npcf",
)


@dataclass(frozen=True)
class PyCommand:
    """One recognised command.

    `tool`: pip, uv, poetry, pdm, pipenv, pipx or conda (mamba and micromamba are conda).
    `action`: the sub-command words joined by a space, e.g. "install", "wheel", "sync", "pip install",
    "pip sync", "tool install", "env create", "env update", "create", "cache clean", "clean".
    """

    tool: str
    action: str
    command: SimpleCommand  # wrappers stripped
    options: tuple[tuple[str, str | None], ...]  # (long name, value or None), in order
    positionals: tuple[str, ...]  # words after the sub-command that are not options or their values
    executable: str  # the program as written: `pip3`, `/opt/venv/bin/pip`, `python3`, `uv`
    sudo: bool  # run through sudo

    @property
    def line(self) -> int:
        return self.command.line

    def has(self, *names: str) -> bool:
        return any(name in names for name, _ in self.options)

    def values(self, *names: str) -> list[str]:
        return [value for name, value in self.options if name in names and value is not None]

    @property
    def installs(self) -> bool:
        """A command that installs packages into an environment."""
        return self.action in _INSTALL_ACTIONS.get(self.tool, ())


_INSTALL_ACTIONS = {
    "pip": ("install",),
    "uv": ("sync", "pip install", "pip sync", "tool install"),
    "poetry": ("install", "sync"),
    "pdm": ("install", "sync"),
    "pipenv": ("install", "sync"),
    "pipx": ("install",),
    "conda": ("install", "create", "env create", "env update", "update"),
}
# How many words name the sub-command, after the first: `uv pip install`, `conda env create`.
_TWO_WORD = {"uv": ("pip", "tool", "cache"), "conda": ("env", "cache"), "pip": ("cache",),
             "poetry": ("cache",), "pdm": ("cache",)}


def _basename(word: str) -> str:
    return word.rsplit("/", 1)[-1]


def recognise(command: SimpleCommand) -> PyCommand | None:
    """The Python packaging command this is, or None."""
    sudo = bool(command.argv) and _basename(command.argv[0]) == "sudo"
    command = unwrap(command)
    argv = command.argv
    if not argv:
        return None
    program = _basename(argv[0])
    rest = list(argv[1:])
    if _PYTHON_RE.match(program):
        module = _python_module(rest)
        if module is None:
            return None
        program, rest = module
    tool = _tool(program)
    if tool is None:
        return None
    return _parse(tool, command, rest, argv[0], sudo)


def _tool(program: str) -> str | None:
    if _PIP_RE.match(program):
        return "pip"
    if program in ("uv", "poetry", "pdm", "pipenv", "pipx"):
        return program
    if program in ("conda", "mamba", "micromamba"):
        return "conda"
    return None


def _python_module(words: list[str]) -> tuple[str, list[str]] | None:
    """`python [options] -m MODULE args...` -> (MODULE, args)."""
    index = 0
    while index < len(words):
        word = words[index]
        if word == "-m":
            return (words[index + 1], words[index + 2:]) if index + 1 < len(words) else None
        if word.startswith("-m") and len(word) > 2:
            return word[2:], words[index + 1:]
        if word in ("-W", "-X", "-Q"):
            index += 2
            continue
        if not word.startswith("-") or word in ("-c", "-"):
            return None  # a script or `-c code`
        index += 1
    return None


def _spec_for(tool: str) -> _Spec:
    return {"pip": _PIP, "uv": _UV, "poetry": _POETRY, "pdm": _PDM, "pipenv": _PIPENV, "pipx": _PIPX,
            "conda": _CONDA}[tool]


def _parse(tool: str, command: SimpleCommand, words: list[str], executable: str, sudo: bool) -> PyCommand:
    spec = _spec_for(tool)
    options: list[tuple[str, str | None]] = []
    positionals: list[str] = []
    index = 0
    only_positionals = False
    while index < len(words):
        word = words[index]
        index += 1
        if only_positionals or word == "-" or not word.startswith("-"):
            positionals.append(word)
            continue
        if word == "--":
            only_positionals = True
            continue
        if word.startswith("--"):
            name, eq, value = word[2:].partition("=")
            if eq:
                options.append((name, value))
            elif name in spec.long_values and index < len(words):
                options.append((name, words[index]))
                index += 1
            else:
                options.append((name, None))
            continue
        letters = word[1:]
        for position, letter in enumerate(letters):
            name = spec.short.get(letter, letter)
            if letter in spec.short_values:
                value = letters[position + 1:]
                if value.startswith("="):
                    value = value[1:]
                if not value and index < len(words):
                    value = words[index]
                    index += 1
                options.append((name, value or None))
                break
            options.append((name, None))
    action_words = 2 if positionals and positionals[0] in _TWO_WORD.get(tool, ()) else 1
    action = " ".join(positionals[:action_words])
    return PyCommand(tool, action, command, tuple(options), tuple(positionals[action_words:]), executable, sudo)


_TRUE = frozenset({"1", "true", "yes", "on", "y", "t"})


def is_truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() in _TRUE


def requirement_is_pinned(text: str) -> bool | None:
    """Whether a requirement word pins one exact version: True, False, or None when it is not a
    requirement of a named package from an index (a path, a URL, a wheel file, a `$VARIABLE`)."""
    from packaging.requirements import InvalidRequirement, Requirement

    if "$" in text or "/" in text or text.startswith(".") or text.endswith((".whl", ".tar.gz", ".zip")):
        return None
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return None
    if requirement.url:
        return True
    specs = list(requirement.specifier)
    return len(specs) == 1 and (specs[0].operator == "===" or
                                (specs[0].operator == "==" and "*" not in specs[0].version))
