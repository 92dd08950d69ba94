"""What a Dockerfile builds, as the Python-image rules (ED103-ED112) need to know it.

One `Build` per Dockerfile per scan (cached on the Project), answering:
- which stage is shipped (`final`: the last, or `[tool.envdoctor.docker] target`), which stages end up in
  the shipped image (`shipped`: the final stage and the stages it is built FROM) and which are built at
  all for it (`relevant`: those plus every stage they copy or mount from, transitively);
- the build context (`context`): the one a Compose file's `build:` gives this Dockerfile (`context_from`);
  else the Dockerfile's folder, unless the files its COPY/ADD instructions name are not there but are all
  found in a folder above (then that folder: `docker build -f sub/Dockerfile .`);
- the `.dockerignore` in force (`<Dockerfile>.dockerignore` beside the Dockerfile first, then the one at
  the context root, as BuildKit looks for them);
- each stage's steps in order (`steps(stage)`, its FROM-ancestors' steps first): COPY/ADD with their
  sources resolved against the context and their destination against WORKDIR, and RUN with its simple
  commands (split by the shell tokenizer), each with the working folder (`cd` followed) and the
  variables in scope (ARG, ENV, `export`, `VAR=value cmd`);
- whether a file is in the image at a given path before a step (`locate`): present (and which context
  file it came from), absent, or unknown (then the rules stay silent).

Stages built FROM one another form a tree (a base stage always comes earlier in the file). Nothing here
walks a stage's whole FROM-chain per question: steps are kept per stage (`own_steps`); `locate` answers
from the stage's own steps, else from the nearest stage up the chain that may decide the path, found in
an index of what each stage's steps can decide (`_Candidates`); `is_ancestor` is an interval test on
the tree. A Dockerfile of thousands of chained stages stays linear.
"""

from __future__ import annotations

import posixpath
import re
import weakref
from bisect import bisect_left, bisect_right
from collections import ChainMap
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Iterator, Mapping

from envdoctor.files import SourceError
from envdoctor.rules._pyinstall import PyCommand, recognise
from envdoctor.sources.compose import NAMES as COMPOSE_NAMES, compose_builds
from envdoctor.sources.dockerfile import Dockerfile, Instruction, Stage, expand
from envdoctor.sources.dockerignore import DockerIgnore, clean_path, parse_dockerignore
from envdoctor.sources.shell import SimpleCommand, run_commands, unwrap

if TYPE_CHECKING:
    from envdoctor.project import Project
    from envdoctor.registry import Context

_URL_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://|^git@")
_WILDCARD = re.compile(r"[*?\[]")
_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)


@dataclass(frozen=True)
class Source:
    written: str
    rel: str | None  # cleaned path relative to the context; None when unknown (variables) or a URL
    wildcard: bool = False

    @property
    def whole_context(self) -> bool:
        return self.rel == "." or (self.wildcard and self.rel == "*")


@dataclass(frozen=True)
class CopyStep:
    instruction: Instruction
    stage: Stage
    sources: tuple[Source, ...]
    dest: str | None  # absolute image path, None when unknown
    dest_is_dir: bool
    from_stage: Stage | None  # COPY --from=<stage>
    from_other: str | None  # COPY --from=<image or unknown>: the value as written
    # COPY/ADD --exclude=PATTERN, read as .dockerignore patterns (Docker matches them the same way); None:
    # no --exclude. `exclude_known` is False when a pattern is not known (a variable without a value).
    exclude: DockerIgnore | None = None
    exclude_known: bool = True

    @property
    def from_context(self) -> bool:
        return self.from_stage is None and self.from_other is None

    @property
    def excluding(self) -> bool:
        """The step has --exclude patterns (known or not)."""
        return self.exclude is not None or not self.exclude_known


@dataclass(frozen=True)
class RunCommand:
    command: SimpleCommand  # wrappers not stripped (`sudo` still visible); see `py` for the parsed form
    py: PyCommand | None
    cwd: str | None  # working folder when it runs; None when unknown
    env: Mapping[str, str | None]  # variables in scope: ARG/ENV, then `export`, then the command's own


@dataclass(frozen=True)
class RunStep:
    instruction: Instruction
    stage: Stage
    commands: tuple[RunCommand, ...]
    mounts: tuple[dict[str, str], ...]  # each --mount's options (keys lower-case)
    workdir: str | None

    def cache_mount_targets(self, env: dict[str, str | None]) -> list[str]:
        out = []
        for mount in self.mounts:
            if mount.get("type") == "cache":
                target = mount.get("target") or mount.get("dst") or mount.get("destination") or ""
                value = expand(target, env) if "$" in target else target
                out.append(_abs(value or target, self.workdir or "/"))
        return out

    def bind_mounts(self) -> list[tuple[str, str]]:
        """(source relative to the context, absolute target) of the context bind mounts."""
        out = []
        for mount in self.mounts:
            if mount.get("type") == "bind" and not mount.get("from"):
                source = clean_path(mount.get("source") or mount.get("src") or ".").lstrip("/") or "."
                target = mount.get("target") or mount.get("dst") or mount.get("destination")
                if target:
                    out.append((source, _abs(target, self.workdir or "/")))
        return out


