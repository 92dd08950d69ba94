"""ED1xx: Dockerfiles. How a Python image should be built: pinned base images (ED101/ED102), layer order,
caches, editable installs, lockfiles, pins, build tools, the build context, CUDA and PyTorch, and where
packages are installed (ED103-ED112)."""

from __future__ import annotations

import re
from bisect import bisect_left
from fnmatch import fnmatchcase
from typing import Iterator

from envdoctor.findings import Hit, Severity
from envdoctor.fixes import Fix, fix, insert, replace_range
from envdoctor.registry import Context, Rule
from envdoctor.rules._dockerbuild import Build, CopyStep, RunCommand, RunStep, Source, build_of, shell_words
from envdoctor.rules._pyinstall import PyCommand, is_truthy, requirement_is_pinned
from envdoctor.sources.dockerfile import Dockerfile, Stage, expand
from envdoctor.sources.dockerignore import DockerIgnore, clean_path
from envdoctor.sources.images import ImageRef, ImageUse, image_uses
from envdoctor.sources.shell import SimpleCommand, unwrap


def _allowed(use: ImageUse, context: Context) -> bool:
    ref = use.resolved
    patterns = context.config.docker.allowed_images
    return ref is not None and any(fnmatchcase(ref.name, p) or fnmatchcase(str(ref), p) for p in patterns)


def _what(use: ImageUse) -> str:
    return "Base image" if use.how == "FROM" else f"Image used by {use.how}"


def _line(use: ImageUse) -> int:
    offset = use.instruction.args.find(use.written)
    if offset >= 0:
        return use.instruction.line_of(offset)
    offset = use.instruction.original.find(use.written)  # in a flag: `COPY --from=...`, `RUN --mount=...`
    return use.instruction.line_of_original(offset) if offset >= 0 else use.instruction.start_line


def _checked_uses(dockerfile: Dockerfile, context: Context) -> Iterator[ImageUse]:
    for use in image_uses(dockerfile):
        if use.resolved is not None and not _allowed(use, context):
            yield use


class BaseImageLatest(Rule):
    code = "ED101"
    name = "base-image-latest"
    severity = Severity.ERROR
    target = "dockerfile"
    summary = "An image is used with the `latest` tag or with no tag at all."

    def check(self, dockerfile: Dockerfile, context: Context) -> Iterator[Hit]:
        for use in _checked_uses(dockerfile, context):
            ref = use.resolved
            assert ref is not None
            if ref.pinned or (ref.tag is not None and ref.tag != "latest"):
                continue
            shown = f"'{ref}'" if ref.tag else f"'{ref}' has no tag, so it means '{ref.name}:latest' and"
            yield Hit(
                f"{_what(use)} {shown} floats: every build may get a different image, Python and "
                f"system libraries.",
                line=_line(use),
                fix_hint=f"Pin a version tag and its digest, e.g. {ref.name}:<version>@sha256:<digest>.",
            )


def _digest_fix(use: ImageUse, context: Context, rel: str | None) -> Fix | None:
    """`python:3.12-slim` -> `python:3.12-slim@sha256:...` from the user's `--digest-map` (never fetched)."""
    from envdoctor.rules._fixing import dockerfile_args_span

    digests = context.config.digest_map
    ref = use.resolved
    if not digests or ref is None or "$" in use.written:
        return None
    digest = digests.get(use.written) or digests.get(str(ref))
    if digest is None and ref.name.startswith("docker.io/"):
        short = ref.name.removeprefix("docker.io/").removeprefix("library/")
        digest = digests.get(f"{short}:{ref.tag}")
    if digest is None or rel is None:
        return None
    lines = context.project.source_lines(rel)
    if use.how == "FROM":
        args = use.instruction.args
        offset = args.find(use.written)
        if offset < 0 or args.find(use.written, offset + 1) >= 0:
            return None
        span = dockerfile_args_span(lines, use.instruction, offset, len(use.written))
    else:  # `COPY --from=<image>`, `RUN --mount=...,from=<image>`: the image is in a flag
        span = _flag_image_span(lines, use)
    if span is None:
        return None
    from envdoctor.rules._fixing import insert_after

    return fix(f"Pin {use.written} to {digest[:19]}... (from the digest map)", insert_after(rel, span, f"@{digest}"))


def _flag_image_span(lines: list[str] | None, use: ImageUse) -> tuple[int, int, int] | None:
    """The physical place of the image a `--from=` / `--mount=...,from=` flag names, when it is written
    once in the instruction, bare (not quoted), on one line; else None (no fix is guessed at)."""
    instruction = use.instruction
    if lines is None or instruction.inner is not None or not instruction._segment_starts:
        return None
    original, written = instruction.original, use.written
    if original.count(written) != 1:
        return None
    flags_text = original[:instruction._args_offset]
    lead = r"(?:^|[\t ])--from=" if use.how == "COPY --from" else r"(?:=|,)from="
    found = [m for m in re.finditer(lead + re.escape(written) + r"(?=$|[\t ,])", flags_text)]
    if len(found) != 1:
        return None
    from envdoctor.rules._fixing import dockerfile_span

    return dockerfile_span(lines, instruction, found[0].end() - len(written), len(written))


class BaseImageTagOnly(Rule):
    code = "ED102"
    name = "base-image-tag-only"
    severity = Severity.WARNING
    target = "dockerfile"
    summary = "An image is pinned by a tag but not by its `@sha256:` digest."
    fix_safety = "safe"  # only from the digests the user gives with --digest-map: envdoctor never asks a registry

    def check(self, dockerfile: Dockerfile, context: Context) -> Iterator[Hit]:
        rel = build_of(dockerfile, context).rel if context.config.digest_map else None
        for use in _checked_uses(dockerfile, context):
            ref = use.resolved
            assert ref is not None
            if ref.pinned or ref.tag is None or ref.tag == "latest":
                continue
            yield Hit(
                f"{_what(use)} '{ref}' is pinned by tag only: the tag can be moved to another image, "
                f"so two builds of this file may differ.",
                line=_line(use),
                fix_hint=(f"Add the digest: {ref}@sha256:<digest> (`docker buildx imagetools inspect {ref}` "
                          f"shows it); let Renovate or Dependabot keep it current."),
                fix=_digest_fix(use, context, rel),
            )


# --- ED103-ED112: how a Python image is built ---------------------------------------------------------
# They share one model of the build (rules/_dockerbuild.py: stages, context, .dockerignore, steps) and one
# recogniser of installer commands (rules/_pyinstall.py). Precision first: whatever depends on a value
# only known at build time (a build argument without a default, `cd $DIR`) is not guessed at.


def _quote(command: SimpleCommand | PyCommand, limit: int = 70) -> str:
    words = (command.command if isinstance(command, PyCommand) else command).argv
    text = " ".join(words)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _set(env: dict[str, str | None], name: str) -> bool:
    """The variable is set, or declared with a value not known without the build (then: assume set)."""
    return name in env and (env[name] is None or env[name] != "")


def _truthy_or_unknown(env: dict[str, str | None], name: str) -> bool:
    return name in env and (env[name] is None or is_truthy(env[name]))


def _stage_label(stage: Stage) -> str:
    return f"stage '{stage.name}'" if stage.name else f"stage {stage.index}"


_CLEANUP_WORDS = ("cache", "pypoetry", "pkgs", "conda", "mamba")


def _later_cleanups(commands: tuple[RunCommand, ...]) -> list[frozenset[str]]:
    """For each command of a RUN, the cache clean-ups the commands after it in that RUN do (`pip cache`,
    `uv cache clean`, `poetry cache`, `conda clean`, and `rm <word>` for an `rm` of a path that mentions
    one of _CLEANUP_WORDS). One pass from the end: a RUN of thousands of commands stays linear."""
    out: list[frozenset[str]] = [frozenset()] * len(commands)
    seen: frozenset[str] = frozenset()
    for i in range(len(commands) - 1, -1, -1):
        out[i] = seen
        item = commands[i]
        marks = set()
        py = item.py
        if py is not None and (py.tool in ("pip", "poetry") and py.action.startswith("cache")
                               or (py.tool, py.action) in (("uv", "cache clean"), ("conda", "clean"))):
            marks.add(f"{py.tool} cache" if py.tool in ("pip", "poetry") else f"{py.tool} {py.action}")
        argv = unwrap(item.command).argv
        if argv and argv[0] in ("rm", "/bin/rm"):
            marks.update(f"rm {w}" for w in _CLEANUP_WORDS if any(w in a.lower() for a in argv[1:]))
        if not marks <= seen:
            seen = seen | marks
    return out


# -- what counts as a dependency install, and the manifests it reads --

_LOCAL_ARCHIVE = (".whl", ".tar.gz", ".zip", ".tgz")


def _local_project(word: str) -> bool:
    """`.`, `./pkg`, `/app`, `.[extra]`: a project folder, not a package name or a wheel."""
    base = word.split("[", 1)[0]
    return (base in (".", "./") or base.startswith(("./", "/", "../"))) and not base.endswith(_LOCAL_ARCHIVE) \
        and "*" not in base


def _dependency_install(py: PyCommand | None) -> str | None:
    """The manifest(s) a dependency install reads, or None when this is not one."""
    if py is None or not py.installs:
        return None
    if py.tool == "pip" or (py.tool == "uv" and py.action in ("pip install", "pip sync")):
        if py.has("no-deps", "no-index"):
            return None
        requirements = py.values("requirement")
        if py.action == "pip sync":
            return py.positionals[0] if py.positionals else "requirements.txt"
        if requirements:
            return requirements[0]
        if py.values("editable") or any(_local_project(p) for p in py.positionals):
            return "pyproject.toml"
        return None
    if py.tool == "uv":
        return "pyproject.toml and uv.lock" if py.action == "sync" else None
    if py.tool == "poetry":
        return "pyproject.toml and poetry.lock"
    if py.tool == "pdm":
        return "pyproject.toml and pdm.lock"
    if py.tool == "pipenv":
        return "Pipfile and Pipfile.lock"
    if py.tool == "conda":
        files = py.values("file")
        if py.action in ("env create", "env update"):
            return files[0] if files else "environment.yml"
        return files[0] if files else None
    return None


_MANIFEST_FOLDERS = re.compile(r"(^|/)(requirements?|reqs?|deps|dependencies)(\.d)?$", re.IGNORECASE)
_MANIFEST_FILE = re.compile(r"(requirements|constraints)[^/]*\.(txt|in)$|\.(txt|in|lock|toml|ya?ml|cfg)$|Pipfile",
                            re.IGNORECASE)


def _source_copy(build: Build, step: CopyStep) -> str | None:
    """What of the source tree a COPY/ADD brings in: the whole context or a source folder (None: neither).
    Memoised per step: the rules ask again for each stage built FROM the step's stage."""
    memo = build.memo.setdefault("source_copy", {})
    key = id(step)
    if key not in memo:
        memo[key] = _what_source_copy(build, step)
    return memo[key]


