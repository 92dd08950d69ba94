"""What the rules' fixes share: the exact place of a shell word in a Dockerfile or a CI script, and facts
a fix needs, such as the uv version in use locally.

Every position is checked against the file's physical lines before an edit is made: when the words are
not found exactly where the parse says (a word inside `sh -c "..."`, a heredoc, a line continuation inside
a word, an ONBUILD), no edit is offered. A fix that cannot be placed exactly is never guessed at.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import TYPE_CHECKING

from envdoctor.fixes import Edit, insert
from envdoctor.sources.dockerfile import GO_SPACE, Instruction
from envdoctor.sources.shell import SimpleCommand

if TYPE_CHECKING:
    from envdoctor.project import Project
    from envdoctor.rules._pyinstall import PyCommand

Span = tuple[int, int, int]  # (line, first column, column after the word): 1-based, as Edit counts


def action_index(py: PyCommand) -> int | None:
    """Where the sub-command's last word (`install` of `pip install`, `sync`) is in `py.command.argv`."""
    if not py.action:
        return None
    last = py.action.split(" ")[-1]
    argv, raw = py.command.argv, py.command.raw_words
    for index in range(1, len(argv)):
        if argv[index] == last:
            return index if index < len(raw) and raw[index] == last else None
    return None


def word_index(command: SimpleCommand, word: str, after: int = 0) -> int | None:
    """The first argv index past `after` holding exactly `word`, written without quotes."""
    for index in range(after + 1, len(command.argv)):
        if command.argv[index] == word:
            return index if index < len(command.raw_words) and command.raw_words[index] == word else None
    return None


# --- Dockerfiles ------------------------------------------------------------------------------------------


def dockerfile_word(lines: list[str] | None, instruction: Instruction, command: SimpleCommand,
                    index: int) -> Span | None:
    """The physical place of `command.raw_words[index]`, a word of a shell-form RUN, or None.

    The command's offsets must be the instruction's own text (not a string's it runs, `sh -c "..."`),
    the word must lie on one physical line, and that line must hold it exactly there.
    """
    if lines is None or instruction.inner is not None or instruction.heredocs or instruction.json_args is not None:
        return None
    raw, offsets = command.raw_words, command.word_offsets
    if not 0 <= index < len(raw) or len(offsets) != len(raw):
        return None
    args = instruction.args
    if any(args[offset:offset + len(word)] != word for word, offset in zip(raw, offsets)):
        return None
    return dockerfile_args_span(lines, instruction, offsets[index], len(raw[index]))


def dockerfile_args_span(lines: list[str] | None, instruction: Instruction, offset: int, length: int) -> Span | None:
    """The physical place of `instruction.args[offset:offset + length]`, when it lies on one line."""
    return dockerfile_span(lines, instruction, instruction._args_offset + offset, length,
                           instruction.args[offset:offset + length])


def dockerfile_span(lines: list[str] | None, instruction: Instruction, position: int, length: int,
                    text: str | None = None) -> Span | None:
    """The physical place of the `length` characters at `position` in `instruction.original` (flags
    included), when they lie on one line and read `text` there (default: what `original` holds)."""
    if lines is None or instruction.inner is not None or length <= 0:
        return None
    text = instruction.original[position:position + length] if text is None else text
    if len(text) != length:
        return None
    # Instruction keeps where each physical line's text starts in `original` (see sources/dockerfile.py).
    starts, numbers = instruction._segment_starts, instruction._segment_lines
    if not starts:
        return None
    segment = bisect_right(starts, position) - 1
    end = starts[segment + 1] if segment + 1 < len(starts) else len(instruction.original)
    if segment < 0 or position + length > end:
        return None
    line = numbers[segment]
    if not 1 <= line <= len(lines):
        return None
    physical = lines[line - 1]
    # The first line's text is read with its indentation stripped; continuation lines are kept whole.
    lead = len(physical) - len(physical.lstrip(GO_SPACE)) if line == instruction.start_line else 0
    column = lead + position - starts[segment]
    if physical[column:column + length] != text:
        return None
    return line, column + 1, column + 1 + length


