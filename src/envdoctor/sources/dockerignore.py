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

Scale: "the last pattern that matches the path or a parent" is not found by trying every pattern on
every path (10,000 patterns times 20,000 COPY sources took minutes). The patterns are indexed once
(`_Index`): a pattern without wildcards matches one string only (a dict); one whose first segments are
literal can only match below them (a dict by that folder); one that starts with a wildcard can only
match paths that end with its literal tail (a dict by the tail's last few characters). A path's
candidates are tried from the last pattern back, stopping at the first that matches, and each path's
answer is kept, so a parent folder shared by many paths is looked at once.
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
        """The pattern matches the path or one of its parent folders (one pattern, by itself: a
        DockerIgnore answers for all its patterns through its index)."""
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
    _index: _Index = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", _Index(self.patterns))

    def deciding(self, path: str) -> IgnorePattern | None:
        """The last pattern that matches `path` (relative to the context, `/`-separated), or None."""
        found = self._index.deciding(clean_path(path))
        return self.patterns[found] if found >= 0 else None

    def excludes(self, path: str) -> bool:
        """Whether the build context leaves this path out."""
        pattern = self.deciding(path)
        return pattern is not None and not pattern.exclusion

    @property
    def has_exceptions(self) -> bool:
        return any(p.exclusion for p in self.patterns)

    def may_include_below(self, folder: str) -> bool:
        """Whether some `!` exception could re-include a path below `folder` (then an excluded folder is
        not wholly left out): any exception when `folder` is the context itself, an exception with a
        wildcard, or one written below `folder`."""
        folder = clean_path(folder)
        index = self._index
        return index.any_exception and (folder == "." or index.wild_exception or folder in index.exception_parents)


_WILD = frozenset("*?[\\")  # a segment with one of these is not literal
_TAIL_STOP = frozenset("*?[]\\")  # a pattern's literal tail is what follows the last of these
_TAIL_KEY = 4  # wildcard-led patterns are indexed by the last (up to) 4 characters of their literal tail


class _Index:
    """Which patterns may match a path, without trying them all (see the module's docstring).

    Every pattern sits in one place: `exact` (no wildcard: its regex matches its own text only, so a
    dict from that text to the last such pattern), `below` (its first segments are literal and a later
    one is not: the regex starts with those segments and a `/`, so only a path below that folder can
    match), or `tails` (it starts with a wildcard: the regex ends with the literal tail, so only a path
    ending with it can match). Lists hold pattern numbers in file order; a path's candidates are tried
    last first, and the first that matches decides, as the last matching pattern does in Docker.
    """

    def __init__(self, patterns: tuple[IgnorePattern, ...]) -> None:
        self.patterns = patterns
        self.exact: dict[str, int] = {}
        self.below: dict[str, list[int]] = {}
        self.tails: dict[str, list[int]] = {}
        self.itself: dict[str, int] = {}  # memo: the last pattern matching exactly this path (-1: none)
        self.memo: dict[str, int] = {}  # memo: the last pattern matching this path or a parent (-1: none)
        self.exception_parents: set[str] = set()  # folders with an exception written below them
        self.any_exception = False
        self.wild_exception = False
        for number, item in enumerate(patterns):
            text = item.pattern
            if item.exclusion:
                self.any_exception = True
                if "*" in text or "?" in text or "[" in text:
                    self.wild_exception = True
                self.exception_parents.update(text[:i] for i, ch in enumerate(text) if ch == "/")
            segments = text.split("/")
            literal = 0
            while literal < len(segments) and not _WILD.intersection(segments[literal]):
                literal += 1
            if literal == len(segments):
                self.exact[text] = number  # a later one with the same text wins
            elif literal:
                self.below.setdefault("/".join(segments[:literal]), []).append(number)
            else:
                stop = max((i for i, ch in enumerate(text) if ch in _TAIL_STOP), default=-1)
                tail = text[stop + 1:].lstrip("/")  # `**/x` matches `x`: its tail is `x`, not `/x`
                self.tails.setdefault(tail[-_TAIL_KEY:] if tail else "", []).append(number)

    def deciding(self, path: str) -> int:
        """The number of the last pattern that matches `path` or one of its parents (-1: none). The
        parents are those of moby's MatchesOrParentMatches: the path's `/`-separated prefixes."""
        found = self.memo.get(path)
        if found is not None:
            return found
        pending = [path]
        while True:  # up to the nearest parent already answered (a loop: paths may be deep)
            cut = pending[-1].rfind("/")
            if cut < 0:
                found = -1
                break
            parent = pending[-1][:cut]
            known = self.memo.get(parent)
            if known is not None:
                found = known
                break
            pending.append(parent)
        for item in reversed(pending):
            found = max(found, self._itself(item))
            self.memo[item] = found
        return found

    def _itself(self, path: str) -> int:
        """The number of the last pattern that matches exactly `path` (-1: none)."""
        found = self.itself.get(path)
        if found is not None:
            return found
        found = self.exact.get(path, -1)
        candidates = []
        if self.below:
            cut = path.find("/")
            while cut >= 0:
                bucket = self.below.get(path[:cut])
                if bucket is not None:
                    candidates.append(bucket)
                cut = path.find("/", cut + 1)
        if self.tails:
            for size in range(min(_TAIL_KEY, len(path)) + 1):
                bucket = self.tails.get(path[len(path) - size:])
                if bucket is not None:
                    candidates.append(bucket)
        for bucket in candidates:
            for number in reversed(bucket):
                if number <= found:
                    break
                if self.patterns[number].regex.match(path):
                    found = number
                    break
        self.itself[path] = found
        return found


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
                out.append(".*" if i >= n else "(?:.*/)?")
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
    out.append(r"\Z")  # the end of the path, as Go's `$` (Python's `$` also matches before a final newline)
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
