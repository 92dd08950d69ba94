"""CI workflows read into jobs, steps and scripts with physical line numbers; and the tox environments and
nox sessions such workflows may run.

Workflow files: GitHub Actions (`.github/workflows/*.yml`), GitLab CI (`.gitlab-ci.yml`), Azure Pipelines
(`azure-pipelines.yml`) and CircleCI (`.circleci/config.yml`). YAML is read with `yaml.compose` and the
safe loader: nodes with positions, nothing constructed, no tag acted on. Merge keys (`<<: *base`) are
applied as YAML defines them; an alias is the node it names, so a finding in a shared anchor is reported
at the anchor. The walk is iterative and bounded: a budget of node visits (aliases count each time they
are reached), a size limit, and nesting too deep for the parser, all become a SourceError (ED001).

The view, for rules (`parse_workflow(text, rel)` -> `Workflow`):

- `Workflow.path`, `.kind` ("github", "gitlab", "azure", "circleci"; "action" for a composite action's
  `action.yml`, read by `parse_action`), `.root` (the folder the CI checks
  out, relative to the scanned root: the folder holding `.github/`, `.circleci/` or the GitLab/Azure file),
  `.env` (workflow-level `env:` / `variables:`), `.jobs`, and `.runs()`: every script with its job and step.
- `Job.name`, `.line`, `.env`, `.working_directory`, `.steps`; `shared_shell` is True where the steps of a
  job run in one shell (GitLab's `before_script` + `script`), so `cd` and `export` carry over.
- `Step.line`/`.end_line` (the whole step), `.name`, `.uses` and `.uses_line` (GitHub `uses:`, Azure
  `task:`, a CircleCI orb command), `.with_` and `.with_lines` (its `with:` / `inputs:` / parameters, as
  strings), `.env`, `.working_directory`, `.run` (a `Script` or None).
- `Script.text`, `.line` (physical line of its first line), `.end_line`, `.key_line` (the `run:` key or
  list item), `.shell`, `.line_of(offset)`, and `.commands` (split by `envdoctor.sources.shell`).

Line mapping: a literal block (`run: |`) maps each script line to its physical line (content starts on
the line after the `|`); plain and folded scalars are aligned character by character with the source;
quoted scalars (whose escapes change the text) map to their start line.

tox and nox, only as far as the CI rules need them: `parse_tox_sessions` reads each `[testenv]` section's
`deps`, `commands_pre`, `commands` and `setenv` with their lines; `parse_noxfile` reads (with `ast`, never
running it) each `@nox.session` function's `session.install` / `session.run` calls with literal arguments.
"""

from __future__ import annotations

import ast
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterator

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from envdoctor.files import SourceError, split_lines
from envdoctor.sources.shell import SimpleCommand, split_commands

__all__ = [
    "Job", "NoxCall", "NoxFile", "NoxSession", "RunScript", "Script", "Step", "ToxEnv", "ToxFile", "Workflow",
    "WorkflowError", "parse_action", "parse_noxfile", "parse_tox_sessions", "parse_workflow",
    "posix_script", "workflow_kind", "yaml_error",
]

MAX_WORKFLOW_BYTES = 4 * 1024 * 1024  # real workflow files are a few KiB; pure-Python YAML is slow on more
MAX_NODE_VISITS = 200_000  # aliases are followed each time: this bounds "billion laughs" expansions
_MAX_MERGE_DEPTH = 8
_MAX_EXTENDS_DEPTH = 10  # GitLab allows 11 levels of `extends`
_MERGE_TAG = "tag:yaml.org,2002:merge"
_NULL_TAG = "tag:yaml.org,2002:null"


class WorkflowError(SourceError):
    """A workflow file that cannot be read; `position` is its (line, column) for the ED001 finding."""

    def __init__(self, message: str, position: tuple[int, int] = (1, 1)) -> None:
        super().__init__(message)
        self.position = position


# --- the view ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Script:
    """A shell script of a step (`run:`, `script:`, `bash:`, a GitLab script item, a tox command line)."""

    text: str
    key_line: int  # the `run:` key, or the list item, that holds it
    # As configured (`shell:`, `defaults.run.shell`; Azure's `pwsh:`/`powershell:`), or "pwsh" for a GitHub
    # step on a Windows runner (its default there); None for the CI's default.
    shell: str | None
    _starts: tuple[int, ...] = field(repr=False)  # offsets in text where a physical line starts ...
    _lines: tuple[int, ...] = field(repr=False)  # ... and that line's number

    @property
    def line(self) -> int:
        """Physical line of the script's first line."""
        return self._lines[0]

    @property
    def end_line(self) -> int:
        return self.line_of(len(self.text.rstrip("\n")))

    def line_of(self, offset: int) -> int:
        """The physical line of a character of `text`."""
        return self._lines[max(bisect_right(self._starts, offset) - 1, 0)]

    @cached_property
    def commands(self) -> list[SimpleCommand]:
        """The script's simple commands, in order, each with its physical line."""
        return split_commands(self.text, self.line_of)


@dataclass(frozen=True)
class Step:
    line: int  # first and last physical line of the step
    end_line: int
    name: str | None = None
    uses: str | None = None  # GitHub `uses:`, Azure `task:`, a CircleCI orb or reusable command
    uses_line: int | None = None
    with_: dict[str, str] = field(default_factory=dict)  # `with:` / `inputs:` / parameters (scalars only)
    with_lines: dict[str, int] = field(default_factory=dict)  # input -> line of its key
    env: dict[str, str] = field(default_factory=dict)
    working_directory: str | None = None
    run: Script | None = None
    continue_on_error: bool = False  # GitHub `continue-on-error: true` (literally): its failure fails no job