Step = CopyStep | RunStep


@dataclass(frozen=True)
class Located:
    state: str  # "present", "absent" or "unknown"
    rel: str | None = None  # the context file (relative to the context) it came from, when present
    step: Step | None = None  # the step that put it there

    @property
    def present(self) -> bool:
        return self.state == "present"

    @property
    def absent(self) -> bool:
        return self.state == "absent"


def _abs(path: str, cwd: str) -> str:
    return clean_path(path if path.startswith("/") else f"{cwd.rstrip('/')}/{path}")


def _join(folder: str, rel: str) -> str:
    """A context-relative path as a path relative to the scanned root."""
    if folder in ("", "."):
        return clean_path(rel)
    return clean_path(f"{folder}/{rel}")


@dataclass
class _ProjectCache:
    builds: dict[int, Build] = field(default_factory=dict)


_CACHE: weakref.WeakKeyDictionary[Project, _ProjectCache] = weakref.WeakKeyDictionary()


def build_of(dockerfile: Dockerfile, context: Context) -> Build:
    """The Build of a Dockerfile, made once per scan and shared by the rules."""
    project = context.project
    cache = _CACHE.setdefault(project, _ProjectCache())
    build = cache.builds.get(id(dockerfile))
    if build is None or build.dockerfile is not dockerfile:
        # Rules are handed the parsed view only: the Project knows the path of each view it parsed.
        build = cache.builds[id(dockerfile)] = Build(dockerfile, project.path_of(dockerfile), context)
    return build


