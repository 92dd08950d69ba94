"""Scaling by counting, not by timing: the work of a scan (Python function calls, C calls included,
counted with `sys.setprofile`) at size n and at size 4n. Linear work grows about 4 times, quadratic work
16 times; the bound in between cannot flake on a loaded machine, because nothing here is timed.

Each shape below was quadratic before its fix (docs/limits.md, "Size and time"):
- long FROM-chains: the Dockerfile rules walked each stage's whole chain of steps, for every stage
  (ED103, ED109), for every lookup of a file in the image (ED105, ED106: `Build.locate`) and for every
  `COPY --from` (ED105: is this stage an ancestor of that one);
- .dockerignore patterns times COPY sources: every source was tried against every pattern;
- a chain of stages each naming a variable no stage sets: each lookup went up the whole chain.

Then properties that the faster answers are the answers of the plain walks they replace.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from envdoctor.config import Config
from envdoctor.files import SourceError
from envdoctor.project import Project
from envdoctor.registry import Context
from envdoctor.rules._dockerbuild import Located, RunStep, _Candidates, build_of
from envdoctor.sources.dockerfile import parse_dockerfile
from envdoctor.sources.dockerignore import clean_path, parse_dockerignore
from robust_support import robust, scan_all

_FEW = _Candidates.FEW
GROWTH = 6.0  # allowed growth of the work from n to 4n: linear is about 4, quadratic about 16


def _work(root: Path) -> tuple[int, object]:
    """The number of calls (Python and C) a whole scan of `root` makes, and its result."""
    count = 0

    def profile(frame, event, arg):  # noqa: ARG001 -- sys.setprofile's signature
        nonlocal count
        if event == "call" or event == "c_call":
            count += 1

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        result = scan_all(root)
    finally:
        sys.setprofile(previous)
    return count, result


def _growth(make, tmp_path: Path, n: int):
    small, large = tmp_path / "small", tmp_path / "large"
    make(small, n)
    make(large, 4 * n)
    scan_all(small)  # imports, caches of compiled patterns: not part of the work measured
    small_work, _ = _work(small)
    large_work, result = _work(large)
    assert result.internal_errors == []
    return large_work / small_work, result


# --- long FROM-chains ---------------------------------------------------------------------------------


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _chain(root: Path, n: int) -> None:
    """n stages, each built FROM the one before, each with a COPY and a RUN that looks files up in the
    image (`pip install -r`, `uv sync`) after the source was copied (ED103, each stage); every seventh
    copies a source folder and installs it editable (ED105); the final stage copies the environment of
    the last one."""
    lines = ["FROM python:3.12-slim AS base", "WORKDIR /app", "COPY . ."]
    for i in range(n):
        lines += [f"FROM {'base' if i == 0 else f's{i - 1}'} AS s{i}", f"COPY f{i % 5}.txt /app/",
                  "RUN pip install -r requirements.txt && uv sync --locked"]
        if i % 7 == 0:
            lines += ["COPY src/ /app/src/", "RUN pip install -e ."]
    lines += ["FROM python:3.12-slim AS final", f"COPY --from=s{n - 1} /app/.venv /app/.venv"]
    _write(root, {"Dockerfile": "\n".join(lines) + "\n",
                  "pyproject.toml": '[project]\nname = "app"\nversion = "1"\n\n[build-system]\nrequires = ["hatchling"]\n'
                                    'build-backend = "hatchling.build"\n',
                  "uv.lock": "version = 1\n", "requirements.txt": "flask==3.0.3\n", "src/app/__init__.py": "",
                  **{f"f{i}.txt": "" for i in range(5)}})


def _chain_of_workdirs(root: Path, n: int) -> None:
    """n chained stages, each in a WORKDIR of its own where `uv sync` looks for pyproject.toml and uv.lock:
    paths that no stage above decides, so that each question would go up the whole chain."""
    lines = ["FROM python:3.12-slim AS base", "COPY . /app"]
    for i in range(n):
        lines += [f"FROM {'base' if i == 0 else f's{i - 1}'} AS s{i}", f"WORKDIR /app/w{i}", "COPY f0.txt ./",
                  "RUN uv sync --locked"]
    _write(root, {"Dockerfile": "\n".join(lines) + "\n", "pyproject.toml": '[project]\nname = "app"\nversion = "1"\n',
                  "uv.lock": "version = 1\n", "f0.txt": ""})


def _chain_of_folder_copies(root: Path, n: int) -> None:
    """n chained stages, each copying the same folder into /app and asking about a path of its own below
    /app that the folder does not hold: every stage may decide it, none does."""
    lines = ["FROM python:3.12-slim AS base", "COPY . /app"]
    for i in range(n):
        lines += [f"FROM {'base' if i == 0 else f's{i - 1}'} AS s{i}", "COPY src/ /app/", f"WORKDIR /app/w{i}",
                  "RUN uv sync --locked"]
    _write(root, {"Dockerfile": "\n".join(lines) + "\n", "pyproject.toml": '[project]\nname = "app"\nversion = "1"\n',
                  "src/app/__init__.py": ""})


def _chain_of_undefined_variables(root: Path, n: int) -> None:
    """n chained stages, each setting a variable from one that no stage sets (`$V1x` names `V1x`): each
    lookup of an unset name went up the whole chain."""
    lines = ["FROM python:3.12-slim AS s0"]
    for i in range(1, n):
        lines += [f"FROM s{i - 1} AS s{i}", f"ENV V{i}=$V{i - 1}x-$A{i}-$B{i}-$C{i}", f"RUN pip install p{i}"]
    _write(root, {"Dockerfile": "\n".join(lines) + "\n"})


@pytest.mark.slow
@pytest.mark.parametrize(("make", "code"), [(_chain, "ED103"), (_chain_of_workdirs, "ED103"),
                                           (_chain_of_folder_copies, "ED103"),
                                           (_chain_of_undefined_variables, "ED104")])
def test_a_long_from_chain_costs_linear_work(tmp_path, make, code):
    growth, result = _growth(make, tmp_path, 150)
    assert growth < GROWTH, f"the work grew {growth:.1f} times from 150 to 600 chained stages"
    codes = {f.code for f in result.findings}
    assert code in codes  # the rules did their work: not a shortcut that skips it
    if make is _chain:
        assert "ED105" in codes


# --- .dockerignore patterns times COPY sources -----------------------------------------------------------


def _ignore_and_copies(root: Path, n: int) -> None:
    """n .dockerignore patterns of every shape (literal, under a literal folder, led by a wildcard, `**`,
    exceptions) and 2n COPY lines, each with its own source."""
    shapes = ["gen/out{i}.bin", "src/mod{i}/*.pyc", "**/*.tmp{i}", "!src/mod{i}/keep.pyc", "build{i}/**",
              "*.log{i}", "docs/**/draft{i}.md"]
    patterns = ["**/__pycache__", "*.egg-info"] + [shapes[i % len(shapes)].format(i=i) for i in range(n)]
    lines = ["FROM python:3.12-slim", "WORKDIR /app"]
    for j in range(2 * n):
        lines.append(f"COPY src/mod{j % n}/f{j}.{'pyc' if j % 10 == 1 else 'py'} /app/src/")
    _write(root, {".dockerignore": "\n".join(patterns) + "\n", "Dockerfile": "\n".join(lines) + "\n"})


@pytest.mark.slow
def test_dockerignore_patterns_times_copy_sources_cost_linear_work(tmp_path):
    growth, result = _growth(_ignore_and_copies, tmp_path, 250)
    assert growth < GROWTH, f"the work grew {growth:.1f} times from 250 to 1,000 patterns (500 to 2,000 COPY)"
    assert any(f.code == "ED110" and "excluded by .dockerignore" in f.message for f in result.findings)


# --- the indexed answers are the plain walks' answers -------------------------------------------------


def _reference_locate(build, stage, before, image_path: str) -> Located:
    """`Build.locate` as it was: every step of the stage's FROM-chain walked, the last that decides wins."""
    image_path = clean_path(image_path)
    steps = build.steps(stage)
    position = next((i for i, step in enumerate(steps) if step is before), len(steps))
    if position < len(steps) and isinstance(before, RunStep):
        for source, target in before.bind_mounts():
            found = build._through_bind(source, target, image_path)
            if found is not None:
                return found
    answer = Located("absent")
    for step in steps[:position]:
        found = build._decides(step, image_path)
        if found is not None:
            answer = found
    return answer


