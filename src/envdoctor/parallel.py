"""Two processes for a large scan: what is shared out, when it pays, and how the results come back.

A scan is a list of steps (engine.py): each target's rules over its items, in rule order, then, when ED001
is selected, one pass parsing every file of every target. `run` carries the steps out. On a small
repository it does them in order, in this process. On a large one it forks once (POSIX, at least two
usable cores, no other thread running, `ENVDOCTOR_JOBS` not 1) and one worker process takes a share:

- What is split. The Python projects and the lockfiles (targets "python-project" and "lockfile") go to
  the worker whole: the project model is computed once from every lock (sources/projects.py), reading
  uv.lock files is most of a monorepo's time, and the lockfile rules read the same parsed locks. So does
  ED206, a repository rule that reads the model (MODEL_RULES). Dockerfiles are split by item: the worker
  takes the last Dockerfiles, as many as even out the two processes' estimated times. Everything else
  stays here: the other repository-wide rules, the environment and interpreter targets (the probe runs
  an interpreter), and the small per-file targets.
- The threshold. The time of each side is estimated from the size of the files (per-byte costs measured
  on benchmarks/run.py's repositories, below); the worker is started only when each side is estimated
  at MIN_SHARE_SECONDS or more, so a repository of a few services never forks.
- Transfer. Parsed views are never sent back (a parsed uv.lock pickles about as slowly as it parses):
  only what the report needs. The worker sends, pickled through a pipe: for each (item, rule) it ran,
  the findings and internal errors; the ED001 problems and notes it added; the suppression index of every
  file it read; which files it found broken and which it used; and the result cache's record of the
  paths it looked at (envdoctor/cache.py records in-process).
- The merge. Each step's (item, rule) results from both sides, sorted, are exactly the results of one
  process in its order, so the stable sort of the report is the same. Problems and suppression indexes
  are merged by file (a file both read has the same index, widened over a Dockerfile's instructions the
  same way), and the engine then applies suppressions and computes ED002/ED003 over all of them.
- What cannot be merged. In one process, once a file has failed to read or parse, it is not read again;
  so when one process found a file broken and the other used it (as another kind), the answer depends on
  the order of the two: `Redo` is raised and the engine scans again in one process. Likewise when a step
  raises outside a rule (which exception one process would have met first is not known here).
- Failures. The worker never writes to stdout or stderr (both are /dev/null in it), never uses this
  process's `git check-ignore` pipe (GitFacts.after_fork: it starts its own), and always leaves through
  os._exit. If it crashes, is killed, or sends anything but a well-formed answer, this process does the
  worker's share itself, on a fresh Project, and merges that the same way.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, Callable, Sequence

from envdoctor.findings import Finding
from envdoctor.suppressions import SuppressionIndex

if TYPE_CHECKING:
    from envdoctor.project import Project
    from envdoctor.registry import Rule

# (pickle, signal and struct are imported only when a worker starts: a small scan never needs them.)

# ENVDOCTOR_JOBS=1: always one process. Unset (or any other value): two when the work pays for it.
JOBS_VARIABLE = "ENVDOCTOR_JOBS"

# Serial seconds per byte of a target's files (CPU time, every default rule, benchmarks/run.py's
# repositories, Python 3.11): a Dockerfile about 2.5 µs per byte (parse, build model, the ED1xx rules), a
# lock or requirements file about 30 ns (read, parse, the project model, the ED2xx rules).
DOCKERFILE_SECONDS_PER_BYTE = 2.5e-6
LOCK_SECONDS_PER_BYTE = 3e-8
# The smaller of the two shares must be estimated at least this long for the fork to pay: the worker costs
# a few tens of milliseconds of its own (git's index read again, its imports, and with a split target
# every Dockerfile parsed on both sides: each lists the target's items to number them, and a file that
# fails to parse is no item), so below this the gain is lost in noise. The benchmark's medium preset
# (100 services) is just above it, 100 services without locks just below.
MIN_SHARE_SECONDS = 0.15

LOCK_GROUP = ("python-project", "lockfile")  # to the worker whole: they share the parsed locks
# Rules of other targets that read the project model (sources/projects.py python_projects): they go with
# it, or this process would build the model again. (Only a matter of time: the output is the same.)
MODEL_RULES = ("ED206",)
# Targets a plan may give the worker; the plan is made when the first of them is reached (each of their
# item lists starts with the file walk, which the plan needs, so the walk happens where it always did).
CANDIDATES = ("dockerfile", "pyproject", "requirements", "conda", "workflow", "lockfile", "python-project",
              "script", "environment")

MAGIC = b"EDW1"
HEADER = ">4sQ"  # struct format of what precedes the pickled answer: MAGIC and the answer's length

# Tests only: a fault for the worker to simulate ("raise", "exit", "kill", "garbage", "truncate", "noise").
_FAULT: str | None = None


class Redo(Exception):
    """The two processes' results cannot be merged into those of one process: scan again in one."""


