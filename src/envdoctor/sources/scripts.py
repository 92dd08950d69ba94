"""Shell commands written in a repository's scripts and docs, with their physical lines (for ED412/ED413).

Where commands are found, and how each place is read (never run):
- shell scripts (`*.sh`, `*.bash`): the whole file (a file whose `#!` names no shell is skipped);
- Makefiles: recipe lines (tab-indented under a rule), with the `@`, `-`, `+` prefixes removed, `$$` read
  as `$`, and `$(VAR)` / `${VAR}` replaced by the Makefile's own simple assignments (`VAR = value`);
- justfiles: recipe bodies (indented under `name:`), prefixes removed; shebang recipes only in a shell;
- Markdown (README*.md, docs/**/*.md): fenced blocks marked sh, bash, shell, zsh, console or
  shell-session; in a block with `$ ` prompts only the prompted lines are commands (the rest is output);
- CI workflows, composite actions, tox.ini and noxfile.py: through `envdoctor.sources.workflows` (the
  steps' `run:` scripts in a POSIX shell, `commands`/`commands_pre`, `session.run`/`session.install`);
  these run in a throwaway runner or a tool-made environment, so their commands are marked `managed`.

Commands come from `envdoctor.sources.shell.split_commands`; each block or recipe is split on its own, so
an unbalanced quote in one cannot swallow the next.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Callable, Iterator

from envdoctor.files import SourceError, read_text, split_lines
from envdoctor.sources.shell import SHELLS, SimpleCommand, split_commands

SHELL_FENCES = frozenset({"sh", "bash", "shell", "zsh", "console", "shell-session", "shellsession"})
SCRIPT_KINDS = ("shell", "makefile", "justfile", "markdown", "workflow", "tox.ini", "noxfile.py")


@dataclass(frozen=True)
class ScriptCommand:
    command: SimpleCommand  # `line` is the physical line in the file
    managed: bool = False  # runs in a CI runner or a tox/nox environment, not on someone's machine
    env: dict[str, str] = field(default_factory=dict)  # variables the CI or nox sets for it


@dataclass
class ScriptFile:
    path: str
    kind: str  # shell, makefile, justfile, markdown, workflow, tox, nox
    commands: list[ScriptCommand] = field(default_factory=list)


def split_pieces(pieces: list[tuple[int, str]]) -> list[SimpleCommand]:
    """Commands of consecutive lines given as (physical line, text), joined with newlines."""
    if not pieces:
        return []
    starts: list[int] = []
    lines: list[int] = []
    offset = 0
    for number, text in pieces:
        starts.append(offset)
        lines.append(number)
        offset += len(text) + 1
    script = "\n".join(text for _, text in pieces)

    def line_of(position: int) -> int:
        return lines[max(bisect_right(starts, position) - 1, 0)]

    return split_commands(script, line_of)


# --- shell scripts -------------------------------------------------------------------------------------------


def parse_shell_script(text: str, rel: str) -> ScriptFile:
    lines = split_lines(text)
    view = ScriptFile(rel, "shell")
    if lines and lines[0].startswith("#!"):
        words = lines[0][2:].replace("/", " ").split()
        if not any(w in SHELLS for w in words):
            return view  # `#!/usr/bin/env python` in a .sh file: not shell
    view.commands = [ScriptCommand(c) for c in split_commands(text)]
    return view


# --- Makefiles -----------------------------------------------------------------------------------------------

_MAKE_ASSIGN_RE = re.compile(r"^(?:export\s+|override\s+)*([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:::=|:=|\?=|=)\s*(.*)$")
_MAKE_RULE_RE = re.compile(r"^[^\s#=][^=]*?:(?!=)")
_MAKE_DIRECTIVE_RE = re.compile(r"^(?:ifeq|ifneq|ifdef|ifndef|else|endif|include|-include|sinclude)\b")
_MAKE_VAR_RE = re.compile(r"\$[({]([A-Za-z_][A-Za-z0-9_.-]*)[)}]")


def _make_expand(text: str, variables: dict[str, str]) -> str:
    for _ in range(5):
        expanded = _MAKE_VAR_RE.sub(lambda m: variables.get(m.group(1), m.group(0)), text)
        if expanded == text:
            break
        text = expanded
    return text


def parse_makefile(text: str, rel: str) -> ScriptFile:
    lines = split_lines(text)
    variables: dict[str, str] = {}
    for line in lines:
        match = _MAKE_ASSIGN_RE.match(line)
        if match and not line.startswith("\t"):
            variables.setdefault(match.group(1), match.group(2).strip())
    view = ScriptFile(rel, "makefile")
    in_rule = False
    pending: list[tuple[int, str]] = []
    continued = False
    for number, line in enumerate(lines, start=1):
        if continued or (in_rule and line.startswith("\t")):
            body = line[1:] if line.startswith("\t") else line
            if not continued:
                body = body.lstrip("@-+ \t")
            body = _make_expand(body, variables).replace("$$", "$")
            pending.append((number, body))
            continued = line.endswith("\\")
            if not continued:
                view.commands.extend(ScriptCommand(c) for c in split_pieces(pending))
                pending = []
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or _MAKE_DIRECTIVE_RE.match(stripped):
            continue
        in_rule = bool(_MAKE_RULE_RE.match(line)) and not _MAKE_ASSIGN_RE.match(line)
    if pending:
        view.commands.extend(ScriptCommand(c) for c in split_pieces(pending))
    return view


# --- justfiles -----------------------------------------------------------------------------------------------

_JUST_RECIPE_RE = re.compile(r"^@?[A-Za-z_][A-Za-z0-9_-]*(?:\s+[^:=]*)?:(?!=)")


def parse_justfile(text: str, rel: str) -> ScriptFile:
    lines = split_lines(text)
    view = ScriptFile(rel, "justfile")
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not _JUST_RECIPE_RE.match(line):
            continue
        body: list[tuple[int, str]] = []
        while index < len(lines) and (lines[index][:1] in (" ", "\t") or not lines[index].strip()):
            if lines[index].strip():
                body.append((index + 1, lines[index].strip()))
            index += 1
        if not body:
            continue
        if body[0][1].startswith("#!"):
            words = body[0][1][2:].replace("/", " ").split()
            if any(w in SHELLS for w in words):
                view.commands.extend(ScriptCommand(c) for c in split_pieces(body[1:]))
            continue
        pending: list[tuple[int, str]] = []
        for number, text_line in body:
            pending.append((number, text_line.lstrip("@-") if not pending else text_line))
            if not text_line.endswith("\\"):
                view.commands.extend(ScriptCommand(c) for c in split_pieces(pending))
                pending = []
        if pending:
            view.commands.extend(ScriptCommand(c) for c in split_pieces(pending))
    return view


# --- Markdown ------------------------------------------------------------------------------------------------

_FENCE_OPEN_RE = re.compile(r"^(?P<indent>\s*(?:(?:[-*+]|\d+[.)])\s+)?)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)")


def markdown_blocks(lines: list[str]) -> Iterator[tuple[str, list[tuple[int, str]]]]:
    """(info word, [(physical line, text)]) of every fenced block."""
    index = 0
    while index < len(lines):
        match = _FENCE_OPEN_RE.match(lines[index])
        index += 1
        if not match:
            continue
        fence = match.group("fence")
        indent = len(match.group("indent"))
        info = match.group("info").strip("{}.").lower()
        body: list[tuple[int, str]] = []
        while index < len(lines):
            stripped = lines[index].strip()
            if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
                index += 1
                break
            raw = lines[index]
            cut = len(raw) - len(raw.lstrip(" "))
            body.append((index + 1, raw[min(cut, indent):]))
            index += 1
        yield info, body


def _session_lines(body: list[tuple[int, str]]) -> list[tuple[int, str]] | None:
    """The commands of a terminal session (`$ cmd` lines and their `\\` continuations), or None when the
    block has no prompts (then it is a script)."""
    if not any(text.lstrip().startswith("$ ") for _, text in body):
        return None
    out: list[tuple[int, str]] = []
    continued = False
    for number, text in body:
        stripped = text.lstrip()
        if continued:
            out.append((number, text))
        elif stripped.startswith("$ "):
            out.append((number, stripped[2:]))
        else:
            continue
        continued = text.rstrip().endswith("\\")
    return out


def parse_markdown(text: str, rel: str) -> tuple[ScriptFile, list[int]]:
    """The commands of the shell blocks, and the physical lines of those blocks (for suppressions)."""
    view = ScriptFile(rel, "markdown")
    block_lines: list[int] = []
    for info, body in markdown_blocks(split_lines(text)):
        if info not in SHELL_FENCES or not body:
            continue
        block_lines.extend(number for number, _ in body)
        session = _session_lines(body)
        pieces = session if session is not None else body
        if session is None:
            # A script: every line is a command; split block by block so one odd line stays local.
            view.commands.extend(ScriptCommand(c) for c in split_pieces(pieces))
        else:
            pending: list[tuple[int, str]] = []
            for number, line in pieces:
                pending.append((number, line))
                if not line.rstrip().endswith("\\"):
                    view.commands.extend(ScriptCommand(c) for c in split_pieces(pending))
                    pending = []
            if pending:
                view.commands.extend(ScriptCommand(c) for c in split_pieces(pending))
    return view, block_lines


# --- CI workflows, tox, nox (read by envdoctor.sources.workflows) ----------------------------------------


def _workflow_view(workflow, rel: str) -> ScriptFile:  # workflow: envdoctor.sources.workflows.Workflow
    """The commands of a workflow's (or a composite action's) POSIX shell steps; PowerShell, cmd and
    Python steps (`shell:`, or a Windows runner's default) are not read as sh."""
    from envdoctor.sources.workflows import posix_script

    view = ScriptFile(rel, "workflow")
    for run in workflow.runs():
        if not posix_script(run.script.shell, run.script.text):
            continue
        env = run.env
        view.commands.extend(ScriptCommand(c, managed=True, env=env) for c in run.script.commands)
    return view


def _tox_view(tox, rel: str) -> ScriptFile:  # tox: envdoctor.sources.workflows.ToxFile
    view = ScriptFile(rel, "tox")
    for env in tox.envs.values():
        for script in (*env.commands_pre, *env.commands):
            view.commands.extend(ScriptCommand(c, managed=True, env=dict(env.setenv)) for c in script.commands)
    return view


def _nox_view(nox, rel: str) -> ScriptFile:  # nox: envdoctor.sources.workflows.NoxFile
    view = ScriptFile(rel, "nox")
    for session in nox.sessions:
        for call in session.calls:
            argv = call.argv if call.kind == "run" else ("pip", "install", *call.argv)
            if not argv:
                continue
            command = SimpleCommand(argv=tuple(argv), assignments=(), line=call.line, raw_words=tuple(argv))
            view.commands.append(ScriptCommand(command, managed=True, env=dict(call.env)))
    return view


# --- the "script" target --------------------------------------------------------------------------------------


def _markdown_item(project, rel: str):  # -> Item | None
    """Markdown is read here rather than through `Project.text`: only suppression comments inside its
    shell blocks count (a `# envdoctor: ignore[...]` quoted in prose or in a TOML example is not one)."""
    from envdoctor.project import Item
    from envdoctor.suppressions import parse_suppressions

    def read() -> ScriptFile | None:
        try:
            text = read_text(project.root / rel)
        except SourceError as exc:
            project.problem(rel, f"File {exc}.")
            return None
        view, block_lines = parse_markdown(text, rel)
        inside = set(block_lines)
        lines = [line if n in inside else "" for n, line in enumerate(split_lines(text), start=1)]
        project.suppressions.setdefault(rel, parse_suppressions(lines))
        return view

    view = project.memo(f"script:markdown:{rel}", read)
    return Item(rel, view) if view is not None else None


_PARSERS: dict[str, Callable[[str, str], ScriptFile]] = {
    "shell": parse_shell_script, "makefile": parse_makefile, "justfile": parse_justfile,
}


def script_items(project):  # -> Iterator[Item]
    from envdoctor.project import Item

    for kind, parser in _PARSERS.items():
        for rel in project.files(kind):
            view = project.parsed(kind, rel, parser)
            if view is not None:
                yield Item(rel, view)
    for rel in project.files("markdown"):
        item = _markdown_item(project, rel)
        if item is not None:
            yield item
    if not any(project.files(kind) for kind in ("workflow", "action", "tox.ini", "noxfile.py")):
        return  # the workflow reader (and YAML) is imported only for repositories that have such files
    from envdoctor.sources.workflows import parse_action, parse_noxfile, parse_tox_sessions, parse_workflow

    # CI workflows, and composite actions (`.github/actions/**/action.yml`, a root action.yml): their steps
    # run in a CI runner, whichever job uses them.
    for kind, parse in (("workflow", parse_workflow), ("action", parse_action)):
        for rel in project.files(kind):
            workflow = project.parsed(kind, rel, parse)
            if workflow is not None:
                index = project.suppressions.get(rel)
                if index is not None:
                    index.extend_over(workflow.spans())
                yield Item(rel, _workflow_view(workflow, rel))
    for rel in project.files("tox.ini"):
        tox = project.parsed("tox-sessions", rel, parse_tox_sessions)
        if tox is not None:
            yield Item(rel, _tox_view(tox, rel))
    for rel in project.files("noxfile.py"):
        nox = project.parsed("nox-sessions", rel, parse_noxfile)
        if nox is not None:
            yield Item(rel, _nox_view(nox, rel))
