"""The CI workflow reader: jobs, steps and scripts with physical lines, every CI flavour, bounded YAML,
and the tox/nox session readers."""

from __future__ import annotations

import pytest

from envdoctor.files import path_kind
from envdoctor.sources.workflows import (
    MAX_NODE_VISITS, WorkflowError, parse_noxfile, parse_tox_sessions, parse_workflow, workflow_kind,
)

GH = ".github/workflows/ci.yml"


def commands(workflow):
    return [(c.argv, c.line) for run in workflow.runs() for c in run.script.commands]


@pytest.mark.parametrize(("rel", "kind"), [
    (".github/workflows/ci.yml", "workflow"),
    (".github/workflows/release.yaml", "workflow"),
    ("sub/.github/workflows/ci.yml", "workflow"),
    (".gitlab-ci.yml", "workflow"),
    ("azure-pipelines.yml", "workflow"),
    (".circleci/config.yml", "workflow"),
    ("uv.toml", "uv.toml"),
    ("tox.ini", "tox.ini"),
])
def test_path_kind(rel, kind):
    assert path_kind(rel) == kind


@pytest.mark.parametrize("rel", [".github/ci.yml", ".github/workflows/sub/ci.yml", ".github/dependabot.yml",
                                 "workflows/ci.yml", ".github/workflows/README.md", "circleci/config.yml",
                                 "config.yml", "docs/gitlab-ci.yml"])
def test_not_workflows(rel):
    assert path_kind(rel) != "workflow"


def test_workflow_kind_and_checkout_root():
    assert workflow_kind(GH) == "github"
    assert workflow_kind(".circleci/config.yml") == "circleci"
    assert parse_workflow("", "sub/.github/workflows/ci.yml").root == "sub"
    assert parse_workflow("", GH).root == "."
    assert parse_workflow("", "services/api/.gitlab-ci.yml").root == "services/api"


def test_literal_block_lines_map_one_to_one():
    text = (
        "jobs:\n"                      # 1
        "  test:\n"                    # 2
        "    steps:\n"                 # 3
        "      - name: Install\n"      # 4
        "        run: |  # comment\n"  # 5
        "          set -e\n"           # 6
        "\n"                           # 7
        "          # a comment\n"      # 8
        "          pip install \\\n"   # 9
        "            -e .\n"           # 10
        "          uv sync\n"          # 11
        "\n"                           # 12
        "      - run: echo done\n"     # 13
    )
    workflow = parse_workflow(text, GH)
    assert commands(workflow) == [(("set", "-e"), 6), (("pip", "install", "-e", "."), 9), (("uv", "sync"), 11),
                                  (("echo", "done"), 13)]
    step = workflow.jobs[0].steps[0]
    assert (step.line, step.end_line) == (4, 11)
    assert (step.run.key_line, step.run.line, step.run.end_line) == (5, 6, 11)


def test_folded_plain_and_quoted_scalars():
    text = (
        "jobs:\n"
        "  test:\n"
        "    steps:\n"
        "      - run: >\n"              # 4
        "          pip install\n"       # 5
        "          ruff\n"              # 6
        "\n"                            # 7
        "          uv sync\n"           # 8
        "      - run: pip install\n"    # 9
        "          plain\n"             # 10
        "      - run: \"uv sync\\n\n"   # 11
        "          uv lock\"\n"         # 12
    )
    workflow = parse_workflow(text, GH)
    assert commands(workflow) == [(("pip", "install", "ruff"), 5), (("uv", "sync"), 8),
                                  (("pip", "install", "plain"), 9),
                                  (("uv", "sync"), 11), (("uv", "lock"), 11)]


def test_crlf_and_bom_free_text():
    text = "jobs:\r\n  t:\r\n    steps:\r\n      - run: |\r\n          a\r\n          b\r\n"
    assert commands(parse_workflow(text, GH)) == [(("a",), 5), (("b",), 6)]


def test_github_env_uses_with_and_working_directory():
    text = (
        "env:\n  A: '1'\n"
        "defaults:\n  run:\n    working-directory: app\n"
        "jobs:\n"
        "  build:\n"
        "    env: {B: two}\n"
        "    steps:\n"
        "      - uses: astral-sh/setup-uv@v6\n"   # 10
        "        with:\n"
        "          version: '0.5.1'\n"            # 12
        "          enable-cache: true\n"
        "      - run: uv sync\n"
        "        env:\n          C: x\n"
        "        working-directory: sub\n"
        "        shell: bash\n"
    )
    workflow = parse_workflow(text, GH)
    job = workflow.jobs[0]
    uses, run = job.steps
    assert (uses.uses, uses.uses_line, uses.with_, uses.with_lines["version"]) == (
        "astral-sh/setup-uv@v6", 10, {"version": "0.5.1", "enable-cache": "true"}, 12)
    assert job.working_directory == "app"
    (script,) = workflow.runs()
    assert script.env == {"A": "1", "B": "two", "C": "x"}
    assert (script.step.working_directory, script.script.shell, script.job.name) == ("sub", "bash", "build")


