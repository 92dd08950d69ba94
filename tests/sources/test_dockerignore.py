"""The .dockerignore reader: Docker's reading and matching rules (moby's patternmatcher)."""

from __future__ import annotations

import pytest

from envdoctor.files import SourceError
from envdoctor.sources.dockerignore import clean_path, parse_dockerignore


def excluded(text: str, path: str) -> bool:
    return parse_dockerignore(text, ".dockerignore").excludes(path)


@pytest.mark.parametrize(("pattern", "path", "expected"), [
    # cleaned patterns: a leading / or ./, a trailing /, doubled slashes
    ("/.venv/", ".venv", True), ("./.venv", ".venv/bin/python", True), ("a//b/", "a/b/c", True),
    # * and ? stay within a segment; a pattern matches a parent folder too
    ("*.pyc", "a.pyc", True), ("*.pyc", "pkg/a.pyc", False), ("*/*.pyc", "pkg/a.pyc", True),
    ("temp?", "temp1", True), ("temp?", "temp12", False), ("*", "a/b/c", True),
    ("*/.venv", ".venv", False), ("*/.venv", "svc/.venv/pyvenv.cfg", True),
    # ** spans any number of folders, none included; a trailing ** matches anything below
    ("**/__pycache__", "__pycache__", True), ("**/__pycache__", "a/b/__pycache__/m.pyc", True),
    ("docs/**", "docs/a/b.md", True), ("docs/**/*.md", "docs/x.md", True), ("docs/**/*.md", "docs/a/b/x.md", True),
    ("**/a", "a", True), ("**/a", "b/a/c", True), ("**/a", "ba", False), ("a/**/b", "a/b", True), ("*/b", "b", False),
    # character classes, negated with ^; escapes
    ("[abc].txt", "b.txt", True), ("[^abc].txt", "b.txt", False), ("[a-c]x", "bx", True),
    ("\\*.txt", "*.txt", True), ("\\*.txt", "a.txt", False),
    # dots and other regex characters are literal
    (".venv", "xvenv", False), ("a+b", "a+b", True), ("(x)", "(x)", True),
    # a comment must start in column 1; leading white space is trimmed otherwise
    ("# .venv", ".venv", False), (" .venv", ".venv", True),
    # a name that ends with a newline is another name: Go's `$` is the end of the text, not a final newline
    ("a", "a\n", False), ("a*", "a\n", True),
])
def test_patterns(pattern, path, expected):
    assert excluded(pattern + "\n", path) is expected


def test_last_match_wins_and_exceptions_reinclude():
    text = "*\n!src\n!pyproject.toml\nsrc/**/*.pyc\n"
    assert excluded(text, "uv.lock")
    assert not excluded(text, "src/app/main.py")
    assert excluded(text, "src/app/main.pyc")
    assert not excluded(text, "pyproject.toml")
    ignore = parse_dockerignore(text, ".dockerignore")
    assert ignore.has_exceptions
    assert [p.line for p in ignore.patterns] == [1, 2, 3, 4]
    assert str(ignore.deciding("uv.lock")) == "*"


def test_byte_order_mark_blank_lines_and_crlf():
    text = "\ufeff.venv\r\n\r\n   \r\n!keep\r\n"
    ignore = parse_dockerignore(text, ".dockerignore")
    assert [str(p) for p in ignore.patterns] == [".venv", "!keep"]


def test_empty_file_excludes_nothing():
    assert not excluded("", "anything")
    assert not excluded("# only a comment\n", "anything")


@pytest.mark.parametrize("text", ["!\n", "  !  \n", "[abc\n", "a\\\n"])
def test_patterns_docker_refuses_raise_source_error_with_a_position(text):
    with pytest.raises(SourceError) as info:
        parse_dockerignore(".venv\n" + text, ".dockerignore")
    assert info.value.position == (2, 1)


@pytest.mark.parametrize(("path", "cleaned"), [
    ("", "."), (".", "."), ("./a/./b/", "a/b"), ("a/../b", "b"), ("../a", "../a"), ("/a/../..", "/"), ("a//b", "a/b"),
])
def test_clean_path_is_go_filepath_clean(path, cleaned):
    assert clean_path(path) == cleaned
