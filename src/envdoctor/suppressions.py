"""Inline suppressions: `# envdoctor: ignore[ED101]` (codes or names, comma-separated, a reason may follow).

A comment at the end of a line covers that line; a comment on a line of its own covers the next line that
is neither blank nor a comment (for a Dockerfile instruction spanning several lines: all of them). Like
ruff's noqa, a suppression that suppresses nothing (ED002) or cannot be understood (ED003) is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable

# `#` at the start of a line or after white space, so that `a#b` or a URL fragment is no comment.
_MARKER_RE = re.compile(r"(?:^|(?<=\s))#\s*envdoctor\s*:\s*(?P<body>.*)$", re.IGNORECASE)
_IGNORE_RE = re.compile(r"^ignore\s*\[(?P<codes>[^\]]*)\](?P<rest>.*)$", re.IGNORECASE)


@dataclass
class Suppression:
    line: int  # where the comment is
    codes: tuple[str, ...]  # as written
    first: int  # first and last line covered
    last: int
    used: set[str] = field(default_factory=set)  # the written selectors that suppressed something
    error: str | None = None  # why it is malformed, if it is


@dataclass
class SuppressionIndex:
    entries: list[Suppression] = field(default_factory=list)

    def extend_over(self, spans: Iterable[tuple[int, int]]) -> None:
        """Widen suppressions that cover the first line of a span (an instruction) to the whole span."""
        for start, end in spans:
            for entry in self.entries:
                if entry.first == start and entry.last < end:
                    entry.last = end

    def covering(self, line: int) -> list[Suppression]:
        return [s for s in self.entries if s.error is None and s.first <= line <= s.last]


def parse_suppressions(lines: list[str]) -> SuppressionIndex:
    index = SuppressionIndex()
    if "envdoctor" not in "\n".join(lines).lower():
        return index  # most files have none: one pass instead of a line-by-line state machine
    pending: list[Suppression] = []  # own-line comments waiting for the line they cover
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if "envdoctor" in line.lower():
            match = _MARKER_RE.search(line)
            if match:
                entry = _parse_body(match.group("body"), number)
                index.entries.append(entry)
                if line[: match.start()].strip():
                    entry.first = entry.last = number  # end-of-line comment
                else:
                    pending.append(entry)
                continue
        if not stripped or stripped.startswith("#"):
            continue
        for entry in pending:
            entry.first = entry.last = number
        pending.clear()
    for entry in pending:  # a comment at the end of the file covers nothing
        entry.first, entry.last = entry.line, entry.line
    return index


def _parse_body(body: str, number: int) -> Suppression:
    entry = Suppression(line=number, codes=(), first=number, last=number)
    match = _IGNORE_RE.match(body.strip())
    if match is None:
        entry.error = "expected `# envdoctor: ignore[CODE, ...]`"
        return entry
    codes = tuple(c.strip() for c in match.group("codes").split(",") if c.strip())
    if not codes:
        entry.error = "names no rule: write the codes to ignore, e.g. `ignore[ED101]`"
    entry.codes = codes
    return entry