def _local_dependencies(build: Build) -> list[str]:
    """The folders (relative to the context) of the local projects that the project at the context root
    depends on: `[tool.uv.sources]` paths, uv workspace members, Poetry `path =` dependencies and PEP 508
    `name @ file:///${PROJECT_ROOT}/...` (PDM). A dependency install (`uv sync --no-install-project`,
    `poetry install --no-root`, `pdm install --no-self`) needs them. Read from the context root's
    pyproject.toml itself, not from the project model (sources/projects.py), which a parallel scan builds in
    the other process (parallel.py): every Dockerfile with a COPY of a folder asks this."""
    memo = build.memo.setdefault("local_dependencies", {})
    if "folders" in memo:
        return memo["folders"]
    from envdoctor.sources.projects import workspace_includes
    from envdoctor.sources.pyproject import parse_pyproject

    found: list[str] = []
    memo["folders"] = found

    def add(path: str) -> None:
        if "$" in path or "://" in path:
            return
        rel = clean_path(path.removeprefix("./"))
        if rel not in (".", "") and not rel.startswith(("..", "/")) and rel not in found:
            found.append(rel)

    rel_pyproject = build.path("pyproject.toml")
    if build.project.path_type(rel_pyproject) != "file":
        return found
    pyproject = build.project.parsed("pyproject", rel_pyproject, parse_pyproject)
    if pyproject is None:
        return found
    sources = pyproject.tool("uv").get("sources")
    for entry in sources.values() if isinstance(sources, dict) else ():
        for one in entry if isinstance(entry, list) else [entry]:
            if isinstance(one, dict) and isinstance(one.get("path"), str):
                add(one["path"])
    root = rel_pyproject.rpartition("/")[0]
    for other in build.project.files("pyproject"):  # uv workspace members below the root
        folder = other.rpartition("/")[0]
        relative = folder if not root else folder[len(root) + 1:] if folder.startswith(root + "/") else ""
        if relative and workspace_includes(pyproject, relative):
            add(relative)
    for table in _poetry_tables(pyproject):
        for spec in table.values():
            for one in spec if isinstance(spec, list) else [spec]:
                if isinstance(one, dict) and isinstance(one.get("path"), str):
                    add(one["path"])
    project = pyproject.project
    texts = list(project.get("dependencies") or []) if isinstance(project.get("dependencies"), list) else []
    for table in (project.get("optional-dependencies"), pyproject.data.get("dependency-groups")):
        for values in table.values() if isinstance(table, dict) else ():
            texts += values if isinstance(values, list) else []
    for text in texts:
        url = text.partition("@")[2].strip() if isinstance(text, str) else ""
        path = url.removeprefix("file://").removeprefix("file:")
        for prefix in ("/${PROJECT_ROOT}/", "${PROJECT_ROOT}/"):
            if url.startswith("file:") and path.startswith(prefix):
                add(path[len(prefix):].split(";")[0].strip())
    return found


def _poetry_tables(pyproject, *, dev: bool = True, groups: bool = True) -> list[dict]:
    """Poetry's dependency tables in a pyproject, those that are tables: [tool.poetry.dependencies], then
    (unless told not to) the legacy [tool.poetry.dev-dependencies] and each group's dependencies. Keys as
    written: each caller normalises names its own way."""
    poetry = pyproject.tool("poetry")
    tables = [poetry.get("dependencies")] + ([poetry.get("dev-dependencies")] if dev else [])
    body = poetry.get("group")
    if groups and isinstance(body, dict):
        tables += [g.get("dependencies") for g in body.values() if isinstance(g, dict)]
    return [t for t in tables if isinstance(t, dict)]


def _dependency_folder(build: Build, rel: str) -> bool:
    """A COPY of this folder brings in local dependencies, not the project's own source: it is one of them,
    inside one, or holds some and (as far as git tracks it) nothing else."""
    folders = _local_dependencies(build)
    if not folders:
        return False
    if any(rel == f or rel.startswith(f + "/") for f in folders):
        return True
    inside = [f for f in folders if f.startswith(rel + "/")]
    if not inside:
        return False
    git = build.project.git
    tracked = git.tracked_under(build.path(rel)) if git.available else []
    prefixes = [build.path(f) + "/" for f in inside]
    return all(any(t.startswith(p) for p in prefixes) or _not_code(t) for t in tracked)


def _not_code(rel: str) -> bool:
    """A file beside local dependencies that no install reads: documentation and repository metadata
    (`libs/README.md`, `libs/.gitkeep`, `libs/CODEOWNERS`)."""
    name = rel.rpartition("/")[2]
    return (name.lower().endswith((".md", ".rst", ".txt")) and not name.lower().startswith("requirements")) or \
        name.split(".")[0].upper() in ("README", "LICENSE", "LICENCE", "CODEOWNERS", "NOTICE", "AUTHORS") or \
        name in (".gitkeep", ".keep", ".gitignore", ".gitattributes")


def _what_source_copy(build: Build, step: CopyStep) -> str | None:
    if not step.from_context:
        return None
    for source in step.sources:
        if source.whole_context:
            return "the whole build context"
        if source.rel is None or source.wildcard or build.kind(source.rel) != "dir":
            continue
        if _MANIFEST_FOLDERS.search(source.rel) or _dependency_folder(build, source.rel):
            continue
        tracked = build.project.git.tracked_under(build.path(source.rel)) if build.project.git.available else []
        if tracked and all(_MANIFEST_FILE.search(t) for t in tracked):
            continue
        return f"the folder '{source.rel}'"
    return None


_COPY_FIRST_HINT = {
    "poetry": "COPY pyproject.toml poetry.lock first, `RUN poetry install --no-root`, then COPY the source.",
    "pdm": "COPY pyproject.toml pdm.lock first, `RUN pdm install --no-self`, then COPY the source.",
}


def _copy_first_advice(py: PyCommand, manifest: str) -> tuple[str, str]:
    """ED103's advice (for the message) and fix hint, for the installer used."""
    if py.tool in ("pip", "uv") and py.action in ("install", "pip install") and not py.values("requirement"):
        # `pip install .`: pip cannot install the dependencies of a pyproject.toml alone
        pip = "uv pip" if py.tool == "uv" else "pip"
        return ("install them from a lock first",
                f"Export a lock of the dependencies (`uv export --no-emit-project`, `pip-compile`), COPY it and "
                f"`{pip} install -r` it, then COPY the source and `{pip} install --no-deps .`.")
    if py.tool == "uv" and py.action == "sync":
        locked = "--frozen" if py.has("frozen") else "--locked"
        return (f"copy {manifest} alone and install from it first",
                f"COPY pyproject.toml uv.lock first, `RUN uv sync {locked} --no-install-project`, then COPY the "
                f"source and `uv sync {locked}`.")
    return (f"copy {manifest} alone and install from it first",
            _COPY_FIRST_HINT.get(py.tool, f"COPY {manifest.split(' and ')[0]} alone, install from it, then COPY "
                                          f"the rest of the source."))


def _uv_manifests(build: Build, py: PyCommand) -> list[str] | None:
    """What `uv sync --no-install-project` needs before the source: pyproject.toml, uv.lock and, when
    there is one, .python-version (which picks the interpreter). None for a workspace or path sources,
    whose other members would be missing."""
    from envdoctor.sources.pyproject import parse_pyproject

    if py.has("no-install-project", "no-install-workspace", "only-group", "only-dev", "directory", "project",
              "script", "package", "all-packages"):
        return None
    pyproject = build.project.parsed("pyproject", build.path("pyproject.toml"), parse_pyproject) \
        if build.project.path_type(build.path("pyproject.toml")) == "file" else None
    if pyproject is None:
        return None
    uv = pyproject.tool("uv")
    sources = uv.get("sources")
    if "workspace" in uv or (isinstance(sources, dict) and any(
            not isinstance(entry, dict) or "path" in entry or "workspace" in entry for entry in sources.values())):
        return None
    return ["pyproject.toml", "uv.lock"] + [".python-version"] * _in_context(build, ".python-version")


def _poetry_manifests(build: Build, py: PyCommand) -> list[str] | None:
    """pyproject.toml, poetry.lock and the readme it declares; None when a dependency is a local path."""
    from envdoctor.sources.pyproject import parse_pyproject

    if py.action != "install" or py.has("no-root", "no-directory", "only-root", "directory", "project", "sync"):
        return None
    pyproject = build.project.parsed("pyproject", build.path("pyproject.toml"), parse_pyproject) \
        if build.project.path_type(build.path("pyproject.toml")) == "file" else None
    if pyproject is None:
        return None
    poetry = pyproject.tool("poetry")
    tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
    groups = poetry.get("group")
    if isinstance(groups, dict):
        tables += [g.get("dependencies") for g in groups.values() if isinstance(g, dict)]
    for table in tables:
        if isinstance(table, dict) and any(isinstance(v, dict) and "path" in v or isinstance(v, list)
                                           for v in table.values()):
            return None
    readme = poetry.get("readme", pyproject.project.get("readme"))
    extra = [readme] if isinstance(readme, str) and "/" not in readme and _in_context(build, readme) else []
    return ["pyproject.toml", "poetry.lock", *extra]


def _pip_manifests(build: Build, step: RunStep, command: RunCommand) -> list[str] | None:
    """The requirements files of `pip install -r FILE` when they are all the install reads: plain named
    requirements, no includes, no editable or local lines, all in one folder."""
    py = command.py
    assert py is not None
    files = py.values("requirement")
    if not files or py.positionals or py.values("editable", "constraint") or py.has("no-index", "find-links"):
        return None
    for name in files:
        found = _requirements_file(build, step, command, name)
        if found is None or found[1] is None:
            return None
        parsed = found[1]
        if parsed.includes or any(o.option in ("-e", "--editable", "-f", "--find-links") for o in parsed.options):
            return None
        if any(r.editable or r.requirement is None or r.requirement.url for r in parsed.requirements):
            return None
    return [clean_path(f) for f in files]


def _in_context(build: Build, rel: str) -> bool:
    return build.kind(rel) == "file" and not build.ignored(rel)


def _split_copy_fix(build: Build, copy_step: CopyStep, step: RunStep, command: RunCommand) -> Fix | None:
    """`COPY . .` + `RUN <install>` -> copy the manifests, install the dependencies, copy the source,
    install the project (uv, Poetry; for pip the RUN moves above the source copy). Offered only when the
    RUN directly follows the COPY, is that one install, and the install runs where the COPY put the files."""
    from envdoctor.rules._fixing import dockerfile_word

    py = command.py
    rel = build.rel
    copy, run = copy_step.instruction, step.instruction
    if py is None or rel is None or copy_step.stage is not step.stage:
        return None
    stage_instructions = list(step.stage.instructions)
    if copy not in stage_instructions or run not in stage_instructions \
            or stage_instructions.index(run) != stage_instructions.index(copy) + 1:
        return None
    if copy.start_line != copy.end_line or copy.heredocs or copy.json_args is not None or copy.inner is not None \
            or any(f.name in ("from", "parents", "exclude") for f in copy.flags):
        return None
    if [s.written for s in copy_step.sources] not in (["."], ["./"]) or copy_step.dest is None \
            or copy_step.dest != command.cwd or "$" in copy.args:
        return None
    if run.heredocs or run.json_args is not None or run.inner is not None or len(step.commands) != 1:
        return None
    if py.tool == "uv" and py.action == "sync":
        manifests, flag = _uv_manifests(build, py), " --no-install-project"
    elif py.tool == "poetry":
        manifests, flag = _poetry_manifests(build, py), " --no-root"
    elif py.tool == "pip" and py.action == "install" or py.tool == "uv" and py.action == "pip install":
        manifests, flag = _pip_manifests(build, step, command), None
    else:
        return None
    if not manifests or not all(_in_context(build, m) for m in manifests):
        return None
    folders = {m.rpartition("/")[0] for m in manifests}
    if len(folders) != 1 or any(m.startswith(("/", "../")) or "$" in m or " " in m for m in manifests):
        return None
    lines = build.project.source_lines(rel)
    if lines is None or run.end_line > len(lines):
        return None
    # The manifest COPY: the source copy's own line (indentation, keyword, flags such as --chown), with the
    # manifests as sources, into the same destination (a folder: `./`, `/app/`, `./requirements/`).
    physical = lines[copy.start_line - 1]
    args_column = physical.rfind(copy.args)
    if args_column < 0 or physical[args_column:].rstrip() != copy.args:
        return None
    dest_written = copy.args.split()[-1]
    (folder,) = folders
    dest = dest_written.rstrip("/") + "/" + (folder + "/" if folder else "")
    manifest_copy = physical[:args_column] + " ".join(manifests) + " " + dest
    # The dependency install: the RUN's own lines, with the flag after the sub-command word.
    run_lines = lines[run.start_line - 1:run.end_line]
    if flag:
        from envdoctor.rules._fixing import action_index

        index = action_index(py)
        span = dockerfile_word(lines, run, py.command, index) if index is not None else None
        if span is None:
            return None
        line, _, end = span
        offset = line - run.start_line
        run_lines[offset] = run_lines[offset][:end - 1] + flag + run_lines[offset][end - 1:]
    inserted = insert(rel, copy.start_line, 1, manifest_copy + "\n" + "".join(f"{x}\n" for x in run_lines))
    edits = [inserted]
    if flag is None:  # pip: the install moves above the source copy
        if run.end_line < len(lines):
            edits.append(replace_range(rel, run.start_line, 1, run.end_line + 1, 1, ""))
        else:
            edits.append(replace_range(rel, run.start_line, 1, run.end_line, len(lines[-1]) + 1, ""))
    return fix(f"Copy {' and '.join(manifests)} and install the dependencies before the source", *edits)


