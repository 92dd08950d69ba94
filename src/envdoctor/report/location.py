"""What the CI formats (sarif, gitlab, github, junit) share: safe relative paths and stable fingerprints.

A fingerprint identifies a finding across commits without its line number, so that code scanning and
GitLab keep one alert per problem while unrelated lines move: it hashes the rule code, the path and the
normalised content of the offending line(s) (white space collapsed), plus an occurrence index that tells
identical lines in one file apart. When the file cannot be read (an ED001), the message stands in for the
content. The algorithm is part of the output contract: changing it re-opens every alert, so don't.
"""

from __future__ import annotations

import hashlib
from typing import Callable
from urllib.parse import quote

from envdoctor.findings import Finding

MAX_LINES = 20  # of a multi-line finding, the lines that go into its fingerprint


def clean_path(path: str) -> str | None:
    """`path` as a `/`-separated path below the scanned root, without `.` segments; None for the root
    itself and for a path that would leave it (absolute, or with a `..` segment)."""
    if not path or path.startswith("/"):
        return None
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def uri(path: str) -> str | None:
    """The relative URI reference of a path (percent-encoded UTF-8, `/` kept), or None as for clean_path."""
    clean = clean_path(path)
    return None if clean is None else quote(clean, safe="/")


def _content(finding: Finding, source_lines: Callable[[str], list[str] | None]) -> str:
    lines = source_lines(finding.path) if clean_path(finding.path) else None
    if lines is None:
        return "message\0" + finding.message
    last = min(max(finding.end_line or finding.line, finding.line), finding.line + MAX_LINES - 1)
    return "lines\0" + "\n".join(" ".join(line.split()) for line in lines[finding.line - 1:last])


def fingerprints(findings: list[Finding], source_lines: Callable[[str], list[str] | None]) -> list[tuple[str, int]]:
    """(content hash, 1-based occurrence) of each finding, in the order given (the report's sorted order)."""
    seen: dict[str, int] = {}
    out = []
    for finding in findings:
        material = f"{finding.code}\0{finding.path}\0{_content(finding, source_lines)}"
        digest = hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        seen[digest] = seen.get(digest, 0) + 1
        out.append((digest, seen[digest]))
    return out