def test_merge_keys_and_aliases():
    text = (
        "x-env: &env\n  UV_FROZEN: '1'\n"
        "x-steps: &steps\n  - run: uv sync\n"
        "jobs:\n"
        "  a:\n    env:\n      <<: *env\n      OTHER: y\n    steps: *steps\n"
        "  b:\n    steps: *steps\n"
    )
    workflow = parse_workflow(text, GH)
    assert workflow.jobs[0].env == {"UV_FROZEN": "1", "OTHER": "y"}
    # an alias is the node it names: both jobs report the anchor's line
    assert [(r.job.name, r.script.line) for r in workflow.runs()] == [("a", 4), ("b", 4)]


def test_gitlab_jobs_extends_reference_and_default_before_script():
    text = (
        "variables:\n  GLOBAL: g\n"
        "default:\n  before_script:\n    - pip install -r requirements.lock\n"  # 5
        ".setup:\n  variables:\n    UV_FROZEN: '1'\n  script:\n    - uv sync\n"   # 10
        "test:\n"                                                                  # 11
        "  extends: .setup\n"
        "  variables:\n    OWN: {value: o, description: d}\n"
        "  script:\n"
        "    - !reference [.setup, script]\n"
        "    - - pytest\n"                                                         # 17: nested list
        "    - |\n      coverage\n      report\n"                                  # 18-20
        "stages: [test]\n"
    )
    workflow = parse_workflow(text, ".gitlab-ci.yml")
    assert workflow.env == {"GLOBAL": "g"}
    jobs = {job.name: job for job in workflow.jobs}
    assert set(jobs) == {".setup", "test"}
    test = jobs["test"]
    assert test.shared_shell and test.env == {"UV_FROZEN": "1", "OWN": "o"}
    assert [(s.name, s.run.line, s.run.text.strip()) for s in test.steps] == [
        ("before_script", 5, "pip install -r requirements.lock"), ("script", 10, "uv sync"),
        ("script", 17, "pytest"), ("script", 19, "coverage\nreport")]


def test_gitlab_header_document_and_pipeline():
    text = "spec:\n  inputs:\n    stage:\n      default: test\n---\ntest:\n  script:\n    - uv sync\n"
    assert commands(parse_workflow(text, ".gitlab-ci.yml")) == [(("uv", "sync"), 8)]
    with pytest.raises(WorkflowError):
        parse_workflow("a: 1\n---\nb: 2\n---\nc: 3\n", ".gitlab-ci.yml")


def test_azure_pipeline_stages_jobs_and_variables():
    text = (
        "variables:\n  uv.frozen: '1'\n"
        "steps:\n  - script: pip install -e .\n"                                    # 4
        "stages:\n"
        "  - stage: build\n"
        "    variables:\n      - name: pip_constraint\n        value: c.txt\n"
        "    jobs:\n"
        "      - job: unit\n"
        "        steps:\n"
        "          - bash: |\n              uv sync\n"                               # 14
        "            workingDirectory: app\n"
        "            env: {X: '1'}\n"
        "          - task: UsePythonVersion@0\n            inputs:\n              versionSpec: '3.12'\n"
        "      - deployment: ship\n"
        "        strategy:\n          runOnce:\n            deploy:\n              steps:\n"
        "                - script: pip install uv\n"                                 # 25
    )
    workflow = parse_workflow(text, "azure-pipelines.yml")
    assert workflow.env == {"UV_FROZEN": "1"}
    assert [(r.job.name, r.script.line, r.script.text.strip()) for r in workflow.runs()] == [
        ("(pipeline)", 4, "pip install -e ."), ("unit", 14, "uv sync"), ("ship", 25, "pip install uv")]
    unit = workflow.jobs[1]
    assert unit.env == {"PIP_CONSTRAINT": "c.txt"}
    assert unit.steps[0].working_directory == "app" and unit.steps[0].env == {"X": "1"}
    assert (unit.steps[1].uses, unit.steps[1].with_) == ("UsePythonVersion@0", {"versionSpec": "3.12"})


def test_circleci_executor_environment():
    text = ("executors:\n  py:\n    docker:\n      - image: cimg/python:3.12\n        environment: {A: '1'}\n"
            "    environment: {B: '2'}\n"
            "jobs:\n  t:\n    executor: py\n    environment: {B: '3'}\n    steps:\n      - run: uv sync\n"
            "  u:\n    executor: {name: py}\n    steps:\n      - run: uv sync\n")
    t, u = parse_workflow(text, ".circleci/config.yml").jobs
    assert t.env == {"A": "1", "B": "3"} and u.env == {"A": "1", "B": "2"}


