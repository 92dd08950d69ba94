"""Two processes (envdoctor/parallel.py) give exactly what one process gives.

Every scan here runs twice: in one process (ENVDOCTOR_JOBS=1), and with a worker forced to take a share
(the plan is chosen by the test, not by the size thresholds). Everything the report carries is compared:
each output format rendered in full (with notes and internal errors), the findings themselves (fixes
included), ED001 problems, ED002/ED003 suppression findings on files only the worker read, the files read.
Faults are injected into the worker to check that this process then does the work itself.
"""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from envdoctor import parallel
from envdoctor.config import Config, load_config
from envdoctor.engine import ScanResult, scan
from envdoctor.findings import Finding, Hit, Severity
from envdoctor.git import GitFacts
from envdoctor.project import Project
from envdoctor.registry import Registry, Rule, load_rules
from envdoctor.report import FORMATS, Report, renderer
from envdoctor.suppressions import Suppression, SuppressionIndex

import sys

sys.path.insert(0, str(Path(__file__).resolve().parent / "robustness"))
from robust_support import robust  # noqa: E402
from seeds import SEEDS, _fixture, repositories  # noqa: E402

GIT_ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}


# --- rules that misbehave, to see internal errors come back in order ------------------------------------


class BoomDockerfile(Rule):
    code, name, severity, target = "ZZ901", "boom-dockerfile", Severity.WARNING, "dockerfile"

    def check(self, item, context):
        if len(item.instructions) % 2:
            raise ValueError("odd number of instructions")
        yield Hit("even number of instructions", line=1)


class BoomProject(Rule):
    code, name, severity, target = "ZZ902", "boom-project", Severity.INFO, "python-project"

    def check(self, item, context):
        if item.directory.endswith("b"):
            raise RuntimeError(f"project {item.directory}")
        yield Hit(f"project at {item.directory}", path=item.pyproject_path or item.directory)


class LostTarget(Rule):
    code, name, severity, target = "ZZ903", "lost-target", Severity.INFO, "no-such-target"

    def check(self, item, context):  # pragma: no cover - never called
        yield Hit("never")


_REGISTRY: Registry | None = None


def registry() -> Registry:
    global _REGISTRY
    if _REGISTRY is None:
        _REGISTRY = Registry([*load_rules(plugins=False), BoomDockerfile(), BoomProject(), LostTarget()])
    return _REGISTRY


# --- scanning both ways -------------------------------------------------------------------------------------


def _rendered(result: ScanResult) -> dict[str, str]:
    out = {}
    for name in FORMATS:
        report = Report(findings=result.findings, rules=result.rules, registry=registry(),
                        files_read=result.files_read, fail_on=Severity.WARNING, statistics=True, verbose=True,
                        notes=result.notes, errors=result.internal_errors, source_lines=result.source_lines)
        stream = io.StringIO()
        renderer(name)(report, stream)
        out[name] = stream.getvalue()
    return out


def _scan(root: Path, config: Config) -> tuple[ScanResult, dict[str, str]]:
    result = scan(root, config, registry(), [root])
    return result, _rendered(result)


def both(root: Path, plan: parallel.Plan, monkeypatch, config: Config | None = None,
         fault: str | None = None) -> tuple[ScanResult, ScanResult]:
    """The scan in one process, then with the worker taking `plan`; asserts they are identical."""
    config = config if config is not None else Config(select=("ALL",))
    with monkeypatch.context() as m:
        m.setenv(parallel.JOBS_VARIABLE, "1")
        alone, alone_out = _scan(root, config)
        assert parallel.last_run.mode == "serial"
    with monkeypatch.context() as m:
        m.setattr(parallel, "_two_processes_allowed", lambda: True)
        m.setattr(parallel, "plan_for", lambda project, steps: plan)
        m.setattr(parallel, "_FAULT", fault)
        shared, shared_out = _scan(root, config)
    assert shared_out == alone_out
    assert shared.findings == alone.findings  # fixes included
    assert shared.internal_errors == alone.internal_errors
    assert shared.notes == alone.notes
    assert shared.files_read == alone.files_read
    return alone, shared


def write(root: Path, files: dict[str, str | bytes], git: bool = False) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass"))
    if git:
        for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "seed", "--allow-empty"]):
            subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, env=GIT_ENV)
    return root


