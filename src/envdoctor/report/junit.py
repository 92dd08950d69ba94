"""JUnit XML (`--format junit`), for CI systems that show test reports (Jenkins, Azure Pipelines, GitLab's
test report, CircleCI).

One `<testsuite>` per file with findings, one `<testcase>` per finding. Findings at or above `fail-on` are
`<failure>`s; findings below it are `<skipped>` (shown, but they do not fail the report, as they do not
fail the run); internal errors are `<error>`s. A clean scan is one passing test case, so that the report
is never empty. No timestamps or host names: the same input gives the same bytes.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TextIO

from envdoctor.findings import Finding
from envdoctor.report import Report
from envdoctor.report.escape import safe
from envdoctor.report.location import clean_path
from envdoctor.report.text import summary_lines

# Characters XML 1.0 cannot carry at all; `safe` has already made every control character visible.
_NOT_XML_RE = re.compile("[\ufffe\uffff\ud800-\udfff]")


def _text(value: str) -> str:
    return _NOT_XML_RE.sub("\ufffd", safe(value))


def _path(finding: Finding) -> str:
    return _text(clean_path(finding.path) or ".")


def _case(finding: Finding, failing: bool) -> ET.Element:
    path = _path(finding)
    case = ET.Element("testcase", {
        "name": f"{finding.code} {finding.name} at {path}:{finding.line}:{finding.column}",
        "classname": f"envdoctor.{finding.code}",
        "file": path,
        "line": str(finding.line),
    })
    message = _text(finding.message)
    detail = f"{path}:{finding.line}:{finding.column}: {finding.code} [{finding.severity.label}] {message}"
    if finding.fix_hint:
        detail += f"\nfix: {_text(finding.fix_hint)}"
    if failing:
        child = ET.SubElement(case, "failure", {"message": message, "type": finding.code})
    else:
        child = ET.SubElement(case, "skipped", {"message": f"below fail-on: {message}"})
    child.text = detail
    return case


def junit_tree(report: Report) -> ET.Element:
    suites: dict[str, list[ET.Element]] = {}
    failures: dict[str, int] = {}
    skipped: dict[str, int] = {}
    for finding in report.findings:
        failing = finding.severity >= report.fail_on
        path = _path(finding)
        suites.setdefault(path, []).append(_case(finding, failing))
        counter = failures if failing else skipped
        counter[path] = counter.get(path, 0) + 1
    root = ET.Element("testsuites", {"name": "envdoctor"})
    for path in sorted(suites):
        suite = ET.SubElement(root, "testsuite", {
            "name": path, "tests": str(len(suites[path])), "failures": str(failures.get(path, 0)),
            "errors": "0", "skipped": str(skipped.get(path, 0)),
        })
        suite.extend(suites[path])
    if report.errors:
        suite = ET.SubElement(root, "testsuite", {"name": "envdoctor", "tests": str(len(report.errors)),
                                                  "failures": "0", "errors": str(len(report.errors)), "skipped": "0"})
        for number, error in enumerate(report.errors, 1):
            case = ET.SubElement(suite, "testcase", {"name": f"internal error {number}", "classname": "envdoctor"})
            ET.SubElement(case, "error", {"message": _text(error), "type": "internal-error"})
    if not report.findings and not report.errors:
        summary = "".join(text for text, _ in summary_lines(report)[-1])
        suite = ET.SubElement(root, "testsuite", {"name": "envdoctor", "tests": "1", "failures": "0",
                                                  "errors": "0", "skipped": "0"})
        ET.SubElement(ET.SubElement(suite, "testcase", {"name": "envdoctor check", "classname": "envdoctor"}),
                      "system-out").text = summary
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in root:
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    root.attrib.update({key: str(value) for key, value in totals.items()})
    return root


def render(report: Report, stream: TextIO) -> None:
    root = junit_tree(report)
    ET.indent(root)
    stream.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    stream.write(ET.tostring(root, encoding="unicode"))
    stream.write("\n")