class Build:
    def __init__(self, dockerfile: Dockerfile, rel: str | None, context: Context) -> None:
        self.dockerfile = dockerfile
        self.rel = rel  # the Dockerfile's path relative to the scanned root (None: not known)
        self.project: Project = context.project
        self.folder = (rel.rpartition("/")[0] or ".") if rel else "."
        self.escape = dockerfile.escape
        target = context.config.docker.target
        stages = dockerfile.stages
        self.final: Stage | None = (dockerfile.stage(target) if target else None) or (stages[-1] if stages else None)
        self._bases: dict[int, Stage | None] = {}
        self._steps: dict[int, list[Step]] = {}
        self._end_workdir: dict[int, str | None] = {}
        self._kinds: dict[str, str | None] = {}  # path_type answers (a stat each), by path from the root
        self._tree: tuple[list[int], list[int]] | None = None  # is_ancestor(): the stage tree's intervals
        # locate(): each stage's own steps with their positions; for each (stage, image path) the stage's
        # own steps that decide where that path comes from (a query is a bisection), and what the path
        # holds at the end of the stage (its last deciding step, else its base's answer: memoised, so a
        # chain of stages is walked once per path, not once per question)
        self._positions: dict[int, dict[int, int]] = {}
        self._deciding: dict[tuple[int, str], tuple[list[int], list[Located]]] = {}
        self._at_end: dict[tuple[int, str], Located] = {}
        self._candidates: _Candidates | None = None
        self.memo: dict[str, dict] = {}  # the rules' own per-build memos (docker.py), by name
        self.shipped: set[int] = {s.index for s in self.chain(self.final)} if self.final else set()
        self.relevant: set[int] = self._relevant()
        # The Compose file whose `build:` sets this Dockerfile's context, when one does (else inferred).
        self.context_from: str | None = None
        self.context = self._compose_context() or self._infer_context()
        self.ignore, self.ignore_known = self._dockerignore()

    # --- stages -------------------------------------------------------------------------------------

    def base(self, stage: Stage) -> Stage | None:
        """The earlier stage this stage is built FROM, if any (cached)."""
        if stage.index not in self._bases:
            self._bases[stage.index] = self.dockerfile.base_stage(stage)
        return self._bases[stage.index]

    def chain(self, stage: Stage | None) -> list[Stage]:
        """The stage and the stages it is built FROM, the first ancestor first (O(length): not per step)."""
        out: list[Stage] = []
        seen: set[int] = set()  # indices: comparing Stage values compares all their instructions
        while stage is not None and stage.index not in seen:
            out.append(stage)
            seen.add(stage.index)
            stage = self.base(stage)
        return out[::-1]

    def is_ancestor(self, ancestor: Stage, stage: Stage) -> bool:
        """`ancestor` is `stage` or one of the stages it is built FROM (`ancestor in chain(stage)`), in O(1)."""
        start, end = self.descendants(ancestor)
        return start <= self.enters(stage) < end

    def enters(self, stage: Stage) -> int:
        """Where the stage enters a walk of the stage tree (stages built FROM a stage are its children)."""
        return self._intervals()[0][stage.index]

    def descendants(self, stage: Stage) -> tuple[int, int]:
        """The `enters` values of the stage and of every stage built FROM it, transitively: [start, end)."""
        enter, leave = self._intervals()
        return enter[stage.index], leave[stage.index]

    def _intervals(self) -> tuple[list[int], list[int]]:
        if self._tree is None:
            stages = self.dockerfile.stages
            children: list[list[int]] = [[] for _ in stages]
            roots = []
            for item in stages:
                base = self.base(item)
                if base is not None and base.index < item.index:  # always: a FROM names an earlier stage
                    children[base.index].append(item.index)
                else:
                    roots.append(item.index)
            enter, leave = [0] * len(stages), [0] * len(stages)
            clock = 0
            todo: list[tuple[int, bool]] = [(index, False) for index in reversed(roots)]
            while todo:  # depth first, without recursion: a chain may be thousands of stages long
                index, done = todo.pop()
                if done:
                    leave[index] = clock
                    continue
                enter[index] = clock
                clock += 1
                todo.append((index, True))
                todo.extend((child, False) for child in reversed(children[index]))
            self._tree = (enter, leave)
        return self._tree

    def stage_named(self, value: str, before: int) -> Stage | None:
        if value.isdigit():
            index = int(value)
            return self.dockerfile.stages[index] if index < before else None
        stage = self.dockerfile.stage(value)
        return stage if stage is not None and stage.index < before else None

    def _relevant(self) -> set[int]:
        todo = sorted(self.shipped)
        seen = set(todo)
        while todo:
            stage = self.dockerfile.stages[todo.pop()]
            for instruction in stage.instructions:
                for value in self._from_values(stage, instruction):
                    item = self.stage_named(value, stage.index)
                    # `seen` holds every FROM-ancestor of what it holds: stop at the first one it has
                    while item is not None and item.index not in seen:
                        seen.add(item.index)
                        todo.append(item.index)
                        item = self.base(item)
        return seen

    def _from_values(self, stage: Stage, instruction: Instruction) -> list[str]:
        written = []
        if instruction.keyword in ("COPY", "ADD") and instruction.flag("from"):
            written.append(instruction.flag("from") or "")
        if instruction.keyword == "RUN":
            written += [f.options().get("from", "") for f in instruction.flags_named("mount")]
        out = []
        for text in written:
            if text:
                value = expand(text, self.dockerfile.stage_scope(stage, instruction), self.escape)
                if value:
                    out.append(value)
        return out

    @property
    def for_development(self) -> bool:
        """A development image, not one that ships: under .devcontainer/, named for dev (`Dockerfile.dev`,
        `dev.Dockerfile`, `Dockerfile-develop`), or its shipped stage is named dev/development/devcontainer."""
        if self.rel is not None:
            parts = self.rel.lower().split("/")
            if ".devcontainer" in parts[:-1]:
                return True
            if {"dev", "develop", "development", "devcontainer", "local"} & set(re.split(r"[._-]", parts[-1])):
                return True
        return self.final is not None and (self.final.name or "") in ("dev", "develop", "development", "devcontainer")

    def is_shipped(self, stage: Stage) -> bool:
        return stage.index in self.shipped

    def is_relevant(self, stage: Stage) -> bool:
        return stage.index in self.relevant

    # --- the build context and .dockerignore -------------------------------------------------------

    def _literal_sources(self) -> list[str]:
        out = []
        for stage in self.dockerfile.stages:
            for instruction in stage.instructions:
                if instruction.keyword in ("COPY", "ADD") and not instruction.flag("from"):
                    for written in _copy_words(instruction)[0]:
                        if "$" in written or _URL_RE.match(written) or _WILDCARD.search(written):
                            continue
                        rel = clean_path(written).lstrip("/") or "."
                        if rel != "." and not rel.startswith(".."):
                            out.append(rel)
        return out

    def _infer_context(self) -> str:
        sources = self._literal_sources()
        if not sources:
            return self.folder
        candidates = [self.folder]
        folder = self.folder
        while folder not in (".", ""):
            folder = folder.rpartition("/")[0] or "."
            candidates.append(folder)
        # The nearest folder where the most of them exist (ties go to the nearest).
        counts = [sum(1 for s in sources if self._path_type(_join(c, s))) for c in candidates]
        return candidates[counts.index(max(counts))]

    def _compose_context(self) -> str | None:
        """The build context a Compose file gives this Dockerfile (`build: {context, dockerfile}`, the
        Dockerfile's path taken from the context), read from compose.y(a)ml / docker-compose.y(a)ml in the
        Dockerfile's folder and each folder above it. None when none names this Dockerfile, or when they
        name it with different contexts (or one that is not known: a variable): then it is inferred."""
        if self.rel is None:
            return None
        folders = [self.folder]
        while folders[-1] not in (".", ""):
            folders.append(folders[-1].rpartition("/")[0] or ".")
        contexts: set[str | None] = set()
        source = None
        for folder in folders:
            for name in COMPOSE_NAMES:
                rel = _join(folder, name)
                if self._path_type(rel) != "file":
                    continue
                builds = self.project.parsed("compose", rel, compose_builds)
                for context, dockerfile in builds or ():
                    if "$" in dockerfile or dockerfile.startswith("/") or "://" in context:
                        continue
                    if "$" in context:
                        # a context only known when Compose runs: it may be this Dockerfile's, with any context
                        contexts.add(None)
                        continue
                    where = clean_path(context) if context.startswith("/") else _join(folder, context)
                    if where.startswith(("..", "/")) or _join(where, dockerfile) != clean_path(self.rel):
                        continue
                    contexts.add(where)
                    source = source or rel
        if len(contexts) != 1 or None in contexts:
            return None
        self.context_from = source
        return contexts.pop()

    @property
    def context_certain(self) -> bool:
        """Every literal COPY source was found in the context."""
        return all(self.kind(s) for s in self._literal_sources())

    def path(self, rel: str) -> str:
        """A context-relative path as a path relative to the scanned root."""
        return _join(self.context, rel)

    def kind(self, rel: str) -> str | None:
        """`Project.path_type` of a context-relative path ('file', 'dir' or None), asked once per build."""
        return self._path_type(self.path(rel))

    def _path_type(self, rel: str) -> str | None:
        if rel not in self._kinds:
            self._kinds[rel] = self.project.path_type(rel)
        return self._kinds[rel]

    def _dockerignore(self) -> tuple[DockerIgnore | None, bool]:
        """The .dockerignore in force, and whether it is known (False: there is one, but it is unreadable)."""
        candidates = []
        if self.rel:
            candidates.append(self.rel + ".dockerignore")
        candidates.append(_join(self.context, ".dockerignore"))
        for rel in candidates:
            if self._path_type(rel) == "file":
                parsed = self.project.parsed("dockerignore", rel, parse_dockerignore)
                return parsed, parsed is not None
            if (self.project.root / rel).is_symlink():  # a link out of the repository (or to nothing):
                return None, False  # there is one, but what it excludes is not known
        return None, True

    def ignored(self, rel: str) -> bool:
        return self.ignore is not None and self.ignore.excludes(rel)

    # --- steps --------------------------------------------------------------------------------------

    def steps(self, stage: Stage) -> list[Step]:
        """The stage's steps, its FROM-ancestors' first. As long as the chain: a rule that needs something
        of every stage's chain memoises it per stage over `own_steps` instead (docker.py's ED103)."""
        return [step for item in self.chain(stage) for step in self._stage_steps(item)]

    def own_steps(self, stage: Stage) -> list[Step]:
        """The stage's own steps (its FROM-ancestors' left out), in order."""
        return self._stage_steps(stage)

    def _stage_steps(self, stage: Stage) -> list[Step]:
        cached = self._steps.get(stage.index)
        if cached is not None:
            return cached
        # The ancestors not made yet, made first ancestor first: a stage starts in its base's WORKDIR.
        # A loop, not a recursion: a chain may be thousands of stages long.
        pending = [stage]
        while True:
            base = self.base(pending[-1])
            if base is None or base.index in self._steps or base.index >= pending[-1].index:
                break
            pending.append(base)
        for item in reversed(pending):
            self._make_steps(item)
        return self._steps[stage.index]

    def _make_steps(self, stage: Stage) -> None:
        base = self.base(stage)
        # an image's own WORKDIR is not known here; "/" is Docker's default
        workdir = "/" if base is None else self._end_workdir.get(base.index, "/")
        steps: list[Step] = []
        for instruction in stage.instructions:
            keyword = instruction.keyword
            if keyword == "ONBUILD":
                continue
            if keyword == "WORKDIR":
                value = expand(instruction.args, self.dockerfile.stage_scope(stage, instruction), self.escape)
                workdir = None if value is None or workdir is None and not value.startswith("/") else \
                    _abs(value, workdir or "/")
            elif keyword in ("COPY", "ADD"):
                steps.append(self._copy_step(stage, instruction, workdir))
            elif keyword == "RUN":
                steps.append(self._run_step(stage, instruction, workdir))
        self._steps[stage.index] = steps
        self._end_workdir[stage.index] = workdir
        self._positions[stage.index] = {id(step): i for i, step in enumerate(steps)}

    def _copy_step(self, stage: Stage, instruction: Instruction, workdir: str | None) -> CopyStep:
        scope = self.dockerfile.stage_scope(stage, instruction)
        words, dest_written = _copy_words(instruction)
        sources = []
        for written in words:
            if _URL_RE.match(written):
                sources.append(Source(written, None))
                continue
            value = expand(written, scope, self.escape) if ("$" in written or "\\" in written) else written
            if value is None:
                sources.append(Source(written, None))
                continue
            rel = clean_path(value).lstrip("/") or "."
            sources.append(Source(written, rel, bool(_WILDCARD.search(value))))
        dest = None
        dest_is_dir = False
        if dest_written is not None:
            value = expand(dest_written, scope, self.escape) if "$" in dest_written else dest_written
            if value is not None and (value.startswith("/") or workdir is not None):
                dest = _abs(value, workdir or "/")
                dest_is_dir = (value.endswith("/") or value in (".", "./") or len(words) > 1
                               or dest == workdir or any(s.wildcard for s in sources))
        from_stage, from_other = None, None
        written_from = instruction.flag("from")
        if written_from:
            value = expand(written_from, scope, self.escape)
            from_stage = self.stage_named(value, stage.index) if value else None
            if from_stage is None:
                from_other = written_from
        exclude, exclude_known = self._excludes(instruction, scope)
        return CopyStep(instruction, stage, tuple(sources), dest, dest_is_dir, from_stage, from_other,
                        exclude, exclude_known)

    def _excludes(self, instruction: Instruction, scope) -> tuple[DockerIgnore | None, bool]:
        patterns = []
        for flag in instruction.flags_named("exclude"):
            value = flag.value or ""
            if "$" in value or "\\" in value:
                value = expand(value, scope, self.escape)
                if value is None:
                    return None, False
            if value:
                patterns.append("\\" + value if value.startswith("#") else value)
        if not patterns:
            return None, True
        try:
            return parse_dockerignore("\n".join(patterns), "--exclude"), True
        except SourceError:  # a pattern Docker refuses: the build fails, nothing is judged
            return None, False

    def _run_step(self, stage: Stage, instruction: Instruction, workdir: str | None) -> RunStep:
        # What this RUN's own `export`s and `A=1`s set, over the stage's ARG/ENV scope: each command's env is
        # a chain of small dicts over the shared scope, not a copy of it (thousands of ENVs times thousands
        # of RUNs would copy for minutes and take gigabytes).
        base = self.dockerfile.stage_scope(stage, instruction)
        scope: dict[str, str | None] = {}
        cwd = workdir
        commands = []
        for command in run_commands(instruction):
            plain = unwrap(command)
            argv = plain.argv
            if argv and argv[0] == "cd":
                target = argv[1] if len(argv) > 1 else None
                if target is None or "$" in target or target.startswith("~") or target == "-":
                    cwd = None
                elif cwd is not None or target.startswith("/"):
                    cwd = _abs(target, cwd or "/")
                continue
            if argv and argv[0] == "export":
                for word in argv[1:]:
                    match = _ASSIGN.match(word)
                    if match:
                        scope[match.group(1)] = match.group(2) if "$" not in match.group(2) else None
                continue
            env = ChainMap(dict(scope), base)
            if not argv:  # `A=1` alone sets a shell variable for what follows
                for word in plain.assignments:
                    match = _ASSIGN.match(word)
                    if match:
                        scope[match.group(1)] = match.group(2) if "$" not in match.group(2) else None
                continue
            for word in plain.assignments:
                match = _ASSIGN.match(word)
                if match:
                    env[match.group(1)] = match.group(2) if "$" not in match.group(2) else None
            commands.append(RunCommand(command, recognise(command), cwd, env))
        mounts = tuple(flag.options() for flag in instruction.flags_named("mount"))
        return RunStep(instruction, stage, tuple(commands), mounts, workdir)

    def commands(self, stages: set[int] | None = None) -> Iterator[tuple[RunStep, RunCommand]]:
        """Every command of every RUN in the given stages (default: the relevant ones), in file order."""
        wanted = self.relevant if stages is None else stages
        for stage in self.dockerfile.stages:
            if stage.index in wanted:
                for step in self._stage_steps(stage):
                    if isinstance(step, RunStep):
                        for command in step.commands:
                            yield step, command

    # --- files in the image -------------------------------------------------------------------------

    def locate(self, stage: Stage, before: Step | None, image_path: str) -> Located:
        """Whether `image_path` holds a file from the context just before `before` (at the end when None,
        or when `before` is not one of the steps of the stage or of the stages it is built FROM)."""
        image_path = clean_path(image_path)
        stages = self.dockerfile.stages
        owner = before.stage if before is not None else None
        if owner is not None and owner.index < len(stages) and stages[owner.index] is owner:
            self._stage_steps(owner)
            position = self._positions[owner.index].get(id(before))
            if position is not None and self.is_ancestor(owner, stage):
                if isinstance(before, RunStep):
                    for source, target in before.bind_mounts():
                        found = self._through_bind(source, target, image_path)
                        if found is not None:
                            return found
                indices, answers = self._own_deciding(owner, image_path)
                last = bisect_left(indices, position) - 1  # the owner's last step before `before` that decides
                if last >= 0:
                    return answers[last]
                base = self.base(owner)
                return self._at_end_of(base, image_path) if base is not None else _ABSENT
        return self._at_end_of(stage, image_path)

    def _own_deciding(self, stage: Stage, image_path: str) -> tuple[list[int], list[Located]]:
        """The positions of the stage's own steps that decide `image_path`, and what each says."""
        key = (stage.index, image_path)
        deciding = self._deciding.get(key)
        if deciding is None:
            deciding = ([], [])
            for i, step in enumerate(self._stage_steps(stage)):
                found = self._decides(step, image_path)
                if found is not None:
                    deciding[0].append(i)
                    deciding[1].append(found)
            self._deciding[key] = deciding
        return deciding

    def _at_end_of(self, stage: Stage, image_path: str) -> Located:
        """What `image_path` holds at the end of `stage`: the answer of the last step that decides it in the
        stage or up its FROM-chain (absent when none does). The stages that may decide it are found by
        `_Candidates`, not by asking every stage up the chain: each stage of a long chain may ask about
        paths of its own (its WORKDIR), which no stage above it decides."""
        key = (stage.index, image_path)
        found = self._at_end.get(key)
        if found is not None:
            return found
        if self._candidates is None:
            self._candidates = _Candidates(self)
        found = _ABSENT
        dropped: set[tuple[str, str]] = set()
        item: Stage | None = stage
        while item is not None:
            index, through = self._candidates.deepest(item, image_path, dropped)
            if index < 0:
                break
            candidate = self.dockerfile.stages[index]
            answers = self._own_deciding(candidate, image_path)[1]
            if answers:
                found = answers[-1]
                break
            # A candidate that decides nothing after all: what it was found through decides nothing for
            # this path in any stage (see _Candidates); on up from it.
            dropped.update(key for key in through if key[0] in _Candidates.CONDITIONAL)
            item = self.base(candidate)
        self._at_end[key] = found
        return found

    def _decides(self, step: Step, image_path: str) -> Located | None:
        """What `step` says about `image_path`, or None when it leaves it as it was. (`_Candidates` files
        each step under what it can decide: a step that may decide a new kind of path must be filed there
        too; tests/robustness/test_scaling_counts.py compares `locate` with a walk of every step.)"""
        if isinstance(step, RunStep):
            # A RUN that names the file, clones or generates files may have put it there: unknown.
            text = step.instruction.args + "".join(h.body for h in step.instruction.heredocs)
            if posixpath.basename(image_path) in text or "git clone" in text \
                    or any(_creates_files(c.py) for c in step.commands):
                return Located("unknown")
            return None
        return self._through_copy(step, image_path)

    def _through_bind(self, source: str, target: str, image_path: str) -> Located | None:
        if image_path == target:
            rel = source
        elif image_path.startswith(target.rstrip("/") + "/"):
            rel = clean_path(f"{source}/{image_path[len(target.rstrip('/')) + 1:]}")
        else:
            return None
        return self._context_file(rel, None)

    def _through_copy(self, step: CopyStep, image_path: str) -> Located | None:
        if step.dest is None:
            return Located("unknown") if step.from_context else None
        dest = step.dest
        under = image_path == dest or image_path.startswith(dest.rstrip("/") + "/")
        if not step.from_context:
            return Located("unknown") if under or (step.dest_is_dir and posixpath.dirname(image_path) == dest) \
                else None
        for source in reversed(step.sources):
            if source.rel is None:
                if under or step.dest_is_dir:
                    return Located("unknown")
                continue
            if source.wildcard:
                if posixpath.dirname(image_path) != dest:
                    continue
                candidate = _join(posixpath.dirname(source.rel) or ".", posixpath.basename(image_path))
                if fnmatchcase(candidate, source.rel):
                    found = self._context_file(candidate, step, posixpath.basename(image_path))
                    if found.present or found.state == "unknown" and step.excluding:
                        return found
                continue
            kind = self.kind(source.rel)
            if source.rel == "." or kind == "dir":
                if image_path == dest:
                    continue  # the folder itself, not a file
                if under:
                    rest = image_path[len(dest.rstrip("/")) + 1:]
                    found = self._context_file(clean_path(f"{source.rel}/{rest}"), step, rest)
                    if found.present or found.state == "unknown" and step.excluding:
                        return found
                continue
            inside = clean_path(f"{dest}/{posixpath.basename(source.rel)}")
            # `COPY a.txt /x` makes /x/a.txt when /x is a folder in the image, else the file /x.
            if image_path == inside or (not step.dest_is_dir and image_path == dest):
                return self._context_file(source.rel, step, posixpath.basename(source.rel))
        return None

    def _context_file(self, rel: str, step: Step | None, below: str | None = None) -> Located:
        """What a copy of the context file `rel` puts in the image: `below` is its path below the COPY's
        source, where the step's `--exclude` patterns apply (they are also tried from the context root:
        when the two readings disagree, the answer is unknown, not guessed)."""
        if self.kind(rel) != "file":
            return _ABSENT
        if not self.ignore_known:
            return Located("unknown")
        if self.ignored(rel):
            return Located("absent")
        if isinstance(step, CopyStep) and step.excluding:
            if step.exclude is None:  # a pattern not known (a variable without a value)
                return Located("unknown")
            verdicts = {step.exclude.excludes(rel), step.exclude.excludes(below or rel)}
            if verdicts == {True}:
                return Located("absent")
            if True in verdicts:
                return Located("unknown")
        return Located("present", rel, step)

    def context_pyproject(self, stage: Stage, before: Step, cwd: str | None):
        """The pyproject.toml that a command running in `cwd` sees, parsed, or None if not known."""
        from envdoctor.sources.pyproject import parse_pyproject

        if cwd is None:
            return None
        found = self.locate(stage, before, f"{cwd}/pyproject.toml")
        if not found.present or found.rel is None:
            return None
        return self.project.parsed("pyproject", self.path(found.rel), parse_pyproject)