_NOTHING_YET: tuple[tuple[CopyStep, str] | None, bool] = (None, False)


def _after_chain(build: Build, stage: Stage | None) -> tuple[tuple[CopyStep, str] | None, bool]:
    """ED103's state after all the steps of `stage` and of the stages it is built FROM, as a stage built
    FROM it starts with: the first COPY of source (and what it copies), and whether a dependency install
    came before it. Memoised per stage, so that each step of a chain of stages is looked at once."""
    memo: dict[int, tuple[tuple[CopyStep, str] | None, bool]] = build.memo.setdefault("ed103", {})
    pending = []
    while stage is not None and stage.index not in memo:
        pending.append(stage)
        stage = build.base(stage)
    state = memo[stage.index] if stage is not None else _NOTHING_YET
    for item in reversed(pending):
        copied, installed_before = state
        for step in build.own_steps(item):
            if copied is not None:
                break  # nothing changes once the source is in
            if isinstance(step, CopyStep):
                what = _source_copy(build, step)
                if what is not None:
                    copied = (step, what)
            elif any(_dependency_install(command.py) is not None for command in step.commands):
                installed_before = True
        state = memo[item.index] = (copied, installed_before)
    return state


class DepsAfterSourceCopy(Rule):
    code = "ED103"
    name = "deps-after-source-copy"
    severity = Severity.WARNING
    target = "dockerfile"
    summary = "Dependencies are installed after the source tree is copied, so every code edit reinstalls them."
    fix_safety = "unsafe"  # reorders the build: the dependency install runs without the source

    def check(self, dockerfile: Dockerfile, context: Context) -> Iterator[Hit]:
        build = build_of(dockerfile, context)
        for stage in dockerfile.stages:
            if not build.is_relevant(stage):
                continue
            # what the stages it is built FROM did (their own installs are reported in their own pass)
            copied, installed_before = _after_chain(build, build.base(stage))
            for step in build.own_steps(stage):
                if isinstance(step, CopyStep):
                    what = _source_copy(build, step)
                    if what is not None and copied is None:
                        copied = (step, what)
                    continue
                for command in step.commands:
                    manifest = _dependency_install(command.py)
                    if manifest is None:
                        continue
                    if copied is None:
                        installed_before = True
                        continue
                    if installed_before or step.stage is not stage:
                        continue
                    installed_before = True  # the first install after the copy is the one to move
                    copy_step, what = copied
                    py = command.py
                    assert py is not None
                    advice, hint = _copy_first_advice(py, manifest)
                    yield Hit(
                        f"'{_quote(py)}' runs after COPY of {what} (line "
                        f"{copy_step.instruction.start_line}): every source edit re-installs all dependencies; "
                        f"{advice}.",
                        line=command.command.line,
                        fix_hint=hint,
                        fix=_split_copy_fix(build, copy_step, step, command),
                    )


# -- ED104 --

def _cache_mounted(targets: list[str], env: dict[str, str | None], names: tuple[str, ...],
                   variables: tuple[str, ...]) -> bool:
    for target in targets:
        lowered = target.lower()
        if lowered.endswith("/.cache") or any(n in lowered for n in names):
            return True
        if any(env.get(v) and target.rstrip("/") == str(env.get(v)).rstrip("/") for v in variables):
            return True
    return False


def _user_at(build: Build, step: RunStep) -> tuple[str, int] | None:
    """The USER a RUN runs as (its name or uid part, and the line of that USER), when the last USER before it
    in its stage or up its FROM-chain names one that is not root; None when it is root, there is none, or
    the value is not known (a build argument without a value)."""
    found: tuple[str | None, int] | None = None
    for stage in build.chain(step.stage):
        for instruction in stage.instructions:
            if instruction is step.instruction:
                break
            if instruction.keyword == "USER":
                value = expand(instruction.args.strip(), build.dockerfile.stage_scope(stage, instruction),
                               build.escape)
                found = (value.partition(":")[0].strip() if value else None, instruction.start_line)
    if found is None or not found[0] or found[0] in ("root", "0") or any(c.isspace() for c in found[0]):
        return None
    return found[0], found[1]


def _home_made(build: Build, step: RunStep, user: str) -> bool:
    """A RUN before `step` (its stage or up its FROM-chain) creates the user with a home folder:
    `useradd -m`/`--create-home`, or `adduser` without --system/-S/--no-create-home/-H (Debian's adduser and
    BusyBox's make one). `user` is a name, or a uid given with -u/--uid."""
    for stage in build.chain(step.stage):
        for earlier in build.own_steps(stage):
            if earlier is step:
                return False
            if not isinstance(earlier, RunStep):
                continue
            for command in earlier.commands:
                argv = unwrap(command.command).argv
                if not argv or argv[0].rsplit("/", 1)[-1] not in ("useradd", "adduser"):
                    continue
                words = argv[1:]
                named = user in words and not user.isdigit() or user.isdigit() and any(
                    (w in ("-u", "--uid") and i + 1 < len(words) and words[i + 1] == user)
                    or w in (f"--uid={user}", f"-u{user}") for i, w in enumerate(words))
                if not named:
                    continue
                if argv[0].endswith("useradd"):
                    if any(w in ("-m", "--create-home") or w.startswith("-") and not w.startswith("--")
                           and "m" in w[1:] and w[1:].isalpha() for w in words) \
                            and not any(w in ("-M", "--no-create-home") for w in words):
                        return True
                elif not any(w in ("--system", "-S", "--no-create-home", "-H") for w in words):
                    return True
    return False


# The variables that set each tool's cache folder (XDG_CACHE_HOME moves ~/.cache itself).
_CACHE_VARIABLES = {"pip": ("PIP_CACHE_DIR", "XDG_CACHE_HOME"), "uv": ("UV_CACHE_DIR", "XDG_CACHE_HOME"),
                    "poetry": ("POETRY_CACHE_DIR", "XDG_CACHE_HOME")}


def _mounts_for_another_user(build: Build, step: RunStep, py: PyCommand, env: dict[str, str | None],
                             targets: list[str]) -> tuple[list[str], tuple[str, int, str] | None]:
    """The cache mount targets that hold the tool's cache when this RUN runs, and, when mounts under /root
    were dropped because the RUN runs as another user (whose home holds the cache): that user, the line of
    its USER and the mount.
    Only when that user is created with a home here, and HOME and the tool's cache folder are not set."""
    under_root = [t for t in targets if t == "/root" or t.startswith("/root/")]
    variables = _CACHE_VARIABLES.get(py.tool)
    if not under_root or variables is None or "HOME" in env or any(v in env for v in variables) \
            or py.has("cache-dir") or py.sudo:  # sudo runs it as root (HOME=/root), or as a user not known here
        return targets, None
    user = _user_at(build, step)
    if user is None or not _home_made(build, step, user[0]):
        return targets, None
    return [t for t in targets if t not in under_root], (user[0], user[1], under_root[0])


def _flag_fix(build: Build, step: RunStep, py: PyCommand, flag: str) -> Fix | None:
    """Insert ` flag` right after the sub-command word (`pip install` -> `pip install --no-cache-dir`)."""
    from envdoctor.rules._fixing import action_index, dockerfile_word, insert_after

    index = action_index(py)
    if build.rel is None or index is None:
        return None
    span = dockerfile_word(build.project.source_lines(build.rel), step.instruction, py.command, index)
    return fix(f"Add {flag}", insert_after(build.rel, span, f" {flag}")) if span else None


class PackageCacheInLayer(Rule):
    code = "ED104"
    name = "package-cache-in-layer"
    severity = Severity.WARNING
    target = "dockerfile"
    summary = "pip, uv, poetry or conda leave their download cache in the shipped image layer."
    fix_safety = "safe"  # pip: --no-cache-dir, uv: --no-cache; what is installed does not change

    def check(self, dockerfile: Dockerfile, context: Context) -> Iterator[Hit]:
        build = build_of(dockerfile, context)
        cleanups_of: RunStep | None = None
        cleanups: list[frozenset[str]] = []
        position = 0
        for step, command in build.commands(build.shipped):
            if step is not cleanups_of:  # the commands of one RUN come in order
                cleanups_of, cleanups, position = step, _later_cleanups(step.commands), 0
            later = cleanups[position] if position < len(cleanups) else frozenset()
            position += 1
            py = command.py
            if py is None or not py.installs:
                continue
            env = command.env
            targets, wrong_user = _mounts_for_another_user(build, step, py, env, step.cache_mount_targets(env))
            problem = None
            if py.tool == "pip":
                if not (py.has("no-cache-dir", "no-index", "cache-dir") or _set(env, "PIP_NO_CACHE_DIR")
                        or _cache_mounted(targets, env, ("pip",), ("PIP_CACHE_DIR", "XDG_CACHE_HOME"))
                        or "pip cache" in later or "rm cache" in later):
                    problem = ("pip's download and wheel cache (~/.cache/pip)",
                               "Add --no-cache-dir (or ENV PIP_NO_CACHE_DIR=1), or use "
                               "RUN --mount=type=cache,target=/root/.cache/pip.")
            elif py.tool == "uv":
                if not (py.has("no-cache", "cache-dir") or _truthy_or_unknown(env, "UV_NO_CACHE")
                        or _cache_mounted(targets, env, ("uv",), ("UV_CACHE_DIR", "XDG_CACHE_HOME"))
                        or "uv cache clean" in later or "rm cache" in later):
                    problem = ("uv's cache (~/.cache/uv)",
                               "Use RUN --mount=type=cache,target=/root/.cache/uv (with UV_LINK_MODE=copy), "
                               "or pass --no-cache / set UV_NO_CACHE=1.")
            elif py.tool == "poetry":
                if not (py.has("no-cache", "only-root")  # --only-root installs the project alone: no downloads
                        or _cache_mounted(targets, env, ("pypoetry", "poetry"), ("POETRY_CACHE_DIR",))
                        or "poetry cache" in later or later & {"rm cache", "rm pypoetry"}):
                    problem = ("Poetry's cache (~/.cache/pypoetry)",
                               "Use RUN --mount=type=cache,target=/root/.cache/pypoetry, or remove "
                               "$POETRY_CACHE_DIR in the same RUN.")
            elif py.tool == "conda":
                if not ("conda clean" in later
                        or _cache_mounted(targets, env, ("pkgs", "conda", "mamba"), ())
                        or later & {"rm pkgs", "rm conda", "rm mamba"}):
                    problem = ("the conda package cache (pkgs/)",
                               "End the same RUN with `conda clean --all --yes` (or `micromamba clean --all "
                               "--yes`).")
            if problem is None:
                continue
            what, hint = problem
            flag = {"pip": "--no-cache-dir", "uv": "--no-cache"}.get(py.tool)
            message = (f"'{_quote(py)}' leaves {what} in this image layer: it ships in the image and no later "
                       f"RUN can make the image smaller again.")
            if wrong_user is not None:
                user, line, mounted = wrong_user
                message = (f"'{_quote(py)}' runs as user '{user}' (USER, line {line}), so {what} is in that user's "
                           f"home, not in the cache mount on {mounted}: it stays in this image layer and ships in "
                           f"the image.")
                variable = _CACHE_VARIABLES[py.tool][0]
                hint = (f"Mount the cache on this user's cache folder (in its home, with uid= of the user), or set "
                        f"ENV {variable} to the mounted folder (made writable with uid=)"
                        + (f", or add {flag}." if flag else "."))
            yield Hit(
                message,
                line=command.command.line, fix_hint=hint,
                fix=_flag_fix(build, step, py, flag) if flag else None,
            )


