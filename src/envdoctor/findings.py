"""Findings: the values rules produce and reporters render."""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envdoctor.fixes import Fix


class Severity(enum.IntEnum):
    """How bad a finding is; ordered so that `fail-on` can compare."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (use error, warning or info)") from None


@dataclass(frozen=True)
class Finding:
    """One problem at one place.

    `path` is relative to the scanned root and uses `/`; lines and columns are 1-based, `end_*` are
    inclusive and None where unknown.
    """

    code: str
    name: str
    severity: Severity
    message: str
    path: str
    line: int = 1
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None
    fix_hint: str | None = None
    fix: Fix | None = None  # edits that fix it (`check --fix`), with their safety set: envdoctor/fixes.py

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.column, self.code)

    def with_severity(self, severity: Severity) -> Finding:
        return replace(self, severity=severity)


@dataclass(frozen=True)
class Hit:
    """What a rule reports: a finding without the rule's identity, which the engine adds.

    `path` None means the file the rule was given.
    """

    message: str
    line: int = 1
    column: int = 1
    end_line: int | None = None
    end_column: int | None = None
    fix_hint: str | None = None
    path: str | None = None
    fix: Fix | None = None  # edits that fix it; the rule's `fix_safety` applies unless it says "unsafe"
