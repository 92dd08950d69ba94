#!/usr/bin/env python3
"""Set up the development environment and run envdoctor or the tests in it.

    python3 tools/dev.py check .      # envdoctor check . on this repository
    python3 tools/dev.py test         # the whole test suite (pytest)
    python3 tools/dev.py lock         # re-lock with uv and re-export requirements.lock.txt

Needs only python3 with venv and pip. The project environment is `.venv/` at the repository root; it is
(re)built from `requirements.lock.txt`, the hash-pinned export of uv.lock (uv.lock itself records index
addresses and is never committed), whenever that file or pyproject.toml changed since the last install.
Everything is installed inside `.venv/`; nothing is installed globally.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
LOCK = ROOT / "requirements.lock.txt"
STAMP = VENV / ".envdoctor-dev-stamp"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def _inputs_digest() -> str:
    digest = hashlib.sha256()
    for path in (LOCK, ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _run(*args: str | os.PathLike[str]) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], check=True, cwd=ROOT)


def ensure_environment() -> None:
    if not (VENV / "pyvenv.cfg").is_file():
        _run(sys.executable, "-m", "venv", VENV)
    wanted = _inputs_digest()
    if STAMP.is_file() and STAMP.read_text() == wanted:
        return
    pip = (PYTHON, "-m", "pip", "--disable-pip-version-check", "--quiet")
    # Every third-party package comes from the lock, each checked against its hashes.
    _run(*pip, "install", "--require-hashes", "--no-deps", "-r", LOCK)
    # The project itself: editable, built with the hatchling the lock just installed.
    _run(*pip, "install", "--no-deps", "--no-build-isolation", "--editable", ROOT)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"check", "test", "lock"}:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    ensure_environment()
    if command == "check":
        args = [BIN / "envdoctor", "check", *(rest or ["."])]
    elif command == "test":
        args = [PYTHON, "-m", "pytest", *rest]
    else:
        uv = BIN / "uv"
        subprocess.run([str(uv), "lock", *rest], check=True, cwd=ROOT)
        args = [uv, "export", "--all-groups", "--no-emit-project", "--format", "requirements-txt",
                "--output-file", LOCK]
    return subprocess.run([str(a) for a in args], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