@dataclass(frozen=True)
class Job:
    name: str
    line: int
    env: dict[str, str] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()
    working_directory: str | None = None
    shared_shell: bool = False  # the steps run in one shell: `cd` and `export` carry over
    needs: tuple[str, ...] = ()  # GitHub `needs:`: the jobs of the workflow this one runs after


@dataclass(frozen=True)
class RunScript:
    """One script with everything around it: what `Workflow.runs()` yields."""

    path: str
    workflow: Workflow
    job: Job
    step: Step
    script: Script

    @property
    def env(self) -> dict[str, str]:
        """The variables the CI sets for this script: workflow, then job, then step (later ones win)."""
        return {**self.workflow.env, **self.job.env, **self.step.env}


@dataclass(frozen=True)
class Workflow:
    path: str
    kind: str  # github, gitlab, azure, circleci; "action" for a composite action (parse_action)
    root: str  # the folder the CI runs in (its checkout), relative to the scanned root; "." for the root
    env: dict[str, str] = field(default_factory=dict)
    jobs: tuple[Job, ...] = ()

    def runs(self) -> Iterator[RunScript]:
        """Every script, job by job and step by step, in file order."""
        for job in self.jobs:
            for step in job.steps:
                if step.run is not None:
                    yield RunScript(self.path, self, job, step, step.run)

    def spans(self) -> Iterator[tuple[int, int]]:
        """(first, last) line of every step and every script: a suppression comment above one covers it all."""
        for job in self.jobs:
            for step in job.steps:
                yield step.line, step.end_line
                if step.run is not None:
                    yield step.run.key_line, step.run.end_line


# Shells whose scripts the sh tokenizer reads; PowerShell, cmd, `shell: python` and the like are not.
POSIX_SHELLS = frozenset({"bash", "sh", "dash", "ash", "ksh", "zsh"})
# A line ending in a blank and a backquote: PowerShell's line continuation (sh would open a substitution).
_BACKQUOTE_CONTINUATION_RE = re.compile(r"[ \t]`[ \t]*$", re.MULTILINE)


def posix_script(shell: str | None, text: str) -> bool:
    """Whether a CI script is POSIX shell, which envdoctor can read: its shell is one (`bash`,
    `sh -e {0}`, `/usr/bin/bash --noprofile {0}`); or the CI's default one and no line ends in a backquote
    (PowerShell's continuation: on a runner named by an expression, `${{ matrix.os }}`, the step may run
    in PowerShell)."""
    if shell is None:
        return not _BACKQUOTE_CONTINUATION_RE.search(text)
    words = shell.split()
    program = words[0].replace("\\", "/").rsplit("/", 1)[-1].lower().removesuffix(".exe") if words else ""
    return program in POSIX_SHELLS


def workflow_kind(rel: str) -> str | None:
    """Which CI reads a workflow file, from its path."""
    folder, _, name = rel.rpartition("/")
    if folder == ".github/workflows" or folder.endswith("/.github/workflows"):
        return "github"
    if name in ("config.yml", "config.yaml") and (folder == ".circleci" or folder.endswith("/.circleci")):
        return "circleci"
    if name.startswith(".gitlab-ci."):
        return "gitlab"
    if "azure-pipelines." in name:
        return "azure"
    return None


def _checkout_root(rel: str, kind: str) -> str:
    folder = rel.rpartition("/")[0]
    if kind == "github":
        folder = folder[: -len(".github/workflows")].rstrip("/")
    elif kind == "circleci":
        folder = folder[: -len(".circleci")].rstrip("/")
    return folder or "."


# --- reading YAML ------------------------------------------------------------------------------------------


