"""TOML documents with line numbers.

tomllib gives values but no positions, so `TomlDocument.line_of` finds the line where a key path is
written by scanning the lines for table headers and `key =` assignments (dotted keys and quoted keys
included). Values spanning lines (arrays, multi-line strings) are skipped over correctly enough for keys.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Any

from envdoctor.files import SourceError, split_lines

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_POSITION_RE = re.compile(r"\(at line (\d+), column (\d+)\)")
_HEADER_RE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY_RE = re.compile(r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")


class TomlError(SourceError):
    def __init__(self, message: str, position: tuple[int, int]) -> None:
        super().__init__(message)
        self.position = position


def _split_key(text: str) -> tuple[str, ...]:
    parts = re.findall(r'"([^"]*)"|\'([^\']*)\'|([A-Za-z0-9_-]+)', text)
    return tuple(a or b or c for a, b, c in parts)


@dataclass
class TomlDocument:
    data: dict[str, Any]
    lines: list[str]
    _index: dict[tuple[str, ...], int] | None = field(default=None, repr=False)

    def line_of(self, *keys: str) -> int | None:
        """The 1-based line where the key path is defined (a table header or an assignment), or None."""
        if self._index is None:
            self._index = self._build_index()
        return self._index.get(tuple(keys))

    def drop_lines(self) -> None:
        """Forget the text's lines (line_of then answers None): for large documents kept for their data."""
        self.lines = []
        self._index = {}

    def line_near(self, *keys: str) -> int:
        """The line of a key path, else of its nearest enclosing table that is written, else 1."""
        for end in range(len(keys), 0, -1):
            line = self.line_of(*keys[:end])
            if line is not None:
                return line
        return 1

    def _build_index(self) -> dict[tuple[str, ...], int]:
        index: dict[tuple[str, ...], int] = {}
        table: tuple[str, ...] = ()
        depth = 0  # open brackets of a multi-line value: keys inside it are not top-level keys
        in_string: str | None = None
        for number, line in enumerate(self.lines, start=1):
            if in_string:
                if in_string in line:
                    in_string = None
                continue
            if depth == 0:
                header = _HEADER_RE.match(line)
                if header:
                    table = _split_key(header.group(1))
                    index.setdefault(table, number)
                    continue
                key = _KEY_RE.match(line)
                if key:
                    path = table + _split_key(key.group(1))
                    for i in range(len(table) + 1, len(path) + 1):
                        index.setdefault(path[:i], number)
                    line = line[key.end():]
            depth, in_string = _scan_value(line, depth)
        return index


def _scan_value(line: str, depth: int) -> tuple[int, str | None]:
    """Track bracket depth across lines, ignoring brackets in strings and comments."""
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == "#":
            break
        if line.startswith(('"""', "'''"), i):
            quote = line[i:i + 3]
            end = line.find(quote, i + 3)
            if end < 0:
                return depth, quote
            i = end + 3
            continue
        if ch in "\"'":
            end = i + 1
            while end < len(line) and line[end] != ch:
                end += 2 if (ch == '"' and line[end] == "\\") else 1
            i = end + 1
            continue
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth = max(depth - 1, 0)
        i += 1
    return depth, None


def parse_toml(text: str) -> TomlDocument:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _POSITION_RE.search(message)
        position = (int(match.group(1)), int(match.group(2))) if match else (1, 1)
        reason = _POSITION_RE.sub("", message).strip().rstrip(".")
        raise TomlError(f"is not valid TOML: {reason} (line {position[0]}, column {position[1]})",
                        position) from None
    except RecursionError:
        raise TomlError("is not valid TOML: nested too deeply", (1, 1)) from None
    return TomlDocument(data, split_lines(text))