class Plan:
    """The worker's share: targets it runs whole (their rules and ED001 pass), targets split by item with
    the fraction of the items (the last ones) it runs, and rules of other targets it runs on every item."""

    __slots__ = ("whole", "split", "rules")

    def __init__(self, whole: frozenset[str] = frozenset(), split: dict[str, float] | None = None,
                 rules: frozenset[str] = frozenset()) -> None:
        self.whole, self.split, self.rules = frozenset(whole), dict(split or {}), frozenset(rules)

    def __repr__(self) -> str:
        return f"Plan(whole={sorted(self.whole)}, split={self.split}, rules={sorted(self.rules)})"

    def worker_runs(self, target: str, rules: list[Rule] | None) -> Callable[[int], Callable[[int, int], bool]]:
        """For a step: given the number of items, whether the worker runs (item index, rule index)."""
        if target in self.whole:
            return lambda count: lambda item, rule: True
        codes = [r.code in self.rules for r in rules or ()]
        if target in self.split and rules is not None:
            share = self.split[target]
            return lambda count: (lambda cut: lambda item, rule: item >= cut or codes[rule])(_cut(count, share))
        return lambda count: lambda item, rule: codes[rule]

    def worker_has(self, target: str, rules: list[Rule] | None) -> bool:
        """The worker has some of the step to do."""
        if rules is None:
            return target in self.whole
        return target in self.whole or target in self.split or any(r.code in self.rules for r in rules)

    def here_has(self, target: str, rules: list[Rule] | None) -> bool:
        """This process has some of the step to do."""
        if target in self.whole:
            return False
        return rules is None or target in self.split or not all(r.code in self.rules for r in rules)


class Stats:
    """What the last `run` did (for tests): 'serial' or 'forked', the plan, and the worker's fate."""

    def __init__(self) -> None:
        self.mode = "serial"
        self.worker: str | None = None  # "ok", or why its answer was not used
        self.plan: Plan | None = None

    def __repr__(self) -> str:
        return f"Stats(mode={self.mode!r}, worker={self.worker!r}, plan={self.plan!r})"


last_run = Stats()

# What running a step's rules gives: for each (item index, rule index) that found or failed something, the
# findings and internal errors, in the order one process finds them. Both processes' chunks of a step,
# sorted by (item, rule), are the step's results in one process.
Chunk = tuple[int, int, "list[Finding]", "list[str]"]
# engine.py's step runner: (project, target, rules, select) -> chunks, where `select(count)` says which
# (item index, rule index) this process runs.
Select = Callable[[int], Callable[[int, int], bool]]
RunTarget = Callable[["Project", str, "list[Rule]", Select], "list[Chunk]"]
Step = tuple[str, "list[Rule] | None"]  # (target, its rules), or (target, None): the ED001 parse pass