class _Reader:
    """Positions and bounded access to a composed YAML document."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.newlines = [i for i, ch in enumerate(text) if ch == "\n"]
        self.budget = MAX_NODE_VISITS

    def spend(self, count: int = 1) -> None:
        self.budget -= count
        if self.budget < 0:
            raise WorkflowError(f"is too large to read: more than {MAX_NODE_VISITS} YAML nodes once aliases "
                                f"are followed")

    def line_at(self, index: int) -> int:
        """The physical line (1-based, `\\n` ends a line) of a character index."""
        return bisect_right(self.newlines, index - 1) + 1

    def line(self, node: Node) -> int:
        return self.line_at(node.start_mark.index)

    # collections

    def mapping(self, node: Node | None, depth: int = 0) -> dict[str, tuple[Node, Node]]:
        """A mapping's entries by key (scalar keys only), merge keys applied; {} for anything else."""
        if not isinstance(node, MappingNode) or depth > _MAX_MERGE_DEPTH:
            return {}
        out: dict[str, tuple[Node, Node]] = {}
        merged: dict[str, tuple[Node, Node]] = {}
        for key, value in node.value:
            self.spend()
            if key.tag == _MERGE_TAG:
                sources = value.value if isinstance(value, SequenceNode) else [value]
                for source in sources:  # the first mapping listed wins
                    for name, entry in self.mapping(source, depth + 1).items():
                        merged.setdefault(name, entry)
            elif isinstance(key, ScalarNode):
                out[str(key.value)] = (key, value)  # a repeated key: the last one wins, as in PyYAML
        return {**merged, **out}

    def sequence(self, node: Node | None) -> list[Node]:
        if not isinstance(node, SequenceNode):
            return []
        self.spend(len(node.value) + 1)
        return list(node.value)

    def scalar(self, node: Node | None) -> str | None:
        if not isinstance(node, ScalarNode) or node.tag == _NULL_TAG:
            return None
        return str(node.value)

    def strings(self, node: Node | None) -> dict[str, str]:
        """A mapping of scalars (an `env:` block) as strings; other values are left out."""
        out = {}
        for name, (_key, value) in self.mapping(node).items():
            text = self.scalar(value)
            if text is not None:
                out[name] = text
        return out

    def with_lines(self, node: Node | None) -> tuple[dict[str, str], dict[str, int]]:
        values, lines = {}, {}
        for name, (key, value) in self.mapping(node).items():
            text = self.scalar(value)
            if text is not None:
                values[name] = text
                lines[name] = self.line(key)
        return values, lines

    # spans

    def end_line(self, node: Node) -> int:
        """The last physical line holding content of the node (trailing blank lines and comments excluded)."""
        last = self.line(node)
        stack = [node]
        while stack:
            current = stack.pop()
            self.spend()
            if isinstance(current, ScalarNode):
                last = max(last, self._scalar_end(current))
            elif isinstance(current, SequenceNode):
                stack.extend(current.value)
            elif isinstance(current, MappingNode):
                for key, value in current.value:
                    stack.extend((key, value))
        return last

    def _scalar_end(self, node: ScalarNode) -> int:
        """The line of the scalar's last non-blank source character (a block scalar's end mark lies after
        its trailing line breaks)."""
        start, end = node.start_mark.index, node.end_mark.index
        last = start + len(self.text[start:end].rstrip()) - 1
        return self.line_at(max(last, start))

    def _block_first_line(self, node: ScalarNode) -> int:
        newline = self.text.find("\n", node.start_mark.index)
        return self.line_at(newline) + 1 if newline >= 0 else self.line(node)

    # scripts

    def script(self, node: Node | None, key_line: int, shell: str | None) -> Script | None:
        """A scalar as a script, with each character mapped to its physical line."""
        if not isinstance(node, ScalarNode) or node.tag == _NULL_TAG:
            return None
        text = str(node.value)
        if not text.strip():
            return None
        self.spend(len(text) // 64 + 1)
        if node.style == "|":
            first = self._block_first_line(node)
            starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
            lines = list(range(first, first + len(starts)))
        elif node.style in (None, ">"):
            begin = node.start_mark.index
            if node.style == ">":
                newline = self.text.find("\n", begin)
                begin = newline + 1 if newline >= 0 else begin
            starts, lines = self._aligned(text, begin, node.end_mark.index)
            if not starts:
                starts, lines = [0], [self.line(node)]
        else:  # quoted: escapes change the text, so only the start line is known
            starts, lines = [0], [self.line(node)]
        return Script(text, key_line, shell, tuple(starts), tuple(lines))

    def _aligned(self, value: str, begin: int, end: int) -> tuple[list[int], list[int]]:
        """Map a plain or folded scalar's characters to source lines: its non-blank characters appear in
        the source in the same order (folding only changes white space)."""
        starts: list[int] = []
        lines: list[int] = []
        position = begin
        for offset, ch in enumerate(value):
            if ch.isspace():
                continue
            found = self.text.find(ch, position, end)
            if found < 0:
                break
            position = found + 1
            line = self.line_at(found)
            if not lines or line != lines[-1]:
                starts.append(offset if lines else 0)
                lines.append(line)
        return starts, lines


def yaml_error(exc: yaml.YAMLError, text: str) -> tuple[str, tuple[int, int]]:
    """The ED001 message ("is not valid YAML: <reason> (line L, column C)") and the (line, column) of a
    PyYAML error raised on `text`, by the pure-Python or the libyaml loader. Shared by every YAML source.

    Positions come from the character offset, so lines end at `\\n` only, as everywhere in envdoctor
    (PyYAML's own count also breaks at a lone \\r, NEL, U+2028). A reader error (a control character) has
    no mark: its position is that of the first such character (libyaml counts that offset in bytes)."""
    index: int | None = None
    if isinstance(exc, yaml.reader.ReaderError) and isinstance(exc.character, int):
        code = exc.character
        found = text.find(chr(code))
        index = found if found >= 0 else None
        kind = "control character" if code < 0x20 or 0x7F <= code <= 0x9F else "character"
        reason = (f"it contains the {kind} U+{code:04X}, which YAML does not allow; remove it, or write it "
                  f"as \\u{code:04x} inside a double-quoted string")
    elif isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        index = mark.index if mark is not None else None
        reason = exc.problem or exc.context or "syntax error"
        if exc.context and exc.problem and exc.context.startswith("expected"):
            reason = f"{exc.context}, {exc.problem}"  # "expected a single document ..., but found another"
    else:
        reason = str(exc)
    reason = " ".join(re.sub(r'\s*in "<[a-z ]+>"(, (line \d+, column|position) \d+)?:?', "", reason).split())[:200]
    position = (1, 1)
    if index is not None:
        index = min(max(index, 0), len(text))
        position = (text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1)
        return f"is not valid YAML: {reason} (line {position[0]}, column {position[1]})", position
    return f"is not valid YAML: {reason}", position


def _compose(text: str, kind: str) -> tuple[_Reader, Node | None]:
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_WORKFLOW_BYTES:
        raise WorkflowError(f"is {size / 2**20:.1f} MiB, over the {MAX_WORKFLOW_BYTES // 2**20} MiB limit for a "
                            f"CI workflow; not read")
    try:
        if kind == "gitlab":
            # A CI/CD component or a file with `spec: inputs:` has a header document, then `---`, then the
            # configuration: the last document is the pipeline.
            documents = []
            for document in yaml.compose_all(text, Loader=yaml.SafeLoader):
                documents.append(document)
                if len(documents) > 2:
                    raise WorkflowError("holds more than two YAML documents; GitLab reads a header and one "
                                        "configuration")
            root = documents[-1] if documents else None
        else:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        raise WorkflowError(*yaml_error(exc, text)) from None
    except RecursionError:
        raise WorkflowError("is not valid YAML for envdoctor: nested too deeply") from None
    return _Reader(text), root


def parse_workflow(text: str, rel: str) -> Workflow:
    """The jobs, steps and scripts of a CI workflow file (kind decided by its path)."""
    kind = workflow_kind(rel) or "github"
    reader, root = _compose(text, kind)
    checkout = _checkout_root(rel, kind)
    if root is None:
        return Workflow(rel, kind, checkout)
    if not isinstance(root, MappingNode):
        return Workflow(rel, kind, checkout)
    read = {"github": _github, "gitlab": _gitlab, "azure": _azure, "circleci": _circleci}[kind]
    env, jobs = read(reader, root)
    return Workflow(rel, kind, checkout, env, tuple(jobs))


# --- GitHub Actions ----------------------------------------------------------------------------------------


def _run_defaults(r: _Reader, node: Node | None) -> tuple[str | None, str | None]:
    run = r.mapping(r.mapping(node).get("run", (None, None))[1])
    shell = r.scalar(run.get("shell", (None, None))[1])
    directory = r.scalar(run.get("working-directory", (None, None))[1])
    return shell, directory


def _value(entries: dict[str, tuple[Node, Node]], key: str) -> Node | None:
    entry = entries.get(key)
    return entry[1] if entry else None


def _windows_runner(r: _Reader, node: Node | None) -> bool:
    """`runs-on` names a Windows runner (`windows-latest`, `[self-hosted, windows]`, `{labels: [...]}`),
    where `run:` defaults to PowerShell. An expression (`${{ matrix.os }}`) is not known: False."""
    labels = r.mapping(node).get("labels", (None, node))[1] if isinstance(node, MappingNode) else node
    names = [r.scalar(labels)] if isinstance(labels, ScalarNode) else [r.scalar(n) for n in r.sequence(labels)]
    return any(name and "windows" in name.lower() and "${{" not in name for name in names)


def _github(r: _Reader, top: Node) -> tuple[dict[str, str], list[Job]]:
    doc = r.mapping(top)
    env = r.strings(_value(doc, "env"))
    shell, directory = _run_defaults(r, _value(doc, "defaults"))
    jobs = []
    for name, (key, job_node) in r.mapping(_value(doc, "jobs")).items():
        job = r.mapping(job_node)
        job_shell, job_directory = _run_defaults(r, _value(job, "defaults"))
        runner_shell = "pwsh" if _windows_runner(r, _value(job, "runs-on")) else None
        steps = _github_steps(r, _value(job, "steps"), job_shell or shell or runner_shell)
        needs_node = _value(job, "needs")
        needs = [r.scalar(n) for n in r.sequence(needs_node)] if isinstance(needs_node, SequenceNode) else [
            r.scalar(needs_node)]
        jobs.append(Job(name, r.line(key), r.strings(_value(job, "env")), tuple(steps),
                        job_directory or directory, needs=tuple(n for n in needs if n)))
    return env, jobs


def _github_steps(r: _Reader, node: Node | None, default_shell: str | None) -> list[Step]:
    """The steps of a GitHub job or of a composite action."""
    steps = []
    for step_node in r.sequence(node):
        step = r.mapping(step_node)
        if not step:
            continue
        run_entry = step.get("run")
        step_shell = r.scalar(_value(step, "shell")) or default_shell
        script = r.script(run_entry[1], r.line(run_entry[0]), step_shell) if run_entry else None
        uses_entry = step.get("uses")
        with_, with_lines = r.with_lines(_value(step, "with"))
        steps.append(Step(
            line=r.line(step_node), end_line=r.end_line(step_node), name=r.scalar(_value(step, "name")),
            uses=r.scalar(uses_entry[1]) if uses_entry else None,
            uses_line=r.line(uses_entry[1]) if uses_entry else None,
            with_=with_, with_lines=with_lines, env=r.strings(_value(step, "env")),
            working_directory=r.scalar(_value(step, "working-directory")), run=script,
            continue_on_error=(r.scalar(_value(step, "continue-on-error")) or "").strip().lower() == "true"))
    return steps


# --- GitHub composite actions ------------------------------------------------------------------------------


def parse_action(text: str, rel: str) -> Workflow:
    """A GitHub action's metadata file (`action.yml`): for a composite action (`runs: using: composite`),
    one job named "composite" holding its steps; any other action (JavaScript, Docker) has no jobs.

    A composite action runs inside the job that uses it, in that job's checkout: `Workflow.root` is "."
    here, and the reader of a workflow that uses the action gives it the caller's root and variables. Its
    `run:` steps must name their `shell:`, so no runner default applies."""
    reader, root = _compose(text, "action")
    view = Workflow(rel, "action", ".")
    if not isinstance(root, MappingNode):
        return view
    runs_entry = reader.mapping(root).get("runs")
    runs = reader.mapping(runs_entry[1]) if runs_entry else {}
    using = (reader.scalar(_value(runs, "using")) or "").strip().lower()
    if using != "composite":
        return view
    steps = _github_steps(reader, _value(runs, "steps"), None)
    return Workflow(rel, "action", ".", {}, (Job("composite", reader.line(runs_entry[0]), {}, tuple(steps)),))


# --- GitLab CI ---------------------------------------------------------------------------------------------

# Top-level keys that are not jobs.
_GITLAB_GLOBAL = frozenset({"stages", "variables", "default", "include", "workflow", "image", "services",
                            "before_script", "after_script", "cache", "types", "spec"})
_GITLAB_SCRIPTS = ("before_script", "script", "after_script")


def _gitlab_variables(r: _Reader, node: Node | None) -> dict[str, str]:
    out = {}
    for name, (_key, value) in r.mapping(node).items():
        text = r.scalar(value)
        if text is None:  # `NAME: {value: "...", description: "..."}`
            text = r.scalar(_value(r.mapping(value), "value"))
        if text is not None:
            out[name] = text
    return out


def _gitlab(r: _Reader, top: Node) -> tuple[dict[str, str], list[Job]]:
    doc = r.mapping(top)
    env = _gitlab_variables(r, _value(doc, "variables"))
    default = r.mapping(_value(doc, "default"))
    inherited = {key: _value(default, key) or _value(doc, key) for key in ("before_script", "after_script")}
    jobs = []
    for name, (key, node) in doc.items():
        if name in _GITLAB_GLOBAL or not isinstance(node, MappingNode):
            continue
        chain = _gitlab_extends(r, doc, name)
        variables: dict[str, str] = {}
        for link in reversed(chain):  # templates first, the job itself last
            variables.update(_gitlab_variables(r, _value(link, "variables")))
        steps = []
        for script_key in _GITLAB_SCRIPTS:
            value = next((_value(link, script_key) for link in chain if script_key in link), None)
            if value is None:
                value = inherited.get(script_key)
            for item in _gitlab_items(r, doc, value):
                script = r.script(item, r.line(item), None)
                if script is not None:
                    steps.append(Step(line=r.line(item), end_line=r.end_line(item), name=script_key, run=script))
        jobs.append(Job(name, r.line(key), variables, tuple(steps), shared_shell=True))
    return env, jobs


def _gitlab_extends(r: _Reader, doc: dict[str, tuple[Node, Node]], name: str) -> list[dict[str, tuple[Node, Node]]]:
    """The job's mapping, then those it `extends` (nearest first; of a list, the last listed wins)."""
    chain: list[dict[str, tuple[Node, Node]]] = []
    seen: set[str] = set()
    pending = [name]
    while pending and len(chain) <= _MAX_EXTENDS_DEPTH:
        current = pending.pop(0)
        if current in seen or current not in doc:
            continue
        seen.add(current)
        job = r.mapping(doc[current][1])
        chain.append(job)
        parents = _value(job, "extends")
        names = [r.scalar(parents)] if isinstance(parents, ScalarNode) else [r.scalar(n) for n in r.sequence(parents)]
        pending.extend(reversed([n for n in names if n]))
    return chain


def _gitlab_items(r: _Reader, doc: dict[str, tuple[Node, Node]], node: Node | None) -> list[Node]:
    """Script items: a string, or a list of strings, nested lists flattened, `!reference [job, key]` followed."""
    items: list[Node] = []
    stack: list[tuple[Node, int]] = [(node, 0)] if node is not None else []
    while stack:
        current, depth = stack.pop()
        r.spend()
        if isinstance(current, ScalarNode):
            items.append(current)
        elif isinstance(current, SequenceNode) and depth <= _MAX_EXTENDS_DEPTH:
            if current.tag == "!reference":
                current = _gitlab_reference(r, doc, current)
                if current is None:
                    continue
                stack.append((current, depth + 1))
                continue
            stack.extend((child, depth + 1) for child in reversed(current.value))
    return items


def _gitlab_reference(r: _Reader, doc: dict[str, tuple[Node, Node]], node: SequenceNode) -> Node | None:
    path = [r.scalar(part) for part in node.value]
    if not path or any(p is None for p in path):
        return None
    current: Node | None = _value(doc, path[0])  # type: ignore[arg-type]
    for part in path[1:]:
        current = _value(r.mapping(current), part)  # type: ignore[arg-type]
    return current


# --- Azure Pipelines ---------------------------------------------------------------------------------------

_AZURE_SCRIPT_KEYS = ("script", "bash", "pwsh", "powershell")


def _azure_variables(r: _Reader, node: Node | None) -> dict[str, str]:
    """`variables:` as a mapping or a list of `{name, value}`; Azure exposes them to scripts upper-cased,
    with `.` as `_`."""
    pairs: dict[str, str] = {}
    if isinstance(node, SequenceNode):
        for item in r.sequence(node):
            entry = r.mapping(item)
            name, value = r.scalar(_value(entry, "name")), r.scalar(_value(entry, "value"))
            if name is not None and value is not None:
                pairs[name] = value
    else:
        pairs = r.strings(node)
    return {name.upper().replace(".", "_"): value for name, value in pairs.items()}


def _azure_steps(r: _Reader, node: Node | None) -> list[Step]:
    steps = []
    for step_node in r.sequence(node):
        step = r.mapping(step_node)
        if not step:
            continue
        script = None
        for key in _AZURE_SCRIPT_KEYS:
            if key in step:
                key_node, value = step[key]
                script = r.script(value, r.line(key_node), None if key == "script" else key)
                break
        task = step.get("task")
        with_, with_lines = r.with_lines(_value(step, "inputs"))
        steps.append(Step(
            line=r.line(step_node), end_line=r.end_line(step_node), name=r.scalar(_value(step, "displayName")),
            uses=r.scalar(task[1]) if task else None, uses_line=r.line(task[1]) if task else None,
            with_=with_, with_lines=with_lines, env=r.strings(_value(step, "env")),
            working_directory=r.scalar(_value(step, "workingDirectory")), run=script))
    return steps


def _azure_job(r: _Reader, node: Node, env: dict[str, str]) -> Job | None:
    job = r.mapping(node)
    name_entry = job.get("job") or job.get("deployment")
    name = r.scalar(name_entry[1]) if name_entry else None
    steps_node = _value(job, "steps")
    if steps_node is None:  # a deployment job: strategy: runOnce: deploy: steps:
        strategy = r.mapping(_value(job, "strategy"))
        steps_node = _value(r.mapping(_value(r.mapping(_value(strategy, "runOnce")), "deploy")), "steps")
    if steps_node is None:
        return None
    variables = {**env, **_azure_variables(r, _value(job, "variables"))}
    return Job(name or "job", r.line(node), variables, tuple(_azure_steps(r, steps_node)),
               r.scalar(_value(job, "workingDirectory")))


def _azure(r: _Reader, top: Node) -> tuple[dict[str, str], list[Job]]:
    doc = r.mapping(top)
    env = _azure_variables(r, _value(doc, "variables"))
    jobs: list[Job] = []
    if "steps" in doc:
        key, steps = doc["steps"]
        jobs.append(Job("(pipeline)", r.line(key), {}, tuple(_azure_steps(r, steps))))
    for job_node in r.sequence(_value(doc, "jobs")):
        job = _azure_job(r, job_node, {})
        if job is not None:
            jobs.append(job)
    for stage_node in r.sequence(_value(doc, "stages")):
        stage = r.mapping(stage_node)
        stage_env = _azure_variables(r, _value(stage, "variables"))
        for job_node in r.sequence(_value(stage, "jobs")):
            job = _azure_job(r, job_node, stage_env)
            if job is not None:
                jobs.append(job)
    return env, jobs


# --- CircleCI ----------------------------------------------------------------------------------------------


def _circleci_environment(r: _Reader, node: Node | None) -> dict[str, str]:
    if isinstance(node, SequenceNode):  # ["NAME=value", ...]
        out = {}
        for item in r.sequence(node):
            text = r.scalar(item)
            if text and "=" in text:
                name, _, value = text.partition("=")
                out[name.strip()] = value
        return out
    return r.strings(node)


def _circleci_steps(r: _Reader, node: Node | None, depth: int = 0) -> list[Step]:
    steps: list[Step] = []
    for step_node in r.sequence(node):
        step = r.mapping(step_node)
        if len(step) != 1:
            continue  # `- checkout` and other bare commands carry no script
        (name, (key, value)), = step.items()
        if name in ("when", "unless") and depth < _MAX_MERGE_DEPTH:
            steps.extend(_circleci_steps(r, _value(r.mapping(value), "steps"), depth + 1))
            continue
        if name == "run":
            params = r.mapping(value)
            script_node = _value(params, "command") if params else value
            script = r.script(script_node, r.line(key), r.scalar(_value(params, "shell")))
            steps.append(Step(
                line=r.line(step_node), end_line=r.end_line(step_node), name=r.scalar(_value(params, "name")),
                env=_circleci_environment(r, _value(params, "environment")),
                working_directory=r.scalar(_value(params, "working_directory")), run=script))
            continue
        with_, with_lines = r.with_lines(value)
        steps.append(Step(line=r.line(step_node), end_line=r.end_line(step_node), uses=name,
                          uses_line=r.line(key), with_=with_, with_lines=with_lines))
    return steps


def _circleci_executor_env(r: _Reader, executor: dict[str, tuple[Node, Node]]) -> dict[str, str]:
    """The variables an executor (or a job, which is one) sets: its images' `environment`, then its own."""
    env: dict[str, str] = {}
    for image in r.sequence(_value(executor, "docker")):
        env.update(_circleci_environment(r, _value(r.mapping(image), "environment")))
    env.update(_circleci_environment(r, _value(executor, "environment")))
    return env


def _circleci(r: _Reader, top: Node) -> tuple[dict[str, str], list[Job]]:
    doc = r.mapping(top)
    executors = r.mapping(_value(doc, "executors"))
    jobs = []
    # Reusable `commands:` are read in place, like jobs: their scripts are reported where they are written.
    for section in ("jobs", "commands"):
        for name, (key, node) in r.mapping(_value(doc, section)).items():
            job = r.mapping(node)
            executor = _value(job, "executor")
            executor_name = r.scalar(executor) or r.scalar(_value(r.mapping(executor), "name"))
            env: dict[str, str] = {}
            if executor_name in executors:
                env.update(_circleci_executor_env(r, r.mapping(executors[executor_name][1])))
            env.update(_circleci_executor_env(r, job))
            jobs.append(Job(name, r.line(key), env, tuple(_circleci_steps(r, _value(job, "steps")))))
    return {}, jobs


# --- tox ---------------------------------------------------------------------------------------------------

_INI_SECTION_RE = re.compile(r"^\[\s*([^\]]+?)\s*\]")
_INI_KEY_RE = re.compile(r"^([A-Za-z0-9_.-]+)\s*[=:]\s?(.*)$")
_TOX_KEYS = frozenset({"deps", "commands", "commands_pre", "setenv", "set_env"})
_FACTOR_PREFIX_RE = re.compile(r"^[A-Za-z0-9_.,!{}-]+:\s+")
_MAX_TOX_LINES = 50_000
_MAX_TOX_ENVS = 500


@dataclass(frozen=True)
class ToxEnv:
    """One `[testenv]` or `[testenv:NAME]` section, as written (no inheritance applied)."""

    name: str  # "" for the base [testenv]
    line: int
    deps: tuple[tuple[str, int], ...] = ()  # (entry, line)
    commands_pre: tuple[Script, ...] = ()
    commands: tuple[Script, ...] = ()
    setenv: dict[str, str] = field(default_factory=dict)
    keys: frozenset[str] = frozenset()  # which of deps/commands/commands_pre/setenv the section sets


@dataclass(frozen=True)
class ToxFile:
    path: str
    envs: dict[str, ToxEnv] = field(default_factory=dict)  # by name; "" is [testenv]
    envlist: tuple[str, ...] = ()  # `[tox] env_list`, braces expanded

    @property
    def directory(self) -> str:
        return self.path.rpartition("/")[0] or "."

    def selected(self, names: set[str] | None) -> set[str]:
        """The sections tox uses for these env names (None: its env_list): `[testenv:NAME]` where written,
        else the base `[testenv]` ("")."""
        wanted = names if names is not None else set(self.envlist or ("",))
        return {name if name in self.envs else "" for name in wanted} & (set(self.envs) | {""})

    def effective(self, name: str) -> ToxEnv | None:
        """The environment as tox runs it: its own section, with the base [testenv] for keys it lacks."""
        base = self.envs.get("")
        own = self.envs.get(name)
        if own is None:
            return base
        if base is None or name == "":
            return own

        def pick(key: str, attr: str):  # noqa: ANN202
            return getattr(own if key in own.keys else base, attr)

        return ToxEnv(name, own.line, pick("deps", "deps"), pick("commands_pre", "commands_pre"),
                      pick("commands", "commands"),
                      own.setenv if own.keys & {"setenv", "set_env"} else base.setenv, own.keys | base.keys)


def _tox_substitute(text: str) -> str:
    """`{toxinidir}/x` and `{tox_root}/x` are paths from the folder of tox.ini."""
    return re.sub(r"\{(toxinidir|tox_root)\}/?", "", text)


def parse_tox_sessions(text: str, rel: str) -> ToxFile:
    """The `[testenv*]` sections of a tox.ini: deps, commands and setenv with their lines, and the
    env_list. Never raises."""
    lines = split_lines(text)[:_MAX_TOX_LINES]
    sections: dict[str, list[tuple[str, int, list[tuple[str, int]]]]] = {}
    section_lines: dict[str, int] = {}
    current: list[tuple[str, int, list[tuple[str, int]]]] | None = None
    tox_section: list[tuple[str, int, list[tuple[str, int]]]] = []
    values: list[tuple[str, int]] | None = None
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if raw[:1] in " \t":
            if values is not None:
                values.append((stripped, number))
            continue
        values = None
        header = _INI_SECTION_RE.match(stripped)
        if header:
            name = header.group(1).strip()
            if name == "testenv" or name.startswith("testenv:"):
                env = name.partition(":")[2].strip()
                current = sections.setdefault(env, [])
                section_lines.setdefault(env, number)
            else:
                current = tox_section if name in ("tox", "tox:tox") else None
            continue
        key = _INI_KEY_RE.match(stripped)
        wanted = ("envlist", "env_list") if current is tox_section else _TOX_KEYS
        if key and current is not None and key.group(1).lower() in wanted:
            values = [(key.group(2).strip(), number)] if key.group(2).strip() else []
            current.append((key.group(1).lower(), number, values))
    envs = {}
    for name, entries in sections.items():
        deps: list[tuple[str, int]] = []
        commands: dict[str, list[Script]] = {"commands": [], "commands_pre": []}
        setenv: dict[str, str] = {}
        for key, _line, entry_values in entries:
            if key == "deps":
                deps = [(_tox_substitute(_FACTOR_PREFIX_RE.sub("", v)), n) for v, n in entry_values]
            elif key in commands:
                commands[key] = _tox_commands(entry_values)
            else:
                for value, _n in entry_values:
                    var, eq, setting = value.partition("=")
                    if eq:
                        setenv[_FACTOR_PREFIX_RE.sub("", var).strip()] = setting.strip()
        envs[name] = ToxEnv(name, section_lines[name], tuple(deps), tuple(commands["commands_pre"]),
                            tuple(commands["commands"]), setenv, frozenset(k for k, _, _ in entries))
    envlist: list[str] = []
    for _key, _line, entry_values in tox_section[-1:]:
        for value, _n in entry_values:
            for part in re.split(r",(?![^{]*})", value.split(" #", 1)[0]):
                envlist.extend(_expand_braces(part.strip()))
    return ToxFile(rel, envs, tuple(e for e in envlist if e)[:_MAX_TOX_ENVS])


def _expand_braces(text: str) -> list[str]:
    """`py{311,312}-lint` -> py311-lint, py312-lint (bounded)."""
    results = [text]
    for _ in range(8):
        expanded = []
        for item in results:
            start = item.find("{")
            end = item.find("}", start + 1) if start >= 0 else -1
            if start < 0 or end < 0:
                expanded.append(item)
                continue
            expanded.extend(item[:start] + choice.strip() + item[end + 1:] for choice in item[start + 1:end].split(","))
        if expanded == results or len(expanded) > _MAX_TOX_ENVS:
            return expanded[:_MAX_TOX_ENVS]
        results = expanded
    return results


def _tox_commands(values: list[tuple[str, int]]) -> list[Script]:
    """One Script per command; a line ending in `\\` continues on the next."""
    scripts: list[Script] = []
    pending: list[tuple[str, int]] = []
    for value, number in values:
        pending.append((value, number))
        if value.endswith("\\"):
            continue
        scripts.append(_tox_script(pending))
        pending = []
    if pending:
        scripts.append(_tox_script(pending))
    return scripts


def _tox_script(parts: list[tuple[str, int]]) -> Script:
    starts, lines, pieces, offset = [], [], [], 0
    for index, (value, number) in enumerate(parts):
        if index == 0:
            value = _FACTOR_PREFIX_RE.sub("", value)
            value = value[1:].lstrip() if value.startswith(("-", "!")) and not value.startswith("--") else value
        value = _tox_substitute(value)
        starts.append(offset)
        lines.append(number)
        pieces.append(value)
        offset += len(value) + 1
    return Script("\n".join(pieces), parts[0][1], None, tuple(starts), tuple(lines))


# --- nox ---------------------------------------------------------------------------------------------------

_MAX_NOXFILE_CHARS = 2_000_000
UNKNOWN = "$UNKNOWN"  # an argument that is not a literal string


@dataclass(frozen=True)
class NoxCall:
    kind: str  # "install" (session.install: pip or uv pip install), "run" (run, run_install, run_always)
    argv: tuple[str, ...]  # literal strings; anything else is UNKNOWN
    line: int
    env: dict[str, str] = field(default_factory=dict)  # the `env={...}` literal keys (values may be UNKNOWN)


@dataclass(frozen=True)
class NoxSession:
    name: str
    line: int
    calls: tuple[NoxCall, ...] = ()
    default: bool = True  # `@nox.session(default=False)` runs only when named


@dataclass(frozen=True)
class NoxFile:
    path: str
    sessions: tuple[NoxSession, ...] = ()
    default_sessions: tuple[str, ...] | None = None  # `nox.options.sessions = [...]`

    @property
    def directory(self) -> str:
        return self.path.rpartition("/")[0] or "."

    def selected(self, names: set[str] | None) -> list[NoxSession]:
        """The sessions `nox -s NAMES` runs (None: a bare `nox`); `tests-3.12` selects `tests`."""
        if names is None:
            if self.default_sessions is None:
                return [s for s in self.sessions if s.default]
            names = set(self.default_sessions)
        return [s for s in self.sessions
                if any(n == s.name or n.startswith((s.name + "-", s.name + "(")) for n in names)]


def parse_noxfile(text: str, rel: str) -> NoxFile:
    """The sessions of a noxfile.py, read with `ast` (never run). Best effort: a file this Python cannot
    parse (newer syntax) yields no sessions rather than an error."""
    if len(text) > _MAX_NOXFILE_CHARS:
        return NoxFile(rel)
    try:
        tree = ast.parse(text, filename=rel)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return NoxFile(rel)
    sessions = []
    default_sessions: tuple[str, ...] | None = None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found = _nox_session(node)
            if found is not None and node.args.args:
                name, default = found
                calls = tuple(_nox_calls(node, node.args.args[0].arg))
                sessions.append(NoxSession(name, node.lineno, calls, default))
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1
              and ast.unparse(node.targets[0]) == "nox.options.sessions"
              and isinstance(node.value, (ast.List, ast.Tuple))):
            default_sessions = tuple(e.value for e in node.value.elts
                                     if isinstance(e, ast.Constant) and isinstance(e.value, str))
    return NoxFile(rel, tuple(sessions), default_sessions)


