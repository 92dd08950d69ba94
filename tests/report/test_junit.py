"""`--format junit`: JUnit XML for CI systems that show test reports."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from report_helpers import finding, made, rendered


def junit_of(repo, *args: str) -> ET.Element:
    result = repo.check("--format", "junit", *args)
    assert result.exit_code in (0, 1), result.output
    assert result.stdout.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(result.stdout.split("\n", 1)[1])


def totals(element: ET.Element) -> tuple[int, int, int, int]:
    return tuple(int(element.get(key)) for key in ("tests", "failures", "errors", "skipped"))


def test_one_suite_per_file_and_one_failing_case_per_finding(repo):
    repo.write("Dockerfile", "FROM python:latest\nFROM python:3.12\n")
    repo.write("b/Dockerfile", "FROM python\n")
    root = junit_of(repo)
    assert root.tag == "testsuites" and root.get("name") == "envdoctor"
    assert totals(root) == (3, 3, 0, 0)
    assert [s.get("name") for s in root] == ["Dockerfile", "b/Dockerfile"]
    assert totals(root[0]) == (2, 2, 0, 0)
    case = root[0][0]
    assert case.get("name") == "ED101 base-image-latest at Dockerfile:1:1"
    assert (case.get("classname"), case.get("file"), case.get("line")) == ("envdoctor.ED101", "Dockerfile", "1")
    failure = case.find("failure")
    assert failure.get("type") == "ED101"
    assert failure.get("message").startswith("Base image 'python:latest' floats")
    assert failure.text.startswith("Dockerfile:1:1: ED101 [error] Base image 'python:latest' floats")
    assert "\nfix: Pin a version tag" in failure.text


def test_findings_below_fail_on_are_skipped_not_failed(repo):
    repo.write("Dockerfile", "FROM python:latest\nFROM python:3.12\n")
    root = junit_of(repo, "--fail-on", "error")
    assert totals(root) == (2, 1, 0, 1)
    latest, tag_only = root[0]
    assert latest.find("failure") is not None and latest.find("skipped") is None
    assert tag_only.find("failure") is None
    assert tag_only.find("skipped").get("message").startswith("below fail-on: Base image 'python:3.12'")


def test_clean_scan_is_one_passing_case(repo):
    repo.write("Dockerfile", "FROM python:3.12-slim@sha256:" + "ab" * 32 + "\n")
    root = junit_of(repo)
    assert totals(root) == (1, 0, 0, 0)
    (suite,) = root
    (case,) = suite
    assert case.get("name") == "envdoctor check"
    assert list(case)[0].tag == "system-out" and case[0].text.startswith("All clear")


def test_internal_errors_are_errors():
    root = ET.fromstring(rendered(made(finding(), errors=["internal error in rule ZZ901: <boom> & more"]), "junit")
                         .split("\n", 1)[1])
    assert totals(root) == (2, 1, 1, 0)
    error = root.find("./testsuite/testcase/error")
    assert error.get("message") == "internal error in rule ZZ901: <boom> & more"


def test_hostile_text_stays_well_formed_xml_and_inert(repo):
    repo.write("Dockerfile", 'ARG IMG="a<b>&c\x1b]0;t\x07\ufffe"\nFROM $IMG\n')
    root = junit_of(repo)  # parses: well-formed
    failure = root.find("./testsuite/testcase/failure")
    assert "a<b>&c\\x1b]0;t\\x07" in failure.get("message")
    assert "\x1b" not in failure.text and "\ufffe" not in failure.text


def test_paths_stay_below_the_root():
    text = rendered(made(finding(path="../outside/Dockerfile"), finding(path="./a//Dockerfile", line=2)), "junit")
    root = ET.fromstring(text.split("\n", 1)[1])
    assert [s.get("name") for s in root] == [".", "a/Dockerfile"]
    assert [c.get("file") for c in root.iter("testcase")] == [".", "a/Dockerfile"]


def test_output_is_deterministic(repo):
    repo.write("Dockerfile", "FROM python:latest\nFROM python:3.12\n")
    repo.write("pyproject.toml", "[project\n")
    first = repo.check("--format", "junit").stdout
    assert first == repo.check("--format", "junit").stdout
    assert "time=" not in first and "timestamp" not in first and "hostname" not in first
