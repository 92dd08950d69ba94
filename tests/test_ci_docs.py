"""docs/ci.md, docs/pre-commit.md and the README snippets: they parse, they say what the code does, their
commands run, and the CI files they propose pass envdoctor's own rules."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml
from conftest import run_cli

from envdoctor.report import sarif

ROOT = Path(__file__).resolve().parent.parent
CI_DOC = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
PRE_COMMIT_DOC = (ROOT / "docs" / "pre-commit.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
HOOK_IDS = {hook["id"] for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))}


def yaml_blocks(text: str) -> list[str]:
    return re.findall(r"^```yaml\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def github_workflow() -> dict:
    return next(yaml.safe_load(b) for b in yaml_blocks(CI_DOC) if "jobs" in (yaml.safe_load(b) or {}))


def gitlab_job() -> dict:
    return next(yaml.safe_load(b)["envdoctor"] for b in yaml_blocks(CI_DOC) if "envdoctor" in yaml.safe_load(b))


def envdoctor_commands(lines: list[str]) -> list[list[str]]:
    return [shlex.split(line, comments=True) for line in lines if line.lstrip().startswith("envdoctor ")]


def test_github_workflow_uploads_the_sarif_it_writes_with_the_permissions_it_needs():
    (job,) = github_workflow()["jobs"].values()
    assert job["permissions"] == {"contents": "read", "security-events": "write", "actions": "read"}
    runs = [step["run"] for step in job["steps"] if "run" in step]
    sarif_run, github_run = envdoctor_commands(runs)
    assert sarif_run[sarif_run.index("--format") + 1] == "sarif" and "--exit-zero" in sarif_run
    (upload,) = [step for step in job["steps"] if step.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    assert upload["with"]["sarif_file"] == sarif_run[sarif_run.index("--output") + 1]
    assert github_run == ["envdoctor", "check", ".", "--format", "github"]  # last: it sets the exit code
    assert job["steps"][-1]["run"] == "envdoctor check . --format github"


def test_gitlab_job_declares_the_code_quality_report_it_writes():
    job = gitlab_job()
    report_run, plain_run = envdoctor_commands(job["script"])
    assert report_run[report_run.index("--format") + 1] == "gitlab" and "--exit-zero" in report_run
    assert job["artifacts"]["reports"]["codequality"] == report_run[report_run.index("--output") + 1]
    assert job["artifacts"]["when"] == "always"
    assert plain_run == ["envdoctor", "check", "."]


def test_every_documented_command_runs(repo, tmp_path):
    repo.write("Dockerfile", "FROM python:latest\n")
    lines = [step["run"] for step in github_workflow()["jobs"]["envdoctor"]["steps"] if "run" in step]
    lines += gitlab_job()["script"]
    lines += [line.removeprefix("- run: ") for block in yaml_blocks(README) for line in block.splitlines()]
    lines += [line for block in re.findall(r"^```sh\n(.*?)^```", CI_DOC, re.MULTILINE | re.DOTALL)
              for line in block.splitlines()]
    commands = envdoctor_commands(lines)
    assert len(commands) >= 7
    for command in commands:
        args = [str(tmp_path / a) if i and command[i - 1] == "--output" else a for i, a in enumerate(command)]
        args = [str(repo.root) if a == "." else a for a in args[1:]]
        result = run_cli(*args)
        assert result.exit_code in (0, 1), (command, result.output)  # 2 would be a bad flag
        assert result.exit_code == (0 if "--exit-zero" in command else 1), command


def test_the_proposed_ci_files_pass_envdoctors_own_rules(repo):
    blocks = yaml_blocks(CI_DOC)
    repo.write(".github/workflows/envdoctor.yml", next(b for b in blocks if "jobs:" in b))
    repo.write(".gitlab-ci.yml", next(b for b in blocks if b.startswith("envdoctor:")))
    repo.write("pyproject.toml", '[project]\nname = "app"\nversion = "1.0"\nrequires-python = ">=3.11"\n')
    repo.init_git()
    assert repo.codes("--select", "ALL") == []


def test_pre_commit_snippets_name_the_declared_hook():
    snippets = [yaml.safe_load(b) for b in yaml_blocks(PRE_COMMIT_DOC)[:1]]
    snippets += [{"repos": yaml.safe_load(b)} for b in yaml_blocks(README) if "hooks" in b]
    assert len(snippets) == 2
    for config in snippets:
        (repo_entry,) = config["repos"]
        assert repo_entry["repo"] == sarif.INFORMATION_URI
        assert [hook["id"] for hook in repo_entry["hooks"]] == ["envdoctor"]
        assert set(hook["id"] for hook in repo_entry["hooks"]) <= HOOK_IDS


def test_readme_shows_ci_and_pre_commit_in_three_lines_each():
    section = README.split("## CI and pre-commit", 1)[1].split("\n## ", 1)[0]
    assert [len(block.strip().splitlines()) for block in yaml_blocks(section)] == [3, 3]


def test_ci_doc_names_the_help_addresses_and_where_to_change_them():
    assert sarif.INFORMATION_URI in CI_DOC
    assert sarif.HELP_URI.format(file="ED101-base-image-latest.md") in CI_DOC
    assert "INFORMATION_URI" in CI_DOC and "HELP_URI" in CI_DOC and "src/envdoctor/report/sarif.py" in CI_DOC