def test_circleci_jobs_commands_and_when():
    text = (
        "version: 2.1\n"
        "commands:\n  setup:\n    steps:\n      - run: pip install uv\n"           # 5
        "jobs:\n"
        "  test:\n"
        "    docker:\n      - image: cimg/python:3.12\n        environment:\n          A: '1'\n"
        "    environment:\n      B: '2'\n"
        "    steps:\n"
        "      - checkout\n"
        "      - run:\n          name: deps\n          command: |\n            uv sync\n"  # 19
        "          environment: {C: '3'}\n"
        "      - when:\n          condition: true\n          steps:\n            - run: pip install -e .\n"  # 24
        "      - python/install-packages:\n          pkg-manager: pip\n"
    )
    workflow = parse_workflow(text, ".circleci/config.yml")
    assert [(r.job.name, r.script.line, r.script.text.strip()) for r in workflow.runs()] == [
        ("test", 19, "uv sync"), ("test", 24, "pip install -e ."), ("setup", 5, "pip install uv")]
    test = workflow.jobs[0]
    assert test.env == {"A": "1", "B": "2"} and test.steps[0].env == {"C": "3"}
    assert (test.steps[2].uses, test.steps[2].with_) == ("python/install-packages", {"pkg-manager": "pip"})


@pytest.mark.parametrize("text", ["", "# only a comment\n", "- a list\n", "just a string\n", "jobs: 3\n",
                                  "jobs:\n  t: [1, 2]\n", "jobs:\n  t:\n    steps: {a: 1}\n",
                                  "jobs:\n  t:\n    steps:\n      - run: [not, a, script]\n      - 7\n",
                                  "on: push\njobs:\n  t:\n    steps:\n      - run:\n"])
def test_odd_but_valid_yaml_gives_an_empty_or_partial_view(text):
    workflow = parse_workflow(text, GH)
    assert list(workflow.runs()) == []


def test_unknown_tags_are_not_acted_on():
    text = "jobs:\n  t:\n    steps:\n      - run: !!python/object:os.system echo hi\n      - run: !custom x\n"
    assert [c[0] for c in commands(parse_workflow(text, GH))] == [("echo", "hi"), ("x",)]


def test_invalid_yaml_is_a_source_error_with_its_position():
    with pytest.raises(WorkflowError) as info:
        parse_workflow("jobs:\n  t:\n    steps:\n      - run: 'unclosed\n", GH)
    assert "not valid YAML" in str(info.value)
    assert info.value.position[0] >= 4
    with pytest.raises(WorkflowError):
        parse_workflow("a: 1\n---\nb: 2\n", GH)


def test_alias_bombs_and_deep_nesting_are_bounded():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    lines.append("before_script: *a8")
    lines.append("job:\n  script: *a8")
    with pytest.raises(WorkflowError, match=str(MAX_NODE_VISITS)):
        parse_workflow("\n".join(lines) + "\n", ".gitlab-ci.yml")
    with pytest.raises(WorkflowError, match="nested too deeply"):
        parse_workflow("jobs: " + "[" * 5000 + "]" * 5000 + "\n", GH)


def test_size_limit(monkeypatch):
    import envdoctor.sources.workflows as workflows

    monkeypatch.setattr(workflows, "MAX_WORKFLOW_BYTES", 100)
    with pytest.raises(WorkflowError, match="limit"):
        parse_workflow("jobs:\n" + "#" * 200 + "\n", GH)


def test_spans_cover_steps_and_scripts():
    text = "jobs:\n  t:\n    steps:\n      - name: x\n        run: |\n          a\n          b\n"
    assert sorted(parse_workflow(text, GH).spans()) == [(4, 7), (5, 7)]


def test_tox_sections_inheritance_and_envlist():
    text = (
        "[tox]\n"
        "env_list = py{311,312}, lint\n"                     # 2
        "[testenv]\n"                                         # 3
        "deps =\n"
        "    -r requirements.in\n"                            # 5
        "    pytest\n"
        "setenv =\n    PIP_CONSTRAINT = c.txt\n"
        "commands =\n"
        "    py311: pip install -e .[dev]\n"                  # 10
        "    - pytest {posargs} \\\n"                         # 11
        "        -x\n"
        "[testenv:lint]\n"                                    # 13
        "commands = pip install ruff\n"                       # 14
        "[other]\ncommands = nope\n"
    )
    tox = parse_tox_sessions(text, "tox.ini")
    assert tox.envlist == ("py311", "py312", "lint")
    assert tox.selected(None) == {"", "lint"}
    assert tox.selected({"docs"}) == {""}
    base = tox.effective("")
    assert base.deps == (("-r requirements.in", 5), ("pytest", 6))
    assert base.setenv == {"PIP_CONSTRAINT": "c.txt"}
    assert [(c.argv, c.line) for s in base.commands for c in s.commands] == [
        (("pip", "install", "-e", ".[dev]"), 10), (("pytest", "{posargs}", "-x"), 11)]
    lint = tox.effective("lint")
    assert lint.deps == base.deps  # inherited
    assert [(c.argv, c.line) for s in lint.commands for c in s.commands] == [(("pip", "install", "ruff"), 14)]


