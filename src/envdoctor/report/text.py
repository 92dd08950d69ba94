"""The default, human format: findings grouped by file, each with its fix hint, then a summary line.

Lines are built as (text, style) segments: on a terminal rich renders the styles; elsewhere (a pipe, a
file, NO_COLOR) the plain text is written and rich is never imported.
"""

from __future__ import annotations

from typing import TextIO

from envdoctor.findings import Finding, Severity
from envdoctor.report import Report
from envdoctor.report.escape import safe

Segment = tuple[str, str]  # (text, rich style name or "")
SEVERITY_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def finding_lines(finding: Finding, fixable: bool = False) -> list[list[Segment]]:
    where = f"{finding.line}:{finding.column}"
    lines = [[
        ("  ", ""), (f"{where:<7}", "dim"), (f"{finding.severity.label:<8}", SEVERITY_STYLE[finding.severity]),
        (finding.code, "bold"), (" [*]" if fixable else "", "cyan"), (" ", ""), (finding.name, "magenta"), ("  ", ""),
        (safe(finding.message), ""),
    ]]
    if finding.fix_hint:
        lines.append([(" " * 17, ""), ("fix: ", "green"), (safe(finding.fix_hint), "")])
    return lines


def summary_lines(report: Report) -> list[list[Segment]]:
    counts = report.counts()
    lines: list[list[Segment]] = []
    if report.statistics and report.findings:
        per_rule: dict[tuple[str, str], int] = {}
        for finding in report.findings:
            per_rule[(finding.code, finding.name)] = per_rule.get((finding.code, finding.name), 0) + 1
        for (code, name), count in sorted(per_rule.items(), key=lambda kv: (-kv[1], kv[0])):
            lines.append([(f"{count:>5}  ", "bold"), (code, "bold"), (f"  {name}", "magenta")])
        lines.append([])
    files = _plural(report.files_read, "file")
    if not report.findings:
        if report.fixed:
            lines.append([(fixed_summary(report), "bold green")])
            return lines
        lines.append([("All clear: ", "bold green"), (f"no problems in {files} read, {_plural(len(report.rules), 'rule')} run.", "")])
        return lines
    parts = ", ".join(_plural(counts[s], s.label).replace("infos", "info") for s in sorted(Severity, reverse=True) if counts[s])
    paths = len({f.path for f in report.findings})
    if report.fixed:
        line: list[Segment] = [(f"{fixed_summary(report)[:-1]} ({parts}) in {_plural(paths, 'file')}.", "bold")]
    else:
        line = [(f"Found {_plural(len(report.findings), 'problem')} ({parts}) in {_plural(paths, 'file')}.", "bold")]
    below = len(report.findings) - len(report.failing)
    if below:
        line.append((f" {below} below fail-on={report.fail_on.label} do not fail the run.", "dim"))
    fixable = fixable_summary(report)
    if fixable:
        line.append((f" {fixable}", "cyan"))
    lines.append(line)
    return lines


def fixed_summary(report: Report) -> str:
    """After `--fix`: "Fixed 3 problems; 2 remain." """
    remaining = len(report.findings)
    remain = "none remain" if not remaining else f"{remaining} remain{'s' if remaining == 1 else ''}"
    return f"Fixed {_plural(report.fixed or 0, 'problem')}; {remain}."


def fixable_summary(report: Report) -> str:
    """"3 fixable with --fix (1 more with --unsafe-fixes)." or "" when nothing is fixable."""
    fixable = sum(1 for f in report.findings if report.fixable(f))
    more = sum(1 for f in report.findings if f.fix is not None and not report.fixable(f))
    if fixable and more:
        return f"{fixable} fixable with --fix ({more} more with --unsafe-fixes)."
    if fixable:
        return f"{fixable} fixable with --fix."
    if more:
        return f"{more} fixable with --fix --unsafe-fixes."
    return ""


def render(report: Report, stream: TextIO) -> None:
    lines: list[list[Segment]] = []
    current: str | None = None
    for finding in report.findings:
        if finding.path != current:
            if current is not None:
                lines.append([])
            current = finding.path
            lines.append([(safe(finding.path), "bold underline")])
        lines.extend(finding_lines(finding, report.fixable(finding)))
    if report.findings:
        lines.append([])
    lines.extend(summary_lines(report))
    if report.verbose:
        lines.extend([("note: ", "dim"), (safe(note), "dim")] for note in report.notes)
    write_lines(lines, stream, report.color)


def write_lines(lines: list[list[Segment]], stream: TextIO, color: bool) -> None:
    if not color:
        stream.write("".join("".join(text for text, _ in line) + "\n" for line in lines))
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(file=stream, force_terminal=True, highlight=False, soft_wrap=True, emoji=False)
    for line in lines:
        console.print(Text.assemble(*line))
