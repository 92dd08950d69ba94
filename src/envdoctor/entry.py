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
    except BrokenPipeError:  # the reader went away (`| head`): as the scan itself would, quietly
        sys.exit(1)
    except (OSError, ValueError, ImportError) as exc:  # e.g. the working folder was deleted
        recording = None
        if trace:
            sys.stderr.write(f"envdoctor: cache: not used ({type(exc).__name__}: {exc})\n")
    if recording is None:
        from envdoctor.cli import main as run

        run()
        return
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
