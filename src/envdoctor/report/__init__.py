"""Reporters turn a finished scan into one output format each. No rule logic, no I/O beyond the stream."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, TextIO

from envdoctor.findings import Finding, Severity

if TYPE_CHECKING:
    from envdoctor.registry import Registry, Rule

# Format name -> module in this package with `render(report, stream)`; imported only when asked for.
FORMATS = {"text": "text", "concise": "concise", "json": "json", "sarif": "sarif", "github": "github",
           "gitlab": "gitlab", "junit": "junit"}


def no_source(path: str) -> list[str] | None:
    """The `source_lines` of a report built without a project: no file content is known."""
    return None


@dataclass
class Report:
    findings: list[Finding]
    rules: list[Rule]  # the rules that ran
    registry: Registry
    files_read: int
    fail_on: Severity
    color: bool = False
    statistics: bool = False
    verbose: bool = False
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # internal errors, for formats that carry them
    # The physical lines of a reported file (None if unreadable), read lazily: only the formats that
    # fingerprint content (sarif, gitlab) call it. Reporters never open files themselves.
    source_lines: Callable[[str], list[str] | None] = no_source
    unsafe_fixes: bool = False  # `--unsafe-fixes`: unsafe fixes count as fixable too
    fixed: int | None = None  # findings fixed by `--fix` (None: not a fix run); `findings` are what remains

    def fixable(self, finding: Finding) -> bool:
        """The finding has a fix that `--fix` applies with the flags given."""
        return finding.fix is not None and (self.unsafe_fixes or finding.fix.safety == "safe")

    @property
    def failing(self) -> list[Finding]:
        return [f for f in self.findings if f.severity >= self.fail_on]

    def counts(self) -> dict[Severity, int]:
        counts = {s: 0 for s in Severity}
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts


def renderer(name: str) -> Callable[[Report, TextIO], None]:
    return importlib.import_module(f"envdoctor.report.{FORMATS[name]}").render