_STAGE_LINES = st.sampled_from([
    "WORKDIR /app", "WORKDIR sub", "COPY pyproject.toml uv.lock ./", "COPY . .", "COPY src/ /app/src/",
    "COPY requirements*.txt ./", "COPY f1.txt /app/", "COPY f1.txt /app/renamed.txt", "COPY $X /app/",
    "RUN pip install -r requirements.txt", "RUN uv sync --locked", "RUN cat f1.txt", "RUN git clone x y",
    "RUN --mount=type=bind,source=uv.lock,target=/app/uv.lock uv sync --locked", "RUN uv lock",
    "COPY --from=0 /app /app", "ARG X=f1.txt", "WORKDIR /w", "COPY src /app/", "COPY *.txt /app/", "COPY . /",
    "COPY --from=s0 /app/uv.lock /w/", "COPY --from=python:3.12 /x /app/x", "COPY f1.txt /app/f1dir/",
    "ADD https://files.example.invalid/a.txt /app/", "COPY $UNSET /app/", "COPY $UNSET /app/one.txt",
])
_FROMS = st.sampled_from(["python:3.12", "s0", "s1", "s2", "s3", "s4"])
_QUERIES = ["/app/pyproject.toml", "/app/uv.lock", "/app/requirements.txt", "/app/f1.txt", "/app/renamed.txt",
            "/app/src/app/main.py", "/app/app/main.py", "/app/sub/uv.lock", "/uv.lock", "/app/x/../uv.lock",
            "/w/uv.lock", "/app", "/", "/app/one.txt", "/app/f1dir/f1.txt", "/app/x/y", "/f1.txt", "/src/app/main.py"]


