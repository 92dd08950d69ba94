"""The command line, end to end on temporary repositories."""

from __future__ import annotations

import json
import os
import subprocess

from conftest import run_cli, run_subprocess

from envdoctor import __version__

PINNED = "python:3.12-slim@sha256:" + "ab" * 32


def test_latest_base_image_is_reported_grouped_by_file_with_hint_and_summary(repo):
    repo.write("Dockerfile", "# syntax=docker/dockerfile:1\n\nFROM python:latest\nRUN echo hi\n")
    result = repo.check()
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "Dockerfile"
    assert lines[1].split() [:4] == ["3:1", "error", "ED101", "base-image-latest"]
    assert "Base image 'python:latest' floats" in lines[1]
    assert lines[2].strip().startswith("fix: Pin a version tag and its digest")
    assert "Found 1 problem (1 error) in 1 file." in result.stdout


def test_clean_repository_prints_all_clear_and_exits_zero(repo):
    repo.write("Dockerfile", f"FROM {PINNED}\n")
    result = repo.check()
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("All clear: no problems in 1 file read")


def test_empty_repository_is_clean(repo):
    result = repo.check()
    assert result.exit_code == 0
    assert "All clear" in result.stdout


def test_findings_below_fail_on_do_not_fail(repo):
    repo.write("Dockerfile", "FROM python:3.12-slim\n")  # ED102, a warning
    assert repo.check().exit_code == 1
    result = repo.check("--fail-on", "error")
    assert result.exit_code == 0
    assert "ED102" in result.stdout
    assert "below fail-on=error" in result.stdout


def test_exit_zero_and_quiet(repo):
    repo.write("Dockerfile", "FROM python\n")
    assert repo.check("--exit-zero").exit_code == 0
    quiet = repo.check("--quiet")
    assert quiet.exit_code == 1
    assert quiet.stdout == ""