DEFAULT_PLAN = parallel.Plan(frozenset(parallel.LOCK_GROUP), {"dockerfile": 0.5}, frozenset(parallel.MODEL_RULES))


def services(count: int) -> dict[str, str | bytes]:
    """A small monorepo: services with a Dockerfile, a pyproject.toml and a uv.lock each, some of them
    broken or carrying suppressions (used, unused, malformed) in files only one process reads."""
    files: dict[str, str | bytes] = {}
    lock = _fixture("uv-project", "uv.lock")
    for n in range(count):
        folder = f"services/s{n:02d}{'ab'[n % 2]}"
        dockerfile = SEEDS["Dockerfile"]
        if n % 3 == 0:
            dockerfile = "# envdoctor: ignore[ED101]\n" + dockerfile.replace("FROM python:latest", "FROM python")
        if n % 4 == 1:
            dockerfile = dockerfile.replace("RUN pip install -r", "# envdoctor: ignore[ED107, ED999]\nRUN pip install -r")
        if n % 2:
            dockerfile += f"LABEL service={n}\n"
        files[f"{folder}/Dockerfile"] = dockerfile
        files[f"{folder}/pyproject.toml"] = SEEDS["pyproject.toml"].replace('"service"', f'"service{n}"')
        if n % 5 == 2:
            files[f"{folder}/uv.lock"] = "# envdoctor: ignore[ED203]\n" + lock  # unused: ED002 in the worker
        elif n % 5 == 3:
            files[f"{folder}/uv.lock"] = lock + "\n[[package]\nbroken\n"  # ED001 in the worker
        elif n % 5 == 4:
            files[f"{folder}/uv.lock"] = "# envdoctor: nonsense\n" + lock  # ED003 in the worker
        else:
            files[f"{folder}/uv.lock"] = lock
        files[f"{folder}/.dockerignore"] = SEEDS[".dockerignore"]
    files["services/s01b/pyproject.toml"] = "[project\nname = 'broken'\n"  # read by both: one ED001
    files["services/s02a/Dockerfile"] = b"FROM python:3.12\xff\xfe\n"  # unreadable: ED001
    files["requirements.txt"] = SEEDS["requirements.txt"]
    files[".github/workflows/ci.yml"] = SEEDS[".github/workflows/ci.yml"]
    files[".gitignore"] = ".venv/\n*.pyc\nservices/s03b/uv.lock\n"
    return files


# --- identical output ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("git", [True, False], ids=["git", "no-git"])
@pytest.mark.parametrize("plan", [
    DEFAULT_PLAN,
    parallel.Plan(frozenset(parallel.LOCK_GROUP)),
    parallel.Plan(frozenset(), {"dockerfile": 0.5}),
    parallel.Plan(frozenset(), {"dockerfile": 1.0}),
    parallel.Plan(frozenset(parallel.CANDIDATES)),
    parallel.Plan(frozenset(), {t: 0.5 for t in parallel.CANDIDATES}),
    parallel.Plan(frozenset(parallel.LOCK_GROUP), {}, frozenset({"ED206", "ED101", "ED309", "ZZ901", "ZZ903"})),
], ids=["default", "locks", "half-dockerfiles", "all-dockerfiles", "all-whole", "all-halves", "some-rules"])
def test_a_monorepo_scans_the_same_in_two_processes(tmp_path, monkeypatch, plan, git):
    root = write(tmp_path / "repo", services(12), git=git)
    alone, shared = both(root, plan, monkeypatch)
    assert parallel.last_run.mode == "forked" and parallel.last_run.worker == "ok"
    codes = {f.code for f in alone.findings}
    assert {"ED001", "ED002", "ED003", "ZZ901", "ZZ902"} <= codes, codes  # the cases are all there
    assert any("ZZ901" in e for e in alone.internal_errors) and any("ZZ902" in e for e in alone.internal_errors)
    assert any("unknown target" in e for e in alone.internal_errors)
    worker_read = {f.path for f in alone.findings if f.code in ("ED002", "ED003") and f.path.endswith("uv.lock")}
    assert worker_read  # suppression findings on files only the worker read