def _nox_session(node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, bool] | None:
    """(name, runs by default) of a function decorated with `@nox.session`, else None."""
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        if ast.unparse(target) not in ("nox.session", "session"):
            continue
        name, default = node.name, True
        if isinstance(decorator, ast.Call):
            for keyword in decorator.keywords:
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    name = str(keyword.value.value)
                elif keyword.arg == "default" and isinstance(keyword.value, ast.Constant):
                    default = bool(keyword.value.value)
        return name, default
    return None


def _nox_calls(function: ast.AST, session: str) -> list[NoxCall]:
    calls = []
    for node in ast.walk(function):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == session):
            continue
        method = node.func.attr
        if method not in ("install", "run", "run_install", "run_always"):
            continue
        argv = tuple(a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else UNKNOWN
                     for a in node.args)
        env: dict[str, str] = {}
        for keyword in node.keywords:
            if keyword.arg == "env" and isinstance(keyword.value, ast.Dict):
                for key, value in zip(keyword.value.keys, keyword.value.values):
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        literal = isinstance(value, ast.Constant) and isinstance(value.value, str)
                        env[key.value] = value.value if literal else UNKNOWN  # type: ignore[union-attr]
        calls.append(NoxCall("install" if method == "install" else "run", argv, node.lineno, env))
    calls.sort(key=lambda c: c.line)
    return calls