@robust(100)
@given(stages=st.lists(st.tuples(_FROMS, st.lists(_STAGE_LINES, max_size=6)), min_size=1, max_size=6),
       order=st.randoms(use_true_random=False))
def test_locate_answers_what_walking_the_whole_chain_answers(tmp_path, stages, order):
    lines = []
    for index, (base, body) in enumerate(stages):
        lines += [f"FROM {base} AS s{index}", *body]
    _write(tmp_path, {"Dockerfile": "\n".join(lines) + "\n", "pyproject.toml": '[project]\nname = "app"\n',
                      "uv.lock": "version = 1\n", "requirements.txt": "flask==3.0.3\n", "f1.txt": "",
                      "src/app/main.py": "", ".dockerignore": "src/app/main.py\n"})
    seed = order.random()
    for few in (_Candidates.FEW, 0):  # 0: the folder copies into one folder are walked together
        dockerfile, build = _build(tmp_path)
        every_step = [step for stage in dockerfile.stages for step in build.own_steps(stage)]
        questions = [(stage, before, path) for stage in dockerfile.stages for before in (None, *every_step)
                     for path in _QUERIES]
        random.Random(seed).shuffle(questions)  # rules ask in any order: a later stage first, the same again
        try:
            _Candidates.FEW = few
            for stage, before, path in questions[:300] + questions[:10]:
                assert build.locate(stage, before, path) == _reference_locate(build, stage, before, path), \
                    (few, stage.index, path)
        finally:
            _Candidates.FEW = _FEW
    for stage in dockerfile.stages:
        for other in dockerfile.stages:
            assert build.is_ancestor(other, stage) == (other.index in {s.index for s in build.chain(stage)})