def test_the_project_configuration_and_default_rules(tmp_path, monkeypatch):
    files = services(6)
    files["pyproject.toml"] = ('[tool.envdoctor]\nextend-select = ["ED304"]\nignore = ["ED102"]\n'
                              'per-file-ignores = { "services/s01b/**" = ["ED101"] }\n'
                              'severity = { "ED203" = "info" }\n')
    root = write(tmp_path / "repo", files, git=True)
    both(root, DEFAULT_PLAN, monkeypatch, config=load_config(root, None))


def test_notes_of_the_walk_and_of_git(tmp_path, monkeypatch):
    files = services(4)
    root = write(tmp_path / "repo", files, git=False)  # git facts unavailable: a note, from both sides
    outside = write(tmp_path / "outside", {"Dockerfile": "FROM python\n"})
    (root / "services" / "linked").mkdir()
    (root / "services" / "linked" / "Dockerfile").symlink_to(outside / "Dockerfile")
    (root / "services" / "folder-link").symlink_to(root / "services" / "s00a")
    (root / "services" / "dangling" ).mkdir()
    (root / "services" / "dangling" / "uv.lock").symlink_to(tmp_path / "nowhere")
    alone, _ = both(root, DEFAULT_PLAN, monkeypatch)
    assert any("git facts unavailable" in n for n in alone.notes)
    assert any("outside the scanned root" in n for n in alone.notes)


@given(data=st.data())
@robust(25)
def test_mutated_repositories_scan_the_same(monkeypatch, data):
    files: dict[str, str] = {}
    for prefix in ("", "a/", "b/x/"):
        for rel, text in data.draw(repositories(min_files=3)).items():
            files[prefix + rel] = text
    git = data.draw(st.booleans())
    whole = data.draw(st.frozensets(st.sampled_from(parallel.CANDIDATES)))
    rest = [t for t in parallel.CANDIDATES if t not in whole]
    split = data.draw(st.dictionaries(st.sampled_from(rest), st.sampled_from([0.25, 0.5, 0.75, 1.0]))) if rest else {}
    rules = data.draw(st.frozensets(st.sampled_from(["ED101", "ED110", "ED206", "ED303", "ED309", "ED412", "ZZ901"])))
    with tempfile.TemporaryDirectory() as tmp:
        root = write(Path(tmp) / "repo", files, git=git)
        both(root, parallel.Plan(whole, split, rules), monkeypatch)


# --- faults ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["raise", "exit", "kill", "garbage", "truncate"])
def test_a_failing_worker_leaves_the_work_to_this_process(tmp_path, monkeypatch, fault):
    root = write(tmp_path / "repo", services(8), git=True)
    both(root, DEFAULT_PLAN, monkeypatch, fault=fault)
    assert parallel.last_run.mode == "forked"
    assert parallel.last_run.worker not in (None, "ok")


def test_the_worker_writes_nothing_to_stdout_or_stderr(tmp_path, monkeypatch, capfd):
    root = write(tmp_path / "repo", services(4), git=True)
    capfd.readouterr()
    both(root, DEFAULT_PLAN, monkeypatch, fault="noise")
    assert parallel.last_run.worker == "ok"
    captured = capfd.readouterr()
    assert "worker" not in captured.out and "worker" not in captured.err


def test_order_dependent_reads_are_scanned_again_in_one_process(tmp_path, monkeypatch):
    """A file broken for one process's parser and fine for the other's: which comes first decides."""

    def fails(text, rel):
        from envdoctor.files import SourceError

        raise SourceError("is not what the first reader wants")

    class First(Rule):  # python-project: the worker
        code, name, severity, target = "ZZ911", "first-reader", Severity.INFO, "python-project"

        def check(self, item, context):
            context.project.parsed("first-kind", "shared.txt", fails)
            return ()

    class Second(Rule):  # repository: this process
        code, name, severity, target = "ZZ912", "second-reader", Severity.INFO, "repository"

        def check(self, item, context):
            if context.project.parsed("second-kind", "shared.txt", lambda text, rel: text) is not None:
                yield Hit("read it", path="shared.txt")

    global _REGISTRY
    saved = _REGISTRY
    _REGISTRY = Registry([*load_rules(plugins=False), First(), Second()])
    calls = []
    real_run = parallel.run
    monkeypatch.setattr(parallel, "run", lambda *a, **k: calls.append(k) or real_run(*a, **k))
    try:
        root = write(tmp_path / "repo", {**services(2), "shared.txt": "text\n"})
        alone, _ = both(root, DEFAULT_PLAN, monkeypatch)
    finally:
        _REGISTRY = saved
    assert [f.code for f in alone.findings if f.path == "shared.txt"] == ["ED001"]
    assert calls[-2:] == [{}, {"jobs": 1}]  # the two-process scan, then the one it was replaced by


