"""The atheris fuzz targets (benchmarks/fuzz_dockerfile.py, benchmarks/fuzz_requirements.py) work without
atheris: each target's TestOneInput runs on its seeds, on inputs found by fuzzing (regressions), and on
hypothesis-drawn bytes, so the harness cannot rot and what fuzzing found stays fixed."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from robust_support import REPOSITORY_ROOT, robust

sys.path.insert(0, str(REPOSITORY_ROOT / "benchmarks"))

TARGETS = ["fuzz_dockerfile", "fuzz_requirements"]

# Inputs that fuzzing found, each a regression test (none of them may raise).
FOUND: dict[str, list[bytes]] = {
    "fuzz_dockerfile": [],
    "fuzz_requirements": [],
}


def _target(name: str):
    return importlib.import_module(name)


@pytest.mark.parametrize("name", TARGETS)
def test_the_seeds_run(name):
    module = _target(name)
    assert module.SEEDS
    for seed in module.SEEDS + FOUND[name]:
        module.TestOneInput(seed)


@pytest.mark.parametrize("name", TARGETS)
def test_undecodable_input_is_skipped_like_envdoctor_skips_it(name):
    module = _target(name)
    for data in (b"\x00", b"\xff\xfe\x00F", b"\xc3(", b""):
        module.TestOneInput(data)


def test_the_line_check_fails_when_it_should():
    from fuzz_common import check_line

    check_line(2, "a\nb", "ok")
    with pytest.raises(AssertionError):
        check_line(3, "a\nb", "past the end")
    with pytest.raises(AssertionError):
        check_line(0, "a", "before the start")


@robust(200)
@given(name=st.sampled_from(TARGETS), data=st.data())
def test_mutated_seeds(name, data):
    module = _target(name)
    seed = data.draw(st.sampled_from(module.SEEDS))
    cut = data.draw(st.integers(0, len(seed)))
    noise = data.draw(st.binary(max_size=16) | st.sampled_from([b"\\\n", b"<<EOF\n", b"\r", b"#", b"$", b"'", b'"']))
    module.TestOneInput(seed[:cut] + noise + seed[cut:])


def test_the_scripts_say_so_without_atheris(tmp_path):
    import subprocess

    try:
        import atheris  # noqa: F401
        pytest.skip("atheris is installed here: the scripts would fuzz")
    except ImportError:
        pass
    for name in TARGETS:
        done = subprocess.run([sys.executable, str(REPOSITORY_ROOT / "benchmarks" / f"{name}.py"), "-runs=1"],
                              capture_output=True, text=True, timeout=60, cwd=tmp_path)
        assert done.returncode != 0 and "atheris is not installed" in done.stderr