# -- ED105 --

_SYSTEM_DIRS = ("/usr/local", "/usr/lib/python3", "/usr/lib64/python3", "/opt/conda")


def _env_dirs(py: PyCommand, command: RunCommand) -> list[str]:
    """Where an install puts the packages: venv folders, `--target`/`--prefix`, or the system's."""
    env, cwd = command.env, command.cwd
    def absolute(path: str) -> str | None:
        if "$" in path:
            return None
        if path.startswith("/"):
            return clean_path(path)
        return clean_path(f"{cwd}/{path}") if cwd else None
    found: list[str | None] = []
    if py.tool in ("pip", "uv") and py.action != "sync":
        places = py.values("target", "prefix", "root")
        if places:
            return [d for d in (absolute(p) for p in places) if d]
        if py.has("user") or is_truthy(env.get("PIP_USER")):
            return ["/root/.local", "/home"]
        executable = py.executable
        if py.tool == "uv":
            python = py.values("python")
            executable = python[0] if python else ""
            if py.has("system") or is_truthy(env.get("UV_SYSTEM_PYTHON")):
                return list(_SYSTEM_DIRS)
        if "/bin/" in executable and not executable.startswith(("/usr/bin/", "/usr/local/bin/", "/bin/")):
            found.append(absolute(executable.split("/bin/", 1)[0] or "/"))
        elif env.get("VIRTUAL_ENV"):
            found.append(absolute(str(env["VIRTUAL_ENV"])))
        elif py.tool == "uv":
            found.append(absolute(".venv"))
        else:
            return list(_SYSTEM_DIRS) + ["/root/.local"]
    elif py.tool == "uv":
        target = env.get("UV_PROJECT_ENVIRONMENT")
        found.append(absolute(target) if target else absolute(".venv"))
    elif py.tool == "poetry":
        if is_truthy(env.get("POETRY_VIRTUALENVS_IN_PROJECT")):
            found.append(absolute(".venv"))
        elif (env.get("POETRY_VIRTUALENVS_CREATE") or "").lower() in ("false", "0", "no", "off"):
            return list(_SYSTEM_DIRS)
        else:
            found.append(absolute(env.get("POETRY_VIRTUALENVS_PATH") or
                                  f"{env.get('POETRY_CACHE_DIR') or '/root/.cache/pypoetry'}/virtualenvs"))
    elif py.tool == "pdm":
        found.append(absolute(".venv"))
    return [d for d in found if d]


def _shipped_copies_from(build: Build) -> tuple[list[int], list[tuple[int, CopyStep]]]:
    """The shipped stages' own COPY --from=<stage> steps, sorted by where their source stage enters the
    stage tree (`Build.is_ancestor`), so that the copies from a stage or from any stage built FROM it are
    found by bisection: (sorted keys, (file order, step) for each)."""
    memo = build.memo.setdefault("shipped_copies", {})
    if not memo:
        found = []
        for shipped in build.dockerfile.stages:
            if build.is_shipped(shipped):
                for step in build.own_steps(shipped):
                    if isinstance(step, CopyStep) and step.from_stage is not None:
                        found.append((build.enters(step.from_stage), len(found), step))
        found.sort(key=lambda item: (item[0], item[1]))
        memo["keys"] = [item[0] for item in found]
        memo["steps"] = [(order, step) for _, order, step in found]
    return memo["keys"], memo["steps"]


def _copied_into_shipped(build: Build, stage: Stage, dirs: list[str]) -> CopyStep | None:
    """A COPY --from in a shipped stage that takes one of `dirs` (or a folder holding it) from `stage` (or
    from a stage built FROM it); the first in file order."""
    if not dirs:
        return None
    keys, steps = _shipped_copies_from(build)
    start, end = build.descendants(stage)
    # the copies from `stage` or from a stage built FROM it (`stage in chain(step.from_stage)`), in file order
    candidates = sorted(steps[bisect_left(keys, start):bisect_left(keys, end)], key=lambda item: item[0])
    for _, step in candidates:
        for source in step.sources:
            if source.rel is None:
                continue
            path = "/" + source.rel.split("*", 1)[0].rsplit("/", 1)[0] if source.wildcard else "/" + source.rel
            path = clean_path(path)
            for folder in dirs:
                system = folder in _SYSTEM_DIRS
                if system and not ("site-packages" in path or "dist-packages" in path
                                   or path in ("/", "/usr", "/usr/local", "/usr/local/lib", folder)):
                    continue
                if path == "/" or path == folder or folder.startswith(path + "/") or path.startswith(folder + "/"):
                    return step
    return None


def _packaged(pyproject, tool: str) -> bool | None:
    """Whether the tool installs the project itself (not only its dependencies); None if unknown."""
    if pyproject is None:
        return None
    data = pyproject.data
    has_build_system = isinstance(data.get("build-system"), dict)
    if tool == "uv":
        package = pyproject.tool("uv").get("package")
        return package if isinstance(package, bool) else has_build_system
    if tool == "poetry":
        return pyproject.tool("poetry").get("package-mode", True) is not False
    if tool == "pdm":
        distribution = pyproject.tool("pdm").get("distribution")
        return distribution if isinstance(distribution, bool) else has_build_system
    return None


def _requirements_file(build: Build, step: RunStep, command: RunCommand, name: str):
    """The requirements file `-r name` reads, parsed, when it is found in the repository; else None."""
    from envdoctor.sources.requirements import parse_requirements

    if "$" in name or command.cwd is None and not name.startswith("/"):
        return None
    image_path = name if name.startswith("/") else f"{command.cwd}/{name}"
    found = build.locate(step.stage, step, image_path)
    if not found.present or found.rel is None:
        return None
    return found.rel, build.project.parsed("requirements", build.path(found.rel), parse_requirements)


def _editable(build: Build, step: RunStep, command: RunCommand) -> str | None:
    """Why this command installs something editable, or None."""
    py = command.py
    if py is None or not py.installs:
        return None
    env = command.env
    if py.tool == "pip" or (py.tool == "uv" and py.action == "pip install"):
        if py.tool == "uv" and (py.has("no-editable") or _truthy_or_unknown(env, "UV_NO_EDITABLE")):
            return None  # uv pip install --no-editable installs every editable (a `-e` line too) as a wheel
        editable = py.values("editable")
        if editable:
            return f"installs '{editable[0]}' in editable (development) mode"
        for name in py.values("requirement"):
            found = _requirements_file(build, step, command, name)
            if found and found[1] is not None:
                rel, parsed = found
                lines = [r for r in parsed.requirements if r.editable]
                if lines:
                    return f"installs '{lines[0].text}' from {rel} (line {lines[0].line}) in editable mode"
        return None
    if py.tool == "uv" and py.action == "sync":
        if py.has("no-editable", "no-install-project", "no-install-workspace", "only-group", "only-dev",
                  "no-install-local") or _truthy_or_unknown(env, "UV_NO_EDITABLE"):
            return None
        if _packaged(build.context_pyproject(step.stage, step, command.cwd), "uv"):
            return "installs the project editable (uv sync's default)"
        return None
    if py.tool == "poetry":
        if py.has("no-root", "no-directory"):
            return None
        if _packaged(build.context_pyproject(step.stage, step, command.cwd), "poetry"):
            return "installs the project in development (editable) mode, as Poetry does unless --no-root"
        return None
    if py.tool == "pdm":
        if py.has("no-editable", "no-self") or _set(env, "PDM_NO_EDITABLE") or _set(env, "PDM_NO_SELF"):
            return None
        if _packaged(build.context_pyproject(step.stage, step, command.cwd), "pdm"):
            return "installs the project editable (pdm's default)"
    return None


_EDITABLE_HINT = {
    "poetry": "Install dependencies with `poetry install --no-root`, then build and install the project as a wheel.",
    "pdm": "Use `pdm install --prod --no-editable` (or `pdm sync --no-editable`).",
}


def _editable_hint(py: PyCommand) -> str:
    """Advice for the command actually used."""
    if py.tool == "uv" and py.action == "pip install":
        if py.values("requirement") and not py.values("editable"):
            return ("Add --no-editable (`uv pip install --no-editable -r ...`), or write the file without the "
                    "editable line: `uv export --no-editable` (or `--no-emit-project`, then install the project "
                    "from a wheel).")
        return "Install the project non-editable: `uv pip install .` (or --no-editable), or a wheel built in a " \
               "builder stage."
    if py.tool == "uv":
        frozen = "--frozen" if py.has("frozen") else "--locked"
        return f"Use `uv sync {frozen} --no-editable` (or ENV UV_NO_EDITABLE=1) for the image."
    if py.tool == "pip" and py.values("requirement") and not py.values("editable"):
        return ("Drop the `-e` of that line (an export with `uv export --no-editable` or `--no-emit-project` "
                "writes none), or install the project from a wheel built in a builder stage.")
    return _EDITABLE_HINT.get(py.tool, "Install the project non-editable: `pip install .` or a wheel built in a "
                                       "builder stage.")


def _drop_editable(build: Build, step: RunStep, command: RunCommand) -> Fix | None:
    """`pip install -e .` -> `pip install .`: the one `-e`/`--editable` of a local project is removed."""
    from envdoctor.rules._fixing import dockerfile_word

    py = command.py
    assert py is not None and build.rel is not None
    if len(py.values("editable")) != 1 or not _local_project(py.values("editable")[0]):
        return None
    for name in py.values("requirement"):  # an editable line of a requirements file would remain
        found = _requirements_file(build, step, command, name)
        if found is None or found[1] is None or any(r.editable for r in found[1].requirements):
            return None
    words, raw = py.command.argv, py.command.raw_words
    lines = build.project.source_lines(build.rel)
    for index, word in enumerate(words[1:], start=1):
        if index >= len(raw) or raw[index] != word:
            continue
        if word in ("-e", "--editable") and index + 1 < len(words):
            first = dockerfile_word(lines, step.instruction, py.command, index)
            value = dockerfile_word(lines, step.instruction, py.command, index + 1)
            if first is None or value is None or first[0] != value[0]:
                return None
            edit = replace_range(build.rel, first[0], first[1], value[0], value[1], "")
        elif word.startswith("--editable=") or (word.startswith("-e") and not word.startswith("--")
                                                 and len(word) > 2):
            span = dockerfile_word(lines, step.instruction, py.command, index)
            if span is None:
                return None
            value = word.split("=", 1)[1] if word.startswith("--") else word[2:].removeprefix("=")
            edit = replace_range(build.rel, span[0], span[1], span[0], span[2], value)
        else:
            continue
        return fix("Install the project non-editable (drop -e)", edit)
    return None


