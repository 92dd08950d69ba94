"""`--format github`: GitHub Actions workflow commands, one annotation per finding."""

from __future__ import annotations

import re

import pytest
from report_helpers import finding, made, rendered

from envdoctor.findings import Severity
from envdoctor.report.github import escape_data, escape_property

COMMAND_RE = re.compile(r"^::(error|warning|notice) (?P<props>[^:]*)::(?P<message>.*)$")


def commands(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("::")]


def test_each_finding_is_a_workflow_command_with_file_line_col_and_title(repo):
    repo.write("docker/api.Dockerfile", "# syntax=docker/dockerfile:1\nFROM python:latest\nFROM python:3.12\n")
    result = repo.check("--format", "github")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        "::error file=docker/api.Dockerfile,line=2,col=1,title=ED101::base-image-latest: Base image "
        "'python:latest' floats: every build may get a different image, Python and system libraries."
        "%0Afix: Pin a version tag and its digest, e.g. python:<version>@sha256:<digest>."
    )
    assert lines[1].startswith("::warning file=docker/api.Dockerfile,line=3,col=1,title=ED102::base-image-tag-only: ")
    assert lines[-1] == "Found 2 problems (1 error, 1 warning) in 1 file."
    assert len(lines) == 3


def test_severity_mapping_error_warning_notice():
    report = made(finding(line=1), finding(code="ED102", line=2),
                  finding(code="ED102", line=3, severity=Severity.INFO))
    assert [c.split(" ")[0] for c in commands(rendered(report, "github"))] == ["::error", "::warning", "::notice"]


def test_info_findings_from_a_severity_override_are_notices(repo):
    repo.write("pyproject.toml", '[tool.envdoctor.severity]\nED102 = "info"\n')
    repo.write("Dockerfile", "FROM python:3.12\n")
    result = repo.check("--format", "github")
    assert result.exit_code == 0  # info is below the default fail-on
    assert commands(result.stdout)[0].startswith("::notice file=Dockerfile,line=1,col=1,title=ED102::")


@pytest.mark.parametrize(("raw", "data", "prop"), [
    ("100%", "100%25", "100%25"),
    ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
    ("a:b,c", "a:b,c", "a%3Ab%2Cc"),
    ("%0A", "%250A", "%250A"),  # an already-escaped-looking value is not decoded by GitHub
])
def test_escaping_as_github_requires(raw, data, prop):
    assert escape_data(raw) == data
    assert escape_property(raw) == prop


def test_paths_with_commas_and_colons_are_escaped_in_properties(repo):
    repo.write("a,b:c/Dockerfile", "FROM python:latest\n")
    (command,) = commands(repo.check("--format", "github").stdout)
    assert command.startswith("::error file=a%2Cb%3Ac/Dockerfile,line=1,col=1,title=ED101::")


def test_file_content_can_neither_inject_commands_nor_terminal_sequences(repo):
    # A value that tries to end the annotation and start a command of its own on a new line.
    repo.write("Dockerfile", 'ARG IMG="evil\\n::warning::pwned"\nARG OSC=x\x1b]0;t\x07\nFROM $IMG\nFROM $OSC\n')
    out = repo.check("--format", "github").stdout
    assert len(commands(out)) == 2
    for line in commands(out):
        assert COMMAND_RE.match(line), line
    assert not any(line.startswith("::warning::") for line in out.splitlines())
    assert "\x1b" not in out and "\x07" not in out
    report = made(finding(message="one\n::warning::two\rthree %0A"))
    (command,) = commands(rendered(report, "github"))
    assert "\n" not in command.rstrip("\n")
    message = COMMAND_RE.match(command)["message"]
    assert message == "base-image-latest: one\\x0a::warning::two\\x0dthree %250A"


def test_a_repository_finding_is_annotated_without_a_file():
    (command,) = commands(rendered(made(finding(path=".")), "github"))
    assert command.startswith("::error title=ED101::")


def test_multi_line_findings_carry_end_line():
    (command,) = commands(rendered(made(finding(line=3, end_line=5)), "github"))
    assert "line=3,col=1,endLine=5,title=ED101::" in command


def test_internal_errors_are_error_annotations_too():
    out = rendered(made(errors=["internal error in rule ZZ901 on Dockerfile: ValueError: a, b: c"]), "github")
    assert commands(out) == ["::error title=envdoctor::internal error in rule ZZ901 on Dockerfile: ValueError: a, b: c"]


def test_clean_scan_prints_only_the_summary(repo):
    repo.write("Dockerfile", "FROM python:3.12-slim@sha256:" + "ab" * 32 + "\n")
    result = repo.check("--format", "github")
    assert result.exit_code == 0
    assert commands(result.stdout) == []
    assert result.stdout.startswith("All clear: no problems in 1 file read")