def _build(root: Path):
    """The parsed Dockerfile of `root` and its Build, as the rules get them (a new Project each time)."""
    config = Config()
    project = Project(root, config)
    dockerfile = project.parsed("dockerfile", "Dockerfile", lambda text, _rel: parse_dockerfile(text))
    return dockerfile, build_of(dockerfile, Context(project, config))


def test_locate_goes_on_past_a_folder_copy_that_lacks_the_file(tmp_path):
    # The nearest stage that may decide /app/f1.txt copies src/ there, which has no f1.txt: the answer is
    # further up (COPY . /app/), through another source into the same folder; above that, src/ again.
    dockerfile = ("FROM python:3.12 AS s0\nCOPY src /app/\nFROM s0 AS s1\nCOPY . /app/\nFROM s1 AS s2\n"
                  "COPY src /app/\nRUN echo done\n")
    _write(tmp_path, {"Dockerfile": dockerfile, "f1.txt": "", "src/app/main.py": ""})
    expected = {"/app/f1.txt": ("present", "f1.txt", 4), "/app/app/main.py": ("present", "src/app/main.py", 6),
                "/app/src/app/main.py": ("present", "src/app/main.py", 4), "/app/none.txt": ("absent", None, None)}
    for few in (_FEW, 0):
        parsed, build = _build(tmp_path)
        last = parsed.stages[-1]
        try:
            _Candidates.FEW = few
            for path, (state, rel, line) in expected.items():
                found = build.locate(last, None, path)
                assert (found.state, found.rel, found.step and found.step.instruction.start_line) == (state, rel, line)
                assert found == _reference_locate(build, last, None, path)
        finally:
            _Candidates.FEW = _FEW


_SEGMENTS = ["a", "b", "ab", "x.py", "*.py", "*", "**", "?", "a*", "*b", "[ab]", "[^a]b", "\\*", ".", "..",
             "c.pyc", "__pycache__", "a]b", "x\\y", "*x.py", "[a-c]*.py"]
_PATH_SEGMENTS = ["a", "b", "ab", "x.py", "c.pyc", "__pycache__", "*", "a]b", "xy", "bb", "y.py", "abx.py", ".."]


def _reference_deciding(ignore, path: str):
    """Docker's rule as written: try every pattern in order; the last that matches decides."""
    found = None
    for pattern in ignore.patterns:
        if pattern.matches(clean_path(path)):
            found = pattern
    return found


def _reference_may_include_below(ignore, folder: str) -> bool:
    folder = clean_path(folder)
    return any(p.exclusion and (folder == "." or p.pattern.startswith(folder + "/") or "*" in p.pattern
                                or "?" in p.pattern or "[" in p.pattern) for p in ignore.patterns)


_PATTERN = st.tuples(st.sampled_from(["", "!", "/", "!/"]),
                     st.lists(st.sampled_from(_SEGMENTS), min_size=1, max_size=3)).map(lambda t: t[0] + "/".join(t[1]))
_PATH = st.tuples(st.sampled_from(["", "", "", "/"]),
                  st.lists(st.sampled_from(_PATH_SEGMENTS), min_size=1, max_size=4)).map(lambda t: t[0] + "/".join(t[1]))


@robust(300)
@given(patterns=st.lists(_PATTERN, min_size=1, max_size=10), paths=st.lists(_PATH, min_size=1, max_size=12))
@example(patterns=["**/a", "!*/ab", "a/**/b"], paths=["a", "ab", "x/ab", "a/b", "/a"])  # short literal tails
def test_the_pattern_index_answers_what_trying_every_pattern_answers(patterns, paths):
    try:
        ignore = parse_dockerignore("\n".join(patterns) + "\n", ".dockerignore")
    except SourceError:  # a pattern Docker refuses: tested in tests/sources/test_dockerignore.py
        return
    for path in paths + paths[:3]:  # again: the answers kept per path
        assert ignore.deciding(path) == _reference_deciding(ignore, path), path
        assert ignore.excludes(path) == (lambda p: p is not None and not p.exclusion)(_reference_deciding(ignore, path))
        assert ignore.may_include_below(path) == _reference_may_include_below(ignore, path), path