class EditableInstallInImage(Rule):
    code = "ED105"
    name = "editable-install-in-image"
    severity = Severity.ERROR
    target = "dockerfile"
    summary = "An editable (development-mode) install of the project reaches the shipped image."
    # `uv sync --no-editable`; `pip install -e .` -> `pip install .` in the shipped stages. Unsafe (needs
    # --unsafe-fixes): the image then runs the installed package, not the source tree, and a data file the
    # build backend does not pack (templates, migrations beside the code) is missing at run time; a uv fix
    # before the source is in the image would also fail the build.
    fix_safety = "unsafe"

    @staticmethod
    def _fix(build: Build, step: RunStep, command: RunCommand) -> Fix | None:
        py = command.py
        assert py is not None
        if build.rel is None:
            return None
        if py.tool == "uv" and py.action == "sync":
            return _flag_fix(build, step, py, "--no-editable")
        if (py.tool == "pip" and py.action == "install" or py.tool == "uv" and py.action == "pip install") \
                and build.is_shipped(step.stage):
            return _drop_editable(build, step, command)
        return None

    def check(self, dockerfile: Dockerfile, context: Context) -> Iterator[Hit]:
        build = build_of(dockerfile, context)
        if build.for_development:
            return  # a development image installs the project editable on purpose
        for step, command in build.commands():
            why = _editable(build, step, command)
            if why is None:
                continue
            py = command.py
            assert py is not None
            where = ""
            if not build.is_shipped(step.stage):
                copy = _copied_into_shipped(build, step.stage, _env_dirs(py, command))
                if copy is None:
                    continue
                where = (f" in {_stage_label(step.stage)}, whose environment the final image copies (line "
                         f"{copy.instruction.start_line}),")
            yield Hit(
                f"'{_quote(py)}'{where} {why}: the image then runs the code through a link to a source folder, "
                f"not an installed package.",
                line=command.command.line,
                fix_hint=_editable_hint(py),
                fix=self._fix(build, step, command),
            )


# -- ED106 --

def _unpinned_requirement(build: Build, rel: str, parsed, depth: int = 0):
    """(file, first unpinned requirement line), None when every requirement is pinned, or "unknown"."""
    from envdoctor.sources.requirements import parse_requirements

    if parsed is None or depth > 5:
        return "unknown"
    if any(o.option in ("-c", "--constraint") for o in parsed.options):
        return "unknown"  # a constraints file may pin what the requirements leave open
    for line in parsed.requirements:
        if line.name is not None and not line.pinned:
            return rel, line
    for include in parsed.includes:
        if not include.value or "$" in include.value:
            return "unknown"
        folder = rel.rpartition("/")[0]
        child = clean_path(f"{folder}/{include.value}" if folder else include.value)
        if build.project.path_type(build.path(child)) != "file":
            return "unknown"
        result = _unpinned_requirement(build, child, build.project.parsed(
            "requirements", build.path(child), parse_requirements), depth + 1)
        if result is not None:
            return result
    if not parsed.requirements and not parsed.includes:
        return "unknown"
    return None


def _lock_missing(build: Build, step: RunStep, command: RunCommand, lockfile: str) -> bool:
    py = command.py
    assert py is not None
    folder = command.cwd
    for option in ("directory", "project"):
        values = py.values(option)
        if values:
            value = values[0]
            if "$" in value or (folder is None and not value.startswith("/")):
                return False
            folder = clean_path(value if value.startswith("/") else f"{folder}/{value}")
    if folder is None:
        return False
    if not build.locate(step.stage, step, f"{folder}/pyproject.toml").present:
        return False  # where the project comes from is not known
    return build.locate(step.stage, step, f"{folder}/{lockfile}").absent


# `pip install .` while the project's lock is committed and in the build context (red-team miss M1)

def _lock_step(py: PyCommand | None) -> bool:
    """A command that installs a lock, or writes one to install (an export or a compile). Any `-r` file
    counts: it may be an export of the lock (not guessed at)."""
    if py is None:
        return False
    if py.action in ("export", "compile", "pip compile"):
        return True
    if py.tool in ("uv", "poetry", "pdm", "pipenv") and py.action in ("sync", "install", "pip sync"):
        return True
    if py.tool == "pip" and py.action in ("install", "wheel", "download") \
            or py.tool == "uv" and py.action == "pip install":
        return bool(py.values("requirement"))
    return False


def _lock_steps(build: Build) -> tuple[dict[int, int], dict[int, bool]]:
    """Per stage: the position of its first own step that installs or exports a lock (a COPY --from a
    stage that did counts), and whether one did by the end of the stage or up its FROM-chain. One pass in
    stage order (a base or a copied stage always comes earlier)."""
    memo = build.memo.setdefault("lock_steps", {})
    if "first" not in memo:
        first: dict[int, int] = {}
        at_end: dict[int, bool] = {}
        for stage in build.dockerfile.stages:
            for position, step in enumerate(build.own_steps(stage)):
                if isinstance(step, RunStep) and any(_lock_step(c.py) for c in step.commands) \
                        or isinstance(step, CopyStep) and step.from_stage is not None \
                        and at_end.get(step.from_stage.index, False):
                    first[stage.index] = position
                    break
            base = build.base(stage)
            at_end[stage.index] = stage.index in first or (base is not None and at_end.get(base.index, False))
        memo["first"], memo["at_end"] = first, at_end
    return memo["first"], memo["at_end"]


def _lock_installed_before(build: Build, step: RunStep, command: RunCommand) -> bool:
    """An install or export of a lock ran before `command`: earlier in its RUN, its stage or the stages
    the stage is built FROM."""
    first, at_end = _lock_steps(build)
    base = build.base(step.stage)
    if base is not None and at_end.get(base.index, False):
        return True
    positions = build.memo.setdefault("lock_step_positions", {})
    if step.stage.index not in positions:
        positions[step.stage.index] = {id(item): i for i, item in enumerate(build.own_steps(step.stage))}
    position = positions[step.stage.index].get(id(step))
    if position is None or first.get(step.stage.index, position + 1) < position:
        return True
    for earlier in step.commands:
        if earlier is command:
            return False
        if _lock_step(earlier.py):
            return True
    return True


_LOCK_NAMES = (("uv.lock", "uv"), ("poetry.lock", "poetry"), ("pdm.lock", "pdm"))


def _declared_dependencies(pyproject, extras: list[str]) -> list[str] | None:
    """The project's declared dependencies (PEP 621, or Poetry's main group) and those of the extras asked
    for, as written; None when they are dynamic (not known statically). Read from the pyproject itself,
    not from the project model (sources/projects.py), which a parallel scan builds in the other process."""
    from packaging.utils import canonicalize_name

    table = pyproject.project
    dynamic = table.get("dynamic")
    if isinstance(dynamic, list) and "dependencies" in dynamic:
        return None
    dependencies = table.get("dependencies")
    out = [d for d in dependencies if isinstance(d, str)] if isinstance(dependencies, list) else []
    optional = table.get("optional-dependencies")
    if isinstance(optional, dict):
        wanted = {canonicalize_name(e) for e in extras}
        for extra, values in optional.items():
            if canonicalize_name(str(extra)) in wanted and isinstance(values, list):
                out += [d for d in values if isinstance(d, str)]
    for poetry in _poetry_tables(pyproject, dev=False, groups=False):
        out += [f"{name} {spec}" if isinstance(spec, str) else name for name, spec in poetry.items()
                if isinstance(name, str) and name.lower() != "python"]
    return out


def _committed_lock_in_context(build: Build, folder: str, copied_by: CopyStep | None,
                               names: set[str]) -> tuple[str, str] | None:
    """The committed lock of the project in repository folder `folder`, beside its pyproject.toml (uv.lock,
    poetry.lock, pdm.lock, or a hash-pinned requirements lock), that is in the build context, not left out
    by .dockerignore or by the --exclude of the COPY that brought the project in, and that records one of
    the project's dependencies (`names`): (its kind, its path relative to the context), or None."""
    from envdoctor.sources.lockfiles import parse_lockfile, read_requirements_lock
    from envdoctor.sources.projects import owner_folder

    project, git = build.project, build.project.git
    if not git.available or not build.ignore_known:
        return None
    prefix = "" if build.context in (".", "") else clean_path(build.context) + "/"
    candidates = [(_join_rel(folder, name), kind) for name, kind in _LOCK_NAMES]
    candidates += [(rel, "requirements") for rel in project.files("requirements")
                   if rel.endswith(".txt") and owner_folder(rel) == folder]
    for path, kind in candidates:
        if not path.startswith(prefix) or not git.tracked(path) or project.path_type(path) != "file":
            continue
        rel = path[len(prefix):]
        if build.ignored(rel):
            continue
        if copied_by is not None and copied_by.excluding:
            parts = rel.split("/")
            if copied_by.exclude is None or any(copied_by.exclude.excludes("/".join(parts[i:]))
                                                for i in range(len(parts))):
                continue  # the COPY leaves the lock out on purpose (or may: a pattern not known)
        if kind == "requirements":
            view = project.parsed("requirements-lock", path, read_requirements_lock)
            if view is None or not (view.hashed and view.fully_pinned):
                continue
        else:
            view = project.parsed("lockfile", path, parse_lockfile)
        if view is not None and names & set(view.locked()):
            return kind, rel
    return None


def _lock_advice(kind: str, rel: str, py: PyCommand) -> str:
    pip = "uv pip" if py.tool == "uv" else "pip"
    then = f"then `{pip} install --no-deps .`"
    if kind == "uv":
        return (f"COPY uv.lock in and use `uv sync --locked --no-editable`; or export it (`uv export --no-emit-project "
                f"--format requirements.txt -o requirements.txt`), `{pip} install --require-hashes -r "
                f"requirements.txt`, {then}.")
    if kind == "poetry":
        return (f"Export the lock (`poetry export -f requirements.txt -o requirements.txt`), `{pip} install "
                f"--require-hashes -r requirements.txt`, {then}; or `poetry install --only main` with poetry.lock.")
    if kind == "pdm":
        return (f"Export the lock (`pdm export --prod -o requirements.txt`), `{pip} install --require-hashes -r "
                f"requirements.txt`, {then}; or `pdm install --prod` with pdm.lock.")
    return f"COPY {rel} in, `{pip} install --require-hashes -r {rel.rpartition('/')[2]}`, {then}."


def _project_install_ignoring_lock(build: Build, step: RunStep, command: RunCommand) -> Hit | None:
    """`pip install .` / `pip install -e .` / `uv pip install .` resolving the project's dependency ranges
    afresh while its committed lock is in the build context."""
    from envdoctor.sources.pep508 import requirement_name
    from envdoctor.sources.pyproject import parse_pyproject

    py = command.py
    assert py is not None
    env = command.env
    if py.action not in ("install", "pip install") or py.values("requirement") or py.has("no-deps", "no-index"):
        return None
    if _truthy_or_unknown(env, "PIP_NO_DEPS") or _set(env, "PIP_NO_INDEX") or _set(env, "UV_NO_INDEX"):
        return None
    words = [w for w in (*py.values("editable"), *py.positionals) if _local_project(w)]
    if len(words) != 1 or "$" in words[0] or (command.cwd is None and not words[0].startswith("/")):
        return None
    if _lock_installed_before(build, step, command):
        return None
    word = words[0]
    path = word.split("[", 1)[0]
    extras = [e.strip() for e in word.partition("[")[2].rstrip("]").split(",") if e.strip()]
    folder = path if path.startswith("/") else f"{command.cwd}/{path}"
    found = build.locate(step.stage, step, f"{folder}/pyproject.toml")
    if not found.present or found.rel is None:
        return None
    pyproject_path = build.path(found.rel)
    pyproject = build.project.parsed("pyproject", pyproject_path, parse_pyproject)
    declared = [d for d in (_declared_dependencies(pyproject, extras) if pyproject is not None else None) or ()
                if requirement_name(d)]
    if not declared:
        return None  # nothing to resolve, or not known
    copied_by = found.step if isinstance(found.step, CopyStep) else None
    locked = _committed_lock_in_context(build, pyproject_path.rpartition("/")[0] or ".", copied_by,
                                        {n for n in map(requirement_name, declared) if n})
    if locked is None:
        return None
    kind, rel = locked
    return Hit(f"'{_quote(py)}' resolves the project's dependency ranges (e.g. '{declared[0]}') afresh at build "
               f"time, while its lock {rel} is committed and in the build context: the image does not get the "
               f"versions the lock records.",
               line=command.command.line,
               fix_hint=_lock_advice(kind, rel, py))