def test_json_format_is_the_documented_shape(repo):
    repo.write("docker/api.Dockerfile", "FROM python:latest\n")
    result = repo.check("--format", "json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["format_version"] == 1
    assert document["tool"] == {"name": "envdoctor", "version": __version__}
    assert document["summary"]["findings"] == 1
    assert document["summary"]["error"] == 1
    assert document["summary"]["failed"] is True
    finding = document["findings"][0]
    assert finding["path"] == "docker/api.Dockerfile"
    assert (finding["code"], finding["name"], finding["severity"]) == ("ED101", "base-image-latest", "error")
    assert (finding["line"], finding["column"]) == (1, 1)
    assert set(finding) == {"code", "name", "severity", "message", "path", "line", "column", "end_line",
                            "end_column", "fix_hint"}


def test_concise_format(repo):
    repo.write("Dockerfile", "FROM python:3.12\n")
    result = repo.check("--format", "concise")
    assert result.stdout.splitlines()[0].startswith("Dockerfile:1:1: ED102 [warning] Base image 'python:3.12'")


def test_output_file(repo, tmp_path):
    repo.write("Dockerfile", "FROM python\n")
    target = tmp_path / "report.json"
    result = repo.check("--format", "json", "--output", str(target))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert json.loads(target.read_text())["findings"][0]["code"] == "ED101"


def test_select_ignore_and_extend_select_flags(repo):
    repo.write("Dockerfile", "FROM python\nFROM python:3.12\n")
    assert repo.codes() == ["ED101", "ED102"]
    assert repo.codes("--select", "ED101") == ["ED101"]
    assert repo.codes("--ignore", "base-image-latest") == ["ED102"]
    assert repo.codes("--select", "ED1", "--ignore", "ED102") == ["ED101"]
    assert repo.codes("--select", "ED101", "--extend-select", "ED102") == ["ED101", "ED102"]
    assert repo.codes("--select", "ED101,ED102") == ["ED101", "ED102"]


def test_command_line_flags_are_a_layer_over_the_configuration(repo):
    # As in ruff: --extend-select on the command line runs a rule the configuration ignores; within the
    # configuration itself `ignore` still wins; --ignore on the command line takes a rule out again.
    repo.write("envdoctor.toml", 'ignore = ["ED1"]\nextend-select = ["ED101"]\n')
    repo.write("Dockerfile", "FROM python\nFROM python:3.12\n")
    assert repo.codes() == []
    assert repo.codes("--extend-select", "ED101") == ["ED101"]
    assert repo.codes("--extend-select", "ED1") == ["ED101", "ED102"]
    assert repo.codes("--extend-select", "ED1", "--ignore", "ED101") == ["ED102"]
    assert repo.codes("--select", "ED102", "--extend-select", "ED101") == ["ED101", "ED102"]


def test_unknown_rule_selector_is_a_usage_error(repo):
    result = repo.check("--select", "ED999")
    assert result.exit_code == 2
    assert "unknown rule selector 'ED999'" in result.stderr
    assert "Traceback" not in result.output


def test_missing_path_is_a_usage_error(tmp_path):
    result = run_cli("check", str(tmp_path / "nope"))
    assert result.exit_code == 2
    assert "path does not exist" in result.stderr


def test_statistics(repo):
    repo.write("a/Dockerfile", "FROM python\n")
    repo.write("b/Dockerfile", "FROM python\n")
    result = repo.check("--statistics")
    assert "    2  ED101  base-image-latest" in result.stdout


def test_color_only_when_asked_or_on_a_terminal(repo):
    repo.write("Dockerfile", "FROM python\n")
    assert "\x1b[" not in repo.check().stdout  # CliRunner's stream is not a terminal
    assert "\x1b[" in repo.check("--color", "always").stdout
    assert "\x1b[" not in run_cli("check", str(repo.root), env={"NO_COLOR": "1"}).stdout


def test_file_content_cannot_inject_terminal_sequences(repo):
    # An image name carrying an OSC title sequence and rich markup: both must come out inert.
    repo.write("Dockerfile", "ARG IMG=evil\x1b]0;pwned\x07[bold]x[/bold]\nFROM python:latest\nFROM $IMG\n")
    for color in ("never", "always"):
        out = repo.check("--color", color).stdout
        assert "\x1b]0;" not in out
        assert "\x07" not in out
    out = repo.check("--format", "concise").stdout
    assert "\x1b" not in out


def test_json_strings_decode_to_text_without_live_sequences(repo):
    # Pure ASCII bytes are not enough: `jq -r .findings[].message` decodes "\u001b" back into ESC.
    repo.write("Dockerfile", "ARG IMG=evil\x1b[2J\u202e[bold]x\nFROM $IMG\n")
    finding = repo.findings()[0]
    for text in (finding["message"], finding["fix_hint"]):
        assert "\x1b" not in text and "\u202e" not in text
    assert "evil\\x1b[2J\\u202e[bold]x" in finding["message"]


def test_version_and_module_entry_point(repo):
    assert run_cli("--version").stdout.strip() == f"envdoctor {__version__}"
    repo.write("Dockerfile", "FROM python:latest\n")
    proc = run_subprocess("check", ".", cwd=repo.root, env={**os.environ, "NO_COLOR": "1"})
    assert proc.returncode == 1, proc.stderr
    assert "ED101" in proc.stdout


def test_rules_lists_every_rule_and_explain_prints_the_page():
    listing = run_cli("rules")
    assert listing.exit_code == 0
    assert any(line.startswith("ED101  base-image-latest") for line in listing.stdout.splitlines())
    as_json = json.loads(run_cli("rules", "--format", "json").stdout)
    assert {"code": "ED102", "name": "base-image-tag-only", "fix": "safe"}.items() <= next(
        r for r in as_json if r["code"] == "ED102").items()
    fixes = {r["code"]: r["fix"] for r in as_json}
    assert (fixes["ED101"], fixes["ED103"]) == (None, "unsafe")
    assert "fix=unsafe" in next(line for line in listing.stdout.splitlines() if line.startswith("ED103"))
    by_code = run_cli("explain", "ED101")
    by_name = run_cli("explain", "base-image-latest")
    assert by_code.exit_code == 0
    assert by_code.stdout == by_name.stdout
    assert "## Why it matters" in by_code.stdout
    unknown = run_cli("explain", "ED999")
    assert unknown.exit_code == 2
    assert "unknown rule 'ED999'" in unknown.stderr


def test_scanning_a_subdirectory_reports_paths_from_the_project_root(repo):
    repo.write("envdoctor.toml", "")
    repo.write("services/api/Dockerfile", "FROM python\n")
    repo.write("services/web/Dockerfile", "FROM node\n")
    result = run_cli("check", str(repo.root / "services" / "api"), "--format", "concise")
    assert result.stdout.startswith("services/api/Dockerfile:1:1: ED101")
    assert "services/web" not in result.stdout


def _closed_reader(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run envdoctor with stdout a pipe whose reader has already gone (as `| head -1` once head exits):
    every write fails with EPIPE. The exit code and stderr."""
    import subprocess
    import sys

    done = subprocess.Popen([sys.executable, "-m", "envdoctor", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    assert done.stdout is not None and done.stderr is not None
    done.stdout.close()
    stderr = done.stderr.read().decode()
    return done.wait(timeout=60), stderr


def test_a_reader_that_goes_away_keeps_the_exit_code_and_prints_no_error(repo):
    repo.write("Dockerfile", "FROM python:latest\n")
    for format_ in ("text", "json", "concise"):
        code, stderr = _closed_reader("check", str(repo.root), "--no-cache", "--format", format_)
        assert (code, stderr) == (1, ""), format_
    repo.write("Dockerfile", "FROM python:3.12-slim@sha256:" + "a" * 64 + "\n")
    assert _closed_reader("check", str(repo.root), "--no-cache") == (0, "")


def test_a_reader_that_goes_away_from_another_command_is_one_quiet_exit(repo):
    code, stderr = _closed_reader("explain", "ED101")
    assert stderr == "" and code in (0, 1)  # 0 when the page fitted in the pipe before the reader left


def test_a_run_whose_reader_went_away_is_not_stored_in_the_result_cache(repo, tmp_path):
    repo.write("Dockerfile", "FROM python:latest\n")
    env = dict(os.environ, ENVDOCTOR_CACHE_DIR=str(tmp_path / "cache"), ENVDOCTOR_CACHE_TRACE="1")
    code, stderr = _closed_reader("check", str(repo.root), env=env)
    assert code == 1
    assert "the reader of stdout went away" in stderr


def _monorepo(repo):
    repo.write("envdoctor.toml", 'ignore = ["ED102"]\n')
    repo.write("services/api/pyproject.toml",
               '[project]\nname = "api"\nversion = "1"\nrequires-python = ">=3.12"\n\n[tool.envdoctor]\nignore = ["ED104"]\n')
    for service in ("api", "web"):
        repo.write(f"services/{service}/Dockerfile", "FROM python:3.12-slim\nRUN pip install flask==3.0.3\n")
    repo.init_git()


def test_a_sub_project_with_its_own_config_reports_paths_from_the_top_of_the_repository(repo):
    _monorepo(repo)
    api = str(repo.root / "services" / "api")
    # services/api's own configuration applies (ED104 ignored, ED102 not): it is the project root ...
    findings = json.loads(run_cli("check", api, "--format", "json").stdout)["findings"]
    assert [(f["code"], f["path"]) for f in findings] == [("ED102", "services/api/Dockerfile")]
    # ... but paths are given from the top of the working tree, as GitHub and code scanning read them.
    github = run_cli("check", api, "--format", "github").stdout
    assert "file=services/api/Dockerfile," in github
    sarif = json.loads(run_cli("check", api, "--format", "sarif").stdout)
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for result in sarif["runs"][0]["results"] for loc in result["locations"]}
    assert uris == {"services/api/Dockerfile"}


def test_several_paths_use_the_outermost_root_whatever_their_order(repo):
    _monorepo(repo)
    api, web = str(repo.root / "services" / "api"), str(repo.root / "services" / "web")
    one = run_cli("check", api, web, "--format", "concise")
    other = run_cli("check", web, api, "--format", "concise")
    assert one.exit_code == other.exit_code == 1
    assert one.stdout == other.stdout
    assert "services/api/Dockerfile:2:1: ED104" in one.stdout  # the root's configuration for the whole run
    verbose = run_cli("check", api, web, "-v").stdout
    assert "note: services/api/pyproject.toml: its envdoctor configuration is not used by this run" in verbose


def test_paths_in_two_repositories_are_a_usage_error_in_either_order(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        subprocess.run(["git", "init", "-q", str(tmp_path / name)], check=True)
    for order in (("a", "b"), ("b", "a")):
        result = run_cli("check", *(str(tmp_path / n) for n in order))
        assert result.exit_code == 2 and "check them separately" in result.stderr


def test_verbose_names_a_second_configuration_file_that_is_not_used(repo):
    repo.write("envdoctor.toml", 'ignore = ["ED102"]\n')
    repo.write("pyproject.toml", '[project]\nname = "x"\nversion = "1"\nrequires-python = ">=3.12"\n\n'
                                 '[tool.envdoctor]\nignore = ["ED101"]\n')
    repo.write("Dockerfile", "FROM python\n")
    result = repo.check("-v")
    assert "ED101" in result.stdout  # envdoctor.toml wins
    assert "note: pyproject.toml: its envdoctor configuration is not used by this run" in result.stdout
    # Near-miss: a pyproject.toml without [tool.envdoctor] is not a configuration file.
    repo.write("pyproject.toml", '[project]\nname = "x"\nversion = "1"\nrequires-python = ">=3.12"\n')
    assert "not used by this run" not in repo.check("-v").stdout


def test_a_missing_file_named_on_the_command_line_is_not_called_a_link(repo, tmp_path):
    repo.write("Dockerfile", "FROM python:3.12\n")
    result = repo.check("--digest-map", str(tmp_path / "missing.toml"))
    assert result.exit_code == 2 and result.stderr.rstrip().endswith("missing.toml: does not exist")
    (tmp_path / "link.toml").symlink_to(tmp_path / "nowhere.toml")
    result = repo.check("--digest-map", str(tmp_path / "link.toml"))
    assert result.exit_code == 2 and "is a link to something that does not exist" in result.stderr


def test_sibling_sub_projects_with_their_own_configs_use_the_root_above_them(repo):
    _monorepo(repo)
    repo.write("services/web/envdoctor.toml", 'ignore = ["ED104"]\n')
    api, web = str(repo.root / "services" / "api"), str(repo.root / "services" / "web")
    result = run_cli("check", api, web, "--format", "concise", "-v")
    assert result.exit_code == 1, result.stderr
    assert "services/api/Dockerfile:2:1: ED104" in result.stdout  # the repository's configuration applies
    assert run_cli("check", web, api, "--format", "concise").stdout == result.stdout
