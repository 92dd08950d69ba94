"""GitLab Code Quality report (`--format gitlab`): a JSON array, one issue per finding, for
`artifacts: reports: codequality:` (see docs/ci.md).

Each issue has `description`, `check_name` (the rule code), `fingerprint` (stable when unrelated lines
move, see report/location.py, so merge requests show only new and fixed findings), `severity` and
`location.path` / `location.lines.begin`. Severity: error -> major, warning -> minor, info -> info.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, TextIO

from envdoctor.findings import Severity
from envdoctor.report import Report
from envdoctor.report.escape import safe
from envdoctor.report.location import clean_path, fingerprints

SEVERITIES = {Severity.ERROR: "major", Severity.WARNING: "minor", Severity.INFO: "info"}


def issues(report: Report) -> list[dict[str, Any]]:
    out = []
    for finding, (digest, occurrence) in zip(report.findings, fingerprints(report.findings, report.source_lines)):
        description = f"{finding.code} {finding.name}: {safe(finding.message)}"
        if finding.fix_hint:
            description += f" Fix: {safe(finding.fix_hint)}"
        lines = {"begin": finding.line}
        if finding.end_line is not None and finding.end_line > finding.line:
            lines["end"] = finding.end_line
        out.append({
            "description": description,
            "check_name": finding.code,
            "fingerprint": hashlib.sha256(f"{digest}:{occurrence}".encode()).hexdigest()[:32],
            "severity": SEVERITIES[finding.severity],
            "location": {"path": clean_path(finding.path) or ".", "lines": lines},
        })
    return out


def render(report: Report, stream: TextIO) -> None:
    json.dump(issues(report), stream, indent=2, ensure_ascii=True)
    stream.write("\n")
