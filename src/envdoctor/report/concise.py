"""One line per finding, `path:line:col: CODE [severity] message`, as editors and grep expect."""

from __future__ import annotations

from typing import TextIO

from envdoctor.report import Report
from envdoctor.report.escape import safe
from envdoctor.report.text import summary_lines


def render(report: Report, stream: TextIO) -> None:
    for f in report.findings:
        stream.write(f"{safe(f.path)}:{f.line}:{f.column}: {f.code} [{f.severity.label}] {safe(f.message)}\n")
    stream.write("".join(text for text, _ in summary_lines(report)[-1]) + "\n")