def test_merge_refuses_what_one_process_could_not_have_produced(tmp_path):
    root = write(tmp_path / "repo", {"Dockerfile": "FROM python\n"})
    project = Project(root, Config())
    project.files("dockerfile")
    base = parallel._baseline(project)
    from envdoctor.rules.meta import UnparsableFile

    problem = Finding("ED001", "unparsable-file", Severity.ERROR, "File is broken.", "x.toml",
                      fix_hint=UnparsableFile.fix_hint)  # as Project.problem makes it

    def answer(**changes):
        out = {"segments": {}, "problems": [], "notes": [], "suppressions": {}, "failed": set(),
               "used": set(), "recorded": (set(), set())}
        out.update(changes)
        assert parallel._well_formed(out)
        return out

    with pytest.raises(parallel.Redo):  # used here, broken there
        parallel._merge(project, base, {"x.toml"}, answer(failed={"x.toml"}, problems=[problem]), [])
    project.problem("x.toml", "File is broken.")
    with pytest.raises(parallel.Redo):  # broken here, used there
        parallel._merge(project, base, set(), answer(used={"x.toml"}), [])
    parts = [([], [])]
    parallel._merge(project, base, set(), answer(failed={"x.toml"}, problems=[problem]), parts)
    assert project.problems.count(problem) == 1  # broken on both sides the same way: reported once
    project.problem("y.toml", "File is broken differently.")
    with pytest.raises(parallel.Redo):
        parallel._merge(project, base, set(), answer(failed={"y.toml"}, problems=[
            replace(problem, path="y.toml")]), [])
    index = SuppressionIndex([Suppression(line=1, codes=("ED101",), first=2, last=2)])
    project.suppressions["Dockerfile"] = SuppressionIndex([Suppression(line=1, codes=("ED102",), first=2, last=2)])
    with pytest.raises(parallel.Redo):
        parallel._merge(project, parallel._baseline(project), set(), answer(suppressions={"Dockerfile": index}), [])
    assert not parallel._well_formed({**answer(), "problems": ["not a finding"]})
    assert parallel._decode(b"EDW1" + b"\x00" * 8 + b"junk") is None


# --- git: the worker asks its own check-ignore ------------------------------------------------------------------


def test_the_worker_never_uses_this_processs_check_ignore_pipe(tmp_path):
    root = write(tmp_path / "repo", {".gitignore": "ignored-*\n", "a": "a\n"}, git=True)
    facts = GitFacts.read(root)
    assert facts.ignored(["ignored-1", "kept-1"]) == {"ignored-1"}
    checker = facts._checker
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        status = 1
        try:
            facts.after_fork()
            answer = facts.ignored(["ignored-2", "kept-2"])
            ok = answer == {"ignored-2"} and facts._checker is not checker
            os.write(write_end, b"ok" if ok else b"wrong")
            facts.close()
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    said = os.read(read_end, 16)
    os.close(read_end)
    assert os.waitpid(pid, 0)[1] == 0 and said == b"ok"
    assert facts.ignored(["ignored-3", "kept-3"]) == {"ignored-3"}  # this process's pipe is intact
    assert facts._checker is checker
    facts.close()


def test_a_live_check_ignore_process_before_the_fork(tmp_path, monkeypatch):
    """A rule that runs before the worker starts asks git here; both sides then ask about their files."""

    class AskFirst(Rule):
        code, name, severity, target = "AAA001", "ask-first", Severity.INFO, "repository"

        def check(self, item, context):
            if context.project.git.ignored(["services/s03b/uv.lock"]):
                yield Hit("asked git first")

    global _REGISTRY
    saved = _REGISTRY
    _REGISTRY = Registry([*load_rules(plugins=False), AskFirst()])
    try:
        files = services(8)
        files[".gitignore"] += "services/*/.venv\nservices/s0*/app.pyc\n"
        root = write(tmp_path / "repo", files, git=True)
        alone, _ = both(root, DEFAULT_PLAN, monkeypatch)
    finally:
        _REGISTRY = saved
    assert parallel.last_run.worker == "ok"
    assert any(f.code == "AAA001" for f in alone.findings)