class ImageIgnoresLockfile(Rule):
    code = "ED106"
    name = "image-ignores-lockfile"
    severity = Severity.ERROR
    target = "dockerfile"
    summary = "The image resolves its dependencies at build time instead of installing the lockfile."
    fix_safety = "safe"  # `uv sync --locked`, only where uv.lock is known to be in the image

    @staticmethod
    def _locked_fix(build: Build, step: RunStep, command: RunCommand) -> Fix | None:
        py = command.py
        assert py is not None
        if command.cwd is None or py.has("directory", "project", "script"):
            return None
        if not build.locate(step.stage, step, f"{command.cwd}/uv.lock").present:
            return None  # without uv.lock in the image, --locked would fail the build
        return _flag_fix(build, step, py, "--locked")

    def check(self, dockerfile: Dockerfile, context: Context) -> Iterator[Hit]:
        build = build_of(dockerfile, context)
        for step, command in build.commands():
            py = command.py
            if py is None or not py.installs:
                continue
            env = command.env
            quoted = _quote(py)
            if py.tool == "uv" and py.action == "sync":
                if py.has("frozen", "locked") or _truthy_or_unknown(env, "UV_FROZEN") \
                        or _truthy_or_unknown(env, "UV_LOCKED"):
                    continue
                yield Hit(f"'{quoted}' without --locked or --frozen may resolve again and install versions that "
                          f"differ from uv.lock.",
                          line=command.command.line,
                          fix_hint="Use `uv sync --locked` (fails when uv.lock is stale) or set ENV UV_LOCKED=1.",
                          fix=self._locked_fix(build, step, command))
            elif py.tool in ("poetry", "pdm") and py.action in ("install", "sync"):
                lockfile = "poetry.lock" if py.tool == "poetry" else (py.values("lockfile") or ["pdm.lock"])[0]
                if "$" in lockfile or not _lock_missing(build, step, command, lockfile):
                    continue
                yield Hit(f"'{quoted}' runs with no {lockfile} copied into the image before it, so {py.tool} "
                          f"resolves the dependencies anew at build time.",
                          line=command.command.line,
                          fix_hint=f"COPY pyproject.toml {lockfile} before `{py.tool} install` (and keep "
                                   f"{lockfile} out of .dockerignore).")
            elif py.tool == "pip" or (py.tool == "uv" and py.action in ("pip install", "pip sync")):
                if py.has("constraint") or _set(env, "PIP_CONSTRAINT") or _set(env, "UV_CONSTRAINT"):
                    continue
                project_hit = _project_install_ignoring_lock(build, step, command)
                if project_hit is not None:
                    yield project_hit
                names = py.values("requirement") + (list(py.positionals) if py.action == "pip sync" else [])
                for name in names:
                    if py.tool == "uv" and name.rsplit("/", 1)[-1] in ("pyproject.toml", "setup.cfg", "setup.py"):
                        yield Hit(f"'{quoted}' resolves the dependencies declared in {name} at build time "
                                  f"instead of installing a lock.",
                                  line=command.command.line,
                                  fix_hint="Use `uv sync --locked` with uv.lock, or install a pinned export "
                                           "(`uv export --format requirements.txt`).")
                        continue
                    found = _requirements_file(build, step, command, name)
                    if not found or found[1] is None:
                        continue
                    result = _unpinned_requirement(build, found[0], found[1])
                    if result is None or result == "unknown":
                        continue
                    rel, line = result
                    yield Hit(f"'{quoted}' installs {name}, which is not a lock: '{line.text}' ({rel} line "
                              f"{line.line}) is not pinned to one version, so each build may resolve differently.",
                              line=command.command.line,
                              fix_hint="Install a fully pinned, hashed lock (`uv export`, `pip-compile "
                                       "--generate-hashes`), or keep this file as the input of one.")


# -- ED107 --

def _unpinned_names(py: PyCommand) -> list[str]:
    out = []
    for word in py.positionals:
        if py.action in ("tool install",) or py.tool == "pipx":
            if "@" in word and not word.startswith(("git+", "http")):
                name, _, version = word.partition("@")
                if version and version != "latest" and "/" not in version:
                    continue
                word = name
        if requirement_is_pinned(word) is False:
            out.append(word)
    return out


def _pin_uv_fix(build: Build, step: RunStep, py: PyCommand, names: list[str]) -> Fix | None:
    """`pip install uv` -> `pip install uv==X.Y.Z`, X.Y.Z being the uv this project uses (read statically:
    an exact `required-version`, or the `uv` key of .venv/pyvenv.cfg). Only when uv is all that floats."""
    from envdoctor.rules._fixing import action_index, dockerfile_word, insert_after, local_uv_version, word_index

    if names != ["uv"] or build.rel is None:
        return None
    known = local_uv_version(build.project, build.context)
    start = action_index(py)
    if known is None or start is None:
        return None
    index = word_index(py.command, "uv", start)
    span = dockerfile_word(build.project.source_lines(build.rel), step.instruction, py.command, index) \
        if index is not None else None
    version, source = known
    return fix(f"Pin uv to {version} ({source})", insert_after(build.rel, span, f"=={version}")) if span else None


class UnpinnedPackageInstall(Rule):
    code = "ED107"
    name = "unpinned-package-install"
    severity = Severity.WARNING
    target = "dockerfile"
    summary = "A package is installed by name without an exact version (`pip install uv`)."
    fix_safety = "unsafe"  # pins uv to the version in use locally: the image may get an older or newer uv

    def check(self, dockerfile: Dockerfile, context: Context) -> Iterator[Hit]:
        build = build_of(dockerfile, context)
        for step, command in build.commands():
            py = command.py
            if py is None:
                continue
            if not ((py.tool == "pip" and py.action == "install")
                    or (py.tool == "uv" and py.action in ("pip install", "tool install"))
                    or (py.tool == "pipx" and py.action == "install")):
                continue
            if py.has("no-index", "constraint") or _set(command.env, "PIP_CONSTRAINT") \
                    or _set(command.env, "UV_CONSTRAINT") or _set(command.env, "PIP_NO_INDEX"):
                continue
            names = _unpinned_names(py)
            if not names:
                continue
            listed = ", ".join(f"'{n}'" for n in names[:4]) + (" ..." if len(names) > 4 else "")
            example = re.split(r"[\[<>=!~;@ ]", names[0], maxsplit=1)[0]
            yield Hit(
                f"'{_quote(py)}' installs {listed} without an exact version: each build may get a different "
                f"release.",
                line=command.command.line,
                fix_hint=f"Pin it ({example}==X.Y.Z), or install it from the lock; for uv, copy the binary from "
                         f"a digest-pinned ghcr.io/astral-sh/uv image.",
                fix=_pin_uv_fix(build, step, py, names),
            )


# -- ED108 --

_BUILD_PACKAGE = re.compile(
    r"^(build-essential|build-base|alpine-sdk|gcc|g\+\+|gcc-c\+\+|gcc-\d+|g\+\+-\d+|cpp-\d+|clang|clang-\d+"
    r"|gfortran|gfortran-\d+|rustc|cargo|rust|rustup|linux-headers(-.*)?|kernel-headers|.+-dev|.+-devel)$"
)
_SYSTEM_INSTALL = {
    "apt-get": ("install", ("purge", "remove", "autoremove")),
    "apt": ("install", ("purge", "remove", "autoremove")),
    "aptitude": ("install", ("purge", "remove")),
    "apk": ("add", ("del",)),
    "yum": ("install", ("remove", "erase")),
    "dnf": ("install", ("remove", "erase")),
    "microdnf": ("install", ("remove",)),
    "tdnf": ("install", ("remove", "erase")),
    "zypper": ("install", ("remove", "rm")),
}
_VALUE_OPTIONS = {"-t", "--virtual", "-X", "--repository", "-o", "--option", "-c", "--config", "--setopt",
                  "--repo", "--enablerepo", "--disablerepo", "--releasever", "--installroot", "-R", "--root"}


def _package_words(argv: tuple[str, ...]) -> tuple[str | None, list[str], str | None]:
    """(action, package names, apk virtual name) of a system package-manager command."""
    action, packages, virtual = None, [], None
    index = 1
    while index < len(argv):
        word = argv[index]
        index += 1
        if word.startswith("-"):
            name = word.split("=", 1)[0]
            if name in _VALUE_OPTIONS and "=" not in word and index < len(argv):
                if name in ("-t", "--virtual"):
                    virtual = argv[index]
                index += 1
            elif name in ("-t", "--virtual") and "=" in word:
                virtual = word.split("=", 1)[1]
            continue
        if action is None:
            action = word
            continue
        packages.append(re.split(r"[=:<>]", word, maxsplit=1)[0] if not word.startswith("$") else word)
    return action, packages, virtual


def _base_image(build: Build, stage: Stage | None) -> ImageRef | None:
    """The image the stage's FROM-chain starts on (its first ancestor's FROM, build arguments expanded with
    their global defaults); None when there is no stage or the image is not known. ED108, ED111, ED112."""
    chain = build.chain(stage)
    image = expand(chain[0].image, build.dockerfile.global_scope(), build.escape) if chain else None
    return ImageRef.parse(image) if image else None


# What Triton (and so torch.compile) needs at run time: a C compiler, the C library's headers and Python.h,
# to build its launcher the first time a kernel is compiled.
_RUNTIME_COMPILER = re.compile(
    r"^(build-essential|build-base|gcc|g\+\+|gcc-c\+\+|gcc-\d+|g\+\+-\d+|cpp|cpp-\d+|clang|clang-\d+"
    r"|libc6?-dev|musl-dev|glibc-devel|python3?(\.\d+)?-dev|libpython3(\.\d+)?-dev|python3?(\.?\d+)?-devel)$"
)
# PyTorch and Triton, and well-known packages that require torch, so that installing them installs it.
_COMPILES_AT_RUN_TIME = frozenset({
    "torch", "triton", "pytorch-triton", "torchvision", "torchaudio", "pytorch",
    "vllm", "sglang", "lightning", "pytorch-lightning", "accelerate", "xformers", "deepspeed", "flash-attn",
    "torchao", "torchmetrics", "sentence-transformers", "timm", "peft", "ultralytics", "kornia",
})


