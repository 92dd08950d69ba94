"""uv.lock is read block by block, third-party packages line by line (a speed-up): the result must be
exactly what the TOML parser gives, and any other shape must go to the TOML parser."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from envdoctor.sources import lockfiles
from envdoctor.sources.lockfiles import _read_uv_lock, parse_uv_lock
from envdoctor.sources.toml import TomlError, parse_toml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "benchmarks"))
from run import uv_lock  # noqa: E402  (the benchmark's generator writes locks of uv's shape)

REAL_SHAPES = '''\
version = 1
revision = 3
requires-python = ">=3.11"
resolution-markers = [
    "python_full_version >= '3.12'",
    "python_full_version < '3.12'",
]

[manifest]
members = ["app", "lib"]

[[package]]
name = "anyio"
version = "4.6.0"
source = { registry = "https://index.example.invalid/simple" }
dependencies = [
    { name = "idna" },
    { name = "sniffio" },
    { name = "typing-extensions", marker = "python_full_version < '3.13'" },
    { name = "pydantic", extra = ["email"] },
    { name = "idna", version = "3.10", source = { registry = "https://index.example.invalid/simple" } },
]
sdist = { url = "https://files.example.invalid/anyio-4.6.0.tar.gz", hash = "sha256:00", size = 1, upload-time = "2024-01-01T00:00:00Z" }
wheels = [
    { url = "https://files.example.invalid/anyio-4.6.0-py3-none-any.whl", hash = "sha256:11", size = 2 },
]

[package.optional-dependencies]
trio = [
    { name = "trio" },
]

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
dependencies = [
    { name = "anyio" },
]

[package.metadata]
requires-dist = [{ name = "anyio", specifier = ">=4" }]

[package.metadata.requires-dev]
dev = [{ name = "pytest", specifier = ">=8" }]

[[package]]
name = "colorama"
version = "0.4.6"
source = { git = "https://git.example.invalid/colorama?rev=abc#abc" }
resolution-markers = [
    "sys_platform == 'win32'",
]

[[package]]
name = "idna"
version = "3.10"
source = { registry = "https://index.example.invalid/simple" }
sdist = { url = "https://files.example.invalid/idna-3.10.tar.gz", hash = "sha256:22", size = 3 }
wheels = [
    { url = "https://files.example.invalid/idna-3.10-py3-none-any.whl", hash = "sha256:33", size = 4 },
]
'''


def _no_artefacts(data):
    """The artefact tables (sdist, wheels) are not read line by line: nothing reads them."""
    return {**data, "package": [{k: v for k, v in p.items() if k not in ("sdist", "wheels")}
                                for p in data.get("package", [])]}


@pytest.mark.parametrize("text", [REAL_SHAPES, uv_lock(1, 40)], ids=["real-shapes", "generated"])
def test_block_reader_gives_what_the_toml_parser_gives(text):
    fast = _read_uv_lock(text)
    assert _no_artefacts(fast.data) == _no_artefacts(parse_toml(text).data)
    assert fast.lines == text.split("\n")


def test_parse_uv_lock_views_are_the_same(monkeypatch):
    fast = parse_uv_lock(REAL_SHAPES, "uv.lock")
    monkeypatch.setattr(lockfiles, "_uv_lock_blocks", lambda text: (parse_toml(text), None))
    slow = parse_uv_lock(REAL_SHAPES, "uv.lock")
    assert fast.packages == slow.packages
    assert [vars(p) for p in fast.projects] == [vars(p) for p in slow.projects]


def test_unusual_lines_go_to_the_toml_parser_and_errors_keep_their_line():
    conflicted = REAL_SHAPES.replace('name = "idna"\nversion = "3.10"',
                                     '<<<<<<< HEAD\nname = "idna"\n=======\nversion = "3.10"\n>>>>>>> x')
    with pytest.raises(TomlError) as info:
        _read_uv_lock(conflicted)
    assert info.value.position[0] == conflicted.split("\n").index("<<<<<<< HEAD") + 1
    escaped = REAL_SHAPES.replace('version = "0.4.6"', 'version = "0.4\\u002e6"')
    assert _no_artefacts(_read_uv_lock(escaped).data) == _no_artefacts(parse_toml(escaped).data)


def test_no_packages_or_odd_layout_is_parsed_whole():
    assert _read_uv_lock("version = 1\n").data == {"version": 1}
    odd = "version = 1\n\n[[package]]\nname = \"a\"\nsource = { editable = \".\" }\n\n[other]\nx = 1\n"
    assert _no_artefacts(_read_uv_lock(odd).data) == _no_artefacts(parse_toml(odd).data)


@pytest.mark.parametrize("line", [
    "sdist = {}", "sdist = {", "sdist = { url = \"x\" }", "sdist = { url = \"x\" },", "sdist = {}x", "sdist = }",
    "    { url = \"x\" },", "    { url = },", "    { url = \"x\" }", "    { path = \"a\" },", "    { path = },",
    "    {url = \"x\"},", "   { url = \"x\" },", "    { url = \"\r\" },", "    { url = \"x\" },\r", "wheels = [", "",
    "    { name = \"x\" },", "    { url = \"x\" }, # c", "\tsdist = {}",
])
def test_artefact_lines_are_told_apart_as_by_the_pattern(line):
    assert lockfiles._uv_artefact(line) == bool(lockfiles._UV_ARTEFACT_RE.match(line))
