"""SARIF 2.1.0 (`--format sarif`), as GitHub code scanning accepts it without post-processing.

- `tool.driver.rules[]` describes every rule that produced a finding, in code order, from the rule catalog
  (or a plugin rule's `documentation`); results point at it with `ruleId` and `ruleIndex`.
- Locations are relative URIs under `%SRCROOT%` (the project root; its absolute path is left out so that
  the log does not depend on where the repository was checked out). Columns count Unicode code points.
- `partialFingerprints.primaryLocationLineHash` is envdoctor's own content fingerprint (report/location.py):
  moving unrelated lines keeps it, so code scanning keeps one alert per problem; supplying it also spares
  the upload action re-reading the files.
- GitHub rejects a whole log in which one result has no file location, so a finding about the repository
  as a whole (path `.`) is carried as a tool notification instead of a result. Files that could not be read
  (ED001) are both results and notifications; internal errors are notifications and make
  `executionSuccessful` false.
- Deterministic: no timestamps, no absolute paths, everything in a fixed order; same input, same bytes.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

from envdoctor import __version__
from envdoctor.catalog import page_for, parse_page
from envdoctor.findings import Finding, Severity
from envdoctor.report import Report
from envdoctor.report.escape import safe
from envdoctor.report.location import fingerprints, uri
from envdoctor.rules.meta import UnparsableFile

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
# The project has no website yet: the repository is its home, and each rule's page there is its help.
# Change these two when the project moves (docs/ci.md says so too).
INFORMATION_URI = "https://github.com/envdoctor/envdoctor"
HELP_URI = INFORMATION_URI + "/blob/main/rules/{file}"
SRCROOT = "%SRCROOT%"

LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}

# Rules with a security angle and how serious on GitHub's scale (0.1-3.9 low, 4.0-6.9 medium, 7.0-8.9
# high, 9.0+ critical). These get the `security` tag, so code scanning files them as security alerts.
# A new rule whose finding lets unreviewed code or packages into a build belongs here.
SECURITY_SEVERITY = {
    "ED101": "6.5",  # a floating image: each build runs whatever the registry serves for that name today
    "ED102": "4.0",  # a tag can be re-pointed by whoever controls the registry; a digest cannot
    "ED106": "5.5",  # the image resolves packages at build time instead of installing the reviewed lock
    "ED107": "5.0",  # a package installed by name: whatever release is newest at build time
    "ED201": "5.0",  # no lockfile: every install resolves anew, unreviewed releases included
    "ED202": "5.0",  # a lockfile git does not track: CI and images cannot install what was reviewed
    "ED206": "5.0",  # the requirements installed from leave versions open, with no lock behind them
    "ED306": "4.0",  # a conda environment with unpinned packages and no conda lock
    "ED501": "5.5",  # CI installs the dependencies without the lock: what is tested is not what was locked
    "ED502": "4.0",  # CI runs a tool at whatever version is newest
}
# How often a rule's findings are right (GitHub orders alerts by it). envdoctor's rules report facts read
# from files, with precision first; "very-high" where a finding is true by construction.
PRECISION = {"ED001": "very-high", "ED002": "very-high", "ED003": "very-high", "ED101": "very-high",
             "ED102": "very-high"}
DEFAULT_PRECISION = "high"
FAMILY_TAGS = {"ED0": "envdoctor", "ED1": "dockerfile", "ED2": "lockfile", "ED3": "project-metadata",
               "ED4": "environment", "ED5": "ci"}


def rule_descriptor(code: str, report: Report) -> dict[str, Any]:
    rule = report.registry.lookup(code)
    if rule is None:  # not expected: every finding comes from a registered rule
        return {"id": code}
    builtin = page_for(code)  # a catalog page; a plugin rule may carry its own page as `documentation`
    page = builtin or (parse_page(rule.documentation) if rule.documentation else None)
    summary = rule.summary or (page.summary if page else "") or rule.name
    what = " ".join(page.sections.get("What it does", "").split()) if page else ""
    descriptor: dict[str, Any] = {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": summary},
        "fullDescription": {"text": what or summary},
    }
    if page is not None:
        descriptor["help"] = {"text": page.body, "markdown": page.body}
        if builtin is not None and builtin.path is not None:
            descriptor["helpUri"] = HELP_URI.format(file=builtin.path.name)
    descriptor["defaultConfiguration"] = {"level": LEVELS[rule.severity]}
    tags = [tag for prefix, tag in FAMILY_TAGS.items() if rule.code.startswith(prefix)]
    properties: dict[str, Any] = {"precision": PRECISION.get(rule.code, DEFAULT_PRECISION)}
    if rule.code in SECURITY_SEVERITY:
        tags += ["security", "supply-chain"]
        properties["security-severity"] = SECURITY_SEVERITY[rule.code]
    properties["tags"] = tags
    descriptor["properties"] = properties
    return descriptor


def _message(finding: Finding) -> dict[str, str]:
    """The message and its fix hint, with text from scanned files made inert for the pages that show it."""
    text = safe(finding.message)
    if finding.fix_hint:
        text += "\nFix: " + safe(finding.fix_hint)
    return {"text": text}


def _location(finding: Finding) -> dict[str, Any] | None:
    where = uri(finding.path)
    if where is None:
        return None
    region: dict[str, int] = {
        "startLine": finding.line,
        "startColumn": finding.column,
        "endLine": max(finding.end_line or finding.line, finding.line),
    }
    if finding.end_column is not None and (region["endLine"] > finding.line or finding.end_column >= finding.column):
        region["endColumn"] = finding.end_column + 1  # SARIF's end column is exclusive, ours inclusive
    return {"physicalLocation": {"artifactLocation": {"uri": where, "uriBaseId": SRCROOT}, "region": region}}


def _notification(text: str, level: str, location: dict[str, Any] | None = None,
                  rule: dict[str, Any] | None = None) -> dict[str, Any]:
    notification: dict[str, Any] = {"level": level, "message": {"text": text}}
    if location is not None:
        notification["locations"] = [location]
    if rule is not None:
        notification["associatedRule"] = rule
    return notification


def sarif_log(report: Report) -> dict[str, Any]:
    findings = sorted(report.findings, key=lambda f: (*f.sort_key(), f.message))
    codes = sorted({f.code for f in findings})
    rules = [rule_descriptor(code, report) for code in codes]
    index = {code: i for i, code in enumerate(codes)}
    results: list[dict[str, Any]] = []
    notifications: list[dict[str, Any]] = []
    for finding, (digest, occurrence) in zip(findings, fingerprints(findings, report.source_lines)):
        location = _location(finding)
        rule_ref = {"id": finding.code, "index": index[finding.code]}
        if location is None:
            # GitHub refuses a whole log with one unlocated result: keep the finding, as a notification.
            notifications.append(_notification(f"{finding.code} {_message(finding)['text']}",
                                               LEVELS[finding.severity], rule=rule_ref))
            continue
        results.append({
            "ruleId": finding.code,
            "ruleIndex": index[finding.code],
            "level": LEVELS[finding.severity],
            "message": _message(finding),
            "locations": [location],
            "partialFingerprints": {"primaryLocationLineHash": f"{digest}:{occurrence}"},
            **({"fixes": [_fix(finding)]} if finding.fix is not None else {}),
        })
        if finding.code == UnparsableFile.code:
            notifications.append(_notification(f"{safe(finding.path)}: {safe(finding.message)}", "error",
                                               location, rule_ref))
    notifications.extend(_notification(safe(error), "error") for error in report.errors)
    invocation: dict[str, Any] = {"executionSuccessful": not report.errors}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "envdoctor",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }},
            "invocations": [invocation],
            "originalUriBaseIds": {SRCROOT: {"description": {"text": "The root of the scanned project."}}},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    }


def render(report: Report, stream: TextIO) -> None:
    # ensure_ascii: every non-ASCII and control character is escaped, so the bytes are plain ASCII.
    json.dump(sarif_log(report), stream, indent=2, ensure_ascii=True)
    stream.write("\n")


def _fix(finding: Finding) -> dict[str, Any]:
    """The finding's fix as a SARIF `fix`: one `artifactChange` per file, each edit a `replacement` whose
    `deletedRegion` is empty for an insertion (regions in lines and code-point columns, the end exclusive,
    as envdoctor's edits are). A file that does not exist yet is edited at 1:1."""
    assert finding.fix is not None
    flags = "--fix --unsafe-fixes" if finding.fix.safety == "unsafe" else "--fix"
    by_path: dict[str, list[dict[str, Any]]] = {}
    for edit in finding.fix.edits:
        by_path.setdefault(edit.path, []).append({
            "deletedRegion": {"startLine": edit.line, "startColumn": edit.column,
                              "endLine": edit.end_line, "endColumn": edit.end_column},
            "insertedContent": {"text": edit.text},
        })
    return {
        "description": {"text": f"{safe(finding.fix.title)} ({finding.fix.safety} fix: envdoctor check {flags})"},
        "artifactChanges": [{"artifactLocation": {"uri": uri(path) or path, "uriBaseId": SRCROOT},
                             "replacements": replacements} for path, replacements in sorted(by_path.items())],
    }