# Not pep508.requirement_name: a command-line word that is a path (`torch/`, `./torch`) must not read as a name.
def _requirement_name(word: str) -> str:
    return re.split(r"[\[<>=!~;@ ]", word.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _installs_torch(build: Build, step: RunStep, command: RunCommand) -> bool:
    """The command installs PyTorch or Triton (named, from a requirements file, or as a dependency of the
    project a uv/Poetry/PDM/pipenv install reads)."""
    py = command.py
    if py is None or not py.installs:
        return False
    if any(_requirement_name(w) in _COMPILES_AT_RUN_TIME for w in py.positionals):
        return True
    if py.tool in ("pip", "uv"):
        for name in py.values("requirement"):
            found = _requirements_file(build, step, command, name)
            if found and found[1] is not None and any(
                    (line.name or "").lower() in _COMPILES_AT_RUN_TIME for line in found[1].requirements):
                return True
    if py.tool in ("uv", "poetry", "pdm", "pipenv") and not (py.tool == "uv" and py.action != "sync"):
        from envdoctor.sources.projects import pep621_declarations

        pyproject = build.context_pyproject(step.stage, step, command.cwd)
        if pyproject is not None:
            names = {d.name for d in pep621_declarations(pyproject)}
            for table in _poetry_tables(pyproject):
                names.update(str(k).lower() for k in table)
            if names & _COMPILES_AT_RUN_TIME:
                return True
    return False


def _image_has_torch(build: Build) -> bool:
    """PyTorch or Triton is in the image: a stage the build needs installs it, or the final stage is built
    on a PyTorch image. Memoised per build."""
    memo = build.memo.setdefault("torch", {})
    if "found" not in memo:
        ref = _base_image(build, build.final)
        found = ref is not None and "pytorch" in ref.name.lower()
        found = found or any(_installs_torch(build, step, command) for step, command in build.commands())
        memo["found"] = found
    return memo["found"]


class BuildToolsInFinalImage(Rule):
    code = "ED108"
    name = "build-tools-in-final-image"
    severity = Severity.WARNING
    target = "dockerfile"
    summary = "The shipped image installs compilers or build headers that only building needs."

    def check(self, dockerfile: Dockerfile, context: Context) -> Iterator[Hit]:
        build = build_of(dockerfile, context)
        if build.for_development:
            return  # a development image needs its compilers
        steps: dict[int, RunStep] = {}
        for step, _command in build.commands(build.shipped):
            steps[id(step)] = step
        for step in steps.values():
            installed: list[tuple[RunCommand, list[str], str | None]] = []
            removed: set[str] = set()
            for command in step.commands:
                argv = unwrap(command.command).argv
                if not argv:
                    continue
                manager = argv[0].rsplit("/", 1)[-1]
                if manager == "rustup" or any("rustup" in w for w in argv[1:] if "://" in w):
                    installed.append((command, ["rustup (a Rust toolchain)"], None))
                    continue
                spec = _SYSTEM_INSTALL.get(manager)
                if spec is None:
                    continue
                action, packages, virtual = _package_words(argv)
                if action == spec[0]:
                    tools = [p for p in packages if _BUILD_PACKAGE.match(p)
                             and not (_RUNTIME_COMPILER.match(p) and _image_has_torch(build))]
                    if tools:
                        installed.append((command, tools, virtual))
                elif action in spec[1]:
                    removed.update(packages)
            for command, tools, virtual in installed:
                if virtual is not None and virtual in removed:
                    continue
                kept = [t for t in tools if t not in removed]
                if not kept:
                    continue
                listed = ", ".join(f"'{t}'" for t in kept[:5]) + (" ..." if len(kept) > 5 else "")
                where = "the final stage" if step.stage is build.final else _stage_label(step.stage) + \
                    ", on which the final stage is built,"
                yield Hit(
                    f"{listed} installed in {where} ships compilers or build headers in the image: larger, "
                    f"with more to patch, and they are only needed to build wheels.",
                    line=command.command.line,
                    fix_hint="Compile in a builder stage (build wheels or a venv there) and COPY --from it; "
                             "install only the runtime libraries (e.g. libpq5, not libpq-dev) in the final stage.",
                )


# -- ED109 --

# Tool caches that no image needs, added to .dockerignore with the environments by the ED109 fix.
_CONTEXT_CACHES = ("**/__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", ".nox")
_UNSAFE_PATTERN = re.compile(r"[*?\[\]\\\s]|^[!#]")


def _dockerignore_fix(build: Build, environments: list[str]) -> Fix | None:
    """Append the environments (and the caches not yet excluded) to the .dockerignore in force, or create
    one at the root of the build context. Nothing the Dockerfile copies by name is ever excluded."""
    from envdoctor.rules._fixing import appended_lines

    if build.rel is None or any(_UNSAFE_PATTERN.search(e) for e in environments):
        return None
    named = [source.rel for stage in build.dockerfile.stages for step in build._stage_steps(stage)
             if isinstance(step, CopyStep) and step.from_context for source in step.sources
             if source.rel is not None and not source.whole_context]
    def copied_by_name(pattern: str) -> bool:
        plain = pattern.removeprefix("**/")
        return any(n == plain or n.startswith(plain + "/") or n.endswith("/" + plain) or f"/{plain}/" in n
                   or plain.startswith(n.rstrip("/") + "/") for n in named if n)
    if any(copied_by_name(e) for e in environments):
        return None  # the Dockerfile copies it on purpose: excluding it would break that COPY
    caches = [c for c in _CONTEXT_CACHES if not build.ignored(c.removeprefix("**/")) and not copied_by_name(c)]
    new = ["# local environments and caches (envdoctor ED109)", *environments, *caches]
    if build.ignore is not None:
        path = build.ignore.path
        lines = build.project.source_lines(path)
        if lines is None:
            return None
    else:
        path = build.path(".dockerignore")
        if build.project.path_type(path) is not None or build.project.path_type(build.context) != "dir":
            return None
        lines = None
    return fix(f"Add {', '.join(environments)} to {path}", appended_lines(lines, new, path))


# What makes an environment: a copy without these leaves no usable environment in the image.
_ENVIRONMENT_PARTS = ("pyvenv.cfg", "bin", "lib")


def _environment_excluded(matcher: DockerIgnore, env: str) -> bool:
    """The patterns leave the environment out: the folder (and its pyvenv.cfg, so no exception brings the
    environment back), or its contents (`.venv/*`, `.venv/**`: Docker excludes a path when it or a parent
    matches, so pyvenv.cfg, bin/ and lib/ all excluded leave at most empty folders). `env` is relative to
    where the patterns apply; "." is that place itself (a COPY of the environment folder)."""
    inside = "" if env == "." else env + "/"
    if env != "." and matcher.excludes(env) and matcher.excludes(inside + "pyvenv.cfg"):
        return True
    return all(matcher.excludes(inside + part) for part in _ENVIRONMENT_PARTS)


def _copies_environment(step: CopyStep, source: Source, env: str) -> bool:
    """The COPY/ADD source brings in the environment `env` (relative to the context), its --exclude
    patterns considered (applied below the source, and, not to depend on that, from the context root)."""
    if source.whole_context:
        below = env
    elif source.rel is not None and not source.wildcard and env == source.rel:
        below = "."
    elif source.rel is not None and not source.wildcard and env.startswith(source.rel + "/"):
        below = env[len(source.rel) + 1:]
    else:
        return False
    if step.exclude is None:
        return True
    return not (_environment_excluded(step.exclude, below) or _environment_excluded(step.exclude, env))


def _join_rel(folder: str, name: str) -> str:
    return name if folder in (".", "") else f"{folder}/{name}"


class ContextLeaksVirtualenv(Rule):
    code = "ED109"
    name = "context-leaks-virtualenv"
    severity = Severity.WARNING
    target = "dockerfile"
    summary = "COPY of the whole context sends the host's virtual environment into the image."
    fix_safety = "safe"  # appends the environments and tool caches to .dockerignore (creating it)

    def check(self, dockerfile: Dockerfile, context: Context) -> Iterator[Hit]:
        build = build_of(dockerfile, context)
        if not build.ignore_known:
            return
        project = build.project
        prefix = "" if build.context in (".", "") else build.context + "/"
        present = [e[len(prefix):] for e in project.environments if e.startswith(prefix) or not prefix]
        candidates = list(present)
        if ".venv" not in present and project.path_type(build.path("pyproject.toml")) == "file":
            candidates.append(".venv")  # where uv, pdm and `python -m venv .venv` put it; absent only for now
        if not candidates:
            return
        found: list[tuple[CopyStep, list[str]]] = []
        for stage in dockerfile.stages:
            if not build.is_relevant(stage):
                continue
            for step in build.own_steps(stage):
                if not isinstance(step, CopyStep) or not step.from_context:
                    continue
                if not step.exclude_known:
                    continue  # an --exclude pattern not known may leave the environment out
                leaked = []
                for env in candidates:
                    copied = any(_copies_environment(step, s, env) for s in step.sources)
                    if copied and not (build.ignore is not None and _environment_excluded(build.ignore, env)):
                        leaked.append(env)
                if leaked:
                    found.append((step, leaked))
        everything = sorted({env for _, leaked in found for env in leaked})
        fixed = _dockerignore_fix(build, everything) if everything else None
        for step, leaked in found:
            which = ", ".join(f"'{e}'" + ("" if e in present else " (when created)") for e in leaked)
            yield Hit(
                f"'{shell_words(step.instruction)}' copies the virtual environment {which} from the build "
                f"context: {self._why(build)}, and a host environment is built for another interpreter and "
                f"platform.",
                line=step.instruction.start_line,
                fix_hint=self._hint(build, leaked),
                fix=fixed,
            )

    @staticmethod
    def _why(build: Build) -> str:
        if build.ignore is not None:
            return f"{build.ignore.path} does not exclude it"
        beside = _join_rel(build.folder, ".dockerignore")
        if build.folder != build.context and build.project.path_type(beside) == "file":
            root = "the repository root" if build.context in (".", "") else f"'{build.context}'"
            return (f"{beside} is not used, since Docker reads .dockerignore at the root of the build context "
                    f"({root}) or {build.rel}.dockerignore beside the Dockerfile")
        return "there is no .dockerignore"

    @staticmethod
    def _hint(build: Build, leaked: list[str]) -> str:
        target = build.ignore.path if build.ignore is not None else build.path(".dockerignore")
        patterns = list(dict.fromkeys(("**/" + e.rsplit("/", 1)[1]) if "/" in e else e for e in leaked))
        listed = " and ".join(f"`{p}`" for p in patterns)
        nested = [e for e in leaked if "/" in e and build.ignore is not None
                  and build.ignore.excludes(e.rsplit("/", 1)[1])]
        why = ""
        if nested:
            name = nested[0].rsplit("/", 1)[1]
            why = (f" (`{name}` alone matches only at the root of the build context, so '{nested[0]}' is "
                   f"still sent)")
        return f"Add {listed} to {target}{why}, and create the environment inside the image."


# -- ED110 --

def _context_note(build: Build) -> str:
    if build.context_from is not None:
        return f", as {build.context_from} sets it"
    if build.context == build.folder:
        return ", taken to be the Dockerfile's folder"
    return ", the folder above the Dockerfile that holds the other files it copies"


class CopyOfIgnoredFile(Rule):
    code = "ED110"
    name = "copy-of-ignored-file"
    severity = Severity.ERROR
    target = "dockerfile"
    summary = "COPY/ADD names a file that .dockerignore excludes or that is not in the repository."

    def check(self, dockerfile: Dockerfile, context: Context) -> Iterator[Hit]:
        build = build_of(dockerfile, context)
        for stage in dockerfile.stages:
            for step in build.own_steps(stage):
                if not isinstance(step, CopyStep) or not step.from_context:
                    continue
                for source in step.sources:
                    rel = source.rel
                    if rel is None or source.wildcard or rel == "." or rel.startswith("..") or "$" in source.written:
                        continue  # a build argument may name another file: not guessed at
                    offset = step.instruction.args.find(source.written)
                    line = step.instruction.line_of(offset) if offset >= 0 else step.instruction.start_line
                    kind = build.kind(rel)
                    if build.ignore is not None and build.ignore.excludes(rel):
                        if kind == "dir" and build.ignore.may_include_below(rel):
                            continue
                        pattern = build.ignore.deciding(rel)
                        assert pattern is not None
                        yield Hit(
                            f"'{source.written}' is excluded by {build.ignore.path} (line {pattern.line}: "
                            f"'{pattern}'), so it is not in the build context and this "
                            f"{step.instruction.keyword} fails.",
                            line=line,
                            fix_hint=f"Add `!{rel}` after line {pattern.line} of {build.ignore.path}, or drop "
                                     f"the pattern.",
                        )
                    elif kind is None and self._surely_missing(build, rel):
                        where = "the repository root" if build.context in (".", "") else f"'{build.context}'"
                        yield Hit(
                            f"'{source.written}' does not exist in the build context ({where}"
                            f"{_context_note(build)}), so this {step.instruction.keyword} fails.",
                            line=line,
                            fix_hint=f"Commit {build.path(rel)}, or correct the path in the {step.instruction.keyword}.",
                        )

    @staticmethod
    def _surely_missing(build: Build, rel: str) -> bool:
        """Missing, and not a generated file: git is there and neither tracks nor ignores it (nor a parent)."""
        git = build.project.git
        if not git.available:
            return False
        path = build.path(rel)
        parents = [path]
        while "/" in parents[-1]:
            parents.append(parents[-1].rsplit("/", 1)[0])
        return not git.ignored(parents) and not git.tracked_under(path) and not git.tracked(path)


# -- ED111 --

_CU_RE = re.compile(r"^cu(\d{2,3})$")
_WHL_INDEX = re.compile(r"/whl/(?:nightly/)?(cu\d{2,3}|cpu)(?:/|$)")
_TORCH_PACKAGES = ("torch", "torchvision", "torchaudio")


def _cuda_of_tag(flavour: str) -> tuple[int, int] | None:
    """'cu121' -> (12, 1); 'cu118' -> (11, 8); 'cu92' -> (9, 2)."""
    match = _CU_RE.match(flavour)
    if not match:
        return None
    digits = match.group(1)
    return int(digits[:-1]), int(digits[-1])


def _image_cuda(build: Build) -> tuple[tuple[int, int], str] | None:
    """The CUDA version of the image the final stage is built on, and that image."""
    ref = _base_image(build, build.final)
    if ref is None or ref.tag is None:
        return None
    name, tag = ref.name.lower(), ref.tag.lower()
    match = None
    if name.endswith("nvidia/cuda"):
        match = re.match(r"^(\d+)\.(\d+)", tag)
    if match is None:
        match = re.search(r"(?:^|[-_.])cuda[-_]?(\d+)\.(\d+)", tag)
    if match is not None:
        return (int(match.group(1)), int(match.group(2))), f"{ref.name}:{ref.tag}"
    match = re.search(r"(?:^|[-_.])(cu\d{2,3})(?:$|[-_.])", tag)
    if match is not None:
        version = _cuda_of_tag(match.group(1))
        if version:
            return version, f"{ref.name}:{ref.tag}"
    return None


def _flavour_from_urls(urls: list[str]) -> set[str]:
    return {m.group(1) for url in urls if (m := _WHL_INDEX.search(url))}


def _torch_builds(build: Build, step: RunStep, command: RunCommand) -> tuple[set[str], str] | None:
    """The PyTorch build flavours ('cu121', 'cpu') this command installs, and where that is said."""
    py = command.py
    if py is None or not py.installs:
        return None
    env = command.env
    if py.tool == "pip" or (py.tool == "uv" and py.action in ("pip install", "pip sync")):
        torch_named = False
        local: set[str] = set()
        for word in py.positionals:
            name = re.split(r"[\[<>=!~;@ ]", word, maxsplit=1)[0].lower()
            if name in _TORCH_PACKAGES:
                torch_named = True
                if "+" in word:
                    local.add(word.rsplit("+", 1)[1].strip().lower())
        urls = py.values("index-url", "extra-index-url", "find-links", "index", "default-index")
        urls += [str(env[v]) for v in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "UV_INDEX_URL",
                                       "UV_EXTRA_INDEX_URL", "UV_INDEX", "UV_DEFAULT_INDEX") if env.get(v)]
        for name in py.values("requirement"):
            found = _requirements_file(build, step, command, name)
            if not found or found[1] is None:
                continue
            for line in found[1].requirements:
                if line.name in _TORCH_PACKAGES:
                    torch_named = True
                    if line.requirement is not None and "+" in str(line.requirement.specifier):
                        local.add(str(line.requirement.specifier).rsplit("+", 1)[1].strip().lower())
            urls += [o.value for o in found[1].options
                     if o.value and o.option in ("-i", "--index-url", "--extra-index-url", "-f", "--find-links")]
        if not torch_named:
            return None
        backend = py.values("torch-backend") or ([str(env["UV_TORCH_BACKEND"])] if env.get("UV_TORCH_BACKEND") else [])
        flavours = {f for f in local if f == "cpu" or _CU_RE.match(f)}
        if flavours:
            return flavours, "its local version"
        flavours = {b.lower() for b in backend if b.lower() == "cpu" or _CU_RE.match(b.lower())}
        if flavours:
            return flavours, "--torch-backend"
        flavours = _flavour_from_urls(urls)
        return (flavours, "its package index") if flavours else None
    if py.tool == "uv" and py.action == "sync":
        return _uv_project_torch(build.context_pyproject(step.stage, step, command.cwd))
    return None


