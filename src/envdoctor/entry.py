"""The `envdoctor` console script (and `python -m envdoctor`).

A `check` whose inputs have not changed since it last ran replays that run's output from the result cache
(envdoctor/cache.py) without importing the command line, the engine or any rule; every other command, and
every miss, runs the command line (envdoctor/cli.py), recorded for the cache when that is allowed. The
cache can only make a run faster: whatever goes wrong in it, the run goes on without it.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    argv = sys.argv[1:]
    trace = bool(os.environ.get("ENVDOCTOR_CACHE_TRACE"))  # says on stderr whether the cache answered, and why not
    try:
        from envdoctor import cache

        recording = cache.Recording(argv) if cache.cacheable(argv) else None
        if recording is not None:
            code, why = cache.replay(argv)
            if code is not None:
                if trace:
                    sys.stderr.write("envdoctor: cache: hit\n")
                sys.exit(code)
    except (OSError, ValueError, ImportError) as exc:  # e.g. the working folder was deleted
        recording = None
        if trace:
            sys.stderr.write(f"envdoctor: cache: not used ({type(exc).__name__}: {exc})\n")
    try:
        if recording is None:
            from envdoctor.cli import main as run

            run()
            return
        _recorded_run(recording, why, trace)
    except BrokenPipeError:  # a write that no command caught (they catch their report's: `check` keeps its code)
        stdout_closed()
        sys.exit(1)  # as Python's own documentation advises for EPIPE


def stdout_closed() -> None:
    """The reader of stdout went away (`envdoctor check | head -1`): stop writing, quietly, as other
    command-line tools do. Pointing stdout at the null device also keeps Python from failing again when it
    flushes stdout at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no file descriptor behind stdout (tests, embedding)
        pass


def _recorded_run(recording, why: str, trace: bool) -> None:
    from envdoctor.cli import cli

    try:
        with recording:
            cli(prog_name="envdoctor")
    except SystemExit as done:
        try:
            why_not = recording.save(done.code)
        except Exception as exc:  # never let the cache turn a finished run into a crash
            why_not = f"not stored ({type(exc).__name__}: {exc})"
        if trace:
            sys.stderr.write(f"envdoctor: cache: miss ({why}), {why_not or 'stored'}\n")
        raise
