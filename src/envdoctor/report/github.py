"""GitHub Actions workflow commands (`--format github`): each finding becomes an annotation on its file and
line, without a SARIF upload.

    ::error file=Dockerfile,line=3,col=1,endLine=3,title=ED101::Base image 'python:latest' floats: ...

Severity: error -> `::error`, warning -> `::warning`, info -> `::notice`. The message carries the rule
name and the fix hint on further lines. Escaping is GitHub's (`%`, CR, LF in the message; also `:` and
`,` in properties), after envdoctor's terminal-safety escaping, since the log is rendered in a browser.
A summary line closes the output. (GitHub shows at most 10 annotations of each kind per step; the log
keeps every line.)
"""

from __future__ import annotations

from typing import TextIO

from envdoctor.findings import Finding, Severity
from envdoctor.report import Report
from envdoctor.report.escape import safe
from envdoctor.report.location import clean_path
from envdoctor.report.text import summary_lines

COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(finding: Finding) -> str:
    properties: list[tuple[str, str]] = []
    path = clean_path(finding.path)
    if path is not None:  # a finding about the repository as a whole has no file to annotate
        properties += [("file", safe(path)), ("line", str(finding.line)), ("col", str(finding.column))]
        if finding.end_line is not None and finding.end_line > finding.line:
            properties.append(("endLine", str(finding.end_line)))
    properties.append(("title", finding.code))
    message = f"{finding.name}: {safe(finding.message)}"
    if finding.fix_hint:
        message += f"\nfix: {safe(finding.fix_hint)}"
    props = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{COMMANDS[finding.severity]} {props}::{escape_data(message)}"


def render(report: Report, stream: TextIO) -> None:
    for finding in report.findings:
        stream.write(command(finding) + "\n")
    for error in report.errors:
        stream.write(f"::error title=envdoctor::{escape_data(safe(error))}\n")
    stream.write("".join(text for text, _ in summary_lines(report)[-1]) + "\n")
