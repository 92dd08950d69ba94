"""`--format sarif`: a SARIF 2.1.0 log that validates against the official schema and that GitHub code
scanning accepts as it is. Every log produced here is validated (report_helpers.validate_sarif)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import run_cli
from report_helpers import SARIF_SCHEMA, finding, made, rendered, scanned, validate_sarif

from envdoctor import __version__
from envdoctor.catalog import page_for
from envdoctor.config import Config
from envdoctor.findings import Hit, Severity
from envdoctor.project import Project
from envdoctor.registry import Rule, load_rules
from envdoctor.report import sarif
from envdoctor.report.location import clean_path, uri

REPO_ROOT = Path(__file__).resolve().parents[2]
PINNED = "python:3.12-slim@sha256:" + "ab" * 32


def sarif_of(repo, *args: str) -> dict:
    result = repo.check("--format", "sarif", *args)
    assert result.exit_code in (0, 1), result.output
    return validate_sarif(result.stdout)


def results(log: dict) -> list[dict]:
    return log["runs"][0]["results"]


def fingerprint(result: dict) -> str:
    return result["partialFingerprints"]["primaryLocationLineHash"]


# --- the log as GitHub code scanning needs it ---------------------------------------------------------

def test_official_schema_validates_a_log_with_every_kind_of_result(repo):
    if not SARIF_SCHEMA.is_file():
        pytest.skip(f"the SARIF schema is not at {SARIF_SCHEMA} (../shared/schemas beside the repository)")
    repo.write("Dockerfile", "FROM python:latest\nFROM python:3.12\n")
    repo.write("pyproject.toml", "[project\n")
    repo.write("svc/Dockerfile", "# envdoctor: ignore[ED101]\nFROM " + PINNED + "\n")
    log = sarif_of(repo)  # validates
    assert sorted(r["ruleId"] for r in results(log)) == ["ED001", "ED002", "ED101", "ED102"]
    import jsonschema

    broken = {**log, "version": "2.0.0"}
    with pytest.raises(jsonschema.ValidationError):  # the validation is real
        validate_sarif(__import__("json").dumps(broken))


def test_driver_and_rules_describe_exactly_the_rules_that_produced_results(repo):
    repo.write("Dockerfile", "FROM python:latest\nFROM python:3.12\n")
    log = sarif_of(repo)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert (driver["name"], driver["version"], driver["semanticVersion"]) == ("envdoctor", __version__, __version__)
    assert driver["informationUri"] == "https://github.com/envdoctor/envdoctor"
    assert [rule["id"] for rule in driver["rules"]] == ["ED101", "ED102"]  # not ED001-ED003, which ran too
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]

    latest = driver["rules"][0]
    page = page_for("ED101")
    assert latest["name"] == "base-image-latest"
    assert latest["shortDescription"]["text"] == "An image is used with the `latest` tag or with no tag at all."
    assert latest["fullDescription"]["text"].startswith("Reports an image used with the `latest` tag, or with no tag")
    assert latest["help"] == {"text": page.body, "markdown": page.body}
    assert latest["helpUri"] == "https://github.com/envdoctor/envdoctor/blob/main/rules/ED101-base-image-latest.md"
    assert (REPO_ROOT / "rules" / "ED101-base-image-latest.md").is_file()  # the helpUri names a real page
    assert latest["defaultConfiguration"] == {"level": "error"}
    assert driver["rules"][1]["defaultConfiguration"] == {"level": "warning"}
    assert latest["properties"]["precision"] == "very-high"


def test_results_carry_level_message_location_region_and_fingerprint(repo):
    repo.write("docker/api.Dockerfile", "# syntax=docker/dockerfile:1\n\nFROM python:3.12\n")
    log = sarif_of(repo)
    run = log["runs"][0]
    (result,) = run["results"]
    assert (result["ruleId"], result["level"]) == ("ED102", "warning")
    assert result["message"]["text"].startswith("Base image 'python:3.12' is pinned by tag only")
    assert "\nFix: Add the digest: python:3.12@sha256:<digest>" in result["message"]["text"]
    (location,) = result["locations"]
    assert location["physicalLocation"]["artifactLocation"] == {"uri": "docker/api.Dockerfile",
                                                                 "uriBaseId": "%SRCROOT%"}
    assert location["physicalLocation"]["region"] == {"startLine": 3, "startColumn": 1, "endLine": 3}
    assert "%SRCROOT%" in run["originalUriBaseIds"]
    assert run["columnKind"] == "unicodeCodePoints"
    assert set(result["partialFingerprints"]) == {"primaryLocationLineHash"}


def test_effective_severity_sets_the_level_and_the_default_stays_in_the_rule(repo):
    repo.write("pyproject.toml", '[tool.envdoctor.severity]\nED102 = "info"\n')
    repo.write("Dockerfile", "FROM python:3.12\n")
    log = sarif_of(repo)
    assert results(log)[0]["level"] == "note"
    assert log["runs"][0]["tool"]["driver"]["rules"][0]["defaultConfiguration"] == {"level": "warning"}


def test_clean_scan_is_a_valid_log_with_no_results(repo):
    repo.write("Dockerfile", f"FROM {PINNED}\n")
    log = sarif_of(repo)
    run = log["runs"][0]
    assert run["results"] == [] and run["tool"]["driver"]["rules"] == []
    assert run["invocations"] == [{"executionSuccessful": True}]


# --- security-severity: data beside the reporter -------------------------------------------------------

def test_security_severity_table_names_real_rules_with_valid_scores():
    registry = load_rules(plugins=False)
    assert sarif.SECURITY_SEVERITY, "the floating-image rules have a supply-chain angle"
    for code, score in sarif.SECURITY_SEVERITY.items():
        assert registry.lookup(code) is not None, f"{code} is not a rule"
        assert isinstance(score, str) and 0.1 <= float(score) <= 10.0
    for code, precision in sarif.PRECISION.items():
        assert registry.lookup(code) is not None, f"{code} is not a rule"
        assert precision in ("very-high", "high", "medium", "low")


def test_security_rules_are_tagged_security_and_others_are_not(repo):
    repo.write("Dockerfile", "FROM python:latest\n")
    repo.write("pyproject.toml", "[project\n")
    rules = {rule["id"]: rule for rule in sarif_of(repo)["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["ED101"]["properties"]["security-severity"] == sarif.SECURITY_SEVERITY["ED101"]
    assert "security" in rules["ED101"]["properties"]["tags"]
    assert "dockerfile" in rules["ED101"]["properties"]["tags"]
    assert "security-severity" not in rules["ED001"]["properties"]
    assert "security" not in rules["ED001"]["properties"]["tags"]


# --- fingerprints: stable when unrelated lines move ----------------------------------------------------

def test_fingerprint_survives_lines_inserted_above_and_changes_with_the_offending_line(repo):
    repo.write("Dockerfile", "FROM python:latest\nRUN echo hi\n")
    before = fingerprint(results(sarif_of(repo))[0])
    repo.write("Dockerfile", "# syntax=docker/dockerfile:1\n\n# a comment\nFROM python:latest\nRUN echo hi\n")
    moved = results(sarif_of(repo))[0]
    assert moved["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
    assert fingerprint(moved) == before
    repo.write("Dockerfile", "\n\nFROM   python:latest  \nRUN echo changed\n")  # white space only
    assert fingerprint(results(sarif_of(repo))[0]) == before
    repo.write("Dockerfile", "FROM python:latest AS app\nRUN echo hi\n")
    assert fingerprint(results(sarif_of(repo))[0]) != before


def test_identical_lines_get_occurrence_indexes_and_paths_and_rules_separate_fingerprints(repo):
    repo.write("Dockerfile", "FROM python:latest\nFROM python:latest\n")
    repo.write("b/Dockerfile", "FROM python:latest\n")
    prints = [fingerprint(r) for r in results(sarif_of(repo))]
    assert len(set(prints)) == 3
    first, second, other = prints
    assert first.split(":")[0] == second.split(":")[0]
    assert (first.split(":")[1], second.split(":")[1]) == ("1", "2")
    assert other.split(":")[0] != first.split(":")[0]


def test_fingerprint_of_an_unreadable_file_uses_the_message(repo):
    repo.write("pyproject.toml", b"\xff\xfe[project]\n")
    (result,) = results(sarif_of(repo))
    assert result["ruleId"] == "ED001"
    assert fingerprint(result).endswith(":1")


# --- paths ---------------------------------------------------------------------------------------------

def test_paths_are_relative_slash_separated_and_percent_encoded(repo):
    for folder in ("my dir", "dïr", "a#b%c"):
        repo.write(f"{folder}/Dockerfile", "FROM python:latest\n")
    uris = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results(sarif_of(repo)))
    assert uris == ["a%23b%25c/Dockerfile", "d%C3%AFr/Dockerfile", "my%20dir/Dockerfile"]


@pytest.mark.parametrize(("path", "clean", "encoded"), [
    ("Dockerfile", "Dockerfile", "Dockerfile"),
    ("./a//b/Dockerfile", "a/b/Dockerfile", "a/b/Dockerfile"),
    ("a b/x?y", "a b/x?y", "a%20b/x%3Fy"),
    (".", None, None),
    ("", None, None),
    ("../outside/Dockerfile", None, None),
    ("a/../../Dockerfile", None, None),
    ("/etc/passwd", None, None),
])
def test_clean_path_never_leaves_the_root(path, clean, encoded):
    assert clean_path(path) == clean
    assert uri(path) == encoded


def test_a_finding_without_a_file_becomes_a_notification_so_github_accepts_the_log():
    report = made(finding(path="."), finding(path="../escape"), finding(path="Dockerfile", line=2))
    log = validate_sarif(rendered(report, "sarif"))
    run = log["runs"][0]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]] == ["Dockerfile"]
    assert all(r["locations"] for r in run["results"])
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert len(notes) == 2
    assert all(n["associatedRule"] == {"id": "ED101", "index": 0} and "locations" not in n for n in notes)
    assert notes[0]["message"]["text"].startswith("ED101 Base image floats.")


def test_region_end_column_is_exclusive_and_kept_only_when_consistent():
    report = made(finding(line=2, column=3, end_line=2, end_column=7),
                  finding(line=4, column=5, end_line=6),
                  finding(line=8, column=9, end_line=8, end_column=2))
    regions = [r["locations"][0]["physicalLocation"]["region"] for r in results(validate_sarif(rendered(report, "sarif")))]
    assert regions == [
        {"startLine": 2, "startColumn": 3, "endLine": 2, "endColumn": 8},
        {"startLine": 4, "startColumn": 5, "endLine": 6},
        {"startLine": 8, "startColumn": 9, "endLine": 8},
    ]


# --- invocations ---------------------------------------------------------------------------------------

def test_unreadable_files_are_tool_notifications_and_the_run_still_succeeded(repo):
    repo.write("pyproject.toml", "[project\n")
    run = sarif_of(repo)["runs"][0]
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is True
    (note,) = invocation["toolExecutionNotifications"]
    assert note["level"] == "error"
    assert note["message"]["text"].startswith("pyproject.toml: File is not valid TOML")
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "pyproject.toml"
    assert note["associatedRule"] == {"id": "ED001", "index": 0}


class Crashes(Rule):
    code = "ZZ901"
    name = "crashes"
    severity = Severity.ERROR
    target = "dockerfile"

    def check(self, dockerfile, context):
        raise ValueError("boom")


def test_an_internal_error_makes_execution_unsuccessful(repo):
    repo.write("Dockerfile", "FROM python:latest\n")
    log = validate_sarif(rendered(scanned(repo.root, Crashes()), "sarif"))
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert "internal error in rule ZZ901 on Dockerfile: ValueError: boom" in note["message"]["text"]
    assert [r["ruleId"] for r in results(log)] == ["ED101"]  # the other rules' results are kept


class PluginRule(Rule):
    code = "ACME101"
    name = "no-alpine"
    severity = Severity.INFO
    target = "dockerfile"
    summary = "An image is built on Alpine."
    documentation = "# ACME101 no-alpine\n\n## What it does\nReports a stage built on Alpine.\n"

    def check(self, dockerfile, context):
        yield Hit("Stage built on Alpine.", line=1)


def test_a_plugin_rule_is_described_from_its_own_documentation(repo):
    repo.write("Dockerfile", f"FROM {PINNED}\n")
    log = validate_sarif(rendered(scanned(repo.root, PluginRule()), "sarif"))
    (rule,) = log["runs"][0]["tool"]["driver"]["rules"]
    assert rule["id"] == "ACME101"
    assert rule["shortDescription"]["text"] == "An image is built on Alpine."
    assert rule["fullDescription"]["text"] == "Reports a stage built on Alpine."
    assert rule["help"]["markdown"] == PluginRule.documentation
    assert "helpUri" not in rule  # only envdoctor's own pages have a stable address
    assert rule["defaultConfiguration"] == {"level": "note"}
    assert rule["properties"]["tags"] == []


# --- determinism and safety ----------------------------------------------------------------------------

def test_output_is_byte_identical_across_runs_and_checkout_locations(repo, tmp_path):
    repo.write("Dockerfile", "FROM python:latest\nFROM python:3.12\n")
    repo.write("b/Dockerfile", "FROM python\n")
    repo.write("pyproject.toml", "[project\n")
    first = repo.check("--format", "sarif").stdout
    assert repo.check("--format", "sarif").stdout == first
    elsewhere = tmp_path / "another" / "checkout"
    shutil.copytree(repo.root, elsewhere)
    assert run_cli("check", str(elsewhere), "--format", "sarif").stdout == first
    assert str(tmp_path) not in first
    assert first.isascii()


def test_text_from_scanned_files_is_made_inert(repo):
    repo.write("Dockerfile", "ARG IMG=evil\x1b]0;pwned\x07\u202e\nFROM $IMG\n")
    log = sarif_of(repo)
    text = results(log)[0]["message"]["text"]
    assert "\\x1b]0;pwned\\x07\\u202e" in text
    assert "\x1b" not in text and "\u202e" not in text


def test_output_file(repo, tmp_path):
    repo.write("Dockerfile", "FROM python\n")
    target = tmp_path / "envdoctor.sarif"
    result = repo.check("--format", "sarif", "-o", str(target))
    assert result.exit_code == 1 and result.stdout == ""
    assert results(validate_sarif(target.read_text(encoding="utf-8")))[0]["ruleId"] == "ED101"


# --- source lines: read lazily, only by the formats that fingerprint content ---------------------------

def _refuse(path: str):
    raise AssertionError(f"read {path} although this format needs no file content")


@pytest.mark.parametrize("fmt", ["text", "concise", "json", "github", "junit"])
def test_formats_without_fingerprints_never_read_file_content(fmt):
    report = made(finding(), finding(code="ED102", line=2), source_lines=_refuse)
    assert "ED101" in rendered(report, fmt)


def test_project_source_lines_reads_files_inside_the_root_only(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "Dockerfile").write_text("FROM a\r\nRUN b\n", encoding="utf-8")
    (tmp_path / "secret").write_text("outside\n", encoding="utf-8")
    (root / "link").symlink_to(tmp_path / "secret")
    (root / "bad").write_bytes(b"\xff\x00")
    project = Project(root, Config())
    assert project.source_lines("Dockerfile") == ["FROM a", "RUN b", ""]
    for path in (".", "", "../secret", "/etc/passwd", "link", "bad", "missing", "sub/../../secret"):
        assert project.source_lines(path) is None, path
    assert project.problems == []  # reading for a report records no finding


def test_project_source_lines_caches_a_few_files(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    for n in range(12):
        (root / f"f{n}").write_text(f"line {n}\n", encoding="utf-8")
    project = Project(root, Config())
    assert project.source_lines("f0") == ["line 0", ""]
    (root / "f0").write_text("changed\n", encoding="utf-8")
    assert project.source_lines("f0") == ["line 0", ""]  # cached
    for n in range(1, 12):
        project.source_lines(f"f{n}")
    assert len(project._lines) <= 8
    assert project.source_lines("f0") == ["changed", ""]  # evicted, read again
