"""What the atheris fuzz targets share: the command line, a seed corpus, and checks on line numbers.

Run a target for a bounded time (atheris is not a project dependency: install it where you fuzz,
e.g. `python -m venv /tmp/fuzz && /tmp/fuzz/bin/pip install atheris -e .`):

    python benchmarks/fuzz_dockerfile.py -max_total_time=60
    python benchmarks/fuzz_requirements.py -max_total_time=60 [CORPUS_DIR ...]

Without a corpus directory the target's seeds are written to a temporary one. Every libFuzzer flag works
(-runs=N, -max_len=N, -jobs=N). A crash leaves `crash-<sha1>` in the current folder: turn its content into
a regression test (tests/robustness/test_fuzz_targets.py lists the ones found so far).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Callable

_SRC = Path(__file__).resolve().parent.parent / "src"
if _SRC.is_dir() and str(_SRC) not in sys.path:
    sys.path.insert(0, str(_SRC))  # run from a checkout without installing envdoctor


def physical_line_count(text: str) -> int:
    """Lines as envdoctor numbers them: split on `\\n` only."""
    return text.count("\n") + 1


def check_line(line: int, text: str, what: object) -> None:
    if not 1 <= line <= physical_line_count(text):
        raise AssertionError(f"line {line} outside 1..{physical_line_count(text)}: {what!r}")


def main(test_one_input: Callable[[bytes], None], seeds: list[bytes]) -> None:
    try:
        import atheris
    except ImportError:
        sys.exit("atheris is not installed here (pip install atheris); it is not a dependency of envdoctor")
    argv = list(sys.argv)
    if not any(not arg.startswith("-") for arg in argv[1:]):
        corpus = Path(tempfile.mkdtemp(prefix="envdoctor-fuzz-"))
        for number, seed in enumerate(seeds):
            (corpus / f"seed-{number}").write_bytes(seed)
        argv.append(str(corpus))
    atheris.instrument_all()  # the envdoctor modules are imported already: instrument what is loaded
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()