def _uv_project_torch(pyproject) -> tuple[set[str], str] | None:
    """PyTorch's build as `[tool.uv.sources]` and `[[tool.uv.index]]` of the project choose it for Linux."""
    if pyproject is None:
        return None
    uv = pyproject.tool("uv")
    indexes = uv.get("index")
    urls = {}
    if isinstance(indexes, list):
        for index in indexes:
            if isinstance(index, dict) and isinstance(index.get("name"), str) and isinstance(index.get("url"), str):
                urls[index["name"]] = index["url"]
    sources = uv.get("sources")
    if not isinstance(sources, dict):
        return None
    flavours: set[str] = set()
    for package in _TORCH_PACKAGES:
        entries = sources.get(package)
        entries = entries if isinstance(entries, list) else [entries] if isinstance(entries, dict) else []
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("index"), str):
                continue
            marker = str(entry.get("marker", ""))
            if re.search(r"sys_platform\s*==\s*['\"](darwin|win32)['\"]", marker) or "platform_system" in marker:
                continue
            if "extra" in entry or "group" in entry:
                return None  # chosen by an extra or a group: which one the image uses is not known here
            flavours |= _flavour_from_urls([urls.get(entry["index"], "")])
    return (flavours, "the project's [tool.uv.sources] index") if flavours else None


class CudaTorchMismatch(Rule):
    code = "ED111"
    name = "cuda-torch-mismatch"
    severity = Severity.ERROR
    target = "dockerfile"
    summary = "The PyTorch build installed does not match the CUDA version of the base image."

    def check(self, dockerfile: Dockerfile, context: Context) -> Iterator[Hit]:
        build = build_of(dockerfile, context)
        image = _image_cuda(build)
        if image is None:
            return
        (major, minor), image_name = image
        for step, command in build.commands():
            found = _torch_builds(build, step, command)
            if found is None:
                continue
            flavours, where = found
            if len(flavours) != 1:
                continue
            (flavour,) = flavours
            assert command.py is not None
            if flavour == "cpu":
                problem = (f"installs a CPU-only PyTorch build ({where}) into an image built on CUDA "
                           f"{major}.{minor} ({image_name}): the GPU is never used")
            else:
                version = _cuda_of_tag(flavour)
                if version is None:
                    continue
                if version[0] == major and version[1] <= minor:
                    continue  # CUDA minor-version compatibility
                newer = version[0] == major or version > (major, minor)
                driver = ""
                if image_name.lower().split(":", 1)[0].endswith("nvidia/cuda"):
                    driver = (f", asks the host driver (NVIDIA_REQUIRE_CUDA) for CUDA {major}.{minor}, "
                              f"{'less' if newer else 'more'} than this PyTorch needs,")
                problem = (f"installs PyTorch built for CUDA {version[0]}.{version[1]} ({flavour}, {where}), "
                           f"{'newer than' if newer else 'a different major version from'} the base image's "
                           f"CUDA {major}.{minor} ({image_name}): PyTorch brings its own CUDA runtime, so the "
                           f"image ships two{driver} and CUDA extensions built with the image's nvcc fail "
                           f"PyTorch's CUDA version check")
            yield Hit(
                f"'{_quote(command.py)}' {problem}.",
                line=command.command.line,
                fix_hint=f"Install the PyTorch build for CUDA {major}.{minor} or older within {major}.x "
                         f"(e.g. the /whl/cu{major}{minor} index), or change the base image tag to match.",
            )


# -- ED112 --

class SystemPythonInstall(Rule):
    code = "ED112"
    name = "system-python-install"
    severity = Severity.WARNING
    target = "dockerfile"
    summary = "Packages are installed into the image's system interpreter (--break-system-packages, --user, sudo pip)."

    def check(self, dockerfile: Dockerfile, context: Context) -> Iterator[Hit]:
        build = build_of(dockerfile, context)
        for step, command in build.commands():
            py = command.py
            if py is None or not (py.tool == "pip" and py.action == "install"
                                  or py.tool == "uv" and py.action in ("pip install", "pip sync")):
                continue
            env = command.env
            if py.tool == "pip" and self._in_virtualenv(py, env):
                continue
            how = None
            if py.has("break-system-packages") or (py.tool == "pip" and is_truthy(env.get("PIP_BREAK_SYSTEM_PACKAGES"))) \
                    or (py.tool == "uv" and is_truthy(env.get("UV_BREAK_SYSTEM_PACKAGES"))):
                how = "overrides the system interpreter's PEP 668 protection (--break-system-packages)"
            elif py.tool == "pip" and (py.has("user") or is_truthy(env.get("PIP_USER"))):
                how = "installs into the system interpreter's user site (--user, ~/.local)"
            elif py.sudo:
                how = "runs through sudo, installing as root into the system interpreter"
            if how is None:
                continue
            where = ""
            if not build.is_shipped(step.stage):
                copy = _copied_into_shipped(build, step.stage, _env_dirs(py, command))
                if copy is None:
                    continue
                where = f" in {_stage_label(step.stage)}, copied into the final image (line {copy.instruction.start_line})"
            if self._python_image(build, step.stage):
                why = "nothing isolates these packages from the interpreter's own or records what was installed"
                if "PEP 668" in how:  # these images carry no PEP 668 marker to override
                    how = "installs into the image's system interpreter (--break-system-packages)"
            else:
                why = "the packages mix with the distribution's own and nothing isolates or records them"
            yield Hit(
                f"'{_quote(py)}' {how}{where}: {why}.",
                line=command.command.line,
                fix_hint="Install into a virtual environment (`python -m venv /opt/venv` or `uv venv`, then put its "
                         "bin/ on PATH).",
            )

    @staticmethod
    def _python_image(build: Build, stage: Stage) -> bool:
        """The stage is built on a `python:*` image: its Python is built from source in /usr/local, with no
        distribution packages beside it (and no PEP 668 marker)."""
        ref = _base_image(build, stage)
        return ref is not None and ref.name.lower().rsplit("/", 1)[-1] == "python"

    @staticmethod
    def _in_virtualenv(py: PyCommand, env: dict[str, str | None]) -> bool:
        executable = py.executable
        if "/bin/" in executable and not executable.startswith(("/usr/bin/", "/usr/local/bin/", "/bin/")):
            return True  # /opt/venv/bin/pip, $VIRTUAL_ENV/bin/python
        return "VIRTUAL_ENV" in env or "PATH" in env  # a venv may be first on PATH: do not guess