def steps_of(targets: dict[str, list[Rule]], check_all: bool, all_targets: Sequence[str]) -> list[Step]:
    steps: list[Step] = list(targets.items())
    if check_all:
        steps.extend((t, None) for t in all_targets if t != "repository")
    return steps


def _everything(count: int) -> Callable[[int, int], bool]:
    return lambda item, rule: True


def run(project: Project, steps: list[Step], run_target: RunTarget, *, jobs: int | None = None
        ) -> tuple[list[Finding], list[str]]:
    """Carry out the steps, in one process or two; the findings and internal errors of the rules, in step
    order. Problems, notes and suppression indexes end up on `project` as if it had done everything."""
    global last_run
    last_run = Stats()
    allowed = _two_processes_allowed() if jobs is None else jobs > 1
    chunks: list[list[Chunk]] = [[] for _ in steps]
    plan: Plan | None = None
    worker: _Worker | None = None
    decided = not allowed
    try:
        for index, (target, rules) in enumerate(steps):
            if not decided and target in CANDIDATES:
                decided = True
                plan = plan_for(project, steps)
                if plan is not None:
                    worker = _start(project, steps, index, plan, run_target)
                    if worker is None:  # no process to be had: all of it here
                        plan = None
                    else:
                        last_run.plan = plan
            if plan is not None and not plan.here_has(target, rules):
                continue
            if rules is None:
                _parse_all(project, target)
            elif plan is None or not plan.worker_has(target, rules):
                chunks[index] = run_target(project, target, rules, _everything)
            else:
                theirs = plan.worker_runs(target, rules)
                chunks[index] = run_target(project, target, rules, lambda count: _not(theirs(count)))
    except Exception:
        if worker is None:
            raise
        worker.stop()
        raise Redo("a step failed while a worker ran") from None
    except BaseException:
        if worker is not None:
            worker.stop()
        raise
    if worker is not None:
        assert plan is not None
        worker.uses.stop()
        answer = worker.result()
        if answer is None:  # crashed, killed, or sent garbage: do its share here
            if worker.start > 0:  # this process did steps before the fork, which a fresh Project lacks
                raise Redo("the worker failed after steps done here")
            answer = _share_here(project, steps, worker.start, plan, run_target)
        else:
            last_run.worker = "ok"
        _merge(project, worker.baseline, worker.uses.rels, answer, chunks)
    raw: list[Finding] = []
    errors: list[str] = []
    for step in chunks:
        for _item, _rule, found, failed in sorted(step, key=lambda chunk: chunk[:2]):
            raw.extend(found)
            errors.extend(failed)
    return raw, errors


def _not(picks: Callable[[int, int], bool]) -> Callable[[int, int], bool]:
    return lambda item, rule: not picks(item, rule)


def _two_processes_allowed() -> bool:
    if os.environ.get(JOBS_VARIABLE, "").strip() == "1" or not hasattr(os, "fork"):
        return False
    try:
        cores = len(os.sched_getaffinity(0))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    if cores < 2:
        return False
    threading = sys.modules.get("threading")  # forking with other threads running can deadlock the child
    return threading is None or threading.active_count() <= 1


# --- the plan ---------------------------------------------------------------------------------------------


def plan_for(project: Project, steps: list[Step]) -> Plan | None:
    """The worker's share, or None when two processes would not pay (see the module docstring)."""
    ruled = {target for target, rules in steps if rules is not None}
    busy = ruled | {target for target, rules in steps if rules is None}
    locks = 0.0
    if any(target in busy for target in LOCK_GROUP):
        locks = (_bytes(project, "lockfile") + _bytes(project, "requirements")) * LOCK_SECONDS_PER_BYTE
    docker = _bytes(project, "dockerfile") * DOCKERFILE_SECONDS_PER_BYTE if "dockerfile" in ruled else 0.0
    if locks >= docker:
        worker, here, split = locks, docker, {}
    else:  # the worker also takes the last Dockerfiles, enough to even the two out
        share = (docker - locks) / (2 * docker)
        worker, here, split = locks + share * docker, (1 - share) * docker, {"dockerfile": share}
    if min(worker, here) < MIN_SHARE_SECONDS:
        return None
    whole = frozenset(t for t in LOCK_GROUP if t in busy)
    rules = frozenset(r.code for _t, rs in steps for r in rs or () if r.code in MODEL_RULES) if whole else frozenset()
    return Plan(whole, split, rules)


