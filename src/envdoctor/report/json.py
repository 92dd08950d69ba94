"""The JSON format (documented in docs/json-format.md; `format_version` changes only on a breaking change)."""

from __future__ import annotations

import json
from typing import Any, TextIO

from envdoctor import __version__
from envdoctor.findings import Finding
from envdoctor.report import Report
from envdoctor.report.escape import safe

FORMAT_VERSION = 1


def finding_dict(finding: Finding) -> dict[str, Any]:
    # Text that may quote a scanned file is escaped as in every format (report/escape.py): a consumer that
    # decodes the JSON and prints a message (`jq -r .findings[].message`) prints no live escape sequence.
    return {
        "code": finding.code,
        "name": finding.name,
        "severity": finding.severity.label,
        "message": safe(finding.message),
        "path": safe(finding.path),
        "line": finding.line,
        "column": finding.column,
        "end_line": finding.end_line,
        "end_column": finding.end_column,
        "fix_hint": None if finding.fix_hint is None else safe(finding.fix_hint),
    }


def render(report: Report, stream: TextIO) -> None:
    counts = report.counts()
    document = {
        "format_version": FORMAT_VERSION,
        "tool": {"name": "envdoctor", "version": __version__},
        "summary": {
            "findings": len(report.findings),
            **{severity.label: count for severity, count in sorted(counts.items(), reverse=True)},
            "files_read": report.files_read,
            "rules_run": [rule.code for rule in report.rules],
            "fail_on": report.fail_on.label,
            "failed": bool(report.failing),
        },
        "findings": [finding_dict(f) for f in report.findings],
        "errors": [safe(error) for error in report.errors],
    }
    # ensure_ascii: every non-ASCII character is escaped too, so the bytes themselves are plain ASCII.
    json.dump(document, stream, indent=2, ensure_ascii=True)
    stream.write("\n")