def insert_after(path: str, span: Span, text: str) -> Edit:
    line, _, end = span
    return insert(path, line, end, text)


# --- CI scripts and other line-based files ----------------------------------------------------------------

_BEFORE = r"(?:(?<=^)|(?<=[\s;&|(`]))"
_AFTER = r"(?=$|[\s;&|)`])"


def line_words(lines: list[str] | None, line: int, words: tuple[str, ...]) -> list[Span] | None:
    """The places of `words`, written one after the other (blanks between) on physical line `line`: the
    only such run on that line, else None."""
    if lines is None or not words or not 1 <= line <= len(lines):
        return None
    physical = lines[line - 1]
    pattern = re.compile(_BEFORE + r"[ \t]+".join(f"({re.escape(w)})" for w in words) + _AFTER)
    matches = list(pattern.finditer(physical))
    if len(matches) != 1:
        return None
    match = matches[0]
    return [(line, match.start(i) + 1, match.end(i) + 1) for i in range(1, len(words) + 1)]


def command_word(lines: list[str] | None, command: SimpleCommand, index: int) -> Span | None:
    """The place of `command.raw_words[index]` when the command's words up to it are on the command's
    first line, written once there."""
    if not 0 <= index < len(command.raw_words):
        return None
    spans = line_words(lines, command.line, command.raw_words[:index + 1])
    return spans[-1] if spans else None


# --- facts --------------------------------------------------------------------------------------------------

_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
_EXACT = re.compile(r"^\s*(?:===?\s*)?(\d+\.\d+\.\d+)\s*$")


def local_uv_version(project: Project, folder: str = ".") -> tuple[str, str] | None:
    """The uv version this project uses, read statically, and where it was read: an exact
    `required-version` (uv.toml, then [tool.uv] of pyproject.toml, in `folder` then at the root), else the
    `uv` key that uv writes into the project's `.venv/pyvenv.cfg`. uv itself is never run."""
    from envdoctor.sources.pyproject import parse_pyproject
    from envdoctor.sources.toml import parse_toml
    from envdoctor.sources.venv import parse_pyvenv_cfg

    folders = [folder] if folder in (".", "") else [folder, "."]
    for where in folders:
        prefix = "" if where in (".", "") else where + "/"
        if f"{prefix}uv.toml" in project.files("uv.toml"):
            doc = project.parsed("uv.toml", f"{prefix}uv.toml", lambda text, _rel: parse_toml(text))
            value = doc.data.get("required-version") if doc is not None else None
            if isinstance(value, str) and (match := _EXACT.match(value)):
                return match.group(1), f"required-version in {prefix}uv.toml"
        if f"{prefix}pyproject.toml" in project.files("pyproject"):
            view = project.parsed("pyproject", f"{prefix}pyproject.toml", parse_pyproject)
            value = view.tool("uv").get("required-version") if view is not None else None
            if isinstance(value, str) and (match := _EXACT.match(value)):
                return match.group(1), f"required-version in {prefix}pyproject.toml"
    for where in folders:
        prefix = "" if where in (".", "") else where + "/"
        if f"{prefix}.venv" in project.environments and project.path_type(f"{prefix}.venv/pyvenv.cfg") == "file":
            cfg = project.parsed("pyvenv", f"{prefix}.venv/pyvenv.cfg", parse_pyvenv_cfg)
            value = cfg.get("uv") if cfg is not None else None
            if value and _VERSION.match(value):
                return value, f"{prefix}.venv/pyvenv.cfg"
    return None


def appended_lines(lines: list[str] | None, new: list[str], path: str) -> Edit:
    """Lines added at the end of a file (created when `lines` is None), after a line break if the file
    does not end with one."""
    if lines is None:
        return insert(path, 1, 1, "".join(f"{line}\n" for line in new))
    last = len(lines)
    column = len(lines[-1]) + 1
    lead = "" if lines[-1] == "" else "\n"
    return insert(path, last, column, lead + "".join(f"{line}\n" for line in new))