def _bytes(project: Project, kind: str) -> int:
    total = 0
    for rel in project.files(kind):
        try:
            total += os.stat(project.root / rel).st_size
        except OSError:
            pass
    return total


def _cut(count: int, share: float) -> int:
    """Where a split target's items are cut: this process runs those before, the worker those after."""
    return count - min(count, max(0, round(count * share)))


def _parse_all(project: Project, target: str) -> None:
    for _ in project.items(target):
        pass


# --- the worker's side ------------------------------------------------------------------------------------


class _Baseline:
    """The project's state when the worker started: what either side adds later is new."""

    def __init__(self, problems: int, notes: int, failed: frozenset[str]) -> None:
        self.problems, self.notes, self.failed = problems, notes, failed


def _baseline(project: Project) -> _Baseline:
    return _Baseline(len(project.problems), len(project.notes), project.failed)


class _Uses:
    """The files whose content one process used since the worker started (`Project.watch_uses`: text
    handed out, or a fresh view; a cached view does not count, it was there before either process could
    fail the file). In one process, once a file has failed to parse as some kind, both answer None; so a
    file one process used while the other failed it depends on the order of the two."""

    def __init__(self, project: Project) -> None:
        self._project = project
        self.rels = project.watch_uses()

    def stop(self) -> None:
        self._project.unwatch_uses()


def _share(project: Project, steps: list[Step], start: int, plan: Plan, run_target: RunTarget,
           base: _Baseline, uses: _Uses) -> dict[str, Any]:
    """Do the worker's share of the steps from `start` on; what it found and added, to send back."""
    segments: dict[int, list[Chunk]] = {}
    for index in range(start, len(steps)):
        target, rules = steps[index]
        if not plan.worker_has(target, rules):
            continue
        if rules is None:
            _parse_all(project, target)
        else:
            segments[index] = run_target(project, target, rules, plan.worker_runs(target, rules))
    paths, listed = _recorded()
    return {
        "segments": segments,
        "problems": list(project.problems[base.problems:]),
        "notes": list(project.notes[base.notes:]),
        "suppressions": dict(project.suppressions),
        "failed": set(project.failed - base.failed),
        "used": set(uses.rels),
        "recorded": (paths, listed),
    }


def _share_here(project: Project, steps: list[Step], start: int, plan: Plan, run_target: RunTarget
                ) -> dict[str, Any]:
    """The worker's share done in this process, on a fresh Project of the same scan (its caches are
    its own, as a worker's would be), when the worker did not deliver."""
    from envdoctor.project import Project as ProjectClass

    fresh = ProjectClass(project.root, project.config, project.scan_paths)
    uses = _Uses(fresh)
    try:
        fresh.files("dockerfile")  # the walk, before the baseline (as in the worker)
        return _share(fresh, steps, start, plan, run_target, _baseline(fresh), uses)
    finally:
        uses.stop()
        fresh.close()


