""".dockerignore files, read and matched with Docker's own pattern rules (moby's patternmatcher).

Reading (as `ignorefile.ReadAll`): a UTF-8 byte-order mark is dropped; a line whose first character is
`#` is a comment; every other line is trimmed, and blank lines are skipped; `!` makes an exception (the
text after it is trimmed again); the pattern is cleaned like Go's `filepath.Clean` (`./a//b/` -> `a/b`),
and one leading `/` is dropped, so `/foo`, `./foo` and `foo/` all mean `foo` at the context root.

Matching (as `MatchesOrParentMatches`): a pattern is Go's `filepath.Match` syntax plus `**` (`*` and `?`
never match `/`; `[...]` classes, negated with `^`; `\\` escapes the next character; `**/` matches any
number of folders, none included; a trailing `**` matches anything); it matches a path when it matches
the path itself or one of its parent folders; the patterns are applied in order and the last one that
matches decides, so a later `!pattern` re-includes what an earlier line excluded.

A pattern Docker refuses (a bare `!`, an unterminated `[`) fails the build: the reader raises
`SourceError` for it, so the file is reported (ED001) and the rules that need it say nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from envdoctor.files import SourceError, split_lines

__all__ = ["DockerIgnore", "IgnorePattern", "clean_path", "parse_dockerignore"]


class DockerIgnoreError(SourceError):
    def __init__(self, message: str, position: tuple[int, int]) -> None:
        super().__init__(message)
        self.position = position


@dataclass(frozen=True)
class IgnorePattern:
    line: int  # 1-based line in the .dockerignore file
    pattern: str  # cleaned, without the `!`
    exclusion: bool  # written with `!`: re-includes what matches
    regex: re.Pattern[str] = field(repr=False, compare=False)

    def matches(self, path: str) -> bool:
        """The pattern matches the path or one of its parent folders."""
        if self.regex.match(path):
            return True
        parts = path.split("/")
        return any(self.regex.match("/".join(parts[:i])) for i in range(1, len(parts)))

    def __str__(self) -> str:
        return ("!" if self.exclusion else "") + self.pattern


@dataclass(frozen=True)
class DockerIgnore:
    path: str  # relative to the scanned root
    patterns: tuple[IgnorePattern, ...]

    def deciding(self, path: str) -> IgnorePattern | None:
        """The last pattern that matches `path` (relative to the context, `/`-separated), or None."""
        path = clean_path(path)
        found = None
        for pattern in self.patterns:
            if pattern.matches(path):
                found = pattern
        return found

    def excludes(self, path: str) -> bool:
        """Whether the build context leaves this path out."""
        pattern = self.deciding(path)
        return pattern is not None and not pattern.exclusion

    @property
    def has_exceptions(self) -> bool:
        return any(p.exclusion for p in self.patterns)

    def may_include_below(self, folder: str) -> bool:
        """Whether some `!` exception could re-include a path below `folder` (then an excluded folder is
        not wholly left out)."""
        folder = clean_path(folder)
        return any(p.exclusion and (folder == "." or p.pattern.startswith(folder + "/") or "*" in p.pattern
                                    or "?" in p.pattern or "[" in p.pattern)
                   for p in self.patterns)


def clean_path(path: str) -> str:
    """Go's `filepath.Clean` for `/`-separated paths: `.` and empty parts dropped, `..` resolved."""
    if not path:
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(part)
    cleaned = "/".join(parts)
    if rooted:
        return "/" + cleaned
    return cleaned or "."


def parse_dockerignore(text: str, rel: str = ".dockerignore") -> DockerIgnore:
    patterns: list[IgnorePattern] = []
    for number, line in enumerate(split_lines(text.removeprefix("\ufeff")), start=1):
        if line.startswith("#"):
            continue
        pattern = line.strip()
        if not pattern:
            continue
        exclusion = pattern.startswith("!")
        if exclusion:
            pattern = pattern[1:].strip()
            if not pattern:
                raise DockerIgnoreError(f"has an exception `!` with no pattern on line {number}; "
                                        f"Docker refuses it", (number, 1))
        pattern = clean_path(pattern)
        if len(pattern) > 1 and pattern.startswith("/"):
            pattern = pattern[1:]
        try:
            regex = _compile(pattern)
        except (ValueError, re.error):
            raise DockerIgnoreError(f"has a pattern Docker refuses on line {number}: {pattern!r}",
                                    (number, 1)) from None
        patterns.append(IgnorePattern(number, pattern, exclusion, regex))
    return DockerIgnore(rel, tuple(patterns))


_SPECIAL = set(".+()|{}$^")


def _compile(pattern: str) -> re.Pattern[str]:
    """patternmatcher's translation of a pattern into an anchored regular expression."""
    out = ["^"]
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            if i < n and pattern[i] == "*":
                i += 1
                if i < n and pattern[i] == "/":
                    i += 1  # `**/` is read as `**`
                out.append(".*" if i >= n else "(.*/)?")
            else:
                out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\":
            if i < n:
                out.append(re.escape(pattern[i]))
                i += 1
            else:
                raise ValueError("trailing backslash")
        elif ch == "[":
            i = _char_class(pattern, i, out)
        elif ch in _SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(re.escape(ch))
    out.append("$")
    return re.compile("".join(out), re.DOTALL)


def _char_class(pattern: str, i: int, out: list[str]) -> int:
    """A `[...]` class from just after the `[`: Go's syntax (`^` negates, `\\` escapes, `a-z` ranges)."""
    n = len(pattern)
    parts = ["["]
    if i < n and pattern[i] == "^":
        parts.append("^")
        i += 1
    first = True
    while True:
        if i >= n:
            raise ValueError("unterminated character class")
        ch = pattern[i]
        if ch == "]" and not first:
            parts.append("]")
            out.append("".join(parts))
            return i + 1
        if ch == "\\":
            i += 1
            if i >= n:
                raise ValueError("unterminated character class")
            ch = pattern[i]
        parts.append(re.escape(ch) if ch != "-" or first else "-")
        first = False
        i += 1
