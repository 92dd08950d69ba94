"""uv.lock is parsed without its artefact tables (a speed-up): the result must be the same."""

from __future__ import annotations

import sys
from pathlib import Path

from envdoctor.sources.lockfiles import _without_artifacts, parse_uv_lock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "benchmarks"))
from run import uv_lock  # noqa: E402  (the benchmark's generator writes locks of uv's shape)


def _view(lock):
    return ([(p.name, p.version, p.line, p.source, p.dependencies) for p in lock.packages],
            [(p.name, [r.name for r in p.requires_dist]) for p in lock.projects], lock.requires_python)


def test_same_result_with_and_without_artifacts(monkeypatch):
    text = uv_lock(1, 40)
    fast = parse_uv_lock(text, "uv.lock")
    import envdoctor.sources.lockfiles as lockfiles

    monkeypatch.setattr(lockfiles, "_without_artifacts", lambda text: None)
    slow = parse_uv_lock(text, "uv.lock")
    assert _view(fast) == _view(slow)
    assert fast.doc.lines == text.split("\n")


def test_artifacts_are_blanked_line_for_line():
    text = 'version = 1\n\n[[package]]\nname = "a"\nsdist = { url = "x", hash = "h" }\nwheels = [\n    { url = "y" },\n]\n'
    stripped = _without_artifacts(text)
    assert stripped.split("\n") == ["version = 1", "", "[[package]]", 'name = "a"', "", "", "", "", ""]


def test_unexpected_shapes_fall_back_to_the_whole_text():
    assert _without_artifacts('sdist = { url = "x",\n  hash = "h" }\n') is None
    assert _without_artifacts("wheels = [\n  { url = 1 },\n") is None