class _Worker:
    def __init__(self, pid: int, fd: int, start: int, baseline: _Baseline, uses: _Uses) -> None:
        self.pid, self.fd, self.start, self.baseline, self.uses = pid, fd, start, baseline, uses
        self.done = False

    def result(self) -> dict[str, Any] | None:
        """The worker's answer, or None (and last_run.worker says why) when it is not usable."""
        try:
            data: bytes | None = _read_all(self.fd)
        except OSError:
            data = None
        finally:
            os.close(self.fd)
        status = self._wait()
        if data is None:
            last_run.worker = "its answer could not be read"
            return None
        if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
            last_run.worker = f"worker ended with status {status:#x}"
            return None
        answer = _decode(data)
        if answer is None:
            last_run.worker = "malformed answer"
        return answer

    def stop(self) -> None:
        self.uses.stop()
        if not self.done:
            import signal

            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
            try:
                os.close(self.fd)
            except OSError:
                pass
            self._wait()

    def _wait(self) -> int:
        self.done = True
        while True:
            try:
                return os.waitpid(self.pid, 0)[1]
            except InterruptedError:
                continue
            except ChildProcessError:
                return -1


def _start(project: Project, steps: list[Step], start: int, plan: Plan, run_target: RunTarget) -> _Worker | None:
    """Fork the worker on its share; None if the system gives no process (or pipe)."""
    for target, rules in steps[start:]:
        if rules is not None and plan.worker_has(target, rules) and plan.here_has(target, rules):
            _load(rules)  # both processes run some of these rules: import their modules once, before the fork
    project.files("dockerfile")  # the file walk (plan_for made it already): its problems and notes are shared
    base = _baseline(project)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    uses = _Uses(project)  # on both sides of the fork
    try:
        read_end, write_end = os.pipe()
    except OSError:
        uses.stop()
        return None
    try:
        pid = os.fork()
    except OSError:  # EAGAIN, ENOMEM
        uses.stop()
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the worker: never returns
        status = 1
        try:
            os.close(read_end)
            _quiet()
            git = project.__dict__.get("git")
            if git is not None:
                git.after_fork()  # this process asks its own `git check-ignore`, never the parent's
            answer = _share(project, steps, start, plan, run_target, base, uses)
            project.close()
            _write_all(write_end, _encode(answer))
            status = 0
        except BaseException:  # noqa: BLE001 - the parent does the work when the worker fails
            pass
        finally:
            os._exit(status)
    os.close(write_end)
    last_run.mode = "forked"
    return _Worker(pid, read_end, start, base, uses)


def _load(rules: list[Rule]) -> None:
    for rule in rules:
        load = getattr(rule, "load", None)  # registry.LazyRule
        if load is not None:
            try:
                load()
            except Exception:  # noqa: BLE001 - reported where the rule runs, as in one process
                pass