def test_noxfile_sessions_read_statically():
    text = (
        "import nox\n"
        "nox.options.sessions = ['tests']\n"
        "@nox.session(python=['3.11', '3.12'])\n"
        "def tests(s):\n"                                         # 4
        "    s.install('-e', '.[dev]')\n"                         # 5
        "    s.run('uv', 'sync', env={'UV_FROZEN': '1', 'X': os.environ['Y']})\n"
        "    s.run('pytest', *s.posargs)\n"
        "@nox.session(name='lint', default=False)\n"
        "def lint_session(session):\n"
        "    session.run('pip', 'install', 'ruff')\n"             # 10
        "def helper(session):\n"
        "    session.install('nothing')\n"
    )
    nox = parse_noxfile(text, "noxfile.py")
    assert [s.name for s in nox.sessions] == ["tests", "lint"]
    tests, lint = nox.sessions
    assert [(c.kind, c.argv, c.line) for c in tests.calls] == [
        ("install", ("-e", ".[dev]"), 5), ("run", ("uv", "sync"), 6), ("run", ("pytest", "$UNKNOWN"), 7)]
    assert tests.calls[1].env == {"UV_FROZEN": "1", "X": "$UNKNOWN"}
    assert [s.name for s in nox.selected(None)] == ["tests"]
    assert [s.name for s in nox.selected({"tests-3.12", "lint"})] == ["tests", "lint"]


def test_noxfile_that_does_not_parse_gives_no_sessions():
    assert parse_noxfile("def broken(:\n", "noxfile.py").sessions == ()
    assert parse_noxfile("(" * 100_000, "noxfile.py").sessions == ()


# --- no input crashes the reader ---

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_WORDS = st.sampled_from(["jobs", "steps", "run", "uses", "with", "env", "script", "before_script", "extends",
                          "variables", "stages", "job", "bash", "command", "<<", "default", "uv sync",
                          "pip install -e .", "t", "", "1", "!reference"])
_TREES = st.recursive(st.one_of(_WORDS, st.integers(), st.none(), st.booleans()),
                      lambda children: st.one_of(st.lists(children, max_size=4),
                                                 st.dictionaries(_WORDS, children, max_size=4)),
                      max_leaves=30)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=_TREES, rel=st.sampled_from([GH, ".gitlab-ci.yml", "azure-pipelines.yml", ".circleci/config.yml"]))
def test_any_yaml_structure_is_read_without_error(tree, rel):
    import yaml

    workflow = parse_workflow(yaml.safe_dump(tree), rel)
    for run in workflow.runs():
        assert run.script.line >= 1
        for command in run.script.commands:
            assert command.line >= 1
    list(workflow.spans())


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("jobs:steps- run|>&*!{}[]'\"#\n\t uv<>,?%@`")), max_size=200))
def test_any_text_is_a_view_or_a_workflow_error(text):
    try:
        parse_workflow(text, GH)
    except WorkflowError:
        pass


def test_unparsable_workflow_is_one_ed001_at_its_line(repo):
    repo.write(GH, "on: push\njobs:\n  t:\n    steps:\n      - run: 'unclosed\n")
    repo.write(".gitlab-ci.yml", "test:\n  script:\n    - pip install uv\n")
    findings = repo.findings("--select", "ED001,ED502")
    assert [(f["code"], f["path"]) for f in findings] == [("ED001", GH), ("ED502", ".gitlab-ci.yml")]
    assert findings[0]["line"] >= 5 and "not valid YAML" in findings[0]["message"]


def test_a_workflow_given_alone_is_read(repo):
    import json

    from conftest import run_cli

    repo.write(GH, "on: push\njobs:\n  t:\n    steps:\n      - run: pip install uv\n")
    repo.write("Dockerfile", "FROM python\n")
    repo.init_git()
    result = run_cli("check", str(repo.root / GH), "--format", "json", "--select", "ED")
    assert [(f["code"], f["path"], f["line"]) for f in json.loads(result.stdout)["findings"]] == [("ED502", GH, 5)]