# --- when to fork ---------------------------------------------------------------------------------------------


def _steps(config: Config | None = None) -> list:
    from envdoctor.engine import _by_target, select_rules
    from envdoctor.project import TARGETS

    rules = select_rules(load_rules(plugins=False), config or Config())
    return parallel.steps_of(_by_target(rules), True, tuple(TARGETS))


def test_small_repositories_stay_in_one_process(tmp_path):
    root = write(tmp_path / "repo", services(3))
    assert parallel.plan_for(Project(root, Config()), _steps()) is None


def test_large_work_is_shared_out(tmp_path, monkeypatch):
    root = write(tmp_path / "repo", services(3))
    monkeypatch.setattr(parallel, "DOCKERFILE_SECONDS_PER_BYTE", 1e-3)  # as if the Dockerfiles were huge
    plan = parallel.plan_for(Project(root, Config()), _steps())
    assert plan is not None and plan.whole == frozenset(parallel.LOCK_GROUP)
    assert 0 < plan.split["dockerfile"] < 0.5
    monkeypatch.setattr(parallel, "LOCK_SECONDS_PER_BYTE", 1e-3)  # and the locks bigger still
    plan = parallel.plan_for(Project(root, Config()), _steps())
    assert plan is not None and plan.split == {}
    assert parallel.plan_for(Project(root, Config()), _steps(Config(select=("ED2",)))) is None  # nothing to pair


def test_one_process_when_asked_or_when_forking_is_unsafe(monkeypatch):
    monkeypatch.setenv(parallel.JOBS_VARIABLE, "1")
    assert not parallel._two_processes_allowed()
    monkeypatch.delenv(parallel.JOBS_VARIABLE)
    import threading

    ready, release = threading.Event(), threading.Event()
    thread = threading.Thread(target=lambda: (ready.set(), release.wait()))
    thread.start()
    ready.wait()
    try:
        assert not parallel._two_processes_allowed()  # another thread is running
    finally:
        release.set()
        thread.join()


def test_each_item_and_rule_runs_on_exactly_one_side():
    rules = [BoomDockerfile(), BoomProject()]
    plans = [parallel.Plan(frozenset({"dockerfile"})), parallel.Plan(rules=frozenset({"ZZ902"})),
             *(parallel.Plan(split={"dockerfile": share}, rules=frozenset(codes))
               for share in (0.0, 0.25, 0.5, 0.75, 1.0) for codes in ((), ("ZZ902",)))]
    for plan in plans:
        for count in range(0, 9):
            theirs = plan.worker_runs("dockerfile", rules)(count)
            pairs = [(i, r) for i in range(count) for r in range(len(rules))]
            mine = [p for p in pairs if not theirs(*p)]
            assert plan.here_has("dockerfile", rules) or not mine
            assert plan.worker_has("dockerfile", rules) or len(mine) == len(pairs)
            if plan.split:
                cut = parallel._cut(count, plan.split["dockerfile"])
                assert all(i < cut for i, r in mine if r == 0) and all(i >= cut for i, r in pairs if theirs(i, r) and r == 0)


def test_the_project_model_is_built_once(tmp_path, monkeypatch):
    """With the locks in the worker, no rule here builds the project model again (ED206 goes along)."""
    from envdoctor.sources import projects

    builds = []
    real = projects._build
    monkeypatch.setattr(projects, "_build", lambda project: builds.append(os.getpid()) or real(project))
    root = write(tmp_path / "repo", services(6), git=True)  # with a requirements.txt: ED206 reads the model
    monkeypatch.setattr(parallel, "DOCKERFILE_SECONDS_PER_BYTE", 1e-3)
    monkeypatch.setattr(parallel, "_two_processes_allowed", lambda: True)
    scan(root, Config(), registry(), [root])
    assert parallel.last_run.worker == "ok" and "ED206" in parallel.last_run.plan.rules
    assert os.getpid() not in builds