def _quiet() -> None:
    """In the worker: nothing reaches the terminal, and Ctrl-C ends it at once."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    # The Python streams may write elsewhere than fds 1 and 2 (a test runner's capture, the result cache's
    # recording): replace them too.
    sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives until os._exit
    if _FAULT == "noise":
        print("worker stdout")
        print("worker stderr", file=sys.stderr)
        os.write(1, b"worker fd 1\n")
        os.write(2, b"worker fd 2\n")


def _recorded() -> tuple[set[str], set[str]]:
    """The paths the result cache recorded in this process (envdoctor/cache.py), when it records."""
    cache = sys.modules.get("envdoctor.cache")  # not imported: no recording then
    return cache.recorded() if cache is not None else (set(), set())


def _record(paths: set[str], listed: set[str]) -> None:
    cache = sys.modules.get("envdoctor.cache")
    if cache is not None:
        cache.add_recorded(paths, listed)


# --- the answer on the wire -------------------------------------------------------------------------------


def _encode(answer: dict[str, Any]) -> bytes:
    import pickle
    import signal
    import struct

    if _FAULT == "raise":
        raise RuntimeError("injected fault")
    if _FAULT == "exit":
        os._exit(3)
    if _FAULT == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    if _FAULT == "garbage":
        return MAGIC + b"\x00\x01 not a pickle" * 100
    body = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
    data = struct.pack(HEADER, MAGIC, len(body)) + body
    return data[: len(data) // 2] if _FAULT == "truncate" else data


def _decode(data: bytes) -> dict[str, Any] | None:
    import pickle
    import struct

    size = struct.calcsize(HEADER)
    if len(data) < size:
        return None
    magic, length = struct.unpack_from(HEADER, data)
    if magic != MAGIC or length != len(data) - size:
        return None
    try:
        answer = pickle.loads(data[size:])
    except Exception:  # noqa: BLE001 - anything undecodable is garbage
        return None
    return answer if _well_formed(answer) else None


def _well_formed(answer: Any) -> bool:
    if not isinstance(answer, dict):
        return False
    try:
        segments, problems, notes = answer["segments"], answer["problems"], answer["notes"]
        suppressions, failed, used = answer["suppressions"], answer["failed"], answer["used"]
        paths, listed = answer["recorded"]
    except (KeyError, TypeError, ValueError):
        return False
    return (
        isinstance(segments, dict)
        and all(isinstance(i, int) and isinstance(s, list) and all(_chunk(c) for c in s) for i, s in segments.items())
        and isinstance(problems, list) and all(isinstance(f, Finding) for f in problems)
        and isinstance(notes, list) and all(isinstance(n, str) for n in notes)
        and isinstance(suppressions, dict)
        and all(isinstance(k, str) and isinstance(v, SuppressionIndex) for k, v in suppressions.items())
        and all(isinstance(s, set) and all(isinstance(p, str) for p in s) for s in (failed, used, paths, listed))
    )


def _chunk(chunk: Any) -> bool:
    return (isinstance(chunk, tuple) and len(chunk) == 4 and isinstance(chunk[0], int) and isinstance(chunk[1], int)
            and isinstance(chunk[2], list) and all(isinstance(f, Finding) for f in chunk[2])
            and isinstance(chunk[3], list) and all(isinstance(e, str) for e in chunk[3]))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]
    os.close(fd)


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 1 << 20)
        except InterruptedError:
            continue
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


# --- the merge --------------------------------------------------------------------------------------------


def _merge(project: Project, base: _Baseline, used_here: set[str], answer: dict[str, Any],
           chunks: list[list[Chunk]]) -> None:
    """Put the worker's answer into `project` and `chunks`, or raise Redo when the two processes' reads
    depended on their order (see the module docstring)."""
    failed_here, failed_there = project.failed - base.failed, answer["failed"]
    if failed_there & used_here or failed_here & answer["used"]:
        raise Redo("a file one process used failed to read or parse in the other")
    problems_here = _by_path(project.problems[base.problems:])
    for path, found in _by_path(answer["problems"]).items():
        if path in problems_here:
            if problems_here[path] != found:
                raise Redo(f"{path}: the processes found it broken in different ways")
            continue  # both read it: reported once, as by one process
        project.adopt_problems(found)
    for path, index in answer["suppressions"].items():
        mine = project.suppressions.get(path)
        if mine is None:
            project.suppressions[path] = index
        elif not _widen(mine, index):
            raise Redo(f"{path}: the processes read different suppressions")
    project.notes.extend(note for note in answer["notes"] if note not in project.notes)
    for index, theirs in answer["segments"].items():
        if not 0 <= index < len(chunks):
            raise Redo("the worker answered for a step that does not exist")
        chunks[index] = chunks[index] + theirs
    _record(*answer["recorded"])


def _by_path(findings: list[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for finding in findings:
        out.setdefault(finding.path, []).append(finding)
    return out


def _widen(mine: SuppressionIndex, theirs: SuppressionIndex) -> bool:
    """Merge the other process's index of the same file into this one: the same comments, each covering
    the lines either process widened it to (SuppressionIndex.extend_over). False if they differ."""
    if len(mine.entries) != len(theirs.entries):
        return False
    for a, b in zip(mine.entries, theirs.entries):
        if (a.line, a.codes, a.first, a.error) != (b.line, b.codes, b.first, b.error):
            return False
    for a, b in zip(mine.entries, theirs.entries):
        a.last = max(a.last, b.last)
    return True
