"""`--format gitlab`: a GitLab Code Quality report."""

from __future__ import annotations

import json

from report_helpers import finding, made, rendered

from envdoctor.findings import Severity

REQUIRED = {"description", "check_name", "fingerprint", "severity", "location"}


def issues_of(repo, *args: str) -> list[dict]:
    result = repo.check("--format", "gitlab", *args)
    assert result.exit_code in (0, 1), result.output
    issues = json.loads(result.stdout)
    assert isinstance(issues, list)
    for issue in issues:
        assert set(issue) == REQUIRED
        assert all(isinstance(issue[key], str) for key in REQUIRED - {"location"})
        assert isinstance(issue["location"]["path"], str)
        assert isinstance(issue["location"]["lines"]["begin"], int)
    return issues


def test_each_finding_is_a_code_quality_issue(repo):
    repo.write("docker/api.Dockerfile", "# syntax=docker/dockerfile:1\nFROM python:latest\nFROM python:3.12\n")
    latest, tag_only = issues_of(repo)
    assert latest["check_name"] == "ED101"
    assert latest["description"].startswith("ED101 base-image-latest: Base image 'python:latest' floats")
    assert "Fix: Pin a version tag and its digest" in latest["description"]
    assert latest["severity"] == "major"
    assert latest["location"] == {"path": "docker/api.Dockerfile", "lines": {"begin": 2}}
    assert (tag_only["check_name"], tag_only["severity"]) == ("ED102", "minor")
    assert len(latest["fingerprint"]) == 32 and int(latest["fingerprint"], 16) >= 0
    assert latest["fingerprint"] != tag_only["fingerprint"]


def test_severity_mapping_and_multi_line_end():
    report = made(finding(line=1), finding(code="ED102", line=2),
                  finding(code="ED102", line=3, end_line=4, severity=Severity.INFO))
    issues = json.loads(rendered(report, "gitlab"))
    assert [i["severity"] for i in issues] == ["major", "minor", "info"]
    assert issues[2]["location"]["lines"] == {"begin": 3, "end": 4}


def test_fingerprints_are_unique_and_stable_when_unrelated_lines_move(repo):
    repo.write("Dockerfile", "FROM python:latest\nFROM python:latest\n")
    before = [i["fingerprint"] for i in issues_of(repo)]
    assert len(set(before)) == 2  # identical lines, still told apart
    repo.write("Dockerfile", "# syntax=docker/dockerfile:1\n\nFROM python:latest\nFROM python:latest\n")
    moved = issues_of(repo)
    assert [i["location"]["lines"]["begin"] for i in moved] == [3, 4]
    assert [i["fingerprint"] for i in moved] == before
    repo.write("Dockerfile", "FROM python:latest AS a\nFROM python:latest\n")
    changed = [i["fingerprint"] for i in issues_of(repo)]
    assert changed[0] not in before
    assert changed[1] == before[0]  # now the first occurrence of that line


def test_clean_scan_is_an_empty_array(repo):
    repo.write("Dockerfile", "FROM python:3.12-slim@sha256:" + "ab" * 32 + "\n")
    result = repo.check("--format", "gitlab")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_paths_stay_relative_and_texts_inert(repo):
    repo.write("my dir/Dockerfile", "ARG IMG=x\x1b]0;t\x07\nFROM $IMG\n")
    (issue,) = issues_of(repo)
    assert issue["location"]["path"] == "my dir/Dockerfile"
    assert "\x1b" not in issue["description"] and "\\x1b]0;t\\x07" in issue["description"]
    outside = json.loads(rendered(made(finding(path="../x"), finding(path=".")), "gitlab"))
    assert [i["location"]["path"] for i in outside] == [".", "."]


def test_output_is_deterministic(repo):
    repo.write("Dockerfile", "FROM python:latest\nFROM python:3.12\n")
    repo.write("pyproject.toml", "[project\n")
    assert repo.check("--format", "gitlab").stdout == repo.check("--format", "gitlab").stdout