def test_dockerfile_rules_that_read_a_project_do_not_build_the_model_here(tmp_path, monkeypatch):
    """ED103 (a COPY of a folder before a dependency install: local dependencies?) and ED106 (`pip install
    .` beside a committed lock) read the project at the build context from its own files."""
    from envdoctor.sources import projects

    builds = []
    real = projects._build
    monkeypatch.setattr(projects, "_build", lambda project: builds.append(os.getpid()) or real(project))
    files = services(6)
    for n, folder in enumerate(sorted({name.rpartition("/")[0] for name in files if name.endswith("Dockerfile")})):
        files[f"{folder}/Dockerfile"] = (
            "FROM python:3.12-slim\nWORKDIR /app\nCOPY pyproject.toml uv.lock ./\nCOPY libs ./libs\n"
            "RUN uv sync --frozen --no-install-project\nCOPY src ./src\nRUN pip install .\n")
        files[f"{folder}/libs/core/pyproject.toml"] = '[project]\nname = "core"\nversion = "1"\n'
    root = write(tmp_path / "repo", files, git=True)
    monkeypatch.setattr(parallel, "DOCKERFILE_SECONDS_PER_BYTE", 1e-3)
    monkeypatch.setattr(parallel, "_two_processes_allowed", lambda: True)
    scan(root, Config(), registry(), [root])
    assert parallel.last_run.worker == "ok"
    assert os.getpid() not in builds


def test_the_result_cache_learns_the_paths_the_worker_read(tmp_path, monkeypatch):
    """envdoctor/cache.py records every path a scan opens, in this process: the worker's come back."""
    from envdoctor import cache

    files = services(4)
    files["libs/core/pyproject.toml"] = SEEDS["services/api/pyproject.toml"]
    files["libs/core/uv.lock"] = _fixture("uv-project", "uv.lock")
    root = write(tmp_path / "repo", files, git=True)
    monkeypatch.setattr(parallel, "_two_processes_allowed", lambda: True)
    monkeypatch.setattr(parallel, "plan_for", lambda project, steps: DEFAULT_PLAN)
    with cache.Recording(["check", str(root)]):
        scan(root, Config(), registry(), [root])
    assert parallel.last_run.worker == "ok"
    assert str(root / "libs/core/uv.lock") in cache._RECORDER.paths  # only the worker looked at it


def test_fix_runs_the_same_in_two_processes(tmp_path, monkeypatch):
    """`check --fix` scans again after each pass: the files it writes and what remains are the same.
    (Without the crashing test rules: a pass with internal errors fixes nothing.)"""
    from envdoctor.fixes import fix_loop

    files = services(8)
    for n in range(6):
        files[f"tools/t{n}/Dockerfile"] = f"FROM python:3.12-slim\nRUN pip install flask==3.0.{n}\nRUN uv sync\n"
        files[f"tools/t{n}/pyproject.toml"] = f'[project]\nname = "t{n}"\nversion = "1"\n'
        files[f"tools/t{n}/uv.lock"] = _fixture("uv-project", "uv.lock")
    outcomes, trees = [], []
    for name, jobs in (("alone", "1"), ("shared", None)):
        root = write(tmp_path / name, files, git=True)
        with monkeypatch.context() as m:
            if jobs:
                m.setenv(parallel.JOBS_VARIABLE, jobs)
            else:
                m.setattr(parallel, "_two_processes_allowed", lambda: True)
                m.setattr(parallel, "plan_for", lambda project, steps: DEFAULT_PLAN)
            outcome = fix_loop(root, Config(select=("ALL",)), load_rules(plugins=False), [root], unsafe=True)
        outcomes.append((outcome.fixed, outcome.changed, outcome.notes, outcome.result.findings))
        trees.append({p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
                      if p.is_file() and ".git" not in p.parts})
    assert outcomes[0] == outcomes[1] and trees[0] == trees[1]
    assert outcomes[0][0] > 0  # something was fixed


def test_no_process_to_be_had_means_one_process(tmp_path, monkeypatch):
    root = write(tmp_path / "repo", services(4))

    def no_fork():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    alone, shared = both(root, DEFAULT_PLAN, monkeypatch)
    assert parallel.last_run.mode == "serial"