_ABSENT = Located("absent")

class _Candidates:
    """Which stages may decide an image path (`Build._decides`), so that `Build.locate` finds the nearest
    one up a FROM-chain by bisection instead of asking every stage of the chain.

    Each stage is filed under keys for what its own steps can decide, read off `_decides`/`_through_copy`:
    - ("any", ""): any path. A RUN that clones or generates files; a COPY from the context whose
      destination is not known, or with a source not known into a folder.
    - ("run", name): the paths with that base name, for a RUN whose text holds it (searched once per name).
    - ("file", path): one path, where a COPY of one context file lands (or the file it makes).
    - ("below", folder): the paths at or below a folder, which a COPY from another stage or image (or of
      a source not known) into that folder decides.
    A stage filed under those keys surely decides the path. It may only decide it under:
    - ("folder", folder + NUL + source) and ("glob", ...): a COPY of a context folder, or of a wildcard,
      into a folder: it decides a path only when the context holds the file, which depends on the key and
      the path alone, not on the stage. So when a candidate found through such keys decides nothing, the
      keys are dropped for that question (`Build._at_end_of`) and no other stage is asked through them.
    The stages of a key are kept in the order of a depth-first walk of the stage tree, each with the
    nearest of them it is built FROM (`_prepare`), so that the nearest one above a given stage is a
    bisection and a short walk (`_deepest`).
    """

    CONDITIONAL = ("folder", "glob")

    def __init__(self, build: Build) -> None:
        self.build = build
        self.keys: dict[tuple[str, str], list[int]] = {}
        self.conditional: dict[str, list[tuple[str, str]]] = {}  # a folder's conditional keys
        self.run_texts: list[tuple[int, str]] = []
        self.prepared: dict[tuple[str, str], tuple[list[int], list[int], list[int]]] = {}
        self.filed: dict[str, dict[int, list[tuple[str, str]]]] = {}  # a folder's stages: their conditional keys
        for stage in build.dockerfile.stages:
            for step in build.own_steps(stage):
                self._file(stage.index, step)

    def _add(self, key: tuple[str, str], index: int) -> None:
        members = self.keys.setdefault(key, [])
        if not members and key[0] in self.CONDITIONAL:
            self.conditional.setdefault(key[1].partition("\0")[0], []).append(key)
        if not members or members[-1] != index:
            members.append(index)

    def _file(self, index: int, step: Step) -> None:
        if isinstance(step, RunStep):
            text = step.instruction.args + "".join(h.body for h in step.instruction.heredocs)
            if "git clone" in text or any(_creates_files(c.py) for c in step.commands):
                self._add(("any", ""), index)
            else:
                self.run_texts.append((index, text))
            return
        dest = step.dest
        if dest is None:
            if step.from_context:
                self._add(("any", ""), index)
            return
        if not step.from_context:
            self._add(("below", dest), index)
            return
        # A step with --exclude patterns decides a path by them too, not by its key alone: a key of its own.
        own = f"\0{id(step)}" if step.excluding else ""
        for source in step.sources:
            if source.rel is None:
                self._add(("any", "") if step.dest_is_dir else ("below", dest), index)
            elif source.wildcard:
                self._add(("glob", f"{dest}\0{source.rel}" + own), index)
            elif source.rel == "." or self.build.kind(source.rel) == "dir":
                self._add(("folder", f"{dest}\0{source.rel}" + own), index)
            else:
                self._add(("file", clean_path(f"{dest}/{posixpath.basename(source.rel)}")), index)
                if not step.dest_is_dir:
                    self._add(("file", dest), index)

    def deepest(self, stage: Stage, image_path: str,
                dropped: set[tuple[str, str]]) -> tuple[int, list[tuple[str, str]]]:
        """The index of the nearest stage that may decide `image_path` among `stage` and the stages it is
        built FROM (-1: none), and the keys it was found through (`dropped` ones left out)."""
        name = posixpath.basename(image_path)
        if ("run", name) not in self.keys:
            self.keys[("run", name)] = sorted({index for index, text in self.run_texts if name in text})
        best, through = -1, []

        def consider(found: int, keys: list[tuple[str, str]]) -> None:
            nonlocal best, through
            if found > best:  # the stages above one stage: the nearest has the largest index
                best, through = found, list(keys)
            elif found == best >= 0:
                through += keys

        for key in (("any", ""), ("run", name), ("file", image_path)):
            consider(self._deepest(key, stage.index), [key])
        folder = image_path
        while True:  # the path itself and each folder above it
            consider(self._deepest(("below", folder), stage.index), [("below", folder)])
            conditional = self.conditional.get(folder, ())
            if len(conditional) <= self.FEW:
                for key in conditional:
                    if key not in dropped:
                        consider(self._deepest(key, stage.index), [key])
            else:
                consider(*self._deepest_live(folder, stage.index, dropped))
            cut = folder.rfind("/")
            if cut < 0 or folder == "/":
                break
            folder = folder[:cut] or "/"
        return best, through

    # Up to FEW conditional keys of one folder are looked up one by one, each dropped as a whole once it
    # fails; above that (many folders copied into one), the stages of all of them together are walked up
    # past those whose keys are all dropped: at worst each stage once per question, as a plain walk.
    FEW = 8

    def _deepest_live(self, folder: str, index: int,
                      dropped: set[tuple[str, str]]) -> tuple[int, list[tuple[str, str]]]:
        """The nearest stage above `index` (or it) filed under one of the folder's conditional keys that are
        not dropped, and those keys of it."""
        union = ("conditional", folder)
        if union not in self.keys:
            filed: dict[int, list[tuple[str, str]]] = {}
            for key in self.conditional[folder]:
                for member in self.keys[key]:
                    filed.setdefault(member, []).append(key)
            self.keys[union] = sorted(filed)
            self.filed[folder] = filed
        filed = self.filed[folder]
        enters, members, parents = self._prepared(union)
        i = self._position(enters, members, parents, index)
        while i >= 0:  # members[i] and its parents are all above `index`
            live = [key for key in filed[members[i]] if key not in dropped]
            if live:
                return members[i], live
            i = parents[i]
        return -1, []

    def _prepared(self, key: tuple[str, str]) -> tuple[list[int], list[int], list[int]]:
        prepared = self.prepared.get(key)
        if prepared is None:
            prepared = self.prepared[key] = self._prepare(self.keys.get(key, []))
        return prepared

    def _deepest(self, key: tuple[str, str], index: int) -> int:
        """The nearest stage filed under `key` among the stage `index` and the stages it is built FROM (-1)."""
        enters, members, parents = self._prepared(key)
        i = self._position(enters, members, parents, index)
        return members[i] if i >= 0 else -1

    def _position(self, enters: list[int], members: list[int], parents: list[int], index: int) -> int:
        """The position of the nearest of `members` among the stage `index` and its FROM-ancestors (-1)."""
        if not members:
            return -1
        stages = self.build.dockerfile.stages
        start, _ = self.build.descendants(stages[index])
        i = bisect_right(enters, start) - 1
        while i >= 0:
            if self.build.is_ancestor(stages[members[i]], stages[index]):
                return i
            i = parents[i]  # the member nearest above it: the one nearest above `index` is among those
        return -1

    def _prepare(self, members: list[int]) -> tuple[list[int], list[int], list[int]]:
        """The members in depth-first order, with their positions' nearest member above each (-1: none)."""
        stages = self.build.dockerfile.stages
        ordered = sorted(members, key=lambda index: self.build.enters(stages[index]))
        enters = [self.build.enters(stages[index]) for index in ordered]
        parents: list[int] = []
        open_: list[int] = []  # positions whose stage tree holds the current member
        for position, index in enumerate(ordered):
            while open_ and not self.build.is_ancestor(stages[ordered[open_[-1]]], stages[index]):
                open_.pop()
            parents.append(open_[-1] if open_ else -1)
            open_.append(position)
        return enters, ordered, parents


def _creates_files(py: PyCommand | None) -> bool:
    return py is not None and py.action in ("lock", "export", "compile", "pip compile")


def _copy_words(instruction: Instruction) -> tuple[list[str], str | None]:
    """The source words and the destination of a COPY/ADD (heredoc sources left out)."""
    if instruction.json_args is not None:
        words = list(instruction.json_args)
    else:
        words = [w for w in re.split(r"[ \t]+", instruction.args.strip()) if w]
    if len(words) < 2:
        return [], None
    sources = [w for w in words[:-1] if not w.startswith("<<")]
    return sources, words[-1]


def shell_words(instruction: Instruction) -> str:
    """An instruction's text for messages: the joined line, shortened."""
    text = " ".join(instruction.original.split())
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass
class Found:
    """Accumulates hits without duplicates (one per line and message)."""

    seen: set[tuple[int, str]] = field(default_factory=set)

    def first(self, line: int, key: str) -> bool:
        if (line, key) in self.seen:
            return False
        self.seen.add((line, key))
        return True
